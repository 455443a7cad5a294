"""The sign-in dialog over the real stack: success, the specific failures, sign-up, the audit row."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from supabase import AsyncClient

from echogen_desktop.views.sign_in_dialog import Mode, SignInDialog
from echogen_devstack.process import free_port
from echogen_devstack.runner import StackInfo
from tests.conftest import TestUser, wait_until
from tests.session_support import MemoryKeyring, Wired, wire

pytestmark = pytest.mark.qasync
DEVICE_KEYS = {"model", "os", "os_version", "app_version", "hostname"}
SHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"

WireFactory = Callable[..., Awaitable[Wired]]


@pytest.fixture
async def wired(tmp_path: Path, stack: StackInfo) -> AsyncIterator[WireFactory]:
    made: list[Wired] = []

    async def make(url: str = stack.url) -> Wired:
        w = wire(tmp_path / f"app{len(made)}", url, stack.anon_key, MemoryKeyring())
        made.append(w)
        w.shell.start()
        await wait_until(lambda: w.shell.dialog is not None and w.shell.dialog.isVisible(), 10,
                         "the sign-in dialog did not appear")
        return w

    yield make
    for w in made:
        w.shell.quit()
        await w.controller.aclose()
        for widget in (w.shell.dialog, *w.windows):
            if widget is not None:
                widget.deleteLater()


def _dialog(w: Wired) -> SignInDialog:
    assert w.shell.dialog is not None
    return w.shell.dialog


def _submit(dialog: SignInDialog, email: str, password: str) -> None:
    dialog.email_edit.setText(email)
    dialog.password_edit.setText(password)
    QTest.keyClick(dialog.password_edit, Qt.Key.Key_Return)  # Enter submits


async def _error_shown(dialog: SignInDialog, timeout: float = 10) -> str:
    await wait_until(lambda: dialog.error.isVisible() and not dialog.is_busy, timeout, "no error was shown")
    return dialog.error.text()


async def test_sign_in_success_opens_the_window_and_records_the_device(
    wired: WireFactory, user_factory: Callable[[], Awaitable[TestUser]], service_client: AsyncClient
) -> None:
    user = await user_factory()
    w = await wired()
    dialog = _dialog(w)
    _submit(dialog, user.email, user.password)
    assert dialog.is_busy and dialog.busy.isVisible() and not dialog.submit_button.isEnabled()
    await wait_until(lambda: w.controller.signed_in, 10, "sign-in did not complete")
    await wait_until(lambda: w.window is not None and w.window.isVisible(), 5)
    assert w.shell.dialog is None
    assert w.window is not None and [c.user_id if c else None for c in w.window.calls] == [user.id]
    assert w.window.calls[0] is not None and w.window.calls[0].email == user.email

    rows = (await service_client.table("user_sessions").select("*").eq("user_id", user.id).execute()).data
    assert len(rows) == 1
    device = rows[0]["device"]
    assert set(device) == DEVICE_KEYS and all(isinstance(v, str) and v for v in device.values())
    assert device["app_version"] == "0.1.0"


async def test_wrong_password_says_so_and_the_dialog_stays_usable(
    wired: WireFactory, user_factory: Callable[[], Awaitable[TestUser]]
) -> None:
    user = await user_factory()
    w = await wired()
    dialog = _dialog(w)
    _submit(dialog, user.email, "not the password")
    assert await _error_shown(dialog) == "The email address or password is wrong."
    assert dialog.isVisible() and dialog.submit_button.isEnabled() and dialog.password_edit.isEnabled()
    assert not w.controller.signed_in and w.window is None
    assert "Traceback" not in dialog.error.text()
    _submit(dialog, user.email, user.password)  # and it still works
    await wait_until(lambda: w.controller.signed_in, 10)


async def test_unconfirmed_email_is_named(
    wired: WireFactory, user_factory: Callable[[], Awaitable[TestUser]], stack: StackInfo
) -> None:
    user = await user_factory()
    conn = await asyncpg.connect(stack.admin_dsn)
    try:
        await conn.execute("update auth.users set email_confirmed_at = null where id = $1", uuid.UUID(user.id))
    finally:
        await conn.close()
    w = await wired()
    _submit(_dialog(w), user.email, user.password)
    assert "not confirmed" in await _error_shown(_dialog(w))


async def test_unreachable_server_is_reported_quickly_without_freezing(wired: WireFactory) -> None:
    w = await wired(url=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    gaps: list[float] = []
    last = [time.monotonic()]

    def beat() -> None:
        now = time.monotonic()
        gaps.append(now - last[0])
        last[0] = now

    heartbeat = QTimer()
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(beat)
    heartbeat.start()
    started = time.monotonic()
    dialog = _dialog(w)
    _submit(dialog, "someone@example.test", "whatever-password")
    message = await _error_shown(dialog, timeout=5)
    elapsed = time.monotonic() - started
    heartbeat.stop()
    assert message == "The server cannot be reached. Check the connection and the URL."
    assert elapsed < 3
    assert gaps and max(gaps) < 0.1, f"the UI stalled for {max(gaps):.3f} s"
    assert dialog.submit_button.isEnabled()


async def test_sign_up_with_a_weak_password_and_with_an_existing_address(
    wired: WireFactory, user_factory: Callable[[], Awaitable[TestUser]]
) -> None:
    existing = await user_factory()
    w = await wired()
    dialog = _dialog(w)
    dialog.set_mode(Mode.SIGN_UP)
    assert dialog.name_edit.isVisible() and dialog.submit_button.text() == "&Create account"
    _submit(dialog, f"new-{uuid.uuid4().hex[:8]}@example.test", "abc")
    assert (await _error_shown(dialog)).startswith("The password is too weak")
    _submit(dialog, existing.email, "another good password")
    assert "already exists" in await _error_shown(dialog)
    assert not w.controller.signed_in


async def test_sign_up_signs_in_with_the_full_name(
    wired: WireFactory, service_client: AsyncClient
) -> None:
    w = await wired()
    dialog = _dialog(w)
    dialog.set_mode(Mode.SIGN_UP)
    dialog.name_edit.setText("Ada Lovelace")
    email = f"ada-{uuid.uuid4().hex[:8]}@example.test"
    _submit(dialog, email, "a long enough password")
    await wait_until(lambda: w.controller.signed_in, 10)
    assert w.controller.user is not None
    profile = (await service_client.table("profiles").select("full_name").eq(
        "id", w.controller.user.user_id).execute()).data
    assert profile == [{"full_name": "Ada Lovelace"}]
    sessions = (await service_client.table("user_sessions").select("id").eq(
        "user_id", w.controller.user.user_id).execute()).data
    assert len(sessions) == 1


async def test_empty_fields_are_caught_before_any_request(wired: WireFactory) -> None:
    w = await wired()
    dialog = _dialog(w)
    _submit(dialog, "", "")
    assert dialog.error.text() == "Enter your email address." and not dialog.is_busy
    _submit(dialog, "someone@example.test", "")
    assert dialog.error.text() == "Enter your password."


async def test_escape_cancels_and_leaves_the_app(wired: WireFactory) -> None:
    w = await wired()
    finished: list[bool] = []
    w.shell.finished.connect(lambda: finished.append(True))
    QTest.keyClick(_dialog(w), Qt.Key.Key_Escape)
    await wait_until(lambda: finished == [True], 5)
    assert w.window is None


async def test_render_the_sign_in_dialog(wired: WireFactory) -> None:
    w = await wired()
    dialog = _dialog(w)
    dialog.set_email("demo@echogen.local")
    dialog.show_notice("No system keychain found: you will need to sign in again next time")
    dialog.show_error("The email address or password is wrong.")
    SHOTS.mkdir(parents=True, exist_ok=True)
    image = dialog.grab()
    assert not image.isNull() and image.width() >= 400
    assert image.save(str(SHOTS / "sign-in-dialog.png"))
    dialog.set_mode(Mode.SIGN_UP)
    dialog.set_busy(True)
    await asyncio.sleep(0.05)  # let the layout follow the new texts
    assert dialog.busy_label.text() == "Creating your account…"
    assert dialog.grab().save(str(SHOTS / "sign-up-busy.png"))
