"""Review notes: CRUD, Markdown export, and saving merged by id into generated_podcasts.metadata."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from echogen_desktop.player.review_notes import (
    ReviewNote,
    ReviewNotesModel,
    ReviewNotesPane,
    merge_notes,
    notes_from_metadata,
    notes_markdown,
)
from tests.conftest import TestUser
from tests.player_support import UserFactory


def note(note_id: str, t: float, text: str) -> ReviewNote:
    return ReviewNote(note_id, t, text, "2026-11-25T10:00:00Z")


def test_merge_keeps_remote_additions_and_applies_local_changes_by_id() -> None:
    remote = [note("a", 5, "server a"), note("b", 9, "added on another device"), note("c", 1, "server c")]
    local = [note("a", 5, "edited here"), note("c", 1, "stale copy"), note("d", 3, "new here")]
    merged = merge_notes(remote, local, changed={"a", "d"}, deleted={"c"})
    assert [(n.id, n.text) for n in merged] == [("d", "new here"), ("a", "edited here"),
                                               ("b", "added on another device")]


def test_notes_from_metadata_skips_malformed_entries() -> None:
    metadata = {"review_notes": [{"id": "x", "t": "2.5", "text": "ok", "created_at": "c"}, {"t": 1}, "junk"]}
    assert notes_from_metadata(metadata) == [ReviewNote("x", 2.5, "ok", "c")]
    assert notes_from_metadata({"review_notes": "nope"}) == []


def test_model_crud_and_markdown_export(qtmodeltester: ModelTester, tmp_path: Path, qtbot: QtBot) -> None:
    model = ReviewNotesModel()
    first = model.add(62.5, "mispronounced 'Supabase'")
    second = model.add(3.0, "cut this pause")
    assert [n.id for n in model.notes] == [second.id, first.id]  # in time order
    assert model.pending
    qtmodeltester.check(model)
    assert model.setData(model.index(1), "mispronounced 'Supabase' (twice)")
    model.retime(second.id, 4.25)
    model.remove("no-such-id")
    assert [n.text for n in model.notes] == ["cut this pause", "mispronounced 'Supabase' (twice)"]
    assert model.notes[0].t == 4.25

    pane = ReviewNotesPane(lambda: 0)
    qtbot.addWidget(pane)
    pane.title = "Deep sea vents"
    pane.model.load({"review_notes": [n.to_json() for n in model.notes]})
    out = tmp_path / "notes.md"
    pane.export_markdown(out)
    assert out.read_text(encoding="utf-8") == (
        "# Review notes: Deep sea vents\n\n"
        "- **0:04** cut this pause\n"
        "- **1:02** mispronounced 'Supabase' (twice)\n"
    )
    assert notes_markdown("Empty", []) == "# Review notes: Empty\n\n"

    model.remove(second.id)
    assert [n.id for n in model.notes] == [first.id]


def test_n_drops_a_note_at_the_current_time_and_clicking_jumps(qtbot: QtBot) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    pane = ReviewNotesPane(lambda: 42_300)
    window.setCentralWidget(pane)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    saves: list[None] = []
    pane.saveRequested.connect(lambda: saves.append(None))
    pane.add_action.trigger()
    assert len(pane.model.notes) == 1 and pane.model.notes[0].t == 42.3
    assert saves, "a new note asks to be saved"
    pane.view.closePersistentEditor(pane.view.currentIndex())
    jumps: list[int] = []
    pane.seekRequested.connect(jumps.append)
    rect = pane.view.visualRect(pane.model.index(0))
    qtbot.mouseClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert jumps == [42_300]
    pane.view.setCurrentIndex(pane.model.index(0))
    pane.delete_selected()
    assert pane.model.notes == []


async def _podcast_row(user: TestUser, metadata: dict[str, Any]) -> str:
    script = await user.client.table("podcast_scripts").insert(
        {"user_id": user.id, "prompt": "p", "model": "m", "segments": []}).execute()
    podcast = await user.client.table("generated_podcasts").insert(
        {"user_id": user.id, "script_id": script.data[0]["id"], "audio_path": f"{user.id}/x/episode.mp3",
         "metadata": metadata}).execute()
    podcast_id: str = podcast.data[0]["id"]
    return podcast_id


@pytest.mark.qasync
async def test_saving_merges_with_a_note_added_on_the_server_meanwhile(
    qtbot: QtBot, user_factory: UserFactory
) -> None:
    user = await user_factory()
    podcast_id = await _podcast_row(user, {"title": "Deep sea vents", "language": "en-US"})
    table = user.client.table("generated_podcasts")

    async def fetch() -> Mapping[str, Any]:
        rows = await table.select("metadata").eq("id", podcast_id).execute()
        metadata: Mapping[str, Any] = rows.data[0]["metadata"]
        return metadata

    async def store(metadata: dict[str, Any]) -> None:
        await table.update({"metadata": metadata}).eq("id", podcast_id).execute()

    model = ReviewNotesModel()
    model.load(await fetch())
    mine = model.add(12.0, "cut this pause")
    # Meanwhile another device saves its own note into the same row.
    theirs = note("11111111-2222-3333-4444-555555555555", 30.0, "from the laptop")
    await store({**await fetch(), "review_notes": [theirs.to_json()]})

    await model.save(fetch, store)
    saved = await fetch()
    assert saved["title"] == "Deep sea vents" and saved["language"] == "en-US"
    assert [n["id"] for n in saved["review_notes"]] == [mine.id, theirs.id]
    assert saved["review_notes"][0] == {"id": mine.id, "t": 12.0, "text": "cut this pause",
                                        "created_at": mine.created_at}
    assert not model.pending
    assert [n.id for n in model.notes] == [mine.id, theirs.id]  # the other device's note shows up here

    model.edit(theirs.id, "from the laptop, fixed")
    model.remove(mine.id)
    await model.save(fetch, store)
    saved = await fetch()
    assert saved["review_notes"] == [{**theirs.to_json(), "text": "from the laptop, fixed"}]
