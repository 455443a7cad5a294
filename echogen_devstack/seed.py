"""``--seed demo``: a demo user with a small, realistic library, written over HTTP.

The demo account is ``demo@echogen.local`` / ``echogen-demo`` (documented in the README).

Everything goes through the unmodified supabase-py async client, signed in as the demo user,
so the seed exercises the same RLS as the app. Only what a user may not write goes through
the service key: jobs past ``queued`` (only a worker may mark a job running, succeeded or
failed) and usage events (users may read their costs, never write them).

Every row id is derived from the user's id and a fixed key (uuid5, and a hash-derived suffix
for job ids), and every write is an upsert, so seeding is idempotent: a second run finds every
expected row already visible to the demo user and writes nothing; a run that died half-way is
completed by the next one without duplicates.

Object names follow ``{user_id}/{row_id}/{filename}``; the ``*_path`` columns hold that name
(within the bucket). Article metadata: ``language``, ``reading_time`` (whole minutes at 200
words per minute), ``author``, ``word_count``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import httpx
from supabase import AsyncClient, AsyncClientOptions, acreate_client
from supabase_auth.errors import AuthApiError

from echogen_devstack.media import AVA, BEN, Line, RenderedDialogue, cover_png, render_dialogue

DEMO_EMAIL = "demo@echogen.local"
DEMO_PASSWORD = "echogen-demo"
DEMO_NAME = "Demo Listener"

SCRIPT_MODEL = "gemini-2.5-flash"
TTS_MODEL = "gemini-2.5-flash-preview-tts"
SPEAKERS = {"Ava": AVA, "Ben": BEN}
_NAMESPACE = uuid.UUID("5f0c7a52-3d1e-4b8a-9c61-0e2d7f4a9b13")
Row = dict[str, Any]


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    user_id: str


@dataclass(frozen=True)
class StoredFile:
    bucket: str
    path: str
    data: bytes
    content_type: str


@dataclass
class DemoLibrary:
    """Everything the seed writes for one user, grouped by who may write it."""

    scraped_content: list[Row] = field(default_factory=list)
    podcast_scripts: list[Row] = field(default_factory=list)
    generated_podcasts: list[Row] = field(default_factory=list)
    user_jobs: list[Row] = field(default_factory=list)  # queued by the user
    cancelled_job_ids: list[str] = field(default_factory=list)  # then cancelled by the user
    worker_jobs: list[Row] = field(default_factory=list)  # moved on by the worker (service role)
    usage_events: list[Row] = field(default_factory=list)
    files: list[StoredFile] = field(default_factory=list)
    audio: dict[str, RenderedDialogue] = field(default_factory=dict)  # podcast id -> rendering

    def ids(self) -> dict[str, list[str]]:
        """The row ids per table, as the demo user should see them once seeded."""
        jobs = self.user_jobs + self.worker_jobs
        return {
            "scraped_content": [r["id"] for r in self.scraped_content],
            "podcast_scripts": [r["id"] for r in self.podcast_scripts],
            "generated_podcasts": [r["id"] for r in self.generated_podcasts],
            "processing_jobs": [r["id"] for r in jobs],
            "usage_events": [r["id"] for r in self.usage_events],
        }


# --------------------------------------------------------------------------- the library
def _content(name: str) -> str:
    return (resources.files("echogen_devstack") / "demo_content" / name).read_text(encoding="utf-8")


def _row_id(user_id: str, kind: str, key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{user_id}:{kind}:{key}"))


def _job_id(user_id: str, job_type: str, key: str) -> str:
    """``{job_type}_{12 [a-z0-9]}``, the upstream shape, derived rather than random (idempotence)."""
    digest = int.from_bytes(hashlib.sha256(f"{user_id}:{job_type}:{key}".encode()).digest()[:10], "big")
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    suffix = ""
    for _ in range(12):
        digest, digit = divmod(digest, 36)
        suffix += alphabet[digit]
    return f"{job_type}_{suffix}"


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _article_metadata(markdown: str, author: str) -> Row:
    words = len(re.findall(r"\S+", markdown))
    return {
        "language": "en",
        "reading_time": max(1, math.ceil(words / 200)),
        "author": author,
        "word_count": words,
    }


def build_library(user_id: str, now: datetime | None = None) -> DemoLibrary:
    """The demo rows and files for ``user_id``; pure, apart from reading the package data."""
    now = now or datetime.now(UTC)
    spec = json.loads(_content("library.json"))
    lib = DemoLibrary()
    content_ids: dict[str, str] = {}
    created: dict[str, datetime] = {}

    for article in spec["articles"]:
        row_id = _row_id(user_id, "content", article["key"])
        content_ids[article["key"]] = row_id
        created[article["key"]] = now - timedelta(days=article["days_ago"])
        markdown = _content(article["file"])
        lib.scraped_content.append({
            "id": row_id, "user_id": user_id, "url": article["url"], "title": article["title"],
            "markdown": markdown, "provider": article["provider"],
            "metadata": _article_metadata(markdown, article["author"]),
            "created_at": _iso(created[article["key"]]),
        })

    transcript = spec["transcript"]
    row_id = _row_id(user_id, "content", transcript["key"])
    content_ids[transcript["key"]] = row_id
    created[transcript["key"]] = now - timedelta(days=transcript["days_ago"])
    text = _content(transcript["file"])
    object_name = f"{user_id}/{row_id}/{transcript['filename']}"
    lib.files.append(StoredFile("transcripts", object_name, text.encode(), "text/plain"))
    lib.scraped_content.append({
        "id": row_id, "user_id": user_id, "url": f"storage://transcripts/{object_name}",
        "title": transcript["title"], "markdown": text, "provider": "upload",
        "metadata": _article_metadata(text, transcript["author"]) | {"filename": transcript["filename"]},
        "created_at": _iso(created[transcript["key"]]),
    })

    titles = {a["key"]: a["title"] for a in spec["articles"]} | {transcript["key"]: transcript["title"]}
    urls = {a["key"]: a["url"] for a in spec["articles"]}
    script_ids: dict[str, str] = {}
    renders: dict[str, RenderedDialogue] = {}
    for seed, script in enumerate(spec["scripts"]):
        article = script["article"]
        script_id = _row_id(user_id, "script", script["key"])
        script_ids[script["key"]] = script_id
        lines = [Line(speaker, text) for speaker, text in script["lines"]]
        if script["timed"]:
            rendered = render_dialogue(lines, SPEAKERS, seed=seed)
            renders[script["key"]] = rendered
            segments = [
                {"speaker": t.speaker, "content": t.text, "start_time": t.start_time, "end_time": t.end_time}
                for t in rendered.lines
            ]
        else:  # upstream never computes timings: the app must cope with nulls
            segments = [
                {"speaker": ln.speaker, "content": ln.text, "start_time": None, "end_time": None}
                for ln in lines
            ]
        lib.podcast_scripts.append({
            "id": script_id, "user_id": user_id, "source_content_id": content_ids[article],
            "prompt": _prompt(titles[article]), "model": SCRIPT_MODEL, "language": "en",
            "segments": segments,
            "metadata": {"speakers": sorted(SPEAKERS), "title": titles[article], "timed": script["timed"]},
            "created_at": _iso(created[article] + timedelta(hours=1)),
        })

    for podcast in spec["podcasts"]:
        key = podcast["script"]
        article = next(s["article"] for s in spec["scripts"] if s["key"] == key)
        podcast_id = _row_id(user_id, "podcast", key)
        rendered = renders[key]
        lib.audio[podcast_id] = rendered
        audio_path = f"{user_id}/{podcast_id}/episode.wav"
        cover_path = f"{user_id}/{podcast_id}/cover.png"
        lib.files.append(StoredFile("podcast-audio", audio_path, rendered.wav, "audio/wav"))
        lib.files.append(StoredFile("cover-art", cover_path, cover_png(podcast["cover_seed"]), "image/png"))
        lib.generated_podcasts.append({
            "id": podcast_id, "user_id": user_id, "script_id": script_ids[key],
            "audio_path": audio_path, "cover_art_path": cover_path,
            "duration_seconds": round(rendered.duration),
            "metadata": {
                "title": titles[article], "speakers": sorted(SPEAKERS), "language": "en-US",
                "audioFormat": "wav", "category": podcast["category"], "sourceUrl": urls[article],
                **_playback(podcast, created[article] + timedelta(hours=2)),
            },
            "created_at": _iso(created[article] + timedelta(hours=1, minutes=10)),
        })

    _add_jobs(lib, user_id, content_ids, script_ids, titles, created, now)
    return lib


def _playback(podcast: dict[str, Any], at: datetime) -> dict[str, Any]:
    """An episode the demo user stopped listening to part-way (docs/data-conventions.md, ``playback``)."""
    position = podcast.get("listened_to")
    if not isinstance(position, int | float):
        return {}
    return {"playback": {"position": float(position), "played": False, "updated_at": _iso(at)}}


def _prompt(title: str) -> str:
    return (
        f"Turn the article \"{title}\" into a friendly two-host podcast script for Ava and Ben. "
        "Short turns, plain language, no code read aloud."
    )


def _add_jobs(
    lib: DemoLibrary,
    user_id: str,
    content_ids: dict[str, str],
    script_ids: dict[str, str],
    titles: dict[str, str],
    created: dict[str, datetime],
    now: datetime,
) -> None:
    """Jobs in every status, with timestamps that agree with it, plus the costs they incurred."""
    podcasts = {r["script_id"]: r for r in lib.generated_podcasts}

    def worker(job_type: str, key: str, content: str, status: str, queued: datetime,
               result: Row | None = None, error: str | None = None) -> None:
        model = SCRIPT_MODEL if job_type == "script_generation" else TTS_MODEL
        started = queued + timedelta(seconds=2)
        finished = started + timedelta(seconds=38) if status in ("succeeded", "failed") else None
        lib.worker_jobs.append({
            "id": _job_id(user_id, job_type, key), "user_id": user_id, "job_type": job_type,
            "status": status,
            "payload": {"content_id": content_ids[content], "model": model,
                        "prompt": _prompt(titles[content])},
            "result": result, "error": error, "created_at": _iso(queued),
            "started_at": _iso(started), "finished_at": _iso(finished) if finished else None,
        })

    for key in ("rls", "history"):
        queued = created[key] + timedelta(minutes=59)
        worker("script_generation", key, key, "succeeded", queued,
               result={"script_id": script_ids[key]})
        podcast = podcasts[script_ids[key]]
        worker("audio_render", key, key, "succeeded", queued + timedelta(minutes=10),
               result={"podcast_id": podcast["id"], "audio_path": podcast["audio_path"],
                       "duration_seconds": podcast["duration_seconds"]})
    worker("script_generation", "ear", "ear", "succeeded", created["ear"] + timedelta(minutes=59),
           result={"script_id": script_ids["ear"]})
    worker("audio_render", "ear", "ear", "running", now - timedelta(minutes=3))
    worker("script_generation", "interview-1", "interview", "failed", now - timedelta(hours=20),
           error="Gemini API error 429 RESOURCE_EXHAUSTED: quota exceeded for gemini-2.5-flash; retry later")

    def queued_job(job_type: str, key: str, content: str, at: datetime) -> str:
        model = SCRIPT_MODEL if job_type == "script_generation" else TTS_MODEL
        job_id = _job_id(user_id, job_type, key)
        lib.user_jobs.append({
            "id": job_id, "user_id": user_id, "job_type": job_type, "status": "queued",
            "payload": {"content_id": content_ids[content], "model": model,
                        "prompt": _prompt(titles[content])},
            "created_at": _iso(at),
        })
        return job_id

    queued_job("script_generation", "interview-2", "interview", now - timedelta(minutes=1))
    lib.cancelled_job_ids.append(
        queued_job("audio_render", "history-rerender", "history", now - timedelta(hours=30))
    )

    events = [
        ("gemini", "script_generation", "rls", 0.0031, {"input_tokens": 1480, "output_tokens": 612}),
        ("gemini", "tts_render", "rls", 0.0412, {"characters": 694}),
        ("gemini", "script_generation", "history", 0.0027, {"input_tokens": 1105, "output_tokens": 548}),
        ("gemini", "tts_render", "history", 0.0368, {"characters": 641}),
        ("firecrawl", "scrape", "ear", 0.0010, {"pages": 1}),
    ]
    for provider, event_type, key, cost, payload in events:
        lib.usage_events.append({
            "id": _row_id(user_id, "usage", f"{event_type}:{key}"), "user_id": user_id,
            "provider": provider, "event_type": event_type,
            "payload": payload | {"content_id": content_ids[key]}, "cost_usd": cost,
            "created_at": _iso(created[key] + timedelta(hours=1, minutes=5)),
        })


# ------------------------------------------------------------------------------- over HTTP
async def _client(url: str, key: str, http: httpx.AsyncClient) -> AsyncClient:
    options = AsyncClientOptions(auto_refresh_token=False, persist_session=False, httpx_client=http)
    return await acreate_client(url, key, options=options)


async def _sign_in(client: AsyncClient) -> str:
    """Sign the demo user in, signing it up first on a fresh stack; return its id."""
    credentials = {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
    try:
        response = await client.auth.sign_in_with_password(credentials)  # type: ignore[arg-type]
    except AuthApiError as exc:
        if exc.code != "invalid_credentials":
            raise
        try:
            response = await client.auth.sign_up({
                "email": DEMO_EMAIL, "password": DEMO_PASSWORD,
                "options": {"data": {"full_name": DEMO_NAME}},
            })
        except AuthApiError as signup_exc:
            if signup_exc.code == "user_already_exists":
                raise RuntimeError(f"{DEMO_EMAIL} exists but its password is not the demo one") from None
            raise
        if response.session is None:
            raise RuntimeError(
                "demo sign-up returned no session: start the stack with auto-confirm on"
            ) from None
    if response.user is None:
        raise RuntimeError("demo sign-in returned no user")
    return response.user.id


async def visible_ids(client: AsyncClient, table: str, ids: list[str]) -> set[str]:
    result = await client.table(table).select("id").in_("id", ids).execute()
    return {str(row["id"]) for row in result.data if isinstance(row, dict)}


async def _is_seeded(client: AsyncClient, lib: DemoLibrary) -> bool:
    for table, ids in lib.ids().items():
        if await visible_ids(client, table, ids) != set(ids):
            return False
    return True


async def seed_demo(url: str, anon_key: str, service_key: str) -> DemoAccount:
    """Create (or find) the demo user and its library on the stack at ``url``; idempotent."""
    async with httpx.AsyncClient(timeout=30.0) as http:
        user = await _client(url, anon_key, http)
        user_id = await _sign_in(user)
        account = DemoAccount(DEMO_EMAIL, DEMO_PASSWORD, user_id)
        lib = build_library(user_id)
        if await _is_seeded(user, lib):
            return account

        # As the demo user, under RLS: the library and its files.
        for stored in lib.files:
            await user.storage.from_(stored.bucket).upload(
                stored.path, stored.data, {"content-type": stored.content_type, "upsert": "true"}
            )
        await user.table("scraped_content").upsert(lib.scraped_content, on_conflict="id").execute()
        await user.table("podcast_scripts").upsert(lib.podcast_scripts, on_conflict="id").execute()
        await user.table("generated_podcasts").upsert(lib.generated_podcasts, on_conflict="id").execute()
        # A user may only queue a job (a re-run must not touch it: ignore duplicates), then cancel it.
        await user.table("processing_jobs").upsert(
            lib.user_jobs, on_conflict="id", ignore_duplicates=True
        ).execute()
        for job_id in lib.cancelled_job_ids:
            await user.table("processing_jobs").update({"status": "cancelled"}).eq("id", job_id).execute()

        # As the worker: what only the service role may write.
        service = await _client(url, service_key, http)
        await service.table("processing_jobs").upsert(lib.worker_jobs, on_conflict="id").execute()
        await service.table("usage_events").upsert(lib.usage_events, on_conflict="id").execute()
        return account
