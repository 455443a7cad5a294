"""The demo seed: synthesized media, the library it describes, and seeding a live stack.

The unit tests decode what media.py produced with independent readers (``wave``, a
hand-checked PNG walk, Qt's decoder) and measure the audio itself: loudness inside each
script segment, silence between them, and each speaker's pitch by autocorrelation.
"""

from __future__ import annotations

import io
import itertools
import math
import re
import statistics
import struct
import time
import uuid
import wave
import zlib
from array import array
from datetime import datetime
from typing import Any

import httpx
import pytest
from supabase import AsyncClient, AsyncClientOptions, acreate_client

from echogen_devstack import media
from echogen_devstack.media import SAMPLE_RATE
from echogen_devstack.seed import DEMO_EMAIL, DEMO_PASSWORD, DemoLibrary, build_library, seed_demo

USER_ID = "0b6f1c2e-9a4d-4e1b-8f3a-2c5d7e9f1a3b"
STATUSES = {"queued", "running", "succeeded", "failed", "cancelled"}


@pytest.fixture(scope="module")
def library() -> DemoLibrary:
    return build_library(USER_ID)


def _pcm(wav: bytes) -> tuple[wave._wave_params, array[int]]:
    with wave.open(io.BytesIO(wav), "rb") as w:
        params = w.getparams()
        samples = array("h", w.readframes(w.getnframes()))
    return params, samples


def _rms(samples: array[int] | list[int]) -> float:
    return math.sqrt(sum(s * s for s in samples) / max(len(samples), 1))


def _pitch(window: list[int]) -> float:
    """Fundamental by autocorrelation: the shortest lag whose peak is near the best one
    (the best alone is often a sub-harmonic of a periodic signal)."""
    n = len(window)
    corr = {
        lag: sum(a * b for a, b in zip(window, window[lag:], strict=False)) / (n - lag)
        for lag in range(SAMPLE_RATE // 400, SAMPLE_RATE // 60)
    }
    top = max(corr.values())
    peaks = [
        lag for lag, c in corr.items()
        if c >= 0.85 * top and c >= corr.get(lag - 1, c) and c >= corr.get(lag + 1, c)
    ]
    return SAMPLE_RATE / min(peaks)


def _segment_pitch(samples: array[int], start: float, end: float) -> float:
    seg = samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
    size = 768
    windows = [list(seg[i : i + size]) for i in range(0, len(seg) - size, size)]
    loudest = sorted(windows, key=_rms, reverse=True)[:3]
    return statistics.median(_pitch(w) for w in loudest)


# ------------------------------------------------------------------------------------ audio
def test_each_episode_is_a_30_to_60_second_mono_16bit_wav(library: DemoLibrary) -> None:
    assert len(library.generated_podcasts) == 2
    files = {f.path: f for f in library.files}
    for podcast in library.generated_podcasts:
        stored = files[podcast["audio_path"]]
        assert stored.bucket == "podcast-audio" and stored.content_type == "audio/wav"
        params, samples = _pcm(stored.data)
        assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 22_050)
        seconds = params.nframes / params.framerate
        assert 30 <= seconds <= 60
        assert podcast["duration_seconds"] == round(seconds)
        assert _rms(samples) > 1_000  # far from silent: speech at a normal level
        assert max(abs(s) for s in samples) < 32_767  # and never clipped


def test_segment_timings_match_the_sound(library: DemoLibrary) -> None:
    scripts = {s["id"]: s for s in library.podcast_scripts}
    files = {f.path: f for f in library.files}
    for podcast in library.generated_podcasts:
        segments = scripts[podcast["script_id"]]["segments"]
        _, samples = _pcm(files[podcast["audio_path"]].data)
        duration = len(samples) / SAMPLE_RATE
        assert 8 <= len(segments) <= 14
        previous_end = 0.0
        for seg in segments:
            assert previous_end < seg["start_time"] < seg["end_time"] <= duration
            previous_end = seg["end_time"]
            inside = samples[int(seg["start_time"] * SAMPLE_RATE) : int(seg["end_time"] * SAMPLE_RATE)]
            assert _rms(inside) > 1_000, seg
        for a, b in itertools.pairwise(segments):
            gap_start, gap_end = a["end_time"] + 0.01, b["start_time"] - 0.01
            gap = samples[int(gap_start * SAMPLE_RATE) : int(gap_end * SAMPLE_RATE)]
            assert len(gap) > 0.3 * SAMPLE_RATE and max(abs(s) for s in gap) == 0  # a turn pause


def test_two_speakers_alternate_with_distinct_pitch(library: DemoLibrary) -> None:
    scripts = {s["id"]: s for s in library.podcast_scripts}
    files = {f.path: f for f in library.files}
    podcast = library.generated_podcasts[0]
    segments = scripts[podcast["script_id"]]["segments"]
    _, samples = _pcm(files[podcast["audio_path"]].data)
    speakers = [s["speaker"] for s in segments]
    assert set(speakers) == {"Ava", "Ben"}
    assert all(a != b for a, b in itertools.pairwise(speakers))
    pitches: dict[str, list[float]] = {"Ava": [], "Ben": []}
    for seg in segments[:6]:
        pitches[seg["speaker"]].append(_segment_pitch(samples, seg["start_time"], seg["end_time"]))
    # Ava speaks around 205 Hz, Ben around 112 Hz; each segment lands in its own speaker's range.
    assert all(160 < p < 280 for p in pitches["Ava"]), pitches
    assert all(80 < p < 150 for p in pitches["Ben"]), pitches


def test_speech_has_syllable_rhythm_not_a_steady_tone() -> None:
    rendered = media.render_dialogue([media.Line("Ben", "Short sentences carry further than long ones.")],
                                     {"Ben": media.BEN})
    _, samples = _pcm(rendered.wav)
    line = rendered.lines[0]
    seg = samples[int(line.start_time * SAMPLE_RATE) : int(line.end_time * SAMPLE_RATE)]
    frame = int(0.01 * SAMPLE_RATE)
    loudness = [_rms(seg[i : i + frame]) for i in range(0, len(seg) - frame, frame)]
    loud = max(loudness)
    # Count syllable-like bursts: rises through half the peak loudness.
    bursts = sum(1 for a, b in itertools.pairwise(loudness) if a < loud / 2 <= b)
    assert 6 <= bursts <= 16, bursts  # the sentence has ten syllables


def test_media_generation_is_fast() -> None:
    media._period_table.cache_clear()
    media._envelope.cache_clear()
    began = time.perf_counter()
    build_library(str(uuid.uuid4()))
    assert time.perf_counter() - began < 2.0


# ------------------------------------------------------------------------------------ cover art
def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        chunks.append((kind, body))
        pos += 12 + length
    return chunks


def test_cover_art_is_a_valid_512px_png_distinct_per_episode(library: DemoLibrary) -> None:
    from PySide6.QtGui import QImage

    files = {f.path: f for f in library.files}
    covers = [files[p["cover_art_path"]] for p in library.generated_podcasts]
    assert len({c.data for c in covers}) == 2
    for cover in covers:
        assert cover.bucket == "cover-art" and cover.content_type == "image/png"
        chunks = _png_chunks(cover.data)
        assert chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
        width, height, depth, color, _, _, _ = struct.unpack(">IIBBBBB", chunks[0][1])
        assert (width, height, depth, color) == (512, 512, 8, 2)
        raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
        assert len(raw) == height * (1 + 3 * width)

        image = QImage.fromData(cover.data)  # format sniffed from the signature
        assert not image.isNull() and (image.width(), image.height()) == (512, 512)
        colours = {image.pixel(x, y) for x in range(0, 512, 16) for y in range(0, 512, 16)}
        assert len(colours) > 50  # a gradient with a motif, not a flat fill


# ------------------------------------------------------------------------------------ the library
def test_articles_are_real_markdown_with_metadata(library: DemoLibrary) -> None:
    articles = [r for r in library.scraped_content if r["provider"] != "upload"]
    assert 3 <= len(articles) <= 4
    for row in articles:
        md = row["markdown"]
        words = len(md.split())
        assert 400 <= words <= 900, (row["title"], words)
        assert re.search(r"^# ", md, re.M) and re.search(r"^## ", md, re.M)
        assert re.search(r"^(- |\d+\. )", md, re.M)  # a list
        assert re.search(r"\[[^\]]+\]\(https?://", md)  # a link
        assert "```" in md or re.search(r"^> ", md, re.M)  # a code block or a quote
        assert row["provider"] in {"firecrawl", "hyperbrowser"}
        assert row["url"].startswith("https://") and row["title"]
        meta = row["metadata"]
        assert meta["language"] == "en" and meta["author"]
        assert meta["word_count"] == words and meta["reading_time"] == -(-words // 200)


def test_uploaded_transcript_points_at_its_stored_file(library: DemoLibrary) -> None:
    [row] = [r for r in library.scraped_content if r["provider"] == "upload"]
    name = f"{USER_ID}/{row['id']}/interview.txt"
    assert row["url"] == f"storage://transcripts/{name}"
    [stored] = [f for f in library.files if f.bucket == "transcripts"]
    assert stored.path == name and stored.data.decode() == row["markdown"]


def test_scripts_reference_content_and_one_lacks_timings(library: DemoLibrary) -> None:
    content_ids = {r["id"] for r in library.scraped_content}
    untimed = 0
    for script in library.podcast_scripts:
        assert script["source_content_id"] in content_ids
        assert script["model"] == "gemini-2.5-flash" and script["language"] == "en"
        segments = script["segments"]
        assert 8 <= len(segments) <= 14
        assert all(set(s) == {"speaker", "content", "start_time", "end_time"} for s in segments)
        if all(s["start_time"] is None and s["end_time"] is None for s in segments):
            untimed += 1
    assert untimed == 1
    podcast_scripts = {p["script_id"] for p in library.generated_podcasts}
    assert len(podcast_scripts) == 2 and podcast_scripts <= {s["id"] for s in library.podcast_scripts}
    for podcast in library.generated_podcasts:
        assert podcast["audio_path"] == f"{USER_ID}/{podcast['id']}/episode.wav"
        assert podcast["cover_art_path"] == f"{USER_ID}/{podcast['id']}/cover.png"
        meta = podcast["metadata"]
        assert meta["language"] == "en-US" and meta["audioFormat"] == "wav"
        assert meta["speakers"] == ["Ava", "Ben"] and meta["title"] and meta["category"]
        assert meta["sourceUrl"].startswith("https://")
    # One episode was left part-way, so the Podcasts list shows "Listened" with the time left.
    listened = [p for p in library.generated_podcasts if "playback" in p["metadata"]]
    assert len(listened) == 1
    playback = listened[0]["metadata"]["playback"]
    assert playback["played"] is False and 0 < playback["position"] < listened[0]["duration_seconds"]
    assert _ts(playback["updated_at"]) > _ts(listened[0]["created_at"])  # type: ignore[operator]


def _ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def test_jobs_cover_every_status_consistently(library: DemoLibrary) -> None:
    jobs: list[dict[str, Any]] = library.user_jobs + library.worker_jobs
    # The user queues; the cancellation is theirs too, applied after the insert.
    assert {j["status"] for j in library.user_jobs} == {"queued"}
    statuses = {j["status"] for j in library.worker_jobs} | {"queued"}
    statuses |= {"cancelled"} if library.cancelled_job_ids else set()
    assert statuses == STATUSES
    assert set(library.cancelled_job_ids) <= {j["id"] for j in library.user_jobs}
    assert len({j["id"] for j in jobs}) == len(jobs)
    content_ids = {r["id"] for r in library.scraped_content}
    for job in jobs:
        assert re.fullmatch(rf"{job['job_type']}_[a-z0-9]{{12}}", job["id"])
        assert job["job_type"] in {"script_generation", "audio_render"}
        assert set(job["payload"]) == {"content_id", "model", "prompt"}
        assert job["payload"]["content_id"] in content_ids
    for job in library.worker_jobs:
        created, started, finished = (_ts(job[k]) for k in ("created_at", "started_at", "finished_at"))
        assert created and started and created <= started
        if job["status"] == "running":
            assert finished is None and job["result"] is None and job["error"] is None
        else:
            assert finished and started <= finished
        assert (job["result"] is not None) == (job["status"] == "succeeded")
        assert (job["error"] is not None) == (job["status"] == "failed")


def test_ids_are_stable_per_user_and_distinct_across_users(library: DemoLibrary) -> None:
    again = build_library(USER_ID).ids()
    other = build_library(str(uuid.uuid4())).ids()
    assert again == library.ids()
    for table, ids in library.ids().items():
        assert not set(ids) & set(other[table]), table


# ------------------------------------------------------------------------------ on a live stack
def _rows(data: Any) -> list[dict[str, Any]]:
    """postgrest-py types ``.data`` as generic JSON; these queries return lists of objects."""
    assert isinstance(data, list)
    return [dict(row) for row in data]


async def _demo_client(stack: Any, http: httpx.AsyncClient) -> AsyncClient:
    options = AsyncClientOptions(auto_refresh_token=False, persist_session=False, httpx_client=http)
    client = await acreate_client(stack.url, stack.anon_key, options=options)
    await client.auth.sign_in_with_password({"email": DEMO_EMAIL, "password": DEMO_PASSWORD})
    return client


async def _snapshot(client: AsyncClient, user_id: str) -> dict[str, Any]:
    """Every row the demo user sees (id, updated/created stamps) and every stored object."""
    tables = {
        "scraped_content": "id,updated_at", "podcast_scripts": "id,updated_at",
        "generated_podcasts": "id,updated_at", "processing_jobs": "id,status,updated_at",
        "usage_events": "id,created_at", "profiles": "id,full_name,updated_at",
    }
    snap: dict[str, Any] = {}
    for table, columns in tables.items():
        result = await client.table(table).select(columns).order("id").execute()
        snap[table] = _rows(result.data)
    for bucket in ("podcast-audio", "cover-art", "transcripts"):
        folders = await client.storage.from_(bucket).list(user_id)
        for folder in folders:
            files = await client.storage.from_(bucket).list(f"{user_id}/{folder['name']}")
            snap[f"{bucket}/{folder['name']}"] = sorted((f["name"], f["updated_at"]) for f in files)
    return snap


async def test_seed_demo_fills_the_stack_and_is_idempotent(stack: Any, http: httpx.AsyncClient) -> None:
    account = await seed_demo(stack.url, stack.anon_key, stack.service_key)
    assert (account.email, account.password) == (DEMO_EMAIL, DEMO_PASSWORD)
    client = await _demo_client(stack, http)
    expected = build_library(account.user_id)

    # Every table holds exactly the promised rows, visible to the demo user through RLS.
    for table, ids in expected.ids().items():
        result = await client.table(table).select("id").execute()
        assert sorted(str(r["id"]) for r in _rows(result.data)) == sorted(ids), table
    profile = await client.table("profiles").select("full_name").eq("id", account.user_id).single().execute()
    assert isinstance(profile.data, dict) and profile.data["full_name"] == "Demo Listener"

    jobs = _rows((await client.table("processing_jobs").select("*").execute()).data)
    assert {j["status"] for j in jobs} == STATUSES
    [cancelled] = [j for j in jobs if j["status"] == "cancelled"]
    assert cancelled["finished_at"] is not None and cancelled["started_at"] is None
    for job in jobs:
        assert (job["finished_at"] is not None) == (job["status"] in {"succeeded", "failed", "cancelled"})
        assert (job["started_at"] is not None) == (job["status"] in {"running", "succeeded", "failed"})

    costs = _rows((await client.table("usage_events").select("cost_usd").execute()).data)
    assert sum(float(c["cost_usd"]) for c in costs) == pytest.approx(
        sum(e["cost_usd"] for e in expected.usage_events))

    scripts = _rows((await client.table("podcast_scripts").select("id,segments").execute()).data)
    assert any(all(s["start_time"] is None for s in row["segments"]) for row in scripts)

    # The media downloads: audio through a signed URL with no auth at all, byte for byte.
    files = {(f.bucket, f.path): f.data for f in expected.files}
    podcasts = _rows((await client.table("generated_podcasts").select("*").execute()).data)
    for podcast in podcasts:
        signed = await client.storage.from_("podcast-audio").create_signed_url(podcast["audio_path"], 60)
        assert signed["signedURL"]
        response = await http.get(signed["signedURL"])
        assert response.status_code == 200
        body = files[("podcast-audio", podcast["audio_path"])]
        assert int(response.headers["content-length"]) == len(response.content) == len(body)
        assert response.content == body
        with wave.open(io.BytesIO(response.content)) as w:
            assert round(w.getnframes() / w.getframerate()) == podcast["duration_seconds"]
        cover = await client.storage.from_("cover-art").download(podcast["cover_art_path"])
        assert cover == files[("cover-art", podcast["cover_art_path"])]
    uploads = await client.table("scraped_content").select("*").eq("provider", "upload").execute()
    [transcript] = _rows(uploads.data)
    name = transcript["url"].removeprefix("storage://transcripts/")
    text = await client.storage.from_("transcripts").download(name)
    assert text.decode() == transcript["markdown"]

    # A second seed finds it all and writes nothing: same rows, same stamps, same objects.
    before = await _snapshot(client, account.user_id)
    again = await seed_demo(stack.url, stack.anon_key, stack.service_key)
    assert again == account
    assert await _snapshot(client, account.user_id) == before


async def test_seed_completes_a_partial_library_without_duplicates(
    stack: Any, http: httpx.AsyncClient
) -> None:
    account = await seed_demo(stack.url, stack.anon_key, stack.service_key)
    client = await _demo_client(stack, http)
    podcast_ids = build_library(account.user_id).ids()["generated_podcasts"]
    # Lose one podcast (as a crash half-way through a first seed would have left it).
    await client.table("generated_podcasts").delete().eq("id", podcast_ids[0]).execute()
    await seed_demo(stack.url, stack.anon_key, stack.service_key)
    result = await client.table("generated_podcasts").select("id").execute()
    assert sorted(r["id"] for r in _rows(result.data)) == sorted(podcast_ids)
    jobs = await client.table("processing_jobs").select("id").execute()
    assert len(_rows(jobs.data)) == len(build_library(account.user_id).ids()["processing_jobs"])
