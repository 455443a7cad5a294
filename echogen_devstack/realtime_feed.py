"""Row changes out of Postgres, for the realtime websocket.

Real Supabase Realtime reads the write-ahead log through logical replication. The devstack's
stand-in is simpler and needs no ``wal_level=logical``: an AFTER INSERT/UPDATE/DELETE row
trigger, installed by the stack (never by the project's migrations) on every member of the
``supabase_realtime`` publication, copies each change into an unlogged queue table in the
stack's own schema and NOTIFYs a constant channel. One dedicated connection LISTENs; each
notification drains the queue in id order. Rows travel through the queue table, not the
NOTIFY payload, so the 8000-byte payload limit never bites, and a rolled-back transaction
leaves neither a row nor a notification. Identical notifications within one transaction
are folded into one by Postgres, so a bulk insert costs one wake-up, not one per row.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from echogen_devstack.db import Database

log = logging.getLogger(__name__)

SCHEMA = "_devstack_realtime"
CHANNEL = "_devstack_realtime"
PUBLICATION = "supabase_realtime"
TRIGGER = "_devstack_realtime_capture"
BATCH = 500

INSTALL_SQL = f"""
create schema if not exists {SCHEMA};
revoke all on schema {SCHEMA} from public;

create unlogged table if not exists {SCHEMA}.changes (
  id bigserial primary key,
  relid oid not null,
  op text not null,
  record jsonb,
  old_record jsonb,
  committed_at timestamptz not null default now()
);

-- security definer: the API roles write the queue only through this trigger.
create or replace function {SCHEMA}.capture() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  insert into {SCHEMA}.changes (relid, op, record, old_record)
  values (tg_relid, tg_op,
          case when tg_op <> 'DELETE' then to_jsonb(new) end,
          case when tg_op <> 'INSERT' then to_jsonb(old) end);
  perform pg_notify('{CHANNEL}', '');
  return null;
end $$;

-- Follow the publication: capture its members, stop capturing tables that left it.
create or replace function {SCHEMA}.sync() returns void
language plpgsql set search_path = '' as $$
declare
  t record;
begin
  perform pg_advisory_xact_lock(hashtext('{SCHEMA}.sync'));
  for t in
    select c.oid::regclass as rel
    from pg_catalog.pg_publication_tables p
    join pg_catalog.pg_namespace n on n.nspname = p.schemaname
    join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = p.tablename
    where p.pubname = '{PUBLICATION}'
      and not exists (
        select 1 from pg_catalog.pg_trigger g where g.tgrelid = c.oid and g.tgname = '{TRIGGER}')
  loop
    execute format(
      'create trigger {TRIGGER} after insert or update or delete on %s '
      'for each row execute function {SCHEMA}.capture()', t.rel);
  end loop;
  for t in
    select g.tgrelid::regclass as rel from pg_catalog.pg_trigger g
    where g.tgname = '{TRIGGER}'
      and g.tgrelid not in (
        select c.oid from pg_catalog.pg_publication_tables p
        join pg_catalog.pg_namespace n on n.nspname = p.schemaname
        join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = p.tablename
        where p.pubname = '{PUBLICATION}')
  loop
    execute format('drop trigger {TRIGGER} on %s', t.rel);
  end loop;
end $$;
"""

# One batch of changes with what the wire message needs about each table.
DRAIN_SQL = f"""
with batch as (
  delete from {SCHEMA}.changes
  where id in (select id from {SCHEMA}.changes order by id limit {BATCH})
  returning *
)
select b.id, b.relid, b.op, b.record::text as record, b.old_record::text as old_record,
  to_char(b.committed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as commit_timestamp,
  n.nspname as schema_name, c.relname as table_name, c.relrowsecurity as rls_enabled,
  c.relreplident = 'f' as replica_full,
  coalesce((
    select json_agg(json_build_object('name', a.attname, 'type', ty.typname) order by a.attnum)
    from pg_attribute a join pg_type ty on ty.oid = a.atttypid
    where a.attrelid = b.relid and a.attnum > 0 and not a.attisdropped), '[]')::text as columns,
  coalesce((
    select array_agg(a.attname::text order by k.ord)
    from pg_index i, unnest(i.indkey) with ordinality k(attnum, ord)
    join pg_attribute a on a.attnum = k.attnum
    where i.indrelid = b.relid and i.indisprimary and a.attrelid = b.relid), '{{}}') as primary_key
from batch b
join pg_class c on c.oid = b.relid
join pg_namespace n on n.oid = c.relnamespace
order by b.id
"""


@dataclass(frozen=True)
class Change:
    """One committed row change. ``old_record`` is the whole old row; the wire gets less."""

    id: int
    relid: int
    schema: str
    table: str
    type: str
    record: dict[str, Any] | None
    old_record: dict[str, Any] | None
    commit_timestamp: str
    columns: tuple[dict[str, str], ...]
    primary_key: tuple[str, ...]
    rls_enabled: bool
    replica_full: bool

    def old_identity(self) -> dict[str, Any]:
        """What the WAL carries about the old row: all of it under REPLICA IDENTITY FULL,
        else the primary key only."""
        old = self.old_record or {}
        if self.replica_full:
            return dict(old)
        return {k: old.get(k) for k in self.primary_key}

    def wire_data(self, visible_columns: frozenset[str] | None = None) -> dict[str, Any]:
        """The ``payload.data`` of a ``postgres_changes`` message, as real Realtime shapes it.

        DELETE on a table with RLS carries the primary key only (RLS cannot be checked
        against a row that is gone). ``visible_columns`` trims what the subscriber may not select.
        """

        def trim(row: dict[str, Any]) -> dict[str, Any]:
            if visible_columns is None:
                return row
            return {k: v for k, v in row.items() if k in visible_columns}

        columns = [c for c in self.columns if visible_columns is None or c["name"] in visible_columns]
        data: dict[str, Any] = {
            "schema": self.schema, "table": self.table, "commit_timestamp": self.commit_timestamp,
            "type": self.type, "columns": columns, "errors": None,
        }
        if self.type in ("INSERT", "UPDATE"):
            data["record"] = trim(self.record or {})
        if self.type == "UPDATE":
            data["old_record"] = trim(self.old_identity())
        if self.type == "DELETE":
            old = self.old_record or {}
            pk_only = {k: old.get(k) for k in self.primary_key}
            data["old_record"] = pk_only if self.rls_enabled else trim(self.old_identity())
        return data


def _change(row: asyncpg.Record) -> Change:
    return Change(
        id=row["id"], relid=row["relid"], schema=row["schema_name"], table=row["table_name"],
        type=row["op"],
        record=json.loads(row["record"]) if row["record"] is not None else None,
        old_record=json.loads(row["old_record"]) if row["old_record"] is not None else None,
        commit_timestamp=row["commit_timestamp"], columns=tuple(json.loads(row["columns"])),
        primary_key=tuple(row["primary_key"]), rls_enabled=row["rls_enabled"],
        replica_full=row["replica_full"],
    )


async def install(db: Database) -> None:
    """Create the capture schema and triggers; forget changes left from an earlier run."""
    async with db.admin.acquire() as conn:
        await conn.execute(INSTALL_SQL)
        await conn.execute(f"truncate {SCHEMA}.changes")
        await sync_triggers(conn)


async def sync_triggers(conn: Any) -> None:
    await conn.execute(f"select {SCHEMA}.sync()")


Sink = Callable[[Change], Awaitable[None]]


class ChangeFeed:
    """LISTENs on a dedicated connection and hands each change, in order, to ``sink``."""

    def __init__(self, db: Database, sink: Sink) -> None:
        self._db = db
        self._sink = sink
        self._wake = asyncio.Event()
        self._listener: Any = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._listener = await self._db.admin.acquire()
        await self._listener.add_listener(CHANNEL, self._notified)
        self._task = asyncio.create_task(self._run(), name="realtime-feed")

    def _notified(self, *_args: object) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._drain()
            except asyncpg.PostgresError:
                log.exception("realtime: could not read the change queue")
                await asyncio.sleep(0.5)
                self._wake.set()

    async def _drain(self) -> None:
        while True:
            rows = await self._db.admin.fetch(DRAIN_SQL)
            for row in rows:
                try:
                    await self._sink(_change(row))
                except Exception:  # one bad change must not stop the feed
                    log.exception("realtime: dispatching change %s failed", row["id"])
            if len(rows) < BATCH:
                return

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._listener is not None:
            await self._listener.remove_listener(CHANNEL, self._notified)
            await self._db.admin.release(self._listener)
            self._listener = None
