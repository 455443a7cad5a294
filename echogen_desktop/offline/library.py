"""Downloading whole episodes into the offline library: the audio and cover art files (through the
download manager) and the podcast and script rows (into the library database).

Files live under ``<data dir>/episodes/<podcast id>/``; the row is written to the database only
after the audio is complete under its final name, so the library never lists a half episode.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from echogen_desktop.offline.downloads import DownloadManager, DownloadSpec, UrlProvider, find_partials
from echogen_desktop.offline.library_db import EpisodeRecord, LibraryDb, now_iso
from echogen_desktop.services.backend import AUDIO_BUCKET, COVER_BUCKET, Backend
from echogen_desktop.services.errors import ErrorKind, ServiceError, from_exception
from echogen_desktop.services.records import Podcast, Script

log = logging.getLogger(__name__)
SIGNED_URL_SECONDS = 3600  # a download re-signs on every attempt; one attempt gets an hour


@dataclass(frozen=True)
class ObjectInfo:
    size: int | None
    etag: str | None


async def object_info(backend: Backend, bucket: str, path: str) -> ObjectInfo:
    """Size and ETag of a stored object, so the download can be checked against them."""
    try:
        info: Mapping[str, Any] = await backend.bucket(bucket).info(path)
    except Exception as exc:
        raise from_exception(exc) from exc
    size, etag = info.get("size"), info.get("etag")
    return ObjectInfo(size if isinstance(size, int) else None, etag if isinstance(etag, str) else None)


def _suffix(path: str, default: str) -> str:
    suffix = PurePosixPath(path).suffix.lower()
    return suffix if suffix and len(suffix) <= 6 else default


class OfflineLibrary:
    """The database plus the files on disk, and how episodes get into them."""

    def __init__(self, db: LibraryDb, manager: DownloadManager) -> None:
        self.db = db
        self.manager = manager
        self.episodes_dir = db.root / "episodes"

    def folder(self, podcast_id: str) -> Path:
        return self.episodes_dir / podcast_id

    def audio_dest(self, podcast: Podcast) -> Path:
        return self.folder(podcast.id) / f"audio{_suffix(podcast.audio_path, '.mp3')}"

    def _signer(self, backend: Backend, bucket: str, path: str) -> UrlProvider:
        async def sign() -> str:
            return await backend.signed_url(bucket, path, SIGNED_URL_SECONDS)

        return sign

    def start_episode(self, backend: Backend, podcast_id: str, title: str = "") -> asyncio.Task[EpisodeRecord]:
        """Start downloading without waiting (progress goes to the manager's listeners)."""
        self.db.want_download(podcast_id, title or podcast_id)
        task = asyncio.ensure_future(self.download_episode(backend, podcast_id))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # reported through the manager
        return task

    async def download_episode(self, backend: Backend, podcast_id: str) -> EpisodeRecord:
        """Rows, cover art, then audio; the library lists the episode once all are on disk."""
        podcast = await backend.get_podcast(podcast_id)
        self.db.want_download(podcast.id, podcast.title)
        script: Script | None
        try:
            script = await backend.get_script(podcast.script_id)
        except ServiceError as exc:
            if exc.kind is not ErrorKind.NOT_FOUND:
                raise
            script = None
        audio = await object_info(backend, AUDIO_BUCKET, podcast.audio_path)
        cover_file, cover_size = None, 0
        if podcast.cover_art_path:
            cover_dest = self.folder(podcast.id) / f"cover{_suffix(podcast.cover_art_path, '.png')}"
            try:
                cover_file = await self.manager.fetch(DownloadSpec(
                    f"{podcast.id}:cover", podcast.title, cover_dest,
                    self._signer(backend, COVER_BUCKET, podcast.cover_art_path)))
                cover_size = cover_file.stat().st_size
            except Exception as exc:  # an episode without its picture is still worth having offline
                log.warning("cover art of %s not downloaded: %s", podcast.id, exc)
        audio_file = await self.manager.start(DownloadSpec(
            podcast.id, podcast.title, self.audio_dest(podcast),
            self._signer(backend, AUDIO_BUCKET, podcast.audio_path),
            expected_size=audio.size, expected_etag=audio.etag))
        record = EpisodeRecord(podcast, script, audio_file, audio_file.stat().st_size, audio.etag,
                               cover_file, cover_size, now_iso())
        self.db.save_episode(record)
        return record

    def resume_pending(self, backend: Backend) -> list[asyncio.Task[EpisodeRecord]]:
        """After a restart: continue every download that was asked for and not finished."""
        return [self.start_episode(backend, podcast_id, title) for podcast_id, title in self.db.pending_downloads()]

    def forget_download(self, podcast_id: str) -> None:
        """A download the user cleared from the list: not resumed at the next start."""
        self.manager.forget(podcast_id)
        self.db.forget_download(podcast_id)

    def partial_bytes(self) -> int:
        return sum(p.received for p in find_partials(self.episodes_dir)) if self.episodes_dir.exists() else 0

    def remove(self, podcast_id: str) -> None:
        """Remove a download: the files and the row (queued review changes stay queued)."""
        self.manager.forget(podcast_id)
        self.db.remove_episode(podcast_id)
        shutil.rmtree(self.folder(podcast_id), ignore_errors=True)

    def disk_usage(self) -> int:
        """Bytes the finished downloads use on disk."""
        return self.db.disk_usage()
