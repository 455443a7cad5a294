"""A local record of uploads that have no content row yet.

One small JSON file per in-flight upload, written (atomically) before the upload starts and
removed once the object is either referenced by its row or deleted. Whatever is left at the next
start is an upload the app was killed in the middle of: ``ImportPipeline.recover`` cleans it up.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JournalEntry:
    row_id: str
    user_id: str
    bucket: str
    object_path: str
    filename: str
    started_at: str  # ISO 8601, for the curious; recovery does not depend on it


class UploadJournal:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _file(self, row_id: str) -> Path:
        return self.directory / f"{row_id}.json"

    def add(self, entry: JournalEntry) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self._file(entry.row_id)
        temp = target.with_suffix(".tmp")
        with temp.open("w", encoding="utf-8") as handle:
            json.dump(asdict(entry), handle)
            handle.flush()
            os.fsync(handle.fileno())  # the entry must survive a kill right after the upload
        os.replace(temp, target)

    def remove(self, row_id: str) -> None:
        self._file(row_id).unlink(missing_ok=True)

    def entries(self, user_id: str | None = None) -> list[JournalEntry]:
        found: list[JournalEntry] = []
        if not self.directory.is_dir():
            return found
        for path in sorted(self.directory.glob("*.json")):
            try:
                entry = JournalEntry(**json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError) as exc:
                log.warning("ignoring unreadable upload journal entry %s: %s", path.name, exc)
                continue
            if user_id is None or entry.user_id == user_id:
                found.append(entry)
        return found
