"""Review markers: time-coded notes the creator drops while listening (N), stored in
``generated_podcasts.metadata.review_notes`` as ``[{id, t, text, created_at}]``.

Saving merges by note id into whatever the server holds now (another device may have added
notes meanwhile); the whole list is never overwritten blindly.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QByteArray, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from echogen_desktop.player.transcript import format_clock

JsonDict = dict[str, Any]
Index = QModelIndex | QPersistentModelIndex
NOTES_KEY = "review_notes"


@dataclass(frozen=True, slots=True)
class ReviewNote:
    id: str
    t: float  # seconds into the audio
    text: str
    created_at: str  # ISO 8601

    @classmethod
    def new(cls, t: float, text: str) -> ReviewNote:
        now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        return cls(str(uuid.uuid4()), round(max(0.0, t), 3), text, now)

    @classmethod
    def from_json(cls, item: object) -> ReviewNote | None:
        """Tolerant: a note another client wrote badly is skipped, not fatal."""
        if not isinstance(item, Mapping) or not item.get("id"):
            return None
        try:
            t = float(item.get("t") or 0)
        except (TypeError, ValueError):
            t = 0.0
        return cls(str(item["id"]), t, str(item.get("text") or ""), str(item.get("created_at") or ""))

    def to_json(self) -> JsonDict:
        return {"id": self.id, "t": self.t, "text": self.text, "created_at": self.created_at}


def notes_from_metadata(metadata: Mapping[str, Any]) -> list[ReviewNote]:
    raw = metadata.get(NOTES_KEY)
    notes = [ReviewNote.from_json(item) for item in raw] if isinstance(raw, list) else []
    return sorted((n for n in notes if n is not None), key=lambda n: (n.t, n.created_at))


def merge_notes(
    remote: Sequence[ReviewNote],
    local: Sequence[ReviewNote],
    changed: Collection[str],
    deleted: Collection[str],
) -> list[ReviewNote]:
    """The server's notes, plus the local notes added or edited (``changed``), minus ``deleted``.

    Notes only the server has (added elsewhere) are kept; a local copy that was not changed
    here never overwrites the server's version.
    """
    merged = {note.id: note for note in remote}
    for note in local:
        if note.id in changed:
            merged[note.id] = note
    for note_id in deleted:
        merged.pop(note_id, None)
    return sorted(merged.values(), key=lambda n: (n.t, n.created_at))


def notes_markdown(title: str, notes: Sequence[ReviewNote]) -> str:
    lines = [f"# Review notes: {title}", ""]
    lines += [f"- **{format_clock(n.t)}** {n.text.strip() or '(no text)'}" for n in notes]
    return "\n".join(lines) + "\n"


FetchMetadata = Callable[[], Awaitable[Mapping[str, Any]]]
StoreMetadata = Callable[[JsonDict], Awaitable[None]]


class NoteRole(enum.IntEnum):
    ID = Qt.ItemDataRole.UserRole + 1
    TIME = Qt.ItemDataRole.UserRole + 2
    TEXT = Qt.ItemDataRole.UserRole + 3


class ReviewNotesModel(QAbstractListModel):
    """One episode's notes, with the local changes not yet saved to the server."""

    pendingChanged = Signal(bool)
    notesEdited = Signal()  # the user added, edited or removed a note (not a load or a save)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._notes: list[ReviewNote] = []
        self._changed: set[str] = set()
        self._deleted: set[str] = set()

    # ------------------------------------------------------------------ content
    @property
    def notes(self) -> list[ReviewNote]:
        return list(self._notes)

    @property
    def pending(self) -> bool:
        return bool(self._changed or self._deleted)

    def load(self, metadata: Mapping[str, Any]) -> None:
        """Show the server's notes, keeping local changes that are not saved yet."""
        self._replace(merge_notes(notes_from_metadata(metadata), self._notes, self._changed, self._deleted))

    def add(self, t: float, text: str = "") -> ReviewNote:
        note = ReviewNote.new(t, text)
        self._changed.add(note.id)
        self._replace([*self._notes, note])
        self.notesEdited.emit()
        return note

    def edit(self, note_id: str, text: str) -> None:
        self._update(note_id, lambda n: replace(n, text=text))

    def retime(self, note_id: str, t: float) -> None:
        self._update(note_id, lambda n: replace(n, t=round(max(0.0, t), 3)))

    def remove(self, note_id: str) -> None:
        if not any(n.id == note_id for n in self._notes):
            return
        self._changed.discard(note_id)
        self._deleted.add(note_id)
        self._replace([n for n in self._notes if n.id != note_id])
        self.notesEdited.emit()

    def row_of(self, note_id: str) -> int:
        return next((i for i, n in enumerate(self._notes) if n.id == note_id), -1)

    def _update(self, note_id: str, change: Callable[[ReviewNote], ReviewNote]) -> None:
        row = self.row_of(note_id)
        if row < 0:
            return
        self._changed.add(note_id)
        self._replace([change(n) if n.id == note_id else n for n in self._notes])
        self.notesEdited.emit()

    def _replace(self, notes: list[ReviewNote]) -> None:
        was_pending = self.pending
        notes = sorted(notes, key=lambda n: (n.t, n.created_at))
        if [n.id for n in notes] == [n.id for n in self._notes]:
            self._notes = notes  # same rows in the same order: an open editor survives
            if notes:
                self.dataChanged.emit(self.index(0), self.index(len(notes) - 1))
        else:
            self.beginResetModel()
            self._notes = notes
            self.endResetModel()
        if was_pending != self.pending:
            self.pendingChanged.emit(self.pending)

    # ------------------------------------------------------------------ saving
    async def save(self, fetch: FetchMetadata, store: StoreMetadata) -> None:
        """Read the row's metadata now, merge these changes in by note id, write it back.

        ``fetch`` returns ``generated_podcasts.metadata``; ``store`` writes a whole metadata
        object (other keys are passed through unchanged). Edits made while this runs stay pending.
        """
        changed, deleted = set(self._changed), set(self._deleted)
        metadata = dict(await fetch())
        merged = merge_notes(notes_from_metadata(metadata), self._notes, changed, deleted)
        metadata[NOTES_KEY] = [n.to_json() for n in merged]
        await store(metadata)
        was_pending = self.pending
        self._changed -= {i for i in changed if self._current(i) == self._saved(i, merged)}
        self._deleted -= deleted
        self._replace(merge_notes(merged, self._notes, self._changed, self._deleted))
        if was_pending and not self.pending:
            self.pendingChanged.emit(False)

    def _current(self, note_id: str) -> ReviewNote | None:
        return next((n for n in self._notes if n.id == note_id), None)

    @staticmethod
    def _saved(note_id: str, merged: Sequence[ReviewNote]) -> ReviewNote | None:
        return next((n for n in merged if n.id == note_id), None)

    # ------------------------------------------------------------------ Qt model
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._notes)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._notes):
            return None
        note = self._notes[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{format_clock(note.t)}  {note.text or self.tr('(empty note)')}"
        if role == Qt.ItemDataRole.EditRole:
            return note.text
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tr("Click to jump there; double-click or F2 to edit; Delete to remove")
        values: dict[int, object] = {NoteRole.ID: note.id, NoteRole.TIME: note.t, NoteRole.TEXT: note.text}
        return values.get(role)

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsEditable if index.isValid() else base

    def setData(self, index: Index, value: object, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or not 0 <= index.row() < len(self._notes):
            return False
        self.edit(self._notes[index.row()].id, str(value))
        return True

    def roleNames(self) -> dict[int, QByteArray]:
        names = super().roleNames()
        names.update({int(r): QByteArray(r.name.lower().encode()) for r in NoteRole})
        return names


class ReviewNotesPane(QWidget):
    """The notes list with Add (N), Delete and Export; emits intents, never touches the network."""

    seekRequested = Signal(int)  # ms
    saveRequested = Signal()  # notes changed: the controller saves (or queues them offline)

    def __init__(self, position_ms: Callable[[], int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._position_ms = position_ms
        self.title = ""
        self.model = ReviewNotesModel(self)
        self.view = QListView(self)
        self.view.setModel(self.model)
        self.view.setAccessibleName(self.tr("Review notes"))
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.view.clicked.connect(self._jump)
        self.add_button = QPushButton(self.tr("Add note (N)"), self)
        self.add_button.setAccessibleName(self.tr("Add a review note at the current time"))
        self.add_button.clicked.connect(self.add_note)
        self.delete_button = QPushButton(self.tr("Delete"), self)
        self.delete_button.setAccessibleName(self.tr("Delete the selected note"))
        self.delete_button.clicked.connect(self.delete_selected)
        self.export_button = QPushButton(self.tr("Export…"), self)
        self.export_button.setAccessibleName(self.tr("Export the notes as Markdown"))
        self.export_button.clicked.connect(self._export_dialog)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.delete_button, self.export_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        QShortcut(QKeySequence(Qt.Key.Key_Delete), self.view, self.delete_selected,
                  context=Qt.ShortcutContext.WidgetShortcut)
        self.model.notesEdited.connect(self.saveRequested)
        # N drops a note from anywhere in the window while listening (text fields keep their N).
        self.add_action = QAction(self.tr("Add review note"), self)
        self.add_action.setShortcut(QKeySequence("N"))
        self.add_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.add_action.triggered.connect(self.add_note)
        self.addAction(self.add_action)

    def add_note(self) -> ReviewNote:
        """Drop a note at the current position and open it for typing."""
        note = self.model.add(self._position_ms() / 1000)
        index = self.model.index(self.model.row_of(note.id))
        self.view.setCurrentIndex(index)
        self.view.edit(index)
        return note

    def delete_selected(self) -> None:
        index = self.view.currentIndex()
        note_id = index.data(NoteRole.ID) if index.isValid() else None
        if isinstance(note_id, str):
            self.model.remove(note_id)

    def export_markdown(self, path: Path) -> None:
        path.write_text(notes_markdown(self.title, self.model.notes), encoding="utf-8")

    def _export_dialog(self) -> None:
        name, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Export review notes"), f"{self.title or 'review-notes'}.md", self.tr("Markdown (*.md)")
        )
        if name:
            self.export_markdown(Path(name))

    def _jump(self, index: QModelIndex) -> None:
        t = index.data(NoteRole.TIME)
        if isinstance(t, float):
            self.seekRequested.emit(round(t * 1000))
