"""Which audio output Qt would play through. With none, QtMultimedia raises no error: playback runs
silently and the position still advances (shared/specs/stack-facts.md), so diagnostics have to say it."""

from __future__ import annotations

NO_OUTPUT = "none found (playback runs silently)"


def default_audio_output() -> str:
    """The default output's name, or NO_OUTPUT. Needs a Q(Gui)Application."""
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError as exc:  # e.g. libpulse.so.0 missing on Linux
        return f"QtMultimedia unavailable ({exc})"
    device = QMediaDevices.defaultAudioOutput()
    if device.isNull():
        return NO_OUTPUT
    return device.description() or bytes(device.id().data()).decode(errors="replace")
