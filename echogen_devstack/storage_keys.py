"""Validation of bucket ids and object keys, wherever they arrive (URL path or JSON body).

Keys are only ever compared in SQL and never become file names (objects live on disk under
their row id), but a key that looks like a path trick is refused anyway, as storage-api
refuses keys it considers invalid, so clients learn early and the database stays clean.
"""

from __future__ import annotations

MAX_KEY_BYTES = 1024
MAX_BUCKET_CHARS = 100
EMPTY_FOLDER_PLACEHOLDER = ".emptyFolderPlaceholder"


class InvalidKey(ValueError):
    """The object key (or prefix) is not acceptable."""


class InvalidBucketName(ValueError):
    """The bucket id is not acceptable."""


def _has_control(text: str) -> bool:
    return any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text)


def check_key(key: object) -> str:
    """Return ``key`` if it is a clean relative object key, else raise InvalidKey."""
    if not isinstance(key, str) or not key:
        raise InvalidKey(str(key))
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidKey(key)
    if key.startswith("/") or "\\" in key or _has_control(key):
        raise InvalidKey(key)
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise InvalidKey(key)
    return key


def check_prefix(prefix: object) -> str:
    """A folder prefix for list: empty, or a clean key with an optional trailing ``/``."""
    if prefix is None or prefix == "":
        return ""
    if not isinstance(prefix, str):
        raise InvalidKey(str(prefix))
    check_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


def check_bucket(bucket: object) -> str:
    if not isinstance(bucket, str) or not bucket or len(bucket) > MAX_BUCKET_CHARS:
        raise InvalidBucketName(str(bucket))
    if bucket in (".", "..") or "/" in bucket or "\\" in bucket or _has_control(bucket):
        raise InvalidBucketName(bucket)
    return bucket


def is_empty_folder(key: str) -> bool:
    return key.rsplit("/", 1)[-1] == EMPTY_FOLDER_PLACEHOLDER
