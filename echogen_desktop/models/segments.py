"""An editable table of a script's segments, for the script editor (speaker, text, start, end).

Edits stay local until the user saves; ``validate_segments`` says what would be refused and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from echogen_desktop.colors import speaker_color
from echogen_desktop.services.records import Segment

Index = QModelIndex | QPersistentModelIndex
SPEAKER, TEXT, START, END = range(4)


def format_seconds(value: float | None) -> str:
    if value is None:
        return ""
    minutes, seconds = divmod(value, 60)
    return f"{int(minutes)}:{seconds:05.2f}" if minutes else f"{seconds:.2f}"


def parse_seconds(text: str) -> float | None:
    """Accept ``12.5``, ``1:02.5`` or empty (unknown); raise ValueError otherwise."""
    text = text.strip().replace(",", ".")
    if not text:
        return None
    if ":" in text:
        minutes, seconds = text.split(":", 1)
        value = int(minutes) * 60 + float(seconds)
    else:
        value = float(text)
    if value < 0 or value != value:  # negative or NaN
        raise ValueError(text)
    return value


def validate_segments(segments: Sequence[Segment]) -> str | None:
    """The first reason these segments cannot be saved, as a sentence for the user; None if valid."""
    for number, segment in enumerate(segments, start=1):
        if not segment.speaker.strip():
            return f"Segment {number} has no speaker. Every segment needs one."
        start, end = segment.start_time, segment.end_time
        if start is not None and end is not None and end < start:
            return (f"Segment {number} ends ({format_seconds(end)} s) before it starts "
                    f"({format_seconds(start)} s).")
    return None


class SegmentsModel(QAbstractTableModel):
    dirtyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Segment] = []
        self._dirty = False

    # ------------------------------------------------------------- content
    @property
    def segments(self) -> tuple[Segment, ...]:
        return tuple(self._rows)

    @property
    def dirty(self) -> bool:
        return self._dirty

    def set_segments(self, segments: Sequence[Segment]) -> None:
        self.beginResetModel()
        self._rows = list(segments)
        self.endResetModel()
        self._set_dirty(False)

    def total_duration(self) -> float | None:
        ends = [s.end_time for s in self._rows if s.end_time is not None]
        return max(ends) if ends else None

    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self._dirty:
            self._dirty = dirty
            self.dirtyChanged.emit(dirty)

    # ------------------------------------------------------------- editing
    def add_segment(self, after: int | None = None) -> int:
        """Insert a segment below ``after`` (or at the end), continuing the previous speaker's timing."""
        row = len(self._rows) if after is None else min(after + 1, len(self._rows))
        previous = self._rows[row - 1] if row > 0 else None
        start = previous.end_time if previous is not None else None
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.insert(row, Segment(speaker=previous.speaker if previous else "", content="",
                                       start_time=start, end_time=None))
        self.endInsertRows()
        self._set_dirty(True)
        return row

    def remove_segment(self, row: int) -> None:
        if 0 <= row < len(self._rows):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()
            self._set_dirty(True)

    def move_segment(self, row: int, delta: int) -> int:
        """Move one segment up (-1) or down (+1); returns its new row."""
        target = row + delta
        if not (0 <= row < len(self._rows) and 0 <= target < len(self._rows)) or delta == 0:
            return row
        # beginMoveRows wants the destination *before* which the row lands.
        destination = target + 1 if delta > 0 else target
        self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), destination)
        self._rows.insert(target, self._rows.pop(row))
        self.endMoveRows()
        self._set_dirty(True)
        return target

    # ------------------------------------------------------- Qt model API
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 4

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1)
        return (self.tr("Speaker"), self.tr("Text"), self.tr("Start"), self.tr("End"))[section] if (
            0 <= section < 4) else None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        segment = self._rows[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return (segment.speaker, segment.content,
                    format_seconds(segment.start_time), format_seconds(segment.end_time))[column]
        if role == Qt.ItemDataRole.BackgroundRole and segment.speaker.strip():
            return speaker_color(segment.speaker)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (START, END):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column == TEXT:
            return segment.content
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        row, column = index.row(), index.column()
        segment = self._rows[row]
        text = "" if value is None else str(value)
        try:
            if column == SPEAKER:
                updated = Segment(text.strip(), segment.content, segment.start_time, segment.end_time)
            elif column == TEXT:
                updated = Segment(segment.speaker, text, segment.start_time, segment.end_time)
            elif column == START:
                updated = Segment(segment.speaker, segment.content, parse_seconds(text), segment.end_time)
            else:
                updated = Segment(segment.speaker, segment.content, segment.start_time, parse_seconds(text))
        except ValueError:
            return False
        if updated == segment:
            return True
        self._rows[row] = updated
        # A new speaker changes the row colour, so repaint the whole row.
        self.dataChanged.emit(self.index(row, 0), self.index(row, 3))
        self._set_dirty(True)
        return True
