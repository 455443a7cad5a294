"""Is this URL and anon key a Supabase project the app can use? Asked before anyone signs in.

First Auth's settings endpoint (does the URL answer like Supabase, does its gateway take the key),
then the schema check (schema_check.py). Either can reuse a client, so the start-up check rides on the
connections the session will use next.
"""

from __future__ import annotations

import asyncio

import httpx

from echogen_desktop.i18n import QT_TRANSLATE_NOOP
from echogen_desktop.services.errors import PROJECT_UNREACHABLE, REFUSED_KEY, ErrorKind, ServiceError
from echogen_desktop.services.schema_check import check_schema


async def _settings(http: httpx.AsyncClient, url: str, anon_key: str, timeout: float) -> httpx.Response:
    return await asyncio.wait_for(http.get(f"{url}/auth/v1/settings", headers={"apikey": anon_key}), timeout)


async def check_connection(
    url: str, anon_key: str, *, timeout: float = 8.0, http: httpx.AsyncClient | None = None
) -> None:
    """Raise ServiceError (UNREACHABLE, or INVALID_INPUT for a refused key or a non-Supabase URL)."""
    try:
        if http is not None:
            response = await _settings(http, url, anon_key, timeout)
        else:
            async with httpx.AsyncClient(timeout=timeout) as own:
                response = await _settings(own, url, anon_key, timeout)
    except (httpx.TransportError, TimeoutError) as exc:
        raise ServiceError(ErrorKind.UNREACHABLE, PROJECT_UNREACHABLE) from exc
    if response.status_code in (401, 403):
        raise ServiceError(ErrorKind.INVALID_INPUT, REFUSED_KEY)
    try:
        settings = response.json() if response.status_code == 200 else None
    except ValueError:
        settings = None
    if not isinstance(settings, dict) or "external" not in settings:
        raise ServiceError(
            ErrorKind.INVALID_INPUT,
            QT_TRANSLATE_NOOP("ServiceError", "This URL does not answer like a Supabase project (HTTP %1)."),
            str(response.status_code),
        )


async def check_project(
    url: str, anon_key: str, *, timeout: float = 8.0, http: httpx.AsyncClient | None = None
) -> None:
    """``check_connection``, then the schema (``MigrationsMissing`` when the migrations are missing)."""
    await check_connection(url, anon_key, timeout=timeout, http=http)
    await check_schema(url, anon_key, timeout=timeout, http=http)
