"""Light and dark palettes that follow the system colour scheme; error text that follows them."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from echogen_desktop.colors import error_color, is_dark


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
