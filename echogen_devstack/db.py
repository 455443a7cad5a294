"""Connection pools, and the per-request transaction that PostgREST and storage-api open.

Every API request runs in one transaction on an ``authenticator`` connection with
the role and JWT claims set locally, so Postgres row-level security decides what
the caller may see or change. Nothing here re-implements a policy.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Claims = Mapping[str, Any]
# What handlers receive: a pooled connection, or a plain one in scripts and tests.
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"

ANON_CLAIMS: dict[str, Any] = {"role": "anon"}
API_ROLES = frozenset({"anon", "authenticated", "service_role"})


class Database:
    """``admin`` is the cluster superuser (auth, bootstrap); ``api`` is ``authenticator``."""

    def __init__(self, admin: asyncpg.Pool, api: asyncpg.Pool) -> None:
        self.admin = admin
        self.api = api

    @classmethod
    async def connect(cls, admin_dsn: str, api_dsn: str, *, max_size: int = 20) -> Database:
        admin = await asyncpg.create_pool(admin_dsn, min_size=1, max_size=10)
        api = await asyncpg.create_pool(api_dsn, min_size=2, max_size=max_size)
        return cls(admin, api)

    async def close(self) -> None:
        await self.api.close()
        await self.admin.close()

    @asynccontextmanager
    async def as_caller(
        self, claims: Claims, *, method: str = "GET", path: str = "/"
    ) -> AsyncIterator[Conn]:
        """Yield a connection inside a transaction that runs as the JWT's role."""
        role = str(claims.get("role") or "anon")
        if role not in API_ROLES:
            role = "anon"
        sub = str(claims.get("sub") or "")
        async with self.api.acquire() as conn, conn.transaction():
            await conn.execute(
                "select set_config('role', $1, true), set_config('request.jwt.claims', $2, true),"
                " set_config('request.jwt.claim.sub', $3, true),"
                " set_config('request.jwt.claim.role', $1, true),"
                " set_config('request.method', $4, true), set_config('request.path', $5, true)",
                role, json.dumps(dict(claims)), sub, method, path,
            )
            yield conn
