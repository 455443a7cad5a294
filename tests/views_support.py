"""Shared pieces for the main-window tests: a user with the demo library, a signed-in window, a
TCP proxy that can be cut to make the backend unreachable, and helpers to drive the window."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from supabase import AsyncClient

from echogen_desktop.services.backend import Backend
from echogen_desktop.tasks import TaskRunner
from echogen_desktop.views.main_window import MainWindow
from echogen_desktop.views.sections.base import ListSection
from echogen_devstack.runner import StackInfo
from echogen_devstack.seed import DemoLibrary, build_library
from tests.conftest import TestUser, wait_until

UserFactory = Callable[[], Awaitable[TestUser]]


async def seed_library(user: TestUser, service: AsyncClient) -> DemoLibrary:
    """The demo library (articles, an uploaded transcript, scripts, podcasts with files, jobs in
    every status, usage events) for this user, written the way the demo seed writes it."""
    lib = build_library(user.id)
    for stored in lib.files:
        await user.client.storage.from_(stored.bucket).upload(
            stored.path, stored.data, {"content-type": stored.content_type, "upsert": "true"}
        )
    await user.client.table("scraped_content").insert(lib.scraped_content).execute()
    await user.client.table("podcast_scripts").insert(lib.podcast_scripts).execute()
    await user.client.table("generated_podcasts").insert(lib.generated_podcasts).execute()
    await user.client.table("processing_jobs").insert(lib.user_jobs).execute()
    for job_id in lib.cancelled_job_ids:
        await user.client.table("processing_jobs").update({"status": "cancelled"}).eq("id", job_id).execute()
    await service.table("processing_jobs").insert(lib.worker_jobs).execute()
    await service.table("usage_events").insert(lib.usage_events).execute()
    return lib


@dataclass
class Ui:
    window: MainWindow
    backend: Backend
    runner: TaskRunner
    user: TestUser
    lib: DemoLibrary
    db: asyncpg.Connection
    settings_path: Path

    def section(self, key: str) -> ListSection:
        section = self.window.section(key)
        assert isinstance(section, ListSection)
        return section

    async def idle(self, timeout: float = 10.0) -> None:
        await wait_until(lambda: not self.runner.busy, timeout, "network work did not finish")

    async def settle(self) -> None:
        """Every list's first page and every detail request done. Fixtures end with this: qasync runs
        Qt events once more after each fixture's loop stops, and a task stepped then has no running loop."""
        for section in self.window.sections:
            if isinstance(section, ListSection):
                await self.loaded(section.key)
        await self.idle()

    async def loaded(self, key: str, timeout: float = 10.0) -> ListSection:
        section = self.section(key)
        await wait_until(
            lambda: section.model is not None and section.model.total_count() >= 0 and not section.model.is_loading(),
            timeout, f"{key} list did not load",
        )
        return section

    async def select(self, key: str, record_id: str) -> ListSection:
        section = await self.loaded(key)
        self.window.show_section([s.key for s in self.window.sections].index(key))
        assert section.select_id(record_id), f"{record_id} is not in the {key} list"
        await self.idle()
        return section


def rows_of(lib: DemoLibrary, table: str) -> list[dict[str, Any]]:
    return list(getattr(lib, table))


async def confirm_dialog(parent: QWidget, accept: bool = True) -> None:
    """Answer the (non-blocking) confirmation box the section opened."""
    await wait_until(lambda: parent.findChild(QMessageBox, "confirmDialog") is not None, 5, "no confirmation asked")
    box = parent.findChild(QMessageBox, "confirmDialog")
    assert box is not None
    if accept:
        yes = box.findChild(QWidget, "confirmYes")
        assert yes is not None
        yes.click()  # type: ignore[attr-defined]
    else:
        box.reject()


def new_settings(directory: Path) -> QSettings:
    return QSettings(str(directory / "settings.ini"), QSettings.Format.IniFormat)


@contextlib.asynccontextmanager
async def open_window(
    stack: StackInfo, user: TestUser, lib: DemoLibrary, db: asyncpg.Connection, url: str | None = None,
    settings_dir: Path | None = None,
) -> AsyncIterator[Ui]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # closing the window must not stop the test's event loop
    directory = settings_dir or Path(tempfile.mkdtemp(prefix="echogen-views-"))
    backend = await Backend.connect(url or stack.url, stack.anon_key, request_timeout=5.0)
    signed = await backend.sign_in(user.email, user.password)
    runner = TaskRunner()
    window = MainWindow(new_settings(directory), project_url=stack.url)
    window.cache_dir = directory / "cache"
    # The change feed polls in the background; qasync steps such tasks between fixture and test,
    # with no running loop, which breaks httpx. Tests of live updates start it inside the test.
    window.live_updates_enabled = False
    if settings_dir is None:  # a reused settings dir carries the geometry under test
        window.resize(1200, 760)
    window.attach(backend, runner)
    window.set_signed_in(signed)
    window.show()
    ui = Ui(window, backend, runner, user, lib, db, directory / "settings.ini")
    try:
        yield ui
    finally:
        await window.stop_live_updates()
        window.close()
        runner.cancel_all()
        await asyncio.sleep(0.05)
        window.deleteLater()
        await backend.close()
        if settings_dir is None:
            shutil.rmtree(directory, ignore_errors=True)


class CuttableProxy:
    """A TCP forwarder in front of the stack: ``cut()`` closes it and every open connection, so the
    backend sees a refused port; ``restore()`` listens again on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def restore(self) -> None:
        await self.start()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        self._writers.difference_update((writer, up_writer))


@pytest.fixture
async def db(stack: StackInfo) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(stack.admin_dsn)
    yield conn
    await conn.close()


@pytest.fixture
async def seeded(user_factory: UserFactory, service_client: AsyncClient) -> tuple[TestUser, DemoLibrary]:
    user = await user_factory()
    return user, await seed_library(user, service_client)


@pytest.fixture
async def ui(stack: StackInfo, seeded: tuple[TestUser, DemoLibrary], db: asyncpg.Connection) -> AsyncIterator[Ui]:
    user, lib = seeded
    async with open_window(stack, user, lib, db) as opened:
        await opened.settle()
        yield opened
