"""Fixtures and file makers for the import tests: real .docx/.pdf/subtitle files made on the fly."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import docx
import pytest

from echogen_desktop.importing.journal import UploadJournal
from echogen_desktop.importing.pipeline import ImportPipeline
from echogen_desktop.services.backend import Backend
from echogen_desktop.services.upload_service import TranscriptStore
from echogen_devstack.runner import StackInfo
from tests.conftest import TestUser

ENGLISH = (
    "The deep sea vents host whole ecosystems that live without sunlight. Bacteria turn chemicals "
    "from the vents into energy, and tube worms, crabs and fish feed on them in turn."
)
SRT = """1
00:00:01,000 --> 00:00:03,500
Ava: Welcome back to the show.

2
00:00:03,600 --> 00:00:06,000
Today we talk about deep sea vents.

3
00:00:06,100 --> 00:00:08,000
<i>Ben: Thanks, Ava.</i> Glad to be here.
"""
VTT = """WEBVTT
Kind: captions

NOTE recorded in studio B

intro-1
00:00:00.000 --> 00:00:02.500 align:start position:10%
<v Ava>Welcome back &amp; hello.</v>

00:00:02.500 --> 00:00:05.000
<v.loud Ben Carter>Thanks <00:00:03.000><c>Ava</c>, glad to be here.

00:00:05.000 --> 00:00:07.000
<v Ben Carter>The vents are hot.
"""
CP1252_TEXT = "Café crème – “quoted” naïve résumé, Müller’s Straße €5. " * 3


def make_docx(path: Path) -> Path:
    document = docx.Document()
    document.core_properties.title = "Properties title"
    document.add_heading("Interview notes", 1)
    document.add_paragraph(ENGLISH)
    document.add_heading("Guests", 2)
    document.add_paragraph("Ava Stone", style="List Bullet")
    document.add_paragraph("Ben Carter", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Topic", "Minutes"
    table.cell(1, 0).text, table.cell(1, 1).text = "Vents", "12"
    document.save(str(path))
    return path


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(path: Path, lines: list[str], title: str | None = None, padding: bytes = b"") -> Path:
    """A minimal valid PDF, written by hand: one page, Helvetica text, optional /Title, optional
    ``padding`` (a big unreferenced stream, for a large file whose text is small)."""
    content = "BT /F1 12 Tf 72 720 Td 16 TL " + " ".join(f"({_pdf_escape(line)}) Tj T*" for line in lines) + " ET"
    stream = content.encode("latin-1")
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >>"
        b" /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Title (%s) /Producer (EchoGen tests) >>" % _pdf_escape(title or "").encode("latin-1"),
    ]
    if padding:
        objects.append(b"<< /Length %d >>\nstream\n" % len(padding) + padding + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    info = b" /Info 6 0 R" if title else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, info, xref)
    path.write_bytes(bytes(out))
    return path


def fresh_dir(base: Path, name: str = "") -> Path:
    folder = base / (name or uuid.uuid4().hex[:8])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Importer:
    user: TestUser
    backend: Backend
    store: TranscriptStore
    journal: UploadJournal
    pipeline: ImportPipeline
    db: asyncpg.Connection

    async def rows(self) -> list[dict[str, Any]]:
        rows = await self.db.fetch(
            "select id::text, user_id::text, url, title, markdown, provider, metadata::text as metadata"
            " from public.scraped_content where user_id = $1 order by created_at", uuid.UUID(self.user.id)
        )
        return [dict(row) for row in rows]

    async def objects(self) -> list[str]:
        rows = await self.db.fetch(
            "select name from storage.objects where bucket_id = 'transcripts'"
            " and (storage.foldername(name))[1] = $1 order by name",
            self.user.id,
        )
        return [str(row["name"]) for row in rows]


@pytest.fixture
async def importer(stack: StackInfo, user_factory: Any, tmp_path: Path) -> AsyncIterator[Importer]:
    user: TestUser = await user_factory()
    backend = await Backend.connect(stack.url, stack.anon_key)
    await backend.sign_in(user.email, user.password)
    store = TranscriptStore(backend)
    journal = UploadJournal(tmp_path / "journal")
    db = await asyncpg.connect(stack.admin_dsn)
    try:
        yield Importer(user, backend, store, journal, ImportPipeline(store, journal), db)
    finally:
        await db.close()
        await backend.close()
