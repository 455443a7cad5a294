"""Does the project's database have EchoGen's schema? Asked with the anon key before sign-in.

One ``select=<columns>&limit=0`` per table, answered by PostgREST without reading a row:
- 404 ``PGRST205`` (PostgREST 12+) or ``42P01`` (older): the table is missing;
- 400 ``42703``: the table predates the migrations (upstream EchoGen.ai's schema) and lacks columns;
- 2xx: the anon role may read the table, so the privileges migration (which revokes everything
  from anon) was not applied: the app would work, with every user's rows one policy away from public.
With the migrations applied, anon gets 401/403 ``42501`` on every table. Anything else (a proxy
page, a timeout) says nothing about the schema and is left to the other checks.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import httpx

from echogen_desktop.i18n import QT_TRANSLATE_NOOP
from echogen_desktop.services.errors import PROJECT_UNREACHABLE, ErrorKind, ServiceError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = "supabase/migrations/"
README_SECTION = "Using a real Supabase project"

# The columns the app reads, per table (tests/test_schema_check.py compares them with the migrations).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "profiles": ("id", "full_name", "avatar_url", "created_at", "updated_at"),
    "user_sessions": ("id", "user_id", "device", "created_at"),
    "user_api_keys": ("id", "user_id", "provider", "key_alias", "encrypted_key", "metadata", "created_at",
                      "updated_at"),
    "scraped_content": ("id", "user_id", "url", "title", "markdown", "provider", "metadata", "created_at",
                        "updated_at"),
    "podcast_scripts": ("id", "user_id", "source_content_id", "prompt", "model", "language", "segments",
                        "metadata", "created_at", "updated_at"),
    "generated_podcasts": ("id", "user_id", "script_id", "audio_path", "cover_art_path", "duration_seconds",
                           "metadata", "created_at", "updated_at"),
    "processing_jobs": ("id", "user_id", "job_type", "status", "payload", "result", "error", "created_at",
                        "updated_at", "started_at", "finished_at"),
    "usage_events": ("id", "user_id", "provider", "event_type", "payload", "cost_usd", "created_at"),
}
MISSING_TABLE_CODES = frozenset({"PGRST205", "42P01"})
MISSING_COLUMN_CODE = "42703"


@dataclass(frozen=True)
class SchemaReport:
    """What is wrong with the project's schema; every tuple empty means nothing was found wrong."""

    missing_tables: tuple[str, ...] = ()
    outdated_tables: tuple[str, ...] = ()  # present, but without columns the app needs
    open_tables: tuple[str, ...] = ()  # readable with the anon key: privileges migration missing

    @property
    def ok(self) -> bool:
        return not (self.missing_tables or self.outdated_tables or self.open_tables)

    def summary(self) -> str:
        """English, for logs and as the error message's fallback text."""
        parts = []
        if self.missing_tables:
            parts.append("missing tables: " + ", ".join(self.missing_tables))
        if self.outdated_tables:
            parts.append("tables without EchoGen's columns: " + ", ".join(self.outdated_tables))
        if self.open_tables:
            parts.append("tables the anon key may read: " + ", ".join(self.open_tables))
        return "; ".join(parts)


class MigrationsMissing(ServiceError):
    """The project answers, but its database lacks (some of) the EchoGen migrations."""

    def __init__(self, report: SchemaReport) -> None:
        super().__init__(
            ErrorKind.MIGRATIONS_MISSING,
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "This project's database does not have EchoGen's schema (%1). Apply the SQL files in %2 in order "
                "(supabase db push, or paste each into the SQL editor, oldest first), then check again. "
                'See "%3" in the README.',
            ),
            report.summary(), MIGRATIONS_DIR, README_SECTION,
        )
        self.report = report


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    code = body.get("code") if isinstance(body, dict) else None
    return str(code) if code is not None else ""


async def _probe(http: httpx.AsyncClient, url: str, headers: dict[str, str], table: str) -> str:
    """``missing``, ``outdated``, ``open`` or ``ok`` for one table."""
    columns = ",".join(REQUIRED_COLUMNS[table])
    response = await http.get(f"{url}/rest/v1/{table}", params={"select": columns, "limit": "0"},
                              headers=headers)
    code = _error_code(response) if response.status_code >= 400 else ""
    if response.status_code == 404 and code in MISSING_TABLE_CODES:
        return "missing"
    if response.status_code == 400 and code == MISSING_COLUMN_CODE:
        return "outdated"
    if 200 <= response.status_code < 300:
        return "open"
    return "ok"


async def inspect_schema(http: httpx.AsyncClient, url: str, anon_key: str) -> SchemaReport:
    """Ask about every table at once (eight small requests); transport errors propagate."""
    headers = {"apikey": anon_key, "Authorization": f"Bearer {anon_key}"}
    tables = sorted(REQUIRED_COLUMNS)
    verdicts = await asyncio.gather(*(_probe(http, url, headers, table) for table in tables))
    found: dict[str, list[str]] = {"missing": [], "outdated": [], "open": [], "ok": []}
    for table, verdict in zip(tables, verdicts, strict=True):
        found[verdict].append(table)
    return SchemaReport(tuple(found["missing"]), tuple(found["outdated"]), tuple(found["open"]))


async def check_schema(
    url: str, anon_key: str, *, timeout: float = 8.0, http: httpx.AsyncClient | None = None
) -> None:
    """Raise MigrationsMissing when the schema is wrong, ServiceError(UNREACHABLE) on a transport error.

    ``http``: a client to reuse (its connections then serve the requests after this one).
    """
    try:
        if http is not None:
            report = await asyncio.wait_for(inspect_schema(http, url, anon_key), timeout)
        else:
            async with httpx.AsyncClient(timeout=timeout) as own:
                report = await inspect_schema(own, url, anon_key)
    except (httpx.TransportError, TimeoutError) as exc:
        raise ServiceError(ErrorKind.UNREACHABLE, PROJECT_UNREACHABLE) from exc
    if not report.ok:
        log.warning("schema check of %s: %s", url, report.summary())
        raise MigrationsMissing(report)
