"""Offline start: download from a second stack, stop that stack, then open the offline library
without signing in: the audio file, the transcript and the review notes all come from disk."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from echogen_desktop.offline.downloads import DownloadManager
from echogen_desktop.offline.library import OfflineLibrary
from echogen_desktop.offline.library_db import LibraryDb
from echogen_desktop.offline.offline_mode import (
    LibraryRole,
    OfflineLibraryModel,
    OfflineLibraryView,
    Reachability,
    needs_connection,
    open_offline_episode,
    probe_server,
)
from echogen_desktop.player.review_notes import ReviewNote, ReviewNotesModel
from echogen_devstack.process import stack_tempdir, start_stack_process, stop_stack_process
from echogen_devstack.runner import StackInfo
from tests.conftest import TestUser, make_client
from tests.offline_support import SHOTS, create_episode, file_sha256, sha256, signed_in_backend
from tests.player_support import make_wav

NOTE = ReviewNote("44444444-0000-4000-8000-000000000004", 1.5, "mispronounced 'Supabase'", "2026-11-25T10:00:00Z")


async def sign_up(info: StackInfo, http: httpx.AsyncClient) -> TestUser:
    client = await make_client(info, info.anon_key, http)
    email, password = f"offline-{uuid.uuid4().hex[:10]}@example.test", "correct horse battery staple"
    response = await client.auth.sign_up({"email": email, "password": password})
    assert response.session is not None and response.user is not None
    return TestUser(response.user.id, email, password, response.session.access_token,
                    response.session.refresh_token, client)


async def test_probe_says_online_for_a_running_stack(stack: StackInfo) -> None:
    assert await probe_server(stack.url, stack.anon_key) is Reachability.ONLINE


async def test_offline_start_with_the_stack_stopped(tmp_path: Path, qtmodeltester: ModelTester, qtbot: QtBot) -> None:
    db_path = tmp_path / "data" / "library.sqlite3"
    data_dir = stack_tempdir("echogen-offline-stack-")
    proc, info = await asyncio.to_thread(start_stack_process, data_dir, "--bcrypt-rounds", "4")
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            user = await sign_up(info, http)
            episode = await create_episode(user, make_wav(3.0), notes=[NOTE.to_json()])
            backend = await signed_in_backend(info.url, info.anon_key, user.email, user.password)
            try:
                db = LibraryDb(db_path)
                await OfflineLibrary(db, DownloadManager()).download_episode(backend, episode.podcast_id)
                db.close()
            finally:
                await backend.close()
    finally:
        await asyncio.to_thread(stop_stack_process, proc)
        shutil.rmtree(data_dir, ignore_errors=True)

    # The app starts again: the server does not answer, so it opens the offline library.
    assert await probe_server(info.url, info.anon_key, timeout=2.0) is Reachability.UNREACHABLE
    db = LibraryDb(db_path)
    model = OfflineLibraryModel(db)
    qtmodeltester.check(model)  # type: ignore[no-untyped-call]
    assert model.rowCount() == 1
    index = model.index(0)
    assert index.data(LibraryRole.PODCAST_ID) == episode.podcast_id
    assert index.data(LibraryRole.DISK_BYTES) == len(episode.data)
    assert index.data(LibraryRole.NOTE_COUNT) == 1 and index.data(LibraryRole.AVAILABLE) is True

    offline = open_offline_episode(db, episode.podcast_id)
    assert offline is not None and offline.available
    assert file_sha256(offline.record.audio_file) == sha256(episode.data)
    assert [(s.speaker, s.content, s.start_time) for s in offline.segments] == [
        (s["speaker"], s["content"], s["start_time"]) for s in episode.segments]
    assert offline.notes == [NOTE]
    playable = offline.player_episode()
    assert playable.is_local and playable.local_file == offline.record.audio_file

    # Review offline through the player's notes model: its fetch/store pair goes to the outbox.
    notes = ReviewNotesModel()
    notes.load(db.local_metadata(episode.podcast_id))
    added = notes.add(2.25, "cut this pause")

    async def fetch() -> Mapping[str, Any]:
        return db.local_metadata(episode.podcast_id)

    async def store(metadata: dict[str, Any]) -> None:
        db.store_metadata_notes(episode.podcast_id, metadata)

    await notes.save(fetch, store)
    assert not notes.pending
    assert [n.id for n in db.notes(episode.podcast_id)] == [NOTE.id, added.id]
    assert db.outbox_count() == 1

    view = OfflineLibraryView(model)
    qtbot.addWidget(view)
    view.set_offline(True)
    view.resize(640, 360)
    model.reload()
    assert view.offline and "offline" in view.banner_text.text()
    assert "needs a connection" in needs_connection("Generating a script")
    with qtbot.waitSignal(view.playRequested) as played:
        view.play_button.click()
    assert played.args == [episode.podcast_id]
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert view.grab().save(str(SHOTS / "offline-library.png"))
    with qtbot.waitSignal(view.removeRequested) as removed:
        view.remove_button.click()
    assert removed.args == [episode.podcast_id]
