"""A search box that reports what to search for once the user pauses typing."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLineEdit, QWidget


class SearchField(QLineEdit):
    searchChanged = Signal(str)

    DEBOUNCE_MS = 300

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("searchField")
        self.setClearButtonEnabled(True)
        self.setPlaceholderText(self.tr("Search (Ctrl+F)"))
        self.setAccessibleName(self.tr("Search"))
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(self.DEBOUNCE_MS)
        self._timer.timeout.connect(self._emit)
        self._last = ""
        # Every keystroke restarts the timer: one server query per pause, not per character.
        self.textChanged.connect(lambda _text: self._timer.start())
        self.returnPressed.connect(self._emit)

    def _emit(self) -> None:
        self._timer.stop()
        term = self.text().strip()
        if term != self._last:
            self._last = term
            self.searchChanged.emit(term)
