"""Bytes to text without mojibake: BOMs first, then strict UTF-8, then a legacy 8-bit guess.

A file that looks binary (NUL bytes, a known binary signature, many control characters) is
refused, and so is text that still reads as UTF-8-decoded-as-cp1252 after one repair attempt.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

import charset_normalizer

from echogen_desktop.importing.errors import ImportRejected, RejectReason

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Signatures of common binary formats someone might rename to .txt.
_BINARY_MAGIC: tuple[bytes, ...] = (
    b"%PDF-", b"PK\x03\x04", b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"\x7fELF", b"\x1f\x8b\x08",
    b"\xfd7zXZ\x00", b"7z\xbc\xaf", b"Rar!\x1a", b"\xd0\xcf\x11\xe0",
)

# UTF-8 lead bytes read as cp1252 (Ã, Â, â, ...) followed by a continuation byte read as cp1252.
_CONTINUATION = "".join(bytes([b]).decode("cp1252", errors="ignore") for b in range(0x80, 0xC0))
_LEADS = "".join(bytes([b]).decode("cp1252", errors="ignore") for b in range(0xC2, 0xF0))
_MOJIBAKE = re.compile(f"[{re.escape(_LEADS)}][{re.escape(_CONTINUATION)}]")
_ALLOWED_CONTROLS = {"\t", "\n", "\r", "\f", "\v"}


def looks_binary(head: bytes) -> bool:
    """True for data no text format starts with (checked on the first few KB, before decoding)."""
    if any(head.startswith(magic) for magic in _BINARY_MAGIC):
        return True
    return b"\x00" in head and not any(head.startswith(bom) for bom, _ in _BOMS)


def _legacy_encoding(data: bytes) -> str | None:
    """charset-normalizer's guess among 8-bit code pages, preferring cp1252 when it ties."""
    matches = [m for m in charset_normalizer.from_bytes(data) if not m.encoding.startswith(("utf_16", "utf_32"))]
    if not matches:
        return None
    best = matches[0]
    tier = [m for m in matches if m.chaos <= best.chaos + 0.01 and m.coherence >= best.coherence - 0.01]
    if any("cp1252" in m.could_be_from_charset for m in tier):
        return "cp1252"
    return str(best.encoding)


def blocks(text: str, size: int = 1 << 20) -> list[str]:
    """``text`` cut after runs of newlines into ~1 MB pieces: a regex over one piece holds the GIL
    briefly, so a worker thread scanning a 50 MB file does not freeze the UI thread."""
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end = text.find("\n", start + size)
        if end < 0:
            end = len(text)
        while end < len(text) and text[end] == "\n":
            end += 1
        pieces.append(text[start:end])
        start = end
    return pieces


def mojibake_count(text: str) -> int:
    if text.isascii():  # the common case, answered without a regex scan
        return 0
    return sum(len(_MOJIBAKE.findall(piece)) for piece in blocks(text))


def _repair(text: str) -> str:
    """Undo one round of UTF-8 bytes decoded as cp1252, when that makes the text cleaner."""
    count = mojibake_count(text)
    if not count:
        return text
    try:
        fixed = text.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return text
    return fixed if mojibake_count(fixed) < count else text


def _control_ratio(text: str) -> float:
    sample = text[:20000]
    if not sample:
        return 0.0
    bad = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS)
    return bad / len(sample)


def decode_text(data: bytes, filename: str) -> str:
    """Decode a text file's bytes, or raise ImportRejected (binary, garbled)."""
    if looks_binary(data[:8192]):
        raise ImportRejected(
            RejectReason.BINARY, f"“{filename}” is not a text file (it looks like binary data with a text name)."
        )
    text: str | None = None
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                text = None
            break
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            encoding = _legacy_encoding(data)
            if encoding is not None:
                text = data.decode(encoding, errors="strict")
    if text is None or "\ufffd" in text:
        raise ImportRejected(
            RejectReason.GARBLED,
            f"“{filename}”: the text encoding could not be recognised. Save it as UTF-8 and retry.",
        )
    text = _repair(text)
    if _control_ratio(text) > 0.01:
        raise ImportRejected(
            RejectReason.BINARY, f"“{filename}” is not a text file (it contains binary control characters)."
        )
    if mojibake_count(text) > 2:
        raise ImportRejected(
            RejectReason.GARBLED, f"“{filename}” contains garbled characters (mis-encoded text). Save it as UTF-8."
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")
