"""Bucket endpoints, all as the caller: storage.buckets has RLS and no user policies, so in
practice only the service role manages buckets (as on Supabase)."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from echogen_devstack.storage_common import (
    StorageFailure,
    bad_request,
    bucket_not_found,
    caller,
    endpoint,
    iso,
    json_body,
    owner_of,
    stack,
    store_of,
)
from echogen_devstack.storage_keys import InvalidBucketName, check_bucket
from echogen_devstack.storage_manage import remove_files

BUCKET_NAME = re.compile(r"^[\w!\-.*'() &$@=;:+,?]+$")
SIZE_WITH_UNIT = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(gb|mb|kb|b)$", re.IGNORECASE)
UNIT_BYTES = {"gb": 10**9, "mb": 10**6, "kb": 1000, "b": 1}
BUCKET_COLUMNS = (
    "id, name, owner, owner_id, public, file_size_limit, allowed_mime_types, created_at, updated_at"
)


def bucket_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        # storage3's bucket model wants a string owner
        "owner": str(row["owner"]) if row["owner"] else (row["owner_id"] or ""),
        "public": row["public"],
        "type": "STANDARD",
        "file_size_limit": row["file_size_limit"],
        "allowed_mime_types": row["allowed_mime_types"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def _size_limit(value: Any) -> int | None:
    """An int of bytes, or storage-api's ``"50MB"`` style (decimal units)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise bad_request("Invalid file size format, hint: use 20GB / 20MB / 30KB / 3B")
    if isinstance(value, int):
        return value
    match = SIZE_WITH_UNIT.match(str(value).strip())
    if not match:
        raise bad_request("Invalid file size format, hint: use 20GB / 20MB / 30KB / 3B")
    return int(float(match.group(1)) * UNIT_BYTES[match.group(2).lower()])


def _mime_types(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and "/" in v for v in value):
        raise bad_request("allowed_mime_types must be an array of type/subtype strings")
    return value


@endpoint
async def list_buckets(request: Request) -> Response:
    claims = caller(request)
    st = stack(request)
    async with st.db.as_caller(claims, method="GET", path=request.url.path) as conn:
        rows = await conn.fetch(f"select {BUCKET_COLUMNS} from storage.buckets order by name")
    return JSONResponse([bucket_json(r) for r in rows])


@endpoint
async def get_bucket(request: Request) -> Response:
    claims = caller(request)
    bucket = check_bucket(request.path_params["bucket"])
    st = stack(request)
    async with st.db.as_caller(claims, method="GET", path=request.url.path) as conn:
        row = await conn.fetchrow(f"select {BUCKET_COLUMNS} from storage.buckets where id = $1", bucket)
    if row is None:
        raise bucket_not_found()
    return JSONResponse(bucket_json(row))


@endpoint
async def create_bucket(request: Request) -> Response:
    claims = caller(request)
    body = await json_body(request)
    name = body.get("name") or body.get("id")
    bucket_id = body.get("id") or name
    for value in (name, bucket_id):
        if not isinstance(value, str) or not BUCKET_NAME.match(value):
            raise InvalidBucketName(str(value))
        check_bucket(value)
    owner, owner_id = owner_of(claims)
    st = stack(request)
    async with st.db.as_caller(claims, method="POST", path=request.url.path) as conn:
        await conn.execute(
            """insert into storage.buckets
                 (id, name, owner, owner_id, public, file_size_limit, allowed_mime_types)
               values ($1, $2, $3, $4, $5, $6, $7)""",
            bucket_id, name, owner, owner_id, bool(body.get("public", False)),
            _size_limit(body.get("file_size_limit")), _mime_types(body.get("allowed_mime_types")),
        )
    return JSONResponse({"name": name})


@endpoint
async def update_bucket(request: Request) -> Response:
    claims = caller(request)
    bucket = check_bucket(request.path_params["bucket"])
    body = await json_body(request)
    sets: list[str] = []
    args: list[Any] = [bucket]
    if "public" in body:
        args.append(bool(body["public"]))
        sets.append(f"public = ${len(args)}")
    if "file_size_limit" in body:
        args.append(_size_limit(body["file_size_limit"]))
        sets.append(f"file_size_limit = ${len(args)}")
    if "allowed_mime_types" in body:
        args.append(_mime_types(body["allowed_mime_types"]))
        sets.append(f"allowed_mime_types = ${len(args)}")
    sets.append("updated_at = now()")
    st = stack(request)
    async with st.db.as_caller(claims, method="PUT", path=request.url.path) as conn:
        found = await conn.fetchval(
            f"update storage.buckets set {', '.join(sets)} where id = $1 returning id", *args
        )
    if found is None:
        raise bucket_not_found()
    return JSONResponse({"message": "Successfully updated"})


@endpoint
async def delete_bucket(request: Request) -> Response:
    claims = caller(request)
    bucket = check_bucket(request.path_params["bucket"])
    st = stack(request)
    try:
        async with st.db.as_caller(claims, method="DELETE", path=request.url.path) as conn:
            found = await conn.fetchval("delete from storage.buckets where id = $1 returning id", bucket)
    except asyncpg.ForeignKeyViolationError as exc:
        raise StorageFailure(
            409, "InvalidRequest", "The bucket you tried to delete is not empty", "ResourceNotEmpty"
        ) from exc
    if found is None:
        raise bucket_not_found()
    return JSONResponse({"message": "Successfully deleted"})


@endpoint
async def empty_bucket(request: Request) -> Response:
    claims = caller(request)
    bucket = check_bucket(request.path_params["bucket"])
    st = stack(request)
    async with st.db.as_caller(claims, method="POST", path=request.url.path) as conn:
        if await conn.fetchval("select id from storage.buckets where id = $1", bucket) is None:
            raise bucket_not_found()
        rows = await conn.fetch("delete from storage.objects where bucket_id = $1 returning id", bucket)
    await remove_files(store_of(st), bucket, [r["id"] for r in rows])
    return JSONResponse({"message": "Successfully emptied"})
