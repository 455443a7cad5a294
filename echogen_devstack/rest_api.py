"""``/rest/v1``: the PostgREST-compatible table API.

One request is one transaction as the caller (``Database.as_caller``): row-level security
in Postgres decides what is visible or writable. The SQL comes from ``rest_query``; the
JSON body comes back from Postgres as text and is sent on unparsed.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from echogen_devstack.db import Database
from echogen_devstack.errors import gateway_error, rest_error
from echogen_devstack.faults import rest_delay
from echogen_devstack.rest_query import (
    Media,
    Payload,
    Prefer,
    Query,
    RestError,
    Statement,
    UnknownColumn,
    build_delete,
    build_insert,
    build_read,
    build_update,
    negotiate,
    parse_payload,
    parse_prefer,
    parse_query,
    parse_range,
    singular_error,
    status_count,
)
from echogen_devstack.rest_schema import EXPOSED_SCHEMA, Catalog, Table, schema_cache
from echogen_devstack.state import ApiKeyMissing, bearer_token, caller_claims, stack_of
from echogen_devstack.tokens import TokenExpired, TokenInvalid

log = logging.getLogger(__name__)

READ_METHODS = ("GET", "HEAD")
TABLE_METHODS = ["GET", "HEAD", "POST", "PATCH", "DELETE"]


def routes() -> list[BaseRoute]:
    return [
        Route("/rpc/{name}", rpc, methods=["GET", "HEAD", "POST"]),
        Route("/{table}", table_endpoint, methods=[*TABLE_METHODS, "PUT"]),
        Route("/{path:path}", invalid_path, methods=[*TABLE_METHODS, "PUT"]),
    ]


async def invalid_path(request: Request) -> Response:
    return rest_error(404, "PGRST125", "Invalid path specified in request URL")


async def rpc(request: Request) -> Response:
    name = request.path_params["name"]
    return rest_error(404, "PGRST202",
                      f"Could not find the function {EXPOSED_SCHEMA}.{name} in the schema cache",
                      "The devstack does not expose database functions")


async def table_endpoint(request: Request) -> Response:
    authed = False
    await rest_delay(request.scope)  # slow mode, for tests (echogen_devstack/faults.py)
    try:
        claims = _claims(request)
        authed = str(claims.get("role") or "anon") != "anon"
        return await _serve(request, claims)
    except ApiKeyMissing:
        return gateway_error(401, "No API key found in request")
    except RestError as exc:
        return rest_error(exc.status, exc.code, exc.message, exc.details, exc.hint)
    except asyncpg.PostgresError as exc:
        return _pg_error(exc, authed)
    except Exception:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return rest_error(500, "PGRSTX00", "Internal server error")


def _claims(request: Request) -> dict[str, Any]:
    try:
        return caller_claims(request)
    except TokenExpired:
        raise RestError(401, "PGRST303", "JWT expired") from None
    except TokenInvalid:
        token = bearer_token(request) or request.headers.get("apikey") or ""
        parts = token.count(".") + 1
        message = ("JWT cryptographic operation failed" if parts == 3
                   else f"Expected 3 parts in JWT; got {parts}")
        raise RestError(401, "PGRST301", message) from None


async def _serve(request: Request, claims: dict[str, Any]) -> Response:
    method = request.method
    if method == "PUT":
        raise RestError(405, "PGRST117", "Unsupported HTTP method: PUT",
                        "The devstack implements upsert through POST with Prefer: resolution=...")
    profile_header = "accept-profile" if method in READ_METHODS else "content-profile"
    profile = request.headers.get(profile_header)
    if profile is not None and profile != EXPOSED_SCHEMA:
        raise RestError(406, "PGRST106", f"Invalid schema: {profile}",
                        hint=f"Only the following schemas are exposed: {EXPOSED_SCHEMA}")

    stack = stack_of(request)
    cache = schema_cache(stack.db)
    name = request.path_params["table"]
    table = await cache.table(name)
    if table is None:
        raise _table_not_found(name, await cache.catalog())

    query = parse_query(request.query_params.multi_items())
    media = negotiate(request.headers.get("accept"))
    prefer = parse_prefer(request.headers.getlist("prefer"))
    payload = parse_payload(await request.body()) if method in ("POST", "PATCH") else None
    if method in READ_METHODS:
        parse_range(request.headers.get("range"), query)

    try:
        statement = _statement(method, table, query, prefer, media, payload)
    except UnknownColumn:
        # The catalog may predate a migration: look again once before refusing.
        table = await cache.refreshed_table(table)
        statement = _statement(method, table, query, prefer, media, payload)

    try:
        result = await _run(stack.db, claims, request, statement, prefer, media)
    except asyncpg.InvalidCachedStatementError:
        # A migration changed a table under a cached plan: one clean retry re-prepares it.
        result = await _run(stack.db, claims, request, statement, prefer, media)
    except (asyncpg.UndefinedColumnError, asyncpg.UndefinedTableError):
        # The catalog was stale: reload it, so this answer and the next request see the change.
        catalog = await cache.reload((await cache.catalog()).loaded_at)
        if name not in catalog.tables:
            raise _table_not_found(name, catalog) from None
        raise
    body, n, total, inserted = result

    if method in READ_METHODS:
        return _read_response(query, prefer, media, body, n, total, head=method == "HEAD")
    return _write_response(method, prefer, media, body, n, inserted)


def _table_not_found(name: str, catalog: Catalog) -> RestError:
    suggestion = catalog.suggest(name)
    hint = f"Perhaps you meant the table '{EXPOSED_SCHEMA}.{suggestion}'" if suggestion else None
    message = f"Could not find the table '{EXPOSED_SCHEMA}.{name}' in the schema cache"
    return RestError(404, "PGRST205", message, hint=hint)


async def _run(db: Database, claims: dict[str, Any], request: Request, statement: Statement, prefer: Prefer,
               media: Media) -> tuple[str | None, int, int | None, int | None]:
    """Execute in one transaction as the caller: ``(body, rows, total, inserted)``."""
    method = request.method
    async with db.as_caller(claims, method=method, path=request.url.path) as conn:
        if statement.fetch:
            row = await conn.fetchrow(statement.sql, *statement.args)
            assert row is not None  # an aggregate always yields one row
            body: str | None = row["body"]
            n: int = row["n"]
            total: int | None = row["total"]
            inserted: int | None = row["inserted"]
        else:
            n = status_count(await conn.execute(statement.sql, *statement.args))
            body, total, inserted = None, None, n
        # Raised inside the transaction, so a refused mutation is rolled back.
        if media.single and n != 1:
            raise singular_error(n)
        if prefer.strict and prefer.max_affected is not None and method in ("PATCH", "DELETE") \
                and n > prefer.max_affected:
            raise RestError(400, "PGRST124", "Query result exceeds max-affected preference constraint",
                            f"The query affects {n} rows")
    return body, n, total, inserted


def _statement(method: str, table: Table, query: Query, prefer: Prefer, media: Media,
               payload: Payload | None) -> Statement:
    if method in READ_METHODS:
        return build_read(table, query, media, count=prefer.count is not None, head=method == "HEAD")
    if method == "POST":
        assert payload is not None
        return build_insert(table, query, payload, prefer, media)
    if method == "PATCH":
        assert payload is not None
        return build_update(table, query, payload, prefer, media)
    return build_delete(table, query, prefer, media)


def _content_range(lower: int, upper: int, total: int | None) -> str:
    span = f"{lower}-{upper}" if total != 0 and lower <= upper else "*"
    return f"{span}/{'*' if total is None else total}"


def _read_response(query: Query, prefer: Prefer, media: Media, body: str | None, n: int,
                   total: int | None, *, head: bool) -> Response:
    lower = query.offset
    headers = {"Content-Range": _content_range(lower, lower + n - 1, total)}
    if prefer.count:
        headers["Preference-Applied"] = f"count={prefer.count}"
    if total is not None and lower > total:
        return rest_error(416, "PGRST103", "Requested range not satisfiable",
                          f"An offset of {lower} was requested, but there are only {total} rows.")
    status = 206 if total is not None and n < total else 200
    content = b"" if head else (body or "").encode("utf-8")
    return Response(content, status_code=status, headers=headers, media_type=media.content_type)


def _write_response(method: str, prefer: Prefer, media: Media, body: str | None, n: int,
                    inserted: int | None) -> Response:
    counted = n if prefer.count else None
    # PostgREST reports the affected span for PATCH only; POST and DELETE say `*`.
    lower, upper = (0, n - 1) if method == "PATCH" else (1, 0)
    headers = {"Content-Range": _content_range(lower, upper, counted)}
    if applied := prefer.applied():
        headers["Preference-Applied"] = applied
    full = prefer.representation == "representation"
    if method == "POST":
        merged_only = prefer.resolution == "merge-duplicates" and inserted is not None and inserted <= 0
        status = 200 if merged_only else 201
    else:
        status = 200 if full else 204
    if not full:
        return Response(status_code=status, headers=headers)
    return Response((body or "").encode("utf-8"), status_code=status, headers=headers,
                    media_type=media.content_type)


# PostgREST's SQLSTATE → HTTP table, except that nothing answers 503: the client retries
# GET/HEAD on 503 and this stack has no transient overload to signal.
EXACT_STATUS = {
    "23503": 409, "23505": 409, "25006": 405, "21000": 500, "53400": 500, "42883": 404, "42P01": 404,
    "42P17": 500, "P0001": 400,
}
PREFIX_STATUS = {
    "08": 500, "09": 500, "0L": 403, "0P": 403, "25": 500, "28": 403, "2D": 500, "38": 500, "39": 500,
    "3B": 500, "40": 500, "53": 500, "54": 500, "55": 500, "57": 500, "58": 500, "F0": 500, "HV": 500,
    "P0": 500, "XX": 500,
}


def pg_status(sqlstate: str, authed: bool) -> int:
    if sqlstate == "42501":
        return 403 if authed else 401
    if sqlstate.startswith("PT") and sqlstate[2:].isdigit():
        code = int(sqlstate[2:])
        return code if 100 <= code <= 599 and code != 503 else 500
    if sqlstate in EXACT_STATUS:
        return EXACT_STATUS[sqlstate]
    return PREFIX_STATUS.get(sqlstate[:2], 400)


def _pg_error(exc: asyncpg.PostgresError, authed: bool) -> Response:
    sqlstate = str(getattr(exc, "sqlstate", "") or "XX000")
    status = pg_status(sqlstate, authed)
    if status >= 500:
        log.error("database error %s: %s", sqlstate, exc)
    return rest_error(status, sqlstate, str(getattr(exc, "message", None) or exc),
                      getattr(exc, "detail", None), getattr(exc, "hint", None))
