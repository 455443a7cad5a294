"""Object endpoints over rows: info, sign, list, remove, move, copy; all as the caller."""

from __future__ import annotations

import base64
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from echogen_devstack.storage_common import (
    StorageFailure,
    bad_request,
    bucket_info,
    caller,
    endpoint,
    iso,
    json_body,
    json_field,
    object_json,
    object_not_found,
    owner_of,
    path_params,
    stack,
    store_of,
)
from echogen_devstack.storage_files import Installed, ObjectStore
from echogen_devstack.storage_keys import check_bucket, check_key, check_prefix
from echogen_devstack.storage_objects import FIND_OBJECT
from echogen_devstack.storage_tokens import sign_download

MAX_PREFIXES = 1000
NOT_ACCESSIBLE = "Either the object does not exist or you do not have access to it"
SORT_COLUMNS = {"name", "updated_at", "created_at", "last_accessed_at"}


def _expires_in(value: Any) -> int:
    """storage-api's schema says integer >= 1; storage3 sends a string, so coerce."""
    try:
        seconds = int(str(value).strip())
    except (TypeError, ValueError) as exc:
        raise StorageFailure(400, "Bad Request", "body/expiresIn must be integer", "InvalidRequest") from exc
    if seconds < 1:
        raise StorageFailure(400, "Bad Request", "body/expiresIn must be >= 1", "InvalidRequest")
    return seconds


def signed_path(bucket: str, key: str, token: str) -> str:
    return f"/object/sign/{quote(bucket, safe='')}/{quote(key, safe='/')}?token={token}"


@endpoint
async def object_info(request: Request) -> Response:
    """``GET /object/info/[authenticated/]{bucket}/{key}`` in storage-api's info shape."""
    claims = caller(request)
    bucket, key = path_params(request)
    st = stack(request)
    await bucket_info(st, bucket)
    async with st.db.as_caller(claims, method="GET", path=request.url.path) as conn:
        row = await conn.fetchrow(FIND_OBJECT, bucket, key)
    if row is None:
        raise object_not_found()
    meta = json_field(row["metadata"]) or {}
    return JSONResponse({
        "id": str(row["id"]),
        "name": row["name"],
        "version": None,
        "bucket_id": row["bucket_id"],
        "size": meta.get("size"),
        "content_type": meta.get("mimetype"),
        "cache_control": meta.get("cacheControl"),
        "etag": meta.get("eTag"),
        "metadata": json_field(row["user_metadata"]),
        "last_modified": iso(row["updated_at"]),
        "created_at": iso(row["created_at"]),
    })


@endpoint
async def sign_object(request: Request) -> Response:
    """``POST /object/sign/{bucket}/{key}``: you can sign only what you can read."""
    claims = caller(request)
    bucket, key = path_params(request)
    body = await json_body(request)
    expires = _expires_in(body.get("expiresIn"))
    st = stack(request)
    await bucket_info(st, bucket)
    async with st.db.as_caller(claims, method="POST", path=request.url.path) as conn:
        found = await conn.fetchval(
            "select true from storage.objects where bucket_id = $1 and name = $2", bucket, key
        )
    if not found:
        raise object_not_found()
    token = sign_download(f"{bucket}/{key}", expires, st.keys.secret)
    return JSONResponse({"signedURL": signed_path(bucket, key, token)})


@endpoint
async def sign_objects(request: Request) -> Response:
    """``POST /object/sign/{bucket}`` ``{paths, expiresIn}``: one entry per path, in order."""
    claims = caller(request)
    bucket = check_bucket(request.path_params["bucket"])
    body = await json_body(request)
    expires = _expires_in(body.get("expiresIn"))
    paths = body.get("paths")
    if not isinstance(paths, list) or not paths or len(paths) > MAX_PREFIXES:
        raise bad_request("paths must be a non-empty array of at most 1000 keys")
    keys = [check_key(p) for p in paths]
    st = stack(request)
    await bucket_info(st, bucket)
    async with st.db.as_caller(claims, method="POST", path=request.url.path) as conn:
        rows = await conn.fetch(
            "select name from storage.objects where bucket_id = $1 and name = any($2::text[])",
            bucket, keys,
        )
    visible = {r["name"] for r in rows}
    items: list[dict[str, Any]] = []
    for key in keys:
        if key in visible:
            token = sign_download(f"{bucket}/{key}", expires, st.keys.secret)
            items.append({"error": None, "path": key, "signedURL": signed_path(bucket, key, token)})
        else:
            items.append({"error": NOT_ACCESSIBLE, "path": key, "signedURL": None})
    return JSONResponse(items)


# ------------------------------------------------------------------ list


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _int_option(value: Any, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise bad_request("limit and offset must be integers") from exc
    return max(low, min(high, number))


@endpoint
async def list_objects(request: Request) -> Response:
    """``POST /object/list/{bucket}``: the direct children of ``prefix`` the caller can see.

    Folders come first (``id`` null), then files, like storage.search.
    """
    claims = caller(request)
    bucket = check_bucket(request.path_params["bucket"])
    body = await json_body(request)
    prefix = check_prefix(body.get("prefix"))
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    search = body.get("search") or ""
    if not isinstance(search, str) or any(ord(c) < 0x20 for c in search):
        raise bad_request("search must be a string")
    limit = _int_option(body.get("limit"), 100, 1, 10000)
    offset = _int_option(body.get("offset"), 0, 0, 2**31 - 1)
    sort = body.get("sortBy") or {}
    if not isinstance(sort, dict):
        raise bad_request("sortBy must be an object")
    column = sort.get("column") if sort.get("column") in SORT_COLUMNS else "name"
    order = "desc" if str(sort.get("order", "asc")).lower() == "desc" else "asc"
    level = prefix.count("/") + 1
    pattern = _like_escape(prefix) + _like_escape(search) + "%"
    # Identifiers come from the whitelists above; every value is a parameter.
    sql = f"""
    select name, id, updated_at, created_at, last_accessed_at, metadata from (
      select path_tokens[$3] as name, null::uuid as id, null::timestamptz as updated_at,
             null::timestamptz as created_at, null::timestamptz as last_accessed_at,
             null::jsonb as metadata, 0 as kind
      from storage.objects
      where bucket_id = $1 and name ilike $2 and cardinality(path_tokens) > $3
      group by path_tokens[$3]
      union all
      select path_tokens[$3], id, updated_at, created_at, last_accessed_at, metadata, 1
      from storage.objects
      where bucket_id = $1 and name ilike $2 and cardinality(path_tokens) = $3
    ) entries
    order by kind, {column} {order}, name {order}
    limit $4 offset $5
    """
    st = stack(request)
    await bucket_info(st, bucket)
    async with st.db.as_caller(claims, method="POST", path=request.url.path) as conn:
        rows = await conn.fetch(sql, bucket, pattern, level, limit, offset)
    return JSONResponse([
        {
            "name": r["name"],
            "id": str(r["id"]) if r["id"] else None,
            "updated_at": iso(r["updated_at"]),
            "created_at": iso(r["created_at"]),
            "last_accessed_at": iso(r["last_accessed_at"]),
            "metadata": json_field(r["metadata"]),
        }
        for r in rows
    ])


@endpoint
async def list_objects_v2(request: Request) -> Response:
    """``POST /object/list-v2/{bucket}``: name-ordered pages with an opaque cursor."""
    claims = caller(request)
    bucket = check_bucket(request.path_params["bucket"])
    body = await json_body(request)
    prefix = check_prefix(body.get("prefix"))
    limit = _int_option(body.get("limit"), 1000, 1, 1000)
    with_delimiter = bool(body.get("with_delimiter", False))
    after = _decode_cursor(body.get("cursor"))
    st = stack(request)
    await bucket_info(st, bucket)
    async with st.db.as_caller(claims, method="POST", path=request.url.path) as conn:
        rows = await conn.fetch(
            """select id, name, updated_at, created_at, metadata from storage.objects
               where bucket_id = $1 and starts_with(name, $2) and name collate "C" > $3
               order by name collate "C" limit $4""",
            bucket, prefix, after, limit * 10 + 1,
        )
    folders: dict[str, dict[str, Any]] = {}
    objects: list[dict[str, Any]] = []
    last = after
    for r in rows:
        if len(folders) + len(objects) >= limit:
            break
        rest = r["name"][len(prefix):]
        if with_delimiter and "/" in rest:
            folder = prefix + rest.split("/", 1)[0]
            folders.setdefault(folder, {"key": folder + "/", "name": rest.split("/", 1)[0] + "/"})
        else:
            objects.append({
                "id": str(r["id"]), "name": r["name"], "key": r["name"],
                "updated_at": iso(r["updated_at"]), "created_at": iso(r["created_at"]),
                "metadata": json_field(r["metadata"]),
            })
        last = r["name"]
    more = len(rows) > 0 and rows[-1]["name"] != last
    return JSONResponse({
        "hasNext": more,
        "folders": list(folders.values()),
        "objects": objects,
        "nextCursor": base64.urlsafe_b64encode(last.encode()).decode() if more else None,
    })


def _decode_cursor(cursor: Any) -> str:
    if not cursor:
        return ""
    try:
        return base64.urlsafe_b64decode(str(cursor).encode()).decode()
    except ValueError as exc:
        raise bad_request("invalid cursor") from exc


# ------------------------------------------------------------------ remove, move, copy


@endpoint
async def remove_objects(request: Request) -> Response:
    """``DELETE /object/{bucket}`` ``{prefixes}``: deletes what RLS lets the caller delete."""
    claims = caller(request)
    bucket = check_bucket(request.path_params["bucket"])
    body = await json_body(request)
    prefixes = body.get("prefixes")
    if not isinstance(prefixes, list) or not prefixes or len(prefixes) > MAX_PREFIXES:
        raise bad_request("prefixes must be a non-empty array of at most 1000 keys")
    keys = [check_key(p) for p in prefixes]
    st = stack(request)
    await bucket_info(st, bucket)
    async with st.db.as_caller(claims, method="DELETE", path=request.url.path) as conn:
        rows = await conn.fetch(
            "delete from storage.objects where bucket_id = $1 and name = any($2::text[]) returning *",
            bucket, keys,
        )
    await remove_files(store_of(st), bucket, [r["id"] for r in rows])
    return JSONResponse([object_json(r) for r in rows])


@endpoint
async def delete_object(request: Request) -> Response:
    """``DELETE /object/{bucket}/{key}``: one object, 404 when not visible."""
    claims = caller(request)
    bucket, key = path_params(request)
    st = stack(request)
    await bucket_info(st, bucket)
    async with st.db.as_caller(claims, method="DELETE", path=request.url.path) as conn:
        object_id = await conn.fetchval(
            "delete from storage.objects where bucket_id = $1 and name = $2 returning id", bucket, key
        )
    if object_id is None:
        raise object_not_found()
    await remove_files(store_of(st), bucket, [object_id])
    return JSONResponse({"message": "Successfully deleted"})


async def remove_files(store: ObjectStore, bucket: str, ids: list[Any]) -> None:
    """After the commit: the rows are gone, so their files are garbage."""

    def unlink_all() -> None:
        for object_id in ids:
            store.remove(bucket, object_id)

    await anyio.to_thread.run_sync(unlink_all)


def _move_args(body: dict[str, Any]) -> tuple[str, str, str, str]:
    source_bucket = check_bucket(body.get("bucketId"))
    dest_bucket = check_bucket(body.get("destinationBucket") or source_bucket)
    return source_bucket, check_key(body.get("sourceKey")), dest_bucket, check_key(body.get("destinationKey"))


@endpoint
async def move_object(request: Request) -> Response:
    """``POST /object/move``: an UPDATE of the row's name as the caller (USING + WITH CHECK)."""
    claims = caller(request)
    src_bucket, src_key, dst_bucket, dst_key = _move_args(await json_body(request))
    st = stack(request)
    await bucket_info(st, src_bucket)
    if dst_bucket != src_bucket:
        await bucket_info(st, dst_bucket)
    store = store_of(st)
    moved: tuple[Path, Path] | None = None
    try:
        async with st.db.as_caller(claims, method="POST", path=request.url.path) as conn:
            object_id = await conn.fetchval(
                """update storage.objects set bucket_id = $3, name = $4, updated_at = now()
                   where bucket_id = $1 and name = $2 returning id""",
                src_bucket, src_key, dst_bucket, dst_key,
            )
            if object_id is None:
                raise object_not_found()
            if dst_bucket != src_bucket:
                source = store.object_path(src_bucket, object_id)
                target = store.object_path(dst_bucket, object_id)
                _move_file(source, target)  # in-line: a rename, and never lost to a cancellation
                moved = (source, target)
    except BaseException:
        if moved is not None:
            _move_file(moved[1], moved[0])
        raise
    return JSONResponse({"message": "Successfully moved"})


def _move_file(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    source.replace(target)


@endpoint
async def copy_object(request: Request) -> Response:
    """``POST /object/copy``: read the source and insert the copy as the caller, one transaction."""
    claims = caller(request)
    body = await json_body(request)
    src_bucket, src_key, dst_bucket, dst_key = _move_args(body)
    upsert = request.headers.get("x-upsert", "").lower() == "true"
    st = stack(request)
    await bucket_info(st, src_bucket)
    if dst_bucket != src_bucket:
        await bucket_info(st, dst_bucket)
    store = store_of(st)
    owner, owner_id = owner_of(claims)
    temp = store.temp_path(dst_bucket)
    installed: Installed | None = None
    try:
        async with st.db.as_caller(claims, method="POST", path=request.url.path) as conn:
            source = await conn.fetchrow(FIND_OBJECT, src_bucket, src_key)
            if source is None:
                raise object_not_found()
            metadata = dict(json_field(source["metadata"]) or {})
            metadata["lastModified"] = iso(datetime.now(UTC))
            user_metadata = body.get("metadata") if body.get("copyMetadata") is False else None
            if user_metadata is None:
                user_metadata = json_field(source["user_metadata"])
            conflict = (
                """on conflict (bucket_id, name) do update set owner = excluded.owner,
                   owner_id = excluded.owner_id, metadata = excluded.metadata,
                   user_metadata = excluded.user_metadata, updated_at = now()"""
                if upsert else ""
            )
            object_id = await conn.fetchval(
                f"""insert into storage.objects (bucket_id, name, owner, owner_id, metadata, user_metadata)
                    values ($1, $2, $3, $4, $5::jsonb, $6::jsonb) {conflict} returning id""",
                dst_bucket, dst_key, owner, owner_id, _dumps(metadata), _dumps(user_metadata),
            )
            src_path = store.object_path(src_bucket, source["id"])
            await anyio.to_thread.run_sync(shutil.copyfile, src_path, temp)
            installed = store.install(temp, store.object_path(dst_bucket, object_id))
    except FileNotFoundError as exc:
        raise object_not_found() from exc
    except BaseException:
        if installed is not None:
            installed.undo()
        raise
    finally:
        temp.unlink(missing_ok=True)
    if installed is not None:
        installed.done()
    return JSONResponse({"Id": str(object_id), "Key": f"{dst_bucket}/{dst_key}"})


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value)
