"""The app's semantic colours, for light and dark palettes. No widgets here: models use them too."""

from __future__ import annotations

import zlib

from PySide6.QtGui import QColor, QGuiApplication, QPalette

# Job status badge colours: (light theme, dark theme). Chosen to read as traffic lights.
_STATUS_COLORS: dict[str, tuple[str, str]] = {
    "queued": ("#6b7280", "#9ca3af"),
    "running": ("#2563eb", "#60a5fa"),
    "succeeded": ("#15803d", "#4ade80"),
    "failed": ("#b91c1c", "#f87171"),
    "cancelled": ("#a16207", "#facc15"),
}

# Speaker colours: distinct hues, picked by a stable hash of the name.
_SPEAKER_HUES = (210, 25, 140, 280, 350, 50, 180, 100)


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def status_color(status: str, dark: bool | None = None) -> QColor:
    light_hex, dark_hex = _STATUS_COLORS.get(status, ("#6b7280", "#9ca3af"))
    return QColor(dark_hex if (is_dark() if dark is None else dark) else light_hex)


def speaker_color(name: str, dark: bool | None = None) -> QColor:
    """A soft background colour for a speaker's rows."""
    hue = _hue(name)
    dark = is_dark() if dark is None else dark
    return QColor.fromHsl(hue, 110, 60) if dark else QColor.fromHsl(hue, 160, 225)


def _hue(name: str) -> int:
    """A hue per name, stable across runs (crc32, not hash())."""
    return _SPEAKER_HUES[zlib.crc32(name.strip().lower().encode()) % len(_SPEAKER_HUES)]


def accent_color(name: str, dark: bool | None = None) -> QColor:
    """A saturated colour per name (chart series), readable on either background."""
    hue = _hue(name)
    return QColor.fromHsl(hue, 150, 150 if (is_dark() if dark is None else dark) else 110)


def error_color(dark: bool | None = None) -> QColor:
    return QColor("#ff8a80") if (is_dark() if dark is None else dark) else QColor("#c62828")
