"""What every storage endpoint shares: errors in storage-api's shape, the caller, buckets, rows.

Handlers raise; ``endpoint`` turns every known failure into storage-api's wire shape
(HTTP 400 with the real status in ``statusCode``), so handlers stay straight-line code.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from echogen_devstack.errors import gateway_error, storage_error
from echogen_devstack.state import ApiKeyMissing, StackState, caller_claims, stack_of
from echogen_devstack.storage_download import FileMissing
from echogen_devstack.storage_files import ObjectStore
from echogen_devstack.storage_keys import InvalidBucketName, InvalidKey, check_bucket, check_key
from echogen_devstack.storage_tokens import SignedTokenError
from echogen_devstack.storage_upload import UploadRejected
from echogen_devstack.tokens import TokenExpired, TokenInvalid

log = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Response]]


class StorageFailure(Exception):
    def __init__(self, status: int, error: str, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.code = code


def object_not_found() -> StorageFailure:
    return StorageFailure(404, "not_found", "Object not found", "NoSuchKey")


def bucket_not_found() -> StorageFailure:
    return StorageFailure(404, "Bucket not found", "Bucket not found", "NoSuchBucket")


def bad_request(message: str) -> StorageFailure:
    return StorageFailure(400, "InvalidRequest", message, "InvalidRequest")


def endpoint(handler: Handler) -> Handler:
    """Run a handler and render any failure as storage-api does."""

    @functools.wraps(handler)
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except StorageFailure as exc:
            return storage_error(exc.status, exc.error, exc.message, code=exc.code)
        except ApiKeyMissing:
            return gateway_error(401, "No API key found in request")
        except TokenExpired:
            return storage_error(403, "Unauthorized", "jwt expired", code="AccessDenied")
        except TokenInvalid as exc:
            message = "invalid signature" if "ignature" in str(exc) else "jwt malformed"
            return storage_error(403, "Unauthorized", message, code="AccessDenied")
        except InvalidKey as exc:
            return storage_error(400, "InvalidKey", f"Invalid key: {exc}", code="InvalidKey")
        except InvalidBucketName:
            return storage_error(400, "Invalid Input", "Bucket name invalid", code="InvalidBucketName")
        except UploadRejected as exc:
            return storage_error(exc.status, exc.error, exc.message, code=exc.code)
        except SignedTokenError as exc:
            return storage_error(400, exc.error, exc.message, code=exc.code)
        except FileMissing:
            return storage_error(404, "not_found", "Object not found", code="NoSuchKey")
        except asyncpg.PostgresError as exc:
            failure = database_failure(exc)
            return storage_error(failure.status, failure.error, failure.message, code=failure.code)
        except Exception:  # still answer in storage-api's shape, so clients can parse it
            log.exception("storage request failed: %s %s", request.method, request.url.path)
            return storage_error(500, "InternalError", "Internal server error", code="InternalError")

    return run


def database_failure(exc: asyncpg.PostgresError) -> StorageFailure:
    if isinstance(exc, asyncpg.InsufficientPrivilegeError):
        return StorageFailure(
            403, "Unauthorized", "new row violates row-level security policy", "AccessDenied"
        )
    if isinstance(exc, asyncpg.UniqueViolationError):
        return StorageFailure(409, "Duplicate", "The resource already exists", "KeyAlreadyExists")
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        return bucket_not_found()
    if isinstance(exc, asyncpg.QueryCanceledError):
        return StorageFailure(544, "DatabaseTimeout", "The connection to the database timed out",
                              "DatabaseTimeout")
    if isinstance(exc, asyncpg.DataError):
        return bad_request(str(exc))
    log.exception("storage database error", exc_info=exc)
    return StorageFailure(500, "DatabaseError", "Internal server error", "DatabaseError")


# ------------------------------------------------------------------ request bits


def caller(request: Request) -> dict[str, Any]:
    return caller_claims(request)


def owner_of(claims: dict[str, Any]) -> tuple[uuid.UUID | None, str | None]:
    """``(owner, owner_id)`` for rows the caller creates: the JWT ``sub``."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        return None, None
    try:
        return uuid.UUID(sub), sub
    except ValueError:
        return None, sub


def path_params(request: Request) -> tuple[str, str]:
    """The ``{bucket}/{key}`` of the URL, validated."""
    return check_bucket(request.path_params["bucket"]), check_key(request.path_params["key"])


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise bad_request("Body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise bad_request("Body must be a JSON object")
    return data


def store_of(stack: StackState) -> ObjectStore:
    return ObjectStore(stack.storage_root)


def iso(value: datetime | None) -> str | None:
    """Timestamps as storage-api (node) prints them: ``2025-01-01T00:00:00.000Z``."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_field(value: Any) -> Any:
    """asyncpg hands jsonb over as text."""
    return json.loads(value) if isinstance(value, str) else value


def object_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "bucket_id": row["bucket_id"],
        "name": row["name"],
        "owner": str(row["owner"]) if row["owner"] else None,
        "owner_id": row["owner_id"],
        "id": str(row["id"]),
        "updated_at": iso(row["updated_at"]),
        "created_at": iso(row["created_at"]),
        "last_accessed_at": iso(row["last_accessed_at"]),
        "metadata": json_field(row["metadata"]),
        "user_metadata": json_field(row["user_metadata"]),
        "version": None,
    }


# ------------------------------------------------------------------ buckets

GLOBAL_FILE_SIZE_LIMIT = 50 * 1024**3


@dataclass(frozen=True)
class BucketInfo:
    id: str
    public: bool
    file_size_limit: int | None
    allowed_mime_types: list[str] | None

    def size_limit(self) -> int:
        if self.file_size_limit is None:
            return GLOBAL_FILE_SIZE_LIMIT
        return min(self.file_size_limit, GLOBAL_FILE_SIZE_LIMIT)


async def bucket_info(stack: StackState, bucket: str) -> BucketInfo:
    """Bucket limits, read as superuser like storage-api (users can't see storage.buckets)."""
    row = await stack.db.admin.fetchrow(
        "select id, public, file_size_limit, allowed_mime_types from storage.buckets where id = $1",
        bucket,
    )
    if row is None:
        raise bucket_not_found()
    return BucketInfo(row["id"], row["public"], row["file_size_limit"], row["allowed_mime_types"])


def mime_allowed(mimetype: str, allowed: list[str]) -> bool:
    """storage-api's rule: compare ``type/subtype`` exactly, or ``type/*``."""
    parts = mimetype.split("/")
    if len(parts) < 2:
        return False
    kind, sub = parts[0], parts[1]
    for entry in allowed:
        a_kind, _, a_sub = entry.partition("/")
        if a_kind == kind and a_sub in ("*", sub):
            return True
    return False


def stack(request: Request) -> StackState:
    return stack_of(request)
