"""validate → convert → upload the original → insert the row, with nothing half-made left behind.

- Upload fails or is cancelled: the (possibly stored) object is removed, no row is written.
- Insert fails: the uploaded object is removed.
- The app dies between the two: the journal entry written before the upload survives, and
  ``recover()`` at the next start removes the orphaned object (or just forgets the entry when the
  row made it after all).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from echogen_desktop.importing.errors import ImportRejected, RejectReason
from echogen_desktop.importing.formats import SUPPORTED_TYPES_TEXT, FileFormat, convert_file, format_of
from echogen_desktop.importing.journal import JournalEntry, UploadJournal
from echogen_desktop.importing.metadata import build_metadata, title_for
from echogen_desktop.services.errors import ServiceError
from echogen_desktop.services.records import ContentItem

log = logging.getLogger(__name__)

TRANSCRIPTS_BUCKET = "transcripts"
PROVIDER = "upload"
HASH_CHUNK = 1 << 20

ProgressCallback = Callable[[int, int], None]  # (bytes sent, total bytes)


class ImportStore(Protocol):
    """What the pipeline needs from the server (implemented by services.upload_service)."""

    @property
    def user_id(self) -> str: ...

    async def file_size_limit(self) -> int: ...

    async def find_by_sha256(self, sha256: str) -> list[ContentItem]: ...

    async def upload(
        self, object_path: str, source: Path, content_type: str, size: int, progress: ProgressCallback
    ) -> None: ...

    async def remove(self, object_path: str) -> None: ...

    async def insert_content(self, row: Mapping[str, Any]) -> ContentItem: ...

    async def content_exists(self, row_id: str) -> bool: ...


@dataclass(frozen=True)
class Prepared:
    """A validated, converted file, ready to upload."""

    source: Path
    filename: str
    format: FileFormat
    size_bytes: int
    sha256: str
    title: str
    markdown: str


def format_megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def safe_object_name(filename: str) -> str:
    """A storage-safe version of the file name (ASCII letters, digits, ``._-``), extension kept."""
    suffix = Path(filename).suffix.lower()
    stem = unicodedata.normalize("NFKD", Path(filename).stem).encode("ascii", "ignore").decode("ascii")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "transcript"
    return stem[:100] + suffix


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def validate_and_convert(path: Path, size_limit: int) -> Prepared:
    """Blocking: the checks and conversion for one file (run in a worker thread)."""
    filename = path.name
    fmt = format_of(filename)
    if fmt is None:
        raise ImportRejected(
            RejectReason.UNSUPPORTED,
            f"“{filename}” is not a supported file type. Supported types: {SUPPORTED_TYPES_TEXT}.",
        )
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise ImportRejected(RejectReason.UNREADABLE, f"“{filename}” is not a regular file.")
        if size == 0:
            raise ImportRejected(RejectReason.EMPTY, f"“{filename}” is empty.")
        if size > size_limit:
            raise ImportRejected(
                RejectReason.TOO_LARGE,
                f"“{filename}” is {format_megabytes(size)}, over the {format_megabytes(size_limit)} limit "
                "for transcripts.",
            )
        sha256 = _sha256_of(path)
    except ImportRejected:
        raise
    except OSError as exc:
        message = f"“{filename}” could not be read: {exc.strerror or exc}."
        raise ImportRejected(RejectReason.UNREADABLE, message) from exc
    converted = convert_file(path, filename)
    title = title_for(converted.markdown, converted.title_hint, filename)
    return Prepared(path, filename, fmt, size, sha256, title, converted.markdown)


LARGE_FILE_BYTES = 8 * 1024 * 1024
_pool: ProcessPoolExecutor | None = None


def _is_large(path: Path) -> bool:
    try:
        return path.stat().st_size >= LARGE_FILE_BYTES
    except OSError:
        return False  # validate_and_convert reports it


def _conversion_pool() -> ProcessPoolExecutor:
    """One spawned worker process, started on the first large file and kept for the session."""
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    return _pool


class ImportPipeline:
    def __init__(self, store: ImportStore, journal: UploadJournal, bucket: str = TRANSCRIPTS_BUCKET) -> None:
        self.store = store
        self.journal = journal
        self.bucket = bucket
        self._size_limit: int | None = None
        self._in_flight: set[str] = set()

    async def size_limit(self) -> int:
        if self._size_limit is None:
            self._size_limit = await self.store.file_size_limit()
        return self._size_limit

    async def prepare(self, path: Path) -> Prepared:
        """Validate and convert off the UI thread; raises ImportRejected with a user-facing message."""
        limit = await self.size_limit()
        if _is_large(path):
            # CPython's string routines hold the GIL across a whole 50 MB text (decode, replace, join),
            # which stalls the UI thread even from a worker thread; a separate process does not.
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(_conversion_pool(), validate_and_convert, path, limit)
        return await asyncio.to_thread(validate_and_convert, path, limit)

    async def find_duplicates(self, prepared: Prepared) -> list[ContentItem]:
        return await self.store.find_by_sha256(prepared.sha256)

    async def commit(self, prepared: Prepared, progress: ProgressCallback | None = None) -> ContentItem:
        """Upload the original and insert the row; on any failure (or cancel) leave nothing behind."""
        user_id = self.store.user_id
        row_id = str(uuid.uuid4())
        object_path = f"{user_id}/{row_id}/{safe_object_name(prepared.filename)}"
        entry = JournalEntry(
            row_id=row_id, user_id=user_id, bucket=self.bucket, object_path=object_path,
            filename=prepared.filename, started_at=datetime.now(UTC).isoformat(),
        )
        metadata = await asyncio.to_thread(
            build_metadata, markdown=prepared.markdown, filename=prepared.filename,
            size_bytes=prepared.size_bytes, sha256=prepared.sha256, mime_type=prepared.format.mime_type,
            transcript_path=object_path,
        )
        await asyncio.to_thread(self.journal.add, entry)
        self._in_flight.add(row_id)
        try:
            await self.store.upload(
                object_path, prepared.source, prepared.format.mime_type, prepared.size_bytes,
                progress or (lambda _sent, _total: None),
            )
            row = {
                "id": row_id, "user_id": user_id, "provider": PROVIDER, "title": prepared.title,
                "url": f"storage://{self.bucket}/{object_path}", "markdown": prepared.markdown,
                "metadata": metadata,
            }
            item = await self.store.insert_content(row)
        except BaseException:
            await self._discard(entry)
            raise
        finally:
            self._in_flight.discard(row_id)
        self.journal.remove(row_id)
        return item

    async def _discard(self, entry: JournalEntry) -> None:
        """Remove the object of a failed import; keep the journal entry if that fails too."""
        try:
            await self.store.remove(entry.object_path)
        except (ServiceError, asyncio.CancelledError) as exc:
            log.warning("could not remove %s after a failed import (kept for recovery): %s", entry.object_path, exc)
            return
        self.journal.remove(entry.row_id)

    async def recover(self) -> list[str]:
        """Clean up the signed-in user's uploads that a previous run left without a row.

        Returns the object paths removed. Entries of other users are left for when they sign in.
        """
        removed: list[str] = []
        user_id = self.store.user_id
        for entry in await asyncio.to_thread(self.journal.entries, user_id):
            if entry.row_id in self._in_flight:
                continue
            try:
                if not await self.store.content_exists(entry.row_id):
                    await self.store.remove(entry.object_path)
                    removed.append(entry.object_path)
            except ServiceError as exc:
                log.warning("orphan clean-up of %s failed, will retry next start: %s", entry.object_path, exc)
                continue
            self.journal.remove(entry.row_id)
        return removed
