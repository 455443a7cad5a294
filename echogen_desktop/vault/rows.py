"""``user_api_keys`` rows: seal a new key into a row dict, open a fetched row."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from .cipher import decrypt_key, encrypt_key, new_row_id
from .errors import InconsistentVault, MalformedHeader
from .header import header_of_row
from .key import VaultKey

ROW_COLUMNS = ("id", "user_id", "provider", "key_alias", "encrypted_key", "metadata")


def seal_row(
    key: VaultKey, plaintext: str, *, user_id: str | uuid.UUID, provider: str, key_alias: str | None = None,
    metadata: Mapping[str, Any] | None = None, row_id: str | uuid.UUID | None = None,
) -> dict[str, Any]:
    """A row ready to insert or upsert: a client-chosen id, the sealed key, and the vault header
    in ``metadata.vault`` (other metadata, such as scopes and caps, is kept as given)."""
    rid = str(row_id) if row_id is not None else new_row_id()
    return {
        "id": rid,
        "user_id": str(user_id),
        "provider": provider,
        "key_alias": key_alias,
        "encrypted_key": encrypt_key(key, plaintext, user_id=user_id, row_id=rid, provider=provider),
        "metadata": {**(metadata or {}), "vault": key.header.to_json()},
    }


def open_row(key: VaultKey, row: Mapping[str, Any]) -> str:
    """The plaintext key of a fetched row, checked against its owner, id and provider."""
    if header_of_row(row) != key.header:
        raise InconsistentVault("this row was sealed under a different vault header (salt or parameters)")
    for column in ("id", "user_id", "provider"):
        if not isinstance(row.get(column), str):
            raise MalformedHeader(f"row has no '{column}' text")
    return decrypt_key(
        key, row.get("encrypted_key"), user_id=row["user_id"], row_id=row["id"], provider=row["provider"]
    )
