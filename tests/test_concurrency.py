"""50 clients reading and writing at once lose no writes, and each sees only its own rows."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from tests.conftest import TestUser

CLIENTS = 50
WRITES_EACH = 6


async def _work(user: TestUser) -> list[str]:
    titles = []
    for i in range(WRITES_EACH):
        title = f"{user.email} #{i}"
        await user.client.table("scraped_content").insert(
            {"user_id": user.id, "url": f"https://example.test/{i}", "title": title,
             "markdown": f"body {i}", "provider": "firecrawl"}
        ).execute()
        titles.append(title)
        seen = await user.client.table("scraped_content").select("title,user_id").execute()
        assert {row["user_id"] for row in seen.data} == {user.id}
    await user.client.table("scraped_content").update({"title": titles[0] + " (edited)"}).eq(
        "title", titles[0]
    ).execute()
    titles[0] += " (edited)"
    return titles


async def test_fifty_concurrent_clients_lose_no_writes(user_factory: Callable[[], Awaitable[TestUser]]) -> None:
    users = [await user_factory() for _ in range(CLIENTS)]
    written = await asyncio.gather(*(_work(user) for user in users))
    for user, titles in zip(users, written, strict=True):
        rows = (await user.client.table("scraped_content").select("title,user_id").execute()).data
        assert sorted(row["title"] for row in rows) == sorted(titles)
        assert {row["user_id"] for row in rows} == {user.id}
