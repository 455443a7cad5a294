"""The controls bar: keyboard shortcuts, labels and slider over a real player; a rendered screenshot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QSplitter, QToolButton, QWidget
from pytestqt.qtbot import QtBot

from echogen_desktop.icons import action_icon
from echogen_desktop.player.controls import PlayerControls
from echogen_desktop.player.facade import Episode, Player
from echogen_desktop.player.review_notes import ReviewNotesPane
from echogen_desktop.player.transcript import TranscriptPane
from echogen_desktop.services.records import Segment
from tests.conftest import wait_until
from tests.player_support import make_wav, new_player

SCREENSHOT_DIR = Path(os.environ.get("ECHOGEN_SCREENSHOTS", "/tmp/echogen-player-screens"))


def save_png(widget: QWidget, name: str) -> None:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(SCREENSHOT_DIR / name))


def shows(button: QToolButton, name: str) -> bool:
    """The button shows the project's drawn icon ``name`` (tinted for the current palette)."""
    drawn = action_icon(name, button.palette()).pixmap(24).toImage()
    return button.icon().pixmap(24).toImage() == drawn


Panes = tuple[QMainWindow, PlayerControls, TranscriptPane, ReviewNotesPane]


async def build_window(qtbot: QtBot, player: Player) -> Panes:
    window = QMainWindow()
    qtbot.addWidget(window)
    transcript = TranscriptPane()
    notes = ReviewNotesPane(lambda: player.position)
    splitter = QSplitter()
    splitter.addWidget(transcript)
    splitter.addWidget(notes)
    window.setCentralWidget(splitter)
    controls = PlayerControls(player)
    dock = QDockWidget(window.tr("Player"), window)
    dock.setWidget(controls)
    dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    player.positionChanged.connect(transcript.set_position_ms)
    player.durationChanged.connect(transcript.set_duration_ms)
    transcript.seekRequested.connect(player.seek)
    notes.seekRequested.connect(player.seek)
    window.resize(900, 420)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()  # window shortcuts need the active window; activation is asynchronous
    await wait_until(lambda: QApplication.activeWindow() is window, timeout=3)
    transcript.view.setFocus()  # the search box would take the keys as text
    return window, controls, transcript, notes


@pytest.mark.qasync
async def test_keyboard_and_labels_drive_the_player(qtbot: QtBot, tmp_path: Path) -> None:
    local = tmp_path / "episode.wav"
    local.write_bytes(make_wav(60))
    player = new_player(tmp_path / "player.ini")
    window, controls, transcript, notes = await build_window(qtbot, player)
    try:
        await player.load(Episode("ep-1", "Deep sea vents", "u/p/episode.wav", 60, local), None, autoplay=False)
        await wait_until(lambda: player.duration == 60_000, timeout=5)
        assert controls.title.text() == "Deep sea vents"
        assert shows(controls.play_button, "play") and shows(controls.back_button, "rewind")
        assert shows(controls.forward_button, "fast-forward") and shows(controls.mute_button, "volume")
        assert not shows(controls.play_button, "pause")

        qtbot.keyClick(transcript.view, Qt.Key.Key_Space)
        await wait_until(lambda: player.playing and player.position > 200, timeout=5)
        assert controls.play_button.accessibleName() == "Pause"
        assert shows(controls.play_button, "pause")
        qtbot.keyClick(transcript.view, Qt.Key.Key_Right)  # +30 s
        await wait_until(lambda: player.position >= 30_000, timeout=3)
        assert controls.elapsed.text().startswith("0:3")
        assert controls.remaining.text() in ("-0:29", "-0:30", "-0:28")
        qtbot.keyClick(transcript.view, Qt.Key.Key_Left)  # -15 s
        assert 15_000 <= player.position < 17_000
        qtbot.keyClick(transcript.view, Qt.Key.Key_BracketRight)
        qtbot.keyClick(transcript.view, Qt.Key.Key_BracketRight)
        assert player.speed == 1.2 and controls.speed.value() == pytest.approx(1.2)
        qtbot.keyClick(transcript.view, Qt.Key.Key_BracketLeft)
        assert player.speed == 1.1
        qtbot.keyClick(transcript.view, Qt.Key.Key_M)
        assert player.muted and controls.mute_button.isChecked() and shows(controls.mute_button, "muted")
        qtbot.keyClick(transcript.view, Qt.Key.Key_N)
        assert len(notes.model.notes) == 1 and notes.model.notes[0].t >= 15
        qtbot.keyClick(notes.view.focusWidget() or window, Qt.Key.Key_Escape)
        controls.slider.setValue(45_000)
        controls.slider.sliderReleased.emit()  # a drag that ends at 0:45
        assert 45_000 <= player.position < 46_000
        qtbot.keyClick(transcript.view, Qt.Key.Key_Space)
        await wait_until(lambda: not player.playing, timeout=3)
        assert player.store.position_ms("ep-1") >= 45_000  # pausing remembers the place
    finally:
        player.shutdown()
        window.close()


@pytest.mark.qasync
async def test_render_the_player_panes(qtbot: QtBot, tmp_path: Path) -> None:
    local = tmp_path / "episode.wav"
    local.write_bytes(make_wav(95))
    player = new_player(tmp_path / "player.ini")
    window, controls, transcript, notes = await build_window(qtbot, player)
    try:
        transcript.set_segments([
            Segment("Ava", "Welcome back to EchoGen Weekly. Today we go to the bottom of the sea.", 0.0, 9.5),
            Segment("Ben", "Hydrothermal vents: chimneys of minerals, water at four hundred degrees.", 9.5, 21.0),
            Segment("Ava", "And yet they are full of life. Tube worms, crabs, bacteria that eat sulphur.", 21.0, 34.0),
            Segment("Ben", "Without any sunlight at all, which is the remarkable part.", None, None),
            Segment("Ava", "Let's hear from a marine biologist who has been down there.", None, None),
        ], 95.0)
        notes.title = "Deep sea vents"
        await player.load(Episode("ep-r", "Deep sea vents: life without sunlight", "u/p/episode.wav", 95, local),
                          None, autoplay=False)
        await wait_until(lambda: player.duration > 0, timeout=5)
        player.seek(24_000)
        notes.model.add(12.0, "mispronounced 'hydrothermal'")
        notes.model.add(27.5, "cut this pause")
        player.set_sleep_timer(15)
        qtbot.wait(50)
        assert transcript.model.current_row == 2
        save_png(window, "player-window.png")
        save_png(controls, "player-controls.png")
        assert controls.elapsed.text() == "0:24" and controls.remaining.text() == "-1:11"
        assert controls.sleep_button.text().startswith("Sleep 1")
    finally:
        player.shutdown()
        window.close()
