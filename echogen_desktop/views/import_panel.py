"""The import panel: a drop zone, one progress row per file, an overall bar with Cancel.

Dumb view over ``ImportController``. Entry points for the main window: ``open_file_dialog``
(File ▸ Import…), ``paste_paths`` (Edit ▸ Paste of file paths), ``import_mime`` and
``DropImportFilter`` (drops anywhere on the window).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject, QRectF, Qt, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QShortcut,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from echogen_desktop.colors import status_color
from echogen_desktop.importing.controller import FileState, ImportController
from echogen_desktop.importing.formats import FORMATS, SUPPORTED_TYPES_TEXT

_STATE_COLOR = {
    FileState.DONE: "succeeded", FileState.REJECTED: "failed", FileState.FAILED: "failed",
    FileState.DUPLICATE: "cancelled", FileState.CANCELLED: "queued", FileState.SKIPPED: "queued",
}


def paths_from_mime(mime: QMimeData) -> list[Path]:
    """Local files named by a drag, a drop or the clipboard: file URLs, or text of paths one per line."""
    if mime.hasUrls():
        return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
    paths: list[Path] = []
    if mime.hasText():
        for line in mime.text().splitlines():
            text = line.strip().strip('"').strip("'")
            if not text:
                continue
            path = Path(QUrl(text).toLocalFile()) if text.startswith("file:") else Path(text).expanduser()
            if path.is_absolute() and path.exists():
                paths.append(path)
    return paths


class FileRow(QFrame):
    """One file: its name, a status line, a progress bar and the actions its state allows."""

    def __init__(self, controller: ImportController, key: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.key = key
        self.setObjectName("importFileRow")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        task = controller.task(key)
        self.name_label = QLabel(task.name)
        self.name_label.setTextFormat(Qt.TextFormat.PlainText)
        font = self.name_label.font()
        font.setBold(True)
        self.name_label.setFont(font)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setAccessibleName(self.tr("Status of %1").replace("%1", task.name))
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.progress.setAccessibleName(self.tr("Upload progress of %1").replace("%1", task.name))
        self.skip_button = QPushButton(self.tr("Skip"))
        self.anyway_button = QPushButton(self.tr("Import anyway"))
        self.generate_button = QPushButton(self.tr("Generate script"))
        for button, name in ((self.skip_button, self.tr("Skip duplicate")),
                             (self.anyway_button, self.tr("Import duplicate anyway")),
                             (self.generate_button, self.tr("Generate script from %1").replace("%1", task.name))):
            button.setAccessibleName(name)
            button.setVisible(False)
        self.skip_button.clicked.connect(lambda: controller.resolve_duplicate(key, import_anyway=False))
        self.anyway_button.clicked.connect(lambda: controller.resolve_duplicate(key, import_anyway=True))

        top = QHBoxLayout()
        top.addWidget(self.name_label, 1)
        for button in (self.skip_button, self.anyway_button, self.generate_button):
            top.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        self.refresh()

    def refresh(self) -> None:
        task = self.controller.task(self.key)
        state = task.state
        self.progress.setVisible(state in (FileState.QUEUED, FileState.CONVERTING, FileState.UPLOADING,
                                           FileState.DONE))
        if state in (FileState.QUEUED, FileState.CONVERTING):
            self.progress.setRange(0, 0)  # busy: converting has no measurable progress
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(1000 if state is FileState.DONE else int(1000 * task.sent / max(task.total, 1)))
        text = task.message or self.tr("Waiting…")
        if state is FileState.UPLOADING and task.total:
            text = self.tr("Uploading… %1 of %2").replace("%1", _size_text(task.sent)).replace(
                "%2", _size_text(task.total))
        self.status_label.setText(text)
        color = _STATE_COLOR.get(state)
        self.status_label.setStyleSheet(f"color: {status_color(color).name()};" if color else "")
        self.skip_button.setVisible(state is FileState.DUPLICATE)
        self.anyway_button.setVisible(state is FileState.DUPLICATE)
        self.generate_button.setVisible(state is FileState.DONE and task.item is not None)


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, round(size / 1024))} KB" if size else "0 KB"


class ImportPanel(QWidget):
    """Drop target and progress for imports. Mount it anywhere (a dock, a page, a dialog)."""

    generateScriptRequested = Signal(str)  # content id of a freshly imported item
    itemImported = Signal(object, bool)  # ContentItem, select it (True for a single-file drop)
    importStarted = Signal()  # files arrived: the main window may want to reveal the panel

    def __init__(self, controller: ImportController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.rows: dict[int, FileRow] = {}
        self.setAcceptDrops(True)
        self.setAccessibleName(self.tr("Import transcripts"))

        self.drop_zone = QFrame()
        self.drop_zone.setObjectName("importDropZone")
        self.drop_zone.setMinimumHeight(110)
        self.drop_label = QLabel(self.tr("Drop transcripts here\n%1").replace("%1", SUPPORTED_TYPES_TEXT))
        self.drop_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.choose_button = QPushButton(self.tr("Choose files…"))
        self.choose_button.setAccessibleName(self.tr("Choose files to import"))
        self.choose_button.clicked.connect(self.open_file_dialog)
        zone = QVBoxLayout(self.drop_zone)
        zone.addWidget(self.drop_label)
        zone.addWidget(self.choose_button, 0, Qt.AlignmentFlag.AlignHCenter)

        self.rows_host = QWidget()
        self.rows_layout = QVBoxLayout(self.rows_host)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.rows_layout.setSpacing(6)
        self.rows_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.rows_host)
        scroll.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self.overall_label = QLabel()
        self.overall_progress = QProgressBar()
        self.overall_progress.setRange(0, 1000)
        self.overall_progress.setAccessibleName(self.tr("Overall import progress"))
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setAccessibleName(self.tr("Cancel the import"))
        self.cancel_button.setToolTip(self.tr("Stop the uploads; nothing half-made is kept (Esc)"))
        self.cancel_button.clicked.connect(controller.cancel_all)
        bottom = QHBoxLayout()
        bottom.addWidget(self.overall_label)
        bottom.addWidget(self.overall_progress, 1)
        bottom.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.drop_zone)
        layout.addWidget(scroll, 1)
        layout.addLayout(bottom)
        self._set_overall_visible(False)
        self.set_drag_active(False)

        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, controller.cancel_all)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Paste), self, self.paste_paths)

        controller.fileAdded.connect(self._add_row)
        controller.fileChanged.connect(self._refresh_row)
        controller.overallProgress.connect(self._on_overall)
        controller.runningChanged.connect(self._on_running)
        controller.batchFinished.connect(self._on_finished)
        controller.itemImported.connect(self.itemImported)

    # ------------------------------------------------------------ entry points
    def create_import_action(self, parent: QObject) -> QAction:
        """File ▸ Import… (Ctrl+I) for the main window's menu."""
        action = QAction(self.tr("&Import…"), parent)
        action.setShortcut(QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_I))
        action.setStatusTip(self.tr("Import transcripts (%1)").replace("%1", SUPPORTED_TYPES_TEXT))
        action.triggered.connect(self.open_file_dialog)
        return action

    def open_file_dialog(self) -> None:
        dialog = QFileDialog(self, self.tr("Import transcripts"))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        patterns = " ".join(f"*{ext}" for ext in FORMATS)
        dialog.setNameFilters([self.tr("Transcripts (%1)").replace("%1", patterns), self.tr("All files (*)")])
        dialog.filesSelected.connect(lambda files: self.import_paths([Path(f) for f in files]))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()  # not exec(): no nested event loop under qasync

    def paste_paths(self, mime: QMimeData | None = None) -> int:
        """Import the files named on the clipboard (or in ``mime``); returns how many were found."""
        source = mime if mime is not None else QGuiApplication.clipboard().mimeData()
        paths = paths_from_mime(source) if source is not None else []
        if paths:
            self.import_paths(paths)
        return len(paths)

    def can_import(self, mime: QMimeData) -> bool:
        return mime.hasUrls() and any(url.isLocalFile() for url in mime.urls())

    def import_mime(self, mime: QMimeData) -> bool:
        paths = paths_from_mime(mime)
        if paths:
            self.import_paths(paths)
        return bool(paths)

    def import_paths(self, paths: list[Path]) -> list[int]:
        self.importStarted.emit()
        return self.controller.import_paths(paths)

    # ---------------------------------------------------------- drop target
    def set_drag_active(self, active: bool) -> None:
        palette = self.palette()
        highlight = palette.color(QPalette.ColorRole.Highlight)
        border = highlight.name() if active else palette.color(QPalette.ColorRole.Mid).name()
        fill = QColor(highlight)
        fill.setAlpha(40 if active else 0)
        self.drop_zone.setProperty("dragActive", active)
        self.drop_zone.setStyleSheet(
            f"#importDropZone {{ border: 2px dashed {border}; border-radius: 8px;"
            f" background: rgba({fill.red()}, {fill.green()}, {fill.blue()}, {fill.alpha()}); }}"
        )
        self.drop_label.setText(self.tr("Release to import") if active else
                                self.tr("Drop transcripts here\n%1").replace("%1", SUPPORTED_TYPES_TEXT))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.can_import(event.mimeData()):
            event.acceptProposedAction()
            self.set_drag_active(True)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self.can_import(event.mimeData()):
            event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.set_drag_active(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self.set_drag_active(False)
        if self.import_mime(event.mimeData()):
            event.acceptProposedAction()

    # ------------------------------------------------------------- updates
    def _add_row(self, key: int) -> None:
        row = FileRow(self.controller, key, self.rows_host)
        row.generate_button.clicked.connect(lambda: self._generate(key))
        self.rows[key] = row
        self.rows_layout.insertWidget(self.rows_layout.count() - 1, row)
        self._set_overall_visible(True)

    def _refresh_row(self, key: int) -> None:
        row = self.rows.get(key)
        if row is not None:
            row.refresh()

    def _generate(self, key: int) -> None:
        item = self.controller.task(key).item
        if item is not None:
            self.generateScriptRequested.emit(item.id)

    def _on_overall(self, done: int, total: int) -> None:
        self.overall_progress.setValue(int(1000 * done / total) if total else 0)
        files = self.controller.batch()
        finished = sum(1 for t in files if t.state.final)
        text = self.tr("%1 of %2 files").replace("%1", str(finished)).replace("%2", str(len(files)))
        self.overall_label.setText(text)

    def _on_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)

    def _on_finished(self, imported: int, not_imported: int) -> None:
        if not_imported:
            text = self.tr("%1 imported, %2 not imported").replace("%1", str(imported)).replace("%2", str(not_imported))
        else:
            text = self.tr("%1 imported").replace("%1", str(imported))
        self.overall_label.setText(text)
        self.cancel_button.setEnabled(False)

    def _set_overall_visible(self, visible: bool) -> None:
        for widget in (self.overall_label, self.overall_progress, self.cancel_button):
            widget.setVisible(visible)

    def clear_finished(self) -> None:
        """Drop the rows of files that are done (for a "Clear" action)."""
        for key, row in list(self.rows.items()):
            if self.controller.task(key).state.final:
                row.deleteLater()
                del self.rows[key]


class DropOverlay(QWidget):
    """A translucent "drop to import" frame over the whole window while files are dragged over it."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        highlight = self.palette().color(QPalette.ColorRole.Highlight)
        fill = QColor(highlight)
        fill.setAlpha(45)
        pen = QPen(highlight, 3, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(fill)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(6, 6, -6, -6), 12, 12)
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                         self.tr("Drop to import\n%1").replace("%1", SUPPORTED_TYPES_TEXT))
        painter.end()


class DropImportFilter(QObject):
    """Makes a whole window a drop target for imports: ``DropImportFilter(panel).install(window)``."""

    def __init__(self, panel: ImportPanel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.overlay: DropOverlay | None = None

    def install(self, window: QWidget) -> None:
        window.setAcceptDrops(True)
        window.installEventFilter(self)
        self.overlay = DropOverlay(window)

    def _show_overlay(self, watched: QObject, show: bool) -> None:
        self.panel.set_drag_active(show)
        if self.overlay is None or not isinstance(watched, QWidget):
            return
        if show:
            self.overlay.setGeometry(watched.rect())
            self.overlay.raise_()
            self.overlay.show()
        else:
            self.overlay.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove) and isinstance(event, QDragMoveEvent):
            if not self.panel.can_import(event.mimeData()):
                return False
            event.acceptProposedAction()
            if kind is QEvent.Type.DragEnter:
                self._show_overlay(watched, True)
            return True
        if kind is QEvent.Type.DragLeave:
            self._show_overlay(watched, False)
            return False
        if kind is QEvent.Type.Drop and isinstance(event, QDropEvent):
            self._show_overlay(watched, False)
            if self.panel.import_mime(event.mimeData()):
                event.acceptProposedAction()
                return True
        return False
