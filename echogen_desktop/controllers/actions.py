"""Everything a view may ask of the backend, as fire-and-forget calls with callbacks.

Views call these methods (their intents); each one runs a Backend coroutine through the
TaskRunner, hands the result to the caller's ``on_done`` and reports any failure once, as a
user-facing message on ``failed`` (the window shows it in the non-modal notification bar).
Signals announce changes other sections care about (a job was created, a row was deleted).
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QObject, QStandardPaths, Signal

from echogen_desktop.services.backend import AVATAR_BUCKET, COVER_BUCKET, Backend, PageQuery
from echogen_desktop.services.errors import ErrorKind, ServiceError
from echogen_desktop.services.records import (
    ContentItem,
    Job,
    Page,
    Podcast,
    Profile,
    Script,
    Segment,
    UsageEvent,
)
from echogen_desktop.services.tables import TableSpec
from echogen_desktop.tasks import TaskRunner

log = logging.getLogger(__name__)
T = TypeVar("T")
OnError = Callable[[ServiceError], None] | None

AUDIO_RENDER_MODEL = "gemini-2.5-flash-preview-tts"
AVATAR_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
AVATAR_MAX_BYTES = 10 * 1024 * 1024


def default_cache_dir() -> Path:
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
    return Path(location or Path.home() / ".cache" / "echogen-desktop")


class Actions(QObject):
    failed = Signal(str)  # a failure, in words the user can act on
    notice = Signal(str)  # a completed action worth a short note
    jobCreated = Signal(object)  # Job
    jobChanged = Signal(object)  # Job
    contentDeleted = Signal(str)  # content id
    scriptSaved = Signal(object)  # Script
    scriptDeleted = Signal(str)  # script id
    podcastDeleted = Signal(str)  # podcast id
    profileChanged = Signal(object)  # Profile

    def __init__(
        self, backend: Backend, runner: TaskRunner, cache_dir: Path | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.backend = backend
        self.runner = runner
        self.cache_dir = cache_dir or default_cache_dir()

    # ------------------------------------------------------------ plumbing
    def _run(
        self,
        work: Awaitable[T],
        on_done: Callable[[T], None] | None,
        owner: QObject | None,
        on_error: Callable[[ServiceError], None] | None = None,
    ) -> None:
        async def call() -> T:  # Backend methods are typed as awaitables; the runner takes coroutines
            return await work

        def failed(error: ServiceError) -> None:
            self.failed.emit(error.message)
            if on_error is not None:
                on_error(error)

        self.runner.run(call(), on_done, failed, owner=owner)

    def fetcher(self, spec: TableSpec) -> Callable[[PageQuery], Awaitable[Page]]:
        """The fetch callable a paged list model pages through."""
        backend = self.backend

        def fetch(query: PageQuery) -> Awaitable[Page]:
            return backend.fetch_page(spec, query)

        return fetch

    # -------------------------------------------------------------- detail
    def load_content(self, content_id: str, on_done: Callable[[ContentItem], None], owner: QObject,
                     on_error: Callable[[ServiceError], None] | None = None) -> None:
        self._run(self.backend.get_content(content_id), on_done, owner, on_error)

    def load_script(self, script_id: str, on_done: Callable[[Script], None], owner: QObject,
                    on_error: Callable[[ServiceError], None] | None = None) -> None:
        self._run(self.backend.get_script(script_id), on_done, owner, on_error)

    def load_podcast(self, podcast_id: str, on_done: Callable[[Podcast], None], owner: QObject,
                     on_error: Callable[[ServiceError], None] | None = None) -> None:
        self._run(self.backend.get_podcast(podcast_id), on_done, owner, on_error)

    def load_job(self, job_id: str, on_done: Callable[[Job], None], owner: QObject,
                 on_error: Callable[[ServiceError], None] | None = None) -> None:
        self._run(self.backend.get_job(job_id), on_done, owner, on_error)

    def load_profile(self, on_done: Callable[[Profile], None], owner: QObject) -> None:
        self._run(self.backend.get_profile(), on_done, owner)

    def load_usage(self, on_done: Callable[[list[UsageEvent]], None], owner: QObject) -> None:
        self._run(self.backend.usage_events(), on_done, owner)

    def load_image(self, bucket: str, path: str, version: str, on_done: Callable[[bytes], None],
                   owner: QObject) -> None:
        """An image from private storage via a signed URL, cached on disk by path and row version."""
        cached = self._cache_file(bucket, path, version)
        if cached.is_file():
            on_done(cached.read_bytes())
            return

        async def fetch() -> bytes:
            data = await self.backend.download_signed(bucket, path)
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                temporary = cached.with_suffix(".part")
                temporary.write_bytes(data)
                temporary.replace(cached)  # atomic: a crash never leaves half a picture in the cache
            except OSError as exc:  # a full or read-only cache must not cost the user the picture
                log.warning("cannot cache %s: %s", path, exc)
            return data

        self._run(fetch(), on_done, owner)

    def load_cover(self, podcast: Podcast, on_done: Callable[[bytes], None], owner: QObject) -> None:
        if podcast.cover_art_path:
            version = podcast.updated_at.isoformat() if podcast.updated_at else ""
            self.load_image(COVER_BUCKET, podcast.cover_art_path, version, on_done, owner)

    def _cache_file(self, bucket: str, path: str, version: str) -> Path:
        digest = hashlib.sha256(f"{self.backend.url}|{bucket}|{path}|{version}".encode()).hexdigest()[:32]
        return self.cache_dir / "images" / f"{digest}{Path(path).suffix.lower()}"

    # ------------------------------------------------------------- actions
    # Each action takes on_done and on_error so a view can leave its busy state either way;
    # the failure message itself always goes out on ``failed``.
    def _act(self, work: Awaitable[T], done: Callable[[T], None], on_done: Callable[[T], None] | None,
             owner: QObject, on_error: Callable[[ServiceError], None] | None) -> None:
        def finished(value: T) -> None:
            done(value)
            if on_done is not None:
                on_done(value)

        self._run(work, finished, owner, on_error)

    def delete_content(self, item: ContentItem, on_done: Callable[[None], None] | None, owner: QObject,
                       on_error: OnError = None) -> None:
        def done(_: None) -> None:
            self.contentDeleted.emit(item.id)
            self.notice.emit(self.tr("Deleted “%1”.").replace("%1", item.title))

        self._act(self.backend.delete_content(item), done, on_done, owner, on_error)

    def generate_script(self, content_id: str, model: str, prompt: str, language: str,
                        on_done: Callable[[Job], None] | None, owner: QObject, on_error: OnError = None) -> None:
        payload = {"content_id": content_id, "model": model, "prompt": prompt, "language": language}
        self._act(self.backend.create_job("script_generation", payload), self._job_created, on_done, owner, on_error)

    def render_audio(self, script: Script, on_done: Callable[[Job], None] | None, owner: QObject,
                     on_error: OnError = None) -> None:
        payload = {"script_id": script.id, "model": AUDIO_RENDER_MODEL, "language": script.language}
        self._act(self.backend.create_job("audio_render", payload), self._job_created, on_done, owner, on_error)

    def _job_created(self, job: Job) -> None:
        self.jobCreated.emit(job)
        self.notice.emit(self.tr("Job %1 queued.").replace("%1", job.id))

    def save_segments(self, script_id: str, segments: Sequence[Segment], on_done: Callable[[Script], None] | None,
                      owner: QObject, on_error: OnError = None) -> None:
        def done(script: Script) -> None:
            self.scriptSaved.emit(script)
            self.notice.emit(self.tr("Script saved."))

        self._act(self.backend.save_segments(script_id, segments), done, on_done, owner, on_error)

    def delete_script(self, script: Script, on_done: Callable[[None], None] | None, owner: QObject,
                      on_error: OnError = None) -> None:
        def done(_: None) -> None:
            self.scriptDeleted.emit(script.id)
            self.notice.emit(self.tr("Deleted the script “%1”.").replace("%1", script.title))

        self._act(self.backend.delete_script(script.id), done, on_done, owner, on_error)

    def delete_podcast(self, podcast: Podcast, on_done: Callable[[None], None] | None, owner: QObject,
                       on_error: OnError = None) -> None:
        def done(_: None) -> None:
            self.podcastDeleted.emit(podcast.id)
            self.notice.emit(self.tr("Deleted the podcast “%1”.").replace("%1", podcast.title))

        self._act(self.backend.delete_podcast(podcast), done, on_done, owner, on_error)

    def cancel_job(self, job_id: str, on_done: Callable[[Job], None] | None, owner: QObject,
                   on_error: OnError = None) -> None:
        def done(job: Job) -> None:
            self.jobChanged.emit(job)
            self.notice.emit(self.tr("Job %1 cancelled.").replace("%1", job.id))

        self._act(self.backend.cancel_job(job_id), done, on_done, owner, on_error)

    def retry_job(self, job: Job, on_done: Callable[[Job], None] | None, owner: QObject,
                  on_error: OnError = None) -> None:
        def done(new_job: Job) -> None:
            self.jobCreated.emit(new_job)
            self.notice.emit(self.tr("Retrying as job %1.").replace("%1", new_job.id))

        self._act(self.backend.retry_job(job), done, on_done, owner, on_error)

    def update_profile(self, full_name: str, on_done: Callable[[Profile], None] | None, owner: QObject,
                       on_error: OnError = None) -> None:
        def done(profile: Profile) -> None:
            self.profileChanged.emit(profile)
            self.notice.emit(self.tr("Profile saved."))

        self._act(self.backend.update_profile(full_name), done, on_done, owner, on_error)

    def upload_avatar(self, file: Path, on_done: Callable[[Profile], None] | None, owner: QObject,
                      on_error: OnError = None) -> None:
        content_type = AVATAR_TYPES.get(file.suffix.lower()) or mimetypes.guess_type(file.name)[0] or ""
        problem = ""
        data = b""
        if content_type not in AVATAR_TYPES.values():
            problem = self.tr("Choose a PNG, JPEG or WebP picture for the avatar.")
        else:
            try:
                data = file.read_bytes()
            except OSError as exc:
                problem = self.tr("Cannot read %1: %2").replace("%1", file.name).replace("%2", exc.strerror or "")
            if not problem and len(data) > AVATAR_MAX_BYTES:
                problem = self.tr("The picture is larger than 10 MB.")
        if problem:
            self.failed.emit(problem)
            if on_error is not None:
                on_error(ServiceError(ErrorKind.INVALID_INPUT, problem))
            return

        def done(profile: Profile) -> None:
            self.profileChanged.emit(profile)
            self.notice.emit(self.tr("Avatar uploaded."))

        work = self.backend.upload_avatar(f"avatar{file.suffix.lower()}", data, content_type)
        self._act(work, done, on_done, owner, on_error)

    def load_avatar(self, profile: Profile, on_done: Callable[[bytes], None], owner: QObject) -> None:
        if profile.avatar_url and not profile.avatar_url.startswith(("http://", "https://")):
            self.load_image(AVATAR_BUCKET, profile.avatar_url, "", on_done, owner)
