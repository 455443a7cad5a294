"""The migrations in supabase/migrations, applied to scratch databases of the stack's Postgres.

Two starting points: a fresh Supabase-like database (bootstrap only) and an upstream-like
EchoGen.ai schema (tests/fixtures/upstream_schema.sql, with data in it). Both get every
migration file applied twice, the second time raw, as a person re-running them would.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

from echogen_devstack import migrate
from echogen_devstack.runner import StackInfo

T = TypeVar("T")

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MIGRATIONS = migrate.default_migrations_dir()

UUID_PK = ("uuid", False, "gen_random_uuid()")
NOW = ("timestamp with time zone", False, "now()")
EMPTY_OBJECT = ("jsonb", False, "'{}'::jsonb")
TEXT_REQUIRED = ("text", False, None)
TEXT = ("text", True, None)
USER_ID = ("uuid", False, None)

# The data model: column -> (type, nullable, default).
DATA_MODEL: dict[str, dict[str, tuple[str, bool, str | None]]] = {
    "profiles": {
        "id": ("uuid", False, None),
        "full_name": TEXT,
        "avatar_url": TEXT,
        "created_at": NOW,
        "updated_at": NOW,
    },
    "user_sessions": {
        "id": UUID_PK,
        "user_id": USER_ID,
        "device": ("jsonb", True, "'{}'::jsonb"),
        "ip_address": ("inet", True, None),
        "created_at": NOW,
    },
    "user_api_keys": {
        "id": UUID_PK,
        "user_id": USER_ID,
        "provider": TEXT_REQUIRED,
        "key_alias": TEXT,
        "encrypted_key": TEXT_REQUIRED,
        "metadata": EMPTY_OBJECT,
        "created_at": NOW,
        "updated_at": NOW,
    },
    "scraped_content": {
        "id": UUID_PK,
        "user_id": USER_ID,
        "url": TEXT_REQUIRED,
        "title": TEXT_REQUIRED,
        "markdown": TEXT_REQUIRED,
        "provider": TEXT_REQUIRED,
        "metadata": EMPTY_OBJECT,
        "created_at": NOW,
        "updated_at": NOW,
    },
    "podcast_scripts": {
        "id": UUID_PK,
        "user_id": USER_ID,
        "source_content_id": ("uuid", True, None),
        "prompt": TEXT_REQUIRED,
        "model": TEXT_REQUIRED,
        "language": ("text", False, "'en'::text"),
        "segments": ("jsonb", False, None),
        "metadata": EMPTY_OBJECT,
        "created_at": NOW,
        "updated_at": NOW,
    },
    "generated_podcasts": {
        "id": UUID_PK,
        "user_id": USER_ID,
        "script_id": ("uuid", False, None),
        "audio_path": TEXT_REQUIRED,
        "cover_art_path": TEXT,
        "duration_seconds": ("integer", True, None),
        "metadata": EMPTY_OBJECT,
        "created_at": NOW,
        "updated_at": NOW,
    },
    "processing_jobs": {
        "id": ("text", False, None),
        "user_id": USER_ID,
        "job_type": TEXT_REQUIRED,
        "status": ("text", False, "'queued'::text"),
        "payload": EMPTY_OBJECT,
        "result": ("jsonb", True, None),
        "error": TEXT,
        "created_at": NOW,
        "updated_at": NOW,
        "started_at": ("timestamp with time zone", True, None),
        "finished_at": ("timestamp with time zone", True, None),
    },
    "usage_events": {
        "id": UUID_PK,
        "user_id": USER_ID,
        "provider": TEXT_REQUIRED,
        "event_type": TEXT_REQUIRED,
        "payload": EMPTY_OBJECT,
        "cost_usd": ("numeric(10,4)", True, None),
        "created_at": NOW,
    },
}
TABLES = list(DATA_MODEL)
UPSTREAM_EXTRA_COLUMNS = {"bio", "preferences", "onboarding_completed"}
UPSTREAM_EXTRA_TABLES = {"account_deletion_requests", "onboarding_responses"}

# What the authenticated role may do, per docs/data-conventions.md.
CRUD = {"SELECT", "INSERT", "UPDATE", "DELETE"}
AUTHENTICATED_TABLE_PRIVILEGES: dict[str, set[str]] = {
    "profiles": {"SELECT"},
    "user_sessions": {"SELECT", "INSERT", "DELETE"},
    "user_api_keys": CRUD,
    "scraped_content": CRUD,
    "podcast_scripts": CRUD,
    "generated_podcasts": CRUD,
    "processing_jobs": {"SELECT", "INSERT"},
    "usage_events": {"SELECT"},
}
AUTHENTICATED_UPDATABLE_COLUMNS: dict[str, set[str]] = {
    "profiles": {"full_name", "avatar_url"},
    "processing_jobs": {"status"},
}
POLICIES: dict[str, set[str]] = {
    "profiles": {"select", "update"},
    "user_sessions": {"select", "insert", "delete"},
    "user_api_keys": {"select", "insert", "update", "delete"},
    "scraped_content": {"select", "insert", "update", "delete"},
    "podcast_scripts": {"select", "insert", "update", "delete"},
    "generated_podcasts": {"select", "insert", "update", "delete"},
    "processing_jobs": {"select", "insert", "update"},
    "usage_events": {"select"},
}
UPDATED_AT_TABLES = [t for t, cols in DATA_MODEL.items() if "updated_at" in cols]
BUCKETS = {
    "podcast-audio": (500 * 1024 * 1024, "audio/mpeg"),
    "cover-art": (10 * 1024 * 1024, "image/png"),
    "transcripts": (50 * 1024 * 1024, "text/markdown"),
}


# ------------------------------------------------------------------ scratch databases


def _run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine on a private loop in a worker thread, clear of pytest-asyncio's loop."""

    async def main() -> T:
        return await coro_fn()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def _dsn_for(admin_dsn: str, database: str) -> str:
    base, _, _ = admin_dsn.rpartition("/")
    return f"{base}/{database}"


async def _apply_all_raw(conn: asyncpg.Connection) -> None:
    for _version, _name, path in migrate.migration_files(MIGRATIONS):
        await conn.execute(path.read_text("utf-8"))


async def _prepare(dsn: str, upstream: bool) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await migrate.bootstrap(conn)
        if upstream:
            await conn.execute((FIXTURES / "upstream_schema.sql").read_text("utf-8"))
            await _seed_upstream(conn)
        first = await migrate.apply_migrations(conn, MIGRATIONS)
        assert first == [v for v, _, _ in migrate.migration_files(MIGRATIONS)]
        # Second application of every file, raw: bookkeeping would skip them.
        await _apply_all_raw(conn)
    finally:
        await conn.close()


async def _seed_upstream(conn: asyncpg.Connection) -> None:
    """Data and a stray policy an upstream project could have before our migrations."""
    uid = await conn.fetchval(
        "insert into auth.users (id, email) values ('00000000-0000-4000-8000-000000000001',"
        " 'old@example.com') returning id"
    )
    await conn.execute(
        "insert into public.profiles (id, full_name, bio, preferences) values ($1, 'Old User',"
        " 'likes radio', '{\"theme\": \"dark\"}')",
        uid,
    )
    await conn.execute(
        "insert into public.processing_jobs (id, user_id, job_type) values ('audio_render_old', $1, 'audio_render')",
        uid,
    )
    # The data model's broad example policy: it would let a client mark its job succeeded.
    await conn.execute(
        'create policy "Individuals can manage their rows" on public.processing_jobs for all'
        " using (auth.uid() = user_id) with check (auth.uid() = user_id)"
    )
    await conn.execute("insert into storage.buckets (id, name, public) values ('transcripts', 'transcripts', true)")


@pytest.fixture(scope="module", params=["fresh", "upstream"])
def scratch_dsn(request: pytest.FixtureRequest, stack: StackInfo) -> Iterator[str]:
    """A scratch database (fresh or upstream-like) with the migrations applied twice."""
    admin_dsn: str = stack.admin_dsn
    name = f"echogen_mig_{request.param}_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        admin = await asyncpg.connect(admin_dsn)
        try:
            await admin.execute(f'create database "{name}" template template0')
        finally:
            await admin.close()
        await _prepare(_dsn_for(admin_dsn, name), upstream=request.param == "upstream")

    async def drop() -> None:
        admin = await asyncpg.connect(admin_dsn)
        try:
            await admin.execute(f'drop database if exists "{name}" with (force)')
        finally:
            await admin.close()

    try:
        _run(create)
        yield _dsn_for(admin_dsn, name)
    finally:
        _run(drop)


@pytest.fixture
async def db(scratch_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(scratch_dsn)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
def is_upstream(scratch_dsn: str) -> bool:
    return "_upstream_" in scratch_dsn


# ------------------------------------------------------------------------- helpers


async def new_user(conn: asyncpg.Connection, full_name: str | None = None) -> uuid.UUID:
    meta = json.dumps({"full_name": full_name} if full_name else {})
    uid: uuid.UUID = await conn.fetchval(
        "insert into auth.users (email, raw_user_meta_data) values ($1, $2::jsonb) returning id",
        f"{uuid.uuid4().hex}@example.com",
        meta,
    )
    return uid


async def seed_rows(conn: asyncpg.Connection, uid: uuid.UUID) -> dict[str, Any]:
    """One row in every table for ``uid``, inserted as the superuser; returns table -> id."""
    content = await conn.fetchval(
        "insert into public.scraped_content (user_id, url, title, markdown, provider)"
        " values ($1, 'https://example.com/a', 'Deep sea vents', '# Vents', 'firecrawl') returning id",
        uid,
    )
    script = await conn.fetchval(
        "insert into public.podcast_scripts (user_id, source_content_id, prompt, model, segments)"
        " values ($1, $2, 'p', 'gemini', '[]') returning id",
        uid,
        content,
    )
    podcast = await conn.fetchval(
        "insert into public.generated_podcasts (user_id, script_id, audio_path) values ($1, $2, 'a.mp3') returning id",
        uid,
        script,
    )
    return {
        "profiles": uid,
        "scraped_content": content,
        "podcast_scripts": script,
        "generated_podcasts": podcast,
        "user_api_keys": await conn.fetchval(
            "insert into public.user_api_keys (user_id, provider, encrypted_key)"
            " values ($1, 'openai', 'x') returning id",
            uid,
        ),
        "processing_jobs": await conn.fetchval(
            "insert into public.processing_jobs (id, user_id, job_type) values ($1, $2, 'audio_render') returning id",
            f"audio_render_{uuid.uuid4().hex[:12]}",
            uid,
        ),
        "usage_events": await conn.fetchval(
            "insert into public.usage_events (user_id, provider, event_type, cost_usd)"
            " values ($1, 'openai', 'tts_render', 0.0125) returning id",
            uid,
        ),
        "user_sessions": await conn.fetchval(
            'insert into public.user_sessions (user_id, device) values ($1, \'{"os": "linux"}\') returning id',
            uid,
        ),
    }


@asynccontextmanager
async def as_user(
    conn: asyncpg.Connection, uid: uuid.UUID, *, commit: bool = False
) -> AsyncIterator[asyncpg.Connection]:
    """A transaction running as ``authenticated`` with ``uid``'s claims, as the gateway does it.

    Rolled back unless ``commit``: most checks must leave nothing behind.
    """
    claims = json.dumps({"sub": str(uid), "role": "authenticated"})
    tr = conn.transaction()
    await tr.start()
    try:
        await conn.execute("select set_config('request.jwt.claims', $1, true)", claims)
        await conn.execute("set local role authenticated")
        yield conn
    except BaseException:
        await tr.rollback()
        raise
    if commit:
        await tr.commit()
    else:
        await tr.rollback()


async def columns_of(conn: asyncpg.Connection, table: str) -> dict[str, tuple[str, bool, str | None]]:
    rows = await conn.fetch(
        "select column_name, data_type, numeric_precision, numeric_scale, is_nullable, column_default"
        " from information_schema.columns where table_schema = 'public' and table_name = $1",
        table,
    )
    found: dict[str, tuple[str, bool, str | None]] = {}
    for r in rows:
        kind = r["data_type"]
        if kind == "numeric" and r["numeric_precision"] is not None:
            kind = f"numeric({r['numeric_precision']},{r['numeric_scale']})"
        found[r["column_name"]] = (kind, r["is_nullable"] == "YES", r["column_default"])
    return found


# --------------------------------------------------------------------------- tests


async def test_bookkeeping_skips_applied_versions(db: asyncpg.Connection) -> None:
    assert await migrate.apply_migrations(db, MIGRATIONS) == []
    recorded = {r["version"] for r in await db.fetch("select version from supabase_migrations.schema_migrations")}
    assert recorded == {v for v, _, _ in migrate.migration_files(MIGRATIONS)}


async def test_third_raw_apply_still_succeeds(db: asyncpg.Connection) -> None:
    async with db.transaction():
        await _apply_all_raw(db)


@pytest.mark.parametrize("table", TABLES)
async def test_columns_match_data_model(db: asyncpg.Connection, is_upstream: bool, table: str) -> None:
    found = await columns_of(db, table)
    expected = DATA_MODEL[table]
    assert {c: found.get(c) for c in expected} == expected
    extra = set(found) - set(expected)
    assert extra == (UPSTREAM_EXTRA_COLUMNS if is_upstream and table == "profiles" else set())


async def test_foreign_keys_and_their_delete_rules(db: asyncpg.Connection) -> None:
    rows = await db.fetch(
        "select c.conrelid::regclass::text as tbl, a.attname as col, c.confrelid::regclass::text as ref,"
        " c.confdeltype::text as on_delete"
        " from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]"
        " where c.contype = 'f' and c.connamespace = 'public'::regnamespace"
    )
    fks = {(r["tbl"], r["col"]): (r["ref"], r["on_delete"]) for r in rows}
    for table in TABLES:
        owner_col = "id" if table == "profiles" else "user_id"
        assert fks[(table, owner_col)] == ("auth.users", "c"), table
    assert fks[("podcast_scripts", "source_content_id")] == ("scraped_content", "n")
    assert fks[("generated_podcasts", "script_id")] == ("podcast_scripts", "c")


async def test_deletes_cascade_or_detach(db: asyncpg.Connection) -> None:
    uid = await new_user(db)
    ids = await seed_rows(db, uid)
    async with db.transaction():
        await db.execute("delete from public.scraped_content where id = $1", ids["scraped_content"])
        assert (
            await db.fetchval(
                "select source_content_id from public.podcast_scripts where id = $1", ids["podcast_scripts"]
            )
            is None
        )
        await db.execute("delete from public.podcast_scripts where id = $1", ids["podcast_scripts"])
        assert (
            await db.fetchval("select count(*) from public.generated_podcasts where id = $1", ids["generated_podcasts"])
            == 0
        )
    await db.execute("delete from auth.users where id = $1", uid)
    for table in TABLES:
        key = "id" if table == "profiles" else "user_id"
        assert await db.fetchval(f"select count(*) from public.{table} where {key} = $1", uid) == 0, table


async def test_rls_is_enabled_on_every_public_table(db: asyncpg.Connection, is_upstream: bool) -> None:
    rows = await db.fetch(
        "select relname, relrowsecurity from pg_class"
        " where relnamespace = 'public'::regnamespace and relkind in ('r', 'p')"
    )
    state = {r["relname"]: r["relrowsecurity"] for r in rows}
    expected_tables = set(TABLES) | (UPSTREAM_EXTRA_TABLES if is_upstream else set())
    assert set(state) == expected_tables
    assert all(state.values()), state


async def test_policies_are_exactly_the_matrix(db: asyncpg.Connection) -> None:
    rows = await db.fetch(
        "select tablename, policyname, cmd, roles::text[] as roles from pg_policies where schemaname = 'public'"
    )
    found: dict[str, set[str]] = {}
    for r in rows:
        cmd = r["cmd"].lower()
        assert r["policyname"] == f"{r['tablename']}_{cmd}_own"
        assert list(r["roles"]) == ["authenticated"]
        found.setdefault(r["tablename"], set()).add(cmd)
    # The upstream project's stray "for all" policy is gone too.
    assert found == POLICIES


@pytest.mark.parametrize("table", TABLES)
async def test_privileges_match_the_policies(db: asyncpg.Connection, table: str) -> None:
    privs = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"]
    got: dict[str, set[str]] = {}
    for role in ("anon", "authenticated", "service_role"):
        got[role] = {
            p for p in privs if await db.fetchval("select has_table_privilege($1, $2, $3)", role, f"public.{table}", p)
        }
    assert got["anon"] == set()
    assert got["authenticated"] == AUTHENTICATED_TABLE_PRIVILEGES[table]
    assert got["service_role"] == set(privs)
    updatable = {
        r["column_name"]
        for r in await db.fetch(
            "select column_name from information_schema.columns"
            " where table_schema = 'public' and table_name = $1"
            " and has_column_privilege('authenticated', format('public.%I', table_name), column_name, 'UPDATE')",
            table,
        )
    }
    if "UPDATE" in AUTHENTICATED_TABLE_PRIVILEGES[table]:
        assert updatable == set(await columns_of(db, table))
    else:
        assert updatable == AUTHENTICATED_UPDATABLE_COLUMNS.get(table, set())


async def test_list_and_lookup_indexes_exist(db: asyncpg.Connection) -> None:
    rows = await db.fetch("select indexname, indexdef from pg_indexes where schemaname = 'public'")
    defs = {r["indexname"]: r["indexdef"] for r in rows}
    for table in TABLES:
        if table == "profiles":
            continue
        assert "(user_id, created_at DESC)" in defs[f"{table}_user_created_idx"], table
    assert "(user_id, status)" in defs["processing_jobs_user_status_idx"]
    assert "(source_content_id)" in defs["podcast_scripts_source_idx"]
    assert "(script_id)" in defs["generated_podcasts_script_id_idx"]
    for col in ("title", "url", "markdown"):
        assert f"USING gin ({col} extensions.gin_trgm_ops)" in defs[f"scraped_content_{col}_trgm_idx"]


@pytest.mark.parametrize("column", ["title", "url", "markdown"])
async def test_substring_search_uses_trigram_index(db: asyncpg.Connection, column: str) -> None:
    async with db.transaction():
        await db.execute("set local enable_seqscan = off")
        plan = "\n".join(
            r[0] for r in await db.fetch(f"explain select id from public.scraped_content where {column} ilike '%vent%'")
        )
    assert f"scraped_content_{column}_trgm_idx" in plan


@pytest.mark.parametrize(
    ("status", "accepted"),
    [
        ("queued", True),
        ("running", True),
        ("succeeded", True),
        ("failed", True),
        ("cancelled", True),
        ("done", False),
        ("QUEUED", False),
        ("", False),
    ],
)
async def test_job_status_vocabulary(db: asyncpg.Connection, status: str, accepted: bool) -> None:
    uid = await new_user(db)
    insert = db.execute(
        "insert into public.processing_jobs (id, user_id, job_type, status) values ($1, $2, 'x', $3)",
        uuid.uuid4().hex,
        uid,
        status,
    )
    if accepted:
        await insert
    else:
        with pytest.raises(asyncpg.CheckViolationError):
            await insert


@pytest.mark.parametrize(
    ("segments", "accepted"),
    [
        ("[]", True),
        ('[{"speaker": "Ava", "content": "Hi", "start_time": 0.0, "end_time": 1.5}]', True),
        ('{"speaker": "Ava"}', False),
        ('"text"', False),
        ("null", False),
        ("3", False),
    ],
)
async def test_segments_must_be_a_json_array(db: asyncpg.Connection, segments: str, accepted: bool) -> None:
    uid = await new_user(db)
    insert = db.execute(
        "insert into public.podcast_scripts (user_id, prompt, model, segments) values ($1, 'p', 'm', $2::jsonb)",
        uid,
        segments,
    )
    if accepted:
        await insert
    else:
        with pytest.raises(asyncpg.CheckViolationError):
            await insert


@pytest.mark.parametrize("table", UPDATED_AT_TABLES)
async def test_updated_at_moves_on_update(db: asyncpg.Connection, table: str) -> None:
    uid = await new_user(db)
    row_id = (await seed_rows(db, uid))[table]
    async with db.transaction():
        # Backdate with triggers off, so that the update below has something to move.
        await db.execute("set local session_replication_role = replica")
        await db.execute(
            f"update public.{table} set updated_at = '2000-01-01T00:00:00Z',"
            " created_at = '2000-01-01T00:00:00Z' where id = $1",
            row_id,
        )
    await db.execute(f"update public.{table} set updated_at = '1999-01-01T00:00:00Z' where id = $1", row_id)
    row = await db.fetchrow(f"select updated_at, created_at from public.{table} where id = $1", row_id)
    assert row is not None
    assert row["created_at"].year == 2000
    assert row["updated_at"].year == datetime.now(UTC).year  # now(), whatever the client sent


async def test_signup_creates_profile(db: asyncpg.Connection) -> None:
    uid = await new_user(db, full_name="Grace Hopper")
    row = await db.fetchrow("select full_name, avatar_url from public.profiles where id = $1", uid)
    assert row is not None and row["full_name"] == "Grace Hopper" and row["avatar_url"] is None
    bare = await new_user(db)
    assert await db.fetchval("select count(*) from public.profiles where id = $1 and full_name is null", bare) == 1


async def test_processing_jobs_in_realtime_publication(db: asyncpg.Connection) -> None:
    members = await db.fetch(
        "select schemaname, tablename from pg_publication_tables where pubname = 'supabase_realtime'"
    )
    assert [(r["schemaname"], r["tablename"]) for r in members] == [("public", "processing_jobs")]


async def test_buckets_are_private_with_limits(db: asyncpg.Connection) -> None:
    rows = await db.fetch("select id, public, file_size_limit, allowed_mime_types from storage.buckets")
    found = {r["id"]: r for r in rows}
    assert set(found) == set(BUCKETS)
    for bucket, (limit, mime) in BUCKETS.items():
        assert found[bucket]["public"] is False  # upstream's public 'transcripts' was corrected
        assert found[bucket]["file_size_limit"] == limit
        assert mime in found[bucket]["allowed_mime_types"]


@pytest.mark.parametrize("bucket", list(BUCKETS))
async def test_storage_policies_confine_users_to_their_folder(db: asyncpg.Connection, bucket: str) -> None:
    owner, other = await new_user(db), await new_user(db)
    own_name = f"{owner}/{uuid.uuid4()}/file.bin"
    async with as_user(db, owner) as conn:
        await conn.execute("insert into storage.objects (bucket_id, name) values ($1, $2)", bucket, own_name)
        assert await conn.fetchval("select count(*) from storage.objects where name = $1", own_name) == 1
        for name in (f"{other}/x/file.bin", "file.bin", f"x/{owner}/file.bin"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with conn.transaction():
                    await conn.execute("insert into storage.objects (bucket_id, name) values ($1, $2)", bucket, name)
    foreign = f"{other}/{uuid.uuid4()}/file.bin"
    await db.execute("insert into storage.objects (bucket_id, name) values ($1, $2)", bucket, foreign)
    async with as_user(db, owner) as conn:
        assert await conn.fetchval("select count(*) from storage.objects where name = $1", foreign) == 0
        assert await conn.execute("update storage.objects set user_metadata = '{}' where name = $1", foreign) == (
            "UPDATE 0"
        )
        assert await conn.execute("delete from storage.objects where name = $1", foreign) == "DELETE 0"
    assert await db.fetchval("select count(*) from storage.objects where name = $1", foreign) == 1


# ---------------------------------------------- processing_jobs: what a client may do


async def test_client_may_queue_a_job(db: asyncpg.Connection) -> None:
    uid = await new_user(db)
    async with as_user(db, uid) as conn:
        row = await conn.fetchrow(
            "insert into public.processing_jobs (id, user_id, job_type, payload)"
            " values ('script_generation_abc123def456', $1, 'script_generation', '{\"model\": \"m\"}')"
            " returning status, result",
            uid,
        )
        assert row is not None and row["status"] == "queued" and row["result"] is None


@pytest.mark.parametrize(
    "extra",
    [
        {"status": "succeeded"},
        {"status": "running"},
        {"result": '{"ok": true}'},
        {"error": "boom"},
        {"started_at": "2030-01-01T00:00:00Z"},
        {"finished_at": "2030-01-01T00:00:00Z"},
    ],
)
async def test_client_may_not_queue_a_job_in_another_state(db: asyncpg.Connection, extra: dict[str, str]) -> None:
    uid = await new_user(db)
    ((column, value),) = extra.items()
    cast = {"result": "jsonb", "started_at": "timestamptz", "finished_at": "timestamptz"}.get(column, "text")
    async with as_user(db, uid) as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(
                f"insert into public.processing_jobs (id, user_id, job_type, {column})"
                f" values ('j1', $1, 'audio_render', $2::text::{cast})",
                uid,
                value,
            )


@pytest.mark.parametrize("start", ["queued", "running"])
async def test_client_may_cancel_a_live_job(db: asyncpg.Connection, start: str) -> None:
    uid = await new_user(db)
    job = (await seed_rows(db, uid))["processing_jobs"]
    await db.execute("update public.processing_jobs set status = $1 where id = $2", start, job)
    async with as_user(db, uid, commit=True) as conn:
        assert (
            await conn.execute("update public.processing_jobs set status = 'cancelled' where id = $1", job)
            == "UPDATE 1"
        )
    row = await db.fetchrow("select status, finished_at from public.processing_jobs where id = $1", job)
    assert row is not None and row["status"] == "cancelled" and row["finished_at"] is not None


@pytest.mark.parametrize("start", ["succeeded", "failed", "cancelled"])
async def test_client_may_not_cancel_a_finished_job(db: asyncpg.Connection, start: str) -> None:
    uid = await new_user(db)
    job = (await seed_rows(db, uid))["processing_jobs"]
    await db.execute("update public.processing_jobs set status = $1 where id = $2", start, job)
    async with as_user(db, uid) as conn:
        assert (
            await conn.execute("update public.processing_jobs set status = 'cancelled' where id = $1", job)
            == "UPDATE 0"
        )


@pytest.mark.parametrize(
    "assignment",
    [
        "status = 'succeeded'",
        "status = 'running'",
        'result = \'{"audio": "x"}\'',
        "error = null",
        "finished_at = now()",
        "payload = '{}'",
        "user_id = user_id",
    ],
)
async def test_client_may_not_move_a_job_on(db: asyncpg.Connection, assignment: str) -> None:
    uid = await new_user(db)
    job = (await seed_rows(db, uid))["processing_jobs"]
    async with as_user(db, uid) as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with conn.transaction():
                await conn.execute(f"update public.processing_jobs set {assignment} where id = $1", job)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("delete from public.processing_jobs where id = $1", job)
    assert await db.fetchval("select status from public.processing_jobs where id = $1", job) == "queued"


async def test_usage_costs_cannot_be_erased_or_forged(db: asyncpg.Connection) -> None:
    uid = await new_user(db)
    event = (await seed_rows(db, uid))["usage_events"]
    async with as_user(db, uid) as conn:
        assert await conn.fetchval("select cost_usd from public.usage_events where id = $1", event) is not None
        for sql in (
            "update public.usage_events set cost_usd = 0 where id = $1",
            "delete from public.usage_events where id = $1",
            (
                "insert into public.usage_events (id, user_id, provider, event_type)"
                " select gen_random_uuid(), user_id, 'x', 'y' from public.usage_events where id = $1"
            ),
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with conn.transaction():
                    await conn.execute(sql, event)


# ------------------------------------------------------ upstream data survives


async def test_upstream_rows_and_columns_survive(db: asyncpg.Connection, is_upstream: bool) -> None:
    if not is_upstream:
        pytest.skip("only the upstream-like database has pre-existing data")
    profile = await db.fetchrow(
        "select full_name, bio, preferences from public.profiles where id = '00000000-0000-4000-8000-000000000001'"
    )
    assert profile is not None
    assert (profile["full_name"], profile["bio"], json.loads(profile["preferences"])) == (
        "Old User",
        "likes radio",
        {"theme": "dark"},
    )
    assert await db.fetchval("select status from public.processing_jobs where id = 'audio_render_old'") == "queued"
