"""The on-disk object store: one file per object row, named by the row id.

Layout: ``<root>/<bucket dir>/<object uuid>``; uploads are written to ``.tmp-*`` files in the
same directory and renamed into place, so a reader never sees half a file. Keys never touch
the file system, which is what makes path traversal impossible here; the bucket directory
name is derived defensively because buckets can also be created by plain SQL.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

_PLAIN_BUCKET = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")


class StoreError(RuntimeError):
    """A computed path would leave the storage root (never expected; a bug guard)."""


@dataclass
class Installed:
    """A file renamed into place inside a DB transaction, undoable until the commit."""

    final: Path
    backup: Path | None

    def undo(self) -> None:
        """The transaction failed: put the previous file back (or remove the new one)."""
        if self.backup is not None:
            os.replace(self.backup, self.final)
        else:
            self.final.unlink(missing_ok=True)

    def done(self) -> None:
        """The transaction committed: the previous version is no longer needed."""
        if self.backup is not None:
            self.backup.unlink(missing_ok=True)


class ObjectStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def bucket_dir(self, bucket: str) -> Path:
        name = bucket if _PLAIN_BUCKET.match(bucket) else "x-" + bucket.encode("utf-8").hex()
        return self._inside(self.root / name)

    def object_path(self, bucket: str, object_id: uuid.UUID | str) -> Path:
        oid = uuid.UUID(str(object_id))  # a uuid can't carry path syntax
        return self._inside(self.bucket_dir(bucket) / str(oid))

    def temp_path(self, bucket: str) -> Path:
        directory = self.bucket_dir(bucket)
        directory.mkdir(parents=True, exist_ok=True)
        return directory / f".tmp-{uuid.uuid4().hex}"

    def _inside(self, path: Path) -> Path:
        resolved = path.resolve()
        if resolved.parent != self.root and self.root not in resolved.parents:
            raise StoreError(f"{path} escapes the storage root")
        return resolved

    @staticmethod
    def install(temp: Path, final: Path) -> Installed:
        """Rename ``temp`` over ``final``, keeping a hard link to the old file for undo."""
        backup: Path | None = None
        if final.exists():
            backup = final.with_name(f".old-{uuid.uuid4().hex}")
            os.link(final, backup)
        os.replace(temp, final)
        return Installed(final, backup)

    def remove(self, bucket: str, object_id: uuid.UUID | str) -> None:
        self.object_path(bucket, object_id).unlink(missing_ok=True)


# ------------------------------------------------------------------ Range


class RangeNotSatisfiable(Exception):
    """A syntactically valid byte range that lies outside the object."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(first, last)`` inclusive for a single ``bytes=`` range, or None to send everything.

    Malformed or multi-range headers are ignored (RFC 9110 allows that); a range that
    starts beyond the end raises RangeNotSatisfiable.
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_s, dash, last_s = spec.strip().partition("-")
    first_s, last_s = first_s.strip(), last_s.strip()
    if not dash or not (first_s.isdigit() or first_s == "") or not (last_s.isdigit() or last_s == ""):
        return None
    if first_s == "":
        if last_s == "":
            return None
        suffix = int(last_s)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - suffix), size - 1
    first = int(first_s)
    if last_s and int(last_s) < first:
        return None
    if first >= size:
        raise RangeNotSatisfiable
    return first, min(int(last_s) if last_s else size - 1, size - 1)
