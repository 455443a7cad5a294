"""Conversion, encoding and metadata of imported files (no server needed): real files made here."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest

from echogen_desktop.importing.encoding import decode_text, mojibake_count
from echogen_desktop.importing.errors import ImportRejected, RejectReason
from echogen_desktop.importing.formats import convert_file, subtitles_to_markdown
from echogen_desktop.importing.metadata import build_metadata, first_heading, reading_time, title_for, word_count
from echogen_desktop.importing.pipeline import safe_object_name, validate_and_convert
from tests.import_support import CP1252_TEXT, ENGLISH, SRT, VTT, make_docx, make_pdf

LIMIT = 50 * 1024 * 1024


def convert(path: Path) -> tuple[str, str]:
    prepared = validate_and_convert(path, LIMIT)
    return prepared.markdown, prepared.title


def test_plain_text_and_markdown(tmp_path: Path) -> None:
    txt = tmp_path / "field_notes.txt"
    txt.write_text(ENGLISH + "\r\nSecond line.\r\n", encoding="utf-8")
    markdown, title = convert(txt)
    assert markdown == ENGLISH + "\nSecond line."
    assert title == "field notes"  # no heading: the file name

    md = tmp_path / "show.md"
    md.write_text("Intro text\n\n## Episode *12*: Vents\n\nBody.\n", encoding="utf-8")
    markdown, title = convert(md)
    assert title == "Episode 12: Vents"
    assert markdown.startswith("Intro text\n\n## Episode *12*: Vents")


def test_srt_strips_numbers_and_timings_and_keeps_speakers(tmp_path: Path) -> None:
    path = tmp_path / "episode.srt"
    path.write_text(SRT, encoding="utf-8")
    markdown, title = convert(path)
    assert markdown == (
        "Ava: Welcome back to the show. Today we talk about deep sea vents.\n\n"
        "Ben: Thanks, Ava. Glad to be here."
    )
    assert "-->" not in markdown and "00:00" not in markdown
    assert title == "episode"


def test_vtt_voice_tags_become_speaker_labels(tmp_path: Path) -> None:
    path = tmp_path / "talk.vtt"
    path.write_text(VTT, encoding="utf-8")
    markdown, _ = convert(path)
    assert markdown == (
        "Ava: Welcome back & hello.\n\n"
        "Ben Carter: Thanks Ava, glad to be here. The vents are hot."
    )
    for leftover in ("WEBVTT", "NOTE", "intro-1", "align:", "<", "Kind:"):
        assert leftover not in markdown


def test_subtitles_without_speakers_are_plain_paragraphs() -> None:
    srt = "1\n00:00:01,000 --> 00:00:02,000\nJust words\n\n2\n00:00:02,000 --> 00:00:03,000\nmore words\n"
    assert subtitles_to_markdown(srt, vtt=False) == "Just words more words"


def test_html_to_markdown(tmp_path: Path) -> None:
    path = tmp_path / "article.html"
    path.write_text(
        "<html><head><title>Page title</title><style>p{color:red}</style></head><body>"
        "<nav>Menu</nav><h1>Deep <em>sea</em> vents</h1><p>They are <a href='https://x.test'>hot</a>.</p>"
        "<ul><li>one</li><li>two</li></ul><script>alert(1)</script></body></html>", encoding="utf-8",
    )
    markdown, title = convert(path)
    assert title == "Deep sea vents"
    assert markdown == "# Deep *sea* vents\n\nThey are [hot](https://x.test).\n\n- one\n- two"


def test_html_title_tag_when_no_heading(tmp_path: Path) -> None:
    path = tmp_path / "a.htm"
    path.write_text("<html><head><title>Only title</title></head><body><p>Text.</p></body></html>", encoding="utf-8")
    assert convert(path) == ("Text.", "Only title")


def test_docx(tmp_path: Path) -> None:
    markdown, title = convert(make_docx(tmp_path / "notes.docx"))
    assert title == "Interview notes"
    assert markdown == (
        f"# Interview notes\n\n{ENGLISH}\n\n## Guests\n\n- Ava Stone\n\n- Ben Carter\n\n"
        "| Topic | Minutes |\n| --- | --- |\n| Vents | 12 |"
    )


def test_pdf(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "paper.pdf", ["Deep sea vents (draft)", "Bacteria turn chemicals into energy."],
                    title="Vent paper")
    markdown, title = convert(path)
    assert "Deep sea vents (draft)" in markdown and "Bacteria turn chemicals into energy." in markdown
    assert title == "Vent paper"  # the PDF's /Title: PDFs have no markdown headings


@pytest.mark.parametrize(("bom", "codec"), [
    (codecs.BOM_UTF8, "utf-8"), (b"", "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
])
def test_unicode_encodings(tmp_path: Path, bom: bytes, codec: str) -> None:
    text = "# Ünïcödé “title” 日本語\n\nÇa va? Ελληνικά — 😀"
    path = tmp_path / "u.md"
    path.write_bytes(bom + text.encode(codec))
    markdown, title = convert(path)
    assert markdown == text
    assert title == "Ünïcödé “title” 日本語"


def test_cp1252_is_detected_without_mojibake(tmp_path: Path) -> None:
    path = tmp_path / "legacy.txt"
    path.write_bytes(CP1252_TEXT.encode("cp1252"))
    markdown, _ = convert(path)
    assert markdown == CP1252_TEXT.strip()
    assert mojibake_count(markdown) == 0


def test_double_encoded_utf8_is_repaired() -> None:
    garbled = "Café ‘quoted’ naïve".encode().decode("cp1252")
    assert mojibake_count(garbled) > 0
    assert decode_text(garbled.encode("utf-8"), "x.txt") == "Café ‘quoted’ naïve"


def rejection(path: Path, limit: int = LIMIT) -> ImportRejected:
    with pytest.raises(ImportRejected) as info:
        validate_and_convert(path, limit)
    assert path.name in info.value.message
    return info.value


def test_rejections(tmp_path: Path) -> None:
    unsupported = tmp_path / "photo.png"
    unsupported.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(100))
    error = rejection(unsupported)
    assert error.reason is RejectReason.UNSUPPORTED and ".txt, .md, .srt, .vtt, .html, .docx, .pdf" in error.message

    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert rejection(empty).reason is RejectReason.EMPTY

    blank = tmp_path / "blank.md"
    blank.write_text("  \n\n \t\n", encoding="utf-8")
    assert rejection(blank).reason is RejectReason.EMPTY

    binary = tmp_path / "program.txt"
    binary.write_bytes(b"\x7fELF\x02\x01\x01" + os.urandom(2000))
    assert rejection(binary).reason is RejectReason.BINARY
    zipped = tmp_path / "archive.txt"
    zipped.write_bytes(make_docx(tmp_path / "x.docx").read_bytes())
    assert rejection(zipped).reason is RejectReason.BINARY
    noise = tmp_path / "noise.txt"
    noise.write_bytes(os.urandom(4000))
    assert rejection(noise).reason in (RejectReason.BINARY, RejectReason.GARBLED)

    big = tmp_path / "huge.txt"
    with big.open("wb") as handle:
        handle.truncate(LIMIT + 1)  # sparse: instant, and refused before it is read
    error = rejection(big)
    assert error.reason is RejectReason.TOO_LARGE and "50 MB" in error.message

    missing = tmp_path / "gone.txt"
    assert rejection(missing).reason is RejectReason.UNREADABLE

    if os.geteuid() != 0:  # root reads anything
        locked = tmp_path / "locked.txt"
        locked.write_text("secret", encoding="utf-8")
        locked.chmod(0)
        assert rejection(locked).reason is RejectReason.UNREADABLE

    broken_docx = tmp_path / "broken.docx"
    broken_docx.write_bytes(b"PK\x03\x04 not really a zip")
    assert rejection(broken_docx).reason is RejectReason.UNREADABLE
    broken_pdf = tmp_path / "broken.pdf"
    broken_pdf.write_bytes(b"%PDF-1.4\n garbage without objects")
    assert rejection(broken_pdf).reason is RejectReason.UNREADABLE
    textless_pdf = make_pdf(tmp_path / "scan.pdf", [])
    assert rejection(textless_pdf).reason is RejectReason.EMPTY


def test_unreadable_directory_named_like_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "notes.txt"
    folder.mkdir()
    assert rejection(folder).reason is RejectReason.UNREADABLE


def test_metadata() -> None:
    markdown = "# Title\n\n" + " ".join(["word"] * 401)
    metadata = build_metadata(markdown=markdown, filename="Ep 1.txt", size_bytes=10, sha256="ab",
                              mime_type="text/plain", transcript_path="u/r/Ep_1.txt")
    assert isinstance(metadata.pop("language"), str)  # real languages are checked below
    assert metadata == {
        "word_count": 402, "reading_time": 3, "source_filename": "Ep 1.txt", "size_bytes": 10,
        "sha256": "ab", "mime_type": "text/plain", "transcript_path": "u/r/Ep_1.txt",
    }
    assert build_metadata(markdown=ENGLISH, filename="a", size_bytes=1, sha256="", mime_type="", transcript_path="")[
        "language"] == "en"
    german = "Die Tiefsee ist voller Leben, obwohl dort kein Sonnenlicht hinkommt und der Druck enorm ist."
    assert build_metadata(markdown=german, filename="a", size_bytes=1, sha256="", mime_type="", transcript_path="")[
        "language"] == "de"
    assert build_metadata(markdown="Too short", filename="a", size_bytes=1, sha256="", mime_type="",
                          transcript_path="")["language"] == ""
    assert word_count("It’s a well-known fact: 3 words") == 7
    assert reading_time(0) == 0 and reading_time(1) == 1 and reading_time(200) == 1 and reading_time(201) == 2


def test_titles() -> None:
    assert first_heading("Heading\n=======\n\ntext") == "Heading"
    assert first_heading("- item\n---\n") is None
    assert title_for("no heading", None, "my_show-notes.txt") == "my show-notes"
    assert title_for("no heading", "Declared", "x.txt") == "Declared"
    assert title_for("# [Linked](http://x) **bold**", "Declared", "x.txt") == "Linked bold"


def test_safe_object_names() -> None:
    assert safe_object_name("Épisode 1 (final).srt") == "Episode_1_final.srt"
    assert safe_object_name("日本語.pdf") == "transcript.pdf"
    assert safe_object_name("../../etc/passwd.txt") == "passwd.txt"


def test_convert_file_names_the_file_for_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "x.rtf"
    path.write_text("{\\rtf1}", encoding="utf-8")
    with pytest.raises(ImportRejected, match=r"x\.rtf"):
        convert_file(path, path.name)
