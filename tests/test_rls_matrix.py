"""Row-level security through the real gateway, with the unmodified supabase-py async client.

Every table x {select, insert, update, delete} x {owner, another user, anon, expired token,
forged token}. The expected outcome of each cell comes from the permission matrix in
docs/data-conventions.md (OWNER_MAY and GRANTED below); the target row is seeded through the
superuser DSN, and afterwards the same DSN proves that nothing a refused caller tried changed it.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

import asyncpg
import httpx
import jwt
import pytest
from postgrest.exceptions import APIError
from supabase import AsyncClient, AsyncClientOptions, acreate_client

from echogen_devstack.runner import StackInfo
from tests.conftest import TestUser

TABLES = [
    "profiles",
    "user_sessions",
    "user_api_keys",
    "scraped_content",
    "podcast_scripts",
    "generated_podcasts",
    "processing_jobs",
    "usage_events",
]
OPS = ["select", "insert", "update", "delete"]
CALLERS = ["owner", "other", "anon", "expired", "forged"]

CRUD = set(OPS)
# What an owner may do to their own rows.
OWNER_MAY: dict[str, set[str]] = {
    "profiles": {"select", "update"},
    "user_sessions": {"select", "insert", "delete"},
    "user_api_keys": CRUD,
    "scraped_content": CRUD,
    "podcast_scripts": CRUD,
    "generated_podcasts": CRUD,
    "processing_jobs": {"select", "insert", "update"},  # update = cancel
    "usage_events": {"select"},
}
# Where `authenticated` holds the privilege, a stranger's select/update/delete is filtered by the
# policy (no rows, no error); elsewhere the privilege check refuses it with 42501.
GRANTED = OWNER_MAY

# The column each update case changes, and the value it tries to write.
UPDATES: dict[str, tuple[str, Any]] = {
    "profiles": ("full_name", "Renamed"),
    "user_sessions": ("device", {"os": "forged"}),
    "user_api_keys": ("key_alias", "renamed"),
    "scraped_content": ("title", "Renamed"),
    "podcast_scripts": ("prompt", "Renamed"),
    "generated_podcasts": ("duration_seconds", 321),
    "processing_jobs": ("status", "cancelled"),
    "usage_events": ("cost_usd", 0),
}


@dataclass(frozen=True)
class Expect:
    """``ok``: the owner's effect happens; ``empty``: no error, no rows; else an error code."""

    outcome: str
    code: str | None = None


def expected(table: str, op: str, caller: str) -> Expect:
    if caller == "expired":
        return Expect("error", "PGRST303")
    if caller == "forged":
        return Expect("error", "PGRST301")
    if caller == "anon":
        return Expect("error", "42501")
    if caller == "owner":
        return Expect("ok") if op in OWNER_MAY[table] else Expect("error", "42501")
    if op == "insert" or op not in GRANTED[table]:
        return Expect("error", "42501")
    return Expect("empty")


KEY = "id"  # every table's primary key, and the column the filters use

CASES = [
    pytest.param(table, op, caller, id=f"{table}-{op}-{caller}") for table in TABLES for op in OPS for caller in CALLERS
]


# --------------------------------------------------------------------------- rows


@dataclass
class Owner:
    id: str
    parents: dict[str, str] = field(default_factory=dict)


def new_row(table: str, owner: Owner) -> dict[str, Any]:
    """A complete, valid row of ``table`` for ``owner``, with a fresh primary key."""
    oid = owner.id
    row_id = str(uuid.uuid4())
    rows: dict[str, Callable[[], dict[str, Any]]] = {
        "profiles": lambda: {"id": oid, "full_name": "Intruder"},
        "user_sessions": lambda: {
            "id": row_id,
            "user_id": oid,
            "ip_address": "127.0.0.1",
            "device": {
                "model": "ThinkPad",
                "os": "linux",
                "os_version": "6.1",
                "app_version": "0.1.0",
                "hostname": "desk",
            },
        },
        "user_api_keys": lambda: {
            "id": row_id,
            "user_id": oid,
            "provider": "openai",
            "key_alias": "main",
            "encrypted_key": "v1:bm9uY2U=:Y2lwaGVy:dGFn",
        },
        "scraped_content": lambda: {
            "id": row_id,
            "user_id": oid,
            "url": "https://example.com/vents",
            "title": "Deep sea vents",
            "markdown": "# Vents\n\nHot water.",
            "provider": "firecrawl",
        },
        "podcast_scripts": lambda: {
            "id": row_id,
            "user_id": oid,
            "source_content_id": owner.parents["scraped_content"],
            "prompt": "Two hosts",
            "model": "gemini-2.0-flash",
            "segments": [{"speaker": "Ava", "content": "Hello", "start_time": 0.0, "end_time": 1.2}],
        },
        "generated_podcasts": lambda: {
            "id": row_id,
            "user_id": oid,
            "script_id": owner.parents["podcast_scripts"],
            "audio_path": f"{oid}/{row_id}/episode.mp3",
            "metadata": {"title": "Vents"},
        },
        "processing_jobs": lambda: {
            "id": f"script_generation_{secrets.token_hex(6)}",
            "user_id": oid,
            "job_type": "script_generation",
            "payload": {"model": "gemini-2.0-flash"},
        },
        "usage_events": lambda: {
            "id": row_id,
            "user_id": oid,
            "provider": "openai",
            "event_type": "tts_render",
            "cost_usd": 0.0125,
        },
    }
    return rows[table]()


async def insert_as_admin(admin: asyncpg.Connection, table: str, row: dict[str, Any]) -> None:
    """Insert ``row`` as the superuser; the JSON is typed by the table's own record type."""
    cols = ", ".join(f'"{c}"' for c in row)
    await admin.execute(
        f"insert into public.{table} ({cols}) select {cols}"
        f" from jsonb_populate_record(null::public.{table}, $1::jsonb)",
        json.dumps(row),
    )


async def snapshot(admin: asyncpg.Connection, table: str, row_id: str) -> Any:
    raw = await admin.fetchval(f"select to_jsonb(t) from public.{table} t where {KEY}::text = $1", row_id)
    return json.loads(raw) if raw is not None else None


async def seed_owner(admin: asyncpg.Connection, owner_id: str) -> Owner:
    owner = Owner(owner_id)
    for parent in ("scraped_content", "podcast_scripts"):
        row = new_row(parent, owner)
        await insert_as_admin(admin, parent, row)
        owner.parents[parent] = row["id"]
    return owner


# ---------------------------------------------------------------------- callers


def mint(stack: StackInfo, sub: str, *, expired: bool = False, secret: str | None = None) -> str:
    now = int(time.time())
    claims = {
        "iss": f"{stack.url}/auth/v1",
        "sub": sub,
        "aud": "authenticated",
        "role": "authenticated",
        "email": f"{sub}@example.com",
        "session_id": str(uuid.uuid4()),
        "aal": "aal1",
        "iat": now - 7200 if expired else now,
        "exp": now - 3600 if expired else now + 3600,
    }
    return jwt.encode(claims, secret or stack.jwt_secret, algorithm="HS256")


async def token_client(stack: StackInfo, token: str, http: httpx.AsyncClient) -> AsyncClient:
    """A client that sends ``token`` as its bearer, as an app holding a stale or fake JWT would."""
    options = AsyncClientOptions(
        headers={"Authorization": f"Bearer {token}"},
        auto_refresh_token=False,
        persist_session=False,
        httpx_client=http,
    )
    return await acreate_client(stack.url, stack.anon_key, options=options)


@pytest.fixture
async def admin(stack: StackInfo) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(stack.admin_dsn)
    try:
        yield conn
    finally:
        await conn.close()


# ------------------------------------------------------------------------- test


@pytest.mark.parametrize(("table", "op", "caller"), CASES)
async def test_rls_matrix(
    table: str,
    op: str,
    caller: str,
    stack: StackInfo,
    user_factory: Callable[[], Awaitable[TestUser]],
    anon_client: AsyncClient,
    admin: asyncpg.Connection,
    http: httpx.AsyncClient,
) -> None:
    owner_user = await user_factory()
    owner = await seed_owner(admin, owner_user.id)
    key = KEY

    # The target row: the owner's profile exists from sign-up; other tables get a fresh row.
    if table == "profiles":
        target_id = owner.id
    else:
        target = new_row(table, owner)
        await insert_as_admin(admin, table, target)
        target_id = target[key]
    before = await snapshot(admin, table, target_id)
    assert before is not None

    client: AsyncClient
    if caller == "owner":
        client = owner_user.client
    elif caller == "other":
        client = (await user_factory()).client
    elif caller == "anon":
        client = anon_client
    elif caller == "expired":
        client = await token_client(stack, mint(stack, owner.id, expired=True), http)
    else:
        client = await token_client(stack, mint(stack, owner.id, secret="not-the-" + stack.jwt_secret), http)

    column, value = UPDATES[table]
    payload = new_row(table, owner)
    builders = {
        "select": lambda: client.table(table).select("*").eq(key, target_id),
        "insert": lambda: client.table(table).insert(payload),
        "update": lambda: client.table(table).update({column: value}).eq(key, target_id),
        "delete": lambda: client.table(table).delete().eq(key, target_id),
    }
    want = expected(table, op, caller)

    rows: list[dict[str, Any]] = []
    if want.outcome == "error":
        with pytest.raises(APIError) as caught:
            await builders[op]().execute()
        assert caught.value.code == want.code, caught.value
    else:
        rows = cast(list[dict[str, Any]], (await builders[op]().execute()).data)

    after = await snapshot(admin, table, target_id)
    inserted = None if table == "profiles" else await snapshot(admin, table, payload[key])

    if want.outcome != "ok":
        if want.outcome == "empty":
            assert rows == []
        assert after == before, "a refused caller changed the row"
        assert inserted is None, "a refused caller inserted a row"
        return

    # The owner's operation took effect, and the response shows it.
    if op == "select":
        assert [r[key] for r in rows] == [target_id]
        assert after == before
    elif op == "insert":
        assert inserted is not None and rows[0][key] == payload[key]
        assert inserted["user_id"] == owner.id
    elif op == "update":
        assert rows and rows[0][column] == value
        assert after is not None and after[column] == value
        assert after["created_at"] == before["created_at"]
    else:
        assert [r[key] for r in rows] == [target_id]
        assert after is None
