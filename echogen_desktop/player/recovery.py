"""Keep a stream playing when its signed URL expires or its connection drops.

What QMediaPlayer (FFmpeg backend, Qt 6.11) does here (shared/specs/stack-facts.md): an expired
URL at start gives one ResourceError; an expiry mid-play followed by a seek gives *no* error, the
position just freezes while the state says Playing; a dropped connection gives ~150 identical
ResourceErrors in a few seconds and then freezes. It never reconnects by itself. So: swallow
the storm (one incident at a time), watch the position, and re-sign + reload + seek back, a
bounded number of times.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtMultimedia import QMediaPlayer

log = logging.getLogger(__name__)

LOADED = (
    QMediaPlayer.MediaStatus.LoadedMedia,
    QMediaPlayer.MediaStatus.BufferingMedia,
    QMediaPlayer.MediaStatus.BufferedMedia,
)


class ErrorGate:
    """Lets one report of an error through per window; the rest of a storm is dropped."""

    def __init__(self, window_seconds: float = 10.0) -> None:
        self._window = window_seconds
        self._last: dict[str, float] = {}

    def admit(self, message: str, now: float) -> bool:
        last = self._last.get(message)
        if last is not None and now - last < self._window:
            return False
        self._last[message] = now
        return True

    def clear(self) -> None:
        self._last.clear()


class StallDetector:
    """Says when the state is Playing but the position has not moved for ``stall_seconds``."""

    def __init__(self, stall_seconds: float) -> None:
        self.stall_seconds = stall_seconds
        self._position = -1
        self._since: float | None = None

    def reset(self) -> None:
        self._position, self._since = -1, None

    def observe(self, now: float, position_ms: int, playing: bool) -> bool:
        if not playing or position_ms != self._position:
            self._position = position_ms
            self._since = now if playing else None
            return False
        if self._since is None:
            self._since = now
        return now - self._since >= self.stall_seconds


class AttemptBudget:
    """At most ``max_attempts`` recoveries per incident; healthy playback refills the budget."""

    def __init__(self, max_attempts: int, healthy_ms: int) -> None:
        self.max_attempts = max_attempts
        self.healthy_ms = healthy_ms
        self.used = 0
        self._resumed_at: int | None = None

    def take(self, position_ms: int) -> bool:
        if self.used >= self.max_attempts:
            return False
        self.used += 1
        self._resumed_at = position_ms
        return True

    def note_position(self, position_ms: int) -> None:
        """Playing well past the point we resumed at means the incident is over."""
        if self._resumed_at is not None and position_ms - self._resumed_at >= self.healthy_ms:
            self.used, self._resumed_at = 0, None

    def reset(self) -> None:
        self.used, self._resumed_at = 0, None


class AttemptFailed(Exception):
    pass


class Recovery(QObject):
    """Watches one QMediaPlayer and reloads its stream from a freshly signed URL when it breaks."""

    recovering = Signal(int, int)  # attempt, max attempts
    recovered = Signal(int)  # the position playback resumed at, in ms
    gaveUp = Signal(str)  # a user-facing message

    def __init__(
        self,
        player: QMediaPlayer,
        resign: Callable[[], Awaitable[QUrl]],
        *,
        max_attempts: int = 3,
        stall_seconds: float = 4.0,
        healthy_seconds: float = 20.0,
        load_timeout: float = 10.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._player = player
        self._resign = resign
        self._load_timeout = load_timeout
        self.budget = AttemptBudget(max_attempts, int(healthy_seconds * 1000))
        self.stall = StallDetector(stall_seconds)
        self.enabled = False
        self.busy = False
        self.incidents = 0  # raw errors and stalls seen (the storm), for diagnostics and tests
        self.grace_seconds = 1.0
        self._storm: str | None = None  # the message that started the current incident
        self._quiet_until = 0.0
        self._waiter: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._watchdog = QTimer(self)
        self._watchdog.setInterval(250)
        self._watchdog.timeout.connect(self._check_stall)
        player.errorOccurred.connect(self._on_error)
        player.mediaStatusChanged.connect(self._on_status)

    def arm(self, enabled: bool) -> None:
        """A new source was loaded: streams get recovery, local files do not."""
        self.cancel()
        self.enabled = enabled
        self.budget.reset()
        self.stall.reset()
        if enabled:
            self._watchdog.start()
        else:
            self._watchdog.stop()

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None
        self.busy = False

    # ------------------------------------------------------------------ detection
    def _on_error(self, error: QMediaPlayer.Error, message: str) -> None:
        if error == QMediaPlayer.Error.NoError:
            return
        self.incidents += 1
        if message == self._storm and time.monotonic() < self._quiet_until:
            return  # the old stream's queued errors still arrive after the reload
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(AttemptFailed(message))
            return
        if self.enabled and not self.busy:
            log.info("stream error (%s): recovering", message)
            self._storm = message
            self._start()

    def _on_status(self, status: QMediaPlayer.MediaStatus) -> None:
        if status in LOADED and self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _check_stall(self) -> None:
        playing = self._player.playbackState() == QMediaPlayer.PlaybackState.PlayingState
        position = self._player.position()
        if not self.busy:
            self.budget.note_position(position)
        if self.busy or not self.enabled:
            return
        if self.stall.observe(time.monotonic(), position, playing):
            self.incidents += 1
            log.info("position stalled at %d ms while playing: recovering", position)
            self._start()

    # ------------------------------------------------------------------ recovery
    def _start(self) -> None:
        self.busy = True
        self._task = asyncio.ensure_future(self._recover(self._player.position()))

    async def _recover(self, position_ms: int) -> None:
        was_paused = self._player.playbackState() == QMediaPlayer.PlaybackState.PausedState
        try:
            while True:
                if not self.budget.take(position_ms):
                    self._give_up()
                    return
                self.recovering.emit(self.budget.used, self.budget.max_attempts)
                try:
                    await self._attempt(position_ms, was_paused)
                except AttemptFailed as exc:
                    log.info("recovery attempt %d failed: %s", self.budget.used, exc)
                    continue
                self.stall.reset()
                self.busy = False
                self.recovered.emit(position_ms)
                return
        finally:
            self.busy = False
            self._waiter = None

    async def _attempt(self, position_ms: int, paused: bool) -> None:
        try:
            url = await self._resign()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise AttemptFailed(f"re-signing failed: {exc}") from exc
        self._waiter = asyncio.get_running_loop().create_future()
        self._quiet_until = time.monotonic() + self.grace_seconds
        self._player.setSource(url)
        self._player.play()
        try:
            await asyncio.wait_for(self._waiter, self._load_timeout)
        except TimeoutError as exc:
            raise AttemptFailed("the stream did not load in time") from exc
        finally:
            self._waiter = None
        # setPosition is ignored while LoadingMedia: only now does the seek back stick.
        self._player.setPosition(position_ms)
        self._quiet_until = time.monotonic() + self.grace_seconds
        if paused:
            self._player.pause()

    def _give_up(self) -> None:
        self.enabled = False
        self._watchdog.stop()
        self._player.stop()  # ends the error storm
        self.gaveUp.emit(
            self.tr("Playback stopped: the connection to the server was lost and could not be restored "
                    "after %n attempt(s). Check your connection and press Play to try again.", "",
                    self.budget.max_attempts)
        )
