"""The app started against a server that does not answer, over an offline library of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMainWindow

from echogen_desktop.app_shell import AppShell
from echogen_desktop.offline.downloads import DownloadManager
from echogen_desktop.offline.library import OfflineLibrary
from echogen_desktop.offline.library_db import LibraryDb
from echogen_desktop.session_controller import SessionController
from echogen_desktop.session_store import SessionStore
from echogen_desktop.views.main_window import MainWindow
from echogen_devstack.runner import StackInfo
from tests.conftest import TestUser, wait_until
from tests.offline_support import signed_in_backend
from tests.session_support import MemoryKeyring


async def download_into(db_path: Path, stack: StackInfo, user: TestUser, podcast_id: str) -> None:
    """While online: download one episode into the library at ``db_path``."""
    backend = await signed_in_backend(stack.url, stack.anon_key, user.email, user.password)
    try:
        db = LibraryDb(db_path)
        manager = DownloadManager()
        await OfflineLibrary(db, manager).download_episode(backend, podcast_id)
        await manager.close()
        db.close()
    finally:
        await backend.close()


@dataclass
class OfflineApp:
    shell: AppShell
    controller: SessionController
    windows: list[MainWindow] = field(default_factory=list)

    @property
    def window(self) -> MainWindow:
        return self.windows[0]


@asynccontextmanager
async def offline_app(url: str, anon_key: str, db_path: Path, settings_dir: Path) -> AsyncIterator[OfflineApp]:
    """The app shell started on ``url`` (nobody answering there), once its offline library is open."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    settings = QSettings(str(settings_dir / "settings.ini"), QSettings.Format.IniFormat)
    # No OS keychain on this machine: an in-memory stand-in keeps the session (tests/session_support.py).
    controller = SessionController(settings, SessionStore(MemoryKeyring()), url=url, anon_key=anon_key, env={})
    windows: list[MainWindow] = []

    def factory() -> QMainWindow:
        window = MainWindow(settings, controller=controller, library_db=lambda: LibraryDb(db_path))
        window.live_updates_enabled = False
        windows.append(window)
        return window

    shell = AppShell(controller, factory, offline_library=lambda: bool(LibraryDb(db_path).downloaded_ids()))
    shell.start()
    try:
        await wait_until(lambda: bool(windows) and windows[0].offline_mode and windows[0].isVisible(), 10,
                         "the offline library did not open")
        yield OfflineApp(shell, controller, windows)
    finally:
        for window in windows:
            window.player.shutdown()
            window.close()
        controller.runner.cancel_all()
        await controller.aclose()
        await asyncio.sleep(0.05)
