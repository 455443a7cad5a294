"""Plain typed records, one per table: what the service layer hands to models.

Parsing is lenient where upstream is (camelCase segment keys, missing metadata) and strict
where a wrong value would mislead the user (unknown job status).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JsonDict = dict[str, Any]


class RecordError(ValueError):
    """A row from the server does not have the shape the app relies on."""


def parse_time(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(f"expected an ISO timestamp, got {value!r}")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise RecordError(f"bad timestamp {value!r}") from exc


PLAYBACK_KEY = "playback"  # generated_podcasts.metadata key (docs/data-conventions.md)


@dataclass(frozen=True)
class Playback:
    """Where the listener is in one episode, and when that was set (for last-writer-wins)."""

    position: float  # seconds
    played: bool
    updated_at: str  # ISO 8601, UTC

    def to_json(self) -> JsonDict:
        return {"position": self.position, "played": self.played, "updated_at": self.updated_at}

    @classmethod
    def from_json(cls, value: object) -> Playback | None:
        if not isinstance(value, Mapping):
            return None
        try:
            position = float(value.get("position") or 0)
            parse_time(value.get("updated_at"))
        except (TypeError, ValueError):
            return None
        return cls(max(0.0, position), bool(value.get("played")), str(value.get("updated_at") or ""))

    def newer_than(self, other: Playback | None) -> bool:
        """Last writer wins; a tie keeps the other (the server's) value, so a retry changes nothing."""
        if other is None:
            return True
        mine, theirs = parse_time(self.updated_at), parse_time(other.updated_at)
        if mine is None:
            return False
        return theirs is None or mine > theirs


def _req_time(row: Mapping[str, Any], key: str) -> datetime:
    parsed = parse_time(row.get(key))
    if parsed is None:
        raise RecordError(f"missing {key}")
    return parsed


def _dict(value: object) -> JsonDict:
    return dict(value) if isinstance(value, Mapping) else {}


def _opt_float(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _str(row: Mapping[str, Any], key: str, default: str = "") -> str:
    value = row.get(key)
    return default if value is None else str(value)


@dataclass(frozen=True, slots=True)
class ContentItem:
    id: str
    title: str
    url: str
    provider: str
    created_at: datetime
    updated_at: datetime | None = None
    metadata: JsonDict = field(default_factory=dict)
    markdown: str | None = None  # None when the list query did not fetch the body

    @property
    def language(self) -> str:
        return str(self.metadata.get("language") or "")

    @property
    def reading_time(self) -> float | None:
        return _opt_float(self.metadata.get("reading_time"))

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ContentItem:
        return cls(
            id=_str(row, "id"), title=_str(row, "title"), url=_str(row, "url"),
            provider=_str(row, "provider"), created_at=_req_time(row, "created_at"),
            updated_at=parse_time(row.get("updated_at")), metadata=_dict(row.get("metadata")),
            markdown=row.get("markdown") if isinstance(row.get("markdown"), str) else None,
        )


@dataclass(frozen=True, slots=True)
class Segment:
    speaker: str
    content: str
    start_time: float | None = None
    end_time: float | None = None

    @classmethod
    def from_json(cls, item: object) -> Segment:
        if not isinstance(item, Mapping):
            raise RecordError(f"a segment must be an object, got {type(item).__name__}")
        start = item.get("start_time", item.get("startTime"))
        end = item.get("end_time", item.get("endTime"))
        return cls(
            speaker=str(item.get("speaker") or ""), content=str(item.get("content") or ""),
            start_time=_opt_float(start), end_time=_opt_float(end),
        )

    def to_json(self) -> JsonDict:
        return {"speaker": self.speaker, "content": self.content,
                "start_time": self.start_time, "end_time": self.end_time}


@dataclass(frozen=True, slots=True)
class Script:
    id: str
    model: str
    language: str
    created_at: datetime
    source_content_id: str | None = None
    prompt: str = ""
    segments: tuple[Segment, ...] = ()
    segment_count: int | None = None
    metadata: JsonDict = field(default_factory=dict)
    updated_at: datetime | None = None

    @property
    def title(self) -> str:
        return str(self.metadata.get("title") or self.prompt[:80] or self.id)

    @property
    def duration(self) -> float | None:
        ends = [s.end_time for s in self.segments if s.end_time is not None]
        return max(ends) if ends else None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Script:
        raw = row.get("segments")
        segments = tuple(Segment.from_json(s) for s in raw) if isinstance(raw, list) else ()
        return cls(
            id=_str(row, "id"), model=_str(row, "model"), language=_str(row, "language", "en"),
            created_at=_req_time(row, "created_at"), source_content_id=row.get("source_content_id"),
            prompt=_str(row, "prompt"), segments=segments,
            segment_count=len(raw) if isinstance(raw, list) else None,
            metadata=_dict(row.get("metadata")), updated_at=parse_time(row.get("updated_at")),
        )


@dataclass(frozen=True, slots=True)
class Podcast:
    id: str
    script_id: str
    audio_path: str
    created_at: datetime
    cover_art_path: str | None = None
    duration_seconds: int | None = None
    metadata: JsonDict = field(default_factory=dict)
    updated_at: datetime | None = None

    @property
    def title(self) -> str:
        return str(self.metadata.get("title") or self.audio_path.rsplit("/", 1)[-1])

    @property
    def playback(self) -> Playback | None:
        """Where the listener stopped, on whichever device did so last."""
        return Playback.from_json(self.metadata.get(PLAYBACK_KEY))

    @property
    def speakers(self) -> list[str]:
        value = self.metadata.get("speakers")
        if isinstance(value, list):
            return [str(s.get("name") or "") if isinstance(s, Mapping) else str(s) for s in value]
        # Upstream's local records name them speaker1 / speaker2.
        return [str(self.metadata[k]) for k in ("speaker1", "speaker2") if self.metadata.get(k)]

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Podcast:
        duration = row.get("duration_seconds")
        return cls(
            id=_str(row, "id"), script_id=_str(row, "script_id"), audio_path=_str(row, "audio_path"),
            created_at=_req_time(row, "created_at"), cover_art_path=row.get("cover_art_path"),
            duration_seconds=int(duration) if isinstance(duration, int | float) else None,
            metadata=_dict(row.get("metadata")), updated_at=parse_time(row.get("updated_at")),
        )


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    job_type: str
    status: JobStatus
    created_at: datetime
    payload: JsonDict = field(default_factory=dict)
    result: JsonDict | None = None
    error: str | None = None
    updated_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def run_seconds(self, now: datetime) -> float | None:
        """How long it ran, or has run so far."""
        if self.started_at is None:
            return None
        end = self.finished_at or now
        return max(0.0, (end - self.started_at).total_seconds())

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Job:
        try:
            status = JobStatus(_str(row, "status"))
        except ValueError as exc:
            raise RecordError(f"unknown job status {row.get('status')!r}") from exc
        result = row.get("result")
        return cls(
            id=_str(row, "id"), job_type=_str(row, "job_type"), status=status,
            created_at=_req_time(row, "created_at"), payload=_dict(row.get("payload")),
            result=dict(result) if isinstance(result, Mapping) else None,
            error=row.get("error"), updated_at=parse_time(row.get("updated_at")),
            started_at=parse_time(row.get("started_at")), finished_at=parse_time(row.get("finished_at")),
        )


@dataclass(frozen=True, slots=True)
class Profile:
    id: str
    full_name: str
    avatar_url: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Profile:
        return cls(id=_str(row, "id"), full_name=_str(row, "full_name"), avatar_url=row.get("avatar_url"))


@dataclass(frozen=True, slots=True)
class UsageEvent:
    id: str
    provider: str
    event_type: str
    cost_usd: float
    created_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> UsageEvent:
        return cls(
            id=_str(row, "id"), provider=_str(row, "provider"), event_type=_str(row, "event_type"),
            cost_usd=_opt_float(row.get("cost_usd")) or 0.0, created_at=_req_time(row, "created_at"),
        )


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list query: the records and, when asked for, the total count."""

    records: tuple[Any, ...]
    offset: int
    total: int | None
