"""The downloads panel: one row per download with a progress bar, speed and time left, and
Cancel / Resume / Clear. A dumb view: it is told about progress (``show_progress``) and emits intents;
``bind_downloads`` wires it to a ``DownloadManager``.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from echogen_desktop.offline.downloads import DownloadManager, DownloadProgress, DownloadStatus
from echogen_desktop.offline.units import format_bytes, format_eta, format_speed
from echogen_desktop.views.theme import set_error_text


class DownloadRow(QFrame):
    cancelRequested = Signal(str)
    resumeRequested = Signal(str)
    clearRequested = Signal(str)

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.setObjectName("downloadRow")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel()
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.detail = QLabel()
        self.detail.setObjectName("downloadDetail")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setObjectName("downloadError")
        set_error_text(self.error)
        self.error.hide()
        self.action = QPushButton()
        self.action.clicked.connect(self._act)
        self.clear = QPushButton(self.tr("Clear"))
        self.clear.setAccessibleName(self.tr("Remove this download from the list"))
        self.clear.clicked.connect(lambda: self.clearRequested.emit(self.key))
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.action)
        top.addWidget(self.clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(top)
        layout.addWidget(self.bar)
        layout.addWidget(self.detail)
        layout.addWidget(self.error)
        self._status = DownloadStatus.QUEUED

    def show_progress(self, progress: DownloadProgress) -> None:
        self._status = progress.status
        self.title.setText(progress.title)
        fraction = progress.fraction
        if fraction is None and progress.status is DownloadStatus.RUNNING:
            self.bar.setRange(0, 0)  # size unknown: a busy bar
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(round(1000 * (fraction or (1.0 if progress.status is DownloadStatus.DONE else 0.0))))
        self.bar.setFormat(f"{round(100 * fraction)} %" if fraction is not None else "")
        self.bar.setAccessibleName(self.tr("Progress of %1").replace("%1", progress.title))
        self.detail.setText(self._detail(progress))
        self.error.setText(progress.error)
        self.error.setVisible(bool(progress.error) and progress.status is DownloadStatus.FAILED)
        running = progress.status in (DownloadStatus.QUEUED, DownloadStatus.RUNNING)
        self.action.setVisible(progress.status is not DownloadStatus.DONE)
        self.action.setText(self.tr("Cancel") if running else self.tr("Resume"))
        self.action.setAccessibleName(
            (self.tr("Cancel the download of %1") if running else self.tr("Resume the download of %1")).replace(
                "%1", progress.title))
        self.clear.setVisible(not running)

    def _detail(self, p: DownloadProgress) -> str:
        amount = format_bytes(p.received) + (f" / {format_bytes(p.total)}" if p.total else "")
        if p.status is DownloadStatus.RUNNING:
            parts = [amount, format_speed(p.speed)]
            left = format_eta(p.eta)
            if left:
                parts.append(self.tr("%1 left").replace("%1", left))
            return "  ·  ".join(parts)
        if p.status is DownloadStatus.DONE:
            return self.tr("Downloaded") + "  ·  " + format_bytes(p.total or p.received)
        label = {
            DownloadStatus.QUEUED: self.tr("Waiting"), DownloadStatus.PAUSED: self.tr("Paused"),
            DownloadStatus.FAILED: self.tr("Failed"),
        }.get(p.status, "")
        return f"{label}  ·  {amount}"

    def _act(self) -> None:
        if self._status in (DownloadStatus.QUEUED, DownloadStatus.RUNNING):
            self.cancelRequested.emit(self.key)
        else:
            self.resumeRequested.emit(self.key)


class DownloadsView(QWidget):
    cancelRequested = Signal(str)
    resumeRequested = Signal(str)
    clearRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("downloadsView")
        self.setAccessibleName(self.tr("Downloads"))
        self._rows: dict[str, DownloadRow] = {}
        self.empty = QLabel(self.tr("No downloads. Download an episode to listen and review it offline."))
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._inner = QWidget()
        self._list = QVBoxLayout(self._inner)
        self._list.setContentsMargins(0, 0, 0, 0)
        self._list.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self._inner)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(scroll, 1)

    def row(self, key: str) -> DownloadRow | None:
        return self._rows.get(key)

    def show_progress(self, progress: DownloadProgress) -> None:
        row = self._rows.get(progress.key)
        if row is None:
            row = DownloadRow(progress.key, self._inner)
            row.cancelRequested.connect(self.cancelRequested)
            row.resumeRequested.connect(self.resumeRequested)
            row.clearRequested.connect(self.clearRequested)
            self._rows[progress.key] = row
            self._list.insertWidget(self._list.count() - 1, row)
        row.show_progress(progress)
        self.empty.setVisible(not self._rows)

    def remove_row(self, key: str) -> None:
        row = self._rows.pop(key, None)
        if row is not None:
            row.setParent(None)
            row.deleteLater()
        self.empty.setVisible(not self._rows)


def bind_downloads(
    view: DownloadsView, manager: DownloadManager, on_clear: Callable[[str], None] | None = None
) -> None:
    """Show the manager's downloads in the view, and carry out its intents. ``on_clear`` lets the
    library forget a cleared download too (``OfflineLibrary.forget_download``), so it is not resumed
    at the next start."""
    for progress in manager.downloads():
        view.show_progress(progress)
    manager.add_listener(view.show_progress)
    view.cancelRequested.connect(manager.cancel)
    view.resumeRequested.connect(manager.resume)

    def clear(key: str) -> None:
        manager.forget(key)  # a paused or failed part is discarded: the user does not want it
        view.remove_row(key)
        if on_clear is not None:
            on_clear(key)

    view.clearRequested.connect(clear)
