"""The encrypted API-key vault (format v1): Argon2id + HKDF key derivation, AES-256-GCM per key,
bound to owner, row and provider. No Qt here; the format is specified in docs/vault-format.md."""

from __future__ import annotations

from .cipher import associated_data, decrypt_key, encrypt_key, new_row_id, parse_encrypted_key
from .errors import (
    InconsistentVault,
    InsecureParameters,
    InvalidBinding,
    MalformedCiphertext,
    MalformedHeader,
    TamperedCiphertext,
    UnknownVersion,
    VaultError,
    VaultLocked,
    WrongPassphrase,
)
from .header import VaultHeader, header_of_row, header_of_rows
from .kdf import Calibration, KdfParams, calibrate, time_derivation
from .key import VaultKey, create_vault, unlock
from .rekey import Rekeyed, rekey
from .rows import open_row, seal_row

__all__ = [
    "Calibration",
    "InconsistentVault",
    "InsecureParameters",
    "InvalidBinding",
    "KdfParams",
    "MalformedCiphertext",
    "MalformedHeader",
    "Rekeyed",
    "TamperedCiphertext",
    "UnknownVersion",
    "VaultError",
    "VaultHeader",
    "VaultKey",
    "VaultLocked",
    "WrongPassphrase",
    "associated_data",
    "calibrate",
    "create_vault",
    "decrypt_key",
    "encrypt_key",
    "header_of_row",
    "header_of_rows",
    "new_row_id",
    "open_row",
    "parse_encrypted_key",
    "rekey",
    "seal_row",
    "time_derivation",
    "unlock",
]
