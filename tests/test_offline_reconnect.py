"""Back online from the offline library: the server could not be reached at start-up, comes back,
and "Try again" signs in over the same window; what was reviewed offline reaches the server."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from echogen_devstack.runner import StackInfo
from tests.conftest import wait_until
from tests.offline_app_support import download_into, offline_app
from tests.offline_support import create_episode
from tests.player_support import UserFactory, make_wav
from tests.views_support import CuttableProxy, db  # noqa: F401


@pytest.mark.qasync
async def test_try_again_once_the_server_is_back_signs_in_and_sends_the_offline_review(
    stack: StackInfo, user_factory: UserFactory, db: asyncpg.Connection, tmp_path: Path,  # noqa: F811
) -> None:
    user = await user_factory()
    episode = await create_episode(user, make_wav(4.0))
    db_path = tmp_path / "data" / "library.sqlite3"
    await download_into(db_path, stack, user, episode.podcast_id)

    target = urlsplit(stack.url)
    proxy = CuttableProxy(target.hostname or "127.0.0.1", target.port or 80)
    await proxy.start()
    await proxy.cut()  # the port is known, and nobody answers on it: "the server is down"
    try:
        async with offline_app(proxy.url, stack.anon_key, db_path, tmp_path) as started:
            shell, window = started.shell, started.window
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

            await wait_until(lambda: not window.offline_mode and window.user is not None, 15,
                             "did not come back online")
            assert started.windows == [window] and window.isVisible()  # the same window, not a second one
            assert window.pages.currentWidget() is not view
            await wait_until(lambda: local.outbox_count() == 0, 10, "the offline review was not sent")
            raw = await db.fetchval("select metadata from generated_podcasts where id = $1::uuid", episode.podcast_id)
            metadata = json.loads(raw) if isinstance(raw, str) else dict(raw)
            assert [(n["id"], n["text"]) for n in metadata["review_notes"]] == [(note.id, "breath noise here")]
    finally:
        await proxy.cut()
