"""The player: one QObject over QMediaPlayer + QAudioOutput with the API the views need.

Streams come from signed Storage URLs (re-signed on demand by ``Recovery``); a downloaded copy
plays from disk instead. Views never touch QMediaPlayer: they call this and follow its signals.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Q_ARG, QMetaObject, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

from echogen_desktop.player.ffmpeg_log import quiet_ffmpeg_log
from echogen_desktop.player.positions import PositionStore, clamp_speed
from echogen_desktop.player.recovery import LOADED, ErrorGate, Recovery

log = logging.getLogger(__name__)

# (audio_path, expires_in seconds) -> signed URL; in the app:
# ``lambda path, expires: backend.signed_url("podcast-audio", path, expires)``.
SourceProvider = Callable[[str, int], Awaitable[str]]

END_OF_EPISODE = -1  # a sleep timer that stops when the episode ends
RESTART_THRESHOLD_MS = 3000  # "previous" within this much of the start goes to the previous episode
SAVE_EVERY_MS = 5000


@dataclass(frozen=True)
class Episode:
    id: str
    title: str
    audio_path: str
    duration_seconds: float | None = None
    local_file: Path | None = None  # a downloaded copy, played instead of the stream

    @property
    def is_local(self) -> bool:
        return self.local_file is not None and self.local_file.is_file()


class Player(QObject):
    """Play, seek, speed, volume, sleep timer and a queue, with position memory and recovery."""

    episodeChanged = Signal(object)  # Episode | None
    positionChanged = Signal(int)  # ms
    durationChanged = Signal(int)  # ms
    playingChanged = Signal(bool)
    speedChanged = Signal(float)
    volumeChanged = Signal(float)  # 0.0 - 1.0
    mutedChanged = Signal(bool)
    sleepTimerChanged = Signal(int)  # seconds left, END_OF_EPISODE, or 0 when off
    queueChanged = Signal()
    statusMessage = Signal(str)  # transient, e.g. "Reconnecting…"
    errorOccurred = Signal(str)  # user-facing, de-duplicated: show each one
    playedChanged = Signal(str, bool)  # episode id, played

    def __init__(
        self,
        store: PositionStore | None = None,
        *,
        skip_back_seconds: int = 15,
        skip_forward_seconds: int = 30,
        expiry_margin_seconds: int = 120,
        max_attempts: int = 3,
        stall_seconds: float = 4.0,
        fade_seconds: float = 5.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store or PositionStore()
        self.skip_back_seconds = skip_back_seconds
        self.skip_forward_seconds = skip_forward_seconds
        self.expiry_margin_seconds = expiry_margin_seconds
        self.fade_seconds = fade_seconds
        self._player = QMediaPlayer(self)
        self._output = QAudioOutput(self)
        self._player.setAudioOutput(self._output)
        quiet_ffmpeg_log()  # the backend is loaded now; its stream dumps would print signed URLs
        self._episode: Episode | None = None
        self._provider: SourceProvider | None = None
        self._queue: list[Episode] = []
        self._index = -1
        self._pending_seek: int | None = None
        self._last_position = 0
        self._last_saved = 0
        self._volume = 1.0
        self._speed = self.store.speed()
        self._gave_up = False
        self._stopping = False
        self._closed = False  # shut down: the queued stop's position reports must not count
        self._errors = ErrorGate()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sleep_deadline: float | None = None
        self._sleep_end_of_episode = False
        self._sleep_tick = QTimer(self)
        self._sleep_tick.setInterval(250)
        self._sleep_tick.timeout.connect(self._on_sleep_tick)
        self._fading = False
        self.recovery = Recovery(self._player, self._resign, max_attempts=max_attempts,
                                 stall_seconds=stall_seconds, parent=self)
        self.recovery.recovering.connect(self._on_recovering)
        self.recovery.recovered.connect(lambda _ms: self.statusMessage.emit(""))
        self.recovery.gaveUp.connect(self._on_gave_up)
        self._player.positionChanged.connect(self._on_position)
        self._player.durationChanged.connect(self._on_duration)
        self._player.playbackStateChanged.connect(self._on_state)
        self._player.mediaStatusChanged.connect(self._on_status)
        self._player.errorOccurred.connect(self._on_error)
        self._apply_speed()

    # ------------------------------------------------------------------ state
    @property
    def media(self) -> QMediaPlayer:
        """The underlying player, for diagnostics and tests only."""
        return self._player

    @property
    def episode(self) -> Episode | None:
        return self._episode

    @property
    def position(self) -> int:
        return self._last_position

    @property
    def duration(self) -> int:
        duration = self._player.duration()
        if duration <= 0 and self._episode and self._episode.duration_seconds:
            return int(self._episode.duration_seconds * 1000)
        return max(0, duration)

    @property
    def playing(self) -> bool:
        return self._player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def volume(self) -> float:
        return self._volume

    @property
    def muted(self) -> bool:
        return self._output.isMuted()

    @property
    def pitch_preserved(self) -> bool:
        return self._player.pitchCompensation()

    @property
    def queue(self) -> list[Episode]:
        return list(self._queue)

    @property
    def queue_index(self) -> int:
        return self._index

    def expiry_seconds(self) -> int:
        """A signed URL must outlive the whole listen: duration ÷ speed plus a margin."""
        duration_s = self.duration / 1000 or 3600.0  # unknown yet: assume an hour
        return int(duration_s / self._speed) + self.expiry_margin_seconds

    # ------------------------------------------------------------------ loading
    def open(self, episode: Episode, provider: SourceProvider | None, *, autoplay: bool = True,
             resume_ms: int | None = None) -> None:
        """Start loading without waiting (for Qt slots); errors arrive on ``errorOccurred``."""
        self._spawn(self.load(episode, provider, autoplay=autoplay, resume_ms=resume_ms))

    async def load(self, episode: Episode, provider: SourceProvider | None, *, autoplay: bool = True,
                   resume_ms: int | None = None) -> None:
        """``resume_ms``: start there instead of where this device left the episode (another
        device listened on later)."""
        self.stop()  # remembers where the previous episode was left
        if resume_ms is not None:
            self.store.set_position_ms(episode.id, resume_ms)
        if episode not in self._queue:
            self._queue.append(episode)
            self.queueChanged.emit()
        self._index = self._queue.index(episode)
        self._episode, self._provider = episode, provider
        self._gave_up = False
        self._errors.clear()
        resume = self.store.position_ms(episode.id)  # 0 once played to the end
        self._last_position = self._last_saved = resume
        self.episodeChanged.emit(episode)
        self.positionChanged.emit(resume)
        if episode.is_local:
            assert episode.local_file is not None
            self.recovery.arm(False)
            url = QUrl.fromLocalFile(str(episode.local_file))
        else:
            if provider is None:
                self._report(self.tr("This episode is not downloaded, and streaming needs a connection."))
                return
            try:
                url = await self._resign()
            except Exception as exc:
                log.warning("signing %s failed: %s", episode.audio_path, exc)
                self._report(self.tr("Could not get the episode's audio from the server: %1").replace("%1", str(exc)))
                return
            if self._episode is not episode:  # another episode was opened meanwhile
                return
            self.recovery.arm(True)
        self._pending_seek = resume if resume > 0 else None
        self._player.setSource(url)
        if autoplay:
            self._player.play()

    async def _resign(self) -> QUrl:
        episode, provider = self._episode, self._provider
        if episode is None or provider is None:
            raise RuntimeError("no episode to stream")
        return QUrl(await provider(episode.audio_path, self.expiry_seconds()))

    # ------------------------------------------------------------------ transport
    def play(self) -> None:
        if self._episode is None:
            return
        if self._gave_up:  # the user asks to try again after a clear error
            self._spawn(self.load(self._episode, self._provider))
            return
        self._player.play()

    def pause(self) -> None:
        self._player.pause()
        self._save_position()

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def stop(self) -> None:
        self._save_position()
        self.recovery.cancel()
        self._stopping = True  # stop() reports position 0 before the state changes
        try:
            self._player.stop()
        finally:
            self._stopping = False

    def seek(self, position_ms: int) -> None:
        duration = self.duration
        target = max(0, min(int(position_ms), duration if duration > 0 else int(position_ms)))
        self._last_position = target
        if self._player.mediaStatus() in LOADED or self._player.mediaStatus() == QMediaPlayer.MediaStatus.EndOfMedia:
            self._player.setPosition(target)
        else:  # ignored while LoadingMedia: apply once loaded
            self._pending_seek = target
        self.recovery.stall.reset()
        self.positionChanged.emit(target)

    def skip_back(self) -> None:
        self.seek(self._last_position - self.skip_back_seconds * 1000)

    def skip_forward(self) -> None:
        self.seek(self._last_position + self.skip_forward_seconds * 1000)

    def set_speed(self, speed: float) -> None:
        speed = clamp_speed(speed)
        if speed == self._speed:
            return
        self._speed = speed
        self.store.set_speed(speed)
        self._apply_speed()
        self.speedChanged.emit(speed)

    def speed_up(self) -> None:
        self.set_speed(self._speed + 0.1)

    def slow_down(self) -> None:
        self.set_speed(self._speed - 0.1)

    def _apply_speed(self) -> None:
        available = self._player.pitchCompensationAvailability()
        if available != QMediaPlayer.PitchCompensationAvailability.Unavailable:
            self._player.setPitchCompensation(True)
        self._player.setPlaybackRate(self._speed)

    def set_volume(self, volume: float) -> None:
        self._volume = min(1.0, max(0.0, volume))
        if not self._fading:
            self._output.setVolume(self._volume)
        self.volumeChanged.emit(self._volume)

    def set_muted(self, muted: bool) -> None:
        self._output.setMuted(muted)
        self.mutedChanged.emit(muted)

    def toggle_mute(self) -> None:
        self.set_muted(not self.muted)

    # ------------------------------------------------------------------ queue
    def set_queue(self, episodes: Sequence[Episode], provider: SourceProvider | None) -> None:
        self._queue = list(episodes)
        self._provider = provider
        self._index = self._queue.index(self._episode) if self._episode in self._queue else -1
        self.queueChanged.emit()

    def has_next(self) -> bool:
        return 0 <= self._index + 1 < len(self._queue)

    def has_previous(self) -> bool:
        return self._index > 0

    def next(self) -> None:
        if self.has_next():
            self.open(self._queue[self._index + 1], self._provider)

    def previous(self) -> None:
        if self._last_position > RESTART_THRESHOLD_MS or not self.has_previous():
            self.seek(0)
        else:
            self.open(self._queue[self._index - 1], self._provider)

    # ------------------------------------------------------------------ sleep timer
    def set_sleep_timer(self, minutes: float | None = None, *, end_of_episode: bool = False) -> None:
        """Pause after ``minutes`` (or when this episode ends), fading out first; None turns it off."""
        self._sleep_end_of_episode = end_of_episode
        self._sleep_deadline = time.monotonic() + minutes * 60 if minutes else None
        if end_of_episode or self._sleep_deadline is not None:
            self._sleep_tick.start()
        else:
            self._sleep_tick.stop()
            self._end_fade()
        self.sleepTimerChanged.emit(self.sleep_remaining())

    def sleep_remaining(self) -> int:
        if self._sleep_end_of_episode:
            return END_OF_EPISODE
        if self._sleep_deadline is None:
            return 0
        return max(0, round(self._sleep_deadline - time.monotonic()))

    def _sleep_seconds_left(self) -> float | None:
        if self._sleep_end_of_episode:
            left_ms = self.duration - self._last_position
            return left_ms / 1000 / self._speed if self.duration > 0 else None
        if self._sleep_deadline is None:
            return None
        return self._sleep_deadline - time.monotonic()

    def _on_sleep_tick(self) -> None:
        left = self._sleep_seconds_left()
        self.sleepTimerChanged.emit(self.sleep_remaining())
        if left is None or not self.playing:
            return
        if left <= 0:
            self._sleep_tick.stop()
            self._sleep_deadline, self._sleep_end_of_episode = None, False
            self.pause()
            self._end_fade()
            self.sleepTimerChanged.emit(0)
        elif left < self.fade_seconds:
            self._fading = True
            self._output.setVolume(self._volume * left / self.fade_seconds)

    def _end_fade(self) -> None:
        self._fading = False
        self._output.setVolume(self._volume)

    @property
    def output_volume(self) -> float:
        """What the audio output plays at now (lower than ``volume`` during a fade)."""
        return self._output.volume()

    # ------------------------------------------------------------------ events
    def _on_position(self, position: int) -> None:
        if (self._closed or self.recovery.busy or self._stopping or self._player.mediaStatus() not in LOADED
                or self._player.playbackState() == QMediaPlayer.PlaybackState.StoppedState):
            return  # a reload or a stop passes through 0: keep the listener's place
        self._last_position = position
        self.positionChanged.emit(position)
        if self._episode is not None and abs(position - self._last_saved) >= SAVE_EVERY_MS:
            self._save_position()

    def _on_duration(self, duration: int) -> None:
        self.durationChanged.emit(duration)

    def _on_state(self, state: QMediaPlayer.PlaybackState) -> None:
        self.playingChanged.emit(state == QMediaPlayer.PlaybackState.PlayingState)

    def _on_status(self, status: QMediaPlayer.MediaStatus) -> None:
        if status in LOADED and self._pending_seek is not None:
            target, self._pending_seek = self._pending_seek, None
            self._player.setPosition(target)
        elif status == QMediaPlayer.MediaStatus.EndOfMedia and self._episode is not None:
            self._finished(self._episode)

    def _finished(self, episode: Episode) -> None:
        self.store.set_played(episode.id, True)
        self.store.set_position_ms(episode.id, 0)
        self._last_saved = self._last_position = 0
        self.playedChanged.emit(episode.id, True)
        if self._sleep_end_of_episode:
            self.set_sleep_timer(None)
            return
        if self.has_next():
            self.next()

    def _on_error(self, error: QMediaPlayer.Error, message: str) -> None:
        if error == QMediaPlayer.Error.NoError or self.recovery.enabled or self.recovery.busy or self._gave_up:
            return  # streams: Recovery handles it, and reports only if it gives up
        self._report(self.tr("Cannot play this episode: %1").replace("%1", message))

    def _on_recovering(self, attempt: int, maximum: int) -> None:
        text = self.tr("Connection lost, reconnecting (attempt %1 of %2)…")
        self.statusMessage.emit(text.replace("%1", str(attempt)).replace("%2", str(maximum)))

    def _on_gave_up(self, message: str) -> None:
        self._gave_up = True
        self._save_position()
        self.statusMessage.emit("")
        self._report(message)

    def _report(self, message: str) -> None:
        if self._errors.admit(message, time.monotonic()):
            self.errorOccurred.emit(message)

    def _save_position(self) -> None:
        if self._episode is None:
            return
        self._last_saved = self._last_position
        self.store.set_position_ms(self._episode.id, self._last_position)

    def shutdown(self) -> None:
        """Remember where we are and stop; call before the app quits."""
        self._save_position()
        self._closed = True
        self.recovery.cancel()
        self.store.sync()
        for task in list(self._tasks):
            task.cancel()
        # Stop and release the FFmpeg engine and its threads now, not during object destruction,
        # and from the Qt event loop rather than from Python: a call made here holds the GIL while
        # Qt waits for a signal-slot lock, and an FFmpeg thread tearing down its objects holds
        # that lock while it waits for the GIL (a Shiboken override check). Seen as a hang in
        # QMediaPlayer.stop() at shutdown (gdb: main thread in QObject::disconnect, the audio
        # renderer thread in ~QObject -> PyGILState_Ensure).
        QMetaObject.invokeMethod(self._player, "stop", Qt.ConnectionType.QueuedConnection)
        QMetaObject.invokeMethod(self._player, "setSource", Qt.ConnectionType.QueuedConnection,
                                 Q_ARG(QUrl, QUrl()))

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
