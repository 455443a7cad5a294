"""PostgREST's schema cache: the exposed tables and their columns, read from pg_catalog.

Every identifier a request names is checked against this cache before it reaches SQL,
and the column types here are what filter values are cast to. The cache is loaded once
per process and reloaded when a request names a table or column it does not know.
"""

from __future__ import annotations

import asyncio
import difflib
import time
import weakref
from dataclasses import dataclass, field

import asyncpg

from echogen_devstack.db import Database

EXPOSED_SCHEMA = "public"

# `regtype` text with an empty search_path: schema-qualified and quoted where needed, so it
# can be pasted into SQL as a cast target. `bpchar` keeps char(n) values from being cut to
# char(1), which is what a bare `character` cast means.
CATALOG_SQL = """
select c.relname as table_name, c.relkind::text as kind,
       a.attname as column_name,
       case when t.typname = 'bpchar' then 'bpchar' else a.atttypid::regtype::text end as type_sql,
       t.typname as type_name, t.typcategory::text as category,
       coalesce(a.attnum = any(pk.conkey), false) as is_pk
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
left join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
left join pg_type t on t.oid = a.atttypid
left join pg_constraint pk on pk.conrelid = c.oid and pk.contype = 'p'
where n.nspname = $1 and c.relkind in ('r', 'v', 'm', 'f', 'p')
order by c.relname, a.attnum
"""


@dataclass(frozen=True)
class Column:
    name: str
    type_sql: str  # a cast target, e.g. `timestamp with time zone`, `text[]`, `public.mood`
    type_name: str  # pg_type.typname, e.g. `timestamptz`, `_text`, `tsvector`
    category: str  # pg_type.typcategory: S string, A array, U user (json, uuid), ...

    @property
    def is_text(self) -> bool:
        return self.category == "S"


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: dict[str, Column]  # in attnum order
    primary_key: tuple[str, ...]
    is_view: bool = False

    @property
    def sql_name(self) -> str:
        return f"{quote_ident(self.schema)}.{quote_ident(self.name)}"


@dataclass
class Catalog:
    tables: dict[str, Table] = field(default_factory=dict)
    loaded_at: float = 0.0

    def suggest(self, name: str) -> str | None:
        """PostgREST's 'Perhaps you meant' hint: the closest table name, if close enough."""
        close = difflib.get_close_matches(name, list(self.tables), n=1, cutoff=0.75)
        return close[0] if close else None


def quote_ident(name: str) -> str:
    """Always-quoted SQL identifier; a NUL cannot be quoted, so it is refused upstream."""
    return '"' + name.replace('"', '""') + '"'


async def load_catalog(pool: asyncpg.Pool, schema: str = EXPOSED_SCHEMA) -> Catalog:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("set local search_path = ''")
        rows = await conn.fetch(CATALOG_SQL, schema)
    grouped: dict[str, tuple[str, dict[str, Column], list[str]]] = {}
    for row in rows:
        _, columns, pk = grouped.setdefault(row["table_name"], (row["kind"], {}, []))
        if row["column_name"] is None:
            continue
        columns[row["column_name"]] = Column(
            row["column_name"], row["type_sql"], row["type_name"], row["category"]
        )
        if row["is_pk"]:
            pk.append(row["column_name"])
    tables = {
        name: Table(schema, name, columns, tuple(pk), is_view=kind in ("v", "m"))
        for name, (kind, columns, pk) in grouped.items()
    }
    return Catalog(tables, time.monotonic())


class SchemaCache:
    """One catalog per Database; a miss reloads it (at most one reload runs at a time)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._catalog: Catalog | None = None
        self._lock = asyncio.Lock()

    async def catalog(self) -> Catalog:
        if self._catalog is None:
            await self.reload(0.0)
        assert self._catalog is not None
        return self._catalog

    async def reload(self, older_than: float) -> Catalog:
        """Reload unless another request already did so after ``older_than``."""
        async with self._lock:
            if self._catalog is None or self._catalog.loaded_at <= older_than:
                self._catalog = await load_catalog(self._db.admin)
            return self._catalog

    async def table(self, name: str) -> Table | None:
        catalog = await self.catalog()
        found = catalog.tables.get(name)
        if found is None:
            catalog = await self.reload(catalog.loaded_at)
            found = catalog.tables.get(name)
        return found

    async def refreshed_table(self, stale: Table) -> Table:
        """The table as the catalog has it now (after a request named an unknown column)."""
        catalog = await self.catalog()
        catalog = await self.reload(catalog.loaded_at)
        return catalog.tables.get(stale.name, stale)


_caches: weakref.WeakKeyDictionary[Database, SchemaCache] = weakref.WeakKeyDictionary()


def schema_cache(db: Database) -> SchemaCache:
    cache = _caches.get(db)
    if cache is None:
        cache = _caches[db] = SchemaCache(db)
    return cache
