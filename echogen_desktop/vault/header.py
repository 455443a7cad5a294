"""The vault header: KDF parameters, salt and key-check value, stored in plaintext as
``metadata.vault`` on every row of ``user_api_keys``::

    {"v": 1, "kdf": "argon2id", "m": 65536, "t": 18, "p": 1,
     "salt": "<base64, 16 bytes>", "check": "<base64, 32 bytes>"}

Every row of one user carries the same header, so any row lets a client derive the key again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .encoding import b64decode_canonical, b64encode
from .errors import InconsistentVault, MalformedHeader, UnknownVersion
from .kdf import CHECK_BYTES, SALT_BYTES, KdfParams

FORMAT_VERSION = 1
KDF_NAME = "argon2id"


@dataclass(frozen=True)
class VaultHeader:
    params: KdfParams
    salt: bytes
    check: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "v": FORMAT_VERSION, "kdf": KDF_NAME,
            "m": self.params.memory_kib, "t": self.params.iterations, "p": self.params.lanes,
            "salt": b64encode(self.salt), "check": b64encode(self.check),
        }

    @classmethod
    def from_json(cls, obj: object) -> VaultHeader:
        """Parse and validate a header; unknown extra fields are ignored (forward compatible)."""
        if not isinstance(obj, Mapping):
            raise MalformedHeader("vault header is not a JSON object")
        version = obj.get("v")
        if type(version) is not int:
            raise MalformedHeader("vault header has no integer version 'v'")
        if version != FORMAT_VERSION:
            raise UnknownVersion(f"vault header version {version} is not supported")
        if obj.get("kdf") != KDF_NAME:
            raise UnknownVersion("vault header names a key derivation function this client does not support")
        numbers = []
        for name in ("m", "t", "p"):
            value = obj.get(name)
            if type(value) is not int:
                raise MalformedHeader(f"vault header field '{name}' is not an integer")
            numbers.append(value)
        params = KdfParams(*numbers)
        params.validate()
        return cls(params, _bytes_field(obj, "salt", SALT_BYTES), _bytes_field(obj, "check", CHECK_BYTES))


def _bytes_field(obj: Mapping[str, object], name: str, size: int) -> bytes:
    value = obj.get(name)
    data = b64decode_canonical(value) if isinstance(value, str) else None
    if data is None or len(data) != size:
        raise MalformedHeader(f"vault header field '{name}' is not canonical base64 of {size} bytes")
    return data


def header_of_row(row: Mapping[str, Any]) -> VaultHeader:
    metadata = row.get("metadata")
    if not isinstance(metadata, Mapping) or "vault" not in metadata:
        raise MalformedHeader("row has no metadata.vault header")
    return VaultHeader.from_json(metadata["vault"])


def header_of_rows(rows: Iterable[Mapping[str, Any]]) -> VaultHeader | None:
    """The one header all rows share; None for an empty vault (nothing stored yet)."""
    found: VaultHeader | None = None
    for row in rows:
        header = header_of_row(row)
        if found is None:
            found = header
        elif header != found:
            raise InconsistentVault("rows carry different vault headers")
    return found
