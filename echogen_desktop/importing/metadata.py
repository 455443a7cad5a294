"""Title and ``scraped_content.metadata`` for an imported file.

Language is detected with py3langid (a small offline model, ISO 639-1 codes); text too short to
tell is stored with an empty language rather than a guess.
"""

from __future__ import annotations

import math
import re
import threading
from pathlib import Path
from typing import Any

WORDS_PER_MINUTE = 200
MIN_WORDS_FOR_LANGUAGE = 8
LANGUAGE_SAMPLE_CHARS = 20_000
TITLE_MAX_CHARS = 200

_ATX = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_WORD = re.compile(r"\w+(?:['’]\w+)*")
_INLINE = re.compile(r"[*_`]+|\[([^\]]*)\]\([^)]*\)")
_lang_lock = threading.Lock()


def first_heading(markdown: str, scan_lines: int = 400) -> str | None:
    """The text of the first ATX (``# Title``) or setext (``Title\\n=====``) heading."""
    lines = markdown.split("\n", scan_lines)[:scan_lines]
    for index, line in enumerate(lines):
        atx = _ATX.match(line)
        if atx:
            return _plain_title(atx.group(1))
        underlined = index + 1 < len(lines) and line.strip() and _SETEXT.match(lines[index + 1])
        # "text\n---" is a heading unless the text is itself a list item or table row
        if underlined and (lines[index + 1].strip().startswith("=") or not line.lstrip().startswith(("-", "*", "|"))):
            return _plain_title(line)
    return None


def _plain_title(text: str) -> str:
    text = _INLINE.sub(lambda m: m.group(1) or "", text).strip()
    return text[:TITLE_MAX_CHARS].strip()


def title_for(markdown: str, hint: str | None, filename: str) -> str:
    """First heading, else the title the file declares, else the file name without its extension."""
    for candidate in (first_heading(markdown), hint):
        if candidate and candidate.strip():
            return _plain_title(candidate)
    stem = Path(filename).stem.replace("_", " ").strip()
    return stem or filename


def word_count(markdown: str) -> int:
    # finditer, not findall: no list of millions of words for a big file, and the GIL is released between matches
    return sum(1 for _ in _WORD.finditer(markdown))


def reading_time(words: int) -> int:
    """Whole minutes at 200 words per minute, at least 1 for any text."""
    return max(1, math.ceil(words / WORDS_PER_MINUTE)) if words else 0


def detect_language(markdown: str) -> str:
    """ISO 639-1 code of the text's language, or "" when the text is too short to tell."""
    sample = markdown[:LANGUAGE_SAMPLE_CHARS]
    if word_count(sample) < MIN_WORDS_FOR_LANGUAGE:
        return ""
    import py3langid  # type: ignore[import-untyped]  # loads its model (~1 s) on first use only

    with _lang_lock:  # the shared identifier is not documented as thread-safe
        code, _score = py3langid.classify(sample)
    return str(code)


def warm_up() -> None:
    """Load the language model ahead of the first import (blocking: call from a worker thread)."""
    detect_language("This sentence warms up the language identifier before any file arrives.")


def build_metadata(
    *, markdown: str, filename: str, size_bytes: int, sha256: str, mime_type: str, transcript_path: str,
) -> dict[str, Any]:
    words = word_count(markdown)
    return {
        "language": detect_language(markdown),
        "word_count": words,
        "reading_time": reading_time(words),
        "source_filename": filename,
        "size_bytes": size_bytes,
        "sha256": sha256,
        "mime_type": mime_type,
        "transcript_path": transcript_path,
    }
