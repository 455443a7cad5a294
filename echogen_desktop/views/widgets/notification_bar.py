"""A non-modal message strip above the content: errors stay until dismissed, notes fade on their own."""

from __future__ import annotations

import enum

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStyle, QToolButton, QWidget

from echogen_desktop.colors import is_dark


class Level(enum.Enum):
    INFO = "info"
    ERROR = "error"


_COLORS = {  # (background, text) for light and dark palettes
    (Level.INFO, False): ("#e0f2fe", "#0c4a6e"), (Level.INFO, True): ("#0c3553", "#d8eefe"),
    (Level.ERROR, False): ("#fee2e2", "#7f1d1d"), (Level.ERROR, True): ("#5c1a1a", "#fde2e2"),
}


class NotificationBar(QFrame):
    dismissed = Signal()

    INFO_TIMEOUT_MS = 5000

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notificationBar")
        self.setAccessibleName(self.tr("Notifications"))
        self.setAutoFillBackground(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._level = Level.INFO
        self._icon = QLabel()
        self._label = QLabel()
        self._label.setObjectName("notificationText")
        self._label.setWordWrap(True)
        self._label.setAccessibleName(self.tr("Message"))
        close = QToolButton()
        close.setObjectName("notificationClose")
        close.setAutoRaise(True)
        close.setText("✕")
        close.setToolTip(self.tr("Dismiss"))
        close.setAccessibleName(self.tr("Dismiss message"))
        close.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 4, 4)
        layout.addWidget(self._icon)
        layout.addWidget(self._label, 1)
        layout.addWidget(close)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.dismiss)
        self.hide()

    @property
    def level(self) -> Level:
        return self._level

    @property
    def message(self) -> str:
        return self._label.text() if not self.isHidden() else ""

    def show_error(self, text: str) -> None:
        self._show(Level.ERROR, text)

    def show_info(self, text: str) -> None:
        self._show(Level.INFO, text)
        self._timer.start(self.INFO_TIMEOUT_MS)

    def dismiss(self) -> None:
        self._timer.stop()
        self.hide()
        self.dismissed.emit()

    def _show(self, level: Level, text: str) -> None:
        self._timer.stop()
        self._level = level
        self._label.setText(text)
        icon = QStyle.StandardPixmap.SP_MessageBoxCritical if level is Level.ERROR else (
            QStyle.StandardPixmap.SP_MessageBoxInformation
        )
        self._icon.setPixmap(self.style().standardIcon(icon).pixmap(18, 18))
        background, foreground = _COLORS[(level, is_dark(self.palette()))]
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(background))
        palette.setColor(QPalette.ColorRole.WindowText, QColor(foreground))
        self.setPalette(palette)
        self.show()
