"""Apply the Supabase bootstrap, then every ``supabase/migrations/*.sql`` in order."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import asyncpg

MIGRATION_NAME = re.compile(r"^(\d+)_(.+)\.sql$")


def default_migrations_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "supabase" / "migrations"


def migration_files(directory: Path) -> list[tuple[str, str, Path]]:
    """``(version, name, path)`` sorted by version; other files are ignored."""
    found = []
    for path in directory.glob("*.sql"):
        if match := MIGRATION_NAME.match(path.name):
            found.append((match.group(1), match.group(2), path))
    return sorted(found)


async def bootstrap(conn: asyncpg.Connection) -> None:
    sql = resources.files("echogen_devstack").joinpath("bootstrap.sql").read_text("utf-8")
    await conn.execute(sql)


async def apply_migrations(conn: asyncpg.Connection, directory: Path) -> list[str]:
    """Apply migrations not yet recorded; return the versions applied now."""
    done = {r["version"] for r in await conn.fetch("select version from supabase_migrations.schema_migrations")}
    applied = []
    for version, name, path in migration_files(directory):
        if version in done:
            continue
        async with conn.transaction():
            await conn.execute(path.read_text("utf-8"))
            await conn.execute(
                "insert into supabase_migrations.schema_migrations (version, name) values ($1, $2)",
                version, name,
            )
        applied.append(version)
    return applied
