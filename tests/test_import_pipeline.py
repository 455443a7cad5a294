"""The import pipeline against the real stack: rows, objects, clean-up, recovery and duplicates."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from supabase import AsyncClient

from echogen_desktop.importing.journal import JournalEntry
from echogen_desktop.importing.pipeline import ImportPipeline
from echogen_desktop.services.errors import ErrorKind, ServiceError
from echogen_desktop.services.upload_service import DOCUMENTED_SIZE_LIMIT
from echogen_devstack.runner import StackInfo
from tests.conftest import wait_until
from tests.import_support import CP1252_TEXT, ENGLISH, SRT, VTT, Importer, importer, make_docx, make_pdf

__all__ = ["importer"]  # the fixture, re-exported for pytest
REPO = Path(__file__).resolve().parents[1]


def _files(base: Path) -> dict[str, Path]:
    (base / "notes.txt").write_text(f"# Field notes\n\n{ENGLISH}\n", encoding="utf-8")
    (base / "show.md").write_text(f"# Show notes\n\n{ENGLISH}\n", encoding="utf-8")
    (base / "ep.srt").write_text(SRT, encoding="utf-8")
    (base / "ep.vtt").write_text(VTT, encoding="utf-8")
    (base / "page.html").write_text(f"<h1>A page</h1><p>{ENGLISH}</p>", encoding="utf-8")
    (base / "utf16.txt").write_bytes("# Über UTF-16\n\n".encode("utf-16") + ENGLISH.encode("utf-16-le"))
    (base / "legacy.txt").write_bytes(CP1252_TEXT.encode("cp1252"))
    make_docx(base / "interview.docx")
    make_pdf(base / "paper.pdf", ["Deep sea vents", ENGLISH[:80]], title="Vent paper")
    return {path.name: path for path in sorted(base.iterdir())}


EXPECTED = {
    "notes.txt": ("Field notes", "text/plain"), "show.md": ("Show notes", "text/markdown"),
    "ep.srt": ("ep", "application/x-subrip"), "ep.vtt": ("ep", "text/vtt"), "page.html": ("A page", "text/html"),
    "utf16.txt": ("Über UTF-16", "text/plain"), "legacy.txt": ("legacy", "text/plain"),
    "interview.docx": ("Interview notes", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "paper.pdf": ("Vent paper", "application/pdf"),
}


async def test_every_format_becomes_a_row_and_an_object(importer: Importer, tmp_path: Path) -> None:
    files = _files(tmp_path)
    for name, path in files.items():
        prepared = await importer.pipeline.prepare(path)
        seen: list[tuple[int, int]] = []
        item = await importer.pipeline.commit(prepared, lambda sent, total, seen=seen: seen.append((sent, total)))
        size = path.stat().st_size
        assert seen[0] == (0, size) and seen[-1] == (size, size), name
        title, _mime = EXPECTED[name]
        assert item.title == title and item.provider == "upload", name

    rows = {json.loads(row["metadata"])["source_filename"]: row for row in await importer.rows()}
    assert set(rows) == set(files)
    objects = await importer.objects()
    assert len(objects) == len(files)
    for name, row in rows.items():
        metadata = json.loads(row["metadata"])
        path = files[name]
        object_path = metadata["transcript_path"]
        assert object_path == f"{importer.user.id}/{row['id']}/{name}"  # the documented per-user folder
        assert row["url"] == f"storage://transcripts/{object_path}"
        assert object_path in objects
        assert metadata["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert metadata["size_bytes"] == path.stat().st_size
        assert metadata["mime_type"] == EXPECTED[name][1]
        assert metadata["word_count"] > 0 and metadata["reading_time"] == 1
        assert metadata["language"] in ("en", "de", "fr", ""), name
        assert "\ufffd" not in row["markdown"] and "Ã" not in row["markdown"]
        # the stored object is byte-for-byte the original
        stored = await importer.backend.download("transcripts", object_path)
        assert stored == path.read_bytes(), name
    assert rows["legacy.txt"]["markdown"] == CP1252_TEXT.strip()
    assert rows["utf16.txt"]["markdown"].startswith("# Über UTF-16\n\nThe deep sea")
    assert json.loads(rows["notes.txt"]["metadata"])["language"] == "en"
    assert rows["ep.vtt"]["markdown"].startswith("Ava: Welcome back & hello.\n\nBen Carter: Thanks Ava")
    assert importer.journal.entries() == []


async def test_objects_live_in_the_owners_folder_only(
    importer: Importer, tmp_path: Path, user_factory: object, stack: StackInfo
) -> None:
    path = tmp_path / "private.txt"
    path.write_text(ENGLISH, encoding="utf-8")
    item = await importer.pipeline.commit(await importer.pipeline.prepare(path))
    folder = await importer.db.fetchval(
        "select (storage.foldername(name))[1] from storage.objects where bucket_id = 'transcripts' and name = $1",
        item.metadata["transcript_path"],
    )
    assert folder == importer.user.id
    other = await user_factory()  # type: ignore[operator]
    assert await other.client.storage.from_("transcripts").list(f"{importer.user.id}/{item.id}") == []
    rows = await other.client.table("scraped_content").select("id").eq("id", item.id).execute()
    assert rows.data == []


async def test_size_limit_is_the_documented_one_when_the_bucket_is_not_readable(importer: Importer) -> None:
    # storage.buckets is not visible to signed-in users (as on a default Supabase project).
    assert await importer.store.file_size_limit() == DOCUMENTED_SIZE_LIMIT == 50 * 1024 * 1024


@pytest.fixture
async def failing_insert(stack: StackInfo) -> AsyncIterator[str]:
    """A trigger that refuses rows for one file name: an insert failure after a good upload."""
    name = f"insert-fails-{uuid.uuid4().hex[:6]}.txt"
    conn = await asyncpg.connect(stack.admin_dsn)
    fn = f"public.test_refuse_{uuid.uuid4().hex[:8]}"
    await conn.execute(f"""
        create function {fn}() returns trigger language plpgsql as $$
        begin
          if new.metadata->>'source_filename' = '{name}' then
            raise exception 'refused by test' using errcode = '23514';
          end if;
          return new;
        end $$;
        create trigger zz_test_refuse before insert on public.scraped_content
          for each row execute function {fn}();
    """)
    try:
        yield name
    finally:
        await conn.execute(f"drop trigger zz_test_refuse on public.scraped_content; drop function {fn}();")
        await conn.close()


async def test_insert_failure_removes_the_uploaded_object(
    importer: Importer, tmp_path: Path, failing_insert: str
) -> None:
    path = tmp_path / failing_insert
    path.write_text(ENGLISH, encoding="utf-8")
    prepared = await importer.pipeline.prepare(path)
    uploaded: list[int] = []
    with pytest.raises(ServiceError) as info:
        await importer.pipeline.commit(prepared, lambda sent, _total: uploaded.append(sent))
    assert info.value.kind is ErrorKind.INVALID_INPUT
    assert uploaded[-1] == path.stat().st_size  # the upload itself went through
    assert await importer.rows() == []
    assert await importer.objects() == []  # ...and was removed again
    assert importer.journal.entries() == []


@pytest.fixture
async def tiny_bucket_limit(stack: StackInfo) -> AsyncIterator[int]:
    """The server refuses uploads over 1 KB while the app still believes the documented 50 MB."""
    conn = await asyncpg.connect(stack.admin_dsn)
    old = await conn.fetchval("select file_size_limit from storage.buckets where id = 'transcripts'")
    await conn.execute("update storage.buckets set file_size_limit = 1024 where id = 'transcripts'")
    try:
        yield 1024
    finally:
        await conn.execute("update storage.buckets set file_size_limit = $1 where id = 'transcripts'", old)
        await conn.close()


async def test_upload_failure_writes_no_row(importer: Importer, tmp_path: Path, tiny_bucket_limit: int) -> None:
    path = tmp_path / "long.txt"
    path.write_text(ENGLISH * 40, encoding="utf-8")
    prepared = await importer.pipeline.prepare(path)
    with pytest.raises(ServiceError) as info:
        await importer.pipeline.commit(prepared)
    assert "larger than the server accepts" in info.value.message
    assert await importer.rows() == []
    assert await importer.objects() == []
    assert importer.journal.entries() == []


async def test_cancel_mid_upload_leaves_nothing(importer: Importer, tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text((ENGLISH + "\n") * 60_000, encoding="utf-8")  # ~10 MB
    importer.store.chunk_size = 64 * 1024
    prepared = await importer.pipeline.prepare(path)
    sent: list[int] = []
    task = asyncio.ensure_future(importer.pipeline.commit(prepared, lambda s, _t: sent.append(s)))
    await wait_until(lambda: bool(sent) and sent[-1] >= 1024 * 1024, 20)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert 0 < sent[-1] < path.stat().st_size  # cancelled mid-way, not after
    await asyncio.sleep(0.2)  # let the server notice the aborted body
    assert await importer.rows() == []
    assert await importer.objects() == []
    assert importer.journal.entries() == []


async def test_orphan_from_a_previous_run_is_cleaned_at_start(
    importer: Importer, tmp_path: Path, service_client: AsyncClient
) -> None:
    """Journal entries left by a killed run: an orphan is removed, a finished import only forgotten,
    another user's entry is left for them."""
    user_id = importer.user.id
    orphan_row = str(uuid.uuid4())
    orphan_path = f"{user_id}/{orphan_row}/notes.txt"
    await importer.backend.bucket("transcripts").upload(orphan_path, b"orphan", {"content-type": "text/plain"})
    done_file = tmp_path / "done.txt"
    done_file.write_text(ENGLISH, encoding="utf-8")
    done = await importer.pipeline.commit(await importer.pipeline.prepare(done_file))
    other_row = str(uuid.uuid4())
    for row_id, owner, path in ((orphan_row, user_id, orphan_path),
                                (done.id, user_id, str(done.metadata["transcript_path"])),
                                (other_row, str(uuid.uuid4()), "someone/else.txt")):
        importer.journal.add(JournalEntry(row_id, owner, "transcripts", path, "f", "2026-01-01T00:00:00Z"))

    fresh = ImportPipeline(importer.store, importer.journal)  # "the next start"
    assert await fresh.recover() == [orphan_path]
    assert await importer.objects() == [done.metadata["transcript_path"]]
    assert [e.row_id for e in importer.journal.entries()] == [other_row]
    assert len(await importer.rows()) == 1


KILLED_RUN = r"""
import asyncio, os, signal, sys
from pathlib import Path
from echogen_desktop.importing.journal import UploadJournal
from echogen_desktop.importing.pipeline import ImportPipeline
from echogen_desktop.services.backend import Backend
from echogen_desktop.services.upload_service import TranscriptStore

class DiesBeforeInsert(TranscriptStore):
    async def insert_content(self, row):
        print("uploaded", row["metadata"]["transcript_path"], flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # the app is killed between upload and insert

async def main():
    url, key, email, password, journal, source = sys.argv[1:]
    backend = await Backend.connect(url, key)
    await backend.sign_in(email, password)
    pipeline = ImportPipeline(DiesBeforeInsert(backend), UploadJournal(Path(journal)))
    await pipeline.commit(await pipeline.prepare(Path(source)))

asyncio.run(main())
"""


async def test_app_killed_between_upload_and_insert(importer: Importer, tmp_path: Path, stack: StackInfo) -> None:
    source = tmp_path / "killed.txt"
    source.write_text(ENGLISH, encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", KILLED_RUN, stack.url, stack.anon_key, importer.user.email, importer.user.password,
        str(importer.journal.directory), str(source),
        stdout=subprocess.PIPE, cwd=str(REPO), env={**os.environ},
    )
    out, _ = await proc.communicate()
    assert proc.returncode == -9
    uploaded = out.decode().split()[-1]
    assert await importer.objects() == [uploaded]  # the orphan is there
    assert await importer.rows() == []
    assert [e.object_path for e in importer.journal.entries()] == [uploaded]

    assert await ImportPipeline(importer.store, importer.journal).recover() == [uploaded]
    assert await importer.objects() == []
    assert importer.journal.entries() == []


async def test_duplicates_are_found_by_sha256(importer: Importer, tmp_path: Path) -> None:
    first = tmp_path / "a.txt"
    first.write_text(ENGLISH, encoding="utf-8")
    copy = tmp_path / "copy of a.txt"
    copy.write_bytes(first.read_bytes())
    different = tmp_path / "b.txt"
    different.write_text(ENGLISH + " More.", encoding="utf-8")
    item = await importer.pipeline.commit(await importer.pipeline.prepare(first))
    assert [d.id for d in await importer.pipeline.find_duplicates(await importer.pipeline.prepare(copy))] == [item.id]
    assert await importer.pipeline.find_duplicates(await importer.pipeline.prepare(different)) == []


async def test_large_files_convert_in_a_worker_process_and_rejections_survive_it(
    importer: Importer, tmp_path: Path
) -> None:
    from echogen_desktop.importing.errors import ImportRejected, RejectReason
    from echogen_desktop.importing.pipeline import LARGE_FILE_BYTES

    big = tmp_path / "long interview.txt"
    line = "Ava: The deep sea vents host whole ecosystems without sunlight.\n"
    big.write_text(line * (LARGE_FILE_BYTES // len(line) + 10), encoding="utf-16")  # BOM'd UTF-16
    prepared = await importer.pipeline.prepare(big)
    assert prepared.size_bytes >= LARGE_FILE_BYTES and prepared.markdown.startswith("Ava: The deep sea vents")
    assert prepared.sha256 == hashlib.sha256(big.read_bytes()).hexdigest()

    binary = tmp_path / "renamed.txt"
    binary.write_bytes(os.urandom(LARGE_FILE_BYTES + 1024))
    with pytest.raises(ImportRejected) as rejected:
        await importer.pipeline.prepare(binary)
    assert rejected.value.reason is RejectReason.BINARY and "renamed.txt" in rejected.value.message
