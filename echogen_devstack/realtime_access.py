"""Who may see a change: Postgres row-level security decides, never Python.

INSERT/UPDATE: the row is selected by primary key as the subscriber (``Database.as_caller``),
so the table's SELECT policies and grants apply to the committed row.

DELETE: the row is gone, so there is nothing to select. Real Realtime sends the primary key to
every subscriber of the table; the devstack is stricter and asks the same policies about the
old row. In one superuser transaction that is always rolled back, the old row is put back with
``session_replication_role = replica`` (no triggers, no foreign-key checks, so nothing else
observes it), and then, per subscriber, under a savepoint, selected by primary key with the
subscriber's role and claims. Only those whose policy would have shown them the row get the
DELETE, and even they get the primary key only (as real Realtime does under RLS). Failing
closed: if the old row cannot be put back (say a new row took its key), nobody gets it.

Alongside visibility, each check returns the columns the subscriber may SELECT, so a record
never carries a column the role was not granted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import asyncpg

from echogen_devstack.db import API_ROLES, Claims, Conn, Database
from echogen_devstack.realtime_feed import Change
from echogen_devstack.realtime_filters import quote_ident

log = logging.getLogger(__name__)

# None: the subscriber may not see the row; else the columns it may select.
Visibility = frozenset[str] | None

SET_CALLER_SQL = (
    "select set_config('role', $1, true), set_config('request.jwt.claims', $2, true),"
    " set_config('request.jwt.claim.sub', $3, true), set_config('request.jwt.claim.role', $1, true)"
)
COLUMNS_SQL = (
    "array(select a.attname::text from pg_attribute a where a.attrelid = $2 and a.attnum > 0"
    " and not a.attisdropped and has_column_privilege($2, a.attnum, 'SELECT'))"
)


def table_sql(change: Change) -> str:
    return f"{quote_ident(change.schema)}.{quote_ident(change.table)}"


def _check_sql(change: Change) -> str:
    tbl = table_sql(change)
    keys = " and ".join(f"t.{quote_ident(k)} = r.{quote_ident(k)}" for k in change.primary_key)
    return (
        f"select exists(select 1 from {tbl} t, jsonb_populate_record(null::{tbl}, $1::jsonb) r"
        f" where {keys}) as visible, {COLUMNS_SQL} as columns"
    )


async def _check(conn: Conn, change: Change, row: Mapping[str, Any]) -> Visibility:
    found = await conn.fetchrow(_check_sql(change), json.dumps(row), change.relid)
    if found is None or not found["visible"]:
        return None
    return frozenset(found["columns"])


async def visibility(db: Database, change: Change, callers: Mapping[str, Claims]) -> dict[str, Visibility]:
    """For each caller (keyed by the caller's choice), whether and what it may see of ``change``."""
    if not change.primary_key:
        log.warning("realtime: %s.%s has no primary key; its changes are not delivered",
                    change.schema, change.table)
        return {key: None for key in callers}
    if change.type == "DELETE":
        return await _deleted_visibility(db, change, callers)
    result: dict[str, Visibility] = {}
    for key, claims in callers.items():
        try:
            async with db.as_caller(claims, method="GET", path="/realtime/v1") as conn:
                result[key] = await _check(conn, change, change.record or {})
        except asyncpg.PostgresError:  # no grant on the table: not visible
            result[key] = None
    return result


async def _deleted_visibility(
    db: Database, change: Change, callers: Mapping[str, Claims]
) -> dict[str, Visibility]:
    result: dict[str, Visibility] = {key: None for key in callers}
    tbl = table_sql(change)
    async with db.admin.acquire() as conn:
        outer = conn.transaction()
        await outer.start()
        try:
            await conn.execute("set local session_replication_role = replica")
            names = await conn.fetchval(
                "select array_agg(quote_ident(attname) order by attnum) from pg_attribute"
                " where attrelid = $1 and attnum > 0 and not attisdropped and attgenerated = ''",
                change.relid,
            )
            cols = ", ".join(names or [])
            await conn.execute(
                f"insert into {tbl} ({cols}) overriding system value"
                f" select {cols} from jsonb_populate_record(null::{tbl}, $1::jsonb)",
                json.dumps(change.old_record or {}),
            )
            for key, claims in callers.items():
                savepoint = conn.transaction()
                await savepoint.start()
                try:
                    await conn.execute(SET_CALLER_SQL, _role(claims), json.dumps(dict(claims)),
                                       str(claims.get("sub") or ""))
                    result[key] = await _check(conn, change, change.old_record or {})
                except asyncpg.PostgresError:
                    result[key] = None
                finally:
                    await savepoint.rollback()
        except asyncpg.PostgresError as exc:
            log.info("realtime: cannot check who saw deleted %s row: %s", tbl, exc)
        finally:
            await outer.rollback()
    return result


def _role(claims: Claims) -> str:
    role = str(claims.get("role") or "anon")
    return role if role in API_ROLES else "anon"
