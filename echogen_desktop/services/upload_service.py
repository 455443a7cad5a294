"""The server side of transcript imports: the ``ImportStore`` the import pipeline runs against.

Uploads stream the file from disk over the Backend's shared httpx client as a raw body (the
storage API takes ``Content-Type`` + the bytes). storage3's ``upload`` would also stream a file
handle (as multipart), but offers no progress; ours reports every chunk and reads the disk in a
worker thread so the UI loop never waits on I/O.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from postgrest.exceptions import APIError
from storage3.exceptions import StorageApiError

from echogen_desktop.i18n import QT_TRANSLATE_NOOP
from echogen_desktop.importing.encoding import blocks
from echogen_desktop.importing.pipeline import TRANSCRIPTS_BUCKET, ProgressCallback
from echogen_desktop.memory import pin_mmap_threshold
from echogen_desktop.services.backend import Backend
from echogen_desktop.services.errors import ErrorKind, ServiceError, from_exception
from echogen_desktop.services.records import ContentItem
from echogen_desktop.services.tables import CONTENT

log = logging.getLogger(__name__)

# The transcripts bucket's documented limit (docs/data-conventions.md), used when the bucket row
# cannot be read: storage.buckets is not visible to signed-in users on a default project.
DOCUMENTED_SIZE_LIMIT = 50 * 1024 * 1024
CHUNK_SIZE = 4 << 20  # 4 MB: fewer thread hops; still a bounded buffer
UPLOAD_TIMEOUT = httpx.Timeout(120.0, connect=10.0)


def _storage_error(response: httpx.Response) -> ServiceError:
    try:
        body = response.json()
        error = StorageApiError(str(body["message"]), str(body.get("error", "")), str(body.get("statusCode")))
    except (ValueError, KeyError, TypeError):
        error = StorageApiError(response.text[:200], "", str(response.status_code))
    return from_exception(error)


def json_body(row: Mapping[str, Any]) -> bytes:
    """The row as JSON bytes, its markdown encoded ~1 MB at a time: one json.dumps of 50 MB would
    hold the GIL (and so freeze the UI thread) for a quarter of a second even in a worker thread."""
    rest = {key: value for key, value in row.items() if key != "markdown"}
    markdown = row.get("markdown")
    if not isinstance(markdown, str):
        return json.dumps(dict(row), ensure_ascii=False).encode("utf-8")
    head = json.dumps(rest, ensure_ascii=False)[:-1] + (", " if rest else "") + '"markdown": "'
    parts = [head.encode("utf-8")]
    parts.extend(json.dumps(piece, ensure_ascii=False)[1:-1].encode("utf-8") for piece in blocks(markdown))
    parts.append(b'"}')
    return b"".join(parts)


def _rest_error(response: httpx.Response) -> APIError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {"message": response.text[:200], "code": str(response.status_code)}
    return APIError(body)


class TranscriptStore:
    """``ImportStore`` over a signed-in Backend."""

    def __init__(self, backend: Backend, bucket: str = TRANSCRIPTS_BUCKET, chunk_size: int = CHUNK_SIZE) -> None:
        pin_mmap_threshold()  # the 4 MB chunks are read in worker threads: see echogen_desktop/memory.py
        self._backend = backend
        self.bucket = bucket
        self.chunk_size = chunk_size

    @property
    def user_id(self) -> str:
        user = self._backend.user
        if user is None:
            raise ServiceError(ErrorKind.SESSION_EXPIRED, QT_TRANSLATE_NOOP(
                "ServiceError", "You are signed out. Please sign in."))
        return user.user_id

    async def file_size_limit(self) -> int:
        """The bucket's ``file_size_limit`` where readable (service key, or a bucket policy), else 50 MB."""
        try:
            headers = await self._backend.auth_headers()
            response = await self._backend.http.get(
                f"{self._backend.url.rstrip('/')}/storage/v1/bucket/{quote(self.bucket, safe='')}", headers=headers
            )
            limit = response.json().get("file_size_limit") if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError, AttributeError, ServiceError) as exc:
            log.debug("bucket %s not readable (%s): using the documented limit", self.bucket, exc)
            limit = None
        return limit if isinstance(limit, int) and limit > 0 else DOCUMENTED_SIZE_LIMIT

    async def find_by_sha256(self, sha256: str) -> list[ContentItem]:
        try:
            response = await self._backend.table(CONTENT.table).select(CONTENT.select).eq(
                "metadata->>sha256", sha256
            ).order("created_at", desc=True).limit(20).execute()
        except Exception as exc:
            raise from_exception(exc) from exc
        return [ContentItem.from_row(row) for row in response.data if isinstance(row, Mapping)]

    async def content_exists(self, row_id: str) -> bool:
        try:
            response = await self._backend.table(CONTENT.table).select("id").eq("id", row_id).execute()
        except Exception as exc:
            raise from_exception(exc) from exc
        return bool(response.data)

    async def insert_content(self, row: Mapping[str, Any]) -> ContentItem:
        """Insert without echoing the (possibly large) markdown back, then read the list columns.

        The body is JSON-encoded in a worker thread and posted as bytes: encoding tens of MB of
        markdown on the UI thread (as postgrest-py would) stalls the window for a second.
        """
        encoded = await asyncio.to_thread(json_body, row)
        headers = await self._backend.auth_headers()
        headers.update({"Content-Type": "application/json", "Prefer": "return=minimal"})
        try:
            posted = await self._backend.http.post(
                f"{self._backend.url.rstrip('/')}/rest/v1/{CONTENT.table}", content=encoded, headers=headers,
                timeout=UPLOAD_TIMEOUT,
            )
            if posted.status_code >= 400:
                raise _rest_error(posted)
            response = await self._backend.table(CONTENT.table).select(CONTENT.select).eq("id", row["id"]).execute()
        except Exception as exc:
            raise from_exception(exc) from exc
        if not response.data or not isinstance(response.data[0], Mapping):
            raise ServiceError(ErrorKind.SERVER, QT_TRANSLATE_NOOP(
                "ServiceError", "The new item was saved but cannot be read back."))
        return ContentItem.from_row(response.data[0])

    async def remove(self, object_path: str) -> None:
        """Remove one object; an object that is not there is not an error."""
        try:
            await self._backend.bucket(self.bucket).remove([object_path])
        except Exception as exc:
            raise from_exception(exc) from exc

    async def upload(
        self, object_path: str, source: Path, content_type: str, size: int, progress: ProgressCallback
    ) -> None:
        headers = await self._backend.auth_headers()
        headers.update({
            "Content-Type": content_type, "Content-Length": str(size), "x-upsert": "false",
            "cache-control": "max-age=3600",
        })
        key = "/".join(quote(part, safe="") for part in object_path.split("/"))
        url = f"{self._backend.url.rstrip('/')}/storage/v1/object/{self.bucket}/{key}"
        try:
            response = await self._backend.http.post(
                url, content=self._chunks(source, size, progress), headers=headers, timeout=UPLOAD_TIMEOUT
            )
        except httpx.HTTPError as exc:
            raise from_exception(exc) from exc
        if response.status_code >= 400:
            raise _storage_error(response)

    async def _chunks(self, source: Path, size: int, progress: ProgressCallback) -> AsyncIterator[bytes]:
        sent = 0
        progress(0, size)
        handle = await asyncio.to_thread(source.open, "rb")
        try:
            while sent < size:
                chunk: bytes = await asyncio.to_thread(handle.read, min(self.chunk_size, size - sent))
                if not chunk:
                    raise ServiceError(ErrorKind.INVALID_INPUT, QT_TRANSLATE_NOOP(
                        "ServiceError", "“%1” changed while it was uploading."), source.name)
                sent += len(chunk)
                yield chunk
                progress(sent, size)
        finally:
            handle.close()
