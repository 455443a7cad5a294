"""Passphrase change: every row re-sealed under a new salt and key, ready for ONE bulk upsert.

Pure apart from randomness: nothing is sent anywhere. The caller upserts ``rows`` in a single
request (PostgREST runs a bulk upsert as one statement, so one transaction); if that fails,
the server still holds the old rows, all readable with the old passphrase, and the caller
locks ``key``. If it succeeds, ``key`` becomes the vault key and the old one is locked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from .kdf import KdfParams
from .key import VaultKey, create_vault
from .rows import open_row, seal_row


class Rekeyed(NamedTuple):
    header: dict[str, Any]  # the new metadata.vault, as stored on every row
    rows: list[dict[str, Any]]  # id, user_id, provider, key_alias, encrypted_key, metadata
    key: VaultKey  # the new vault key, already unlocked


def rekey(
    rows: Sequence[Mapping[str, Any]], old_key: VaultKey, new_passphrase: str, params: KdfParams,
    *, _test_salt: bytes | None = None,
) -> Rekeyed:
    """Open every row with ``old_key`` first (any failure raises before anything is produced),
    then derive a new key from ``new_passphrase`` with a fresh salt and re-seal each row under
    its same id, owner and provider. Other metadata (scopes, caps) is carried over."""
    plaintexts = [open_row(old_key, row) for row in rows]
    new_key = create_vault(new_passphrase, params, _test_salt=_test_salt)
    try:
        new_rows = [
            seal_row(
                new_key, plaintext, user_id=row["user_id"], provider=row["provider"],
                key_alias=row.get("key_alias"), metadata=_without_vault(row.get("metadata")), row_id=row["id"],
            )
            for row, plaintext in zip(rows, plaintexts, strict=True)
        ]
    except BaseException:
        new_key.lock()
        raise
    finally:
        plaintexts.clear()
    return Rekeyed(new_key.header.to_json(), new_rows, new_key)


def _without_vault(metadata: object) -> dict[str, Any]:
    if not isinstance(metadata, Mapping):
        return {}
    return {name: value for name, value in metadata.items() if name != "vault"}
