"""What happens when the user plays, downloads or reviews an episode in the main window.

Online: the player streams from a signed URL (``podcast-audio``), or from the downloaded file when
there is one; the transcript comes from the script row (or the downloaded copy); review notes are
merged by id into ``generated_podcasts.metadata`` through ``Backend.update_podcast_metadata``.
Offline (no backend, or the server stopped answering): episodes play from the offline library and
notes and positions go to its outbox, which ``OutboxSync`` sends after the next sign-in.
Play positions go through that outbox online too (queued first, then sent to
``metadata.playback`` at once), so a pause on one device is where another device resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal

from echogen_desktop.controllers.coalesce import Coalescer
from echogen_desktop.offline.downloads import DownloadManager
from echogen_desktop.offline.library import OfflineLibrary
from echogen_desktop.offline.library_db import EpisodeRecord, LibraryDb, podcast_to_row
from echogen_desktop.offline.offline_mode import needs_connection, open_offline_episode
from echogen_desktop.offline.sync import OutboxSync, SyncReport
from echogen_desktop.player.facade import Episode, Player, SourceProvider
from echogen_desktop.player.review_notes import NOTES_KEY, ReviewNotesModel, merge_notes, notes_from_metadata
from echogen_desktop.services.backend import AUDIO_BUCKET, Backend
from echogen_desktop.services.errors import ErrorKind, ServiceError, from_exception
from echogen_desktop.services.records import Podcast, Script, Segment
from echogen_desktop.tasks import TaskRunner
from echogen_desktop.views.downloads_view import bind_downloads
from echogen_desktop.views.player_dock import DownloadsDock, ReviewDock

log = logging.getLogger(__name__)
JsonDict = dict[str, Any]


def signing_provider(backend: Backend) -> SourceProvider:
    async def sign(path: str, expires_in: int) -> str:
        return await backend.signed_url(AUDIO_BUCKET, path, expires_in)

    return sign


def notes_change(fetched: Mapping[str, Any], wanted: Mapping[str, Any]) -> Callable[[JsonDict], JsonDict]:
    """The edit between two metadata snapshots, as a change the server's *current* row can take:
    notes added/edited and removed here go in, notes added elsewhere meanwhile stay."""
    before = {n.id: n for n in notes_from_metadata(fetched)}
    after = notes_from_metadata(wanted)
    changed = {n.id for n in after if before.get(n.id) != n}
    deleted = before.keys() - {n.id for n in after}

    def change(current: JsonDict) -> JsonDict:
        merged = merge_notes(notes_from_metadata(current), after, changed, deleted)
        return {**current, NOTES_KEY: [n.to_json() for n in merged]}

    return change


class PlaybackController(QObject):
    failed = Signal(str)  # user-facing
    notice = Signal(str)
    downloadsChanged = Signal()  # the set of downloaded episodes changed
    segmentsLoaded = Signal(int)  # rows in the transcript of the episode now playing
    notesSaved = Signal(str)  # podcast id: on the server, or queued in the outbox when offline
    episodeShown = Signal(str)  # podcast id: an episode was opened (the window shows the player)

    def __init__(self, player: Player, review: ReviewDock, downloads: DownloadsDock,
                 open_db: Callable[[], LibraryDb], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.player = player
        self.review = review
        self.downloads = downloads
        self._open_db = open_db
        self._db: LibraryDb | None = None
        self._backend: Backend | None = None
        self._runner: TaskRunner | None = None
        self._library: OfflineLibrary | None = None
        self._podcast_id: str | None = None  # the episode in the transcript and notes panes
        self._tasks: set[asyncio.Task[Any]] = set()
        self.active_downloads: set[str] = set()
        self._downloads_bound = False
        self._closing = False
        self._one_at_a_time = Coalescer(self._spawn)  # notes saves, and position sends per episode
        review.transcript.seekRequested.connect(player.seek)
        review.notes.seekRequested.connect(player.seek)
        review.notes.saveRequested.connect(self.save_notes)
        player.positionChanged.connect(review.transcript.set_position_ms)
        player.durationChanged.connect(review.transcript.set_duration_ms)
        player.playingChanged.connect(self._on_playing)
        player.playedChanged.connect(self._on_played)
        player.errorOccurred.connect(self.failed)
        self._enable_notes(False)

    # ------------------------------------------------------------------ state
    @property
    def db(self) -> LibraryDb:
        if self._db is None:
            self._db = self._open_db()
        return self._db

    @property
    def online(self) -> bool:
        return self._backend is not None

    @property
    def podcast_id(self) -> str | None:
        return self._podcast_id

    @property
    def library(self) -> OfflineLibrary:
        if self._library is None:  # offline: the manager is only there to forget partial files
            self._library = OfflineLibrary(self.db, DownloadManager())
        return self._library

    def downloaded_ids(self) -> set[str]:
        return self.db.downloaded_ids()

    # ------------------------------------------------------------------ connection
    def attach(self, backend: Backend, runner: TaskRunner) -> None:
        self._retire_library()
        self._backend, self._runner = backend, runner
        manager = DownloadManager()
        self._library = OfflineLibrary(self.db, manager)
        view = self.downloads.view
        if self._downloads_bound:
            for signal in (view.cancelRequested, view.resumeRequested, view.clearRequested):
                with contextlib.suppress(RuntimeError, TypeError):
                    signal.disconnect()  # the previous connection's manager
        self._downloads_bound = True
        bind_downloads(view, manager, on_clear=self._library.forget_download)

    def detach(self) -> None:
        self._backend = self._runner = None
        self._retire_library()

    def _retire_library(self) -> None:
        """Downloads belong to one connection: stop them (their parts stay for Resume)."""
        if self._library is not None:
            self._library.manager.shutdown()
            self._library = None

    def signed_in(self) -> None:
        """Continue downloads a restart interrupted, and send what was reviewed offline."""
        backend = self._backend
        if backend is None:
            return
        for podcast_id, _title in self.db.pending_downloads():
            self._watch_download(podcast_id, self.library.start_episode(backend, podcast_id, _title))
        if self.db.outbox_count():
            self._spawn(self._sync(backend))

    async def _sync(self, backend: Backend) -> SyncReport:
        report = await OutboxSync(self.db, backend).run()
        if report.synced:
            self.notice.emit(self.tr("Review notes made offline were sent to the server."))
        for message in report.failed.values():
            self.failed.emit(message)
            break
        return report

    # ------------------------------------------------------------------ playing
    def play_podcast(self, podcast: Podcast) -> None:
        """Play a listed episode: from its download when there is one, else streamed."""
        record = self.db.episode(podcast.id)
        local = record.audio_file if record is not None and record.audio_file.is_file() else None
        episode = Episode(id=podcast.id, title=podcast.title, audio_path=podcast.audio_path,
                          duration_seconds=podcast.duration_seconds, local_file=local)
        backend = self._backend
        if local is None and backend is None:
            self.failed.emit(needs_connection(self.tr("Streaming an episode that is not downloaded")))
            return
        self._show_episode(podcast.id, podcast.title, podcast.metadata, podcast.duration_seconds)
        self.player.open(episode, signing_provider(backend) if backend is not None else None,
                         resume_ms=self._remote_resume_ms(podcast))
        if record is not None and record.script is not None:
            self._set_segments(podcast.id, record.script.segments)
        elif backend is not None and self._runner is not None:
            def loaded(script: Script, podcast_id: str = podcast.id) -> None:
                self._set_segments(podcast_id, script.segments)

            async def script(script_id: str = podcast.script_id) -> Script:
                return await backend.get_script(script_id)

            self._runner.run(script(), on_done=loaded,
                             on_error=lambda error: self.failed.emit(error.message), owner=self)

    def play_downloaded(self, podcast_id: str) -> None:
        """Play from the offline library (disk only: transcript, notes and audio)."""
        offline = open_offline_episode(self.db, podcast_id)
        if offline is None or not offline.available:
            self.failed.emit(self.tr("This download is missing from the disk. Download it again when online."))
            return
        podcast = offline.record.podcast
        self._show_episode(podcast_id, podcast.title, self.db.local_metadata(podcast_id), podcast.duration_seconds)
        self._set_segments(podcast_id, offline.segments)
        self.player.open(offline.player_episode(), None)

    def _show_episode(self, podcast_id: str, title: str, metadata: Mapping[str, Any], duration: float | None) -> None:
        self._podcast_id = podcast_id
        model = ReviewNotesModel(self.review.notes)
        model.load(metadata)
        self.review.use_notes_model(model)
        self.review.notes.title = title
        self.review.transcript.set_segments([], float(duration or 0))
        self._enable_notes(True)
        self.episodeShown.emit(podcast_id)

    def _set_segments(self, podcast_id: str, segments: Sequence[Segment]) -> None:
        if podcast_id != self._podcast_id:
            return  # another episode was opened meanwhile
        duration = self.player.duration / 1000 or 0.0
        self.review.transcript.set_segments(segments, duration)
        self.review.transcript.set_position_ms(self.player.position)
        self.segmentsLoaded.emit(len(segments))

    def _enable_notes(self, enabled: bool) -> None:
        pane = self.review.notes
        for widget in (pane.add_button, pane.delete_button, pane.export_button):
            widget.setEnabled(enabled)
        pane.add_action.setEnabled(enabled)

    # ------------------------------------------------------------------ review notes
    def save_notes(self) -> None:
        """Notes changed: save them (coalesced: one save at a time, then one more if needed)."""
        if self._podcast_id is not None:
            self._one_at_a_time.request("notes", self._save_shown_notes)

    async def _save_shown_notes(self) -> None:
        """The notes pane's episode as it is when this save starts (maybe another one by now)."""
        if self._podcast_id is not None:
            await self._save(self._podcast_id, self.review.notes.model)

    async def _save(self, podcast_id: str, model: ReviewNotesModel) -> None:
        try:
            backend = self._backend
            queued = backend is None
            if backend is not None:
                try:
                    await self._save_online(backend, podcast_id, model)
                except ServiceError as exc:
                    if exc.kind is not ErrorKind.UNREACHABLE:
                        raise
                    queued = True  # the server went away: keep them in the outbox
            if queued:
                await self._save_offline(podcast_id, model)
            self.notesSaved.emit(podcast_id)
        except Exception as exc:
            self.failed.emit(from_exception(exc).message)

    async def _save_online(self, backend: Backend, podcast_id: str, model: ReviewNotesModel) -> None:
        fetched: JsonDict = {}

        async def fetch() -> Mapping[str, Any]:
            fetched.clear()
            fetched.update((await backend.get_podcast(podcast_id)).metadata)
            return fetched

        async def store(metadata: JsonDict) -> None:
            podcast = await backend.update_podcast_metadata(podcast_id, notes_change(fetched, metadata))
            if self.db.episode(podcast_id) is not None:  # keep the downloaded copy's notes current
                self.db.confirm_synced(podcast_id, 0, podcast_to_row(podcast))

        await model.save(fetch, store)

    async def _save_offline(self, podcast_id: str, model: ReviewNotesModel) -> None:
        db = self.db

        async def fetch() -> Mapping[str, Any]:
            return db.local_metadata(podcast_id)

        async def store(metadata: JsonDict) -> None:
            db.store_metadata_notes(podcast_id, metadata)

        await model.save(fetch, store)

    # ------------------------------------------------------------------ positions
    def _on_playing(self, playing: bool) -> None:
        episode = self.player.episode
        if not playing and episode is not None:
            self._record_position(episode.id, self.player.position / 1000, played=False)

    def _on_played(self, podcast_id: str, played: bool) -> None:
        self._record_position(podcast_id, 0.0, played)

    def _record_position(self, podcast_id: str, seconds: float, played: bool) -> None:
        """Queue the position locally first (nothing lost), then send it when online."""
        if not self.online and self.db.episode(podcast_id) is None:
            return  # offline, only downloaded episodes can play (and theirs are queued)
        self.db.set_position(podcast_id, seconds, played)
        if self._backend is not None and not self._closing:
            self._push_position(podcast_id)

    def _push_position(self, podcast_id: str) -> None:
        """One send per episode at a time; a position recorded meanwhile goes in one more send."""
        async def send() -> None:
            backend = self._backend
            if backend is None:
                return
            try:
                await OutboxSync(self.db, backend).sync_podcast(podcast_id)
            except Exception as exc:  # it stays queued and goes after the next sign-in; never worth a dialog
                log.info("play position for %s stays queued: %s", podcast_id, getattr(exc, "message", exc))

        self._one_at_a_time.request(("position", podcast_id), send)

    def _remote_resume_ms(self, podcast: Podcast) -> int | None:
        """Where another device stopped, when that is later than this device's own pause."""
        remote = podcast.playback
        if remote is None or not remote.newer_than(self.db.position(podcast.id)):
            return None
        return 0 if remote.played else int(remote.position * 1000)

    # ------------------------------------------------------------------ downloads
    def download(self, podcast: Podcast) -> asyncio.Task[EpisodeRecord] | None:
        backend = self._backend
        if backend is None:
            self.failed.emit(needs_connection(self.tr("Downloading")))
            return None
        if podcast.id in self.active_downloads:
            return None
        self.downloads.show()
        self.downloads.raise_()
        task = self.library.start_episode(backend, podcast.id, podcast.title)
        self._watch_download(podcast.id, task)
        return task

    def _watch_download(self, podcast_id: str, task: asyncio.Task[EpisodeRecord]) -> None:
        self.active_downloads.add(podcast_id)
        self.downloadsChanged.emit()

        def finished(done: asyncio.Task[EpisodeRecord]) -> None:
            self.active_downloads.discard(podcast_id)
            if not done.cancelled() and done.exception() is not None:
                exc = done.exception()
                log.info("download of %s failed: %s", podcast_id, exc)
                self.failed.emit(self.tr("The download did not finish: %1").replace(
                    "%1", getattr(exc, "message", str(exc))))
            self.downloadsChanged.emit()

        task.add_done_callback(finished)

    def remove_download(self, podcast_id: str) -> None:
        episode = self.player.episode
        if episode is not None and episode.id == podcast_id and episode.is_local:
            self.player.stop()  # its file is about to go
        self.library.remove(podcast_id)
        self.downloads.view.remove_row(podcast_id)
        self.downloadsChanged.emit()

    # ------------------------------------------------------------------ life
    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def busy(self) -> bool:
        return bool(self._tasks) or bool(self.active_downloads)

    def shutdown(self) -> None:
        self._closing = True  # the last position is queued, and sent after the next sign-in
        self.player.shutdown()
        self._retire_library()
        for task in list(self._tasks):
            task.cancel()
