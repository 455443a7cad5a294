"""Strict, canonical standard base64 (RFC 4648 section 4, with padding).

Canonical means exactly one string per byte sequence: a string that decodes but does not
re-encode to itself (non-zero padding bits, missing padding, whitespace, the URL-safe alphabet)
is rejected. Otherwise a flipped bit in the last character could leave the bytes unchanged,
and a mutated ``encrypted_key`` would still decrypt.
"""

from __future__ import annotations

import base64
import binascii


def b64encode(data: bytes | bytearray | memoryview) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode_canonical(text: str) -> bytes | None:
    """The decoded bytes, or None when ``text`` is not canonical standard base64."""
    if not text.isascii():
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if b64encode(data) != text:
        return None
    return data
