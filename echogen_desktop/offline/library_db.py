"""The offline library: a SQLite database in the platform's data directory.

It holds the downloaded episodes (the ``generated_podcasts`` row, the script with its segments,
where the audio and cover art files are), play positions, review notes, and an outbox of changes
made here that the server has not confirmed yet.

Durability: WAL journal, ``synchronous=FULL``, and every write is one ``BEGIN IMMEDIATE``
transaction, so a process killed at any point leaves the last committed state intact. A local
change and its outbox entry are written in the same transaction: one never exists without the other.

Play positions on the server live in ``generated_podcasts.metadata.playback`` as
``{"position": seconds, "played": bool, "updated_at": ISO 8601}`` (last writer wins by
``updated_at``); review notes in ``metadata.review_notes`` (see ``player/review_notes.py``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

from echogen_desktop import APP_NAME, ORG_NAME
from echogen_desktop.player.review_notes import NOTES_KEY, ReviewNote, notes_from_metadata
from echogen_desktop.services.records import PLAYBACK_KEY, Playback, Podcast, Script

JsonDict = dict[str, Any]
SCHEMA_VERSION = 1

_SCHEMA = """
create table if not exists episodes (
  podcast_id text primary key,
  title text not null,
  podcast_json text not null,
  script_json text,
  audio_file text not null,
  audio_size integer not null,
  audio_etag text,
  cover_file text,
  cover_size integer not null default 0,
  downloaded_at text not null
);
create table if not exists notes (
  podcast_id text not null,
  note_id text not null,
  t real not null,
  text text not null,
  created_at text not null,
  deleted integer not null default 0,  -- a tombstone until the server confirms the deletion
  primary key (podcast_id, note_id)
);
create table if not exists positions (
  podcast_id text primary key,
  position real not null,
  played integer not null,
  updated_at text not null
);
create table if not exists outbox (
  seq integer primary key autoincrement,
  podcast_id text not null,
  kind text not null,  -- note_upsert | note_delete | position
  key text not null,
  payload text not null,
  queued_at text not null
);
create index if not exists outbox_podcast on outbox (podcast_id, seq);
create table if not exists downloads (  -- asked for and not finished: resumed at the next start
  podcast_id text primary key,
  title text not null,
  queued_at text not null
);
"""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def default_data_dir() -> Path:
    """The platform's per-user data directory for the app (created on first use)."""
    return Path(platformdirs.user_data_dir(APP_NAME, ORG_NAME))


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def podcast_to_row(podcast: Podcast) -> JsonDict:
    """The ``generated_podcasts`` row a Podcast record came from (round-trips through from_row)."""
    return {
        "id": podcast.id, "script_id": podcast.script_id, "audio_path": podcast.audio_path,
        "cover_art_path": podcast.cover_art_path, "duration_seconds": podcast.duration_seconds,
        "metadata": podcast.metadata, "created_at": _iso(podcast.created_at), "updated_at": _iso(podcast.updated_at),
    }


def script_to_row(script: Script) -> JsonDict:
    return {
        "id": script.id, "model": script.model, "language": script.language, "created_at": _iso(script.created_at),
        "source_content_id": script.source_content_id, "prompt": script.prompt,
        "segments": [s.to_json() for s in script.segments], "metadata": script.metadata,
        "updated_at": _iso(script.updated_at),
    }


@dataclass(frozen=True)
class EpisodeRecord:
    podcast: Podcast
    script: Script | None
    audio_file: Path  # absolute
    audio_size: int
    audio_etag: str | None
    cover_file: Path | None
    cover_size: int
    downloaded_at: str

    @property
    def podcast_id(self) -> str:
        return self.podcast.id

    @property
    def title(self) -> str:
        return self.podcast.title

    @property
    def disk_bytes(self) -> int:
        return self.audio_size + self.cover_size


@dataclass(frozen=True)
class OutboxBatch:
    """Everything queued for one episode up to ``max_seq``: the net effect to merge into the server."""

    podcast_id: str
    max_seq: int
    upserts: tuple[ReviewNote, ...]  # the latest version of each note changed here
    deleted: frozenset[str]
    playback: Playback | None

    @property
    def changed_ids(self) -> frozenset[str]:
        return frozenset(n.id for n in self.upserts)


class LibraryDb:
    """One connection, used from one thread (the app's loop thread; a test or sync process has its own)."""

    def __init__(self, path: Path, *, root: Path | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.root = root if root is not None else path.parent  # downloaded files are stored relative to it
        self._conn = sqlite3.connect(str(path), isolation_level=None, timeout=10.0)
        self._conn.execute("pragma journal_mode=wal")
        self._conn.execute("pragma synchronous=full")
        self._conn.execute("pragma busy_timeout=10000")
        if self._conn.execute("pragma user_version").fetchone()[0] < SCHEMA_VERSION:
            self._conn.executescript(_SCHEMA + f"pragma user_version={SCHEMA_VERSION};")

    @classmethod
    def open_default(cls) -> LibraryDb:
        root = default_data_dir()
        return cls(root / "library.sqlite3", root=root)

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        cur = self._conn.cursor()
        cur.execute("begin immediate")
        try:
            yield cur
        except BaseException:
            cur.execute("rollback")
            raise
        cur.execute("commit")

    def integrity_ok(self) -> bool:
        return bool(self._conn.execute("pragma integrity_check").fetchone()[0] == "ok")

    # ------------------------------------------------------------------ paths
    def _rel(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path.resolve())

    def _abs(self, stored: str) -> Path:
        path = Path(stored)
        return path if path.is_absolute() else self.root / path

    # ------------------------------------------------------------------ episodes
    def save_episode(self, record: EpisodeRecord) -> None:
        """Store a finished download: the rows, the files, and the server's notes and playback."""
        podcast = record.podcast
        with self._tx() as cur:
            cur.execute(
                "insert or replace into episodes values (?,?,?,?,?,?,?,?,?,?)",
                (podcast.id, podcast.title, json.dumps(podcast_to_row(podcast)),
                 json.dumps(script_to_row(record.script)) if record.script else None,
                 self._rel(record.audio_file), record.audio_size, record.audio_etag,
                 self._rel(record.cover_file) if record.cover_file else None, record.cover_size,
                 record.downloaded_at),
            )
            self._apply_server_state(cur, podcast.id, podcast.metadata)
            cur.execute("delete from downloads where podcast_id = ?", (podcast.id,))

    def episodes(self) -> list[EpisodeRecord]:
        rows = self._conn.execute("select * from episodes order by downloaded_at desc, podcast_id").fetchall()
        return [self._record(row) for row in rows]

    def episode(self, podcast_id: str) -> EpisodeRecord | None:
        row = self._conn.execute("select * from episodes where podcast_id = ?", (podcast_id,)).fetchone()
        return self._record(row) if row else None

    def _record(self, row: Sequence[Any]) -> EpisodeRecord:
        (_id, _title, podcast_json, script_json, audio_file, audio_size, audio_etag,
         cover_file, cover_size, downloaded_at) = row
        podcast = Podcast.from_row(json.loads(podcast_json))
        return EpisodeRecord(
            podcast=podcast, script=Script.from_row(json.loads(script_json)) if script_json else None,
            audio_file=self._abs(audio_file), audio_size=int(audio_size), audio_etag=audio_etag,
            cover_file=self._abs(cover_file) if cover_file else None, cover_size=int(cover_size),
            downloaded_at=str(downloaded_at),
        )

    def downloaded_ids(self) -> set[str]:
        """For list views that mark downloaded episodes."""
        return {str(row[0]) for row in self._conn.execute("select podcast_id from episodes").fetchall()}

    def remove_episode(self, podcast_id: str) -> None:
        """Forget a download. Notes and positions not yet synced stay queued: removing a file loses no review."""
        with self._tx() as cur:
            cur.execute("delete from episodes where podcast_id = ?", (podcast_id,))
            cur.execute("delete from downloads where podcast_id = ?", (podcast_id,))
            cur.execute(
                "delete from notes where podcast_id = ? and note_id not in "
                "(select key from outbox where podcast_id = ? and kind like 'note_%')", (podcast_id, podcast_id),
            )

    def disk_usage(self) -> int:
        row = self._conn.execute("select coalesce(sum(audio_size + cover_size), 0) from episodes").fetchone()
        return int(row[0])

    # ------------------------------------------------------------------ wanted downloads
    def want_download(self, podcast_id: str, title: str) -> None:
        with self._tx() as cur:
            cur.execute("insert or ignore into downloads values (?,?,?)", (podcast_id, title, now_iso()))

    def forget_download(self, podcast_id: str) -> None:
        with self._tx() as cur:
            cur.execute("delete from downloads where podcast_id = ?", (podcast_id,))

    def pending_downloads(self) -> list[tuple[str, str]]:
        """(podcast id, title) of downloads asked for and not finished (resumed after a restart)."""
        rows = self._conn.execute("select podcast_id, title from downloads order by queued_at").fetchall()
        return [(str(a), str(b)) for a, b in rows]

    # ------------------------------------------------------------------ notes
    def notes(self, podcast_id: str) -> list[ReviewNote]:
        rows = self._conn.execute(
            "select note_id, t, text, created_at from notes where podcast_id = ? and deleted = 0 "
            "order by t, created_at", (podcast_id,),
        ).fetchall()
        return [ReviewNote(str(i), float(t), str(text), str(c)) for i, t, text, c in rows]

    def put_note(self, podcast_id: str, note: ReviewNote) -> None:
        """Add or edit a note here, and queue it for the server."""
        with self._tx() as cur:
            self._put_note(cur, podcast_id, note)

    def delete_note(self, podcast_id: str, note_id: str) -> None:
        with self._tx() as cur:
            self._delete_note(cur, podcast_id, note_id)

    def _put_note(self, cur: sqlite3.Cursor, podcast_id: str, note: ReviewNote) -> None:
        cur.execute("insert or replace into notes values (?,?,?,?,?,0)",
                    (podcast_id, note.id, note.t, note.text, note.created_at))
        self._queue(cur, podcast_id, "note_upsert", note.id, note.to_json())

    def _delete_note(self, cur: sqlite3.Cursor, podcast_id: str, note_id: str) -> None:
        cur.execute("update notes set deleted = 1 where podcast_id = ? and note_id = ?", (podcast_id, note_id))
        self._queue(cur, podcast_id, "note_delete", note_id, {"id": note_id})

    def local_metadata(self, podcast_id: str) -> JsonDict:
        """The episode's metadata as this device sees it (server copy + local notes): ``fetch`` for
        ``ReviewNotesModel.save`` while offline."""
        record = self.episode(podcast_id)
        metadata = dict(record.podcast.metadata) if record else {}
        metadata[NOTES_KEY] = [n.to_json() for n in self.notes(podcast_id)]
        return metadata

    def store_metadata_notes(self, podcast_id: str, metadata: Mapping[str, Any]) -> None:
        """``store`` for ``ReviewNotesModel.save`` while offline: queue the difference between the
        given notes and the local ones (added/edited → upserts, missing → tombstones), in one transaction."""
        wanted = {n.id: n for n in notes_from_metadata(metadata)}
        with self._tx() as cur:
            current = {n.id: n for n in self.notes(podcast_id)}
            for note_id, note in wanted.items():
                if current.get(note_id) != note:
                    self._put_note(cur, podcast_id, note)
            for note_id in current.keys() - wanted.keys():
                self._delete_note(cur, podcast_id, note_id)

    # ------------------------------------------------------------------ positions
    def set_position(self, podcast_id: str, position: float, played: bool = False, at: str | None = None) -> Playback:
        """Remember the position here and queue it; only the newest queued position matters (LWW)."""
        playback = Playback(round(max(0.0, position), 3), played, at or now_iso())
        with self._tx() as cur:
            cur.execute("insert or replace into positions values (?,?,?,?)",
                        (podcast_id, playback.position, int(playback.played), playback.updated_at))
            cur.execute("delete from outbox where podcast_id = ? and kind = 'position'", (podcast_id,))
            self._queue(cur, podcast_id, "position", "", playback.to_json())
        return playback

    def position(self, podcast_id: str) -> Playback | None:
        row = self._conn.execute(
            "select position, played, updated_at from positions where podcast_id = ?", (podcast_id,)
        ).fetchone()
        return Playback(float(row[0]), bool(row[1]), str(row[2])) if row else None

    # ------------------------------------------------------------------ outbox
    def _queue(self, cur: sqlite3.Cursor, podcast_id: str, kind: str, key: str, payload: JsonDict) -> None:
        cur.execute(
            "insert into outbox (podcast_id, kind, key, payload, queued_at) values (?,?,?,?,?)",
            (podcast_id, kind, key, json.dumps(payload), now_iso()),
        )

    def outbox_count(self) -> int:
        return int(self._conn.execute("select count(*) from outbox").fetchone()[0])

    def outbox_podcasts(self) -> list[str]:
        rows = self._conn.execute("select podcast_id, min(seq) from outbox group by podcast_id order by 2").fetchall()
        return [str(row[0]) for row in rows]

    def outbox_batch(self, podcast_id: str) -> OutboxBatch | None:
        """The net effect of the queued entries, in order: a later upsert or delete of a note wins."""
        rows = self._conn.execute(
            "select seq, kind, key, payload from outbox where podcast_id = ? order by seq", (podcast_id,)
        ).fetchall()
        if not rows:
            return None
        upserts: dict[str, ReviewNote] = {}
        deleted: set[str] = set()
        playback: Playback | None = None
        for _seq, kind, key, payload in rows:
            data = json.loads(payload)
            if kind == "note_upsert":
                note = ReviewNote.from_json(data)
                if note is not None:
                    upserts[note.id] = note
                    deleted.discard(note.id)
            elif kind == "note_delete":
                upserts.pop(str(key), None)
                deleted.add(str(key))
            elif kind == "position":
                playback = Playback.from_json(data) or playback
        return OutboxBatch(podcast_id, int(rows[-1][0]), tuple(upserts.values()), frozenset(deleted), playback)

    def confirm_synced(self, podcast_id: str, max_seq: int, server_row: Mapping[str, Any] | None) -> None:
        """The server holds everything queued up to ``max_seq``: drop those entries and take the
        server's notes and playback, keeping local changes queued after the batch."""
        with self._tx() as cur:
            cur.execute("delete from outbox where podcast_id = ? and seq <= ?", (podcast_id, max_seq))
            if server_row is None:
                return
            found = cur.execute("select podcast_json from episodes where podcast_id = ?", (podcast_id,)).fetchone()
            if found:
                cur.execute("update episodes set podcast_json = ? where podcast_id = ?",
                            (json.dumps(dict(server_row)), podcast_id))
            metadata = server_row.get("metadata")
            self._apply_server_state(cur, podcast_id, metadata if isinstance(metadata, Mapping) else {})

    def _apply_server_state(self, cur: sqlite3.Cursor, podcast_id: str, metadata: Mapping[str, Any]) -> None:
        """Take the server's notes and playback, except where a local change is still queued."""
        pending = {str(r[0]) for r in cur.execute(
            "select key from outbox where podcast_id = ? and kind like 'note_%'", (podcast_id,)).fetchall()}
        cur.execute("delete from notes where podcast_id = ? and note_id not in "
                    "(select key from outbox where podcast_id = ? and kind like 'note_%')", (podcast_id, podcast_id))
        for note in notes_from_metadata(metadata):
            if note.id not in pending:
                cur.execute("insert or replace into notes values (?,?,?,?,?,0)",
                            (podcast_id, note.id, note.t, note.text, note.created_at))
        remote = Playback.from_json(metadata.get(PLAYBACK_KEY))
        queued = cur.execute(
            "select 1 from outbox where podcast_id = ? and kind = 'position'", (podcast_id,)).fetchone()
        if remote is not None and not queued:
            row = cur.execute("select position, played, updated_at from positions where podcast_id = ?",
                              (podcast_id,)).fetchone()
            local = Playback(float(row[0]), bool(row[1]), str(row[2])) if row else None
            if local is None or remote.newer_than(local):
                cur.execute("insert or replace into positions values (?,?,?,?)",
                            (podcast_id, remote.position, int(remote.played), remote.updated_at))
