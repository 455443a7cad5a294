"""Offline review changes reach the server without loss: notes merged by id with a concurrent
change made elsewhere, positions last-writer-wins, optimistic concurrency, and a sync process
SIGKILLed at each step, then run again."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from echogen_desktop.offline.downloads import DownloadManager
from echogen_desktop.offline.library import OfflineLibrary
from echogen_desktop.offline.library_db import LibraryDb
from echogen_desktop.offline.sync import OutboxSync
from echogen_desktop.player.review_notes import ReviewNote, notes_from_metadata
from echogen_desktop.services.backend import Backend
from echogen_desktop.services.records import Playback
from echogen_devstack.runner import StackInfo
from tests.conftest import TestUser
from tests.offline_support import ROOT, StoredEpisode, create_episode, server_metadata, signed_in_backend, stack_args
from tests.player_support import UserFactory

SERVER_NOTE = ReviewNote("11111111-0000-4000-8000-000000000001", 1.0, "on the server before the download",
                         "2026-11-25T09:00:00Z")
OTHER_DEVICE = ReviewNote("22222222-0000-4000-8000-000000000002", 2.0, "added on the laptop meanwhile",
                          "2026-11-25T11:00:00Z")
OFFLINE_NOTE = ReviewNote("33333333-0000-4000-8000-000000000003", 0.5, "cut this pause", "2026-11-25T10:30:00Z")


@pytest.fixture
async def user(user_factory: UserFactory) -> TestUser:
    return await user_factory()


@pytest.fixture
async def backend(stack: StackInfo, user: TestUser) -> AsyncIterator[Backend]:
    backend = await signed_in_backend(stack.url, stack.anon_key, user.email, user.password)
    yield backend
    await backend.close()


async def downloaded(backend: Backend, user: TestUser, root: Path) -> tuple[LibraryDb, StoredEpisode]:
    episode = await create_episode(user, notes=[SERVER_NOTE.to_json()])
    db = LibraryDb(root / "library.sqlite3")
    await OfflineLibrary(db, DownloadManager()).download_episode(backend, episode.podcast_id)
    return db, episode


async def add_note_elsewhere(user: TestUser, podcast_id: str, note: ReviewNote) -> None:
    """Another device adds a note the documented way (read, merge by id, write)."""
    metadata = await server_metadata(user, podcast_id)
    metadata["review_notes"] = [*metadata.get("review_notes", []), note.to_json()]
    await user.client.table("generated_podcasts").update({"metadata": metadata}).eq("id", podcast_id).execute()


def server_notes(metadata: dict[str, Any]) -> list[ReviewNote]:
    return notes_from_metadata(metadata)


async def test_offline_notes_merge_by_id_with_a_concurrent_server_note(
    backend: Backend, user: TestUser, tmp_path: Path
) -> None:
    db, episode = await downloaded(backend, user, tmp_path)
    pid = episode.podcast_id
    assert db.notes(pid) == [SERVER_NOTE]
    # Offline: add a note and delete the one that came with the download.
    db.put_note(pid, OFFLINE_NOTE)
    db.delete_note(pid, SERVER_NOTE.id)
    # Meanwhile another device adds a note on the server.
    await add_note_elsewhere(user, pid, OTHER_DEVICE)

    report = await OutboxSync(db, backend).run()
    assert report.ok and report.synced == [pid]
    metadata = await server_metadata(user, pid)
    assert server_notes(metadata) == [OFFLINE_NOTE, OTHER_DEVICE]  # merged, the deletion applied
    assert metadata["title"] == episode.title  # other keys untouched
    assert db.outbox_count() == 0
    assert db.notes(pid) == [OFFLINE_NOTE, OTHER_DEVICE]

    again = await OutboxSync(db, backend).run()  # nothing queued: nothing written
    assert again.synced == [] and server_notes(await server_metadata(user, pid)) == [OFFLINE_NOTE, OTHER_DEVICE]


async def test_positions_are_last_writer_wins(backend: Backend, user: TestUser, tmp_path: Path) -> None:
    db, episode = await downloaded(backend, user, tmp_path)
    pid = episode.podcast_id
    newer_elsewhere = Playback(99.0, False, "2030-01-01T00:00:00.000Z")
    metadata = await server_metadata(user, pid)
    metadata["playback"] = newer_elsewhere.to_json()
    await user.client.table("generated_podcasts").update({"metadata": metadata}).eq("id", pid).execute()

    db.set_position(pid, 12.0, at="2026-11-25T10:00:00.000Z")  # older than the server's
    await OutboxSync(db, backend).run()
    assert (await server_metadata(user, pid))["playback"] == newer_elsewhere.to_json()
    assert db.position(pid) == newer_elsewhere  # the local copy follows the winner
    assert db.outbox_count() == 0

    mine = db.set_position(pid, 150.5, played=True, at="2031-06-01T08:00:00.000Z")  # newer: wins
    await OutboxSync(db, backend).run()
    assert (await server_metadata(user, pid))["playback"] == mine.to_json()


async def test_metadata_write_retries_on_a_concurrent_change(backend: Backend, user: TestUser) -> None:
    episode = await create_episode(user, notes=[SERVER_NOTE.to_json()])
    calls: list[dict[str, Any]] = []

    def change(metadata: dict[str, Any]) -> dict[str, Any]:
        calls.append(metadata)
        return {**metadata, "review_notes": [*metadata.get("review_notes", []), OFFLINE_NOTE.to_json()]}

    podcast = await _update_with_interleaved_write(backend, user, episode.podcast_id, change)
    assert len(calls) == 2  # the first write was refused (updated_at moved on); the retry re-read
    expected = {SERVER_NOTE.id, OTHER_DEVICE.id, OFFLINE_NOTE.id}
    assert {n.id for n in notes_from_metadata(podcast.metadata)} == expected
    assert {n.id for n in server_notes(await server_metadata(user, episode.podcast_id))} == expected


async def _update_with_interleaved_write(
    backend: Backend, user: TestUser, podcast_id: str, change: Any
) -> Any:
    """Call update_podcast_metadata, with the other device's write forced between our read and write."""
    interleaved = asyncio.Event()
    first = True

    original_update = backend._client.table

    def table(name: str) -> Any:
        builder = original_update(name)
        real_update = builder.update

        def update(values: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
            nonlocal first
            request = real_update(values, *args, **kwargs)
            if first:
                first = False
                real_execute = request.execute

                async def execute_after_race() -> Any:
                    await add_note_elsewhere(user, podcast_id, OTHER_DEVICE)
                    interleaved.set()
                    return await real_execute()

                setattr(request, "execute", execute_after_race)  # noqa: B010 - patching a method
            return request

        setattr(builder, "update", update)  # noqa: B010
        return builder

    setattr(backend._client, "table", table)  # noqa: B010
    try:
        return await backend.update_podcast_metadata(podcast_id, change)
    finally:
        setattr(backend._client, "table", original_update)  # noqa: B010
        assert interleaved.is_set()


async def test_queued_changes_for_a_deleted_episode_are_dropped(
    backend: Backend, user: TestUser, tmp_path: Path
) -> None:
    db, episode = await downloaded(backend, user, tmp_path)
    db.put_note(episode.podcast_id, OFFLINE_NOTE)
    await user.client.table("generated_podcasts").delete().eq("id", episode.podcast_id).execute()
    report = await OutboxSync(db, backend).run()
    assert report.dropped == [episode.podcast_id] and db.outbox_count() == 0


async def test_unreachable_server_keeps_everything_queued(user: TestUser, tmp_path: Path) -> None:
    db = LibraryDb(tmp_path / "library.sqlite3")
    db.put_note("some-episode", OFFLINE_NOTE)
    dead = await Backend.connect("http://127.0.0.1:9", "anon", request_timeout=2.0)
    try:
        report = await OutboxSync(db, dead).run()
    finally:
        await dead.close()
    assert not report.ok and db.outbox_count() == 1


@pytest.mark.parametrize("stop_at", ["before_write", "after_write", "after_confirm"])
async def test_sync_killed_at_any_point_loses_nothing(
    stack: StackInfo, backend: Backend, user: TestUser, tmp_path: Path, stop_at: str
) -> None:
    db, episode = await downloaded(backend, user, tmp_path)
    pid = episode.podcast_id
    db.put_note(pid, OFFLINE_NOTE)
    db.delete_note(pid, SERVER_NOTE.id)
    position = db.set_position(pid, 33.3, at="2026-11-25T12:00:00.000Z")
    await add_note_elsewhere(user, pid, OTHER_DEVICE)

    payload = stack_args(stack, user, db.path, stop_at=stop_at)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.offline_support", "sync", json.dumps(payload),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    line = ""
    while line != f"checkpoint {stop_at}":
        raw = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert raw, (await proc.stderr.read()).decode()
        line = raw.decode().strip()
    proc.send_signal(signal.SIGKILL)  # mid-sync, with no chance to clean up
    assert await proc.wait() == -signal.SIGKILL

    reopened = LibraryDb(db.path)
    assert reopened.integrity_ok()
    after_kill = server_notes(await server_metadata(user, pid))
    if stop_at == "before_write":
        assert reopened.outbox_count() == 2 + 1 and after_kill == [SERVER_NOTE, OTHER_DEVICE]
    elif stop_at == "after_write":  # the server has it, the outbox does not know yet: a retry must be harmless
        assert reopened.outbox_count() == 3 and after_kill == [OFFLINE_NOTE, OTHER_DEVICE]
    else:
        assert reopened.outbox_count() == 0

    report = await OutboxSync(reopened, backend).run()  # the app starts again and syncs
    assert report.ok
    metadata = await server_metadata(user, pid)
    assert server_notes(metadata) == [OFFLINE_NOTE, OTHER_DEVICE]  # each exactly once
    assert metadata["playback"] == position.to_json()
    assert reopened.outbox_count() == 0
    assert reopened.notes(pid) == [OFFLINE_NOTE, OTHER_DEVICE]

