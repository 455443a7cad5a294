"""Serve an object file: streamed from disk in chunks, with Range, ETag and cache headers.

Headers follow storage-api's asset renderer: ``Accept-Ranges``, ``Content-Type`` (from the
row's mimetype), quoted ``ETag``, ``Last-Modified``, ``Content-Length``, ``Cache-Control``
(``Expires`` instead on signed URLs), ``Content-Range`` on 206 and 416.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from echogen_devstack import faults
from echogen_devstack.storage_files import RangeNotSatisfiable, parse_range

CHUNK_BYTES = 1 << 20


@dataclass
class ObjectMeta:
    etag: str | None
    mimetype: str
    cache_control: str
    last_modified: datetime


class FileMissing(Exception):
    """The row exists but its file does not (removed behind our back)."""


class _FileStream(StreamingResponse):
    """A StreamingResponse that always closes its file, even when the client goes away."""

    def __init__(
        self, handle: BinaryIO, start: int, length: int, status: int, headers: dict[str, str]
    ) -> None:
        self.handle = handle
        self.cut: int | None = None  # bytes to send before a test fault drops the connection
        super().__init__(self._chunks(start, length), status_code=status, headers=headers)

    async def _chunks(self, start: int, length: int) -> AsyncIterator[bytes]:
        await anyio.to_thread.run_sync(self.handle.seek, start)
        remaining = length
        while remaining > 0:
            chunk = await anyio.to_thread.run_sync(self.handle.read, min(CHUNK_BYTES, remaining))
            if not chunk:  # the file shrank under us; the client sees a short body
                return
            if self.cut is not None:  # a test switch (faults.py) drops the connection here
                chunk = chunk[: self.cut]
                self.cut -= len(chunk)
                if self.cut <= 0:
                    yield chunk
                    raise faults.StreamDropped
            remaining -= len(chunk)
            yield chunk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.cut = faults.stream_cut(scope)
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.handle.close()


async def file_response(
    request: Request,
    path: Path,
    meta: ObjectMeta,
    *,
    expires: str | None = None,
    download: str | None = None,
) -> Response:
    try:
        handle: BinaryIO = await anyio.to_thread.run_sync(_open, path)
    except FileNotFoundError as exc:
        raise FileMissing(str(path)) from exc
    size = os.fstat(handle.fileno()).st_size
    headers = _headers(meta, expires, download)
    if meta.etag and request.headers.get("if-none-match") == meta.etag:
        handle.close()
        return Response(status_code=304, headers=headers)
    try:
        wanted = parse_range(request.headers.get("range"), size)
    except RangeNotSatisfiable:
        handle.close()
        return JSONResponse(
            {"statusCode": "416", "code": "InvalidRange", "error": "invalid_range",
             "message": "invalid range provided"},
            status_code=416,
            headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"},
        )
    status, start, length = 200, 0, size
    if wanted is not None:
        status, start, length = 206, wanted[0], wanted[1] - wanted[0] + 1
        headers["Content-Range"] = f"bytes {wanted[0]}-{wanted[1]}/{size}"
    headers["Content-Length"] = str(length)
    if request.method == "HEAD":
        handle.close()
        return Response(status_code=status, headers=headers)
    return _FileStream(handle, start, length, status, headers)


def _open(path: Path) -> BinaryIO:
    return open(path, "rb")  # closed by the response


def _headers(meta: ObjectMeta, expires: str | None, download: str | None) -> dict[str, str]:
    mimetype = "text/plain" if "text/html" in meta.mimetype else meta.mimetype
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Type": mimetype,
        "Last-Modified": format_datetime(meta.last_modified, usegmt=True),
    }
    if meta.etag:
        headers["ETag"] = meta.etag
    if expires is not None:
        headers["Expires"] = expires
    else:
        headers["Cache-Control"] = meta.cache_control
    if download is not None:
        if download == "":
            headers["Content-Disposition"] = "attachment;"
        else:
            name = quote(download, safe="")
            headers["Content-Disposition"] = f"attachment; filename={name}; filename*=UTF-8''{name};"
    return headers
