"""The unlocked vault key: created from a new passphrase, or recovered by unlocking a header."""

from __future__ import annotations

import hmac
import os
from types import TracebackType
from typing import NoReturn

from .errors import VaultLocked, WrongPassphrase
from .header import VaultHeader
from .kdf import SALT_BYTES, KdfParams, derive, wipe


class VaultKey:
    """The AES-256-GCM key of one vault, in a bytearray that ``lock()`` overwrites.

    Not copyable or picklable, and its repr shows only whether it is locked, so the key cannot
    leak into a log, a crash report or a cache by accident.
    """

    __slots__ = ("_key", "header")

    def __init__(self, header: VaultHeader, key: bytearray) -> None:
        self.header = header
        self._key: bytearray | None = key

    @property
    def locked(self) -> bool:
        return self._key is None

    def lock(self) -> None:
        """Overwrite the key in memory and forget it; every later use raises VaultLocked."""
        if self._key is not None:
            # Inline rather than kdf.wipe: __del__ may run at shutdown, after module globals are gone.
            self._key[:] = bytes(len(self._key))
            self._key = None

    wipe = lock

    def material(self) -> bytearray:
        """The key bytes for one cipher operation; do not keep a reference to them."""
        if self._key is None:
            raise VaultLocked("the vault is locked")
        return self._key

    def __enter__(self) -> VaultKey:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.lock()

    def __del__(self) -> None:
        self.lock()

    def __repr__(self) -> str:
        return f"<VaultKey {'locked' if self.locked else 'unlocked'}>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a VaultKey cannot be pickled")

    def __copy__(self) -> NoReturn:
        raise TypeError("a VaultKey cannot be copied")

    def __deepcopy__(self, memo: object) -> NoReturn:
        raise TypeError("a VaultKey cannot be copied")


def create_vault(passphrase: str, params: KdfParams, *, _test_salt: bytes | None = None) -> VaultKey:
    """A new vault: fresh random salt, key derived from ``passphrase``, header with its key-check.

    ``_test_salt`` exists only to reproduce the published test vectors.
    """
    if not passphrase:
        raise ValueError("the vault passphrase must not be empty")
    salt = os.urandom(SALT_BYTES) if _test_salt is None else bytes(_test_salt)
    key, check = derive(passphrase, salt, params)
    try:
        return VaultKey(VaultHeader(params, salt, bytes(check)), key)
    finally:
        wipe(check)


def unlock(header: VaultHeader, passphrase: str) -> VaultKey:
    """Derive the key again and verify it against the header's key-check value."""
    key, check = derive(passphrase, header.salt, header.params)
    try:
        matches = hmac.compare_digest(check, header.check)
    finally:
        wipe(check)
    if not matches:
        wipe(key)
        raise WrongPassphrase("the vault passphrase is wrong")
    return VaultKey(header, key)
