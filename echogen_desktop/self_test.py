"""``--self-test``: prove this build of the app works here, especially a frozen one.

Frozen PySide6 apps are known to lose their QtMultimedia backend, so the check plays a bundled
1-second clip to the end instead of trusting an import. Steps: print the versions, check the media
backend, play the clip until EndOfMedia (with no audio device the position still advances), open
and close the main window. Exit code 0 when all pass; otherwise 1 with a line saying what failed.
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from echogen_desktop import APP_NAME, __version__
from echogen_desktop.audio_output import default_audio_output
from echogen_desktop.resources import is_frozen, resource_path

CLIP = ("sounds", "self-test.wav")
PLAY_TIMEOUT_S = 15.0
Report = Callable[[str], None]


class SelfTestFailure(RuntimeError):
    """One check failed; the message says which and why, for a user or a CI log."""


def versions() -> dict[str, str]:
    import PySide6
    from PySide6.QtCore import qVersion

    return {
        APP_NAME: __version__,
        "Python": platform.python_version(),
        "PySide6": PySide6.__version__,
        "Qt": qVersion(),
        "Platform": platform.platform(),
        "Frozen": "yes" if is_frozen() else "no",
    }


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    from PySide6.QtCore import QCoreApplication, QEventLoop

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)
    return True


def check_media_backend(report: Report) -> None:
    try:
        from PySide6.QtMultimedia import QMediaFormat, QMediaPlayer
    except ImportError as exc:  # e.g. libpulse.so.0 missing on Linux
        raise SelfTestFailure(f"QtMultimedia cannot be loaded: {exc}") from exc
    player = QMediaPlayer()
    if not player.isAvailable():
        raise SelfTestFailure("no QtMultimedia backend found (the FFmpeg media plugin is missing)")
    decodable = QMediaFormat().supportedFileFormats(QMediaFormat.ConversionMode.Decode)
    report(f"media backend: available, {len(decodable)} decodable container formats")


def play_clip(report: Report) -> None:
    from PySide6.QtCore import QUrl
    from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

    clip = resource_path(*CLIP)
    if not clip.is_file():
        raise SelfTestFailure(f"the bundled clip is missing: {clip}")
    player = QMediaPlayer()
    output = QAudioOutput()
    output.setVolume(0.0)  # a check, not a sound the user should hear
    player.setAudioOutput(output)
    errors: list[str] = []
    statuses: list[QMediaPlayer.MediaStatus] = []
    positions: list[int] = []
    player.errorOccurred.connect(lambda _error, text: errors.append(text))
    player.mediaStatusChanged.connect(statuses.append)
    player.positionChanged.connect(positions.append)
    started = time.monotonic()
    player.setSource(QUrl.fromLocalFile(str(clip)))
    player.play()
    ended = _wait(lambda: bool(errors) or QMediaPlayer.MediaStatus.EndOfMedia in statuses, PLAY_TIMEOUT_S)
    elapsed = time.monotonic() - started
    player.stop()
    if errors:
        raise SelfTestFailure(f"the clip does not play: {errors[0]}")
    if not ended:
        raise SelfTestFailure(
            f"the clip did not reach its end within {PLAY_TIMEOUT_S:.0f} s "
            f"(last position {max(positions, default=0)} ms, statuses {[s.name for s in statuses]})"
        )
    reached = max(positions, default=0)
    report(f"clip: played to the end ({reached} ms of {player.duration()} ms in {elapsed:.2f} s)")
    report(f"audio output: {default_audio_output()}")  # not a failure: with none, playback is silent


def open_main_window(report: Report) -> None:
    from PySide6.QtCore import QSettings

    from echogen_desktop.views.main_window import MainWindow

    with tempfile.TemporaryDirectory(prefix="echogen-self-test-") as folder:
        # A private settings file: the check must not move the user's saved window around.
        settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings)
        window.show()
        if not _wait(window.isVisible, 5.0):
            raise SelfTestFailure("the main window does not show")
        if window.grab().isNull():
            raise SelfTestFailure("the main window does not render")
        window.close()
        window.deleteLater()
        _wait(lambda: False, 0.1)  # let the deferred delete run while the settings file still exists
    report("main window: opened, rendered and closed")


STEPS: tuple[tuple[str, Callable[[Report], None]], ...] = (
    ("media backend", check_media_backend),
    ("clip playback", play_clip),
    ("main window", open_main_window),
)


def run(report: Report = print) -> int:
    """Run every check in order; stop at the first failure. Needs no network and no signed-in user."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    started = time.monotonic()
    for name, value in versions().items():
        report(f"{name}: {value}")
    for name, step in STEPS:
        try:
            step(report)
        except SelfTestFailure as exc:
            report(f"SELF-TEST FAILED at {name}: {exc}")
            return 1
        except Exception as exc:  # any crash in a check is a failed check, said plainly
            report(f"SELF-TEST FAILED at {name}: {type(exc).__name__}: {exc}")
            return 1
    report(f"self-test passed in {time.monotonic() - started:.2f} s")
    return 0
