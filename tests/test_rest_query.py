"""Unit tests of the PostgREST grammar and SQL builder (no database: the SQL text is the unit).

The injection properties are the point: whatever a caller writes, values end up only in the
bind parameters and identifiers only as catalog names, always quoted.
"""

from __future__ import annotations

import json
import re
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from echogen_devstack.rest_grammar import (
    Condition,
    Field,
    JsonStep,
    Logic,
    OrderTerm,
    ParseError,
    SelectItem,
    parse_filter,
    parse_filter_key,
    parse_logic,
    parse_order,
    parse_select,
)
from echogen_devstack.rest_query import (
    Media,
    Prefer,
    Query,
    RestError,
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
    status_count,
)
from echogen_devstack.rest_schema import Column, Table, quote_ident

TABLE = Table(
    "public",
    "things",
    {
        "id": Column("id", "uuid", "uuid", "U"),
        "title": Column("title", "text", "text", "S"),
        "n": Column("n", "integer", "int4", "N"),
        "meta": Column("meta", "jsonb", "jsonb", "U"),
        "tags": Column("tags", "text[]", "_text", "A"),
        "doc": Column("doc", "tsvector", "tsvector", "U"),
        "created_at": Column("created_at", "timestamp with time zone", "timestamptz", "D"),
        'odd "name"': Column('odd "name"', "text", "text", "S"),
    },
    ("id",),
)


def read(
    params: list[tuple[str, str]], *, count: bool = False, media: Media | None = None
) -> tuple[str, list[Any]]:
    st_ = build_read(TABLE, parse_query(params), media or Media(), count=count)
    return st_.sql, st_.args


def code_of(params: list[tuple[str, str]]) -> str:
    with pytest.raises(RestError) as caught:
        read(params)
    return caught.value.code


# ------------------------------------------------------------------------------- grammar


def test_select_items() -> None:
    assert parse_select("*") == [SelectItem(None)]
    assert parse_select("id, heading:title ,meta->>lang,n::text,x:meta->a->0::int") == [
        SelectItem(Field("id")),
        SelectItem(Field("title"), alias="heading"),
        SelectItem(Field("meta", (JsonStep("->>", "lang", False),))),
        SelectItem(Field("n"), cast="text"),
        SelectItem(Field("meta", (JsonStep("->", "a", False), JsonStep("->", "0", True))), "x", "int"),
    ]
    assert parse_select('"odd \\"name\\"",with-dash') == [
        SelectItem(Field('odd "name"')),
        SelectItem(Field("with-dash")),
    ]
    assert parse_select("n::double precision") == [SelectItem(Field("n"), cast="double precision")]


@pytest.mark.parametrize(
    "text", ["", "id,", ",id", "id,,title", "id title)", "*x", "id::", "id::text;x", "a:"]
)
def test_select_errors(text: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_select(text)
    assert caught.value.message.startswith(f'"failed to parse select parameter ({text})" (line 1, column ')


def test_filters() -> None:
    f = Field("title")
    assert parse_filter(f, "eq.a.b,c") == Condition(f, "eq", "a.b,c")
    assert parse_filter(f, "not.like.*x*") == Condition(f, "like", "*x*", negate=True)
    assert parse_filter(f, 'in.(a,"b,c","d\\"e",)') == Condition(f, "in", ("a", "b,c", 'd"e', ""))
    # A quoted element must end at `,` or `)`; otherwise it is taken literally, as PostgREST does.
    assert parse_filter(f, 'in.( "x" ,y)') == Condition(f, "in", (' "x" ', "y"))
    assert parse_filter(f, "is.NULL") == Condition(f, "is", "null")
    assert parse_filter(f, "fts(english).a & b") == Condition(f, "fts", "a & b", fts_config="english")
    assert parse_filter(f, "eq(any).{a,b}") == Condition(f, "eq", "{a,b}", quantifier="any")
    assert parse_filter_key("meta->>lang") == Field("meta", (JsonStep("->>", "lang", False),))


@pytest.mark.parametrize(
    ("value", "details"),
    [
        ("5", "unknown single value operator 5"),
        ("eq", "unknown single value operator eq"),
        ("nope.5", "unknown single value operator nope"),
        ("is.maybe", 'unexpected "maybe" expecting null or trilean value (unknown, true, false)'),
        ("in.(a", 'unexpected end of input expecting ")"'),
        ("in.a,b", "unexpected 'a' expecting \"(\""),
        ("fts(a;b).x", "unexpected ';' expecting \")\""),
        ("is(any).null", "unknown single value operator is(any)"),
    ],
)
def test_filter_errors(value: str, details: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_filter(Field("title"), value)
    assert caught.value.details == details


def test_logic_trees() -> None:
    tree = parse_logic(
        "not.or", '(a.eq.1, and(b.gt.2,c.not.is.null),not.and(d.in.(1,2),e.eq."x,)"),f.cs.{1,2})'
    )
    assert tree == Logic(
        "or",
        (
            Condition(Field("a"), "eq", "1"),
            Logic(
                "and", (Condition(Field("b"), "gt", "2"), Condition(Field("c"), "is", "null", negate=True))
            ),
            Logic(
                "and",
                (Condition(Field("d"), "in", ("1", "2")), Condition(Field("e"), "eq", "x,)")),
                negate=True,
            ),
            Condition(Field("f"), "cs", "{1,2}"),
        ),
        negate=True,
    )


@pytest.mark.parametrize("value", ["", "()", "(a.eq.1", "a.eq.1", "(a.eq.1))", "(xor(a.eq.1))", "(a.eq.1,)"])
def test_logic_errors(value: str) -> None:
    with pytest.raises(ParseError):
        parse_logic("or", value)


def test_order() -> None:
    assert parse_order("a.desc.nullslast, b ,meta->>k.asc,c.nullsfirst") == [
        OrderTerm(Field("a"), True, "last"),
        OrderTerm(Field("b")),
        OrderTerm(Field("meta", (JsonStep("->>", "k", False),))),
        OrderTerm(Field("c"), False, "first"),
    ]
    for bad in ("a.up", "a.desc.nulls", "a,", "a;b"):
        with pytest.raises(ParseError):
            parse_order(bad)


# ------------------------------------------------------------------------------- SQL


def test_read_sql_quotes_identifiers_and_binds_values() -> None:
    sql, args = read(
        [
            ("select", "id,t:title,meta->>lang"),
            ("id", "eq.8f7c1a52-0000-4000-8000-000000000000"),
            ("n", "gte.3"),
            ("title", "like.*x*"),
            ("created_at", "lt.2024-01-01"),
            ("order", "n.desc.nullslast"),
            ("limit", "5"),
            ("offset", "2"),
        ],
        count=True,
    )
    assert (
        '_t."id" AS "id"' in sql
        and '_t."title" AS "t"' in sql
        and '(_t."meta" ->> $1::text) AS "lang"' in sql
    )
    assert '(_t."id" = $2::text::uuid)' in sql
    assert '(_t."n" >= $3::text::integer)' in sql
    assert '(_t."title" LIKE $4::text)' in sql
    assert '(_t."created_at" < $5::text::timestamp with time zone)' in sql
    assert 'ORDER BY _t."n" DESC NULLS LAST LIMIT $6::bigint OFFSET $7::bigint' in sql
    assert 'SELECT count(*) FROM "public"."things" AS _t WHERE' in sql
    assert args == ["lang", "8f7c1a52-0000-4000-8000-000000000000", "3", "%x%", "2024-01-01", 5, 2]


def test_star_expands_to_catalog_columns_in_order() -> None:
    sql, _ = read([])
    assert (
        'SELECT _t."id", _t."title", _t."n", _t."meta", _t."tags", _t."doc", _t."created_at", '
        '_t."odd ""name"""' in sql
    )


def test_operator_sql() -> None:
    cases = {
        "in.(a,b)": ('(_t."title" = ANY($1::text[]))', [["a", "b"]]),
        "is.true": ('(_t."title" IS TRUE)', []),
        "not.is.null": ('NOT (_t."title" IS NULL)', []),
        "ilike.A*": ('(_t."title" ILIKE $1::text)', ["A%"]),
        "match.^a": ('(_t."title" ~ $1::text)', ["^a"]),
        "like(any).{a*,b*}": ('(_t."title" LIKE ANY($1::text::text[]))', ["{a%,b%}"]),
        "fts(english).cats": (
            '(to_tsvector($1::regconfig, _t."title") @@ to_tsquery($1::regconfig, $2::text))',
            ["english", "cats"],
        ),
        "wfts.cats": ('(to_tsvector(_t."title") @@ websearch_to_tsquery($1::text))', ["cats"]),
        "isdistinct.x": ('(_t."title" IS DISTINCT FROM $1::text)', ["x"]),
    }
    for value, (fragment, args) in cases.items():
        sql, got = read([("title", value)])
        assert fragment in sql, (value, sql)
        assert got == args
    sql, args = read([("id", "in.(a,b)"), ("tags", "cs.{x,y}"), ("doc", "plfts.a b"), ("n", "eq(all).{1,2}")])
    assert '(_t."id" = ANY($1::text[]::uuid[]))' in sql
    assert '(_t."tags" @> $2::text::text[])' in sql
    assert '(_t."doc" @@ plainto_tsquery($3::text))' in sql
    assert '(_t."n" = ALL($4::text::integer[]))' in sql
    sql, _ = read([("n", "like.1*")])
    assert '(_t."n"::text LIKE $1::text)' in sql


def test_logic_sql() -> None:
    sql, args = read([("or", "(n.eq.1,and(n.gt.5,title.is.null))"), ("not.and", "(title.eq.a,n.lt.0)")])
    assert (
        'WHERE ((_t."n" = $1::text::integer) OR ((_t."n" > $2::text::integer) AND (_t."title" IS NULL)))'
        ' AND NOT ((_t."title" = $3::text) AND (_t."n" < $4::text::integer))'
    ) in sql
    assert args == ["1", "5", "a", "0"]


def test_single_object_and_stripped_nulls() -> None:
    sql, _ = read([], media=Media(single=True, strip_nulls=True))
    assert "(json_strip_nulls(json_agg(_r)) -> 0)::text" in sql


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ([("select", "nope")], "42703"),
        ([("nope", "eq.1")], "42703"),
        ([("order", "nope")], "42703"),
        ([("or", "(nope.eq.1)")], "42703"),
        ([("select", "meta->>x,nope->y")], "42703"),
        ([("select", "rel(*)")], "PGRST127"),
        ([("rel.title", "eq.1")], "PGRST108"),
        ([("rel.order", "title")], "PGRST108"),
        ([("title", "bad.1")], "PGRST100"),
        ([("limit", "1e3")], "PGRST100"),
        ([("offset", "-1")], "PGRST100"),
        ([("select", "a\x00b:id")], "PGRST100"),
    ],
)
def test_read_errors(params: list[tuple[str, str]], code: str) -> None:
    assert code_of(params) == code


def test_unknown_column_is_a_refreshable_error() -> None:
    with pytest.raises(UnknownColumn) as caught:
        read([("select", "ghost")])
    assert (caught.value.status, caught.value.message) == (400, "column things.ghost does not exist")


def test_insert_sql() -> None:
    payload = parse_payload(b'{"title": "a", "n": 1}')
    st_ = build_insert(TABLE, Query(), payload, Prefer(representation="representation"), Media())
    assert st_.fetch and st_.args == ['{"title": "a", "n": 1}']
    assert (
        'INSERT INTO "public"."things" AS _t ("title", "n") SELECT "title", "n" FROM json_populate_record('
        in st_.sql
    )
    assert 'RETURNING (SELECT _x FROM (SELECT _t."id"' in st_.sql

    bulk = parse_payload(b'[{"title": "a"}, {"n": 2}]')
    q = parse_query([("columns", '"title",n'), ("on_conflict", "id")])
    st_ = build_insert(TABLE, q, bulk, Prefer(resolution="merge-duplicates", missing_default=True), Media())
    assert (
        'VALUES ((json_populate_record(NULL::"public"."things", ($1::json -> 0)))."title", DEFAULT)'
        in st_.sql
    )
    assert 'ON CONFLICT ("id") DO UPDATE SET "title" = EXCLUDED."title", "n" = EXCLUDED."n"' in st_.sql
    assert "(_t.xmax = 0) AS ins" in st_.sql

    minimal = build_insert(TABLE, Query(), bulk_same(), Prefer(representation="minimal"), Media())
    assert not minimal.fetch and "RETURNING" not in minimal.sql
    ignore = build_insert(TABLE, Query(), bulk_same(), Prefer(resolution="ignore-duplicates"), Media())
    assert 'ON CONFLICT ("id") DO NOTHING' in ignore.sql


def bulk_same() -> Any:
    return parse_payload(b'[{"title": "a"}, {"title": "b"}]')


def test_insert_errors() -> None:
    with pytest.raises(RestError) as caught:
        build_insert(TABLE, Query(), parse_payload(b'[{"title": "a"}, {"n": 2}]'), Prefer(), Media())
    assert (caught.value.code, caught.value.message) == ("PGRST102", "All object keys must match")
    with pytest.raises(UnknownColumn) as unknown:
        build_insert(TABLE, Query(), parse_payload(b'{"ghost; drop": 1}'), Prefer(), Media())
    assert unknown.value.code == "PGRST204"
    assert unknown.value.message == "Could not find the 'ghost; drop' column of 'things' in the schema cache"
    with pytest.raises(UnknownColumn):
        build_insert(
            TABLE,
            parse_query([("on_conflict", "ghost")]),
            bulk_same(),
            Prefer(resolution="merge-duplicates"),
            Media(),
        )


@pytest.mark.parametrize(
    "raw", [b"", b"nul", b"[1]", b"3", b"null", b"\xff", b'{"a": 1', b"[" * 100_000]
)
def test_invalid_payloads(raw: bytes) -> None:
    with pytest.raises(RestError) as caught:
        parse_payload(raw)
    assert (caught.value.status, caught.value.code) == (400, "PGRST102")


def test_update_and_delete_sql() -> None:
    q = parse_query([("n", "gt.1"), ("order", "n"), ("limit", "2")])
    upd = build_update(TABLE, q, parse_payload(b'{"title": "z"}'), Prefer(), Media())
    assert not upd.fetch
    assert upd.sql.startswith(
        'UPDATE "public"."things" AS _t SET "title" = _b."title" FROM json_populate_record('
    )
    assert 'WHERE _t.ctid = ANY(ARRAY(SELECT _s.ctid FROM "public"."things" AS _s WHERE (_s."n" >' in upd.sql
    noop = build_update(TABLE, Query(), parse_payload(b"{}"), Prefer(), Media())
    assert noop.fetch and "UPDATE" not in noop.sql
    dele = build_delete(
        TABLE, parse_query([("id", "eq.x")]), Prefer(representation="representation"), Media()
    )
    assert dele.sql.startswith(
        'WITH _m AS (DELETE FROM "public"."things" AS _t WHERE (_t."id" = $1::text::uuid)'
    )
    with pytest.raises(RestError):
        build_update(TABLE, Query(), parse_payload(b'[{"title": "z"}]'), Prefer(), Media())


# -------------------------------------------------------------------------- headers


def test_prefer_and_accept() -> None:
    p = parse_prefer(
        [
            "return=representation, count=planned",
            "resolution=merge-duplicates,missing=default",
            "max-affected=3, handling=strict, bogus=1",
        ]
    )
    assert p == Prefer("representation", "planned", "merge-duplicates", True, 3, True)
    assert parse_prefer([]) == Prefer()
    assert negotiate(None) == Media()
    assert negotiate("application/vnd.pgrst.object+json") == Media(single=True)
    assert negotiate("text/html, application/vnd.pgrst.array+json;nulls=stripped") == Media(strip_nulls=True)
    assert negotiate("*/*") == Media()
    with pytest.raises(RestError) as caught:
        negotiate("text/csv")
    assert (caught.value.status, caught.value.code) == (406, "PGRST107")


def test_range_header_and_status() -> None:
    q = Query()
    parse_range("items=5-9", q)
    assert (q.offset, q.limit) == (5, 5)
    q = Query(limit=2)
    parse_range("0-9", q)
    assert (q.offset, q.limit) == (0, 2)
    with pytest.raises(RestError):
        parse_range("9-1", Query())
    assert status_count("INSERT 0 3") == 3 and status_count("UPDATE 2") == 2 and status_count("") == 0


def test_quote_ident() -> None:
    assert quote_ident('a"b') == '"a""b"'


# ------------------------------------------------------------------- injection properties

MARK = "zqx"  # never appears in generated SQL by itself


@settings(max_examples=300, deadline=None)
@given(
    value=st.text(),
    op=st.sampled_from(["eq", "neq", "gt", "like", "ilike", "cs", "fts", "match", "in", "is"]),
)
def test_filter_values_never_reach_sql_text(value: str, op: str) -> None:
    raw = f"({MARK}{value})" if op == "in" else f"{MARK}{value}"
    try:
        sql, args = read([("title", f"{op}.{raw}"), ("or", f"(title.eq.{MARK}{value.replace(',', '')})")])
    except RestError as exc:
        assert exc.status == 400
        return
    assert MARK not in sql
    assert any(MARK in str(a) for a in args)


QUOTED = re.compile(r'"(?:[^"]|"")*"')
COLUMN_REF = re.compile(r'_t\.("(?:[^"]|"")*")')


def assert_inert(sql: str) -> None:
    """Every column reference is a catalog column; outside quoted identifiers no user text."""
    for ref in COLUMN_REF.findall(sql):
        assert ref[1:-1].replace('""', '"') in TABLE.columns, ref
    bare = QUOTED.sub('""', sql).replace("'[]'", "")
    for token in (";", "--", "'", "/*", MARK):
        assert token not in bare, (token, sql)


@settings(max_examples=300, deadline=None)
@given(name=st.text(alphabet=string.printable + "\"'`;\\é", min_size=1))
def test_identifiers_are_catalog_names_or_refused(name: str) -> None:
    for params in (
        [("select", name)],
        [("order", name)],
        [(name, "eq.1")],
        [("select", f"x:{name}")],
        [("select", f"{MARK}{name}:id")],
        [("select", f"meta->>{name}")],
    ):
        try:
            sql, _ = read(params)
        except RestError as exc:
            assert exc.status == 400 and exc.code in ("PGRST100", "PGRST108", "PGRST127", "42703")
            continue
        assert_inert(sql)


@settings(max_examples=200, deadline=None)
@given(cols=st.lists(st.text(min_size=1), min_size=1, max_size=3), keys=st.lists(st.text(), max_size=3))
def test_insert_keys_are_catalog_names_or_refused(cols: list[str], keys: list[str]) -> None:
    body = json.dumps({k: 1 for k in keys}).encode()
    for q in (Query(), Query(columns=cols), Query(on_conflict=cols)):
        try:
            st_ = build_insert(TABLE, q, parse_payload(body), Prefer(resolution="merge-duplicates"), Media())
        except RestError as exc:
            assert exc.code in ("PGRST204", "42703")
            continue
        bare = QUOTED.sub('""', st_.sql)
        assert ";" not in bare and "--" not in bare
