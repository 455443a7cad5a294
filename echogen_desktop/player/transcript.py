"""The transcript pane: the script's segments, the one being spoken highlighted and kept in view.

Segments without timings (a script rendered by a backend that did not record them) get times
estimated from their share of the text, spread over the real audio duration, and are marked so.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QVBoxLayout,
    QWidget,
)

from echogen_desktop.services.records import Segment

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class TimedSegment:
    speaker: str
    text: str
    start: float  # seconds
    end: float
    estimated: bool


def place_segments(segments: Sequence[Segment], duration: float) -> list[TimedSegment]:
    """Give every segment a start and end; untimed runs share their gap by text length.

    A run of untimed segments fills the time between the previous timed segment's end (or 0)
    and the next timed segment's start (or ``duration``).
    """
    placed: list[TimedSegment] = []
    i = 0
    while i < len(segments):
        seg = segments[i]
        if seg.start_time is not None:
            end = seg.end_time if seg.end_time is not None else _next_start(segments, i + 1, duration)
            placed.append(TimedSegment(seg.speaker, seg.content, seg.start_time, max(seg.start_time, end), False))
            i += 1
            continue
        j = i
        while j < len(segments) and segments[j].start_time is None:
            j += 1
        gap_start = placed[-1].end if placed else 0.0
        gap_end = max(gap_start, _next_start(segments, j, duration))
        weights = [max(1, len(s.content.strip())) for s in segments[i:j]]
        total, cursor = sum(weights), gap_start
        for seg_untimed, weight in zip(segments[i:j], weights, strict=True):
            length = (gap_end - gap_start) * weight / total
            placed.append(TimedSegment(seg_untimed.speaker, seg_untimed.content, cursor, cursor + length, True))
            cursor += length
        i = j
    return placed


def _next_start(segments: Sequence[Segment], start: int, duration: float) -> float:
    for seg in segments[start:]:
        if seg.start_time is not None:
            return seg.start_time
    return duration


def segment_at(placed: Sequence[TimedSegment], seconds: float) -> int:
    """The row being spoken at ``seconds``, or -1 before the first segment."""
    starts = [s.start for s in placed]
    row = bisect.bisect_right(starts, seconds) - 1
    return row if row >= 0 else -1


def format_clock(seconds: float) -> str:
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class TranscriptRole(enum.IntEnum):
    START = Qt.ItemDataRole.UserRole + 1
    END = Qt.ItemDataRole.UserRole + 2
    SPEAKER = Qt.ItemDataRole.UserRole + 3
    TEXT = Qt.ItemDataRole.UserRole + 4
    ESTIMATED = Qt.ItemDataRole.UserRole + 5
    CURRENT = Qt.ItemDataRole.UserRole + 6


class TranscriptModel(QAbstractListModel):
    currentRowChanged = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._segments: list[Segment] = []
        self._placed: list[TimedSegment] = []
        self._duration = 0.0
        self._current = -1

    def set_segments(self, segments: Sequence[Segment], duration: float) -> None:
        self.beginResetModel()
        self._segments = list(segments)
        self._duration = duration
        self._placed = place_segments(self._segments, duration)
        self._current = -1
        self.endResetModel()

    def set_duration(self, duration: float) -> None:
        """The real duration arrived from the player: re-spread the estimated segments."""
        if duration <= 0 or abs(duration - self._duration) < 0.01:
            return
        self._duration = duration
        self._placed = place_segments(self._segments, duration)
        if self._placed:
            self.dataChanged.emit(self.index(0), self.index(len(self._placed) - 1))

    @property
    def segments(self) -> list[TimedSegment]:
        return list(self._placed)

    @property
    def current_row(self) -> int:
        return self._current

    @property
    def has_estimates(self) -> bool:
        return any(s.estimated for s in self._placed)

    def set_position(self, seconds: float) -> None:
        row = segment_at(self._placed, seconds)
        if row == self._current:
            return
        previous, self._current = self._current, row
        for changed in (previous, row):
            if changed >= 0:
                self.dataChanged.emit(self.index(changed), self.index(changed))
        self.currentRowChanged.emit(row)

    def find(self, text: str, after: int = -1) -> int:
        """The next row (wrapping) whose speaker or text contains ``text``, or -1."""
        needle = text.casefold().strip()
        if not needle or not self._placed:
            return -1
        count = len(self._placed)
        for step in range(1, count + 1):
            row = (after + step) % count
            seg = self._placed[row]
            if needle in seg.text.casefold() or needle in seg.speaker.casefold():
                return row
        return -1

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._placed)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._placed):
            return None
        seg = self._placed[index.row()]
        current = index.row() == self._current
        if role == Qt.ItemDataRole.DisplayRole:
            mark = "≈" if seg.estimated else ""
            speaker = f"{seg.speaker}: " if seg.speaker else ""
            return f"{mark}{format_clock(seg.start)}  {speaker}{seg.text}"
        if role == Qt.ItemDataRole.ToolTipRole:
            if seg.estimated:
                return self.tr("Estimated time (this segment has no recorded timing)")
            return f"{format_clock(seg.start)} – {format_clock(seg.end)}"
        if role == Qt.ItemDataRole.FontRole and current:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.BackgroundRole and current:
            return QBrush(QColor(255, 226, 140))
        if role == Qt.ItemDataRole.ForegroundRole and seg.estimated and not current:
            return QBrush(QColor(96, 96, 96))
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{seg.speaker} {format_clock(seg.start)} {seg.text}"
        values: dict[int, object] = {
            TranscriptRole.START: seg.start, TranscriptRole.END: seg.end, TranscriptRole.SPEAKER: seg.speaker,
            TranscriptRole.TEXT: seg.text, TranscriptRole.ESTIMATED: seg.estimated,
            TranscriptRole.CURRENT: current,
        }
        return values.get(role)

    def roleNames(self) -> dict[int, QByteArray]:
        names = super().roleNames()
        names.update({int(r): QByteArray(r.name.lower().encode()) for r in TranscriptRole})
        return names


class TranscriptPane(QWidget):
    """Segments list + search box. Emits ``seekRequested(ms)`` when a segment is clicked."""

    seekRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = TranscriptModel(self)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(self.tr("Search transcript"))
        self.search.setAccessibleName(self.tr("Search transcript"))
        self.search.setClearButtonEnabled(True)
        self.search.returnPressed.connect(self.find_next)
        self.search.textEdited.connect(lambda _text: self.find_next(from_row=-1))
        self.matches = QLabel(self)
        self.estimated_note = QLabel(self.tr("≈ estimated times: these segments have no recorded timing"), self)
        self.estimated_note.setWordWrap(True)
        self.estimated_note.setStyleSheet("color: palette(mid);")
        self.view = QListView(self)
        self.view.setModel(self.model)
        self.view.setWordWrap(True)
        self.view.setUniformItemSizes(False)
        self.view.setSpacing(2)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAccessibleName(self.tr("Transcript"))
        self.view.clicked.connect(self._on_clicked)
        self.view.activated.connect(self._on_clicked)
        self.model.currentRowChanged.connect(self._follow)
        self.model.modelReset.connect(self._update_note)
        self.follow = True  # keep the spoken segment in view
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.matches)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.estimated_note)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self, self.search.setFocus,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._update_note()

    def set_segments(self, segments: Sequence[Segment], duration: float) -> None:
        self.model.set_segments(segments, duration)

    def set_position_ms(self, position_ms: int) -> None:
        self.model.set_position(position_ms / 1000)

    def set_duration_ms(self, duration_ms: int) -> None:
        self.model.set_duration(duration_ms / 1000)
        self._update_note()

    def find_next(self, from_row: int | None = None) -> int:
        """Select and show the next match of the search text; returns its row or -1."""
        start = self.view.currentIndex().row() if from_row is None else from_row
        row = self.model.find(self.search.text(), start)
        if row < 0:
            self.matches.setText(self.tr("No match") if self.search.text().strip() else "")
            return -1
        self.matches.setText("")
        index = self.model.index(row)
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        return row

    def _on_clicked(self, index: QModelIndex) -> None:
        start = index.data(TranscriptRole.START)
        if isinstance(start, float):
            self.seekRequested.emit(round(start * 1000))

    def _follow(self, row: int) -> None:
        if self.follow and row >= 0 and not self.search.hasFocus():
            self.view.scrollTo(self.model.index(row), QAbstractItemView.ScrollHint.PositionAtCenter)

    def _update_note(self) -> None:
        self.estimated_note.setVisible(self.model.has_estimates)
