"""A PostgREST request (query string, Prefer/Accept headers, JSON body) as one SQL statement.

Pure: no I/O. Every identifier is looked up in the schema cache and always quoted; every
value travels as a bind parameter, as text cast to the column's catalog type. The JSON
response is built by Postgres (``json_agg``), so the API layer passes it through unparsed.

A statement built with ``fetch=True`` returns one row ``(body, n, total, inserted)``:
the response body (or NULL), the rows read or affected, the exact count when asked, and
for upserts the rows actually inserted. With ``fetch=False`` (mutations with
``return=minimal``) it has no RETURNING at all, so SELECT policies never apply, and the
row count comes from the command status.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from echogen_devstack.rest_grammar import (
    LOGIC_KEYS,
    Condition,
    EmbeddedFilter,
    Field,
    Logic,
    OrderTerm,
    ParseError,
    SelectItem,
    Unsupported,
    parse_columns,
    parse_filter,
    parse_filter_key,
    parse_logic,
    parse_nonneg_int,
    parse_order,
    parse_select,
)
from echogen_devstack.rest_schema import Column, Table, quote_ident

RESERVED = frozenset({"select", "order", "limit", "offset", "columns", "on_conflict", "apikey"})
COMPARE = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "cs": "@>", "cd": "<@",
           "ov": "&&", "sl": "<<", "sr": ">>", "nxr": "&<", "nxl": "&>", "adj": "-|-",
           "isdistinct": "IS DISTINCT FROM"}
PATTERN = {"like": "LIKE", "ilike": "ILIKE", "match": "~", "imatch": "~*"}
FTS = {"fts": "to_tsquery", "plfts": "plainto_tsquery", "phfts": "phraseto_tsquery",
       "wfts": "websearch_to_tsquery"}
IS_SQL = {"null": "IS NULL", "not_null": "IS NOT NULL", "true": "IS TRUE", "false": "IS FALSE",
          "unknown": "IS UNKNOWN"}
OBJECT_MEDIA = ("application/vnd.pgrst.object+json", "application/vnd.pgrst.object")
ARRAY_MEDIA = ("application/json", "application/vnd.pgrst.array+json", "application/vnd.pgrst.array",
               "application/*", "*/*")


class RestError(Exception):
    """A PostgREST error response: HTTP status and ``{code, message, details, hint}``."""

    def __init__(self, status: int, code: str, message: str, details: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.hint = hint


class UnknownColumn(RestError):
    """A name the schema cache lacks; the caller reloads the cache and tries once more."""


def parse_error(exc: ParseError) -> RestError:
    return RestError(400, "PGRST100", exc.message, exc.details)


def not_implemented(what: str) -> RestError:
    return RestError(400, "PGRST127", "Feature not implemented", f"The devstack does not support {what}")


def singular_error(n: int) -> RestError:
    return RestError(406, "PGRST116", "Cannot coerce the result to a single JSON object",
                     f"The result contains {n} rows")


# -- headers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prefer:
    representation: str | None = None  # "representation" | "minimal" | "headers-only"
    count: str | None = None  # "exact" | "planned" | "estimated" (all counted exactly)
    resolution: str | None = None  # "merge-duplicates" | "ignore-duplicates"
    missing_default: bool = False
    max_affected: int | None = None
    strict: bool = False

    def applied(self) -> str:
        parts = []
        if self.representation:
            parts.append(f"return={self.representation}")
        if self.count:
            parts.append(f"count={self.count}")
        if self.resolution:
            parts.append(f"resolution={self.resolution}")
        if self.missing_default:
            parts.append("missing=default")
        return ", ".join(parts)


def parse_prefer(values: Sequence[str]) -> Prefer:
    """All ``Prefer`` headers; unknown preferences are ignored, as PostgREST does by default."""
    found: dict[str, str] = {}
    for header in values:
        for pref in header.split(","):
            key, _, val = pref.strip().partition("=")
            found.setdefault(key.strip().lower(), val.strip())
    max_affected = found.get("max-affected", "")
    return Prefer(
        representation=_pick(found.get("return"), ("representation", "minimal", "headers-only")),
        count=_pick(found.get("count"), ("exact", "planned", "estimated")),
        resolution=_pick(found.get("resolution"), ("merge-duplicates", "ignore-duplicates")),
        missing_default=found.get("missing") == "default",
        max_affected=int(max_affected) if max_affected.isdigit() and len(max_affected) < 18 else None,
        strict=found.get("handling") == "strict",
    )


def _pick(value: str | None, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


@dataclass(frozen=True)
class Media:
    single: bool = False
    strip_nulls: bool = False

    @property
    def content_type(self) -> str:
        base = OBJECT_MEDIA[0] if self.single else "application/json"
        return f"{base}; {'nulls=stripped; ' if self.strip_nulls else ''}charset=utf-8"


def negotiate(accept: str | None) -> Media:
    """The first acceptable media range of ``Accept`` (none given means JSON)."""
    if not accept or not accept.strip():
        return Media()
    offered = []
    for part in accept.split(","):
        mtype, *params = [p.strip() for p in part.split(";")]
        mtype = mtype.lower()
        strip = any(p.replace(" ", "").lower() == "nulls=stripped" for p in params)
        if mtype in OBJECT_MEDIA:
            return Media(single=True, strip_nulls=strip)
        if mtype in ARRAY_MEDIA:
            return Media(strip_nulls=strip and mtype.startswith("application/vnd.pgrst.array"))
        offered.append(mtype)
    raise RestError(406, "PGRST107", "None of these media types are available: " + ", ".join(offered))


# -- query string -----------------------------------------------------------------------------


@dataclass
class Query:
    select: list[SelectItem] = field(default_factory=lambda: [SelectItem(None)])
    filters: list[Condition | Logic] = field(default_factory=list)
    order: list[OrderTerm] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0
    columns: list[str] | None = None
    on_conflict: list[str] | None = None


def parse_query(params: Sequence[tuple[str, str]]) -> Query:
    """The query string as PostgREST reads it; the first ``select``/``order``/... wins."""
    q = Query()
    seen: set[str] = set()
    try:
        for key, value in params:
            if key in RESERVED:
                if key in seen:
                    continue
                seen.add(key)
                _reserved(q, key, value)
            elif key in LOGIC_KEYS:
                q.filters.append(parse_logic(key, value))
            elif key.endswith((".order", ".limit", ".offset", ".or", ".and")):
                raise EmbeddedFilter(key.split(".")[0])
            else:
                q.filters.append(parse_filter(parse_filter_key(key), value))
    except ParseError as exc:
        raise parse_error(exc) from None
    except Unsupported as exc:
        raise not_implemented(str(exc)) from None
    except EmbeddedFilter as exc:
        raise RestError(400, "PGRST108", f"'{exc.resource}' is not an embedded resource in this request",
                        hint=f"Verify that '{exc.resource}' is included in the 'select' query parameter.",
                        ) from None
    return q


def _reserved(q: Query, key: str, value: str) -> None:
    if key == "select":
        q.select = parse_select(value) if value.strip() else [SelectItem(None)]
    elif key == "order":
        q.order = parse_order(value)
    elif key == "limit":
        q.limit = parse_nonneg_int("limit parameter", value)
    elif key == "offset":
        q.offset = parse_nonneg_int("offset parameter", value)
    elif key == "columns":
        q.columns = parse_columns("columns parameter", value)
    elif key == "on_conflict":
        q.on_conflict = parse_columns("on_conflict parameter", value)


def parse_range(header: str | None, q: Query) -> None:
    """``Range: 0-9`` (items) narrows limit/offset, as in PostgREST; a bad header is ignored."""
    if not header:
        return
    lower, sep, upper = header.strip().removeprefix("items=").partition("-")
    if not sep or not lower.isdigit() or (upper and not upper.isdigit()):
        return
    start = int(lower)
    q.offset = max(q.offset, start)
    if upper:
        span = int(upper) - start + 1
        if span < 0:
            raise RestError(416, "PGRST103", "Requested range not satisfiable",
                            "The lower boundary must be lower than or equal to the upper boundary in the "
                            "Range header.")
        q.limit = span if q.limit is None else min(q.limit, span)


# -- JSON body --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Payload:
    text: str  # the body exactly as received, handed to Postgres as json
    rows: list[dict[str, Any]]
    is_array: bool


def parse_payload(raw: bytes) -> Payload:
    invalid = RestError(400, "PGRST102", "Empty or invalid json")
    try:
        text = raw.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise invalid from None
    if "\x00" in text:
        raise invalid
    if isinstance(data, dict):
        return Payload(text, [data], False)
    if isinstance(data, list) and all(isinstance(row, dict) for row in data):
        return Payload(text, data, True)
    raise invalid


# -- SQL ------------------------------------------------------------------------------------


@dataclass
class Statement:
    sql: str
    args: list[Any]
    fetch: bool = True


class _Builder:
    def __init__(self, table: Table) -> None:
        self.table = table
        self.args: list[Any] = []

    def param(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def column(self, name: str, *, payload: bool = False) -> Column:
        col = self.table.columns.get(name)
        if col is None:
            if payload:
                raise UnknownColumn(400, "PGRST204",
                                    f"Could not find the '{name}' column of '{self.table.name}' in the "
                                    "schema cache")
            raise UnknownColumn(400, "42703", f"column {self.table.name}.{name} does not exist")
        return col

    def typed(self, value: str, type_sql: str) -> str:
        """A text parameter cast to the catalog type (Postgres parses it, as PostgREST's would)."""
        p = self.param(value)
        return f"{p}::text" if type_sql == "text" else f"{p}::text::{type_sql}"

    def field(self, alias: str, fld: Field) -> tuple[str, str, bool]:
        """SQL for a column or JSON path, its type as a cast target, and whether it is text."""
        col = self.column(fld.name)
        expr, type_sql, is_text = f"{alias}.{quote_ident(col.name)}", col.type_sql, col.is_text
        for step in fld.path:
            key = str(int(step.key)) if step.is_index else f"{self.param(step.key)}::text"
            expr = f"({expr} {step.arrow} {key})"
            if step.arrow == "->>":
                type_sql, is_text = "text", True
            else:
                type_sql, is_text = ("json" if type_sql == "json" else "jsonb"), False
        return expr, type_sql, is_text

    # -- select list ---------------------------------------------------------------------

    def select_list(self, alias: str, items: Sequence[SelectItem]) -> str:
        parts: list[str] = []
        for item in items:
            if item.field is None:
                parts.extend(f"{alias}.{quote_ident(name)}" for name in self.table.columns)
                continue
            expr, _, _ = self.field(alias, item.field)
            if item.cast:
                expr = f"CAST({expr} AS {item.cast})"
            label = item.alias or item.field.label
            if "\x00" in label:
                raise RestError(400, "PGRST100", "invalid alias in select parameter")
            parts.append(f"{expr} AS {quote_ident(label)}")
        return ", ".join(parts)

    # -- WHERE ---------------------------------------------------------------------------

    def where(self, alias: str, filters: Sequence[Condition | Logic]) -> str:
        if not filters:
            return ""
        return " WHERE " + " AND ".join(self.node(alias, f) for f in filters)

    def node(self, alias: str, node: Condition | Logic) -> str:
        if isinstance(node, Logic):
            joiner = " AND " if node.op == "and" else " OR "
            sql = "(" + joiner.join(self.node(alias, child) for child in node.children) + ")"
        else:
            sql = self.condition(alias, node)
        return f"NOT {sql}" if node.negate else sql

    def condition(self, alias: str, c: Condition) -> str:
        expr, type_sql, is_text = self.field(alias, c.field)
        value = c.value
        if c.op == "is":
            return f"({expr} {IS_SQL[str(value)]})"
        if c.op == "in":
            assert isinstance(value, tuple)
            p = self.param(list(value))
            target = "text[]" if type_sql == "text" else f"text[]::{type_sql}[]"
            return f"({expr} = ANY({p}::{target}))"
        assert isinstance(value, str)
        if c.op in FTS:
            config = f"{self.param(c.fts_config)}::regconfig, " if c.fts_config else ""
            doc = expr if type_sql == "tsvector" else f"to_tsvector({config}{expr})"
            return f"({doc} @@ {FTS[c.op]}({config}{self.param(value)}::text))"
        if c.op in PATTERN:
            lhs = expr if is_text else f"{expr}::text"
            pattern = value.replace("*", "%") if c.op in ("like", "ilike") else value
            if c.quantifier:
                return f"({lhs} {PATTERN[c.op]} {c.quantifier.upper()}({self.param(pattern)}::text::text[]))"
            return f"({lhs} {PATTERN[c.op]} {self.param(pattern)}::text)"
        if c.quantifier:
            return f"({expr} {COMPARE[c.op]} {c.quantifier.upper()}({self.param(value)}::text::{type_sql}[]))"
        return f"({expr} {COMPARE[c.op]} {self.typed(value, type_sql)})"

    def order_by(self, alias: str, terms: Sequence[OrderTerm]) -> str:
        if not terms:
            return ""
        parts = []
        for term in terms:
            expr, _, _ = self.field(alias, term.field)
            sql = f"{expr} {'DESC' if term.desc else 'ASC'}"
            if term.nulls:
                sql += f" NULLS {term.nulls.upper()}"
            parts.append(sql)
        return " ORDER BY " + ", ".join(parts)

    def paging(self, q: Query) -> str:
        sql = ""
        if q.limit is not None:
            sql += f" LIMIT {self.param(q.limit)}::bigint"
        if q.offset:
            sql += f" OFFSET {self.param(q.offset)}::bigint"
        return sql

    def body(self, agg_source: str, media: Media) -> str:
        agg = f"json_agg({agg_source})"
        if media.strip_nulls:
            agg = f"json_strip_nulls({agg})"
        return f"({agg} -> 0)::text" if media.single else f"coalesce({agg}, '[]')::text"

    def returning(self, q: Query, *, upsert: bool) -> str:
        """Each affected row shaped by ``select=``, plus whether an upsert inserted it."""
        row = f"(SELECT _x FROM (SELECT {self.select_list('_t', q.select)}) _x) AS r"
        return f" RETURNING {row}, {'(_t.xmax = 0)' if upsert else 'true'} AS ins"

    def wrap_mutation(self, mutation: str, media: Media, head: bool) -> str:
        body = "NULL::text" if head else self.body("_m.r", media)
        return (f"WITH _m AS ({mutation}) SELECT {body} AS body, count(*) AS n, NULL::bigint AS total,"
                " count(*) FILTER (WHERE _m.ins) AS inserted FROM _m")

    def limited(self, q: Query) -> str:
        """PATCH/DELETE with limit/offset: touch only the first rows of the ordered filter."""
        inner = (f"SELECT _s.ctid FROM {self.table.sql_name} AS _s{self.where('_s', q.filters)}"
                 f"{self.order_by('_s', q.order)}{self.paging(q)}")
        return f" WHERE _t.ctid = ANY(ARRAY({inner}))"


def build_read(table: Table, q: Query, media: Media, *, count: bool, head: bool = False) -> Statement:
    b = _Builder(table)
    select = b.select_list("_t", q.select)
    where = b.where("_t", q.filters)
    order = b.order_by("_t", q.order)
    paging = b.paging(q)
    body = "NULL::text" if head else b.body("_r", media)
    total = f"(SELECT count(*) FROM {table.sql_name} AS _t{where})" if count else "NULL::bigint"
    sql = (f"SELECT {body} AS body, count(*) AS n, {total} AS total, NULL::bigint AS inserted"
           f" FROM (SELECT {select} FROM {table.sql_name} AS _t{where}{order}{paging}) _r")
    return Statement(sql, b.args)


def insert_columns(table: Table, q: Query, payload: Payload) -> list[str]:
    """``columns=`` when given (extra keys ignored), else the keys, which must match across rows."""
    b = _Builder(table)
    if q.columns is not None:
        names = list(dict.fromkeys(q.columns))
    else:
        names = list(payload.rows[0]) if payload.rows else []
        if any(set(row) != set(names) for row in payload.rows[1:]):
            raise RestError(400, "PGRST102", "All object keys must match")
    for name in names:
        b.column(name, payload=True)
    return names


def build_insert(table: Table, q: Query, payload: Payload, prefer: Prefer, media: Media) -> Statement:
    b = _Builder(table)
    names = insert_columns(table, q, payload)
    cols = ", ".join(quote_ident(n) for n in names)
    target = f"INSERT INTO {table.sql_name} AS _t"
    p = b.param(payload.text)
    if prefer.missing_default and payload.is_array and any(set(names) - set(row) for row in payload.rows):
        source = _values_with_defaults(table, names, payload, p)
    else:
        fn = "json_populate_recordset" if payload.is_array else "json_populate_record"
        source = f"SELECT {cols} FROM {fn}(NULL::{table.sql_name}, {p}::json)"
    sql = f"{target} ({cols}) {source}" if names else f"{target} {source}"
    upsert = prefer.resolution is not None
    if upsert:
        sql += _on_conflict(b, table, q, names, prefer)
    merge = prefer.resolution == "merge-duplicates"
    if prefer.representation == "representation" or media.single:
        returning = b.returning(q, upsert=merge)
        return Statement(b.wrap_mutation(sql + returning, media, head=False), b.args)
    if merge:
        # Only to tell 201 (inserted) from 200 (all merged), as PostgREST does.
        sql += " RETURNING (_t.xmax = 0) AS ins"
        return Statement(b.wrap_mutation(sql, media, head=True), b.args)
    return Statement(sql, b.args, fetch=False)


def _values_with_defaults(table: Table, names: list[str], payload: Payload, p: str) -> str:
    """``missing=default``: keys a row lacks take the column default, row by row."""
    rows = []
    for i, row in enumerate(payload.rows):
        cells = [
            f"(json_populate_record(NULL::{table.sql_name}, ({p}::json -> {i}))).{quote_ident(n)}"
            if n in row else "DEFAULT"
            for n in names
        ]
        rows.append("(" + ", ".join(cells) + ")")
    return "VALUES " + ", ".join(rows)


def _on_conflict(b: _Builder, table: Table, q: Query, names: list[str], prefer: Prefer) -> str:
    keys = q.on_conflict if q.on_conflict is not None else list(table.primary_key)
    for key in keys:
        b.column(key)
    target = f"({', '.join(quote_ident(k) for k in keys)})" if keys else ""
    if prefer.resolution == "ignore-duplicates" or not names:
        return f" ON CONFLICT {target} DO NOTHING"
    sets = ", ".join(f"{quote_ident(n)} = EXCLUDED.{quote_ident(n)}" for n in names)
    return f" ON CONFLICT {target} DO UPDATE SET {sets}"


def build_update(table: Table, q: Query, payload: Payload, prefer: Prefer, media: Media) -> Statement:
    b = _Builder(table)
    if payload.is_array:
        raise RestError(400, "PGRST102", "Empty or invalid json")
    names = list(payload.rows[0]) if q.columns is None else list(dict.fromkeys(q.columns))
    for name in names:
        b.column(name, payload=True)
    representation = prefer.representation == "representation" or media.single
    if not names:
        # Nothing to change: PostgREST answers as if no row matched.
        body = "NULL::text" if media.single else "'[]'::text"
        return Statement(f"SELECT {body} AS body, 0::bigint AS n, NULL::bigint AS total,"
                         " 0::bigint AS inserted", [], fetch=True)
    p = b.param(payload.text)
    sets = ", ".join(f"{quote_ident(n)} = _b.{quote_ident(n)}" for n in names)
    where = b.limited(q) if q.limit is not None or q.offset else b.where("_t", q.filters)
    sql = (f"UPDATE {table.sql_name} AS _t SET {sets}"
           f" FROM json_populate_record(NULL::{table.sql_name}, {p}::json) AS _b{where}")
    if representation:
        return Statement(b.wrap_mutation(sql + b.returning(q, upsert=False), media, head=False),
                         b.args)
    return Statement(sql, b.args, fetch=False)


def build_delete(table: Table, q: Query, prefer: Prefer, media: Media) -> Statement:
    b = _Builder(table)
    where = b.limited(q) if q.limit is not None or q.offset else b.where("_t", q.filters)
    sql = f"DELETE FROM {table.sql_name} AS _t{where}"
    if prefer.representation == "representation" or media.single:
        return Statement(b.wrap_mutation(sql + b.returning(q, upsert=False), media, head=False),
                         b.args)
    return Statement(sql, b.args, fetch=False)


def status_count(status: str) -> int:
    """Rows affected, from a command tag such as ``INSERT 0 3`` or ``UPDATE 2``."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0
