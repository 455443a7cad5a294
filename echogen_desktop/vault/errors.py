"""Every way opening or writing the vault can fail, one class each, all under VaultError.

Messages are fixed, generic sentences: they never contain a passphrase, a key, a plaintext or
the ciphertext itself, so showing or logging them is safe.
"""

from __future__ import annotations


class VaultError(Exception):
    """Base class: catch this to handle any vault failure."""


class WrongPassphrase(VaultError):
    """The passphrase does not match the vault's key-check value."""


class TamperedCiphertext(VaultError):
    """Authentication failed: the ciphertext was altered, or it belongs to another row,
    owner or provider (associated-data mismatch), or it was sealed under another vault key."""


class UnknownVersion(VaultError):
    """A well-formed string or header of a format version (or KDF) this client does not know."""


class MalformedCiphertext(VaultError):
    """An ``encrypted_key`` that is not a valid ``v1:`` string: bad prefix, bad base64, wrong length."""


class MalformedHeader(VaultError):
    """A ``metadata.vault`` header that is missing, of the wrong shape, or has bad encodings."""


class InsecureParameters(MalformedHeader):
    """KDF parameters outside the allowed range (weaker than the minimum, or absurdly large).
    Refused so a server cannot downgrade the key derivation or exhaust the client's memory."""


class InconsistentVault(VaultError):
    """Rows of one user carry different vault headers (different salts or parameters)."""


class InvalidBinding(VaultError, ValueError):
    """A user id, row id or provider that cannot be bound into the associated data."""


class VaultLocked(VaultError):
    """The key was locked (wiped); unlock the vault again."""
