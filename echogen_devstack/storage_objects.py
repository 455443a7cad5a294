"""Object endpoints that move bytes: upload, update, signed upload, download, signed fetch.

Every database step runs as the caller (``db.as_caller``) so the storage.objects policies
decide; only bucket limits and signed-URL lookups use the superuser, as storage-api does.
An upload is streamed to a temp file first, then ONE transaction inserts the row and
renames the file into place: a failure anywhere leaves neither row nor file.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from echogen_devstack.state import StackState
from echogen_devstack.storage_common import (
    StorageFailure,
    bucket_info,
    caller,
    endpoint,
    mime_allowed,
    object_not_found,
    owner_of,
    path_params,
    stack,
    store_of,
)
from echogen_devstack.storage_download import ObjectMeta, file_response
from echogen_devstack.storage_files import Installed
from echogen_devstack.storage_keys import is_empty_folder
from echogen_devstack.storage_tokens import sign_upload, verify
from echogen_devstack.storage_upload import IncomingFile, drain, receive

INSERT_OBJECT = """
insert into storage.objects (bucket_id, name, owner, owner_id, metadata, user_metadata)
values ($1, $2, $3, $4, $5::jsonb, $6::jsonb)
returning id
"""
UPSERT_OBJECT = """
insert into storage.objects as o (bucket_id, name, owner, owner_id, metadata, user_metadata)
values ($1, $2, $3, $4, $5::jsonb, $6::jsonb)
on conflict (bucket_id, name) do update set
  owner = excluded.owner, owner_id = excluded.owner_id, metadata = excluded.metadata,
  user_metadata = excluded.user_metadata, updated_at = now(), last_accessed_at = now()
returning id
"""
FIND_OBJECT = """
select id, bucket_id, name, owner, owner_id, metadata, user_metadata,
       created_at, updated_at, last_accessed_at
from storage.objects where bucket_id = $1 and name = $2
"""


# ------------------------------------------------------------------ upload


async def _can_upload(
    st: StackState, claims: dict[str, Any], bucket: str, key: str, upsert: bool, path: str
) -> None:
    """Try the row as the caller and roll it back: refuse before reading the body."""
    owner, owner_id = owner_of(claims)
    async with st.db.as_caller(claims, method="POST", path=path) as conn:
        savepoint = conn.transaction()
        await savepoint.start()
        try:
            await conn.fetchval(
                UPSERT_OBJECT if upsert else INSERT_OBJECT, bucket, key, owner, owner_id, None, None
            )
        finally:
            await savepoint.rollback()


def _metadata(incoming: IncomingFile) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "eTag": f'"{incoming.md5}"',
        "size": incoming.size,
        "mimetype": incoming.mimetype,
        "cacheControl": incoming.cache_control,
        "lastModified": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "contentLength": incoming.size,
        "httpStatusCode": 200,
    }


async def store_upload(
    request: Request, claims: dict[str, Any], bucket: str, key: str, *, upsert: bool
) -> str:
    """Receive the body and commit row + file; return the object id."""
    st = stack(request)
    try:
        info = await bucket_info(st, bucket)
        empty_folder = is_empty_folder(key)
        limit = 0 if empty_folder else info.size_limit()
        await _can_upload(st, claims, bucket, key, upsert, request.url.path)

        def check_mime(mimetype: str) -> None:
            allowed = info.allowed_mime_types
            if allowed and not empty_folder and not mime_allowed(mimetype, allowed):
                raise StorageFailure(
                    415, "invalid_mime_type", f"mime type {mimetype} is not supported", "InvalidMimeType"
                )

        store = store_of(st)
        incoming = await receive(request, store.temp_path(bucket), limit, check_mime)
    except Exception:
        await drain(request)
        raise
    try:
        return await _commit(st, claims, bucket, key, incoming, upsert, request.url.path)
    finally:
        incoming.path.unlink(missing_ok=True)


async def _commit(
    st: StackState,
    claims: dict[str, Any],
    bucket: str,
    key: str,
    incoming: IncomingFile,
    upsert: bool,
    path: str,
) -> str:
    owner, owner_id = owner_of(claims)
    store = store_of(st)
    installed: Installed | None = None
    try:
        async with st.db.as_caller(claims, method="POST", path=path) as conn:
            object_id = await conn.fetchval(
                UPSERT_OBJECT if upsert else INSERT_OBJECT,
                bucket, key, owner, owner_id,
                json.dumps(_metadata(incoming)),
                json.dumps(incoming.user_metadata) if incoming.user_metadata is not None else None,
            )
            final = store.object_path(bucket, object_id)
            # In-line, not in a thread: a cancelled await must never hide a completed rename.
            installed = store.install(incoming.path, final)
    except BaseException:
        if installed is not None:
            installed.undo()
        raise
    if installed is not None:
        installed.done()
    return str(object_id)


@endpoint
async def upload_object(request: Request) -> Response:
    """``POST /object/{bucket}/{key}`` (x-upsert) and ``PUT`` (always upsert)."""
    try:
        claims = caller(request)
        bucket, key = path_params(request)
    except Exception:
        await drain(request)
        raise
    upsert = request.method == "PUT" or request.headers.get("x-upsert", "").lower() == "true"
    object_id = await store_upload(request, claims, bucket, key, upsert=upsert)
    return JSONResponse({"Id": object_id, "Key": f"{bucket}/{key}"})


@endpoint
async def create_signed_upload_url(request: Request) -> Response:
    """``POST /object/upload/sign/{bucket}/{key}``: only for callers who may upload there."""
    claims = caller(request)
    bucket, key = path_params(request)
    st = stack(request)
    await bucket_info(st, bucket)
    upsert = request.headers.get("x-upsert", "").lower() == "true"
    await _can_upload(st, claims, bucket, key, upsert, request.url.path)
    _, owner_id = owner_of(claims)
    token = sign_upload(f"{bucket}/{key}", owner_id, upsert, st.keys.secret)
    url = f"/object/upload/sign/{_quoted(bucket, key)}?token={token}"
    return JSONResponse({"url": url, "token": token})


@endpoint
async def upload_to_signed_url(request: Request) -> Response:
    """``PUT /object/upload/sign/{bucket}/{key}?token=``: the token is the authorisation."""
    st = stack(request)
    try:
        bucket, key = path_params(request)
        claims = verify(request.query_params.get("token"), f"{bucket}/{key}", st.keys.secret, upload=True)
    except Exception:
        await drain(request)
        raise
    # The owner proved upload rights when the URL was signed; act for them from here.
    owner = claims.get("owner")
    acting: dict[str, Any] = {"role": "service_role"}
    if isinstance(owner, str) and owner:
        acting["sub"] = owner
    object_id = await store_upload(request, acting, bucket, key, upsert=bool(claims.get("upsert")))
    return JSONResponse({"Id": object_id, "Key": f"{bucket}/{key}"})


def _quoted(bucket: str, key: str) -> str:
    return f"{quote(bucket, safe='')}/{quote(key, safe='/')}"


# ------------------------------------------------------------------ download


def object_meta(row: asyncpg.Record) -> ObjectMeta:
    raw = row["metadata"]
    meta: dict[str, Any] = (json.loads(raw) if isinstance(raw, str) else raw) or {}
    return ObjectMeta(
        etag=meta.get("eTag"),
        mimetype=str(meta.get("mimetype") or "application/octet-stream"),
        cache_control=str(meta.get("cacheControl") or "no-cache"),
        last_modified=row["updated_at"],
    )


async def _serve(
    request: Request, st: StackState, bucket: str, row: asyncpg.Record | None, expires: str | None = None
) -> Response:
    if row is None:
        raise object_not_found()
    path: Path = store_of(st).object_path(bucket, row["id"])
    return await file_response(
        request, path, object_meta(row), expires=expires, download=request.query_params.get("download")
    )


@endpoint
async def download_object(request: Request) -> Response:
    """``GET|HEAD /object/[authenticated/]{bucket}/{key}``: a SELECT as the caller."""
    claims = caller(request)
    bucket, key = path_params(request)
    st = stack(request)
    await bucket_info(st, bucket)
    async with st.db.as_caller(claims, method="GET", path=request.url.path) as conn:
        row = await conn.fetchrow(FIND_OBJECT, bucket, key)
    return await _serve(request, st, bucket, row)


@endpoint
async def download_public_object(request: Request) -> Response:
    """``GET|HEAD /object/public/{bucket}/{key}``: only for buckets marked public."""
    bucket, key = path_params(request)
    st = stack(request)
    info = await bucket_info(st, bucket)
    if not info.public:
        raise bucket_not_public()
    row = await st.db.admin.fetchrow(FIND_OBJECT, bucket, key)
    return await _serve(request, st, bucket, row)


def bucket_not_public() -> StorageFailure:
    return StorageFailure(400, "InvalidRequest", "The bucket is not public", "InvalidRequest")


@endpoint
async def fetch_signed_object(request: Request) -> Response:
    """``GET|HEAD /object/sign/{bucket}/{key}?token=``: no auth header; the token decides."""
    bucket, key = path_params(request)
    st = stack(request)
    claims = verify(request.query_params.get("token"), f"{bucket}/{key}", st.keys.secret, upload=False)
    row = await st.db.admin.fetchrow(FIND_OBJECT, bucket, key)
    expires = format_datetime(datetime.fromtimestamp(int(claims["exp"]), UTC), usegmt=True)
    return await _serve(request, st, bucket, row, expires=expires)
