"""Sessions across restarts, token refresh in use, revocation, sign-out scope, and no secrets on disk.

The keychain is the MemoryKeyring stand-in (tests/session_support.py): this machine has no OS
keychain, so the test hands one in-memory backend to both "runs" of the app.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import keyring.errors
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from supabase import AsyncClient, AsyncClientOptions, acreate_client
from supabase_auth.errors import AuthApiError

from echogen_desktop.services.backend import PageQuery
from echogen_desktop.services.tables import CONTENT
from echogen_desktop.session_store import SessionStore, no_keychain_message
from echogen_devstack.process import stack_tempdir, start_stack_process, stop_stack_process
from echogen_devstack.runner import StackInfo
from tests.conftest import TestUser, wait_until
from tests.session_support import MemoryKeyring, Wired, wire

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def short_stack() -> Iterator[StackInfo]:
    """A second stack whose access tokens live 5 seconds."""
    data_dir = stack_tempdir("echogen-test-short-jwt-")
    proc, info = start_stack_process(data_dir, "--bcrypt-rounds", "4", "--jwt-expiry", "5")
    try:
        yield info
    finally:
        stop_stack_process(proc)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
async def apps(tmp_path: Path) -> AsyncIterator[Callable[..., Wired]]:
    made: list[Wired] = []

    def make(url: str, anon_key: str, backend: keyring.backend.KeyringBackend, folder: str = "settings") -> Wired:
        w = wire(tmp_path / folder, url, anon_key, backend)
        made.append(w)
        return w

    yield make
    for w in made:
        w.shell.quit()
        await w.controller.aclose()


async def _client(url: str, key: str, http: httpx.AsyncClient) -> AsyncClient:
    return await acreate_client(
        url, key, options=AsyncClientOptions(auto_refresh_token=False, persist_session=False, httpx_client=http)
    )


async def _user_on(stack: StackInfo, http: httpx.AsyncClient) -> tuple[str, AsyncClient]:
    client = await _client(stack.url, stack.anon_key, http)
    email = f"short-{uuid.uuid4().hex[:10]}@example.test"
    await client.auth.sign_up({"email": email, "password": PASSWORD})
    return email, client


async def _sign_in_through_dialog(w: Wired, email: str, password: str = PASSWORD) -> None:
    await wait_until(lambda: w.shell.dialog is not None and w.shell.dialog.isVisible(), 10, "no sign-in dialog")
    dialog = w.shell.dialog
    assert dialog is not None
    dialog.email_edit.setText(email)
    dialog.password_edit.setText(password)
    QTest.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    await wait_until(lambda: w.controller.signed_in, 10, "sign-in did not complete")


def _stored(keys: MemoryKeyring, w: Wired) -> str | None:
    assert w.controller.config is not None and w.controller.user is not None
    return keys.get_password(SessionStore.service_name(w.controller.config.url), w.controller.user.user_id)


def _files_holding(root: Path, needles: list[str]) -> list[Path]:
    """Files under root that contain any of the strings."""
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            if any(needle.encode() in content for needle in needles):
                found.append(path)
    return found


async def _access_token(w: Wired) -> str:
    # Read, not get_session(): that would refresh a token this short-lived and race the app's own refresh.
    assert w.controller.backend is not None
    session = w.controller.backend._client.auth._in_memory_session
    assert session is not None
    return session.access_token


@pytest.mark.qasync
async def test_a_restart_restores_the_session_without_the_dialog(
    apps: Callable[..., Wired], stack: StackInfo, user_factory: Callable[[], Awaitable[TestUser]],
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    user = await user_factory()
    keys = MemoryKeyring()
    first = apps(stack.url, stack.anon_key, keys)
    first.shell.start()
    await _sign_in_through_dialog(first, user.email, user.password)
    token_before = _stored(keys, first)
    assert token_before == first.controller.user.refresh_token if first.controller.user else False
    secrets = [token_before, await _access_token(first), user.password]
    first.shell.quit()
    await first.controller.aclose()

    second = apps(stack.url, stack.anon_key, keys)  # same settings folder, same keychain: a restart
    dialogs: list[object] = []
    second.controller.signInNeeded.connect(dialogs.append)
    second.shell.start()
    await wait_until(lambda: second.controller.signed_in, 10, "the session was not restored")
    assert dialogs == [] and second.shell.dialog is None
    assert second.window is not None and second.window.isVisible()
    assert second.controller.user is not None and second.controller.user.user_id == user.id
    token_after = _stored(keys, second)
    assert token_after == second.controller.user.refresh_token != token_before  # rotated and re-stored
    assert len(keys.items) == 1  # the refresh token only: nothing else goes to the keychain
    page = await second.controller.backend.fetch_page(CONTENT, PageQuery()) if second.controller.backend else None
    assert page is not None and page.total == 0
    secrets += [token_after, await _access_token(second)]

    # No token or password on disk in plaintext, nor in any log line.
    second.settings.sync()
    scanned = _files_holding(tmp_path, [user.id, stack.url])
    assert [p.name for p in scanned] == ["settings.ini"]  # the settings file is there and is being read
    assert _files_holding(tmp_path, [s for s in secrets if s]) == []
    assert all(s not in caplog.text for s in secrets if s)


@pytest.mark.qasync
async def test_without_a_keychain_the_app_says_so_and_asks_again_next_time(
    apps: Callable[..., Wired], stack: StackInfo, user_factory: Callable[[], Awaitable[TestUser]],
) -> None:
    user = await user_factory()
    first = apps(stack.url, stack.anon_key, fail.Keyring())  # what keyring uses when there is no keychain
    assert not first.store.persistent and first.store.message == no_keychain_message()
    first.shell.start()
    await wait_until(lambda: first.shell.dialog is not None and first.shell.dialog.isVisible(), 10)
    assert first.shell.dialog is not None
    assert first.shell.dialog.notice.isVisible()
    assert first.shell.dialog.notice.text() == "No system keychain found: you will need to sign in again next time"
    await _sign_in_through_dialog(first, user.email, user.password)
    first.shell.quit()
    await first.controller.aclose()

    second = apps(stack.url, stack.anon_key, fail.Keyring())
    second.shell.start()
    await wait_until(lambda: second.shell.dialog is not None and second.shell.dialog.isVisible(), 10)
    assert not second.controller.signed_in


class LockedKeyring(MemoryKeyring):
    """A keychain that exists but refuses (locked, or access denied)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("locked")


def test_a_keychain_failing_in_use_falls_back_to_memory() -> None:
    store = SessionStore(LockedKeyring())
    assert store.persistent
    store.save("http://x", "user", "token-1")
    assert not store.persistent and store.message == no_keychain_message()
    assert store.load("http://x", "user") == "token-1"  # still usable in this run
    store.delete("http://x", "user")
    assert store.load("http://x", "user") is None


@pytest.mark.qasync
async def test_a_five_second_token_refreshes_while_a_view_is_open(
    apps: Callable[..., Wired], short_stack: StackInfo, http: httpx.AsyncClient,
) -> None:
    email, _ = await _user_on(short_stack, http)
    keys = MemoryKeyring()
    w = apps(short_stack.url, short_stack.anon_key, keys)
    reauth: list[str] = []
    w.controller.reauthRequired.connect(reauth.append)
    w.shell.start()
    await _sign_in_through_dialog(w, email)
    writes_at_sign_in = len(keys.writes)

    # The "open view": a list page loaded every half second through the controller's runner.
    results: list[object] = []
    errors: list[str] = []
    backend = w.controller.backend
    assert backend is not None

    async def load() -> object:
        return await backend.fetch_page(CONTENT, PageQuery(limit=10))

    view = QTimer()
    view.setInterval(500)
    view.timeout.connect(lambda: w.controller.runner.run(load(), results.append, lambda e: errors.append(e.message)))
    view.start()
    first_access = await _access_token(w)
    await wait_until(lambda: len(keys.writes) >= writes_at_sign_in + 2, 15, "the token was not refreshed twice")
    await wait_until(lambda: len(results) >= 20, 15)
    view.stop()

    assert errors == [] and reauth == []
    assert await _access_token(w) != first_access
    assert w.controller.user is not None and _stored(keys, w) == w.controller.user.refresh_token
    assert len(set(keys.writes)) == len(keys.writes)  # every refresh stored a new token
    assert w.window is not None and w.window.isVisible() and w.shell.dialog is None


@pytest.mark.qasync
async def test_a_revoked_session_asks_to_sign_in_again_over_the_same_window(
    apps: Callable[..., Wired], short_stack: StackInfo, http: httpx.AsyncClient,
) -> None:
    email, _ = await _user_on(short_stack, http)
    keys = MemoryKeyring()
    w = apps(short_stack.url, short_stack.anon_key, keys)
    reauth: list[str] = []
    w.controller.reauthRequired.connect(reauth.append)
    w.shell.start()
    await _sign_in_through_dialog(w, email)
    window = w.window
    assert window is not None
    window.work.setText("half-edited script")

    elsewhere = await _client(short_stack.url, short_stack.anon_key, http)
    await elsewhere.auth.sign_in_with_password({"email": email, "password": PASSWORD})
    await elsewhere.auth.sign_out({"scope": "global"})  # ends every session of this user, ours too

    await wait_until(lambda: reauth != [], 20, "the revoked session went unnoticed")
    assert reauth == ["Your session has ended. Please sign in again."]
    await wait_until(lambda: w.shell.dialog is not None and w.shell.dialog.isVisible(), 5)
    dialog = w.shell.dialog
    assert dialog is not None and dialog.parent() is window
    assert dialog.email_edit.text() == email and dialog.notice.text().startswith("Your session has ended")
    assert w.window is window and window.isVisible() and window.work.text() == "half-edited script"
    assert keys.items == {}  # the dead token is gone

    await _sign_in_through_dialog(w, email)
    assert w.window is window and window.isVisible() and window.work.text() == "half-edited script"
    assert [c.user_id if c else None for c in window.calls] == [w.controller.user.user_id if w.controller.user
                                                               else None]  # same user: state kept
    assert w.controller.backend is not None
    page = await w.controller.backend.fetch_page(CONTENT, PageQuery())
    assert page.total == 0
    assert _stored(keys, w) == w.controller.user.refresh_token if w.controller.user else False


@pytest.mark.qasync
async def test_a_task_that_finds_the_session_expired_triggers_reauth(
    apps: Callable[..., Wired], stack: StackInfo, user_factory: Callable[[], Awaitable[TestUser]],
) -> None:
    user = await user_factory()
    w = apps(stack.url, stack.anon_key, MemoryKeyring())
    reauth: list[str] = []
    w.controller.reauthRequired.connect(reauth.append)
    w.shell.start()
    await _sign_in_through_dialog(w, user.email, user.password)
    backend = w.controller.backend
    assert backend is not None

    async def stale() -> object:
        return await backend.restore("a-refresh-token-the-server-never-issued")

    handled: list[str] = []
    w.controller.runner.run(stale(), on_error=lambda e: handled.append(e.kind.value))
    await wait_until(lambda: reauth != [], 5)
    assert handled == ["session_expired"]  # the view still hears its own error
    assert w.window is not None and w.window.isVisible()
    await wait_until(lambda: w.shell.dialog is not None and w.shell.dialog.isVisible(), 5)

    # Not now: Esc. The window stays (the app does not quit), and the next failure asks again.
    finished: list[bool] = []
    w.shell.finished.connect(lambda: finished.append(True))
    assert w.shell.dialog is not None
    QTest.keyClick(w.shell.dialog, Qt.Key.Key_Escape)
    await wait_until(lambda: w.shell.dialog is None, 5)
    assert finished == [] and w.window.isVisible()
    w.controller.runner.run(stale(), on_error=lambda e: handled.append(e.kind.value))
    await wait_until(lambda: len(reauth) == 2 and w.shell.dialog is not None, 5)
    await _sign_in_through_dialog(w, user.email, user.password)
    assert w.shell.dialog is None and finished == []


@pytest.mark.qasync
async def test_sign_out_is_local_and_forgets_the_stored_token(
    apps: Callable[..., Wired], stack: StackInfo, user_factory: Callable[[], Awaitable[TestUser]],
    http: httpx.AsyncClient,
) -> None:
    user = await user_factory()  # user.client holds another device's session
    keys = MemoryKeyring()
    w = apps(stack.url, stack.anon_key, keys)
    w.shell.start()
    await _sign_in_through_dialog(w, user.email, user.password)
    our_token = _stored(keys, w)
    assert our_token
    window = w.window
    assert window is not None

    task = w.controller.sign_out()
    assert task is not None
    await task
    assert keys.items == {}
    assert window.calls[-1] is None and window.isVisible()
    await wait_until(lambda: w.shell.dialog is not None and w.shell.dialog.isVisible(), 5)

    other = await user.client.auth.refresh_session(user.refresh_token)  # the other device is still in
    assert other.session is not None
    probe = await _client(stack.url, stack.anon_key, http)
    with pytest.raises(AuthApiError):
        await probe.auth.refresh_session(our_token)  # ours was revoked on the server

    again = apps(stack.url, stack.anon_key, keys, folder="settings")  # restart after sign-out
    again.shell.start()
    await wait_until(lambda: again.shell.dialog is not None and again.shell.dialog.isVisible(), 10)
    assert not again.controller.signed_in
