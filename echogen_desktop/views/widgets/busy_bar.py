"""The indeterminate progress bar shown while a request is on its way."""

from __future__ import annotations

from PySide6.QtWidgets import QProgressBar


def busy_bar(object_name: str, accessible_name: str, *, height: int = 6) -> QProgressBar:
    """A thin, hidden, indeterminate bar: show it while waiting for the server."""
    bar = QProgressBar()
    bar.setObjectName(object_name)
    bar.setAccessibleName(accessible_name)
    bar.setRange(0, 0)
    bar.setMaximumHeight(height)
    bar.setTextVisible(False)
    bar.setVisible(False)
    return bar
