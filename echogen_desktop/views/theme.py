"""Light and dark palettes that follow the system colour scheme, and the app's semantic colours."""

from __future__ import annotations

import zlib

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

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
    """A soft background colour for a speaker's rows, stable across runs (crc32, not hash())."""
    hue = _SPEAKER_HUES[zlib.crc32(name.strip().lower().encode()) % len(_SPEAKER_HUES)]
    dark = is_dark() if dark is None else dark
    return QColor.fromHsl(hue, 110, 60) if dark else QColor.fromHsl(hue, 160, 225)


def dark_palette() -> QPalette:
    palette = QPalette()
    base, window, text = QColor("#1e1f22"), QColor("#2b2d30"), QColor("#e6e6e6")
    roles = {
        QPalette.ColorRole.Window: window, QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base, QPalette.ColorRole.AlternateBase: QColor("#26282b"),
        QPalette.ColorRole.ToolTipBase: window, QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.Text: text, QPalette.ColorRole.Button: QColor("#3a3d41"),
        QPalette.ColorRole.ButtonText: text, QPalette.ColorRole.BrightText: QColor("#ff6b6b"),
        QPalette.ColorRole.Link: QColor("#6cb6ff"), QPalette.ColorRole.Highlight: QColor("#3d6fb4"),
        QPalette.ColorRole.HighlightedText: QColor("#ffffff"), QPalette.ColorRole.PlaceholderText: QColor("#8b8d91"),
        QPalette.ColorRole.Mid: QColor("#4a4d52"), QPalette.ColorRole.Dark: QColor("#151618"),
    }
    for role, color in roles.items():
        palette.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6f7175"))
    return palette


def light_palette(app: QApplication) -> QPalette:
    return app.style().standardPalette()


def apply_scheme(app: QApplication, scheme: Qt.ColorScheme) -> None:
    app.setPalette(dark_palette() if scheme == Qt.ColorScheme.Dark else light_palette(app))


def follow_system_theme(app: QApplication) -> None:
    """Use Fusion (it honours palettes on every platform) and track the system's light/dark setting."""
    app.setStyle("Fusion")
    hints = app.styleHints()
    apply_scheme(app, hints.colorScheme())
    hints.colorSchemeChanged.connect(lambda scheme: apply_scheme(app, scheme))


def accent_color(name: str, dark: bool | None = None) -> QColor:
    """A saturated colour per name (chart series), readable on either background."""
    hue = _SPEAKER_HUES[zlib.crc32(name.strip().lower().encode()) % len(_SPEAKER_HUES)]
    return QColor.fromHsl(hue, 150, 150 if (is_dark() if dark is None else dark) else 110)


def error_color(dark: bool | None = None) -> QColor:
    return QColor("#ff8a80") if (is_dark() if dark is None else dark) else QColor("#c62828")


class _ErrorTextFollower(QObject):
    """Re-colours error text when the system switches between light and dark."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ApplicationPaletteChange and isinstance(watched, QWidget):
            _apply_error_palette(watched)
        return False


def _apply_error_palette(widget: QWidget) -> None:
    palette = QPalette()
    color = error_color(is_dark(QGuiApplication.palette()))
    palette.setColor(QPalette.ColorRole.WindowText, color)
    palette.setColor(QPalette.ColorRole.Text, color)
    widget.setPalette(palette)


def set_error_text(widget: QWidget) -> None:
    """Error-red text through the palette (a style sheet would pin the colours and break dark mode)."""
    _apply_error_palette(widget)
    if widget.findChild(_ErrorTextFollower) is None:
        widget.installEventFilter(_ErrorTextFollower(widget))
