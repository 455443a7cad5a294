"""Scripts: the segment editor (speaker, text, start, end) beside the list of podcast scripts."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from echogen_desktop.models.columns import format_clock
from echogen_desktop.models.segments import END, SPEAKER, START, TEXT, SegmentsModel, validate_segments
from echogen_desktop.services.records import Script
from echogen_desktop.services.tables import SCRIPTS
from echogen_desktop.views.sections.base import ListSection
from echogen_desktop.views.theme import set_error_text
from echogen_desktop.views.widgets.confirm import confirm
from echogen_desktop.views.widgets.detail_bits import DetailStack, FieldList, heading


def _tool(text: str, tip: str, name: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setAccessibleName(tip)
    button.setObjectName(name)
    return button


class ScriptDetail(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.segments = SegmentsModel(self)
        self.title_label = heading()
        self.title_label.setObjectName("scriptTitle")
        self.fields = FieldList()
        for key, label in (("model", self.tr("Model")), ("language", self.tr("Language")),
                           ("duration", self.tr("Total duration")), ("count", self.tr("Segments"))):
            self.fields.add(key, label)
        self.table = QTableView()
        self.table.setObjectName("segmentsTable")
        self.table.setAccessibleName(self.tr("Segments"))
        self.table.setModel(self.segments)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(True)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(SPEAKER, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(TEXT, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(START, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(END, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

        self.add_button = _tool("+", self.tr("Add a segment below the selected one"), "addSegment")
        self.remove_button = _tool("−", self.tr("Remove the selected segment"), "removeSegment")
        self.up_button = _tool("↑", self.tr("Move the selected segment up (Ctrl+Up)"), "moveSegmentUp")
        self.down_button = _tool("↓", self.tr("Move the selected segment down (Ctrl+Down)"), "moveSegmentDown")
        self.save_button = QPushButton(self.tr("&Save"))
        self.save_button.setObjectName("saveSegments")
        self.revert_button = QPushButton(self.tr("Re&vert"))
        self.revert_button.setObjectName("revertSegments")
        self.render_button = QPushButton(self.tr("&Render audio"))
        self.render_button.setObjectName("renderAudio")
        self.delete_button = QPushButton(self.tr("Delete"))
        self.delete_button.setObjectName("deleteScript")
        self.error_label = QLabel()
        self.error_label.setObjectName("segmentsError")
        self.error_label.setWordWrap(True)
        font = self.error_label.font()
        font.setBold(True)
        self.error_label.setFont(font)
        self.error_label.hide()

        edit_row = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            edit_row.addWidget(button)
        edit_row.addStretch(1)
        edit_row.addWidget(self.revert_button)
        edit_row.addWidget(self.save_button)
        action_row = QHBoxLayout()
        action_row.addWidget(self.render_button)
        action_row.addStretch(1)
        action_row.addWidget(self.delete_button)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title_label)
        layout.addWidget(self.fields)
        layout.addLayout(edit_row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.error_label)
        layout.addLayout(action_row)
        self.stack = DetailStack(page, self.tr("Select a script to edit its segments here."))
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 0, 0, 0)
        outer.addWidget(self.stack)

        self.add_button.clicked.connect(self.add_segment)
        self.remove_button.clicked.connect(self.remove_segment)
        self.up_button.clicked.connect(lambda: self.move_segment(-1))
        self.down_button.clicked.connect(lambda: self.move_segment(1))
        for keys, delta in (("Ctrl+Up", -1), ("Ctrl+Down", 1)):
            shortcut = QShortcut(QKeySequence(keys), self.table)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(lambda d=delta: self.move_segment(d))
        self.segments.dirtyChanged.connect(self._update_buttons)
        self.segments.dataChanged.connect(lambda *_: self._update_summary())
        self.segments.rowsInserted.connect(lambda *_: self._update_summary())
        self.segments.rowsRemoved.connect(lambda *_: self._update_summary())
        self.segments.modelReset.connect(self._update_summary)
        self._busy = False
        self._update_buttons()

    def show_script(self, script: Script, *, with_segments: bool) -> None:
        self.title_label.setText(script.title)
        self.fields.set_value("model", script.model)
        self.fields.set_value("language", script.language)
        if with_segments:
            self.segments.set_segments(script.segments)
            self.error_label.hide()
        self._update_summary()
        self.stack.show_page()

    def clear(self) -> None:
        self.segments.set_segments(())
        self.stack.show_empty()

    def show_error(self, message: str) -> None:
        set_error_text(self.error_label)
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._update_buttons()

    def selected_row(self) -> int:
        index = self.table.currentIndex()
        return index.row() if index.isValid() else -1

    def select_row(self, row: int) -> None:
        if 0 <= row < self.segments.rowCount():
            self.table.selectionModel().setCurrentIndex(
                self.segments.index(row, TEXT),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
            )

    def add_segment(self) -> None:
        row = self.selected_row()
        new_row = self.segments.add_segment(row if row >= 0 else None)
        self.select_row(new_row)
        self.table.edit(self.segments.index(new_row, SPEAKER if not self.segments.segments[new_row].speaker else TEXT))

    def remove_segment(self) -> None:
        row = self.selected_row()
        if row >= 0:
            self.segments.remove_segment(row)
            self.select_row(min(row, self.segments.rowCount() - 1))

    def move_segment(self, delta: int) -> None:
        row = self.selected_row()
        if row >= 0:
            self.select_row(self.segments.move_segment(row, delta))

    def _update_summary(self) -> None:
        total = self.segments.total_duration()
        self.fields.set_value("duration", format_clock(total) if total is not None else self.tr("not timed yet"))
        self.fields.set_value("count", str(self.segments.rowCount()))

    def _update_buttons(self, *_: object) -> None:
        dirty = self.segments.dirty
        self.save_button.setEnabled(dirty and not self._busy)
        self.revert_button.setEnabled(dirty and not self._busy)
        self.render_button.setEnabled(not self._busy)
        self.delete_button.setEnabled(not self._busy)


class ScriptsSection(ListSection):
    key = "scripts"
    spec = SCRIPTS

    def title(self) -> str:
        return self.tr("Scripts")

    def build_detail(self) -> QWidget:
        self.script_detail = ScriptDetail()
        self.script_detail.save_button.clicked.connect(self.save)
        self.script_detail.revert_button.clicked.connect(self._revert)
        self.script_detail.render_button.clicked.connect(self.render_audio)
        self.script_detail.delete_button.clicked.connect(self.delete_selected)
        self._script: Script | None = None  # the full record (with segments) once loaded
        self._loaded = False
        return self.script_detail

    def show_record(self, record: Any | None) -> None:
        if not isinstance(record, Script) or self.controller is None:
            self._script, self._loaded = None, False
            self.script_detail.clear()
            return
        same = self._script is not None and self._script.id == record.id
        if same and self.script_detail.segments.dirty:
            return  # a live update must never throw away the user's unsaved edits
        self._script, self._loaded = record, False
        self.script_detail.show_script(record, with_segments=False)
        if not same:
            self.script_detail.segments.set_segments(())
        self.controller.load_script(record.id, self._on_loaded, owner=self)

    def _on_loaded(self, script: Script) -> None:
        if self._script is not None and self._script.id == script.id and not self.script_detail.segments.dirty:
            self._script, self._loaded = script, True
            self.script_detail.show_script(script, with_segments=True)

    def _revert(self) -> None:
        if self._script is not None and self._loaded:
            self.script_detail.show_script(self._script, with_segments=True)

    def save(self) -> None:
        script = self._script
        if script is None or self.controller is None or not self._loaded:
            return
        segments = self.script_detail.segments.segments
        problem = validate_segments(segments)
        if problem is not None:
            self.script_detail.show_error(self.tr("Not saved: %1").replace("%1", problem))
            return
        self.script_detail.show_error("")
        self.script_detail.set_busy(True)
        self.controller.save_segments(script.id, segments, self._on_saved, owner=self,
                                      on_error=lambda _error: self.script_detail.set_busy(False))

    def _on_saved(self, script: Script) -> None:
        self.script_detail.set_busy(False)
        if self._script is not None and self._script.id == script.id:
            self._script, self._loaded = script, True
            self.script_detail.show_script(script, with_segments=True)

    def render_audio(self) -> None:
        script = self._script
        if script is None or self.controller is None:
            return
        self.script_detail.set_busy(True)
        self.controller.render_audio(script, lambda _job: self.script_detail.set_busy(False), owner=self,
                                     on_error=lambda _error: self.script_detail.set_busy(False))

    def delete_selected(self) -> None:
        script = self._script
        if script is None or self.controller is None:
            return
        confirm(
            self, self.tr("Delete script"),
            self.tr("Delete the script “%1”? Podcasts made from it are deleted too, with their audio.").replace(
                "%1", script.title),
            lambda: self._delete(script), self.tr("Delete"),
        )

    def _delete(self, script: Script) -> None:
        if self.controller is not None:
            self.script_detail.set_busy(True)
            self.controller.delete_script(script, lambda _: self.script_detail.set_busy(False), owner=self,
                                          on_error=lambda _error: self.script_detail.set_busy(False))
