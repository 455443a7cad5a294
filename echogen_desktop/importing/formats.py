"""One converter per supported file type, each turning a file on disk into markdown.

Plain Python (no Qt): the pipeline runs these in a worker thread.
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import docx
import docx.document
from bs4 import BeautifulSoup
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph
from markdownify import MarkdownConverter
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from echogen_desktop.importing.encoding import blocks, decode_text
from echogen_desktop.importing.errors import ImportRejected, RejectReason


@dataclass(frozen=True)
class FileFormat:
    extension: str
    label: str
    mime_type: str  # what the original is stored as; each is allowed by the transcripts bucket


_DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FORMATS: dict[str, FileFormat] = {
    f.extension: f
    for f in (
        FileFormat(".txt", "plain text", "text/plain"),
        FileFormat(".md", "Markdown", "text/markdown"),
        FileFormat(".markdown", "Markdown", "text/markdown"),
        FileFormat(".srt", "SubRip subtitles", "application/x-subrip"),
        FileFormat(".vtt", "WebVTT subtitles", "text/vtt"),
        FileFormat(".html", "HTML", "text/html"),
        FileFormat(".htm", "HTML", "text/html"),
        FileFormat(".docx", "Word document", _DOCX_MIME),
        FileFormat(".pdf", "PDF", "application/pdf"),
    )
}
SUPPORTED_TYPES_TEXT = ".txt, .md, .srt, .vtt, .html, .docx, .pdf"
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class Converted:
    markdown: str
    title_hint: str | None = None  # a title the file itself declares (HTML <title>, document properties)


def format_of(filename: str) -> FileFormat | None:
    return FORMATS.get(Path(filename).suffix.lower())


def convert_file(path: Path, filename: str) -> Converted:
    """Convert the file at ``path`` (named ``filename`` for messages) or raise ImportRejected."""
    fmt = format_of(filename)
    if fmt is None:
        raise ImportRejected(
            RejectReason.UNSUPPORTED,
            f"“{filename}” is not a supported file type. Supported types: {SUPPORTED_TYPES_TEXT}.",
        )
    converter = _CONVERTERS[fmt.extension]
    try:
        converted = converter(path, filename)
    except ImportRejected:
        raise
    except OSError as exc:
        message = f"“{filename}” could not be read: {exc.strerror or exc}."
        raise ImportRejected(RejectReason.UNREADABLE, message) from exc
    markdown = _tidy(converted.markdown)
    if not markdown:
        raise ImportRejected(RejectReason.EMPTY, f"“{filename}” contains no text to import.")
    return Converted(markdown, converted.title_hint)


def _tidy(markdown: str) -> str:
    """Trailing blanks off each line, at most one empty line in a row (one big string at a time)."""
    if "\r" in markdown:
        markdown = markdown.replace("\r\n", "\n")
    return "".join(_tidy_piece(piece) for piece in blocks(markdown)).strip()


def _tidy_piece(piece: str) -> str:
    if " \n" in piece or "\t\n" in piece or piece.endswith((" ", "\t")):  # cheap scans first
        piece = "\n".join(line.rstrip(" \t") for line in piece.split("\n"))
    return _BLANK_LINES.sub("\n\n", piece) if "\n\n\n" in piece else piece


def _read_text(path: Path, filename: str) -> str:
    return decode_text(path.read_bytes(), filename)


# ------------------------------------------------------------------ plain text
def _plain(path: Path, filename: str) -> Converted:
    return Converted(_read_text(path, filename))


# ------------------------------------------------------------------ subtitles
_TIMING = re.compile(r"^\s*(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}\s*-->\s*(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<\d[^>]*>")  # markup tags and VTT karaoke timestamps
_SSA = re.compile(r"\{\\[^}]*\}")  # {\an8}-style positioning in SRT
_LABEL = re.compile(r"^([^\s:][^:]{0,40}?):\s+(\S.*)$")  # "Speaker: text"
_VTT_SKIP = ("WEBVTT", "NOTE", "STYLE", "REGION")


def _cue_lines(text: str, vtt: bool) -> Iterable[str]:
    """The spoken lines of every cue, without numbers, identifiers, timings or header blocks."""
    for block in re.split(r"\n[ \t]*\n", text.strip()):
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines or (vtt and lines[0].lstrip("\ufeff").startswith(_VTT_SKIP)):
            continue
        timing = next((i for i, line in enumerate(lines) if _TIMING.match(line)), None)
        if timing is not None:
            yield from lines[timing + 1:]
        else:  # a block without timing: keep its text, drop a lone cue number
            yield from (line for line in lines if not line.strip().isdigit())


def _speaker_line(line: str) -> tuple[str | None, str]:
    speaker: str | None = None
    voice = _VOICE.search(line)
    if voice:
        speaker = voice.group(1).strip()
    clean = html.unescape(_TAG.sub("", _SSA.sub("", line))).strip()
    if speaker is None:
        label = _LABEL.match(clean)
        if label and not label.group(1).strip().isdigit():
            speaker, clean = label.group(1).strip(), label.group(2).strip()
    return speaker, clean


def subtitles_to_markdown(text: str, vtt: bool) -> str:
    """Merge cues into speaker turns: ``Speaker: text`` paragraphs (plain paragraphs without labels)."""
    turns: list[tuple[str | None, list[str]]] = []
    for line in _cue_lines(text, vtt):
        speaker, clean = _speaker_line(line)
        if not clean:
            continue
        if turns and (speaker is None or speaker == turns[-1][0]):
            turns[-1][1].append(clean)
        else:
            turns.append((speaker, [clean]))
    return "\n\n".join(f"{speaker}: {' '.join(parts)}" if speaker else " ".join(parts) for speaker, parts in turns)


def _subtitles(vtt: bool) -> Callable[[Path, str], Converted]:
    def convert(path: Path, filename: str) -> Converted:
        return Converted(subtitles_to_markdown(_read_text(path, filename), vtt))

    return convert


# ------------------------------------------------------------------ HTML
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "svg", "canvas", "head", "nav", "footer", "form")


def html_to_markdown(text: str) -> Converted:
    soup = BeautifulSoup(text, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    converter = MarkdownConverter(heading_style="ATX", bullets="-", strip=["img"], escape_underscores=False)
    return Converted(converter.convert_soup(soup), title or None)


def _html(path: Path, filename: str) -> Converted:
    return html_to_markdown(_read_text(path, filename))


# ------------------------------------------------------------------ Word
def _paragraph_markdown(paragraph: Paragraph) -> str:
    text = paragraph.text.strip()
    if not text:
        return ""
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style == "Title":
        return f"# {text}"
    heading = re.fullmatch(r"Heading (\d)", style)
    if heading:
        return f"{'#' * min(6, int(heading.group(1)))} {text}"
    if style.startswith("List Bullet"):
        return f"- {text}"
    if style.startswith("List Number"):
        return f"1. {text}"
    return text


def _table_markdown(table: Table) -> str:
    rows = [[cell.text.strip().replace("|", "\\|").replace("\n", " ") for cell in row.cells] for row in table.rows]
    if not rows:
        return ""
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * width]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def _docx(path: Path, filename: str) -> Converted:
    try:
        document: docx.document.Document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ImportRejected(
            RejectReason.UNREADABLE, f"“{filename}” could not be read as a Word document (.docx)."
        ) from exc
    blocks = [
        _paragraph_markdown(item) if isinstance(item, Paragraph) else _table_markdown(item)
        for item in document.iter_inner_content()
    ]
    title = (document.core_properties.title or "").strip()
    return Converted("\n\n".join(block for block in blocks if block), title or None)


# ------------------------------------------------------------------ PDF
def _pdf(path: Path, filename: str) -> Converted:
    unreadable = f"“{filename}” could not be read as a PDF document."
    try:
        with path.open("rb") as handle:  # a handle, not a path: pypdf then reads objects lazily
            reader = PdfReader(handle)
            if reader.is_encrypted and not reader.decrypt(""):
                raise ImportRejected(RejectReason.UNREADABLE, f"“{filename}” is password-protected.")
            pages = [page.extract_text() or "" for page in reader.pages]
            title = reader.metadata.title if reader.metadata is not None else None
    except ImportRejected:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise ImportRejected(RejectReason.UNREADABLE, unreadable) from exc
    markdown = "\n\n".join(page.strip() for page in pages if page.strip())
    if not markdown:
        raise ImportRejected(
            RejectReason.EMPTY, f"“{filename}” has no text layer (a scanned PDF?); there is no text to import."
        )
    return Converted(markdown, str(title).strip() or None if title else None)


_CONVERTERS: dict[str, Callable[[Path, str], Converted]] = {
    ".txt": _plain, ".md": _plain, ".markdown": _plain,
    ".srt": _subtitles(vtt=False), ".vtt": _subtitles(vtt=True),
    ".html": _html, ".htm": _html,
    ".docx": _docx, ".pdf": _pdf,
}
