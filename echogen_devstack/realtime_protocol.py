"""Phoenix channel frames as Supabase Realtime speaks them (JSON serializer, vsn 1.0.0).

Every frame is an object ``{event, topic, payload, ref, join_ref}``. This module only parses
and builds frames; it knows nothing about sockets or the database.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

PHOENIX_TOPIC = "phoenix"
TOPIC_PREFIX = "realtime:"
EVENTS = ("*", "INSERT", "UPDATE", "DELETE")

Message = dict[str, Any]


class ProtocolError(ValueError):
    """A frame or join payload the server cannot act on; the text goes back to the client."""


@dataclass(frozen=True)
class Frame:
    event: str
    topic: str
    payload: dict[str, Any]
    ref: str | None
    join_ref: str | None


@dataclass(frozen=True)
class BindingSpec:
    """One entry of ``config.postgres_changes`` exactly as the client sent it."""

    event: str
    schema: str
    table: str | None
    filter: str | None
    select: tuple[str, ...] | None

    @property
    def id(self) -> int:
        # Like Realtime's phash2: the same binding gets the same id; never 0, which realtime-py
        # treats as "no id".
        key = json.dumps([self.event, self.schema, self.table, self.filter, self.select])
        return zlib.crc32(key.encode()) or 1

    def reply(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "event": self.event, "schema": self.schema}
        if self.table is not None:
            out["table"] = self.table
        if self.filter is not None:
            out["filter"] = self.filter
        if self.select is not None:
            out["select"] = list(self.select)
        return out


def _opt_ref(value: object, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    raise ProtocolError(f"{name} must be a string or null")


def parse_frame(text: str) -> Frame:
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ProtocolError("frame is not valid JSON") from exc
    if not isinstance(raw, dict):
        raise ProtocolError("frame must be a JSON object")
    event, topic, payload = raw.get("event"), raw.get("topic"), raw.get("payload", {})
    if not isinstance(event, str) or not isinstance(topic, str):
        raise ProtocolError("frame needs string event and topic")
    if not isinstance(payload, dict):
        raise ProtocolError("payload must be an object")
    return Frame(event, topic, payload, _opt_ref(raw.get("ref"), "ref"),
                 _opt_ref(raw.get("join_ref"), "join_ref"))


def best_effort_ids(text: str) -> tuple[str, str | None]:
    """Topic and ref of a frame we could not parse, so the error reply can still be routed."""
    try:
        raw = json.loads(text)
    except ValueError:
        return PHOENIX_TOPIC, None
    if not isinstance(raw, dict):
        return PHOENIX_TOPIC, None
    topic = raw.get("topic") if isinstance(raw.get("topic"), str) else PHOENIX_TOPIC
    ref = raw.get("ref") if isinstance(raw.get("ref"), str) else None
    return str(topic), ref


def _opt_str(entry: dict[str, Any], key: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProtocolError(f"postgres_changes {key} must be a string")
    return value


def parse_bindings(payload: dict[str, Any]) -> tuple[BindingSpec, ...]:
    config = payload.get("config", {})
    if not isinstance(config, dict):
        raise ProtocolError("config must be an object")
    entries = config.get("postgres_changes") or []
    if not isinstance(entries, list):
        raise ProtocolError("config.postgres_changes must be a list")
    specs: list[BindingSpec] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise ProtocolError("each postgres_changes entry must be an object")
        event = entry.get("event")
        if event not in EVENTS:
            raise ProtocolError(f"postgres_changes event must be one of {', '.join(EVENTS)}")
        select = entry.get("select")
        if select is not None and not (
            isinstance(select, list) and all(isinstance(s, str) for s in select)
        ):
            raise ProtocolError("postgres_changes select must be a list of column names")
        specs.append(BindingSpec(
            event=str(event), schema=_opt_str(entry, "schema") or "public",
            table=_opt_str(entry, "table"), filter=_opt_str(entry, "filter"),
            select=tuple(select) if select is not None else None,
        ))
    return tuple(specs)


def message(
    event: str, topic: str, payload: dict[str, Any], ref: str | None = None, join_ref: str | None = None
) -> Message:
    return {"event": event, "topic": topic, "payload": payload, "ref": ref, "join_ref": join_ref}


def reply(
    topic: str, ref: str | None, ok: bool, response: dict[str, Any], join_ref: str | None = None
) -> Message:
    status = "ok" if ok else "error"
    return message("phx_reply", topic, {"status": status, "response": response}, ref, join_ref)


def system(topic: str, ok: bool, text: str, extension: str = "postgres_changes") -> Message:
    payload = {
        "channel": topic.removeprefix(TOPIC_PREFIX), "extension": extension,
        "message": text, "status": "ok" if ok else "error",
    }
    return message("system", topic, payload)


def close(topic: str, join_ref: str | None) -> Message:
    return message("phx_close", topic, {}, join_ref, join_ref)
