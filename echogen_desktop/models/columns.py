"""What each list shows per column: title, cell text, tooltip, alignment and the server sort column.

Titles and fixed words are marked with ``QT_TRANSLATE_NOOP("Columns", ...)`` (so lupdate extracts them)
and translated when shown, so a language switch needs no rebuild of these tables.
Sorting is the server's job: a column whose ``server_column`` is None (values inside ``metadata``,
computed values) ignores header clicks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from echogen_desktop.colors import status_color
from echogen_desktop.i18n import QT_TRANSLATE_NOOP, translate
from echogen_desktop.services.records import ContentItem, Job, JobStatus, Podcast, Script
from echogen_desktop.services.tables import CONTENT, JOBS, PODCASTS, SCRIPTS, TableSpec

LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
DASH = "—"


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
        return translate("Columns", self.title)  # marked where the column is defined

    def header_tooltip(self) -> str:
        if self.sortable:
            return translate("Columns", "Click to sort")
        return translate("Columns", "This column cannot be sorted")

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
        return translate("Columns", "%1 s").replace("%1", f"{seconds:.1f}")
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        text = translate("Columns", "%1 min %2 s")
        return text.replace("%1", str(minutes)).replace("%2", str(secs))
    hours, minutes = divmod(minutes, 60)
    text = translate("Columns", "%1 h %2 min")
    return text.replace("%1", str(hours)).replace("%2", str(minutes))


def _minutes(value: float | None) -> str:
    return "" if value is None else translate("Columns", "%1 min").replace("%1", f"{value:g}")


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
        "created_at", QT_TRANSLATE_NOOP("Columns", "Created"), lambda r: format_time(r.created_at), "created_at",
        raw=lambda r: r.created_at, tooltip=lambda r: exact_time(r.created_at),
    )
    if not with_updated:
        return (created,)
    updated = Column(
        "updated_at", QT_TRANSLATE_NOOP("Columns", "Updated"), lambda r: format_time(r.updated_at), "updated_at",
        raw=lambda r: r.updated_at, tooltip=lambda r: exact_time(r.updated_at),
    )
    return created, updated


# ------------------------------------------------------------------ sections
def _content_title(item: ContentItem) -> str:
    return item.title or item.url


CONTENT_COLUMNS: tuple[Column, ...] = (
    Column("title", QT_TRANSLATE_NOOP("Columns", "Title"), _content_title, "title", tooltip=lambda r: r.url),
    Column("url", QT_TRANSLATE_NOOP("Columns", "Source"), lambda r: r.url, "url", tooltip=lambda r: r.url),
    Column("provider", QT_TRANSLATE_NOOP("Columns", "Provider"), lambda r: r.provider, "provider"),
    Column("language", QT_TRANSLATE_NOOP("Columns", "Language"), lambda r: r.language),
    Column(
        "reading_time", QT_TRANSLATE_NOOP("Columns", "Reading time"), lambda r: _minutes(r.reading_time),
        raw=lambda r: r.reading_time, alignment=RIGHT,
    ),
    *_time_columns(),
)


def _script_title(script: Script) -> str:
    untitled = translate("Columns", "Untitled script")
    return str(script.metadata.get("title") or script.prompt[:80] or untitled)


SCRIPT_COLUMNS: tuple[Column, ...] = (
    Column("title", QT_TRANSLATE_NOOP("Columns", "Title"), _script_title, tooltip=lambda r: r.id),
    Column("model", QT_TRANSLATE_NOOP("Columns", "Model"), lambda r: r.model, "model"),
    Column("language", QT_TRANSLATE_NOOP("Columns", "Language"), lambda r: r.language, "language"),
    Column(
        "source", QT_TRANSLATE_NOOP("Columns", "From article"),
        lambda r: translate("Columns", "Yes") if r.source_content_id else DASH,
        tooltip=lambda r: r.source_content_id or translate("Columns", "The source article was deleted"),
    ),
    *_time_columns(),
)


def _podcast_title(podcast: Podcast) -> str:
    return podcast.title


def _listened(podcast: Podcast) -> str:
    """From ``metadata.playback``: played, or the time left where the listener stopped on any device."""
    playback = podcast.playback
    if playback is None:
        return ""
    if playback.played:
        return translate("Columns", "Played")
    if playback.position <= 0:
        return ""
    if podcast.duration_seconds is None:
        return translate("Columns", "Started")
    left = max(0.0, podcast.duration_seconds - playback.position)
    return translate("Columns", "%1 left").replace("%1", format_clock(left))


PODCAST_COLUMNS: tuple[Column, ...] = (
    Column("title", QT_TRANSLATE_NOOP("Columns", "Title"), _podcast_title, tooltip=lambda r: r.audio_path),
    Column(
        "duration", QT_TRANSLATE_NOOP("Columns", "Duration"), lambda r: format_clock(r.duration_seconds),
        "duration_seconds", raw=lambda r: r.duration_seconds, alignment=RIGHT,
    ),
    Column("listened", QT_TRANSLATE_NOOP("Columns", "Listened"), _listened, alignment=RIGHT),
    Column("language", QT_TRANSLATE_NOOP("Columns", "Language"), _metadata_text("language")),
    Column("speakers", QT_TRANSLATE_NOOP("Columns", "Speakers"), lambda r: ", ".join(_speaker_names(r.metadata))),
    *_time_columns(),
)

_STATUS_TEXT: dict[JobStatus, str] = {
    JobStatus.QUEUED: QT_TRANSLATE_NOOP("Columns", "Queued"),
    JobStatus.RUNNING: QT_TRANSLATE_NOOP("Columns", "Running"),
    JobStatus.SUCCEEDED: QT_TRANSLATE_NOOP("Columns", "Succeeded"),
    JobStatus.FAILED: QT_TRANSLATE_NOOP("Columns", "Failed"),
    JobStatus.CANCELLED: QT_TRANSLATE_NOOP("Columns", "Cancelled"),
}

_JOB_TYPE_TEXT: dict[str, str] = {
    "script_generation": QT_TRANSLATE_NOOP("Columns", "Script generation"),
    "audio_render": QT_TRANSLATE_NOOP("Columns", "Audio render"),
    "cover_art": QT_TRANSLATE_NOOP("Columns", "Cover art"),
}


def status_text(status: JobStatus) -> str:
    return translate("Columns", _STATUS_TEXT[status])


def job_type_text(job_type: str) -> str:
    known = _JOB_TYPE_TEXT.get(job_type)
    return translate("Columns", known) if known else job_type


def _job_status_tip(job: Job) -> str | None:
    return job.error if job.status is JobStatus.FAILED and job.error else None


def _job_run_time(job: Job) -> str:
    return format_span(job.run_seconds(datetime.now(UTC)))


JOB_COLUMNS: tuple[Column, ...] = (
    Column(
        "status", QT_TRANSLATE_NOOP("Columns", "Status"), lambda r: status_text(r.status), "status",
        raw=lambda r: r.status.value, tooltip=_job_status_tip, status=lambda r: r.status.value,
    ),
    Column("job_type", QT_TRANSLATE_NOOP("Columns", "Type"), lambda r: job_type_text(r.job_type), "job_type"),
    *_time_columns(with_updated=False),
    Column(
        "started_at", QT_TRANSLATE_NOOP("Columns", "Started"), lambda r: format_time(r.started_at), "started_at",
        raw=lambda r: r.started_at, tooltip=lambda r: exact_time(r.started_at),
    ),
    Column(
        "finished_at", QT_TRANSLATE_NOOP("Columns", "Finished"), lambda r: format_time(r.finished_at), "finished_at",
        raw=lambda r: r.finished_at, tooltip=lambda r: exact_time(r.finished_at),
    ),
    Column(
        "run_time", QT_TRANSLATE_NOOP("Columns", "Run time"), _job_run_time,
        raw=lambda r: r.run_seconds(datetime.now(UTC)), alignment=RIGHT,
    ),
    Column("id", QT_TRANSLATE_NOOP("Columns", "Job ID"), lambda r: r.id, tooltip=lambda r: r.id),
)

COLUMNS_BY_TABLE: dict[str, tuple[Column, ...]] = {
    CONTENT.table: CONTENT_COLUMNS,
    SCRIPTS.table: SCRIPT_COLUMNS,
    PODCASTS.table: PODCAST_COLUMNS,
    JOBS.table: JOB_COLUMNS,
}


def columns_for(spec: TableSpec) -> tuple[Column, ...]:
    return COLUMNS_BY_TABLE[spec.table]
