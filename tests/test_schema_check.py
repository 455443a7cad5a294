"""Missing-migrations detection, against the real gateway over a database without EchoGen's schema."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import asyncpg
import httpx
import pytest
from postgrest.exceptions import APIError

from echogen_desktop.services.backend import Backend
from echogen_desktop.services.errors import ErrorKind, ServiceError, from_exception
from echogen_desktop.services.schema_check import (
    REQUIRED_COLUMNS,
    MigrationsMissing,
    SchemaReport,
    check_schema,
    inspect_schema,
)
from echogen_devstack import cli
from echogen_devstack.process import free_port
from echogen_devstack.runner import StackInfo
from tests.conftest import make_client
from tests.schema_support import UPSTREAM_SCHEMA, apply_migrations, run_sql, unmigrated_stack

ALL_TABLES = tuple(sorted(REQUIRED_COLUMNS))


@pytest.fixture(scope="module")
def empty_stack() -> Iterator[StackInfo]:
    """Shared by the tests that only read; the one that changes the schema starts its own."""
    with unmigrated_stack() as info:
        yield info


@pytest.fixture
def not_postgrest() -> Iterator[str]:
    """A web server that answers 404 without a PostgREST body to everything."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<h1>Not Found</h1>")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


async def test_the_gateway_answers_a_missing_table_like_postgrest(empty_stack: StackInfo) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{empty_stack.url}/rest/v1/profiles", params={"select": "id"},
                                  headers={"apikey": empty_stack.anon_key})
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "PGRST205"
    assert body["message"] == "Could not find the table 'public.profiles' in the schema cache"


async def test_supabase_py_sees_a_missing_table_as_missing_migrations(
    empty_stack: StackInfo, http: httpx.AsyncClient
) -> None:
    client = await make_client(empty_stack, empty_stack.anon_key, http)
    with pytest.raises(APIError) as raised:
        await client.table("scraped_content").select("*").execute()
    error = from_exception(raised.value)
    assert error.kind is ErrorKind.MIGRATIONS_MISSING
    assert "apply the EchoGen migrations" in error.message


async def test_an_empty_database_is_reported_table_by_table(empty_stack: StackInfo) -> None:
    with pytest.raises(MigrationsMissing) as raised:
        await Backend.check_project(empty_stack.url, empty_stack.anon_key)
    error = raised.value
    assert error.kind is ErrorKind.MIGRATIONS_MISSING
    assert error.report == SchemaReport(missing_tables=ALL_TABLES)
    assert "supabase/migrations/" in error.message and "supabase db push" in error.message
    assert '"Using a real Supabase project" in the README' in error.message


async def test_a_migrated_project_passes(stack: StackInfo) -> None:
    await Backend.check_project(stack.url, stack.anon_key)
    async with httpx.AsyncClient() as http:
        assert (await inspect_schema(http, stack.url, stack.anon_key)).ok


async def test_the_required_columns_are_the_migrated_ones(stack: StackInfo) -> None:
    conn = await asyncpg.connect(stack.admin_dsn)
    try:
        rows = await conn.fetch(
            "select table_name, column_name from information_schema.columns where table_schema = 'public'"
        )
    finally:
        await conn.close()
    migrated: dict[str, set[str]] = {}
    for row in rows:
        migrated.setdefault(row["table_name"], set()).add(row["column_name"])
    assert set(REQUIRED_COLUMNS) == set(migrated)
    for table, columns in REQUIRED_COLUMNS.items():
        assert set(columns) <= migrated[table], table


async def test_a_server_that_is_not_postgrest_is_not_blamed_on_migrations(not_postgrest: str) -> None:
    async with httpx.AsyncClient() as http:
        assert (await inspect_schema(http, not_postgrest, "sb_publishable_x")).ok


async def test_an_unreachable_server_is_unreachable_not_unmigrated(stack: StackInfo) -> None:
    with pytest.raises(ServiceError) as raised:
        await check_schema(f"http://127.0.0.1:{free_port()}", stack.anon_key, timeout=2)
    assert not isinstance(raised.value, MigrationsMissing)
    assert raised.value.kind is ErrorKind.UNREACHABLE


async def test_each_stage_of_a_half_set_up_project_is_named() -> None:
    with unmigrated_stack() as project:
        # A table from some other schema, lacking the columns the app reads.
        await run_sql(project, "create table public.usage_events (id uuid primary key)")
        with pytest.raises(MigrationsMissing) as raised:
            await check_schema(project.url, project.anon_key)
        assert raised.value.report.outdated_tables == ("usage_events",)
        assert set(raised.value.report.missing_tables) == set(ALL_TABLES) - {"usage_events"}

        # Upstream EchoGen.ai's schema: every table, but no privileges taken from anon.
        await run_sql(project, "drop table public.usage_events")
        await run_sql(project, UPSTREAM_SCHEMA.read_text("utf-8"))
        with pytest.raises(MigrationsMissing) as raised:
            await check_schema(project.url, project.anon_key)
        assert raised.value.report == SchemaReport(open_tables=ALL_TABLES)

        # The fix the message gives: the migrations, in order. The running gateway sees them at once.
        assert len(await apply_migrations(project)) == 3
        await Backend.check_project(project.url, project.anon_key)


def test_the_stack_refuses_a_seed_without_migrations(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["start", "--no-migrations", "--seed", "demo"])
    assert exited.value.code == 2
    assert "--seed needs the migrations" in capsys.readouterr().err
