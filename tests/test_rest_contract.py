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
from supabase import AsyncClient

from echogen_devstack.runner import StackInfo
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
        "user_id": user.id,
        "url": f"https://example.com/{uuid.uuid4().hex[:8]}",
        "title": title,
        "markdown": f"# {title}",
        "provider": "firecrawl",
    }
    row.update(extra)
    return row


LIBRARY = [
    (
        "Alpha vents",
        {
            "provider": "firecrawl",
            "metadata": {"lang": "en", "tags": ["sea", "heat"]},
            "markdown": "Hot water rises from the deep sea vents",
            "created_at": "2024-01-01T00:00:00+00:00",
        },
    ),
    (
        "Beta reefs",
        {
            "provider": "hyperbrowser",
            "metadata": {"lang": "de"},
            "markdown": "Coral reefs grow slowly in warm water",
            "created_at": "2024-02-01T00:00:00+00:00",
        },
    ),
    (
        "Gamma, with (comma)",
        {
            "provider": "upload",
            "metadata": {"lang": "en", "n": 3},
            "markdown": "Whales sing long songs",
            "created_at": "2024-03-01T00:00:00+00:00",
        },
    ),
    (
        "delta",
        {
            "provider": "firecrawl",
            "metadata": {},
            "markdown": "Tides follow the moon",
            "created_at": "2024-04-01T00:00:00+00:00",
        },
    ),
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

    res = (
        await sc.select("heading:title,lang:metadata->>lang,metadata->tags,uid:user_id::text")
        .eq("id", ids["Alpha vents"])
        .execute()
    )
    assert res.data == [{"heading": "Alpha vents", "lang": "en", "tags": ["sea", "heat"], "uid": user.id}]

    res = await sc.select("*").eq("id", ids["delta"]).execute()
    row = rows_of(res.data)[0]
    assert set(row) == {
        "id",
        "user_id",
        "url",
        "title",
        "markdown",
        "provider",
        "metadata",
        "created_at",
        "updated_at",
    }
    assert row["metadata"] == {}


OPERATOR_CASES: list[tuple[str, Callable[[Any], Any], set[str]]] = [
    ("eq", lambda q: q.eq("provider", "firecrawl"), {"Alpha vents", "delta"}),
    ("neq", lambda q: q.neq("provider", "firecrawl"), {"Beta reefs", "Gamma, with (comma)"}),
    (
        "gt timestamptz",
        lambda q: q.gt("created_at", "2024-02-01T00:00:00Z"),
        {"Gamma, with (comma)", "delta"},
    ),
    (
        "gte",
        lambda q: q.gte("created_at", "2024-02-01T00:00:00Z"),
        {"Beta reefs", "Gamma, with (comma)", "delta"},
    ),
    ("lt", lambda q: q.lt("created_at", "2024-02-01"), {"Alpha vents"}),
    ("lte", lambda q: q.lte("created_at", "2024-02-01T00:00:00+00:00"), {"Alpha vents", "Beta reefs"}),
    ("like with *", lambda q: q.like("title", "*ta*"), {"Beta reefs", "delta"}),
    ("like is case-sensitive", lambda q: q.like("title", "D%"), set()),
    ("ilike", lambda q: q.ilike("title", "D*"), {"delta"}),
    (
        "in with a quoted comma",
        lambda q: q.in_("title", ["Gamma, with (comma)", "delta"]),
        {"Gamma, with (comma)", "delta"},
    ),
    ("in on jsonb path", lambda q: q.in_("metadata->>lang", ["de", "fr"]), {"Beta reefs"}),
    ("is null on json path", lambda q: q.is_("metadata->lang", "null"), {"delta"}),
    (
        "not is null",
        lambda q: q.not_.is_("metadata->lang", "null"),
        {"Alpha vents", "Beta reefs", "Gamma, with (comma)"},
    ),
    ("cs jsonb", lambda q: q.contains("metadata", {"lang": "en"}), {"Alpha vents", "Gamma, with (comma)"}),
    ("cs json array path", lambda q: q.contains("metadata->tags", '["heat"]'), {"Alpha vents"}),
    ("cd jsonb", lambda q: q.contained_by("metadata", {"lang": "de", "x": 1}), {"Beta reefs", "delta"}),
    ("fts", lambda q: q.text_search("markdown", "vents & water"), {"Alpha vents"}),
    (
        "plfts english",
        lambda q: q.text_search("markdown", "warm water", {"type": "plain", "config": "english"}),
        {"Beta reefs"},
    ),
    ("phfts", lambda q: q.text_search("markdown", "long songs", {"type": "phrase"}), {"Gamma, with (comma)"}),
    ("wfts", lambda q: q.text_search("markdown", '"the moon" -sea', {"type": "web_search"}), {"delta"}),
    ("match", lambda q: q.filter("title", "match", "^[A-Z][a-z]+ [a-z]+$"), {"Alpha vents", "Beta reefs"}),
    ("imatch", lambda q: q.filter("title", "imatch", "^D"), {"delta"}),
    (
        "eq(any)",
        lambda q: q.filter("provider", "eq(any)", "{upload,hyperbrowser}"),
        {"Beta reefs", "Gamma, with (comma)"},
    ),
    ("not.eq", lambda q: q.not_.eq("provider", "firecrawl"), {"Beta reefs", "Gamma, with (comma)"}),
    ("or", lambda q: q.or_("title.eq.delta,provider.eq.upload"), {"delta", "Gamma, with (comma)"}),
    (
        "or with a quoted value",
        lambda q: q.or_('title.eq."Gamma, with (comma)",title.eq.delta'),
        {"delta", "Gamma, with (comma)"},
    ),
    (
        "nested and inside or",
        lambda q: q.or_("and(provider.eq.firecrawl,title.like.A*),title.eq.Beta reefs"),
        {"Alpha vents", "Beta reefs"},
    ),
    ("not.or", lambda q: q.not_.or_("provider.eq.firecrawl,metadata->>lang.eq.de"), {"Gamma, with (comma)"}),
    (
        "or with in and not",
        lambda q: q.or_("title.in.(delta,Beta reefs),metadata->>lang.not.eq.en"),
        {"delta", "Beta reefs"},
    ),
    ("match dict", lambda q: q.match({"provider": "firecrawl", "title": "delta"}), {"delta"}),
    ("eq on a jsonb path", lambda q: q.eq("metadata->n", 3), {"Gamma, with (comma)"}),
    ("eq on a uuid column", lambda q: q.neq("user_id", str(uuid.uuid4())).eq("title", "delta"), {"delta"}),
]


@pytest.mark.parametrize(("name", "apply", "expected"), OPERATOR_CASES, ids=[c[0] for c in OPERATOR_CASES])
async def test_filter_operators(
    library: tuple[TestUser, dict[str, str]], name: str, apply: Callable[[Any], Any], expected: set[str]
) -> None:
    user, _ = library
    assert await titles(apply(user.client.table("scraped_content").select("title"))) == expected


async def test_and_parameter_and_uuid_filters(
    library: tuple[TestUser, dict[str, str]], stack: StackInfo, http: httpx.AsyncClient
) -> None:
    user, ids = library
    r = await http.get(
        rest(stack, "scraped_content"),
        headers=headers(stack, user.access_token),
        params={
            "select": "title",
            "and": "(provider.eq.firecrawl,not.or(title.eq.delta,title.eq.zzz))",
            "user_id": f"eq.{user.id}",
            "id": f"in.({ids['Alpha vents']},{ids['delta']})",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json() == [{"title": "Alpha vents"}]


async def test_order_limit_offset_and_null_placement(user_factory: UserFactory) -> None:
    user = await user_factory()
    script = (
        await user.client.table("podcast_scripts")
        .insert(
            {
                "user_id": user.id,
                "prompt": "p",
                "model": "m",
                "segments": [],
            }
        )
        .execute()
    )
    script_id = rows_of(script.data)[0]["id"]
    durations = [30, None, 10, 20, None]
    await (
        user.client.table("generated_podcasts")
        .insert(
            [
                {
                    "user_id": user.id,
                    "script_id": script_id,
                    "audio_path": f"{user.id}/{i}.mp3",
                    "duration_seconds": d,
                }
                for i, d in enumerate(durations)
            ]
        )
        .execute()
    )
    gp = user.client.table("generated_podcasts")

    async def order(**kw: Any) -> list[Any]:
        res = await gp.select("duration_seconds").order("duration_seconds", **kw).execute()
        return [r["duration_seconds"] for r in rows_of(res.data)]

    assert await order() == [10, 20, 30, None, None]
    assert await order(desc=True) == [None, None, 30, 20, 10]
    assert await order(desc=True, nullsfirst=False) == [30, 20, 10, None, None]
    assert await order(nullsfirst=True) == [None, None, 10, 20, 30]

    res = await gp.select("audio_path").order("duration_seconds").order("audio_path", desc=True).execute()
    assert [r["audio_path"].split("/")[1] for r in rows_of(res.data)] == [
        "2.mp3",
        "3.mp3",
        "0.mp3",
        "4.mp3",
        "1.mp3",
    ]

    page = await gp.select("duration_seconds").order("duration_seconds").limit(2).offset(1).execute()
    assert [r["duration_seconds"] for r in rows_of(page.data)] == [20, 30]
    ranged = await gp.select("duration_seconds").order("duration_seconds").range(0, 1).execute()
    assert [r["duration_seconds"] for r in rows_of(ranged.data)] == [10, 20]
    filtered = (
        await gp.select("duration_seconds")
        .gt("duration_seconds", 15)
        .lte("duration_seconds", 30)
        .order("duration_seconds")
        .execute()
    )
    assert [r["duration_seconds"] for r in rows_of(filtered.data)] == [20, 30]


# ------------------------------------------------------------------------- counts, ranges


async def test_count_exact_and_content_range(
    library: tuple[TestUser, dict[str, str]], stack: StackInfo, http: httpx.AsyncClient
) -> None:
    user, _ = library
    sc = user.client.table("scraped_content")
    res = await sc.select("id", count="exact").limit(1).execute()  # type: ignore[arg-type]
    assert res.count == 4 and len(res.data) == 1

    url, hdr = rest(stack, "scraped_content"), headers(stack, user.access_token)
    r = await http.get(
        url, params={"select": "id", "limit": "2", "offset": "1"}, headers={**hdr, "Prefer": "count=exact"}
    )
    assert (r.status_code, r.headers["content-range"], len(r.json())) == (206, "1-2/4", 2)
    r = await http.get(url, params={"select": "id"}, headers={**hdr, "Prefer": "count=exact"})
    assert (r.status_code, r.headers["content-range"]) == (200, "0-3/4")
    r = await http.get(
        url, params={"select": "id", "title": "eq.none"}, headers={**hdr, "Prefer": "count=exact"}
    )
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
    assert none.value.json() == {
        "code": "PGRST116",
        "details": "The result contains 0 rows",
        "hint": None,
        "message": "Cannot coerce the result to a single JSON object",
    }
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
    base: dict[str, Any] = {"user_id": user.id, "provider": "openai", "encrypted_key": "v1:x"}
    # The client sends columns=<union of keys>: a key a row lacks becomes null ...
    res = await keys.insert([{**base, "key_alias": "a"}, base]).execute()
    assert [r["key_alias"] for r in rows_of(res.data)] == ["a", None]
    # ... which a NOT NULL column refuses (metadata defaults to {} but is not null) ...
    with pytest.raises(APIError) as caught:
        await keys.insert([{**base, "metadata": {"caps": 1}}, dict(base)]).execute()
    assert caught.value.code == "23502"
    # ... unless missing=default asks for the column default instead.
    with_defaults = await keys.insert(
        [{**base, "key_alias": "b", "metadata": {"caps": 2}}, {**base, "key_alias": "c"}],
        default_to_null=False,
    ).execute()
    assert [(r["key_alias"], r["metadata"]) for r in rows_of(with_defaults.data)] == [
        ("b", {"caps": 2}),
        ("c", {}),
    ]
    listed = await keys.select("key_alias").order("key_alias").execute()
    assert [r["key_alias"] for r in rows_of(listed.data)] == ["a", "b", "c", None]


async def test_upsert_on_conflict_merge_and_ignore(
    user_factory: UserFactory, stack: StackInfo, http: httpx.AsyncClient
) -> None:
    user = await user_factory()
    sc = user.client.table("scraped_content")
    row = article(user, "Original", id=str(uuid.uuid4()))
    await sc.insert(row).execute()

    merged = await sc.upsert({**row, "title": "Merged"}, on_conflict="id").execute()
    assert rows_of(merged.data)[0]["title"] == "Merged"
    ignored = await sc.upsert({**row, "title": "Ignored"}, ignore_duplicates=True).execute()
    assert ignored.data == []
    bulk = await sc.upsert(
        [{**row, "title": "Bulk"}, article(user, "New one", id=str(uuid.uuid4()))]
    ).execute()
    assert sorted(r["title"] for r in rows_of(bulk.data)) == ["Bulk", "New one"]
    assert await titles(sc.select("title")) == {"Bulk", "New one"}

    # 201 when the upsert inserted, 200 when it only merged (PostgREST), and 409 without resolution.
    url, hdr = rest(stack, "scraped_content"), headers(stack, user.access_token)
    prefer = "return=minimal,resolution=merge-duplicates"
    r = await http.post(
        url, params={"on_conflict": "id"}, json={**row, "title": "Again"}, headers={**hdr, "Prefer": prefer}
    )
    assert (r.status_code, r.content) == (200, b"")
    r = await http.post(url, json=article(user, "Brand new"), headers={**hdr, "Prefer": prefer})
    assert r.status_code == 201
    r = await http.post(url, json={**row, "title": "Dup"}, headers=hdr)
    assert r.status_code == 409 and r.json()["code"] == "23505"


async def test_update_and_delete(library: tuple[TestUser, dict[str, str]]) -> None:
    user, ids = library
    sc = user.client.table("scraped_content")
    updated = (
        await sc.update({"title": "Renamed", "metadata": {"lang": "fr"}})
        .eq("provider", "firecrawl")
        .execute()
    )
    assert sorted(r["id"] for r in rows_of(updated.data)) == sorted([ids["Alpha vents"], ids["delta"]])
    assert all(r["title"] == "Renamed" and r["metadata"] == {"lang": "fr"} for r in rows_of(updated.data))
    assert (await sc.update({"title": "x"}).eq("title", "no such").execute()).data == []

    deleted = await sc.delete().eq("title", "Renamed").execute()
    assert len(rows_of(deleted.data)) == 2
    counted = await sc.delete(count="exact").eq("id", ids["Beta reefs"]).execute()  # type: ignore[arg-type]
    assert counted.count == 1
    assert await titles(sc.select("title")) == {"Gamma, with (comma)"}


async def test_limited_update_and_delete_touch_only_the_first_rows(
    library: tuple[TestUser, dict[str, str]], stack: StackInfo, http: httpx.AsyncClient
) -> None:
    user, _ = library
    url, hdr = rest(stack, "scraped_content"), headers(stack, user.access_token)
    prefer = {"Prefer": "return=representation"}
    r = await http.patch(
        url,
        params={"order": "created_at.asc", "limit": "2"},
        json={"provider": "batch"},
        headers={**hdr, **prefer},
    )
    assert r.status_code == 200 and {row["title"] for row in r.json()} == {"Alpha vents", "Beta reefs"}
    r = await http.delete(
        url,
        params={"order": "created_at.desc", "limit": "1", "provider": "neq.batch"},
        headers={**hdr, **prefer},
    )
    assert [row["title"] for row in r.json()] == ["delta"]
    r = await http.get(url, params={"select": "title,provider", "order": "title"}, headers=hdr)
    assert r.json() == [
        {"title": "Alpha vents", "provider": "batch"},
        {"title": "Beta reefs", "provider": "batch"},
        {"title": "Gamma, with (comma)", "provider": "upload"},
    ]


async def test_max_affected_is_enforced_and_rolled_back(
    library: tuple[TestUser, dict[str, str]], stack: StackInfo, http: httpx.AsyncClient
) -> None:
    user, _ = library
    url, hdr = rest(stack, "scraped_content"), headers(stack, user.access_token)
    r = await http.delete(
        url, params={"provider": "eq.firecrawl"}, headers={**hdr, "Prefer": "handling=strict,max-affected=1"}
    )
    assert (r.status_code, r.json()["code"]) == (400, "PGRST124")
    r = await http.get(url, params={"provider": "eq.firecrawl"}, headers=hdr)
    assert len(r.json()) == 2


async def test_return_minimal_status_codes(
    user_factory: UserFactory, stack: StackInfo, http: httpx.AsyncClient
) -> None:
    user = await user_factory()
    sc = user.client.table("scraped_content")
    res = await sc.insert(article(user, "Quiet"), returning="minimal").execute()  # type: ignore[arg-type]
    assert res.data == []

    url, hdr = rest(stack, "scraped_content"), headers(stack, user.access_token)
    r = await http.post(url, json=article(user, "Quiet 2"), headers={**hdr, "Prefer": "return=minimal"})
    assert (r.status_code, r.content, r.headers["content-range"]) == (201, b"", "*/*")
    r = await http.post(url, json=[article(user, "Loud")], headers={**hdr, "Prefer": "return=representation"})
    assert r.status_code == 201 and r.json()[0]["title"] == "Loud"
    r = await http.patch(
        url,
        params={"title": "eq.Quiet"},
        json={"title": "Still quiet"},
        headers={**hdr, "Prefer": "count=exact"},
    )
    assert (r.status_code, r.content, r.headers["content-range"]) == (204, b"", "0-0/1")
    r = await http.delete(url, params={"title": "eq.Quiet 2"}, headers=hdr)
    assert (r.status_code, r.content) == (204, b"")
    r = await http.get(url, params={"select": "title", "order": "title"}, headers=hdr)
    assert r.json() == [{"title": "Loud"}, {"title": "Still quiet"}]


async def test_single_object_mutation_is_rolled_back(
    library: tuple[TestUser, dict[str, str]], stack: StackInfo, http: httpx.AsyncClient
) -> None:
    user, _ = library
    url, hdr = rest(stack, "scraped_content"), headers(stack, user.access_token)
    r = await http.patch(
        url,
        params={"provider": "eq.firecrawl"},
        json={"title": "Both"},
        headers={**hdr, "Accept": "application/vnd.pgrst.object+json", "Prefer": "return=representation"},
    )
    assert r.status_code == 406 and r.json()["details"] == "The result contains 2 rows"
    r = await http.get(url, params={"title": "eq.Both"}, headers=hdr)
    assert r.json() == []


async def test_a_user_never_sees_or_changes_another_users_rows(
    library: tuple[TestUser, dict[str, str]], user_factory: UserFactory, admin: asyncpg.Connection
) -> None:
    owner, ids = library
    other = await user_factory()
    sc = other.client.table("scraped_content")
    assert (await sc.select("*").execute()).data == []
    assert (await sc.select("*").eq("id", ids["delta"]).execute()).data == []
    assert (await sc.update({"title": "Stolen"}).eq("id", ids["delta"]).execute()).data == []
    assert (await sc.delete().neq("title", "").execute()).data == []
    with pytest.raises(APIError) as caught:
        await sc.insert(article(owner, "Planted")).execute()
    assert caught.value.code == "42501"
    assert caught.value.message == 'new row violates row-level security policy for table "scraped_content"'
    titles_now = await admin.fetch(
        "select title from public.scraped_content where user_id = $1", uuid.UUID(owner.id)
    )
    assert {r["title"] for r in titles_now} == {t for t, _ in LIBRARY}


# ------------------------------------------------------------------------- error mapping


async def test_database_errors_map_to_postgrest_statuses(
    user_factory: UserFactory,
    anon_client: AsyncClient,
    service_client: AsyncClient,
    stack: StackInfo,
    http: httpx.AsyncClient,
) -> None:
    user = await user_factory()
    hdr = headers(stack, user.access_token)
    cases: list[tuple[str, str, Any, dict[str, str], int, str]] = [
        # (table, method, body, headers, status, code)
        ("usage_events", "POST", {"user_id": user.id, "provider": "p", "event_type": "e"}, hdr, 403, "42501"),
        ("scraped_content", "POST", article(user, "anon"), headers(stack), 401, "42501"),
        (
            "podcast_scripts",
            "POST",
            {
                "user_id": user.id,
                "prompt": "p",
                "model": "m",
                "segments": [],
                "source_content_id": str(uuid.uuid4()),
            },
            hdr,
            409,
            "23503",
        ),
        ("scraped_content", "POST", {"user_id": user.id, "title": "no url"}, hdr, 400, "23502"),
        (
            "podcast_scripts",
            "POST",
            {"user_id": user.id, "prompt": "p", "model": "m", "segments": {"a": 1}},
            hdr,
            400,
            "23514",
        ),
        ("scraped_content", "POST", {**article(user, "t"), "created_at": "not a date"}, hdr, 400, "22007"),
        ("scraped_content", "POST", {**article(user, "t"), "nope": 1}, hdr, 400, "PGRST204"),
    ]
    for table, method, body, hdrs, status, code in cases:
        r = await http.request(method, rest(stack, table), json=body, headers=hdrs)
        assert (r.status_code, r.json()["code"]) == (status, code), (table, body, r.text)
        assert set(r.json()) == {"code", "message", "details", "hint"}

    with pytest.raises(APIError) as caught:
        await (
            service_client.table("processing_jobs")
            .insert(
                {"id": f"x_{uuid.uuid4().hex[:12]}", "user_id": user.id, "job_type": "x", "status": "bogus"}
            )
            .execute()
        )
    assert caught.value.code == "23514"
    with pytest.raises(APIError) as anon:
        await anon_client.table("scraped_content").select("*").execute()
    assert anon.value.code == "42501"


async def test_token_and_gateway_errors(stack: StackInfo, http: httpx.AsyncClient) -> None:
    url = rest(stack, "scraped_content")
    r = await http.get(url)
    assert (r.status_code, r.json()) == (401, {"message": "No API key found in request"})

    now = int(time.time())
    claims = {"sub": str(uuid.uuid4()), "role": "authenticated", "aud": "authenticated"}
    expired = jwt.encode({**claims, "iat": now - 100, "exp": now - 10}, stack.jwt_secret, algorithm="HS256")
    forged = jwt.encode({**claims, "exp": now + 100}, "wrong-" + stack.jwt_secret, algorithm="HS256")
    for token, code in ((expired, "PGRST303"), (forged, "PGRST301"), ("garbage", "PGRST301")):
        r = await http.get(url, headers=headers(stack, token))
        assert (r.status_code, r.json()["code"]) == (401, code)
        assert r.headers["www-authenticate"].startswith("Bearer")


async def test_service_role_bypasses_rls(
    library: tuple[TestUser, dict[str, str]], service_client: AsyncClient
) -> None:
    user, ids = library
    res = await service_client.table("scraped_content").select("id").eq("user_id", user.id).execute()
    assert {r["id"] for r in rows_of(res.data)} == set(ids.values())


# ------------------------------------------------------------------------------ bad input

BAD_REQUESTS: list[tuple[str, str, dict[str, str], int, str]] = [
    # (method, path, params, status, code)
    ("GET", "no_such_table", {}, 404, "PGRST205"),
    ("GET", "scraped_content", {"select": "id,nope"}, 400, "42703"),
    ("GET", "scraped_content", {"nope": "eq.1"}, 400, "42703"),
    ("GET", "scraped_content", {"order": "nope.desc"}, 400, "42703"),
    ("GET", "scraped_content", {"title": "eq"}, 400, "PGRST100"),
    ("GET", "scraped_content", {"title": "bogus.1"}, 400, "PGRST100"),
    ("GET", "scraped_content", {"title": "a"}, 400, "PGRST100"),
    ("GET", "scraped_content", {"title": "is.maybe"}, 400, "PGRST100"),
    ("GET", "scraped_content", {"title": "in.(a,b"}, 400, "PGRST100"),
    ("GET", "scraped_content", {"or": "(title.eq.a"}, 400, "PGRST100"),
    ("GET", "scraped_content", {"or": "title.eq.a"}, 400, "PGRST100"),
    ("GET", "scraped_content", {"or": "()"}, 400, "PGRST100"),
    ("GET", "scraped_content", {"and": "(title.xx.a)"}, 400, "PGRST100"),
    ("GET", "scraped_content", {"order": "title.sideways"}, 400, "PGRST100"),
    ("GET", "scraped_content", {"select": "id,,title"}, 400, "PGRST100"),
    ("GET", "scraped_content", {"select": 'title"'}, 400, "PGRST100"),
    ("GET", "scraped_content", {"limit": "ten"}, 400, "PGRST100"),
    ("GET", "scraped_content", {"offset": "-1"}, 400, "PGRST100"),
    ("GET", "scraped_content", {"id": "eq.not-a-uuid"}, 400, "22P02"),
    ("GET", "scraped_content", {"created_at": "gt.yesterday-ish"}, 400, "22007"),
    ("GET", "scraped_content", {"metadata": "cs.{not json"}, 400, "22P02"),
    ("GET", "scraped_content", {"markdown": "fts(klingon).word"}, 400, "42704"),
    ("GET", "scraped_content", {"select": "other_table(*)"}, 400, "PGRST127"),
    ("GET", "scraped_content", {"other_table.title": "eq.x"}, 400, "PGRST108"),
    ("DELETE", "scraped_content", {"title": "like"}, 400, "PGRST100"),
    ("PATCH", "scraped_content", {"nope": "eq.1"}, 400, "42703"),
]


@pytest.mark.parametrize(
    ("method", "path", "params", "status", "code"),
    BAD_REQUESTS,
    ids=[f"{m}-{p}-{'&'.join(f'{k}={v}' for k, v in q.items())}" for m, p, q, _, _ in BAD_REQUESTS],
)
async def test_bad_query_is_a_clean_4xx(
    library: tuple[TestUser, dict[str, str]],
    stack: StackInfo,
    http: httpx.AsyncClient,
    method: str,
    path: str,
    params: dict[str, str],
    status: int,
    code: str,
) -> None:
    user, _ = library
    body = {"title": "x"} if method == "PATCH" else None
    r = await http.request(
        method, rest(stack, path), params=params, json=body, headers=headers(stack, user.access_token)
    )
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert set(r.json()) == {"code", "message", "details", "hint"}
    still = await user.client.table("scraped_content").select("title").execute()
    assert {row["title"] for row in rows_of(still.data)} == {t for t, _ in LIBRARY}


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"[1, 2]", b"42", b'"text"', b"\xff\xfe", b'{"title": "a"', b"[" * 5000],
    ids=["empty", "truncated", "scalars", "number", "string", "not-utf8", "unclosed", "deep"],
)
async def test_invalid_json_body_is_pgrst102(
    user_factory: UserFactory, stack: StackInfo, http: httpx.AsyncClient, body: bytes
) -> None:
    user = await user_factory()
    hdr = headers(stack, user.access_token, **{"Content-Type": "application/json"})
    for method in ("POST", "PATCH"):
        r = await http.request(
            method,
            rest(stack, "scraped_content"),
            params={"id": f"eq.{uuid.uuid4()}"},
            content=body,
            headers=hdr,
        )
        assert (r.status_code, r.json()["code"]) == (400, "PGRST102"), (method, r.text)


async def test_bulk_insert_without_columns_needs_matching_keys(
    user_factory: UserFactory, stack: StackInfo, http: httpx.AsyncClient
) -> None:
    user = await user_factory()
    r = await http.post(
        rest(stack, "scraped_content"),
        json=[article(user, "a"), {"title": "b"}],
        headers=headers(stack, user.access_token),
    )
    assert (r.status_code, r.json()["code"]) == (400, "PGRST102")
    assert r.json()["message"] == "All object keys must match"


async def test_media_type_and_schema_negotiation(
    library: tuple[TestUser, dict[str, str]], stack: StackInfo, http: httpx.AsyncClient
) -> None:
    user, _ = library
    url, hdr = rest(stack, "scraped_content"), headers(stack, user.access_token)
    r = await http.get(url, headers={**hdr, "Accept-Profile": "auth"})
    assert (r.status_code, r.json()["code"], r.json()["message"]) == (406, "PGRST106", "Invalid schema: auth")
    r = await http.post(url, json={}, headers={**hdr, "Content-Profile": "storage"})
    assert (r.status_code, r.json()["code"]) == (406, "PGRST106")
    r = await http.get(url, headers={**hdr, "Accept-Profile": "public"})
    assert r.status_code == 200
    r = await http.get(url, headers={**hdr, "Accept": "text/csv"})
    assert (r.status_code, r.json()["code"]) == (406, "PGRST107")
    r = await http.get(
        url,
        params={"select": "title,metadata->n", "title": "like.Gamma*"},
        headers={**hdr, "Accept": "application/vnd.pgrst.array+json;nulls=stripped"},
    )
    assert r.json() == [{"title": "Gamma, with (comma)", "n": 3}]
    r = await http.get(
        url,
        params={"select": "title,metadata->n", "title": "eq.delta"},
        headers={**hdr, "Accept": "application/vnd.pgrst.array+json;nulls=stripped"},
    )
    assert r.json() == [{"title": "delta"}]


# ----------------------------------------------------------------------------- injection

DROP = "; drop table public.scraped_content; --"
# (name, method, query params, expected status, expected code or None for 200).
INJECTIONS: list[tuple[str, str, dict[str, str], int, str | None]] = [
    ("value", "GET", {"title": "eq.x' OR '1'='1"}, 200, None),
    ("value in or", "GET", {"or": "(title.eq.x' OR 1=1 --,title.eq.y)"}, 200, None),
    ("quoted value in list", "GET", {"title": f'in.("a\\"\'{DROP}",b)'}, 200, None),
    ("bad list", "GET", {"title": f"in.(a','b'){DROP})"}, 400, "PGRST100"),
    ("like value", "GET", {"title": "like.%'; delete from public.scraped_content; --"}, 200, None),
    ("fts value", "GET", {"markdown": f"fts.a'{DROP}"}, 400, "42601"),  # a tsquery syntax error
    ("fts config", "GET", {"markdown": f"fts(english'{DROP}).a"}, 400, "PGRST100"),
    ("fts config word", "GET", {"markdown": "fts(english cascade).a"}, 400, "42602"),
    ("json key", "GET", {"select": f'title,x:metadata->>"lang\'){DROP}"'}, 200, None),
    ("column", "GET", {"select": "id; drop table public.scraped_content"}, 400, "PGRST100"),
    ("quoted column", "GET", {"select": f'"id\\"{DROP}"'}, 400, "42703"),
    ("doubled quote column", "GET", {"select": f'"id""{DROP}"'}, 400, "PGRST100"),
    ("alias", "GET", {"select": f'"a\\"){DROP}":id'}, 200, None),
    ("cast", "GET", {"select": f"id::text){DROP}"}, 400, "PGRST100"),
    ("cast words", "GET", {"select": "id::text from public.scraped_content"}, 400, "PGRST100"),
    ("filter column", "GET", {f'"title\\"{DROP}"': "eq.x"}, 400, "42703"),
    ("order", "GET", {"order": "title; drop table public.scraped_content"}, 400, "PGRST100"),
    ("order quoted", "GET", {"order": f'"title\\" desc{DROP}"'}, 400, "42703"),
    ("limit", "GET", {"limit": "1; drop table public.scraped_content"}, 400, "PGRST100"),
    ("on_conflict", "POST", {"on_conflict": f"id) do nothing{DROP}"}, 400, "PGRST100"),
    ("on_conflict quoted", "POST", {"on_conflict": f'"id\\") do nothing{DROP}"'}, 400, "42703"),
    ("columns", "POST", {"columns": f'title,"x\\") values (1){DROP}"'}, 400, "PGRST204"),
    ("patch filter", "PATCH", {"title": f"eq.x'{DROP}"}, 200, None),
    ("delete filter", "DELETE", {"title": "neq.x' or 1=1 --", "id": "is.null"}, 200, None),
]


@pytest.mark.parametrize(
    ("name", "method", "params", "status", "code"), INJECTIONS, ids=[c[0] for c in INJECTIONS]
)
async def test_injection_attempts_are_inert(
    library: tuple[TestUser, dict[str, str]],
    stack: StackInfo,
    http: httpx.AsyncClient,
    admin: asyncpg.Connection,
    name: str,
    method: str,
    params: dict[str, str],
    status: int,
    code: str | None,
) -> None:
    user, _ = library
    before = await admin.fetchval("select count(*) from public.scraped_content")
    body = article(user, "injected") if method in ("POST", "PATCH") else None
    prefer = "return=representation" + (",resolution=merge-duplicates" if method == "POST" else "")
    r = await http.request(
        method,
        rest(stack, "scraped_content"),
        params=params,
        json=body,
        headers=headers(stack, user.access_token, Prefer=prefer),
    )
    assert r.status_code == status, r.text
    if code is None:
        # The payload was only ever data: it matched no row, or came back as a plain (null) value.
        assert all(row.get("title") != "injected" and row.get("x") is None for row in r.json())
    else:
        assert r.json()["code"] == code and set(r.json()) == {"code", "message", "details", "hint"}
    assert await admin.fetchval("select to_regclass('public.scraped_content') is not null")
    assert await admin.fetchval("select count(*) from public.scraped_content") == before
    mine = await user.client.table("scraped_content").select("title").execute()
    assert {row["title"] for row in rows_of(mine.data)} == {t for t, _ in LIBRARY}


async def test_value_with_sql_metacharacters_round_trips(user_factory: UserFactory) -> None:
    user = await user_factory()
    nasty = 'Robert\'); DROP TABLE scraped_content;-- "quoted" \\ back, (paren) *star* $1 %'
    sc = user.client.table("scraped_content")
    await sc.insert(article(user, nasty, metadata={"k'": 'v"'})).execute()
    assert await titles(sc.select("title").eq("title", nasty)) == {nasty}
    assert await titles(sc.select("title").in_("title", [nasty, "other"])) == {nasty}
    quoted = nasty.replace("\\", "\\\\").replace('"', '\\"')
    assert await titles(sc.select("title").or_(f'title.eq."{quoted}",title.eq.x')) == {nasty}
    res = await sc.select('v:metadata->>"k\'"').execute()
    assert res.data == [{"v": 'v"'}]


TABLE_INJECTIONS = [
    "scraped_content;drop table x",
    "scraped_content%20where%201=1",
    "..%2Fauth",
    "auth.users",
    '"scraped_content"',
]


@pytest.mark.parametrize("path", TABLE_INJECTIONS)
async def test_table_name_injection_is_404(stack: StackInfo, http: httpx.AsyncClient, path: str) -> None:
    r = await http.get(rest(stack, path), headers=headers(stack))
    assert r.status_code == 404, r.text
    assert r.json()["code"] in ("PGRST205", "PGRST125")


async def test_stack_keeps_serving_after_bad_input(
    user_factory: UserFactory, stack: StackInfo, http: httpx.AsyncClient
) -> None:
    user = await user_factory()
    hdr = headers(stack, user.access_token)
    junk = [
        ("GET", {"select": "("}),
        ("GET", {"or": "((((("}),
        ("GET", {"title": "eq.\x00"}),
        ("GET", {"select": "a" * 10000}),
        ("POST", {}),
        ("PATCH", {"title": "in." + "(" * 500}),
    ]
    for method, params in junk:
        r = await http.request(
            method, rest(stack, "scraped_content"), params=params, content=b"{bad", headers=hdr
        )
        assert 400 <= r.status_code < 500, (params, r.status_code, r.text)
        json.loads(r.content)
    res = await user.client.table("scraped_content").insert(article(user, "after")).execute()
    assert rows_of(res.data)[0]["title"] == "after"


async def test_schema_cache_follows_new_tables_and_columns(
    admin: asyncpg.Connection, service_client: AsyncClient
) -> None:
    name = f"rest_tmp_{uuid.uuid4().hex[:8]}"
    await admin.execute(f"create table public.{name} (id int primary key, label text)")
    await admin.execute(f"alter table public.{name} enable row level security")
    await admin.execute(f"grant all on public.{name} to service_role")
    try:
        table = service_client.table(name)
        await table.insert({"id": 1, "label": "one"}).execute()
        assert (await table.select("*").execute()).data == [{"id": 1, "label": "one"}]
        await admin.execute(f"alter table public.{name} add column extra jsonb default '{{\"a\": 1}}'")
        res = await table.select("id,extra->>a").execute()
        assert res.data == [{"id": 1, "a": "1"}]
        await admin.execute(f"alter table public.{name} drop column label")
        with pytest.raises(APIError) as caught:
            await table.select("label").execute()
        assert caught.value.code == "42703"
        assert (await table.select("*").execute()).data == [{"id": 1, "extra": {"a": 1}}]
    finally:
        await admin.execute(f"drop table public.{name}")
    with pytest.raises(APIError) as gone:
        await service_client.table(name).select("*").execute()
    assert gone.value.code == "PGRST205"
