"""The first-run connection page: local validation, the live check against the real stack, Continue."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from echogen_desktop import config
from echogen_desktop.views.connection_page import ConnectionPage
from echogen_devstack.process import free_port
from echogen_devstack.runner import StackInfo
from tests.conftest import wait_until
from tests.schema_support import apply_migrations, unmigrated_stack
from tests.session_support import MemoryKeyring, Wired, settings_at, wire

pytestmark = pytest.mark.qasync
SHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"


@pytest.fixture
async def first_run(tmp_path: Path) -> AsyncIterator[Wired]:
    """An app with nothing configured: no flags, no environment, no saved settings."""
    w = wire(tmp_path, "", "", MemoryKeyring())
    w.shell.start()
    await wait_until(lambda: w.shell.page is not None and w.shell.page.isVisible(), 5, "no connection page")
    yield w
    w.shell.quit()
    await w.controller.aclose()


@pytest.fixture
def not_supabase() -> Iterator[str]:
    """Some other web server: answers 404 to everything."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def empty_project() -> Iterator[StackInfo]:
    """A project whose database never had the migrations applied (each test changes it or may)."""
    with unmigrated_stack() as info:
        yield info


def _page(w: Wired) -> ConnectionPage:
    assert w.shell.page is not None
    return w.shell.page


async def _settled(page: ConnectionPage) -> None:
    await wait_until(lambda: not page.busy.isVisible() and bool(page.status.text())
                     and not page._debounce.isActive(), 10, "the check did not finish")


async def test_a_working_project_enables_continue_and_leads_to_sign_in(
    first_run: Wired, stack: StackInfo, tmp_path: Path
) -> None:
    page = _page(first_run)
    assert not page.continue_button.isEnabled()
    page.url_edit.setText(stack.url + "/")
    page.key_edit.setText(stack.anon_key)
    await _settled(page)
    assert page.status.text() == f"Connected: {stack.url} answers as a Supabase project."
    assert page.continue_button.isEnabled()
    QTest.keyClick(page.key_edit, Qt.Key.Key_Return)  # Enter continues
    await wait_until(lambda: first_run.shell.dialog is not None and first_run.shell.dialog.isVisible(), 10)
    assert first_run.shell.page is None
    saved = settings_at(tmp_path)
    assert saved.value(config.SETTINGS_URL) == stack.url  # trailing slash gone
    assert saved.value(config.SETTINGS_ANON_KEY) == stack.anon_key


async def test_a_closed_port_is_reported_and_continue_stays_off(first_run: Wired, stack: StackInfo) -> None:
    page = _page(first_run)
    page.set_values(f"http://127.0.0.1:{free_port()}", stack.anon_key)
    await _settled(page)
    assert page.status.text() == "The server cannot be reached. Check the URL and the network."
    assert not page.continue_button.isEnabled()


async def test_a_server_that_is_not_supabase_is_named(
    first_run: Wired, stack: StackInfo, not_supabase: str
) -> None:
    page = _page(first_run)
    page.set_values(not_supabase, stack.anon_key)
    await _settled(page)
    assert page.status.text() == "This URL does not answer like a Supabase project (HTTP 404)."
    assert not page.continue_button.isEnabled()


async def test_an_anon_key_of_another_project_is_refused_by_the_server(first_run: Wired, stack: StackInfo) -> None:
    page = _page(first_run)
    now = int(time.time())
    foreign = jwt.encode({"iss": "supabase-demo", "role": "anon", "iat": now, "exp": now + 3600},
                         "some-other-project-secret-long-enough-for-hs256", algorithm="HS256")
    page.set_values(stack.url, foreign)  # well-formed, so only the server can tell
    await _settled(page)
    assert page.status.text() == "The server refused this anon key."
    assert not page.continue_button.isEnabled() and page.recheck_button.isVisibleTo(page)


async def test_bad_text_is_refused_without_asking_the_server(first_run: Wired, stack: StackInfo) -> None:
    page = _page(first_run)
    checks: list[tuple[str, str]] = []
    page.checkRequested.connect(lambda u, k: checks.append((u, k)))
    page.url_edit.setText(stack.url + "/rest/v1")
    page.key_edit.setText(stack.service_key)
    await asyncio.sleep(0.6)
    assert "without a path" in page.status.text() and not page.continue_button.isEnabled()
    page.url_edit.setText(stack.url)
    await asyncio.sleep(0.6)
    assert "service_role" in page.status.text() and not page.continue_button.isEnabled()
    assert checks == []


async def test_editing_after_a_good_check_disables_continue_until_checked_again(
    first_run: Wired, stack: StackInfo
) -> None:
    page = _page(first_run)
    page.set_values(stack.url, stack.anon_key)
    await _settled(page)
    assert page.continue_button.isEnabled()
    page.url_edit.setText(f"http://127.0.0.1:{free_port()}")
    assert not page.continue_button.isEnabled()
    await _settled(page)
    assert not page.continue_button.isEnabled()


async def test_an_invalid_flag_opens_the_page_with_the_reason(tmp_path: Path, stack: StackInfo) -> None:
    w = wire(tmp_path, "ftp://example.com", stack.anon_key, MemoryKeyring())
    w.shell.start()
    try:
        await wait_until(lambda: w.shell.page is not None and w.shell.page.isVisible(), 5)
        assert "must start with https://" in _page(w).status.text()
        assert _page(w).url_edit.text() == "ftp://example.com"
    finally:
        w.shell.quit()
        await w.controller.aclose()


async def test_render_the_connection_page(first_run: Wired, stack: StackInfo) -> None:
    page = _page(first_run)
    page.set_values(stack.url, stack.anon_key)
    await _settled(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert page.grab().save(str(SHOTS / "connection-page.png"))
    page.set_values("https://abcdefgh.supabase.co/rest/v1", "")
    await asyncio.sleep(0.05)
    assert page.grab().save(str(SHOTS / "connection-page-error.png"))


async def test_a_project_without_the_migrations_is_explained_until_they_are_applied(
    first_run: Wired, empty_project: StackInfo
) -> None:
    page = _page(first_run)
    page.set_values(empty_project.url, empty_project.anon_key)
    await _settled(page)
    shown = page.status.text()
    assert page.status.textFormat() is Qt.TextFormat.RichText
    assert "does not have EchoGen's schema yet" in shown
    assert "Missing tables: <code>generated_podcasts</code>, " in shown and "<code>user_sessions</code>." in shown
    assert "<code>supabase/migrations/</code>" in shown and "<code>supabase db push</code>" in shown
    assert "Using a real Supabase project" in shown and 'href="file://' in shown  # the checkout's README
    assert not page.continue_button.isEnabled()
    assert page.recheck_button.isVisibleTo(page)
    assert page.status.height() >= page.status.heightForWidth(page.status.width())  # nothing cut off
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert page.grab().save(str(SHOTS / "connection-page-migrations.png"))

    await apply_migrations(empty_project)  # what the explanation asks the user to do
    QTest.mouseClick(page.recheck_button, Qt.MouseButton.LeftButton)
    await _settled(page)
    assert page.status.text() == f"Connected: {empty_project.url} answers as a Supabase project."
    assert page.status.textFormat() is Qt.TextFormat.PlainText
    assert page.continue_button.isEnabled() and not page.recheck_button.isVisibleTo(page)


async def test_a_configured_project_without_the_migrations_opens_the_page_not_sign_in(
    tmp_path: Path, empty_project: StackInfo
) -> None:
    w = wire(tmp_path, empty_project.url, empty_project.anon_key, MemoryKeyring())
    w.shell.start()
    try:
        await wait_until(lambda: w.shell.page is not None and w.shell.page.isVisible(), 10, "no connection page")
        page = _page(w)
        await _settled(page)
        assert "does not have EchoGen's schema yet" in page.status.text()
        assert w.shell.dialog is None and w.controller.backend is None
    finally:
        w.shell.quit()
        await w.controller.aclose()


async def test_a_configured_key_of_another_project_opens_the_page_not_sign_in(
    tmp_path: Path, stack: StackInfo
) -> None:
    now = int(time.time())
    foreign = jwt.encode({"iss": "supabase-demo", "role": "anon", "iat": now, "exp": now + 3600},
                         "some-other-project-secret-long-enough-for-hs256", algorithm="HS256")
    w = wire(tmp_path, stack.url, foreign, MemoryKeyring())
    w.shell.start()
    try:
        await wait_until(lambda: w.shell.page is not None and w.shell.page.isVisible(), 10, "no connection page")
        await _settled(_page(w))
        assert _page(w).status.text() == "The server refused this anon key."
        assert w.shell.dialog is None and w.controller.backend is None
    finally:
        w.shell.quit()
        await w.controller.aclose()
