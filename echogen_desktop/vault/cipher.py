"""Sealing and opening one API key: AES-256-GCM, bound to its owner, row and provider.

    encrypted_key = "v1:" + base64(nonce[12] || ciphertext || tag[16])
    aad           = UTF-8("echogen-vault/v1" NUL user_id NUL row_id NUL provider)

user_id and row_id are canonical UUID text (lowercase, hyphenated); provider is the row's
``provider`` column exactly. See docs/vault-format.md.
"""

from __future__ import annotations

import os
import re
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .encoding import b64decode_canonical, b64encode
from .errors import InvalidBinding, MalformedCiphertext, TamperedCiphertext, UnknownVersion
from .kdf import wipe
from .key import VaultKey

PREFIX = "v1:"
NONCE_BYTES = 12
TAG_BYTES = 16
MAX_PLAINTEXT_BYTES = 8192
MAX_ENCRYPTED_CHARS = len(PREFIX) + 4 * -(-(NONCE_BYTES + MAX_PLAINTEXT_BYTES + TAG_BYTES) // 3)
AAD_CONTEXT = b"echogen-vault/v1"

_VERSION = re.compile(r"v([1-9][0-9]{0,8}):", re.ASCII)


def canonical_uuid(value: str | uuid.UUID, what: str) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError):
        raise InvalidBinding(f"{what} is not a UUID") from None


def associated_data(user_id: str | uuid.UUID, row_id: str | uuid.UUID, provider: str) -> bytes:
    if not isinstance(provider, str) or not provider or "\x00" in provider:
        raise InvalidBinding("provider must be a non-empty string without NUL characters")
    parts = (canonical_uuid(user_id, "user id"), canonical_uuid(row_id, "row id"), provider)
    return b"\x00".join((AAD_CONTEXT, *(part.encode("utf-8") for part in parts)))


def new_row_id() -> str:
    """The client chooses the row id before inserting, because the ciphertext is bound to it."""
    return str(uuid.uuid4())


def encrypt_key(
    key: VaultKey, plaintext: str, *, user_id: str | uuid.UUID, row_id: str | uuid.UUID, provider: str,
    _test_nonce: bytes | None = None,
) -> str:
    """Seal ``plaintext`` with a fresh random nonce. ``_test_nonce`` is for the test vectors only."""
    aad = associated_data(user_id, row_id, provider)
    data = plaintext.encode("utf-8")
    if len(data) > MAX_PLAINTEXT_BYTES:
        raise ValueError(f"an API key may be at most {MAX_PLAINTEXT_BYTES} bytes")
    nonce = os.urandom(NONCE_BYTES) if _test_nonce is None else bytes(_test_nonce)
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"nonce must be {NONCE_BYTES} bytes")
    sealed = bytearray(len(data) + TAG_BYTES)
    AESGCM(key.material()).encrypt_into(nonce, data, aad, sealed)
    return PREFIX + b64encode(nonce + sealed)


def parse_encrypted_key(encrypted_key: object) -> tuple[bytes, bytes]:
    """(nonce, ciphertext || tag) of a v1 string; raises MalformedCiphertext or UnknownVersion."""
    if not isinstance(encrypted_key, str):
        raise MalformedCiphertext("encrypted key is not a string")
    if len(encrypted_key) > MAX_ENCRYPTED_CHARS:
        raise MalformedCiphertext("encrypted key is too long")
    if not encrypted_key.startswith(PREFIX):
        version = _VERSION.match(encrypted_key)
        if version is not None:
            raise UnknownVersion(f"encrypted key format v{version.group(1)} is not supported")
        raise MalformedCiphertext("encrypted key does not start with a version prefix like 'v1:'")
    raw = b64decode_canonical(encrypted_key[len(PREFIX):])
    if raw is None:
        raise MalformedCiphertext("encrypted key is not canonical standard base64")
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise MalformedCiphertext("encrypted key is too short")
    return raw[:NONCE_BYTES], raw[NONCE_BYTES:]


def decrypt_key(
    key: VaultKey, encrypted_key: object, *, user_id: str | uuid.UUID, row_id: str | uuid.UUID, provider: str,
) -> str:
    """The plaintext, or a VaultError; nothing is returned unless the tag verifies."""
    nonce, sealed = parse_encrypted_key(encrypted_key)
    aad = associated_data(user_id, row_id, provider)
    plain = bytearray(len(sealed) - TAG_BYTES)
    try:
        AESGCM(key.material()).decrypt_into(nonce, sealed, aad, plain)
        return plain.decode("utf-8")
    except InvalidTag:
        raise TamperedCiphertext(
            "encrypted key failed authentication: altered, moved from another row or owner, or another vault's"
        ) from None
    except UnicodeDecodeError:
        raise MalformedCiphertext("decrypted key is not UTF-8 text") from None
    finally:
        wipe(plain)
