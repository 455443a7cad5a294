"""Shared pieces for the offline tests: real episodes on the stack (script row, WAV in podcast-audio,
podcast row), a signed-in Backend, a recorder of the HTTP requests the shared client sends, and
the subprocess entry points the kill tests run (``python -m tests.offline_support ...``)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import struct
import sys
import time
import uuid
import wave
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from echogen_desktop.offline.downloads import DownloadManager, DownloadSpec
from echogen_desktop.offline.library_db import LibraryDb
from echogen_desktop.offline.sync import OutboxSync
from echogen_desktop.player.review_notes import ReviewNote
from echogen_desktop.services.backend import Backend
from echogen_devstack.runner import StackInfo
from tests.conftest import TestUser
from tests.player_support import make_wav

AUDIO_BUCKET = "podcast-audio"
ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "build" / "screenshots"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def big_wav(size_bytes: int) -> bytes:
    """A valid WAV of about ``size_bytes`` (8 kHz 16-bit mono noise-like ramp), made fast."""
    frames = max(1, (size_bytes - 44) // 2)
    pattern = bytes(range(256)) * 4096  # 1 MiB of varied bytes
    pcm = (pattern * (frames * 2 // len(pattern) + 1))[: frames * 2]
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(pcm)
    return buf.getvalue()


def tiny_png() -> bytes:
    """A real 2x2 PNG (cover art)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + b"\xff\x80\x00" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@dataclass
class StoredEpisode:
    podcast_id: str
    script_id: str
    audio_path: str
    data: bytes
    segments: list[dict[str, Any]]
    title: str
    cover: bytes | None = None


async def create_episode(user: TestUser, data: bytes | None = None, *, seconds: float = 3.0,
                         notes: list[dict[str, Any]] | None = None, cover: bytes | None = None) -> StoredEpisode:
    """A script row with timed segments, the WAV at ``{uid}/{podcast_id}/episode.wav``, the podcast row."""
    audio = data if data is not None else make_wav(seconds)
    script_id, podcast_id = str(uuid.uuid4()), str(uuid.uuid4())
    segments = [{"speaker": "Ava", "content": "Welcome back to the show.", "start_time": 0.0, "end_time": 1.5},
                {"speaker": "Ben", "content": "Today: deep sea vents.", "start_time": 1.5, "end_time": 3.0}]
    title = f"Offline episode {podcast_id[:6]}"
    await user.client.table("podcast_scripts").insert({
        "id": script_id, "user_id": user.id, "prompt": "vents", "model": "test-model", "language": "en",
        "segments": segments, "metadata": {"title": title},
    }).execute()
    path = f"{user.id}/{podcast_id}/episode.wav"
    await user.client.storage.from_(AUDIO_BUCKET).upload(path, audio, {"content-type": "audio/wav"})
    cover_path = None
    if cover is not None:
        cover_path = f"{user.id}/{podcast_id}/cover.png"
        await user.client.storage.from_("cover-art").upload(cover_path, cover, {"content-type": "image/png"})
    metadata: dict[str, Any] = {"title": title, "language": "en-US"}
    if notes is not None:
        metadata["review_notes"] = notes
    await user.client.table("generated_podcasts").insert({
        "id": podcast_id, "user_id": user.id, "script_id": script_id, "audio_path": path,
        "cover_art_path": cover_path, "duration_seconds": 3, "metadata": metadata,
    }).execute()
    return StoredEpisode(podcast_id, script_id, path, audio, segments, title, cover)


async def signed_in_backend(url: str, anon_key: str, email: str, password: str) -> Backend:
    backend = await Backend.connect(url, anon_key, request_timeout=30.0)
    await backend.sign_in(email, password)
    return backend


@dataclass
class RequestLog:
    """Every response a client got: (Range header sent, status, Content-Range)."""

    seen: list[tuple[str | None, int, str | None]] = field(default_factory=list)

    def __call__(self, response: httpx.Response) -> None:
        self.seen.append((response.request.headers.get("range"), response.status_code,
                          response.headers.get("content-range")))

    def ranged(self) -> list[tuple[str | None, int, str | None]]:
        return [entry for entry in self.seen if entry[0]]


def record_requests(manager: DownloadManager) -> RequestLog:
    """Every response the manager's (worker-thread) client gets from now on."""
    log = RequestLog()
    manager.http.event_hooks["response"].append(log)
    return log


async def server_metadata(user: TestUser, podcast_id: str) -> dict[str, Any]:
    response = await user.client.table("generated_podcasts").select("metadata").eq("id", podcast_id).execute()
    row: Any = response.data[0]
    metadata: dict[str, Any] = row["metadata"]
    return metadata


def note_json(note: ReviewNote) -> dict[str, Any]:
    return note.to_json()


# ----------------------------------------------------------------------------- subprocess entry points
async def _sync_main(args: dict[str, Any]) -> None:
    """Run one outbox sync; at the checkpoint named ``stop_at`` say so and wait to be killed."""
    backend = await signed_in_backend(args["url"], args["anon_key"], args["email"], args["password"])
    db = LibraryDb(Path(args["db"]))

    def checkpoint(name: str) -> None:
        print(f"checkpoint {name}", flush=True)
        if name == args.get("stop_at"):
            while True:  # the parent SIGKILLs us here
                time.sleep(1)  # blocking on purpose: nothing else may happen before the kill

    report = await OutboxSync(db, backend, checkpoint).run()
    print("done " + json.dumps({"synced": report.synced, "failed": report.failed}), flush=True)


def _writer_main(args: dict[str, Any]) -> None:
    """Write notes and positions forever, printing each committed step (killed from outside)."""
    db = LibraryDb(Path(args["db"]))
    step = 0
    while True:
        step += 1
        db.put_note("ep", ReviewNote(f"note-{step}", float(step), f"text {step}", "2026-11-25T10:00:00Z"))
        db.set_position("ep", float(step))
        print(f"committed {step}", flush=True)


async def _fetch_main(args: dict[str, Any]) -> None:
    """Download a URL with a file-size limit in force (a full disk, as the kernel reports it)."""
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG from write() instead of being killed
    limit = int(args["limit"])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    manager = DownloadManager(max_retries=0)
    url = str(args["url"])

    async def source() -> str:
        return url

    try:
        await manager.fetch(DownloadSpec("k", "Big", Path(args["dest"]), source))
        print(json.dumps({"error": None}), flush=True)
    except Exception as exc:
        print(json.dumps({"error": getattr(exc, "message", str(exc)), "type": type(exc).__name__}), flush=True)
    finally:
        await manager.close()


def main() -> None:
    command, payload = sys.argv[1], json.loads(sys.argv[2])
    if command == "sync":
        asyncio.run(_sync_main(payload))
    elif command == "writer":
        _writer_main(payload)
    elif command == "fetch":
        asyncio.run(_fetch_main(payload))
    else:
        raise SystemExit(f"unknown command {command}")


def stack_args(stack: StackInfo, user: TestUser, db: Path, **extra: object) -> dict[str, Any]:
    return {"url": stack.url, "anon_key": stack.anon_key, "email": user.email, "password": user.password,
            "db": str(db), **extra}


if __name__ == "__main__":
    main()
