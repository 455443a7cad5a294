"""What each list shows: table, the columns a list query selects, search columns, parser.

List queries never select bodies (markdown, segments, payload): those come with the detail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from echogen_desktop.services.records import ContentItem, Job, Podcast, Script


@dataclass(frozen=True)
class TableSpec:
    table: str
    list_columns: tuple[str, ...]
    search_columns: tuple[str, ...]
    sortable: frozenset[str]
    parse: Callable[[Mapping[str, Any]], Any]
    default_order: str = "created_at"

    @property
    def select(self) -> str:
        return ",".join(self.list_columns)


CONTENT = TableSpec(
    table="scraped_content",
    list_columns=("id", "title", "url", "provider", "metadata", "created_at", "updated_at"),
    search_columns=("title", "url", "markdown"),
    sortable=frozenset({"title", "url", "provider", "created_at", "updated_at"}),
    parse=ContentItem.from_row,
)

SCRIPTS = TableSpec(
    table="podcast_scripts",
    list_columns=("id", "source_content_id", "model", "language", "metadata", "created_at", "updated_at"),
    search_columns=("prompt", "model"),
    sortable=frozenset({"model", "language", "created_at", "updated_at"}),
    parse=Script.from_row,
)

PODCASTS = TableSpec(
    table="generated_podcasts",
    list_columns=(
        "id", "script_id", "audio_path", "cover_art_path", "duration_seconds", "metadata", "created_at", "updated_at"
    ),
    search_columns=("audio_path",),
    sortable=frozenset({"duration_seconds", "created_at", "updated_at"}),
    parse=Podcast.from_row,
)

JOBS = TableSpec(
    table="processing_jobs",
    list_columns=(
        "id", "job_type", "status", "error", "created_at", "updated_at", "started_at", "finished_at"
    ),
    search_columns=("id", "job_type", "error"),
    sortable=frozenset({"job_type", "status", "created_at", "updated_at", "started_at", "finished_at"}),
    parse=Job.from_row,
)
