"""The transport bar docked at the bottom of the main window, and the player's keyboard shortcuts.

A dumb view over ``Player``: it shows the player's signals and calls its methods, nothing more.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from echogen_desktop.icons import action_icon
from echogen_desktop.player.facade import END_OF_EPISODE, Episode, Player
from echogen_desktop.player.positions import MAX_SPEED, MIN_SPEED
from echogen_desktop.player.transcript import format_clock

SLEEP_MINUTES = (5, 10, 15, 30, 45, 60)


class PlayerControls(QWidget):
    def __init__(self, player: Player, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.player = player
        self._dragging = False
        self.setAccessibleName(self.tr("Player controls"))

        self.title = QLabel(self.tr("Nothing playing"), self)
        self.title.setAccessibleName(self.tr("Episode"))
        self.status = QLabel(self)
        self.status.setStyleSheet("color: palette(mid);")
        self.status.setAccessibleName(self.tr("Player status"))

        self._icons: dict[QToolButton, str] = {}  # the drawn icon each button shows now (re-tinted on a theme switch)
        self.previous_button = self._button("skip-back", self.tr("Previous episode"), player.previous)
        self.back_button = self._button("rewind", "", player.skip_back)
        self.play_button = self._button("play", self.tr("Play"), player.toggle)
        self.forward_button = self._button("fast-forward", "", player.skip_forward)
        self.next_button = self._button("skip-forward", self.tr("Next episode"), player.next)
        self.back_button.setText(f"−{player.skip_back_seconds}")
        self.forward_button.setText(f"+{player.skip_forward_seconds}")
        for button in (self.back_button, self.forward_button):
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.back_button.setAccessibleName(self.tr("Back %n second(s)", "", player.skip_back_seconds))
        self.forward_button.setAccessibleName(self.tr("Forward %n second(s)", "", player.skip_forward_seconds))

        self.elapsed = QLabel("0:00", self)
        self.elapsed.setAccessibleName(self.tr("Elapsed time"))
        self.remaining = QLabel("-0:00", self)
        self.remaining.setAccessibleName(self.tr("Remaining time"))
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setAccessibleName(self.tr("Position"))
        self.slider.setRange(0, 0)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrows belong to the skip shortcuts
        self.slider.sliderPressed.connect(self._drag_started)
        self.slider.sliderReleased.connect(self._drag_finished)
        self.slider.sliderMoved.connect(lambda value: self.elapsed.setText(format_clock(value / 1000)))

        self.speed = QDoubleSpinBox(self)
        self.speed.setRange(MIN_SPEED, MAX_SPEED)
        self.speed.setSingleStep(0.1)
        self.speed.setDecimals(1)
        self.speed.setSuffix("×")
        self.speed.setValue(player.speed)
        self.speed.setAccessibleName(self.tr("Playback speed"))
        self.speed.setToolTip(self.tr("Playback speed ([ slower, ] faster)"))
        self.speed.valueChanged.connect(player.set_speed)

        self.mute_button = self._button("volume", self.tr("Mute (M)"), player.toggle_mute)
        self.mute_button.setCheckable(True)
        self.volume = QSlider(Qt.Orientation.Horizontal, self)
        self.volume.setRange(0, 100)
        self.volume.setValue(round(player.volume * 100))
        self.volume.setMaximumWidth(90)
        self.volume.setAccessibleName(self.tr("Volume"))
        self.volume.valueChanged.connect(lambda value: player.set_volume(value / 100))

        self.sleep_button = QToolButton(self)
        self.sleep_button.setText(self.tr("Sleep"))
        self.sleep_button.setAccessibleName(self.tr("Sleep timer"))
        self.sleep_button.setToolTip(self.tr("Pause after a while, with a short fade-out"))
        self.sleep_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.sleep_button.setMenu(self._sleep_menu())

        transport = QHBoxLayout()
        for widget in (self.previous_button, self.back_button, self.play_button, self.forward_button,
                       self.next_button):
            transport.addWidget(widget)
        transport.addSpacing(8)
        transport.addWidget(self.elapsed)
        transport.addWidget(self.slider, 1)
        transport.addWidget(self.remaining)
        transport.addSpacing(8)
        for extra in (self.speed, self.mute_button, self.volume, self.sleep_button):
            transport.addWidget(extra)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addLayout(transport)

        self.shortcuts = self._shortcuts()
        player.episodeChanged.connect(self._on_episode)
        player.positionChanged.connect(self._on_position)
        player.durationChanged.connect(lambda _ms: self._on_position(player.position))
        player.playingChanged.connect(self._on_playing)
        player.speedChanged.connect(self._on_speed)
        player.volumeChanged.connect(lambda v: self.volume.setValue(round(v * 100)))
        player.mutedChanged.connect(self._on_muted)
        player.sleepTimerChanged.connect(self._on_sleep)
        player.statusMessage.connect(self.status.setText)
        player.queueChanged.connect(self._update_queue_buttons)
        self._on_episode(player.episode)

    # ------------------------------------------------------------------ building
    def _button(self, icon: str, name: str, slot: Callable[[], None]) -> QToolButton:
        button = QToolButton(self)
        self._set_icon(button, icon)
        button.setAccessibleName(name)
        button.setToolTip(name)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        button.clicked.connect(slot)
        return button

    def _set_icon(self, button: QToolButton, name: str) -> None:
        self._icons[button] = name
        button.setIcon(action_icon(name, self.palette()))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "_icons"):
            for button, name in self._icons.items():
                button.setIcon(action_icon(name, self.palette()))

    def _sleep_menu(self) -> QMenu:
        menu = QMenu(self)
        menu.addAction(self.tr("Off"), lambda: self.player.set_sleep_timer(None))
        for minutes in SLEEP_MINUTES:
            menu.addAction(self.tr("%n minute(s)", "", minutes), self._sleep_after(minutes))
        menu.addAction(self.tr("End of episode"), lambda: self.player.set_sleep_timer(end_of_episode=True))
        return menu

    def _sleep_after(self, minutes: int) -> Callable[[], None]:
        return lambda: self.player.set_sleep_timer(minutes)

    def _shortcuts(self) -> dict[str, QAction]:
        """Window-wide keys; text fields keep their own keys (they override shortcuts)."""
        media = Qt.Key
        table: list[tuple[str, str, list[QKeySequence], Callable[[], None]]] = [
            ("toggle", self.tr("Play/Pause"),
             [QKeySequence(Qt.Key.Key_Space), QKeySequence(media.Key_MediaTogglePlayPause),
              QKeySequence(media.Key_MediaPlay), QKeySequence(media.Key_MediaPause)], self.player.toggle),
            ("back", self.tr("Skip back"), [QKeySequence(Qt.Key.Key_Left)], self.player.skip_back),
            ("forward", self.tr("Skip forward"), [QKeySequence(Qt.Key.Key_Right)], self.player.skip_forward),
            ("previous", self.tr("Previous episode"),
             [QKeySequence("Shift+Left"), QKeySequence(media.Key_MediaPrevious)], self.player.previous),
            ("next", self.tr("Next episode"),
             [QKeySequence("Shift+Right"), QKeySequence(media.Key_MediaNext)], self.player.next),
            ("slower", self.tr("Slower"), [QKeySequence("[")], self.player.slow_down),
            ("faster", self.tr("Faster"), [QKeySequence("]")], self.player.speed_up),
            ("mute", self.tr("Mute"), [QKeySequence("M")], self.player.toggle_mute),
            ("stop", self.tr("Stop"), [QKeySequence(media.Key_MediaStop)], self.player.stop),
        ]
        actions: dict[str, QAction] = {}
        for key, text, keys, slot in table:
            action = QAction(text, self)
            action.setShortcuts(keys)
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slot)
            self.addAction(action)
            actions[key] = action
        return actions

    # ------------------------------------------------------------------ updates
    def _on_episode(self, episode: Episode | None) -> None:
        self.title.setText(episode.title if episode else self.tr("Nothing playing"))
        enabled = episode is not None
        for widget in (self.play_button, self.back_button, self.forward_button, self.slider):
            widget.setEnabled(enabled)
        self._update_queue_buttons()
        self._on_position(self.player.position)

    def _update_queue_buttons(self) -> None:
        self.previous_button.setEnabled(self.player.episode is not None)
        self.next_button.setEnabled(self.player.has_next())

    def _on_position(self, position_ms: int) -> None:
        duration = self.player.duration
        if self.slider.maximum() != duration:
            self.slider.setRange(0, max(0, duration))
        if not self._dragging:
            self.slider.setValue(position_ms)
            self.elapsed.setText(format_clock(position_ms / 1000))
        left = max(0, duration - position_ms) / 1000 / self.player.speed
        self.remaining.setText(f"-{format_clock(left)}")

    def _on_playing(self, playing: bool) -> None:
        self._set_icon(self.play_button, "pause" if playing else "play")
        name = self.tr("Pause") if playing else self.tr("Play")
        self.play_button.setAccessibleName(name)
        self.play_button.setToolTip(f"{name} (Space)")

    def _on_speed(self, speed: float) -> None:
        if abs(self.speed.value() - speed) > 0.01:
            self.speed.setValue(speed)
        self._on_position(self.player.position)

    def _on_muted(self, muted: bool) -> None:
        self.mute_button.setChecked(muted)
        self._set_icon(self.mute_button, "muted" if muted else "volume")

    def _on_sleep(self, remaining: int) -> None:
        if remaining == END_OF_EPISODE:
            self.sleep_button.setText(self.tr("Sleep: end of episode"))
        elif remaining > 0:
            self.sleep_button.setText(self.tr("Sleep %1").replace("%1", format_clock(remaining)))
        else:
            self.sleep_button.setText(self.tr("Sleep"))

    def _drag_started(self) -> None:
        self._dragging = True

    def _drag_finished(self) -> None:
        self._dragging = False
        self.player.seek(self.slider.value())
