"""The stack's realtime service: the change feed out of Postgres plus the subscription hub.

Created by the runner after the Database and closed before it; the websocket endpoint
(``realtime_ws``) finds it as ``app.state.realtime``.
"""

from __future__ import annotations

from typing import Any

from echogen_devstack.db import Database
from echogen_devstack.realtime_feed import ChangeFeed, install, sync_triggers
from echogen_devstack.realtime_hub import Hub


class Realtime:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.hub = Hub(db)
        self.feed = ChangeFeed(db, self.hub.dispatch)

    @classmethod
    async def start(cls, db: Database) -> Realtime:
        await install(db)
        realtime = cls(db)
        await realtime.feed.start()
        return realtime

    async def sync_publication(self) -> None:
        """Capture tables added to ``supabase_realtime`` since the stack started."""
        async with self.db.admin.acquire() as conn:
            await sync_triggers(conn)

    async def close(self) -> None:
        await self.feed.close()


def realtime_of(app: Any) -> Realtime | None:
    found = getattr(app.state, "realtime", None)
    return found if isinstance(found, Realtime) else None
