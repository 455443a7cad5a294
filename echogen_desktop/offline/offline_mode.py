"""Offline mode: when the server cannot be reached at start-up (or the network drops), the app opens
its offline library without signing in. Downloaded episodes play from disk with their transcripts
and review notes; everything else says it needs a connection.

Mounting (the app shell owns start-up and the main window):

    db = LibraryDb.open_default()
    if await probe_server(url, anon_key) is Reachability.UNREACHABLE:
        view = OfflineLibraryView(OfflineLibraryModel(db))        # instead of the sign-in flow
        view.playRequested.connect(lambda pid: player.open(open_offline_episode(db, pid).player_episode(), None))
        view.removeRequested.connect(library.remove)               # then view.model.reload()
        view.retryRequested.connect(<probe again; on success: sign in, OutboxSync(db, backend).run()>)

``OfflineEpisode`` gives the player what it needs: a local ``Episode`` (no URL provider: the facade
plays the file), the script's segments for the transcript pane, and ``db.local_metadata`` /
``db.store_metadata_notes`` as the ``fetch``/``store`` pair of ``ReviewNotesModel.save`` offline.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
    SignalInstance,
)
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from echogen_desktop.i18n import translate
from echogen_desktop.offline.library_db import EpisodeRecord, LibraryDb
from echogen_desktop.offline.units import format_bytes
from echogen_desktop.player.facade import Episode
from echogen_desktop.player.review_notes import ReviewNote
from echogen_desktop.player.transcript import format_clock
from echogen_desktop.services.backend import Backend
from echogen_desktop.services.errors import ErrorKind, ServiceError
from echogen_desktop.services.records import Playback, Segment

Index = QModelIndex | QPersistentModelIndex


def needs_connection(action: str = "") -> str:
    """The one sentence every online-only action shows while offline."""
    if action:
        text = translate("offline", "%1 needs a connection to the server. Downloaded episodes still play offline.")
        return text.replace("%1", action)
    return translate("offline", "This needs a connection to the server. Downloaded episodes still play offline.")


class Reachability(enum.Enum):
    ONLINE = "online"
    UNREACHABLE = "unreachable"  # open the offline library
    MISCONFIGURED = "misconfigured"  # the server answers but not like the project: show the connection page


async def probe_server(url: str, anon_key: str, *, timeout: float = 4.0) -> Reachability:
    """Decide at start-up whether to sign in or to open the offline library."""
    try:
        await Backend.check_connection(url, anon_key, timeout=timeout)
    except ServiceError as exc:
        return Reachability.UNREACHABLE if exc.kind is ErrorKind.UNREACHABLE else Reachability.MISCONFIGURED
    return Reachability.ONLINE


@dataclass(frozen=True)
class OfflineEpisode:
    """Everything the player needs for one downloaded episode, read from disk only."""

    record: EpisodeRecord
    notes: list[ReviewNote]
    playback: Playback | None

    @property
    def podcast_id(self) -> str:
        return self.record.podcast_id

    @property
    def segments(self) -> tuple[Segment, ...]:
        return self.record.script.segments if self.record.script else ()

    @property
    def available(self) -> bool:
        return self.record.audio_file.is_file()

    def player_episode(self) -> Episode:
        podcast = self.record.podcast
        return Episode(id=podcast.id, title=podcast.title, audio_path=podcast.audio_path,
                       duration_seconds=podcast.duration_seconds, local_file=self.record.audio_file)


def open_offline_episode(db: LibraryDb, podcast_id: str) -> OfflineEpisode | None:
    record = db.episode(podcast_id)
    if record is None:
        return None
    return OfflineEpisode(record, db.notes(podcast_id), db.position(podcast_id))


class LibraryRole(enum.IntEnum):
    PODCAST_ID = Qt.ItemDataRole.UserRole + 1
    TITLE = Qt.ItemDataRole.UserRole + 2
    DISK_BYTES = Qt.ItemDataRole.UserRole + 3
    DURATION = Qt.ItemDataRole.UserRole + 4
    NOTE_COUNT = Qt.ItemDataRole.UserRole + 5
    AVAILABLE = Qt.ItemDataRole.UserRole + 6


@dataclass(frozen=True)
class _Row:
    record: EpisodeRecord
    note_count: int
    available: bool


class OfflineLibraryModel(QAbstractListModel):
    """The downloaded episodes, newest first, from the library database."""

    usageChanged = Signal(int)  # bytes on disk

    def __init__(self, db: LibraryDb, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self._rows: list[_Row] = []
        self.reload()

    @property
    def db(self) -> LibraryDb:
        return self._db

    def reload(self) -> None:
        self.beginResetModel()
        self._rows = [_Row(r, len(self._db.notes(r.podcast_id)), r.audio_file.is_file()) for r in self._db.episodes()]
        self.endResetModel()
        self.usageChanged.emit(self.disk_bytes())

    def disk_bytes(self) -> int:
        return sum(row.record.disk_bytes for row in self._rows)

    def podcast_id(self, row: int) -> str | None:
        return self._rows[row].record.podcast_id if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        record = row.record
        if role == Qt.ItemDataRole.DisplayRole:
            parts = [format_bytes(record.disk_bytes)]
            if record.podcast.duration_seconds:
                parts.insert(0, format_clock(record.podcast.duration_seconds))
            if row.note_count:
                parts.append(self.tr("1 note") if row.note_count == 1
                             else self.tr("%1 notes").replace("%1", str(row.note_count)))
            if not row.available:
                parts.append(self.tr("file missing"))
            return f"{record.title}\n{'  ·  '.join(parts)}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tr("Downloaded %1. Plays from disk, also offline.").replace("%1", record.downloaded_at[:10])
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self.tr("%1, downloaded, %2 on disk").replace("%1", record.title).replace(
                "%2", format_bytes(record.disk_bytes))
        values: dict[int, object] = {
            LibraryRole.PODCAST_ID: record.podcast_id, LibraryRole.TITLE: record.title,
            LibraryRole.DISK_BYTES: record.disk_bytes, LibraryRole.DURATION: record.podcast.duration_seconds,
            LibraryRole.NOTE_COUNT: row.note_count, LibraryRole.AVAILABLE: row.available,
        }
        return values.get(role)

    def roleNames(self) -> dict[int, QByteArray]:
        names = super().roleNames()
        names.update({int(r): QByteArray(r.name.lower().encode()) for r in LibraryRole})
        return names


BANNER_STYLE = "background: #fef3c7; color: #78350f; border: 1px solid #f59e0b; border-radius: 4px;"


class OfflineLibraryView(QWidget):
    """Downloaded episodes with the disk space they use; Play, Remove; a "needs a connection" banner."""

    playRequested = Signal(str)  # podcast id
    removeRequested = Signal(str)  # podcast id
    retryRequested = Signal()  # try to reach the server again

    def __init__(self, model: OfflineLibraryModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("offlineLibrary")
        self.model = model
        self.banner = QFrame(self)
        self.banner.setObjectName("offlineBanner")
        self.banner.setStyleSheet(f"#offlineBanner {{ {BANNER_STYLE} }}")
        self.banner_text = QLabel(self.tr(
            "You are offline. Downloaded episodes play from disk with their transcripts and review notes; "
            "notes and positions are kept and sent when the connection is back. Everything else needs a "
            "connection."))
        self.banner_text.setWordWrap(True)
        self.banner_text.setAccessibleName(self.tr("Offline notice"))
        self.retry_button = QPushButton(self.tr("&Try again"))
        self.retry_button.setAccessibleName(self.tr("Try to reach the server again"))
        self.retry_button.clicked.connect(self.retryRequested)
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.addWidget(self.banner_text, 1)
        banner_layout.addWidget(self.retry_button)

        self.heading = QLabel(self.tr("Downloaded episodes"))
        font = self.heading.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.heading.setFont(font)
        self.usage = QLabel()
        self.usage.setObjectName("offlineUsage")
        self.usage.setAccessibleName(self.tr("Disk space used by downloads"))
        self.list = QListView(self)
        self.list.setObjectName("offlineEpisodes")
        self.list.setAccessibleName(self.tr("Downloaded episodes"))
        self.list.setModel(model)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setSpacing(3)
        self.list.setAlternatingRowColors(True)
        self.list.activated.connect(lambda index: self._emit_for(index.row(), self.playRequested))
        self.empty = QLabel(self.tr("No episodes are downloaded. Download episodes while online to listen "
                                    "and review them anywhere."))
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.play_button = QPushButton(self.tr("&Play"))
        self.play_button.setAccessibleName(self.tr("Play the selected episode from disk"))
        self.play_button.clicked.connect(lambda: self._emit_for(self._current_row(), self.playRequested))
        self.remove_button = QPushButton(self.tr("&Remove download"))
        self.remove_button.setAccessibleName(self.tr("Remove the selected download from this computer"))
        self.remove_button.clicked.connect(lambda: self._emit_for(self._current_row(), self.removeRequested))
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list, self.remove_button.click,
                  context=Qt.ShortcutContext.WidgetShortcut)
        header = QHBoxLayout()
        header.addWidget(self.heading)
        header.addStretch(1)
        header.addWidget(self.usage)
        buttons = QHBoxLayout()
        buttons.addWidget(self.play_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(header)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty, 1)
        layout.addLayout(buttons)
        model.modelReset.connect(self._refresh)
        self.list.selectionModel().currentChanged.connect(lambda *_: self._refresh_buttons())
        self._refresh()

    def set_offline(self, offline: bool) -> None:
        self.banner.setVisible(offline)

    @property
    def offline(self) -> bool:
        return not self.banner.isHidden()

    def _current_row(self) -> int:
        index = self.list.currentIndex()
        return index.row() if index.isValid() else -1

    def _emit_for(self, row: int, signal: SignalInstance) -> None:
        podcast_id = self.model.podcast_id(row)
        if podcast_id is not None:
            signal.emit(podcast_id)

    def _refresh(self) -> None:
        count = self.model.rowCount()
        episodes = self.tr("1 episode") if count == 1 else self.tr("%1 episodes").replace("%1", str(count))
        self.usage.setText(episodes + "  ·  " + self.tr("%1 on disk").replace(
            "%1", format_bytes(self.model.disk_bytes())))
        self.list.setVisible(count > 0)
        self.empty.setVisible(count == 0)
        if count and not self.list.currentIndex().isValid():
            self.list.setCurrentIndex(self.model.index(0))
        self._refresh_buttons()

    def _refresh_buttons(self) -> None:
        selected = self._current_row() >= 0
        self.play_button.setEnabled(selected)
        self.remove_button.setEnabled(selected)
