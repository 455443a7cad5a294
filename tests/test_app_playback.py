# ruff: noqa: F811 - the shared fixtures are imported by name and then requested as parameters
"""The player, downloads and the offline library wired into the app, over the real stack.

Play from the Podcasts section streams the seeded demo WAV through a signed URL, the transcript
follows, N drops a review note that lands in ``generated_podcasts.metadata``; Download produces a
complete local file that plays without any signed URL; with the server unreachable at start-up the
app opens its offline library and plays from disk.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QMainWindow
from pytestqt.qtbot import QtBot

from echogen_desktop.offline.library_db import LibraryDb
from echogen_desktop.offline.offline_mode import LibraryRole
from echogen_desktop.player.review_notes import ReviewNote
from echogen_desktop.player.transcript import TranscriptRole
from echogen_desktop.views.sections.podcasts import PodcastsSection
from echogen_devstack.process import free_port
from echogen_devstack.runner import StackInfo
from echogen_devstack.seed import DemoLibrary
from tests.conftest import TestUser, wait_until
from tests.offline_app_support import download_into, offline_app
from tests.offline_support import create_episode, file_sha256, sha256
from tests.player_support import make_wav
from tests.views_support import Ui, UserFactory, db, open_window, seeded, ui  # noqa: F401

SHOTS = Path(os.environ.get("ECHOGEN_SCREENSHOTS", "/tmp/echogen-app-playback"))


@pytest.fixture(autouse=True)
def private_data_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The offline library (platformdirs' user data dir) in a temp dir, before any window opens."""
    directory = Path(tempfile.mkdtemp(prefix="echogen-data-"))
    monkeypatch.setenv("XDG_DATA_HOME", str(directory))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


class SignCounter:
    """Counts ``Backend.signed_url`` calls (and still signs, on the real stack)."""

    def __init__(self, ui: Ui) -> None:
        self.calls: list[tuple[str, str]] = []
        original = ui.backend.signed_url

        async def counting(bucket: str, path: str, expires_in: int) -> str:
            self.calls.append((bucket, path))
            return await original(bucket, path, expires_in)

        ui.backend.signed_url = counting  # type: ignore[method-assign]

    @property
    def audio(self) -> list[str]:
        """Audio paths signed (cover art is signed too, for the detail pane)."""
        return [path for bucket, path in self.calls if bucket == "podcast-audio"]


def podcasts(ui: Ui) -> PodcastsSection:
    section = ui.window.section("podcasts")
    assert isinstance(section, PodcastsSection)
    return section


def first_podcast(ui: Ui) -> dict[str, Any]:
    return dict(ui.lib.generated_podcasts[0])


async def activate(window: QMainWindow) -> None:
    window.activateWindow()  # window shortcuts need the active window; activation is asynchronous
    await wait_until(lambda: QApplication.activeWindow() is window, 3, "the window did not become active")


async def server_notes(ui: Ui, podcast_id: str) -> list[dict[str, Any]]:
    raw = await ui.db.fetchval("select metadata from generated_podcasts where id = $1::uuid", podcast_id)
    metadata = json.loads(raw) if isinstance(raw, str) else dict(raw)
    notes: list[dict[str, Any]] = metadata.get("review_notes") or []
    return notes


async def wait_for_notes(ui: Ui, podcast_id: str, check: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        notes = await server_notes(ui, podcast_id)
        if check(notes):
            return notes
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"notes on the server: {notes}")
        await asyncio.sleep(0.1)


@pytest.mark.qasync
async def test_play_streams_follows_the_transcript_and_n_adds_a_note(ui: Ui, qtbot: QtBot) -> None:
    window = ui.window
    row = first_podcast(ui)
    script = next(s for s in ui.lib.podcast_scripts if s["id"] == row["script_id"])
    signs = SignCounter(ui)
    section = await ui.select("podcasts", row["id"])
    detail = section.podcast_detail  # type: ignore[attr-defined]
    assert detail.play_button.isEnabled() and detail.download_button.isVisible()
    assert not window.player_dock.isVisible()

    detail.play_button.click()
    player = window.player
    await wait_until(lambda: player.playing and player.position > 300, 10, "the stream did not start")
    assert signs.audio == [row["audio_path"]]
    assert player.episode is not None and not player.episode.is_local
    assert window.player_dock.isVisible() and window.review_dock.isVisible()
    assert window.player_dock.controls.title.text() == player.episode.title

    # The transcript: the script's segments, the spoken one highlighted; clicking one seeks there.
    transcript = window.review_dock.transcript
    await wait_until(lambda: transcript.model.rowCount() == len(script["segments"]), 10, "no transcript")
    assert [transcript.model.index(r).data(TranscriptRole.TEXT) for r in range(transcript.model.rowCount())] == [
        s["content"] for s in script["segments"]]
    await wait_until(lambda: transcript.model.current_row == 0, 5, "the first segment is not highlighted")
    target = len(script["segments"]) - 2
    index = transcript.model.index(target)
    transcript.view.scrollTo(index)
    qtbot.mouseClick(transcript.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=transcript.view.visualRect(index).center())
    start_ms = round(script["segments"][target]["start_time"] * 1000)
    await wait_until(lambda: transcript.model.current_row == target and player.position >= start_ms, 5,
                     "clicking a segment did not seek there")
    assert transcript.model.index(target).data(TranscriptRole.CURRENT) is True
    assert transcript.model.index(0).data(TranscriptRole.CURRENT) is False

    # N in a text field is a letter, not a note (text fields keep their keys).
    await activate(window)
    section.search.setFocus()
    qtbot.keyClick(section.search, Qt.Key.Key_N)
    qtbot.keyClick(section.search, Qt.Key.Key_Space)
    assert section.search.text() == "n " and window.review_dock.notes.model.notes == []
    assert player.playing  # Space typed a space; it did not pause
    section.search.clear()

    # N anywhere else drops a note at the current time; typing names it; both land on the server.
    section.table.setFocus()
    at = player.position / 1000
    qtbot.keyClick(section.table, Qt.Key.Key_N)
    notes = window.review_dock.notes
    assert len(notes.model.notes) == 1 and notes.model.notes[0].t >= at - 0.5
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)
    qtbot.keyClicks(editor, "mispronounced 'Supabase'")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    saved = await wait_for_notes(ui, row["id"], lambda n: len(n) == 1 and n[0]["text"] == "mispronounced 'Supabase'")
    assert saved[0]["id"] == notes.model.notes[0].id and abs(saved[0]["t"] - notes.model.notes[0].t) < 0.01
    assert set(saved[0]) == {"id", "t", "text", "created_at"}
    await wait_until(lambda: not notes.model.pending, 5, "the note stayed pending")
    section.table.setFocus()
    qtbot.keyClick(section.table, Qt.Key.Key_Space)  # the player's keys work from the list too
    await wait_until(lambda: not player.playing, 3, "Space did not pause")
    os.makedirs(SHOTS, exist_ok=True)
    assert window.grab().save(str(SHOTS / "main-window-player.png"))


@pytest.mark.qasync
async def test_download_marks_the_row_and_plays_the_local_file(ui: Ui, private_data_dir: Path) -> None:
    window = ui.window
    row = first_podcast(ui)
    audio = next(f.data for f in ui.lib.files if f.path == row["audio_path"])
    section = await ui.select("podcasts", row["id"])
    detail = section.podcast_detail  # type: ignore[attr-defined]
    model = section.model
    assert model is not None
    column = model.column_of("downloaded")
    model_row = model.row_of(row["id"])
    assert column >= 0 and model_row is not None
    assert model.index(model_row, column).data() == ""

    detail.download_button.click()
    library = window.playback.db
    await wait_until(lambda: library.episode(row["id"]) is not None, 20, "the download did not finish")
    record = library.episode(row["id"])
    assert record is not None and record.audio_file.is_file()
    assert private_data_dir in record.audio_file.parents  # the platform's data directory
    assert file_sha256(record.audio_file) == sha256(audio)
    assert record.script is not None and record.script.id == row["script_id"]
    assert not list(record.audio_file.parent.glob("*.part"))
    await wait_until(lambda: model.index(model_row, column).data() == "Downloaded", 5, "the row is not marked")
    assert detail.remove_download_button.isVisible() and not detail.download_button.isVisible()
    assert window.downloads_dock.isVisible()
    view_row = window.downloads_dock.view.row(row["id"])
    assert view_row is not None and view_row.detail.text().startswith("Downloaded")

    signs = SignCounter(ui)  # from here on, count every signed URL asked for
    detail.play_button.click()
    player = window.player
    await wait_until(lambda: player.playing and player.position > 200, 10, "the local file did not play")
    assert player.episode is not None and player.episode.is_local
    assert player.episode.local_file == record.audio_file
    assert signs.audio == []
    assert window.review_dock.transcript.model.rowCount() == len(record.script.segments)
    player.pause()

    detail.remove_download_button.click()
    assert library.episode(row["id"]) is None and not record.audio_file.exists()
    await wait_until(lambda: model.index(model_row, column).data() == "", 5, "the mark stayed")
    assert detail.download_button.isVisible()


@pytest.mark.qasync
async def test_offline_start_opens_the_library_and_plays_from_disk(
    stack: StackInfo, user_factory: UserFactory, qtbot: QtBot, tmp_path: Path,
) -> None:
    user = await user_factory()
    episode = await create_episode(user, make_wav(4.0))
    db_path = tmp_path / "data" / "library.sqlite3"
    await download_into(db_path, stack, user, episode.podcast_id)

    # Start the app against a port nobody listens on.
    async with offline_app(f"http://127.0.0.1:{free_port()}", stack.anon_key, db_path, tmp_path) as started:
        shell, window = started.shell, started.window
        view = window.offline_view
        assert view is not None and view.offline and shell.dialog is None
        assert view.model.rowCount() == 1
        assert view.model.index(0).data(LibraryRole.PODCAST_ID) == episode.podcast_id

        view.play_button.click()
        player = window.player
        await wait_until(lambda: player.playing and player.position > 200, 10, "nothing played from disk")
        assert player.episode is not None and player.episode.is_local
        transcript = window.review_dock.transcript
        assert [transcript.model.index(r).data(TranscriptRole.TEXT) for r in range(transcript.model.rowCount())] == [
            s["content"] for s in episode.segments]

        # A review note made offline is kept in the outbox for the next sign-in.
        note = window.review_dock.notes.model.add(1.0, "cut this pause")
        local = window.playback.db
        await wait_until(lambda: [n.id for n in local.notes(episode.podcast_id)] == [note.id], 5, "note not kept")
        assert local.outbox_count() >= 1
        player.pause()
        assert window.grab().save(str(tmp_path / "offline.png"))

        # Try again: still unreachable, so the normal flow asks to sign in; closing that keeps the library.
        view.retry_button.click()
        await wait_until(lambda: shell.dialog is not None and shell.dialog.isVisible(), 10, "no sign-in dialog")
        assert shell.dialog is not None
        shell.dialog.reject()
        await asyncio.sleep(0.1)
        assert window.isVisible() and window.offline_mode


@pytest.mark.qasync
async def test_sign_in_sends_the_offline_outbox_and_resumes_downloads(
    stack: StackInfo, seeded: tuple[TestUser, DemoLibrary], db: asyncpg.Connection, private_data_dir: Path,
) -> None:
    user, lib = seeded
    reviewed, wanted = (dict(p) for p in lib.generated_podcasts[:2])
    # Another device added a note on the server meanwhile; this one queued a note while offline.
    elsewhere = ReviewNote("aaaaaaaa-0000-4000-8000-000000000001", 3.0, "from the laptop", "2026-11-25T09:00:00Z")
    metadata = {**reviewed["metadata"], "review_notes": [elsewhere.to_json()]}
    await user.client.table("generated_podcasts").update({"metadata": metadata}).eq("id", reviewed["id"]).execute()
    library = LibraryDb.open_default()
    assert private_data_dir in library.path.parents
    offline_note = ReviewNote("bbbbbbbb-0000-4000-8000-000000000002", 7.5, "cut this pause", "2026-11-25T10:00:00Z")
    library.put_note(reviewed["id"], offline_note)
    library.want_download(wanted["id"], "wanted")  # asked for before the app was quit
    library.close()

    async with open_window(stack, user, lib, db) as opened:  # signs in: sync and resume start now
        u = Ui(opened.window, opened.backend, opened.runner, user, lib, db, opened.settings_path)
        notes = await wait_for_notes(u, reviewed["id"], lambda n: len(n) == 2)
        assert [n["id"] for n in notes] == [elsewhere.id, offline_note.id]  # merged by id, nothing lost
        local = opened.window.playback.db
        await wait_until(lambda: local.outbox_count() == 0, 5, "the outbox was not confirmed")
        await wait_until(lambda: local.episode(wanted["id"]) is not None, 20, "the download was not resumed")
        record = local.episode(wanted["id"])
        assert record is not None and record.audio_file.is_file()
        assert local.pending_downloads() == []
        await opened.settle()


async def server_playback(ui: Ui, podcast_id: str) -> dict[str, Any] | None:
    raw = await ui.db.fetchval("select metadata from generated_podcasts where id = $1::uuid", podcast_id)
    metadata = json.loads(raw) if isinstance(raw, str) else dict(raw)
    playback: dict[str, Any] | None = metadata.get("playback")
    return playback


@pytest.mark.qasync
async def test_pausing_online_sends_the_position_and_a_later_one_from_elsewhere_is_resumed(ui: Ui) -> None:
    window = ui.window
    row = first_podcast(ui)
    section = await ui.select("podcasts", row["id"])
    section.podcast_detail.play_button.click()  # type: ignore[attr-defined]
    player = window.player
    await wait_until(lambda: player.playing and player.position > 1500, 10, "the stream did not start")
    player.pause()
    await wait_until(lambda: not player.playing, 3, "did not pause")
    paused_at = player.position / 1000

    deadline = asyncio.get_running_loop().time() + 10
    while (sent := await server_playback(ui, row["id"])) is None or abs(sent["position"] - paused_at) > 0.3:
        assert asyncio.get_running_loop().time() < deadline, f"position on the server: {sent}"
        await asyncio.sleep(0.1)
    assert sent["played"] is False and sent["updated_at"]
    await wait_until(lambda: window.playback.db.outbox_count() == 0, 5, "the position stayed queued")

    # Another device listened on later, to 4.5 s: opening the episode here resumes there.
    player.stop()
    elsewhere = {"position": 4.5, "played": False, "updated_at": "2099-01-01T00:00:00Z"}
    await ui.db.execute("update generated_podcasts set metadata = jsonb_set(metadata, '{playback}', $2::jsonb) "
                        "where id = $1::uuid", row["id"], json.dumps(elsewhere))
    window.playback.play_podcast(await ui.backend.get_podcast(row["id"]))
    await wait_until(lambda: player.playing and player.position >= 4500, 10, "did not resume at the other position")
    assert player.position < 4500 + 2000
    player.pause()
