"""Storage contract: the unmodified supabase-py storage client (and raw HTTP where the client
would refuse or normalise a request) against the devstack's /storage/v1.

Users own ``{their uid}/...`` in the private buckets; the policies in supabase/migrations decide,
the stack only runs every step as the caller. Files on disk and rows in storage.objects are
checked directly, so "nothing left behind" is observed, not assumed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import jwt
import pytest
from storage3._async.file_api import AsyncBucketProxy
from storage3.exceptions import StorageApiError
from storage3.types import FileOptions

from echogen_devstack.runner import StackInfo
from tests.conftest import TestUser

UserFactory = Callable[[], Awaitable[TestUser]]
AUDIO = "podcast-audio"
COVERS = "cover-art"
MP3: FileOptions = {"content-type": "audio/mpeg"}
MP3_UPSERT: FileOptions = {"content-type": "audio/mpeg", "upsert": "true"}
PNG: FileOptions = {"content-type": "image/png"}
TEXT: FileOptions = {"content-type": "text/plain"}


@pytest.fixture
async def admin(stack: StackInfo) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(stack.admin_dsn)
    try:
        yield conn
    finally:
        await conn.close()


def auth_headers(stack: StackInfo, token: str | None = None) -> dict[str, str]:
    return {"apikey": stack.anon_key, "Authorization": f"Bearer {token or stack.anon_key}"}


def bucket_dir(stack: StackInfo, bucket: str) -> Path:
    return Path(stack.data_dir) / "storage" / bucket


def files_in(stack: StackInfo, bucket: str) -> set[str]:
    directory = bucket_dir(stack, bucket)
    return {p.name for p in directory.iterdir()} if directory.exists() else set()


async def object_row(admin: asyncpg.Connection, bucket: str, name: str) -> asyncpg.Record | None:
    return await admin.fetchrow(
        "select id, owner, owner_id, metadata from storage.objects where bucket_id = $1 and name = $2",
        bucket, name,
    )


async def signed_url(bucket: AsyncBucketProxy, key: str, seconds: int) -> str:
    url = (await bucket.create_signed_url(key, seconds))["signedURL"]
    assert url is not None
    return url


def key_for(user: TestUser, filename: str = "episode.mp3") -> str:
    return f"{user.id}/{uuid.uuid4()}/{filename}"


async def raw_http(stack: StackInfo, method: str, target: str, headers: dict[str, str],
                   body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """One request over a plain socket: the target goes out byte for byte, unnormalised."""
    parts = urlsplit(stack.url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close",
             f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, payload = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    response_headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        response_headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), response_headers, payload


# ------------------------------------------------------------------ own folder vs others


async def test_owner_round_trip_with_row_and_file(
    stack: StackInfo, user_factory: UserFactory, admin: asyncpg.Connection
) -> None:
    user = await user_factory()
    key = key_for(user)
    data = os.urandom(5000)
    bucket = user.client.storage.from_(AUDIO)
    result = await bucket.upload(key, data, MP3)
    assert result.full_path == f"{AUDIO}/{key}"

    assert await bucket.download(key) == data
    row = await object_row(admin, AUDIO, key)
    assert row is not None
    assert str(row["owner"]) == user.id and row["owner_id"] == user.id
    meta = json_of(row["metadata"])
    assert meta["size"] == 5000 and meta["mimetype"] == "audio/mpeg"
    assert meta["eTag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert meta["cacheControl"] == "max-age=3600"
    assert (bucket_dir(stack, AUDIO) / str(row["id"])).read_bytes() == data

    info = await bucket.info(key)
    assert info["id"] == str(row["id"]) and info["size"] == 5000
    assert info["content_type"] == "audio/mpeg"
    assert await bucket.exists(key) is True
    assert await bucket.exists(f"{user.id}/missing.mp3") is False


def json_of(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def test_another_users_folder_is_off_limits(
    stack: StackInfo, user_factory: UserFactory, admin: asyncpg.Connection
) -> None:
    owner, intruder = await user_factory(), await user_factory()
    key = key_for(owner)
    await owner.client.storage.from_(AUDIO).upload(key, b"mine", MP3)
    theirs = intruder.client.storage.from_(AUDIO)

    with pytest.raises(StorageApiError) as upload_err:
        await theirs.upload(key_for(owner), b"planted", MP3)
    assert str(upload_err.value.status) == "403"
    assert upload_err.value.message == "new row violates row-level security policy"

    with pytest.raises(StorageApiError) as overwrite_err:
        await theirs.upload(key, b"overwritten", MP3_UPSERT)
    assert str(overwrite_err.value.status) in ("403", "409")

    for attempt in (theirs.download(key), theirs.create_signed_url(key, 60), theirs.info(key)):
        with pytest.raises(StorageApiError) as err:
            await attempt
        assert str(err.value.status) == "404" and err.value.message == "Object not found"

    folder = key.rsplit("/", 1)[0]
    assert await theirs.list(folder) == []
    assert await theirs.list(owner.id) == []
    assert await theirs.remove([key]) == []
    with pytest.raises(StorageApiError) as move_err:
        await theirs.move(key, f"{intruder.id}/stolen.mp3")
    assert str(move_err.value.status) == "404"

    # Nothing changed for the owner.
    assert await owner.client.storage.from_(AUDIO).download(key) == b"mine"
    row = await object_row(admin, AUDIO, key)
    assert row is not None and str(row["owner"]) == owner.id


async def test_anon_can_neither_read_nor_write(stack: StackInfo, user_factory: UserFactory,
                                               anon_client: Any) -> None:
    owner = await user_factory()
    key = key_for(owner)
    await owner.client.storage.from_(AUDIO).upload(key, b"private", MP3)
    anon = anon_client.storage.from_(AUDIO)
    with pytest.raises(StorageApiError) as read_err:
        await anon.download(key)
    assert str(read_err.value.status) == "404"
    with pytest.raises(StorageApiError) as write_err:
        await anon.upload(f"{owner.id}/anon.mp3", b"x", MP3)
    assert str(write_err.value.status) == "403"


async def test_list_shows_direct_children_and_folders(user_factory: UserFactory) -> None:
    user = await user_factory()
    bucket = user.client.storage.from_(AUDIO)
    base = f"{user.id}/{uuid.uuid4()}"
    for name in ("b.mp3", "a.mp3", "sub/c.mp3", "sub/deeper/d.mp3"):
        await bucket.upload(f"{base}/{name}", name.encode(), MP3)

    entries = await bucket.list(base)
    assert [e["name"] for e in entries] == ["sub", "a.mp3", "b.mp3"]
    assert entries[0]["id"] is None and entries[1]["id"] is not None
    assert entries[1]["metadata"]["size"] == len(b"a.mp3")
    assert [e["name"] for e in await bucket.list(f"{base}/sub/")] == ["deeper", "c.mp3"]
    paged = await bucket.list(base, {"limit": 1, "offset": 1, "sortBy": {"column": "name", "order": "desc"}})
    assert [e["name"] for e in paged] == ["b.mp3"]
    assert [e["name"] for e in await bucket.list(base, {"search": "b"})] == ["b.mp3"]
    # At the bucket root a user sees only their own folder.
    assert [e["name"] for e in await bucket.list()] == [user.id]


async def test_remove_deletes_rows_and_files(
    stack: StackInfo, user_factory: UserFactory, admin: asyncpg.Connection
) -> None:
    user = await user_factory()
    bucket = user.client.storage.from_(AUDIO)
    keys = [key_for(user, f"{i}.mp3") for i in range(3)]
    ids = []
    for key in keys:
        ids.append((await bucket.upload(key, b"x" * 10, MP3)).full_path)
    rows = [await object_row(admin, AUDIO, key) for key in keys]
    removed = await bucket.remove([*keys[:2], f"{user.id}/never-existed.mp3"])
    assert sorted(r["name"] for r in removed) == sorted(keys[:2])
    for key, row in zip(keys, rows, strict=True):
        assert row is not None
        gone = key in keys[:2]
        assert (await object_row(admin, AUDIO, key) is None) is gone
        assert (bucket_dir(stack, AUDIO) / str(row["id"])).exists() is not gone


# ------------------------------------------------------------------ signed URLs


async def test_signed_url_works_without_auth(stack: StackInfo, user_factory: UserFactory,
                                             http: httpx.AsyncClient) -> None:
    user = await user_factory()
    key = key_for(user)
    data = os.urandom(2048)
    bucket = user.client.storage.from_(AUDIO)
    await bucket.upload(key, data, MP3)
    signed = await signed_url(bucket, key, 60)
    assert signed.startswith(f"{stack.url}/storage/v1/object/sign/{AUDIO}/")

    response = await http.get(signed)  # no apikey, no Authorization
    assert response.status_code == 200 and response.content == data
    assert response.headers["content-type"] == "audio/mpeg"
    assert response.headers["expires"].endswith("GMT")
    head = await http.head(signed)
    assert head.status_code == 200 and head.headers["content-length"] == "2048" and head.content == b""

    batch = await bucket.create_signed_urls([key, f"{user.id}/nope.mp3"], 60)
    assert batch[0]["error"] is None and (await http.get(str(batch[0]["signedURL"]))).content == data
    assert batch[1]["signedURL"] is None and batch[1]["error"]


async def test_signed_url_expires(user_factory: UserFactory, http: httpx.AsyncClient) -> None:
    user = await user_factory()
    key = key_for(user)
    bucket = user.client.storage.from_(AUDIO)
    await bucket.upload(key, b"short-lived", MP3)
    signed = await signed_url(bucket, key, 1)
    assert (await http.get(signed)).status_code == 200
    await asyncio.sleep(2.2)
    response = await http.get(signed)
    assert response.status_code == 400
    assert response.json()["message"] == "The provided token has expired."
    assert response.json()["statusCode"] == "400"


async def test_signed_url_rejects_tampering_and_other_objects(
    stack: StackInfo, user_factory: UserFactory, http: httpx.AsyncClient
) -> None:
    user = await user_factory()
    bucket = user.client.storage.from_(AUDIO)
    first, second = key_for(user, "one.mp3"), key_for(user, "two.mp3")
    await bucket.upload(first, b"one", MP3)
    await bucket.upload(second, b"two", MP3)
    signed = await signed_url(bucket, first, 60)
    token = signed.split("token=", 1)[1]
    base = f"{stack.url}/storage/v1/object/sign/{AUDIO}"

    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    bad_sig = await http.get(f"{base}/{first}", params={"token": f"{header}.{payload}.{flipped}"})
    assert bad_sig.status_code == 400 and bad_sig.json()["message"] == "invalid signature"

    forged = jwt.encode({"url": f"{AUDIO}/{second}", "exp": int(time.time()) + 60},
                        "a-wrong-secret-that-is-long-enough-for-hs256", algorithm="HS256")
    assert (await http.get(f"{base}/{second}", params={"token": forged})).status_code == 400

    other = await http.get(f"{base}/{second}", params={"token": token})
    assert other.status_code == 400 and other.json()["error"] == "InvalidSignature"
    garbage = await http.get(f"{base}/{first}", params={"token": "not-a-jwt"})
    assert garbage.status_code == 400 and garbage.json()["message"] == "jwt malformed"
    missing = await http.get(f"{base}/{first}")
    assert missing.status_code == 400
    # The user's own access token is signed with the same secret but names no object.
    own = await http.get(f"{base}/{first}", params={"token": user.access_token})
    assert own.status_code == 400


async def test_signed_upload_url(stack: StackInfo, user_factory: UserFactory,
                                 http: httpx.AsyncClient) -> None:
    user, intruder = await user_factory(), await user_factory()
    bucket = user.client.storage.from_(AUDIO)
    key = key_for(user)
    signed = await bucket.create_signed_upload_url(key)
    files = {"file": ("a.mp3", b"via token", "audio/mpeg")}
    response = await http.put(signed["signed_url"], files=files)  # no auth headers at all
    assert response.status_code == 200, response.text
    assert response.json()["Key"] == f"{AUDIO}/{key}"
    assert await bucket.download(key) == b"via token"
    # A used-once path without upsert is now taken; another path can't reuse the token.
    again = await http.put(signed["signed_url"], files=files)
    assert again.status_code == 400 and again.json()["statusCode"] == "409"
    elsewhere = signed["signed_url"].replace(key, key_for(user))
    assert (await http.put(elsewhere, files=files)).json()["error"] == "InvalidSignature"
    # storage3's own helper works too.
    second = key_for(user)
    token = (await bucket.create_signed_upload_url(second))["token"]
    await bucket.upload_to_signed_url(second, token, b"helper", {"content-type": "audio/mpeg"})
    assert await bucket.download(second) == b"helper"

    with pytest.raises(StorageApiError) as err:
        await intruder.client.storage.from_(AUDIO).create_signed_upload_url(key_for(user))
    assert str(err.value.status) == "403"


# ------------------------------------------------------------------ path safety


TRAVERSALS = [
    "{uid}/../{other}/x.mp3",
    "{uid}/%2e%2e/{other}/x.mp3",
    "{uid}/%2E%2E%2F{other}/x.mp3",
    "{uid}/./x.mp3",
    "/etc/passwd",
    "%2Fetc%2Fpasswd",
    "{uid}//x.mp3",
    "{uid}/a%5C..%5Cb.mp3",
    "{uid}/nul%00.mp3",
    "{uid}/ctl%0A.mp3",
]


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_path_traversal_in_the_url_is_rejected(
    stack: StackInfo, user_factory: UserFactory, admin: asyncpg.Connection, method: str
) -> None:
    user, other = await user_factory(), await user_factory()
    before = await admin.fetchval("select count(*) from storage.objects")
    for template in TRAVERSALS:
        key = template.format(uid=user.id, other=other.id)
        headers = {**auth_headers(stack, user.access_token), "Content-Type": "audio/mpeg"}
        for route in ("object", "object/authenticated", "object/sign", "object/info"):
            if method == "POST" and route in ("object/authenticated", "object/info"):
                continue
            target = f"/storage/v1/{route}/{AUDIO}/{key}"
            body = b'{"expiresIn": 60}' if route == "object/sign" else b"evil"
            if route == "object/sign":
                headers = {**headers, "Content-Type": "application/json"}
            status, _, payload = await raw_http(stack, method, target, headers, body)
            if "%0A" in key:  # the router's path pattern stops at a newline: no route at all
                assert status == 404, (target, status, payload)
                continue
            assert status == 400, (target, status, payload)
            assert b'"error":"InvalidKey"' in payload, (target, payload)
    assert await admin.fetchval("select count(*) from storage.objects") == before
    assert not any(name.startswith(".tmp-") for name in files_in(stack, AUDIO))


async def test_path_traversal_in_json_bodies_is_rejected(
    stack: StackInfo, user_factory: UserFactory, http: httpx.AsyncClient
) -> None:
    user = await user_factory()
    key = key_for(user)
    await user.client.storage.from_(AUDIO).upload(key, b"x", MP3)
    headers = auth_headers(stack, user.access_token)
    base = f"{stack.url}/storage/v1/object"
    bad_keys = [f"{user.id}/../x.mp3", "/etc/passwd", f"{user.id}/a\\b.mp3", f"{user.id}/\x00.mp3", ""]
    for bad in bad_keys:
        for path, body in (
            ("move", {"bucketId": AUDIO, "sourceKey": key, "destinationKey": bad}),
            ("copy", {"bucketId": AUDIO, "sourceKey": key, "destinationKey": bad}),
            ("move", {"bucketId": AUDIO, "sourceKey": bad, "destinationKey": key_for(user)}),
            (f"sign/{AUDIO}", {"paths": [bad], "expiresIn": 60}),
        ):
            response = await http.post(f"{base}/{path}", json=body, headers=headers)
            assert response.status_code == 400, (path, bad, response.text)
            assert response.json()["statusCode"] == "400"
        removed = await http.request("DELETE", f"{base}/{AUDIO}", json={"prefixes": [bad]}, headers=headers)
        assert removed.status_code == 400
    listed = await http.post(f"{base}/list/{AUDIO}", json={"prefix": "../"}, headers=headers)
    assert listed.status_code == 400 and listed.json()["error"] == "InvalidKey"
    bad_bucket = await http.post(f"{base}/move", headers=headers,
                                 json={"bucketId": "..", "sourceKey": key, "destinationKey": key})
    assert bad_bucket.status_code == 400
    assert await user.client.storage.from_(AUDIO).download(key) == b"x"


# ------------------------------------------------------------------ Range and headers


async def test_range_reads_return_exact_bytes(
    stack: StackInfo, user_factory: UserFactory, http: httpx.AsyncClient
) -> None:
    user = await user_factory()
    key = key_for(user)
    data = os.urandom(1000)
    bucket = user.client.storage.from_(AUDIO)
    await bucket.upload(key, data, MP3)
    signed = await signed_url(bucket, key, 60)
    authed = f"{stack.url}/storage/v1/object/authenticated/{AUDIO}/{key}"
    headers = auth_headers(stack, user.access_token)

    cases = {
        "bytes=0-9": (0, 9),
        "bytes=100-199": (100, 199),
        "bytes=-50": (950, 999),
        "bytes=990-": (990, 999),
        "bytes=995-5000": (995, 999),
        "bytes=999-999": (999, 999),
    }
    for url, extra in ((authed, headers), (signed, {})):
        for spec, (first, last) in cases.items():
            response = await http.get(url, headers={**extra, "Range": spec})
            assert response.status_code == 206, (spec, response.text)
            assert response.content == data[first:last + 1], spec
            assert response.headers["content-range"] == f"bytes {first}-{last}/1000"
            assert response.headers["content-length"] == str(last - first + 1)
        full = await http.get(url, headers=extra)
        assert full.status_code == 200 and full.content == data
        assert full.headers["accept-ranges"] == "bytes"
        for spec in ("bytes=1000-", "bytes=5000-6000", "bytes=-0"):
            response = await http.get(url, headers={**extra, "Range": spec})
            assert response.status_code == 416, spec
            assert response.headers["content-range"] == "bytes */1000"
        # Unparsable ranges are ignored (RFC 9110): the whole object comes back.
        ignored = await http.get(url, headers={**extra, "Range": "bytes=9-1"})
        assert ignored.status_code == 200 and ignored.content == data


async def test_download_headers_and_conditional_get(
    stack: StackInfo, user_factory: UserFactory, http: httpx.AsyncClient
) -> None:
    user = await user_factory()
    key = key_for(user, "cover.png")
    data = b"\x89PNG\r\n\x1a\n" + os.urandom(300)
    await user.client.storage.from_(COVERS).upload(key, data, {"content-type": "image/png",
                                                                      "cache-control": "120"})
    url = f"{stack.url}/storage/v1/object/{COVERS}/{key}"
    headers = auth_headers(stack, user.access_token)
    response = await http.get(url, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["etag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert response.headers["cache-control"] == "max-age=120"
    assert response.headers["last-modified"].endswith("GMT")
    cached = await http.get(url, headers={**headers, "If-None-Match": response.headers["etag"]})
    assert cached.status_code == 304 and cached.content == b""
    download = await http.get(url, headers=headers, params={"download": "mine.png"})
    assert "attachment" in download.headers["content-disposition"]


# ------------------------------------------------------------------ refusals leave nothing


async def test_oversized_upload_is_refused_and_leaves_nothing(
    stack: StackInfo, user_factory: UserFactory, admin: asyncpg.Connection
) -> None:
    user = await user_factory()
    key = key_for(user, "huge.png")
    before = files_in(stack, COVERS)
    limit = await admin.fetchval("select file_size_limit from storage.buckets where id = $1", COVERS)
    with pytest.raises(StorageApiError) as err:
        await user.client.storage.from_(COVERS).upload(key, b"\0" * (limit + 1), PNG)
    assert str(err.value.status) == "413"
    assert err.value.message == "The object exceeded the maximum allowed size"
    assert await object_row(admin, COVERS, key) is None
    assert files_in(stack, COVERS) == before
    # Exactly at the limit is fine.
    await user.client.storage.from_(COVERS).upload(key, b"\0" * limit, PNG)


async def test_raw_body_over_the_limit_is_refused(
    stack: StackInfo, user_factory: UserFactory, admin: asyncpg.Connection, http: httpx.AsyncClient
) -> None:
    user = await user_factory()
    key = key_for(user, "raw.png")
    limit = await admin.fetchval("select file_size_limit from storage.buckets where id = $1", COVERS)
    response = await http.post(
        f"{stack.url}/storage/v1/object/{COVERS}/{key}", content=b"\1" * (limit + 10),
        headers={**auth_headers(stack, user.access_token), "Content-Type": "image/png"},
    )
    assert response.status_code == 400 and response.json()["statusCode"] == "413"
    assert await object_row(admin, COVERS, key) is None
    ok = await http.post(
        f"{stack.url}/storage/v1/object/{COVERS}/{key}", content=b"\1" * 100,
        headers={**auth_headers(stack, user.access_token), "Content-Type": "image/png",
                 "Cache-Control": "no-store"},
    )
    assert ok.status_code == 200, ok.text
    row = await object_row(admin, COVERS, key)
    assert row is not None and json_of(row["metadata"])["cacheControl"] == "no-store"


async def test_wrong_mime_type_is_refused_and_leaves_nothing(
    stack: StackInfo, user_factory: UserFactory, admin: asyncpg.Connection
) -> None:
    user = await user_factory()
    key = key_for(user, "notes.txt")
    before = files_in(stack, AUDIO)
    with pytest.raises(StorageApiError) as err:
        await user.client.storage.from_(AUDIO).upload(key, b"hello", TEXT)
    assert str(err.value.status) == "415"
    assert err.value.message == "mime type text/plain is not supported"
    assert await object_row(admin, AUDIO, key) is None
    assert files_in(stack, AUDIO) == before


async def test_upsert_false_conflicts_and_upsert_true_replaces(
    stack: StackInfo, user_factory: UserFactory, admin: asyncpg.Connection
) -> None:
    user = await user_factory()
    key = key_for(user)
    bucket = user.client.storage.from_(AUDIO)
    await bucket.upload(key, b"first", MP3)
    row = await object_row(admin, AUDIO, key)
    assert row is not None
    with pytest.raises(StorageApiError) as err:
        await bucket.upload(key, b"second", MP3)
    assert str(err.value.status) == "409" and err.value.message == "The resource already exists"
    assert await bucket.download(key) == b"first"

    await bucket.upload(key, b"third", MP3_UPSERT)
    assert await bucket.download(key) == b"third"
    await bucket.update(key, b"fourth", MP3)
    assert await bucket.download(key) == b"fourth"
    again = await object_row(admin, AUDIO, key)
    assert again is not None and again["id"] == row["id"]
    assert json_of(again["metadata"])["size"] == len(b"fourth")
    assert not any(n.startswith((".tmp-", ".old-")) for n in files_in(stack, AUDIO))


async def test_move_and_copy(
    stack: StackInfo, user_factory: UserFactory, admin: asyncpg.Connection, http: httpx.AsyncClient
) -> None:
    user, other = await user_factory(), await user_factory()
    bucket = user.client.storage.from_(AUDIO)
    source, moved, copied = key_for(user), key_for(user), key_for(user)
    await bucket.upload(source, b"payload", MP3)

    assert (await bucket.move(source, moved))["message"] == "Successfully moved"
    assert await bucket.download(moved) == b"payload"
    assert await bucket.exists(source) is False

    await bucket.copy(moved, copied)
    assert await bucket.download(copied) == b"payload"
    assert await bucket.download(moved) == b"payload"
    a, b = await object_row(admin, AUDIO, moved), await object_row(admin, AUDIO, copied)
    assert a is not None and b is not None and a["id"] != b["id"]
    assert (bucket_dir(stack, AUDIO) / str(b["id"])).read_bytes() == b"payload"

    with pytest.raises(StorageApiError) as into_other:
        await bucket.move(moved, f"{other.id}/taken.mp3")
    assert str(into_other.value.status) == "403"
    with pytest.raises(StorageApiError) as copy_other:
        await bucket.copy(moved, f"{other.id}/taken.mp3")
    assert str(copy_other.value.status) == "403"
    with pytest.raises(StorageApiError) as onto_existing:
        await bucket.move(moved, copied)
    assert str(onto_existing.value.status) == "409"
    with pytest.raises(StorageApiError) as from_other:
        await other.client.storage.from_(AUDIO).copy(moved, f"{other.id}/stolen.mp3")
    assert str(from_other.value.status) == "404"
    assert await bucket.download(moved) == b"payload"
    assert await object_row(admin, AUDIO, f"{other.id}/taken.mp3") is None

    # Across buckets (storage-api's destinationBucket): the row and its file both move.
    across = f"{user.id}/moved/notes.bin"
    response = await http.post(
        f"{stack.url}/storage/v1/object/move", headers=auth_headers(stack, user.access_token),
        json={"bucketId": AUDIO, "sourceKey": copied, "destinationKey": across,
              "destinationBucket": "transcripts"},
    )
    assert response.status_code == 200, response.text
    assert not (bucket_dir(stack, AUDIO) / str(b["id"])).exists()
    assert (bucket_dir(stack, "transcripts") / str(b["id"])).read_bytes() == b"payload"
    assert await user.client.storage.from_("transcripts").download(across) == b"payload"


async def test_client_disconnect_mid_upload_leaves_nothing(
    stack: StackInfo, user_factory: UserFactory, admin: asyncpg.Connection
) -> None:
    user = await user_factory()
    key = key_for(user)
    before = files_in(stack, AUDIO)
    parts = urlsplit(stack.url)
    _, writer = await asyncio.open_connection(parts.hostname, parts.port)
    head = (
        f"POST /storage/v1/object/{AUDIO}/{key} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"apikey: {stack.anon_key}\r\nAuthorization: Bearer {user.access_token}\r\n"
        "Content-Type: audio/mpeg\r\nContent-Length: 8000000\r\n\r\n"
    )
    writer.write(head.encode() + os.urandom(3_000_000))
    await writer.drain()
    deadline = time.monotonic() + 10
    while not any(n.startswith(".tmp-") for n in files_in(stack, AUDIO)):  # the server is mid-body
        assert time.monotonic() < deadline, "the upload never reached the disk"
        await asyncio.sleep(0.05)
    writer.transport.abort()  # vanish mid-body
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        leftovers = files_in(stack, AUDIO) - before
        if not leftovers:
            break
        await asyncio.sleep(0.1)
    assert files_in(stack, AUDIO) - before == set()
    assert await object_row(admin, AUDIO, key) is None
    # The stack keeps serving.
    await user.client.storage.from_(AUDIO).upload(key, b"after", MP3)
    assert await user.client.storage.from_(AUDIO).download(key) == b"after"


async def test_large_upload_round_trips_and_streams(
    stack: StackInfo, user_factory: UserFactory, http: httpx.AsyncClient
) -> None:
    user = await user_factory()
    key = key_for(user, "long.mp3")
    data = os.urandom(30 * 1024 * 1024)
    bucket = user.client.storage.from_(AUDIO)
    async with _peak_rss(stack) as peak:
        await bucket.upload(key, data, MP3)
        signed = await signed_url(bucket, key, 60)
        digest = hashlib.sha256()
        size = 0
        async with http.stream("GET", signed) as response:
            assert response.status_code == 200
            async for chunk in response.aiter_bytes():
                digest.update(chunk)
                size += len(chunk)
    assert size == len(data) and digest.hexdigest() == hashlib.sha256(data).hexdigest()
    if peak:
        # Body to disk in 1 MiB batches and back out in chunks: never a 30 MB buffer.
        assert max(peak) - peak[0] < 20 * 1024, f"server RSS grew by {max(peak) - peak[0]} KiB"


@asynccontextmanager
async def _peak_rss(stack: StackInfo) -> AsyncIterator[list[int]]:
    """Sample the gateway's RSS (KiB) every few ms while the block runs; empty if not found."""
    pid = _server_pid(stack)
    samples: list[int] = []
    if pid is None:
        assert not _has_proc(), "the gateway process was not found"
        yield samples
        return
    samples.append(_rss_kib(pid))

    async def sample() -> None:
        while True:
            samples.append(_rss_kib(pid))
            await asyncio.sleep(0.005)

    task = asyncio.create_task(sample())
    try:
        yield samples
    finally:
        task.cancel()


def _has_proc() -> bool:
    return Path("/proc/self/status").exists()


def _server_pid(stack: StackInfo) -> int | None:
    """The gateway process serving this stack (found by its data dir on the command line)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"echogen_devstack" in cmdline and stack.data_dir.encode() in cmdline:
            return int(entry.name)
    return None


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# ------------------------------------------------------------------ tokens and buckets


async def test_bad_caller_tokens(stack: StackInfo, user_factory: UserFactory, http: httpx.AsyncClient) -> None:
    user = await user_factory()
    url = f"{stack.url}/storage/v1/object/list/{AUDIO}"
    now = int(time.time())
    claims = {"sub": user.id, "role": "authenticated", "aud": "authenticated"}
    expired = jwt.encode({**claims, "exp": now - 10}, stack.jwt_secret, algorithm="HS256")
    forged = jwt.encode({**claims, "exp": now + 60}, "not-the-secret-but-long-enough-for-hs256-checks",
                        algorithm="HS256")
    for token, message in ((expired, "jwt expired"), (forged, "invalid signature")):
        response = await http.post(url, json={"prefix": user.id}, headers=auth_headers(stack, token))
        assert response.status_code == 400
        assert response.json()["statusCode"] == "403" and response.json()["message"] == message
    no_key = await http.post(url, json={"prefix": ""}, headers={"Authorization": f"Bearer {user.access_token}"})
    assert no_key.status_code == 401


async def test_buckets_are_service_role_business(
    stack: StackInfo, user_factory: UserFactory, service_client: Any
) -> None:
    user = await user_factory()
    assert await user.client.storage.list_buckets() == []
    with pytest.raises(StorageApiError) as err:
        await user.client.storage.create_bucket(f"mine-{uuid.uuid4().hex[:8]}")
    assert str(err.value.status) == "403"

    names = {b.id for b in await service_client.storage.list_buckets()}
    assert {AUDIO, COVERS, "transcripts"} <= names
    audio = await service_client.storage.get_bucket(AUDIO)
    assert audio.public is False and audio.file_size_limit and "audio/mpeg" in (audio.allowed_mime_types or [])

    temp = f"scratch-{uuid.uuid4().hex[:8]}"
    await service_client.storage.create_bucket(temp, options={"public": True, "file_size_limit": "1KB",
                                                              "allowed_mime_types": ["text/*"]})
    with pytest.raises(StorageApiError) as dup:
        await service_client.storage.create_bucket(temp)
    assert str(dup.value.status) == "409"
    bucket = service_client.storage.from_(temp)
    await bucket.upload("notes/a.txt", b"hi", TEXT)
    public_url = await bucket.get_public_url("notes/a.txt")
    async with httpx.AsyncClient() as plain:
        assert (await plain.get(public_url)).content == b"hi"
    with pytest.raises(StorageApiError) as too_big:
        await bucket.upload("notes/b.txt", b"x" * 1001, TEXT)
    assert str(too_big.value.status) == "413"
    await service_client.storage.update_bucket(temp, {"public": False, "file_size_limit": 5000})
    assert (await service_client.storage.get_bucket(temp)).file_size_limit == 5000
    with pytest.raises(StorageApiError) as not_empty:
        await service_client.storage.delete_bucket(temp)
    assert str(not_empty.value.status) == "409"
    await service_client.storage.empty_bucket(temp)
    assert files_in(stack, temp) == set()
    await service_client.storage.delete_bucket(temp)
    with pytest.raises(StorageApiError) as gone:
        await service_client.storage.get_bucket(temp)
    assert str(gone.value.status) == "404"


async def test_list_v2(user_factory: UserFactory) -> None:
    user = await user_factory()
    bucket = user.client.storage.from_(AUDIO)
    base = f"{user.id}/{uuid.uuid4()}/"
    for name in ("a.mp3", "b.mp3", "c/d.mp3"):
        await bucket.upload(base + name, b"1", MP3)
    page = await bucket.list_v2({"prefix": base, "with_delimiter": True, "limit": 2})
    assert [o.name for o in page.objects] == [base + "a.mp3", base + "b.mp3"] and page.hasNext
    rest = await bucket.list_v2({"prefix": base, "with_delimiter": True, "cursor": page.nextCursor or ""})
    assert [f.name for f in rest.folders] == ["c/"] and not rest.hasNext


async def test_unusual_but_valid_keys_and_missing_buckets(
    user_factory: UserFactory, http: httpx.AsyncClient
) -> None:
    user = await user_factory()
    bucket = user.client.storage.from_(AUDIO)
    key = f"{user.id}/Folge 1 – Ü (final)/take #2 & more.mp3"
    await bucket.upload(key, b"odd", MP3)
    assert await bucket.download(key) == b"odd"
    signed = await signed_url(bucket, key, 60)
    assert (await http.get(signed)).content == b"odd"
    assert [e["name"] for e in await bucket.list(f"{user.id}/Folge 1 – Ü (final)")] == ["take #2 & more.mp3"]

    nowhere = user.client.storage.from_("no-such-bucket")
    with pytest.raises(StorageApiError) as err:
        await nowhere.upload(f"{user.id}/x.mp3", b"x", MP3)
    assert str(err.value.status) == "404" and err.value.message == "Bucket not found"
    with pytest.raises(StorageApiError) as err:
        await nowhere.download(f"{user.id}/x.mp3")
    assert err.value.message == "Bucket not found"


async def test_commit_failure_after_rename_leaves_no_trace(
    stack: StackInfo, user_factory: UserFactory, admin: asyncpg.Connection
) -> None:
    """A deferred trigger makes COMMIT itself fail, after the file was renamed into place."""
    user = await user_factory()
    bucket = user.client.storage.from_(AUDIO)
    existing = key_for(user, "fail-at-commit.mp3")
    await bucket.upload(existing, b"original", MP3)  # before the trigger exists
    row = await object_row(admin, AUDIO, existing)
    assert row is not None
    await admin.execute(
        """create function public.storage_test_refuse_commit() returns trigger language plpgsql
           as $$ begin raise exception 'commit refused'; end $$;
           create constraint trigger storage_test_refuse_commit after insert or update on storage.objects
           deferrable initially deferred for each row when (new.name like '%fail-at-commit%')
           execute function public.storage_test_refuse_commit();"""
    )
    before = files_in(stack, AUDIO)
    try:
        fresh = key_for(user, "fail-at-commit.mp3")
        with pytest.raises(StorageApiError):
            await bucket.upload(fresh, b"new", MP3)
        assert await object_row(admin, AUDIO, fresh) is None
        with pytest.raises(StorageApiError):
            await bucket.update(existing, b"replacement", MP3)
    finally:
        await admin.execute(
            "drop trigger storage_test_refuse_commit on storage.objects;"
            " drop function public.storage_test_refuse_commit();"
        )
    assert files_in(stack, AUDIO) == before
    assert (bucket_dir(stack, AUDIO) / str(row["id"])).read_bytes() == b"original"
    assert await bucket.download(existing) == b"original"
