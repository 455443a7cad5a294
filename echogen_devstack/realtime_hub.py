"""Who is subscribed to what, and fanning each change out to them.

A change goes to a subscription when one of its bindings names the change's table and event,
its filter holds for the row (evaluated by Postgres), and row-level security lets the
subscriber see the row (``realtime_access``). Each websocket has one bounded outbox; a client
that lets it fill up is disconnected rather than letting the server's memory grow.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from echogen_devstack.db import Database
from echogen_devstack.realtime_access import table_sql, visibility
from echogen_devstack.realtime_feed import Change
from echogen_devstack.realtime_filters import Condition, FilterError, build_check, parse_filter
from echogen_devstack.realtime_protocol import BindingSpec, Message, message

log = logging.getLogger(__name__)

OUTBOX_FRAMES = 1000
OUTBOX_BYTES = 4 * 1024 * 1024


class Outbox:
    """The frames waiting for one websocket, bounded in count and bytes.

    ``None`` in the queue tells the writer to hang up.
    """

    def __init__(self, frames: int = OUTBOX_FRAMES, max_bytes: int = OUTBOX_BYTES) -> None:
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=frames + 1)
        self.frames = frames
        self.max_bytes = max_bytes
        self.pending_bytes = 0
        self.overflowed = False

    def offer(self, msg: Message) -> bool:
        if self.overflowed:
            return False
        text = json.dumps(msg, default=str)
        if self.queue.qsize() >= self.frames or self.pending_bytes + len(text) > self.max_bytes:
            # The client cannot keep up: drop what it has not read and disconnect it.
            self.hang_up()
            return False
        self.pending_bytes += len(text)
        self.queue.put_nowait(text)
        return True

    async def take(self) -> str | None:
        text = await self.queue.get()
        if text is not None:
            self.pending_bytes -= len(text)
        return text

    def hang_up(self) -> None:
        if self.overflowed:
            return
        self.overflowed = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.pending_bytes = 0
        self.queue.put_nowait(None)


class BindingError(ValueError):
    """A binding names a table or column that does not exist, or a bad filter."""


@dataclass(frozen=True)
class Binding:
    spec: BindingSpec
    conditions: tuple[Condition, ...] = ()
    column_types: tuple[str, ...] = ()  # the SQL type of each condition's column

    def wants(self, change: Change) -> bool:
        return (
            self.spec.schema == change.schema
            and self.spec.table in (None, "*", change.table)
            and self.spec.event in ("*", change.type)
        )


@dataclass(eq=False)
class Subscription:
    topic: str
    join_ref: str | None
    claims: dict[str, Any]
    bindings: tuple[Binding, ...]
    outbox: Outbox
    expiry: asyncio.Task[None] | None = field(default=None)

    def caller_key(self) -> str:
        return json.dumps(self.claims, sort_keys=True, default=str)

    def expired(self) -> bool:
        exp = self.claims.get("exp")
        return isinstance(exp, (int, float)) and exp <= time.time()


async def resolve_bindings(db: Database, specs: tuple[BindingSpec, ...]) -> tuple[Binding, ...]:
    """Check each binding against the catalog and compile its filter."""
    bindings: list[Binding] = []
    async with db.admin.acquire() as conn:
        for spec in specs:
            if spec.table in (None, "*"):
                if spec.filter:
                    raise BindingError("a filter needs a table")
                bindings.append(Binding(spec))
                continue
            types = await conn.fetchval(
                "select json_object_agg(a.attname, format_type(a.atttypid, a.atttypmod))::text"
                " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                " join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped"
                " where n.nspname = $1 and c.relname = $2 and c.relkind in ('r', 'p')",
                spec.schema, spec.table,
            )
            if types is None:
                raise BindingError(f"no table {spec.schema}.{spec.table}")
            column_types: dict[str, str] = json.loads(types)
            try:
                conditions = parse_filter(spec.filter) if spec.filter else ()
            except FilterError as exc:
                raise BindingError(str(exc)) from exc
            for cond in conditions:
                if cond.column not in column_types:
                    raise BindingError(f"no column {cond.column} in {spec.schema}.{spec.table}")
            bindings.append(Binding(spec, conditions, tuple(column_types[c.column] for c in conditions)))
    return tuple(bindings)


class Hub:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._subs: set[Subscription] = set()

    def add(self, sub: Subscription) -> None:
        self._subs.add(sub)

    def remove(self, sub: Subscription) -> None:
        self._subs.discard(sub)
        if sub.expiry is not None:
            sub.expiry.cancel()

    def __len__(self) -> int:
        return len(self._subs)

    async def dispatch(self, change: Change) -> None:
        matched = [
            (sub, [b for b in sub.bindings if b.wants(change)])
            for sub in list(self._subs) if not sub.expired()
        ]
        matched = [(sub, bs) for sub, bs in matched if bs]
        if not matched:
            return
        passed = await self._filters(change, [b for _, bs in matched for b in bs])
        matched = [(sub, [b for b in bs if passed.get(b, False)]) for sub, bs in matched]
        matched = [(sub, bs) for sub, bs in matched if bs]
        if not matched:
            return
        callers = {sub.caller_key(): sub.claims for sub, _ in matched}
        seen = await visibility(self._db, change, callers)
        for sub, bs in matched:
            columns = seen.get(sub.caller_key())
            if columns is None or sub not in self._subs:
                continue
            data = change.wire_data(_narrow(columns, bs))
            payload = {"ids": sorted({b.spec.id for b in bs}), "data": data}
            sub.outbox.offer(message("postgres_changes", sub.topic, payload))

    async def _filters(self, change: Change, bindings: list[Binding]) -> dict[Binding, bool]:
        """Evaluate every distinct condition once, in one query, over the row as the WAL has it."""
        row = change.record if change.type != "DELETE" else change.old_identity()
        row = row or {}
        wanted: list[tuple[Condition, str]] = []
        for b in bindings:
            for cond, ctype in zip(b.conditions, b.column_types, strict=True):
                if (cond, ctype) not in wanted and cond.column in row:
                    wanted.append((cond, ctype))
        results: dict[tuple[Condition, str], bool] = {}
        if wanted:
            sql, params = build_check(table_sql(change), wanted)
            try:
                values = await self._db.admin.fetchval(sql, json.dumps(row), *params)
                results = dict(zip(wanted, values, strict=True))
            except (asyncpg.PostgresError, ValueError) as exc:
                log.info("realtime: filter evaluation failed on %s: %s", change.table, exc)
        return {
            b: all(results.get((c, t), False) for c, t in zip(b.conditions, b.column_types, strict=True))
            for b in bindings
        }


def _narrow(columns: frozenset[str], bindings: list[Binding]) -> frozenset[str]:
    """The granted columns, further narrowed to the bindings' ``select`` lists if all have one."""
    selects = [b.spec.select for b in bindings]
    if any(s is None for s in selects):
        return columns
    chosen = {c for s in selects if s is not None for c in s}
    return columns & chosen
