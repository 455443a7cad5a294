"""PostgREST contract: the unmodified supabase-py client (and raw HTTP where status codes and
headers matter) against the devstack's /rest/v1, on the real tables of supabase/migrations.

Each test signs up fresh users, so row-level security alone scopes what a query returns: a
filter test that expects exactly the caller's matching rows also proves no stranger's leak in.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import asyncpg
import httpx
import jwt
import pytest
from postgrest.exceptions import APIError

from echogen_devstack.runner import StackInfo
from supabase import AsyncClient
from tests.conftest import TestUser

UserFactory = Callable[[], Awaitable[TestUser]]
Rows = list[dict[str, Any]]


@pytest.fixture
async def admin(stack: StackInfo) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(stack.admin_dsn)
    try:
        yield conn
    finally:
        await conn.close()


def rest(stack: StackInfo, path: str) -> str:
    return f"{stack.url}/rest/v1/{path}"


def headers(stack: StackInfo, token: str | None = None, **extra: str) -> dict[str, str]:
    return {"apikey": stack.anon_key, "Authorization": f"Bearer {token or stack.anon_key}", **extra}


def rows_of(data: Any) -> Rows:
    return cast(Rows, data)


def article(user: TestUser, title: str, **extra: Any) -> dict[str, Any]:
    row = {
        "user_id": user.id, "url": f"https://example.com/{uuid.uuid4().hex[:8]}", "title": title,
        "markdown": f"# {title}", "provider": "firecrawl",
    }
    row.update(extra)
    return row


LIBRARY = [
    ("Alpha vents", {"provider": "firecrawl", "metadata": {"lang": "en", "tags": ["sea", "heat"]},
                     "markdown": "Hot water rises from the deep sea vents", "created_at": "2024-01-01T00:00:00+00:00"}),
    ("Beta reefs", {"provider": "hyperbrowser", "metadata": {"lang": "de"},
                    "markdown": "Coral reefs grow slowly in warm water", "created_at": "2024-02-01T00:00:00+00:00"}),
    ("Gamma, with (comma)", {"provider": "upload", "metadata": {"lang": "en", "n": 3},
                             "markdown": "Whales sing long songs", "created_at": "2024-03-01T00:00:00+00:00"}),
    ("delta", {"provider": "firecrawl", "metadata": {},
               "markdown": "Tides follow the moon", "created_at": "2024-04-01T00:00:00+00:00"}),
]


@pytest.fixture
async def library(user_factory: UserFactory) -> tuple[TestUser, dict[str, str]]:
    """A user with the four LIBRARY articles; returns the user and title -> id."""
    user = await user_factory()
    payload = [article(user, title, **extra) for title, extra in LIBRARY]
    res = await user.client.table("scraped_content").insert(payload).execute()
    return user, {r["title"]: r["id"] for r in rows_of(res.data)}


async def titles(query: Any) -> set[str]:
    res = await query.execute()
    return {r["title"] for r in rows_of(res.data)}


# ------------------------------------------------------------------------------- select


async def test_select_column_list_alias_cast_and_json_path(library: tuple[TestUser, dict[str, str]]) -> None:
    user, ids = library
    sc = user.client.table("scraped_content")
    res = await sc.select("id,title").eq("id", ids["Alpha vents"]).execute()
    assert res.data == [{"id": ids["Alpha vents"], "title": "Alpha vents"}]

    res = await sc.select("heading:title,lang:metadata->>lang,metadata->tags,uid:user_id::text").eq(
        "id", ids["Alpha vents"]).execute()
    assert res.data == [{"heading": "Alpha vents", "lang": "en", "tags": ["sea", "heat"], "uid": user.id}]

    res = await sc.select("*").eq("id", ids["delta"]).execute()
    row = rows_of(res.data)[0]
    assert set(row) == {"id", "user_id", "url", "title", "markdown", "provider", "metadata",
                        "created_at", "updated_at"}
    assert row["metadata"] == {}


OPERATOR_CASES: list[tuple[str, Callable[[Any], Any], set[str]]] = [
    ("eq", lambda q: q.eq("provider", "firecrawl"), {"Alpha vents", "delta"}),
    ("neq", lambda q: q.neq("provider", "firecrawl"), {"Beta reefs", "Gamma, with (comma)"}),
    ("gt timestamptz", lambda q: q.gt("created_at", "2024-02-01T00:00:00Z"), {"Gamma, with (comma)", "delta"}),
    ("gte", lambda q: q.gte("created_at", "2024-02-01T00:00:00Z"), {"Beta reefs", "Gamma, with (comma)", "delta"}),
    ("lt", lambda q: q.lt("created_at", "2024-02-01"), {"Alpha vents"}),
    ("lte", lambda q: q.lte("created_at", "2024-02-01T00:00:00+00:00"), {"Alpha vents", "Beta reefs"}),
    ("like with *", lambda q: q.like("title", "*ta*"), {"Beta reefs", "delta"}),
    ("like is case-sensitive", lambda q: q.like("title", "D%"), set()),
    ("ilike", lambda q: q.ilike("title", "D*"), {"delta"}),
    ("in with a quoted comma", lambda q: q.in_("title", ["Gamma, with (comma)", "delta"]),
     {"Gamma, with (comma)", "delta"}),
    ("in on jsonb path", lambda q: q.in_("metadata->>lang", ["de", "fr"]), {"Beta reefs"}),
    ("is null on json path", lambda q: q.is_("metadata->lang", "null"), {"delta"}),
    ("not is null", lambda q: q.not_.is_("metadata->lang", "null"),
     {"Alpha vents", "Beta reefs", "Gamma, with (comma)"}),
    ("cs jsonb", lambda q: q.contains("metadata", {"lang": "en"}), {"Alpha vents", "Gamma, with (comma)"}),
    ("cs json array path", lambda q: q.contains("metadata->tags", '["heat"]'), {"Alpha vents"}),
    ("cd jsonb", lambda q: q.contained_by("metadata", {"lang": "de", "x": 1}), {"Beta reefs", "delta"}),
    ("fts", lambda q: q.text_search("markdown", "vents & water"), {"Alpha vents"}),
    ("plfts english", lambda q: q.text_search("markdown", "warm water", {"type": "plain", "config": "english"}),
     {"Beta reefs"}),
    ("phfts", lambda q: q.text_search("markdown", "long songs", {"type": "phrase"}), {"Gamma, with (comma)"}),
    ("wfts", lambda q: q.text_search("markdown", '"the moon" -sea', {"type": "websearch"}), {"delta"}),
    ("match", lambda q: q.filter("title", "match", "^[A-Z][a-z]+ [a-z]+$"), {"Alpha vents", "Beta reefs"}),
    ("imatch", lambda q: q.filter("title", "imatch", "^D"), {"delta"}),
    ("eq(any)", lambda q: q.filter("provider", "eq(any)", "{upload,hyperbrowser}"),
     {"Beta reefs", "Gamma, with (comma)"}),
    ("not.eq", lambda q: q.not_.eq("provider", "firecrawl"), {"Beta reefs", "Gamma, with (comma)"}),
    ("or", lambda q: q.or_("title.eq.delta,provider.eq.upload"), {"delta", "Gamma, with (comma)"}),
    ("or with a quoted value", lambda q: q.or_('title.eq."Gamma, with (comma)",title.eq.delta'),
     {"delta", "Gamma, with (comma)"}),
    ("nested and inside or", lambda q: q.or_("and(provider.eq.firecrawl,title.like.A*),title.eq.Beta reefs"),
     {"Alpha vents", "Beta reefs"}),
    ("not.or", lambda q: q.not_.or_("provider.eq.firecrawl,metadata->>lang.eq.de"), {"Gamma, with (comma)"}),
    ("or with in and not", lambda q: q.or_("title.in.(delta,Beta reefs),metadata->>lang.not.eq.en"),
     {"delta", "Beta reefs"}),
    ("match dict", lambda q: q.match({"provider": "firecrawl", "title": "delta"}), {"delta"}),
]


@pytest.mark.parametrize(("name", "apply", "expected"), OPERATOR_CASES, ids=[c[0] for c in OPERATOR_CASES])
async def test_filter_operators(
    library: tuple[TestUser, dict[str, str]], name: str, apply: Callable[[Any], Any], expected: set[str]
) -> None:
    user, _ = library
    assert await titles(apply(user.client.table("scraped_content").select("title"))) == expected


async def test_and_parameter_and_uuid_filters(library: tuple[TestUser, dict[str, str]], stack: StackInfo,
                                              http: httpx.AsyncClient) -> None:
    user, ids = library
    r = await http.get(rest(stack, "scraped_content"), headers=headers(stack, user.access_token), params={
        "select": "title", "and": "(provider.eq.firecrawl,not.or(title.eq.delta,title.eq.zzz))",
        "user_id": f"eq.{user.id}", "id": f"in.({ids['Alpha vents']},{ids['delta']})",
    })
    assert r.status_code == 200, r.text
    assert r.json() == [{"title": "Alpha vents"}]


async def test_order_limit_offset_and_null_placement(user_factory: UserFactory) -> None:
    user = await user_factory()
    script = await user.client.table("podcast_scripts").insert({
        "user_id": user.id, "prompt": "p", "model": "m", "segments": [],
    }).execute()
    script_id = rows_of(script.data)[0]["id"]
    durations = [30, None, 10, 20, None]
    await user.client.table("generated_podcasts").insert([
        {"user_id": user.id, "script_id": script_id, "audio_path": f"{user.id}/{i}.mp3", "duration_seconds": d}
        for i, d in enumerate(durations)
    ]).execute()
    gp = user.client.table("generated_podcasts")

    async def order(**kw: Any) -> list[Any]:
        res = await gp.select("duration_seconds").order("duration_seconds", **kw).execute()
        return [r["duration_seconds"] for r in rows_of(res.data)]

    assert await order() == [10, 20, 30, None, None]
    assert await order(desc=True) == [None, None, 30, 20, 10]
    assert await order(desc=True, nullsfirst=False) == [30, 20, 10, None, None]
    assert await order(nullsfirst=True) == [None, None, 10, 20, 30]

    res = await gp.select("audio_path").order("duration_seconds").order("audio_path", desc=True).execute()
    assert [r["audio_path"].split("/")[1] for r in rows_of(res.data)] == ["2.mp3", "3.mp3", "0.mp3", "4.mp3", "1.mp3"]

    page = await gp.select("duration_seconds").order("duration_seconds").limit(2).offset(1).execute()
    assert [r["duration_seconds"] for r in rows_of(page.data)] == [20, 30]
    ranged = await gp.select("duration_seconds").order("duration_seconds").range(0, 1).execute()
    assert [r["duration_seconds"] for r in rows_of(ranged.data)] == [10, 20]
    filtered = await gp.select("duration_seconds").gt("duration_seconds", 15).lte("duration_seconds", 30).order(
        "duration_seconds").execute()
    assert [r["duration_seconds"] for r in rows_of(filtered.data)] == [20, 30]


# ------------------------------------------------------------------------- counts, ranges


async def test_count_exact_and_content_range(library: tuple[TestUser, dict[str, str]], stack: StackInfo,
                                             http: httpx.AsyncClient) -> None:
    user, _ = library
    sc = user.client.table("scraped_content")
    res = await sc.select("id", count="exact").limit(1).execute()  # type: ignore[arg-type]
    assert res.count == 4 and len(res.data) == 1

    url, hdr = rest(stack, "scraped_content"), headers(stack, user.access_token)
    r = await http.get(url, params={"select": "id", "limit": "2", "offset": "1"},
                       headers={**hdr, "Prefer": "count=exact"})
    assert (r.status_code, r.headers["content-range"], len(r.json())) == (206, "1-2/4", 2)
    r = await http.get(url, params={"select": "id"}, headers={**hdr, "Prefer": "count=exact"})
    assert (r.status_code, r.headers["content-range"]) == (200, "0-3/4")
    r = await http.get(url, params={"select": "id", "title": "eq.none"}, headers={**hdr, "Prefer": "count=exact"})
    assert (r.status_code, r.headers["content-range"], r.json()) == (200, "*/0", [])
    r = await http.get(url, params={"select": "id", "limit": "2"}, headers=hdr)
    assert (r.status_code, r.headers["content-range"]) == (200, "0-1/*")
    r = await http.get(url, params={"select": "id", "offset": "9"}, headers={**hdr, "Prefer": "count=exact"})
    assert r.status_code == 416 and r.json()["code"] == "PGRST103"
    r = await http.head(url, params={"select": "id"}, headers={**hdr, "Prefer": "count=exact"})
    assert (r.status_code, r.headers["content-range"], r.content) == (200, "0-3/4", b"")
    head = await sc.select("*", count="exact", head=True).execute()  # type: ignore[arg-type]
    assert head.count == 4


async def test_single_and_maybe_single(library: tuple[TestUser, dict[str, str]]) -> None:
    user, ids = library
    sc = user.client.table("scraped_content")
    one = await sc.select("id,title").eq("title", "delta").single().execute()
    assert one.data == {"id": ids["delta"], "title": "delta"}

    with pytest.raises(APIError) as none:
        await sc.select("id").eq("title", "missing").single().execute()
    assert none.value.json() == {"code": "PGRST116", "details": "The result contains 0 rows", "hint": None,
                                 "message": "Cannot coerce the result to a single JSON object"}
    with pytest.raises(APIError) as many:
        await sc.select("id").eq("provider", "firecrawl").single().execute()
    assert many.value.code == "PGRST116" and many.value.details == "The result contains 2 rows"

    assert await sc.select("id").eq("title", "missing").maybe_single().execute() is None
    maybe = await sc.select("title").eq("title", "delta").maybe_single().execute()
    assert maybe is not None and maybe.data == {"title": "delta"}


# ---------------------------------------------------------------------------- mutations


async def test_insert_single_applies_defaults_and_returns_the_row(user_factory: UserFactory) -> None:
    user = await user_factory()
    res = await user.client.table("scraped_content").insert(article(user, "Fresh")).execute()
    row = rows_of(res.data)[0]
    assert uuid.UUID(row["id"]) and row["metadata"] == {} and row["created_at"] and row["title"] == "Fresh"


async def test_bulk_insert_with_differing_keys(user_factory: UserFactory) -> None:
    user = await user_factory()
    keys = user.client.table("user_api_keys")
    base = {"user_id": user.id, "provider": "openai", "encrypted_key": "v1:x"}
    # The client sends columns=<union of keys>: a missing key is null, or the default with missing=default.
    res = await keys.insert([{**base, "key_alias": "a", "metadata": {"caps": 1}}, base]).execute()
    assert [(r["key_alias"], r["metadata"]) for r in rows_of(res.data)] == [("a", {"caps": 1}), (None, None)] or \
        False, res.data
    with_defaults = await keys.insert(
        [{**base, "key_alias": "b", "metadata": {"caps": 2}}, {**base, "key_alias": "c"}], default_to_null=False
    ).execute()
    assert [(r["key_alias"], r["metadata"]) for r in rows_of(with_defaults.data)] == [("b", {"caps": 2}), ("c", {})]
