"""The download manager against the real stack: progress, cancel, Range resume (after a cancel, a
dropped connection and a restart), the atomic result, size/checksum checks and a full disk."""

from __future__ import annotations

import asyncio
import errno
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from echogen_desktop.offline.downloads import (
    DownloadError,
    DownloadManager,
    DownloadProgress,
    DownloadSpec,
    DownloadStatus,
    FilePartWriter,
    PartWriter,
    find_partials,
    part_path,
    sidecar_path,
)
from echogen_desktop.offline.library import OfflineLibrary
from echogen_desktop.offline.library_db import LibraryDb
from echogen_desktop.services.backend import AUDIO_BUCKET, Backend
from echogen_devstack.runner import StackInfo
from tests.conftest import TestUser
from tests.offline_support import (
    ROOT,
    StoredEpisode,
    big_wav,
    create_episode,
    file_sha256,
    record_requests,
    sha256,
    signed_in_backend,
    tiny_png,
)
from tests.player_support import UserFactory, set_faults

DATA = big_wav(6 * 1024 * 1024 + 123)  # several chunks, not a multiple of the chunk size
SIZE = len(DATA)


@pytest.fixture
async def user(user_factory: UserFactory) -> TestUser:
    return await user_factory()


@pytest.fixture
async def backend(stack: StackInfo, user: TestUser) -> AsyncIterator[Backend]:
    backend = await signed_in_backend(stack.url, stack.anon_key, user.email, user.password)
    yield backend
    await backend.close()


@pytest.fixture
async def episode(user: TestUser) -> StoredEpisode:
    return await create_episode(user, DATA, cover=tiny_png())


def spec_for(backend: Backend, episode: StoredEpisode, dest: Path, **extra: object) -> DownloadSpec:
    async def sign() -> str:
        return await backend.signed_url(AUDIO_BUCKET, episode.audio_path, 600)

    return DownloadSpec(episode.podcast_id, episode.title, dest, sign, **extra)  # type: ignore[arg-type]


class SlowDisk:
    """A part writer that takes 20 ms per chunk, so a cancel lands while the worker is writing
    (on loopback the whole body can otherwise arrive before the loop hears of the first chunk)."""

    def __init__(self, path: Path, offset: int) -> None:
        self._inner = FilePartWriter(path, offset)

    def write(self, data: bytes) -> None:
        time.sleep(0.02)
        self._inner.write(data)

    def sync(self) -> None:
        self._inner.sync()

    def close(self) -> None:
        self._inner.close()


def cancel_after(manager: DownloadManager, key: str, at_bytes: int) -> None:
    def listener(progress: DownloadProgress) -> None:
        if progress.status is DownloadStatus.RUNNING and progress.received >= at_bytes:
            manager.cancel(key)

    manager.add_listener(listener)


async def test_download_reports_progress_and_appears_atomically(
    backend: Backend, episode: StoredEpisode, tmp_path: Path
) -> None:
    dest = tmp_path / "episode.wav"
    manager = DownloadManager(progress_interval=0)
    seen: list[DownloadProgress] = []
    early_final_file: list[int] = []

    def listener(progress: DownloadProgress) -> None:
        seen.append(progress)
        if progress.status is not DownloadStatus.DONE and dest.exists():
            early_final_file.append(progress.received)  # a final name before the end would be a defect

    manager.add_listener(listener)
    path = await manager.start(spec_for(backend, episode, dest))

    assert path == dest and file_sha256(dest) == sha256(episode.data)
    assert not early_final_file
    assert not part_path(dest).exists() and not sidecar_path(dest).exists()
    statuses = [p.status for p in seen]
    assert statuses[0] is DownloadStatus.QUEUED and statuses[-1] is DownloadStatus.DONE
    running = [p for p in seen if p.status is DownloadStatus.RUNNING]
    assert len(running) > 5 and all(p.total == SIZE for p in running[1:])
    assert [p.received for p in running] == sorted(p.received for p in running)
    assert any(p.speed > 0 and p.eta is not None for p in running)
    assert seen[-1].received == SIZE and seen[-1].fraction == 1.0


async def test_cancel_keeps_the_part_and_resume_continues_with_range(
    backend: Backend, episode: StoredEpisode, tmp_path: Path
) -> None:
    dest = tmp_path / "episode.wav"
    manager = DownloadManager(progress_interval=0, open_part=SlowDisk)
    requests = record_requests(manager)
    cancel_after(manager, episode.podcast_id, 1_000_000)
    with pytest.raises(asyncio.CancelledError):
        await manager.start(spec_for(backend, episode, dest))

    progress = manager.progress(episode.podcast_id)
    assert progress is not None and progress.status is DownloadStatus.PAUSED
    kept = part_path(dest).stat().st_size
    assert 1_000_000 <= kept < SIZE
    await asyncio.sleep(0.3)
    assert part_path(dest).stat().st_size == kept  # the worker thread really stopped writing
    assert not dest.exists()
    assert part_path(dest).read_bytes() == episode.data[:kept]  # a correct prefix

    manager._listeners.clear()  # no more cancelling
    task = manager.resume(episode.podcast_id)
    assert task is not None
    assert await task == dest
    assert file_sha256(dest) == sha256(episode.data)
    assert (f"bytes={kept}-", 206, f"bytes {kept}-{SIZE - 1}/{SIZE}") in requests.ranged()
    final = manager.progress(episode.podcast_id)
    assert final is not None and final.status is DownloadStatus.DONE and final.resumed_from == kept


async def test_dropped_connection_is_resumed_with_range(
    stack: StackInfo, backend: Backend, episode: StoredEpisode, tmp_path: Path
) -> None:
    dest = tmp_path / "episode.wav"
    manager = DownloadManager(retry_delay=0.05)
    requests = record_requests(manager)
    await set_faults(stack, drop_streams=True, drop_after_bytes=2_000_000, drop_count=1)
    try:
        await manager.fetch(spec_for(backend, episode, dest))
    finally:
        await set_faults(stack, drop_streams=False)
    assert file_sha256(dest) == sha256(episode.data)
    ranged = requests.ranged()
    assert ranged and ranged[0][1] == 206
    start = int(str(ranged[0][0]).removeprefix("bytes=").rstrip("-"))
    assert 0 < start <= 2_000_000  # went on from what arrived before the drop


async def test_resume_after_an_app_restart(backend: Backend, episode: StoredEpisode, tmp_path: Path) -> None:
    root = tmp_path / "data"
    db = LibraryDb(root / "library.sqlite3")
    first = OfflineLibrary(db, DownloadManager(progress_interval=0, open_part=SlowDisk))
    cancel_after(first.manager, episode.podcast_id, 2_500_000)
    task = first.start_episode(backend, episode.podcast_id, episode.title)
    with pytest.raises(asyncio.CancelledError):
        await task
    await first.manager.close()
    db.close()  # "the app quits"

    partials = find_partials(root)
    assert len(partials) == 1
    partial = partials[0]
    assert partial.key == episode.podcast_id and partial.size == SIZE and partial.etag
    assert 2_500_000 <= partial.received < SIZE

    db2 = LibraryDb(root / "library.sqlite3")
    second = OfflineLibrary(db2, DownloadManager())
    requests = record_requests(second.manager)
    assert db2.pending_downloads() == [(episode.podcast_id, episode.title)]
    (record,) = await asyncio.gather(*second.resume_pending(backend))
    assert file_sha256(record.audio_file) == sha256(episode.data)
    assert (f"bytes={partial.received}-", 206, f"bytes {partial.received}-{SIZE - 1}/{SIZE}") in requests.ranged()
    assert db2.pending_downloads() == []
    stored = db2.episode(episode.podcast_id)
    assert stored is not None and stored.audio_size == SIZE and stored.script is not None
    assert [s.content for s in stored.script.segments] == [s["content"] for s in episode.segments]
    assert stored.cover_file is not None and stored.cover_file.read_bytes() == episode.cover
    assert second.disk_usage() == SIZE + len(tiny_png())
    second.remove(episode.podcast_id)
    assert db2.episode(episode.podcast_id) is None and not second.folder(episode.podcast_id).exists()


async def test_size_mismatch_is_rejected_and_nothing_is_kept(
    backend: Backend, episode: StoredEpisode, tmp_path: Path
) -> None:
    dest = tmp_path / "episode.wav"
    manager = DownloadManager()
    with pytest.raises(DownloadError, match="expected"):
        await manager.fetch(spec_for(backend, episode, dest, expected_size=SIZE + 1))
    assert not dest.exists() and not part_path(dest).exists() and not sidecar_path(dest).exists()

    with pytest.raises(DownloadError, match="checksum"):
        await manager.fetch(spec_for(backend, episode, dest, expected_etag='"' + "0" * 32 + '"'))
    assert not dest.exists() and not part_path(dest).exists()


class FullDisk:
    """A part writer that runs out of space after ``room`` bytes, as a full disk does."""

    def __init__(self, path: Path, offset: int, room: int) -> None:
        self._inner = FilePartWriter(path, offset)
        self._left = room

    def write(self, data: bytes) -> None:
        if len(data) > self._left:
            self._inner.write(data[: self._left])  # a short write, then the error
            self._left = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self._inner.write(data)
        self._left -= len(data)

    def sync(self) -> None:
        self._inner.sync()

    def close(self) -> None:
        self._inner.close()


async def test_full_disk_gives_a_clear_error_and_no_corrupt_file(
    backend: Backend, episode: StoredEpisode, tmp_path: Path
) -> None:
    dest = tmp_path / "episode.wav"

    def full_disk(path: Path, offset: int) -> PartWriter:
        return FullDisk(path, offset, 1_234_567)

    manager = DownloadManager(open_part=full_disk)
    with pytest.raises(DownloadError) as raised:
        await manager.start(spec_for(backend, episode, dest))
    assert "not enough disk space" in raised.value.message
    progress = manager.progress(episode.podcast_id)
    assert progress is not None and progress.status is DownloadStatus.FAILED
    assert "disk space" in progress.error
    assert not dest.exists()
    assert part_path(dest).read_bytes() == episode.data[:1_234_567]  # a correct prefix, never garbage

    fine = DownloadManager()  # space freed: Resume finishes the same file
    assert await fine.fetch(spec_for(backend, episode, dest)) == dest
    assert file_sha256(dest) == sha256(episode.data)


async def test_file_size_limit_in_a_real_process_is_reported_as_a_full_disk(
    backend: Backend, episode: StoredEpisode, tmp_path: Path
) -> None:
    dest = tmp_path / "limited" / "episode.wav"
    url = await backend.signed_url(AUDIO_BUCKET, episode.audio_path, 120)
    payload = {"url": url, "dest": str(dest), "limit": 3_000_000}
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "tests.offline_support", "fetch", json.dumps(payload)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["type"] == "DownloadError" and "not enough disk space" in outcome["error"]
    assert not dest.exists()
    assert part_path(dest).stat().st_size <= 3_000_000
    assert part_path(dest).read_bytes() == episode.data[: part_path(dest).stat().st_size]
