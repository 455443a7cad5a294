"""A stack whose database has no EchoGen migrations: a Supabase project before its set-up."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from echogen_devstack import migrate
from echogen_devstack.process import stack_tempdir, start_stack_process, stop_stack_process
from echogen_devstack.runner import StackInfo

UPSTREAM_SCHEMA = Path(__file__).resolve().parent / "fixtures" / "upstream_schema.sql"


@contextmanager
def unmigrated_stack() -> Iterator[StackInfo]:
    data_dir = stack_tempdir("echogen-test-empty-")
    proc, info = start_stack_process(data_dir, "--no-migrations", "--bcrypt-rounds", "4")
    try:
        yield info
    finally:
        stop_stack_process(proc)
        shutil.rmtree(data_dir, ignore_errors=True)


async def run_sql(stack: StackInfo, sql: str) -> None:
    conn = await asyncpg.connect(stack.admin_dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def apply_migrations(stack: StackInfo) -> list[str]:
    """What a user does to fix it (the devstack's own migrator: the same files, in order)."""
    conn = await asyncpg.connect(stack.admin_dsn)
    try:
        return await migrate.apply_migrations(conn, migrate.default_migrations_dir())
    finally:
        await conn.close()
