"""The offline library database: WAL, notes + outbox written together, tombstones, the offline
``fetch``/``store`` pair for review notes, and no loss when the writing process is SIGKILLed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from echogen_desktop.offline.library_db import LibraryDb, default_data_dir
from echogen_desktop.player.review_notes import ReviewNote
from echogen_desktop.services.records import Playback
from tests.offline_support import ROOT


def note(note_id: str, t: float, text: str) -> ReviewNote:
    return ReviewNote(note_id, t, text, "2026-11-25T10:00:00Z")


def test_default_location_is_the_platform_data_dir() -> None:
    path = default_data_dir()
    assert path.name == "EchoGen Desktop"
    if sys.platform.startswith("linux"):  # XDG_DATA_HOME is a private folder per test (conftest.py)
        assert path.parent == Path(os.environ["XDG_DATA_HOME"])
    else:
        assert "AppData" in str(path) or "Application Support" in str(path)


def test_wal_mode_and_every_note_change_is_queued(tmp_path: Path) -> None:
    db = LibraryDb(tmp_path / "lib.sqlite3")
    assert db._conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    db.put_note("ep", note("a", 5, "first"))
    db.put_note("ep", note("a", 5, "edited"))
    db.put_note("ep", note("b", 2, "second"))
    db.delete_note("ep", "b")
    assert db.notes("ep") == [note("a", 5, "edited")]  # the tombstone hides b
    batch = db.outbox_batch("ep")
    assert batch is not None and batch.max_seq == 4
    assert batch.upserts == (note("a", 5, "edited"),) and batch.deleted == frozenset({"b"})
    assert db.outbox_podcasts() == ["ep"]


def test_positions_keep_only_the_newest_queued_entry(tmp_path: Path) -> None:
    db = LibraryDb(tmp_path / "lib.sqlite3")
    db.set_position("ep", 10, at="2026-11-25T10:00:00.000Z")
    db.set_position("ep", 42.5, played=True, at="2026-11-25T10:05:00.000Z")
    assert db.outbox_count() == 1
    batch = db.outbox_batch("ep")
    assert batch is not None and batch.playback == Playback(42.5, True, "2026-11-25T10:05:00.000Z")
    assert db.position("ep") == Playback(42.5, True, "2026-11-25T10:05:00.000Z")


def test_offline_fetch_store_pair_queues_the_difference(tmp_path: Path) -> None:
    db = LibraryDb(tmp_path / "lib.sqlite3")
    db.put_note("ep", note("keep", 1, "unchanged"))
    db.put_note("ep", note("gone", 2, "to delete"))
    before = db.outbox_count()
    metadata = db.local_metadata("ep")
    metadata["review_notes"] = [note("keep", 1, "unchanged").to_json(), note("new", 3, "added").to_json()]
    db.store_metadata_notes("ep", metadata)
    assert [n.id for n in db.notes("ep")] == ["keep", "new"]
    assert db.outbox_count() == before + 2  # one upsert, one tombstone; "keep" was not re-queued
    batch = db.outbox_batch("ep")
    assert batch is not None and batch.deleted == frozenset({"gone"})


def test_confirm_keeps_changes_queued_after_the_batch(tmp_path: Path) -> None:
    db = LibraryDb(tmp_path / "lib.sqlite3")
    db.put_note("ep", note("a", 1, "synced"))
    batch = db.outbox_batch("ep")
    assert batch is not None
    db.put_note("ep", note("b", 2, "queued while the sync ran"))
    server = {"id": "ep", "metadata": {"review_notes": [note("a", 1, "synced").to_json(),
                                                        note("x", 9, "from another device").to_json()]}}
    db.confirm_synced("ep", batch.max_seq, server)
    assert [n.id for n in db.notes("ep")] == ["a", "b", "x"]
    left = db.outbox_batch("ep")
    assert left is not None and [n.id for n in left.upserts] == ["b"]


def test_a_killed_writer_loses_no_committed_change(tmp_path: Path) -> None:
    path = tmp_path / "lib.sqlite3"
    LibraryDb(path).close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.offline_support", "writer", json.dumps({"db": str(path)})],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    last = 0
    for line in proc.stdout:
        last = int(line.split()[1])
        if last >= 150:
            proc.send_signal(signal.SIGKILL)  # mid-loop: possibly inside a transaction
            break
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    db = LibraryDb(path)
    assert db.integrity_ok()
    notes = db.notes("ep")
    steps = len(notes)
    assert steps >= last  # everything reported as committed is there (maybe one more)
    assert [n.id for n in notes] == [f"note-{i}" for i in range(1, steps + 1)]
    position = db.position("ep")
    assert position is not None and position.position in (steps, steps - 1)
    batch = db.outbox_batch("ep")
    assert batch is not None and len(batch.upserts) == steps  # every note has its outbox entry
