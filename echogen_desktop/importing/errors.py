"""Why a file was not imported, in words that name the file and say what to do."""

from __future__ import annotations

import enum


class RejectReason(enum.Enum):
    UNSUPPORTED = "unsupported"
    EMPTY = "empty"
    BINARY = "binary"
    TOO_LARGE = "too_large"
    UNREADABLE = "unreadable"
    GARBLED = "garbled"  # text whose encoding cannot be told: refused rather than stored as mojibake


class ImportRejected(Exception):
    """The file cannot become a content item; ``message`` is user-facing and names the file."""

    def __init__(self, reason: RejectReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __reduce__(self) -> tuple[type[ImportRejected], tuple[RejectReason, str]]:
        # Large files are converted in a worker process: the rejection must survive pickling.
        return (ImportRejected, (self.reason, self.message))
