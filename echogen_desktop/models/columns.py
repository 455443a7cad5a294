"""What each list shows per column: title, cell text, tooltip, alignment and the server sort column.

Titles and fixed words are marked with ``N_`` (a no-op marker, like QT_TRANSLATE_NOOP in context
"Columns") and translated when shown, so a language switch needs no rebuild of these tables.
Sorting is the server's job: a column whose ``server_column`` is None (values inside ``metadata``,
computed values) ignores header clicks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QColor

from echogen_desktop.colors import status_color
from echogen_desktop.services.records import ContentItem, Job, JobStatus, Podcast, Script
from echogen_desktop.services.tables import CONTENT, JOBS, PODCASTS, SCRIPTS, TableSpec

CONTEXT = "Columns"
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
DASH = "—"


def N_(text: str) -> str:
    """Marks text for translation in context "Columns"; ``tr`` translates it when shown."""
    return text


def tr(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text)


@dataclass(frozen=True)
class Column:
    key: str  # stable name (saved column widths, tests)
    title: str  # untranslated source text
    text: Callable[[Any], str]
    server_column: str | None = None
    raw: Callable[[Any], object] | None = None
    tooltip: Callable[[Any], str | None] | None = None
    alignment: Qt.AlignmentFlag = LEFT
    status: Callable[[Any], str] | None = None  # set on a status column: drives the badge roles

    @property
    def sortable(self) -> bool:
        return self.server_column is not None

    def header(self) -> str:
        return tr(self.title)

    def header_tooltip(self) -> str:
        if self.sortable:
            return tr(N_("Click to sort"))
        return tr(N_("This column cannot be sorted"))

    def color(self, record: Any) -> QColor | None:
        return status_color(self.status(record)) if self.status is not None else None


# ------------------------------------------------------------------ formatting
def format_time(value: datetime | None) -> str:
    """Local wall-clock time to the minute; the tooltip carries the exact instant."""
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value is not None else ""


def exact_time(value: datetime | None) -> str | None:
    return value.astimezone().isoformat(sep=" ", timespec="seconds") if value is not None else None


def format_clock(seconds: float | None) -> str:
    """Media length as m:ss or h:mm:ss."""
    if seconds is None:
        return ""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_span(seconds: float | None) -> str:
    """How long something took, in the largest two units that matter."""
    if seconds is None:
        return ""
    if seconds < 60:
        return tr(N_("%1 s")).replace("%1", f"{seconds:.1f}")
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        text = tr(N_("%1 min %2 s"))
        return text.replace("%1", str(minutes)).replace("%2", str(secs))
    hours, minutes = divmod(minutes, 60)
    text = tr(N_("%1 h %2 min"))
    return text.replace("%1", str(hours)).replace("%2", str(minutes))


def _minutes(value: float | None) -> str:
    return "" if value is None else tr(N_("%1 min")).replace("%1", f"{value:g}")


def _speaker_names(metadata: Mapping[str, Any]) -> list[str]:
    """Names from ``speakers`` ([{name, voice}] or plain strings), else upstream's speaker1/2 keys."""
    value = metadata.get("speakers")
    if isinstance(value, list):
        names = [str(s.get("name") or "") if isinstance(s, Mapping) else str(s) for s in value]
        return [n for n in names if n]
    return [str(metadata[k]) for k in ("speaker1", "speaker2") if metadata.get(k)]


def _metadata_text(key: str) -> Callable[[Any], str]:
    return lambda record: str(record.metadata.get(key) or "")


def _time_columns(with_updated: bool = True) -> tuple[Column, ...]:
    created = Column(
        "created_at", N_("Created"), lambda r: format_time(r.created_at), "created_at",
        raw=lambda r: r.created_at, tooltip=lambda r: exact_time(r.created_at),
    )
    if not with_updated:
        return (created,)
    updated = Column(
        "updated_at", N_("Updated"), lambda r: format_time(r.updated_at), "updated_at",
        raw=lambda r: r.updated_at, tooltip=lambda r: exact_time(r.updated_at),
    )
    return created, updated


# ------------------------------------------------------------------ sections
def _content_title(item: ContentItem) -> str:
    return item.title or item.url


CONTENT_COLUMNS: tuple[Column, ...] = (
    Column("title", N_("Title"), _content_title, "title", tooltip=lambda r: r.url),
    Column("url", N_("Source"), lambda r: r.url, "url", tooltip=lambda r: r.url),
    Column("provider", N_("Provider"), lambda r: r.provider, "provider"),
    Column("language", N_("Language"), lambda r: r.language),
    Column(
        "reading_time", N_("Reading time"), lambda r: _minutes(r.reading_time),
        raw=lambda r: r.reading_time, alignment=RIGHT,
    ),
    *_time_columns(),
)


def _script_title(script: Script) -> str:
    untitled = tr(N_("Untitled script"))
    return str(script.metadata.get("title") or script.prompt[:80] or untitled)


SCRIPT_COLUMNS: tuple[Column, ...] = (
    Column("title", N_("Title"), _script_title, tooltip=lambda r: r.id),
    Column("model", N_("Model"), lambda r: r.model, "model"),
    Column("language", N_("Language"), lambda r: r.language, "language"),
    Column(
        "source", N_("From article"),
        lambda r: tr(N_("Yes")) if r.source_content_id else DASH,
        tooltip=lambda r: r.source_content_id or tr(N_("The source article was deleted")),
    ),
    *_time_columns(),
)


def _podcast_title(podcast: Podcast) -> str:
    return podcast.title


PODCAST_COLUMNS: tuple[Column, ...] = (
    Column("title", N_("Title"), _podcast_title, tooltip=lambda r: r.audio_path),
    Column(
        "duration", N_("Duration"), lambda r: format_clock(r.duration_seconds),
        "duration_seconds", raw=lambda r: r.duration_seconds, alignment=RIGHT,
    ),
    Column("language", N_("Language"), _metadata_text("language")),
    Column("speakers", N_("Speakers"), lambda r: ", ".join(_speaker_names(r.metadata))),
    *_time_columns(),
)

_STATUS_TEXT: dict[JobStatus, str] = {
    JobStatus.QUEUED: N_("Queued"),
    JobStatus.RUNNING: N_("Running"),
    JobStatus.SUCCEEDED: N_("Succeeded"),
    JobStatus.FAILED: N_("Failed"),
    JobStatus.CANCELLED: N_("Cancelled"),
}

_JOB_TYPE_TEXT: dict[str, str] = {
    "script_generation": N_("Script generation"),
    "audio_render": N_("Audio render"),
    "cover_art": N_("Cover art"),
}


def status_text(status: JobStatus) -> str:
    return tr(_STATUS_TEXT[status])


def job_type_text(job_type: str) -> str:
    known = _JOB_TYPE_TEXT.get(job_type)
    return tr(known) if known else job_type


def _job_status_tip(job: Job) -> str | None:
    return job.error if job.status is JobStatus.FAILED and job.error else None


def _job_run_time(job: Job) -> str:
    return format_span(job.run_seconds(datetime.now(UTC)))


JOB_COLUMNS: tuple[Column, ...] = (
    Column(
        "status", N_("Status"), lambda r: status_text(r.status), "status",
        raw=lambda r: r.status.value, tooltip=_job_status_tip, status=lambda r: r.status.value,
    ),
    Column("job_type", N_("Type"), lambda r: job_type_text(r.job_type), "job_type"),
    *_time_columns(with_updated=False),
    Column(
        "started_at", N_("Started"), lambda r: format_time(r.started_at), "started_at",
        raw=lambda r: r.started_at, tooltip=lambda r: exact_time(r.started_at),
    ),
    Column(
        "finished_at", N_("Finished"), lambda r: format_time(r.finished_at), "finished_at",
        raw=lambda r: r.finished_at, tooltip=lambda r: exact_time(r.finished_at),
    ),
    Column(
        "run_time", N_("Run time"), _job_run_time,
        raw=lambda r: r.run_seconds(datetime.now(UTC)), alignment=RIGHT,
    ),
    Column("id", N_("Job ID"), lambda r: r.id, tooltip=lambda r: r.id),
)

COLUMNS_BY_TABLE: dict[str, tuple[Column, ...]] = {
    CONTENT.table: CONTENT_COLUMNS,
    SCRIPTS.table: SCRIPT_COLUMNS,
    PODCASTS.table: PODCAST_COLUMNS,
    JOBS.table: JOB_COLUMNS,
}


def columns_for(spec: TableSpec) -> tuple[Column, ...]:
    return COLUMNS_BY_TABLE[spec.table]
