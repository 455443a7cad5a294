"""The import panel on the qasync loop: real drop events, real uploads, what the user sees."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent, QWindow
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QWidget
from pytestqt.qtbot import QtBot

from echogen_desktop.importing.controller import FileState, ImportController
from echogen_desktop.services.records import ContentItem
from echogen_desktop.tasks import TaskRunner
from echogen_desktop.views.import_panel import DropImportFilter, ImportPanel, paths_from_mime
from tests.conftest import wait_until
from tests.import_support import ENGLISH, SRT, Importer, importer, make_docx

__all__ = ["importer"]
pytestmark = pytest.mark.qasync
SHOTS = Path(os.environ.get("ECHOGEN_SHOTS", "/tmp/echogen-import-shots"))
SHOTS.mkdir(parents=True, exist_ok=True)


@dataclass
class PanelEnv:
    importer: Importer
    controller: ImportController
    panel: ImportPanel
    imported: list[tuple[ContentItem, bool]]

    def states(self) -> dict[str, FileState]:
        return {t.name: t.state for t in self.controller.batch()}

    def messages(self) -> dict[str, str]:
        return {t.name: self.panel.rows[t.key].status_label.text() for t in self.controller.batch()}

    async def idle(self, timeout: float = 20.0) -> None:
        await wait_until(lambda: self.controller.batch() and not self.controller.running
                         and all(t.state.final or t.state is FileState.DUPLICATE for t in self.controller.batch()),
                         timeout, "the import did not settle")


@pytest.fixture
async def env(importer: Importer, qtbot: QtBot) -> AsyncIterator[PanelEnv]:
    runner = TaskRunner()
    controller = ImportController(importer.pipeline, runner)
    panel = ImportPanel(controller)
    qtbot.addWidget(panel)
    panel.resize(680, 520)
    panel.show()
    imported: list[tuple[ContentItem, bool]] = []
    panel.itemImported.connect(lambda item, select: imported.append((item, select)))
    yield PanelEnv(importer, controller, panel, imported)
    runner.cancel_all()
    await asyncio.sleep(0.05)


def file_mime(*paths: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def _window_of(widget: QWidget, at: QPoint) -> tuple[QWindow, QPoint]:
    """Drag events go to the native window, which routes them to the widget under the cursor (as a real drag)."""
    top = widget.window()
    handle = top.windowHandle()
    assert handle is not None
    return handle, widget.mapTo(top, at)


def drop(widget: QWidget, mime: QMimeData) -> bool:
    """A drag entering and then dropping; True when the drop was accepted.
    (The event is not returned: its repr crashes.)"""
    drag_enter(widget, mime)
    handle, pos = _window_of(widget, QPoint(30, 30))
    event = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    event.setAccepted(False)
    QApplication.sendEvent(handle, event)
    return event.isAccepted()


def drag_enter(widget: QWidget, mime: QMimeData) -> bool:
    handle, pos = _window_of(widget, QPoint(30, 30))
    event = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    event.setAccepted(False)
    QApplication.sendEvent(handle, event)
    return event.isAccepted()


def drag_leave(widget: QWidget) -> None:
    handle, _ = _window_of(widget, QPoint(0, 0))
    QApplication.sendEvent(handle, QDragLeaveEvent())


async def test_multi_file_drop_with_partial_failure(env: PanelEnv, tmp_path: Path) -> None:
    good_txt = tmp_path / "notes.txt"
    good_txt.write_text(f"# Field notes\n\n{ENGLISH}", encoding="utf-8")
    good_srt = tmp_path / "episode.srt"
    good_srt.write_text(SRT, encoding="utf-8")
    docx_file = make_docx(tmp_path / "interview.docx")
    unsupported = tmp_path / "cover.png"
    unsupported.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(64))
    empty = tmp_path / "empty.txt"
    empty.touch()
    binary = tmp_path / "renamed.txt"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00" + os.urandom(1000))
    huge = tmp_path / "huge.md"
    with huge.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024 + 1)

    assert drop(env.panel, file_mime(good_txt, unsupported, good_srt, empty, binary, huge, docx_file))
    await env.idle()

    assert env.states() == {
        "notes.txt": FileState.DONE, "cover.png": FileState.REJECTED, "episode.srt": FileState.DONE,
        "empty.txt": FileState.REJECTED, "renamed.txt": FileState.REJECTED, "huge.md": FileState.REJECTED,
        "interview.docx": FileState.DONE,
    }
    messages = env.messages()
    assert messages["cover.png"] == (
        "“cover.png” is not a supported file type. Supported types: .txt, .md, .srt, .vtt, .html, .docx, .pdf."
    )
    assert messages["empty.txt"] == "“empty.txt” is empty."
    assert "“renamed.txt” is not a text file" in messages["renamed.txt"]
    assert messages["huge.md"] == "“huge.md” is 50 MB, over the 50 MB limit for transcripts."
    assert messages["notes.txt"] == "Imported as “Field notes”."

    rows = await env.importer.rows()
    assert sorted(json.loads(r["metadata"])["source_filename"] for r in rows) == [
        "episode.srt", "interview.docx", "notes.txt"]
    assert len(await env.importer.objects()) == 3
    assert sorted(i.title for i, _ in env.imported) == ["Field notes", "Interview notes", "episode"]
    assert not any(select for _, select in env.imported)  # several files: nothing is auto-selected
    assert env.panel.overall_progress.value() == 1000
    assert env.panel.overall_label.text() == "3 imported, 4 not imported"

    # "Generate script" is offered on each imported file and names its content item.
    requested: list[str] = []
    env.panel.generateScriptRequested.connect(requested.append)
    done_row = next(r for k, r in env.panel.rows.items() if env.controller.task(k).name == "notes.txt")
    assert done_row.generate_button.isVisible()
    done_row.generate_button.click()
    notes_item = next(i for i, _ in env.imported if i.title == "Field notes")
    assert requested == [notes_item.id]
    failed_row = next(r for k, r in env.panel.rows.items() if env.controller.task(k).name == "empty.txt")
    assert not failed_row.generate_button.isVisible()


async def test_single_file_is_selected_and_drag_highlights(env: PanelEnv, tmp_path: Path) -> None:
    path = tmp_path / "solo.md"
    path.write_text(f"# Solo\n\n{ENGLISH}", encoding="utf-8")
    mime = file_mime(path)
    assert drag_enter(env.panel, mime)
    assert env.panel.drop_zone.property("dragActive") is True
    assert env.panel.drop_label.text() == "Release to import"
    drag_leave(env.panel)
    assert env.panel.drop_zone.property("dragActive") is False

    text_only = QMimeData()
    text_only.setText("not files")
    assert not drag_enter(env.panel, text_only)

    drop(env.panel, mime)
    await env.idle()
    assert [(item.title, select) for item, select in env.imported] == [("Solo", True)]


async def test_duplicates_prompt_skip_or_import_anyway(env: PanelEnv, tmp_path: Path) -> None:
    original = tmp_path / "talk.txt"
    original.write_text(ENGLISH, encoding="utf-8")
    drop(env.panel, file_mime(original))
    await env.idle()
    copy = tmp_path / "talk (copy).txt"
    copy.write_bytes(original.read_bytes())

    drop(env.panel, file_mime(copy))
    await env.idle()
    key = env.controller.batch()[-1].key
    row = env.panel.rows[key]
    assert env.controller.task(key).state is FileState.DUPLICATE
    assert row.status_label.text().startswith("“talk (copy).txt” is already in your library as “talk” (imported ")
    assert row.skip_button.isVisible() and row.anyway_button.isVisible()
    row.skip_button.click()
    assert env.controller.task(key).state is FileState.SKIPPED
    assert len(await env.importer.rows()) == 1

    drop(env.panel, file_mime(copy))
    await env.idle()
    key = env.controller.batch()[-1].key
    env.panel.rows[key].anyway_button.click()
    await env.idle()
    assert env.controller.task(key).state is FileState.DONE
    assert len(await env.importer.rows()) == 2
    assert len(await env.importer.objects()) == 2


async def test_cancel_button_stops_the_upload_and_keeps_nothing(env: PanelEnv, tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text((ENGLISH + "\n") * 80_000, encoding="utf-8")  # ~13 MB
    env.importer.store.chunk_size = 64 * 1024
    drop(env.panel, file_mime(path))
    await wait_until(lambda: env.controller.batch()[0].sent > 512 * 1024, 20)
    assert env.panel.cancel_button.isEnabled()
    env.panel.cancel_button.click()
    await env.idle()
    task = env.controller.batch()[0]
    assert task.state is FileState.CANCELLED and task.sent < task.total
    assert env.panel.rows[task.key].status_label.text() == "Cancelled; nothing was saved."
    await asyncio.sleep(0.2)
    assert await env.importer.rows() == []
    assert await env.importer.objects() == []
    assert env.importer.journal.entries() == []


async def test_folder_drop_and_paste_of_paths(env: PanelEnv, tmp_path: Path) -> None:
    folder = tmp_path / "season"
    (folder / "sub").mkdir(parents=True)
    (folder / "one.txt").write_text(ENGLISH, encoding="utf-8")
    (folder / "sub" / "two.md").write_text("# Two\n\n" + ENGLISH, encoding="utf-8")
    (folder / "cover.jpg").write_bytes(b"\xff\xd8\xff" + os.urandom(50))  # ignored inside a folder
    (folder / ".hidden.txt").write_text("secret", encoding="utf-8")
    empty_folder = tmp_path / "nothing"
    empty_folder.mkdir()
    drop(env.panel, file_mime(folder, empty_folder))
    await env.idle()
    assert env.states() == {"one.txt": FileState.DONE, "two.md": FileState.DONE, "nothing": FileState.REJECTED}
    assert "has no files of a supported type" in env.messages()["nothing"]

    pasted = tmp_path / "pasted.txt"
    pasted.write_text(ENGLISH + " Pasted.", encoding="utf-8")
    mime = QMimeData()
    mime.setText(f'"{pasted}"\n{QUrl.fromLocalFile(str(tmp_path / "season" / "one.txt")).toString()}\nnot a path')
    assert paths_from_mime(mime) == [pasted, folder / "one.txt"]
    assert env.panel.paste_paths(mime) == 2
    await env.idle()
    assert env.states()["pasted.txt"] is FileState.DONE
    assert env.states()["one.txt"] is FileState.DUPLICATE  # the same bytes were imported from the folder


async def test_main_window_drop_filter(env: PanelEnv, tmp_path: Path, qtbot: QtBot) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setCentralWidget(QLabel("library"))
    window.resize(500, 300)
    window.show()
    drop_filter = DropImportFilter(env.panel)
    drop_filter.install(window)
    assert window.acceptDrops()
    path = tmp_path / "window.txt"
    path.write_text(ENGLISH, encoding="utf-8")
    mime = file_mime(path)
    assert drag_enter(window, mime)
    assert drop_filter.overlay is not None and drop_filter.overlay.isVisible()
    assert window.grab().save(str(SHOTS / "window-drag.png"))
    assert drop(window, mime)
    assert not drop_filter.overlay.isVisible()
    await env.idle()
    assert env.states() == {"window.txt": FileState.DONE}


async def test_render_panel_during_an_import(env: PanelEnv, tmp_path: Path) -> None:
    """Screenshot mid-import: a rejected file, a finished one, a duplicate prompt, one uploading."""
    done = tmp_path / "Episode 12 notes.md"
    done.write_text(f"# Episode 12: Deep sea vents\n\n{ENGLISH}", encoding="utf-8")
    drop(env.panel, file_mime(done))
    await env.idle()
    dup = tmp_path / "Episode 12 notes (copy).md"
    dup.write_bytes(done.read_bytes())
    big = tmp_path / "Interview raw.txt"
    big.write_text((ENGLISH + "\n") * 120_000, encoding="utf-8")
    bad = tmp_path / "slides.pptx"
    bad.write_bytes(b"PK\x03\x04")
    env.importer.store.chunk_size = 32 * 1024
    drop(env.panel, file_mime(bad, dup, big))
    await wait_until(lambda: any(t.state is FileState.UPLOADING and t.sent > t.total // 4
                                 for t in env.controller.batch()), 20)
    await asyncio.sleep(0.05)
    assert env.panel.grab().save(str(SHOTS / "import-panel.png"))
    env.controller.cancel_all()
    await env.idle()
