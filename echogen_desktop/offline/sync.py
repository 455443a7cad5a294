"""Send the outbox (review notes and play positions changed offline) to the server without loss.

Per episode: take the queued entries up to some ``seq``, merge their net effect into the row's
current metadata (notes by id: the server's notes stay, ours are put in, our tombstones taken out;
playback last-writer-wins on ``updated_at``), write it with optimistic concurrency
(``Backend.update_podcast_metadata``), and only then drop exactly those entries locally.

Killed anywhere, nothing is lost: before the server write the entries are still queued; after it
and before the local confirm they are sent again, and merging the same notes and the same
position a second time changes nothing (idempotent).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from echogen_desktop.offline.library_db import LibraryDb, OutboxBatch, podcast_to_row
from echogen_desktop.player.review_notes import NOTES_KEY, merge_notes, notes_from_metadata
from echogen_desktop.services.backend import Backend
from echogen_desktop.services.errors import ErrorKind, ServiceError
from echogen_desktop.services.records import PLAYBACK_KEY, Playback

log = logging.getLogger(__name__)
JsonDict = dict[str, Any]
Checkpoint = Callable[[str], None]  # tests stop the process at these names


def merge_batch(metadata: JsonDict, batch: OutboxBatch) -> JsonDict:
    """The server's metadata with this device's queued changes merged in (pure)."""
    merged = dict(metadata)
    notes = merge_notes(notes_from_metadata(metadata), batch.upserts, batch.changed_ids, batch.deleted)
    if notes or NOTES_KEY in metadata:
        merged[NOTES_KEY] = [n.to_json() for n in notes]
    if batch.playback is not None and batch.playback.newer_than(Playback.from_json(metadata.get(PLAYBACK_KEY))):
        merged[PLAYBACK_KEY] = batch.playback.to_json()
    return merged


@dataclass
class SyncReport:
    synced: list[str] = field(default_factory=list)  # podcast ids whose queue was confirmed
    dropped: list[str] = field(default_factory=list)  # deleted on the server: nothing to merge into
    failed: dict[str, str] = field(default_factory=dict)  # podcast id -> user-facing message

    @property
    def ok(self) -> bool:
        return not self.failed


class OutboxSync:
    def __init__(self, db: LibraryDb, backend: Backend, checkpoint: Checkpoint | None = None) -> None:
        self._db = db
        self._backend = backend
        self._checkpoint = checkpoint or (lambda _name: None)

    async def run(self) -> SyncReport:
        """One pass over every episode with queued changes. Stops early when the server is unreachable."""
        report = SyncReport()
        for podcast_id in self._db.outbox_podcasts():
            try:
                await self.sync_podcast(podcast_id, report)
            except ServiceError as exc:
                report.failed[podcast_id] = exc.message
                if exc.kind in (ErrorKind.UNREACHABLE, ErrorKind.SESSION_EXPIRED):
                    break  # everything else would fail the same way; stays queued for next time
        return report

    async def sync_podcast(self, podcast_id: str, report: SyncReport | None = None) -> None:
        batch = self._db.outbox_batch(podcast_id)
        if batch is None:
            return
        self._checkpoint("before_write")
        try:
            podcast = await self._backend.update_podcast_metadata(podcast_id, lambda md: merge_batch(md, batch))
        except ServiceError as exc:
            if exc.kind is not ErrorKind.NOT_FOUND:
                raise
            log.info("episode %s is gone from the server; dropping its queued review changes", podcast_id)
            self._db.confirm_synced(podcast_id, batch.max_seq, None)
            if report is not None:
                report.dropped.append(podcast_id)
            return
        self._checkpoint("after_write")
        self._db.confirm_synced(podcast_id, batch.max_seq, podcast_to_row(podcast))
        self._checkpoint("after_confirm")
        if report is not None:
            report.synced.append(podcast_id)
