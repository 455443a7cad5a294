"""Receive an upload body (raw or multipart/form-data) into a temp file, streaming.

Nothing is held in memory beyond one buffered megabyte: the body is hashed (md5, the ETag)
and counted while it is written, the bucket's size limit is enforced as bytes arrive, and the
MIME type is checked as soon as it is known (before the file data for multipart). On any
failure the temp file is removed before the exception leaves this module.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import anyio.to_thread
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FLUSH_BYTES = 1 << 20
MAX_FIELD_BYTES = 1 << 20
# After a refusal the rest of the body is read and dropped (up to this much) so the client
# gets to read the error instead of a reset connection.
DRAIN_LIMIT = 64 << 20


class UploadRejected(Exception):
    """The body can't be stored; carries storage-api's error fields."""

    def __init__(self, status: int, error: str, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.code = code


def too_large() -> UploadRejected:
    return UploadRejected(
        413, "Payload too large", "The object exceeded the maximum allowed size", "EntityTooLarge"
    )


def no_content() -> UploadRejected:
    return UploadRejected(400, "InvalidRequest", "No content provided", "InvalidRequest")


@dataclass
class IncomingFile:
    path: Path
    size: int
    md5: str
    mimetype: str
    cache_control: str
    user_metadata: dict[str, Any] | None


@dataclass
class _Sink:
    """The temp file plus running size/hash; writes go to a worker thread in big batches."""

    path: Path
    limit: int
    handle: BinaryIO | None = None
    size: int = 0
    pending: list[bytes] = field(default_factory=list)
    pending_bytes: int = 0
    digest: Any = field(default_factory=hashlib.md5)

    def add(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise too_large()
        self.pending.append(data)
        self.pending_bytes += len(data)

    async def flush(self, force: bool = False) -> None:
        if not self.pending or (self.pending_bytes < FLUSH_BYTES and not force):
            return
        blob = b"".join(self.pending)
        self.pending.clear()
        self.pending_bytes = 0
        await anyio.to_thread.run_sync(self._write, blob)

    def _write(self, blob: bytes) -> None:
        if self.handle is None:
            self.handle = open(self.path, "wb")  # noqa: SIM115 - closed in finish() or discard()
        self.handle.write(blob)
        self.digest.update(blob)

    async def finish(self) -> None:
        await self.flush(force=True)
        if self.handle is None:
            await anyio.to_thread.run_sync(self._write, b"")
        await anyio.to_thread.run_sync(self._sync_close)

    def _sync_close(self) -> None:
        if self.handle is not None:
            self.handle.flush()
            self.handle.close()

    def discard(self) -> None:
        if self.handle is not None:
            self.handle.close()
        self.path.unlink(missing_ok=True)


async def receive(
    request: Request, temp: Path, limit: int, check_mime: Callable[[str], None]
) -> IncomingFile:
    """Stream the request body into ``temp``; raise UploadRejected (temp removed) on refusal."""
    sink = _Sink(temp, limit)
    chunks = request.stream().__aiter__()
    try:
        content_type = request.headers.get("content-type", "")
        if content_type.lower().startswith("multipart/form-data"):
            mimetype, cache_control, metadata = await _receive_multipart(
                content_type, chunks, sink, check_mime
            )
        else:
            mimetype, cache_control, metadata = await _receive_raw(request, chunks, sink, check_mime)
        await sink.finish()
    except BaseException:
        sink.discard()
        raise
    return IncomingFile(temp, sink.size, sink.digest.hexdigest(), mimetype, cache_control, metadata)


async def drain(request: Request) -> None:
    """Read and drop what is left of a refused body (bounded), ignoring any failure."""
    dropped = 0
    try:
        async for chunk in request.stream():
            dropped += len(chunk)
            if dropped > DRAIN_LIMIT:
                return
    except Exception:  # consumed already, or the client went away
        return


async def _receive_raw(
    request: Request, chunks: AsyncIterator[bytes], sink: _Sink, check_mime: Callable[[str], None]
) -> tuple[str, str, dict[str, Any] | None]:
    mimetype = request.headers.get("content-type") or "application/octet-stream"
    cache_control = request.headers.get("cache-control") or "no-cache"
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > sink.limit:
        raise too_large()
    check_mime(mimetype)
    async for chunk in chunks:
        sink.add(chunk)
        await sink.flush()
    return mimetype, cache_control, _metadata_header(request.headers.get("x-metadata"))


def _metadata_header(value: str | None) -> dict[str, Any] | None:
    if not value:
        return None
    try:
        parsed = json.loads(base64.b64decode(value).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return parsed if isinstance(parsed, dict) else None


class _FormState:
    """Callback state for python-multipart: small fields in memory, the file into the sink."""

    def __init__(self, sink: _Sink) -> None:
        self.sink = sink
        self.fields: dict[str, bytearray] = {}
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.headers: dict[str, str] = {}
        self.target: bytearray | None = None
        self.in_file = False
        self.file_seen = False
        self.file_mimetype: str | None = None

    def part_begin(self) -> None:
        self.headers = {}
        self.target = None
        self.in_file = False

    def header_field_data(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def header_value_data(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def header_end(self) -> None:
        self.headers[self.header_field.decode("latin-1").strip().lower()] = self.header_value.decode(
            "utf-8", "replace"
        ).strip()
        self.header_field.clear()
        self.header_value.clear()

    def headers_finished(self) -> None:
        _, params = parse_options_header(self.headers.get("content-disposition", ""))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        is_file = b"filename" in params or name == "file"
        if is_file and not self.file_seen:
            self.file_seen = True
            self.in_file = True
            given = self.fields.get("contentType")
            self.file_mimetype = (
                given.decode("utf-8", "replace").strip() if given
                else self.headers.get("content-type") or "application/octet-stream"
            )
        elif not is_file:
            self.target = self.fields.setdefault(name, bytearray())

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.in_file:
            self.sink.add(data[start:end])
        elif self.target is not None:
            self.target += data[start:end]
            if len(self.target) > MAX_FIELD_BYTES:
                raise UploadRejected(
                    413, "Payload too large", "The form field exceeded the maximum allowed size",
                    "EntityTooLarge",
                )

    def part_end(self) -> None:
        self.in_file = False
        self.target = None


async def _receive_multipart(
    content_type: str,
    chunks: AsyncIterator[bytes],
    sink: _Sink,
    check_mime: Callable[[str], None],
) -> tuple[str, str, dict[str, Any] | None]:
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise no_content()
    state = _FormState(sink)
    callbacks: MultipartCallbacks = {
        "on_part_begin": state.part_begin,
        "on_header_field": state.header_field_data,
        "on_header_value": state.header_value_data,
        "on_header_end": state.header_end,
        "on_headers_finished": state.headers_finished,
        "on_part_data": state.part_data,
        "on_part_end": state.part_end,
    }
    parser = MultipartParser(boundary, callbacks)
    mime_checked = False
    try:
        async for chunk in chunks:
            parser.write(chunk)
            if state.file_mimetype is not None and not mime_checked:
                check_mime(state.file_mimetype)
                mime_checked = True
            await sink.flush()
        parser.finalize()
    except UploadRejected:
        raise
    except ValueError as exc:  # python-multipart's FormParserError / MultipartParseError
        raise no_content() from exc
    if state.file_mimetype is None:
        raise no_content()
    cache = state.fields.get("cacheControl")
    cache_control = f"max-age={cache.decode('utf-8', 'replace').strip()}" if cache else "no-cache"
    raw_meta = state.fields.get("metadata") or state.fields.get("userMetadata")
    metadata: dict[str, Any] | None = None
    if raw_meta:
        try:
            parsed = json.loads(raw_meta.decode("utf-8"))
            metadata = parsed if isinstance(parsed, dict) else None
        except (ValueError, UnicodeDecodeError):
            metadata = None
    return state.file_mimetype, cache_control, metadata
