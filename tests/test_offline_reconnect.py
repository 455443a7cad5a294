"""Back online from the offline library: the server could not be reached at start-up, comes back,
and "Try again" signs in over the same window; what was reviewed offline reaches the server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMainWindow
from pytestqt.qtbot import QtBot

from echogen_desktop.app_shell import AppShell
from echogen_desktop.offline.downloads import DownloadManager
from echogen_desktop.offline.library import OfflineLibrary
from echogen_desktop.offline.library_db import LibraryDb
from echogen_desktop.session_controller import SessionController
from echogen_desktop.session_store import SessionStore
from echogen_desktop.views.main_window import MainWindow
from echogen_devstack.runner import StackInfo
from tests.conftest import wait_until
from tests.offline_support import create_episode, signed_in_backend
from tests.player_support import UserFactory, make_wav
from tests.session_support import MemoryKeyring
from tests.views_support import CuttableProxy, db  # noqa: F401


@pytest.fixture
def quit_on_close() -> Iterator[None]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    yield


@pytest.mark.qasync
async def test_try_again_once_the_server_is_back_signs_in_and_sends_the_offline_review(
    stack: StackInfo, user_factory: UserFactory, db: asyncpg.Connection,  # noqa: F811
    qtbot: QtBot, tmp_path: Path, quit_on_close: None,
) -> None:
    user = await user_factory()
    episode = await create_episode(user, make_wav(4.0))
    db_path = tmp_path / "data" / "library.sqlite3"
    backend = await signed_in_backend(stack.url, stack.anon_key, user.email, user.password)
    try:
        library_db = LibraryDb(db_path)
        await OfflineLibrary(library_db, DownloadManager()).download_episode(backend, episode.podcast_id)
        library_db.close()
    finally:
        await backend.close()

    target = urlsplit(stack.url)
    proxy = CuttableProxy(target.hostname or "127.0.0.1", target.port or 80)
    await proxy.start()
    await proxy.cut()  # the port is known, and nobody answers on it: "the server is down"

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    # No OS keychain here: an in-memory stand-in keeps the session (tests/session_support.py).
    controller = SessionController(settings, SessionStore(MemoryKeyring()), url=proxy.url,
                                   anon_key=stack.anon_key, env={})
    windows: list[MainWindow] = []

    def factory() -> QMainWindow:
        window = MainWindow(settings, controller=controller, library_db=lambda: LibraryDb(db_path))
        window.live_updates_enabled = False
        windows.append(window)
        return window

    shell = AppShell(controller, factory, offline_library=lambda: bool(LibraryDb(db_path).downloaded_ids()))
    shell.start()
    try:
        await wait_until(lambda: bool(windows) and windows[0].offline_mode, 10, "the offline library did not open")
        window = windows[0]
        view = window.offline_view
        assert view is not None
        view.play_button.click()
        await wait_until(lambda: window.player.playing, 10, "nothing played from disk")
        window.player.pause()
        note = window.review_dock.notes.model.add(2.0, "breath noise here")
        local = window.playback.db
        await wait_until(lambda: local.outbox_count() >= 1, 5, "the offline note was not queued")

        await proxy.restore()
        view.retry_button.click()
        await wait_until(lambda: shell.dialog is not None and shell.dialog.isVisible(), 10, "no sign-in dialog")
        dialog = shell.dialog
        assert dialog is not None
        dialog.email_edit.setText(user.email)
        dialog.password_edit.setText(user.password)
        QTest.keyClick(dialog.password_edit, Qt.Key.Key_Return)

        await wait_until(lambda: not window.offline_mode and window.user is not None, 15, "did not come back online")
        assert windows == [window] and window.isVisible()  # the same window, not a second one
        assert window.pages.currentWidget() is not view
        await wait_until(lambda: local.outbox_count() == 0, 10, "the offline review was not sent")
        raw = await db.fetchval("select metadata from generated_podcasts where id = $1::uuid", episode.podcast_id)
        metadata = json.loads(raw) if isinstance(raw, str) else dict(raw)
        assert [(n["id"], n["text"]) for n in metadata["review_notes"]] == [(note.id, "breath noise here")]
    finally:
        for window in windows:
            window.player.shutdown()
            window.close()
        controller.runner.cancel_all()
        await controller.aclose()
        await proxy.cut()
        await asyncio.sleep(0.05)
