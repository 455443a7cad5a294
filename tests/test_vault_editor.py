"""The Key Vault editor over the real stack: first use, add/edit/delete (ciphertext only in the
database), wrong passphrase, duplicates, the reveal toggle, idle lock, the clipboard, passphrase
change, two users, the usage bars, and a scripted session that leaves no plaintext anywhere."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import shiboken6
from PySide6.QtCore import QSettings, QStandardPaths, Qt
from PySide6.QtGui import QClipboard, QGuiApplication
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLineEdit, QMessageBox, QWidget
from pytestqt.modeltest import ModelTester
from supabase import AsyncClient

from echogen_desktop import vault
from echogen_desktop.models.vault_keys import MASK, Column, UsageLevel, VaultFilterProxy, VaultRole
from echogen_desktop.services.backend import Backend
from echogen_desktop.services.errors import ErrorKind, ServiceError
from echogen_desktop.services.vault_service import VaultService
from echogen_desktop.tasks import TaskRunner
from echogen_desktop.vault import KdfParams
from echogen_desktop.views.vault import VaultSection
from echogen_desktop.views.vault.clipboard import KDE_HINT, MAC_CONCEALED, WINDOWS_EXCLUDE
from echogen_desktop.views.vault.edit_dialog import KeyEditDialog
from echogen_desktop.views.vault.keychain import DeviceKeychain
from echogen_desktop.views.vault.passphrase_dialog import ChangePassphraseDialog
from echogen_devstack.postgres import find_bindir
from echogen_devstack.runner import StackInfo
from tests.conftest import TestUser, wait_until
from tests.session_support import MemoryKeyring

pytestmark = pytest.mark.qasync

FAST = KdfParams(memory_kib=65536, iterations=1, lanes=1)  # the real floor; production calibrates t
PASSPHRASE = "orbit velvet canyon lantern 42"
OPENAI = "sk-proj-EDITORtest0penAIkeyNOTREAL-7Q2x"
GROQ = "gsk_EDITORtestGroqKeyNotReal_9v8W"
GEMINI = "AIzaEDITORtestGeminiKeyNotReal-3kP0"
SHOTS = Path(os.environ.get("ECHOGEN_SHOTS", tempfile.gettempdir())) / "vault-shots"

UserFactory = Callable[[], Awaitable[TestUser]]


@dataclass
class Ui:
    section: VaultSection
    service: VaultService
    backend: Backend
    runner: TaskRunner
    user: TestUser
    settings: QSettings
    keyring: MemoryKeyring

    async def idle(self) -> None:
        await wait_until(lambda: not self.runner.busy, 15, "vault work did not finish")


@contextlib.asynccontextmanager
async def open_vault(stack: StackInfo, user: TestUser, settings_dir: Path, **options: float) -> AsyncIterator[Ui]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    settings = QSettings(str(settings_dir / "settings.ini"), QSettings.Format.IniFormat)
    for key, value in options.items():
        settings.setValue(f"vault/{key}", value)
    backend = await Backend.connect(stack.url, stack.anon_key, request_timeout=10.0)
    await backend.sign_in(user.email, user.password)
    service = VaultService(backend, kdf_params=FAST)
    runner = TaskRunner()
    keyring = MemoryKeyring()
    section = VaultSection(service, runner, settings, keychain=DeviceKeychain(keyring))
    section.resize(1000, 520)
    section.show()
    ui = Ui(section, service, backend, runner, user, settings, keyring)
    await ui.idle()
    try:
        yield ui
    finally:
        section.lock()
        section.close()
        runner.cancel_all()
        await asyncio.sleep(0.05)
        section.deleteLater()
        await backend.close()


@pytest.fixture
def settings_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="echogen-vault-ui-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
async def db(stack: StackInfo) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(stack.admin_dsn)
    try:
        yield conn
    finally:
        await conn.close()


async def db_rows(db: asyncpg.Connection, user_id: str) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "select id::text, user_id::text, provider, key_alias, encrypted_key, metadata::text as metadata, "
        "updated_at from user_api_keys where user_id = $1 order by provider, key_alias", user_id)
    return [dict(r) for r in rows]


def as_vault_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    import json
    return [{**r, "metadata": json.loads(r["metadata"])} for r in rows]


def open_with(rows: list[dict[str, Any]], passphrase: str) -> dict[str, str]:
    parsed = as_vault_rows(rows)
    header = vault.header_of_rows(parsed)
    assert header is not None
    with vault.unlock(header, passphrase) as key:
        return {f"{r['provider']}/{r['key_alias']}": vault.open_row(key, r) for r in parsed}


# ------------------------------------------------------------------ driving the UI
async def set_up(ui: Ui, passphrase: str = PASSPHRASE) -> None:
    section = ui.section
    await wait_until(lambda: section.pages.currentWidget() is section.setup_page, 10, "no first-use page")
    fields = section.setup_page.fields
    fields.first.setText(passphrase)
    assert not section.setup_page.create_button.isEnabled()  # confirmation still missing
    fields.second.setText(passphrase + "x")
    assert fields.mismatch.text() and not section.setup_page.create_button.isEnabled()
    assert fields.meter.value() >= 3 and fields.hint.text() in ("Good.", "Strong.")
    if passphrase == PASSPHRASE:
        shoot(section, "vault-setup-typed")
    fields.second.setText(passphrase)
    assert section.setup_page.create_button.isEnabled()
    section.setup_page.create_button.click()
    await wait_until(lambda: section.pages.currentWidget() is section.list_page, 15, "vault not created")
    assert fields.first.text() == "" and fields.second.text() == ""


async def unlock(ui: Ui, passphrase: str = PASSPHRASE) -> None:
    section = ui.section
    await wait_until(lambda: section.pages.currentWidget() is section.unlock_page
                     and section.unlock_page.unlock_button.isEnabled(), 10, "no unlock prompt")
    section.unlock_page.passphrase.setText(passphrase)
    section.unlock_page.unlock_button.click()
    assert section.unlock_page.passphrase.text() == ""
    await ui.idle()


def editor(ui: Ui) -> KeyEditDialog:
    dialogs = [d for d in ui.section.findChildren(KeyEditDialog) if d.isVisible()]
    assert len(dialogs) == 1
    return dialogs[0]


def save_button(dialog: KeyEditDialog) -> QWidget:
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Save)


async def add_key(ui: Ui, provider: str, alias: str, secret: str, scopes: str = "", cap: float = 0.0,
                  per_day: int = 0) -> None:
    before = ui.section.model.rowCount()
    ui.section.list_page.actions_["add"].trigger()
    dialog = editor(ui)
    dialog.provider.setCurrentText(provider)
    dialog.alias.setText(alias)
    dialog.key.setText(secret)
    dialog.scopes.setText(scopes)
    dialog.monthly_cap.setValue(cap)
    dialog.daily_requests.setValue(per_day)
    assert save_button(dialog).isEnabled()
    save_button(dialog).click()  # type: ignore[attr-defined]
    await ui.idle()
    await wait_until(lambda: ui.section.model.rowCount() == before + 1, 5, "key not added")


def select(ui: Ui, provider: str, alias: str) -> None:
    entry = next(e for e in ui.section.model.entries() if e.provider == provider and e.alias == alias)
    assert ui.section.list_page.select_id(entry.id)


def masked_of(ui: Ui, provider: str, alias: str) -> str:
    model = ui.section.model
    row = next(i for i, e in enumerate(model.entries()) if e.provider == provider and e.alias == alias)
    return str(model.index(row, Column.KEY).data())


def shoot(widget: QWidget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(SHOTS / f"{name}.png"))


# ------------------------------------------------------------------ tests
async def test_first_use_then_add_edit_delete_store_only_ciphertext(
        stack: StackInfo, user_factory: UserFactory, db: asyncpg.Connection, settings_dir: Path) -> None:
    user = await user_factory()
    async with open_vault(stack, user, settings_dir) as ui:
        shoot(ui.section, "vault-setup")
        await set_up(ui)
        assert await db_rows(db, user.id) == []  # an empty vault has no server state
        await add_key(ui, "OpenAI", "personal", OPENAI, "scripts, tts", cap=5, per_day=1000)
        rows = await db_rows(db, user.id)
        assert len(rows) == 1 and rows[0]["provider"] == "openai" and rows[0]["key_alias"] == "personal"
        assert rows[0]["encrypted_key"].startswith("v1:") and OPENAI not in str(rows[0])
        assert '"scopes": ["scripts", "tts"]' in rows[0]["metadata"]
        assert '"monthly_usd": 5.0' in rows[0]["metadata"] and '"requests_per_day": 1000' in rows[0]["metadata"]
        assert open_with(rows, PASSPHRASE) == {"openai/personal": OPENAI}
        assert masked_of(ui, "openai", "personal") == MASK + OPENAI[-4:]

        select(ui, "openai", "personal")
        ui.section.list_page.actions_["edit"].trigger()
        dialog = editor(ui)
        assert dialog.key.text() == OPENAI and dialog.key.echoMode() == QLineEdit.EchoMode.Password
        dialog.alias.setText("work")
        dialog.key.setText(OPENAI + "ZZ")
        save_button(dialog).click()  # type: ignore[attr-defined]
        await ui.idle()
        edited = await db_rows(db, user.id)
        assert [r["id"] for r in edited] == [rows[0]["id"]] and edited[0]["key_alias"] == "work"
        assert edited[0]["encrypted_key"] != rows[0]["encrypted_key"]
        assert open_with(edited, PASSPHRASE) == {"openai/work": OPENAI + "ZZ"}
        assert masked_of(ui, "openai", "work") == MASK + (OPENAI + "ZZ")[-4:]
        assert not shiboken6.isValid(dialog)  # the closed dialog, and the key in its field, are gone

        select(ui, "openai", "work")
        ui.section.list_page.actions_["delete"].trigger()
        box = ui.section.findChild(QMessageBox, "confirmDialog")
        assert box is not None
        box.reject()  # "Cancel" keeps the key
        await asyncio.sleep(0.1)
        assert len(await db_rows(db, user.id)) == 1
        select(ui, "openai", "work")
        ui.section.list_page.actions_["delete"].trigger()
        yes = ui.section.findChild(QMessageBox, "confirmDialog")
        assert yes is not None
        yes_button = yes.findChild(QWidget, "confirmYes")
        assert yes_button is not None
        yes_button.click()  # type: ignore[attr-defined]
        await ui.idle()
        assert await db_rows(db, user.id) == [] and ui.section.model.rowCount() == 0


def test_strength_hint_and_format_presets() -> None:
    from echogen_desktop.views.vault.presets import check_format
    from echogen_desktop.views.vault.strength import estimate
    assert estimate("password").score == 0 and estimate("aaaaaaaaaaaa").score <= 1
    assert estimate("Tr0ub4dor&3").score < estimate("orbit velvet canyon lantern 42").score
    assert check_format("openai", OPENAI).ok and check_format("groq", GROQ).ok and check_format("gemini", GEMINI).ok
    assert check_format("openai", "sk-or-v1-abc").looks_like is not None  # OpenRouter's, in the OpenAI slot
    assert check_format("openrouter", "sk-or-v1-abc").ok and check_format("firecrawl", "fc-123").ok
    assert not check_format("firecrawl", "123").ok and check_format("my-own-llm", "anything").ok


async def test_wrong_passphrase_is_refused_with_a_message(
        stack: StackInfo, user_factory: UserFactory, settings_dir: Path) -> None:
    user = await user_factory()
    async with open_vault(stack, user, settings_dir) as ui:
        await set_up(ui)
        await add_key(ui, "Groq", "main", GROQ)
    async with open_vault(stack, user, settings_dir) as ui:
        section = ui.section
        assert section.pages.currentWidget() is section.unlock_page  # locked by default
        shoot(section, "vault-locked")
        await unlock(ui, PASSPHRASE + " typo")
        assert section.pages.currentWidget() is section.unlock_page and not ui.service.unlocked
        assert "Wrong passphrase" in section.unlock_page.error.text()
        assert section.model.rowCount() == 0
        shoot(section, "vault-wrong-passphrase")
        await unlock(ui)
        assert section.pages.currentWidget() is section.list_page and section.unlock_page.error.text() == ""
        assert masked_of(ui, "groq", "main") == MASK + GROQ[-4:]


async def test_duplicate_provider_and_alias_is_refused(
        stack: StackInfo, user_factory: UserFactory, settings_dir: Path) -> None:
    user = await user_factory()
    async with open_vault(stack, user, settings_dir) as ui:
        await set_up(ui)
        await add_key(ui, "OpenAI", "main", OPENAI)
        ui.section.list_page.actions_["add"].trigger()
        dialog = editor(ui)
        dialog.provider.setCurrentText("OpenAI")
        dialog.alias.setText(" MAIN ")
        dialog.key.setText(OPENAI + "2")
        assert not save_button(dialog).isEnabled() and "already have" in dialog.error.text()
        dialog.alias.setText("second")
        assert save_button(dialog).isEnabled() and dialog.error.text() == ""
        dialog.reject()
        # The service refuses it too (another device may have added the pair meanwhile).
        with pytest.raises(ServiceError) as refused:
            await ui.service.add("openai", "Main", OPENAI + "3")
        assert refused.value.kind is ErrorKind.CONFLICT
        assert len(await ui.service.entries()) == 1


async def test_reveal_toggle_and_format_hint_warns_without_blocking(
        stack: StackInfo, user_factory: UserFactory, settings_dir: Path) -> None:
    user = await user_factory()
    async with open_vault(stack, user, settings_dir) as ui:
        await set_up(ui)
        ui.section.list_page.actions_["add"].trigger()
        dialog = editor(ui)
        dialog.provider.setCurrentText("OpenAI")
        dialog.alias.setText("main")
        assert dialog.key.echoMode() == QLineEdit.EchoMode.Password and not dialog.reveal.isChecked()
        dialog.key.setText("sk-or-v1-looks-like-openrouter")
        assert "OpenRouter" in dialog.format_hint.text() and save_button(dialog).isEnabled()
        dialog.key.setText(GROQ)
        assert "Groq" in dialog.format_hint.text() and save_button(dialog).isEnabled()
        dialog.key.setText("plainly-not-a-key")
        assert "sk-" in dialog.format_hint.text() and "⚠" in dialog.format_hint.text()
        assert save_button(dialog).isEnabled()  # a warning, not a block
        dialog.key.setText(OPENAI)
        assert "⚠" not in dialog.format_hint.text()
        dialog.reveal.click()
        assert dialog.key.echoMode() == QLineEdit.EchoMode.Normal and dialog.reveal.text() == "Hide"
        shoot(dialog, "vault-edit-dialog-revealed")
        dialog.reveal.click()
        assert dialog.key.echoMode() == QLineEdit.EchoMode.Password
        dialog.scopes.setText("scripts, tts")
        dialog.monthly_cap.setValue(20)
        shoot(dialog, "vault-edit-dialog")
        dialog.reject()


async def test_idle_lock_drops_decrypted_values_and_wipes_the_key(
        stack: StackInfo, user_factory: UserFactory, settings_dir: Path) -> None:
    user = await user_factory()
    async with open_vault(stack, user, settings_dir, auto_lock_minutes=1.0) as ui:
        await set_up(ui)
        await add_key(ui, "Gemini", "main", GEMINI)
        ui.section.idle.timeout_seconds = 0.6  # the settings UI works in minutes; the test cannot wait 1 min
        key = ui.service._key
        assert key is not None
        material = key.material()  # the very bytearray the key lives in
        assert any(material)
        ui.section.list_page.actions_["add"].trigger()  # an open dialog is dropped as well
        assert editor(ui).isVisible()
        await wait_until(lambda: not ui.service.unlocked, 5, "vault did not lock on idle")
        section = ui.section
        assert section.pages.currentWidget() is section.unlock_page
        assert key.locked and not any(material)  # overwritten in place
        assert section.model.rowCount() == 0 and section.model.entries() == []
        assert not [d for d in section.findChildren(KeyEditDialog) if d.isVisible()]
        with pytest.raises(ServiceError):
            await section.service.add("groq", "x", GROQ)  # type: ignore[union-attr]


async def test_idle_timer_restarts_on_user_input(stack: StackInfo, user_factory: UserFactory,
                                                 settings_dir: Path) -> None:
    user = await user_factory()
    async with open_vault(stack, user, settings_dir, auto_lock_minutes=0.02) as ui:  # 1.2 s from settings
        await set_up(ui)
        from PySide6.QtTest import QTest
        for _ in range(4):
            await asyncio.sleep(0.5)
            QTest.keyClick(ui.section.list_page.search, Qt.Key.Key_A)
        assert ui.service.unlocked  # 2 s of typing, never 1.2 s idle
        await wait_until(lambda: not ui.service.unlocked, 5, "did not lock after the typing stopped")


async def test_clipboard_clears_only_what_it_copied(
        stack: StackInfo, user_factory: UserFactory, settings_dir: Path) -> None:
    user = await user_factory()
    async with open_vault(stack, user, settings_dir, clipboard_clear_seconds=0.5) as ui:
        await set_up(ui)
        await add_key(ui, "OpenAI", "main", OPENAI)
        clipboard = QGuiApplication.clipboard()
        select(ui, "openai", "main")
        ui.section.list_page.actions_["copy"].trigger()
        mime = clipboard.mimeData(QClipboard.Mode.Clipboard)
        assert mime is not None and mime.text() == OPENAI
        assert bytes(mime.data(KDE_HINT).data()) == b"secret"
        assert {KDE_HINT, MAC_CONCEALED, WINDOWS_EXCLUDE} <= set(mime.formats())
        assert "clears in 0.5 s" in ui.section.list_page.status.text()
        await wait_until(lambda: clipboard.text() == "", 3, "clipboard not cleared")

        ui.section.list_page.actions_["copy"].trigger()
        assert clipboard.text() == OPENAI
        clipboard.setText("the user's own text")  # copied something else meanwhile
        await asyncio.sleep(0.9)
        assert clipboard.text() == "the user's own text" and not ui.section.clipboard.pending

        ui.section.list_page.actions_["copy"].trigger()
        ui.section.lock()  # locking clears our copy at once
        assert clipboard.text() == ""

        ui.section.clipboard.copy(OPENAI)
        app = QApplication.instance()
        assert app is not None
        app.aboutToQuit.emit()  # quitting clears it as well
        assert clipboard.text() == ""


async def test_passphrase_change_through_the_ui(
        stack: StackInfo, user_factory: UserFactory, db: asyncpg.Connection, settings_dir: Path) -> None:
    user = await user_factory()
    new = "quartz meadow falcon ripple 17"
    async with open_vault(stack, user, settings_dir) as ui:
        await set_up(ui)
        for provider, alias, secret in (("OpenAI", "a", OPENAI), ("Groq", "b", GROQ), ("Gemini", "c", GEMINI)):
            await add_key(ui, provider, alias, secret)
        before = await db_rows(db, user.id)

        ui.section.list_page.actions_["passphrase"].trigger()
        dialog = ui.section.findChild(ChangePassphraseDialog)
        assert dialog is not None
        ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
        dialog.current.setText("not the passphrase")
        dialog.fields.first.setText(new)
        assert not ok.isEnabled()
        dialog.fields.second.setText(new)
        assert ok.isEnabled()
        ok.click()
        await ui.idle()
        assert "Wrong passphrase" in ui.section.list_page.error.text()
        assert await db_rows(db, user.id) == before  # nothing written

        ui.section.list_page.actions_["passphrase"].trigger()
        dialog = next(d for d in ui.section.findChildren(ChangePassphraseDialog) if d.isVisible())
        dialog.current.setText(PASSPHRASE)
        dialog.fields.first.setText(new)
        dialog.fields.second.setText(new)
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        await ui.idle()
        assert "changed" in ui.section.list_page.status.text()
        after = await db_rows(db, user.id)
        assert [r["id"] for r in after] == [r["id"] for r in before]
        assert len({r["updated_at"] for r in after}) == 1  # one statement: one transaction timestamp
        assert all(a["encrypted_key"] != b["encrypted_key"] for a, b in zip(after, before, strict=True))
        with pytest.raises(vault.WrongPassphrase):
            open_with(after, PASSPHRASE)
        assert sorted(open_with(after, new).values()) == sorted([OPENAI, GROQ, GEMINI])
        assert masked_of(ui, "groq", "b") == MASK + GROQ[-4:]  # still unlocked, under the new key

    async with open_vault(stack, user, settings_dir) as ui:
        await unlock(ui, PASSPHRASE)
        assert not ui.service.unlocked
        await unlock(ui, new)
        assert ui.section.unlocked and ui.section.model.rowCount() == 3


async def test_two_users_vaults_stay_apart(
        stack: StackInfo, user_factory: UserFactory, db: asyncpg.Connection, settings_dir: Path) -> None:
    alice, bob = await user_factory(), await user_factory()
    async with open_vault(stack, alice, settings_dir) as ui:
        await set_up(ui, "alice's own passphrase here")
        await add_key(ui, "OpenAI", "alice", OPENAI)
    async with open_vault(stack, bob, settings_dir) as ui:
        await set_up(ui, "bob's quite different passphrase")  # bob sees no vault: first use for him
        await add_key(ui, "OpenAI", "alice", GROQ)  # the same provider + alias is fine across users
        assert [e.user_id for e in await ui.service.entries()] == [bob.id]
        ui.section.lock()
        await unlock(ui, "alice's own passphrase here")
        assert not ui.service.unlocked and "Wrong passphrase" in ui.section.unlock_page.error.text()
    alice_rows, bob_rows = await db_rows(db, alice.id), await db_rows(db, bob.id)
    assert open_with(alice_rows, "alice's own passphrase here") == {"openai/alice": OPENAI}
    assert open_with(bob_rows, "bob's quite different passphrase") == {"openai/alice": GROQ}
    # Bob's client cannot even read Alice's row (RLS), nor write into her vault.
    seen = await bob.client.table("user_api_keys").select("id").eq("user_id", alice.id).execute()
    assert seen.data == []


async def test_sign_out_locks_the_vault(stack: StackInfo, user_factory: UserFactory, settings_dir: Path) -> None:
    user = await user_factory()
    async with open_vault(stack, user, settings_dir) as ui:
        await set_up(ui)
        await add_key(ui, "Groq", "main", GROQ)
        await ui.backend.sign_out()
        await wait_until(lambda: not ui.service.unlocked, 5, "sign-out did not lock")
        assert ui.section.model.rowCount() == 0 and ui.section.pages.currentWidget() is ui.section.unlock_page


async def test_usage_against_caps_and_the_model_contract(
        stack: StackInfo, user_factory: UserFactory, service_client: AsyncClient, settings_dir: Path,
        qtmodeltester: ModelTester) -> None:
    user = await user_factory()
    now = datetime.now(UTC).isoformat()
    await service_client.table("usage_events").insert([
        {"user_id": user.id, "provider": "openai", "event_type": "script", "cost_usd": 4.2, "created_at": now},
        {"user_id": user.id, "provider": "OpenAI", "event_type": "script", "cost_usd": 0.1, "created_at": now},
        {"user_id": user.id, "provider": "groq", "event_type": "script", "cost_usd": 6.0, "created_at": now},
        {"user_id": user.id, "provider": "gemini", "event_type": "script", "cost_usd": 1.0, "created_at": now},
        {"user_id": user.id, "provider": "gemini", "event_type": "old", "cost_usd": 90.0,
         "created_at": "2001-01-15T00:00:00Z"},  # another month: not counted
    ]).execute()
    async with open_vault(stack, user, settings_dir) as ui:
        await set_up(ui)
        await add_key(ui, "OpenAI", "main", OPENAI, "scripts", cap=5)
        await add_key(ui, "Groq", "main", GROQ, "scripts", cap=5, per_day=14400)
        await add_key(ui, "Gemini", "main", GEMINI, "scripts, tts", cap=5)
        await add_key(ui, "ElevenLabs", "voices", "sk_EDITORtestElevenNotReal0000", "tts")
        model = ui.section.model
        await wait_until(lambda: model.usage_of(model.entries()[0]) > 0, 5, "usage not loaded")
        levels = {e.provider: model.index(i, Column.USAGE).data(VaultRole.USAGE_LEVEL)
                  for i, e in enumerate(model.entries())}
        assert levels == {"openai": UsageLevel.WARN.value, "groq": UsageLevel.OVER.value,
                          "gemini": UsageLevel.OK.value, "elevenlabs": UsageLevel.NONE.value}
        row = next(i for i, e in enumerate(model.entries()) if e.provider == "openai")
        assert model.index(row, Column.USAGE).data() == "$4.30 / $5.00"
        ui.section.list_page.table.selectRow(0)
        shoot(ui.section, "vault-unlocked-list")

        qtmodeltester.check(model)  # type: ignore[no-untyped-call]
        proxy = ui.section.list_page.proxy
        qtmodeltester.check(proxy)  # type: ignore[no-untyped-call]
        proxy.set_search("VOI")  # alias
        assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["ElevenLabs"]
        proxy.set_search("gro")  # provider
        assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["Groq"]
        proxy.set_search("google")  # the provider's display name ("Google Gemini")
        assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["Google Gemini"]
        proxy.set_search("scripts")  # scopes are not searched
        assert proxy.rowCount() == 0
        proxy.set_search("")
        assert proxy.rowCount() == 4
        standalone = VaultFilterProxy()
        standalone.setSourceModel(model)
        qtmodeltester.check(standalone)  # type: ignore[no-untyped-call]


async def test_remember_on_device_unlocks_from_the_keychain(
        stack: StackInfo, user_factory: UserFactory, settings_dir: Path) -> None:
    user = await user_factory()
    async with open_vault(stack, user, settings_dir) as ui:
        assert not ui.section.list_page.remember.isChecked()  # off by default
        await set_up(ui)
        await add_key(ui, "Groq", "main", GROQ)
        assert ui.keyring.items == {}
        ui.section.list_page.remember.setChecked(True)
        assert len(ui.keyring.items) == 1
        token = next(iter(ui.keyring.items.values()))
        assert PASSPHRASE not in token and GROQ not in token
        ui.section.lock()
        assert ui.section.unlock_page.keychain_button.isVisibleTo(ui.section)
        ui.section.unlock_page.keychain_button.click()
        await ui.idle()
        assert ui.service.unlocked and masked_of(ui, "groq", "main") == MASK + GROQ[-4:]
        ui.section.list_page.remember.setChecked(False)
        assert ui.keyring.items == {}


async def test_no_plaintext_anywhere(
        stack: StackInfo, user_factory: UserFactory, settings_dir: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    root = Path(tempfile.mkdtemp(prefix="echogen-vault-scan-"))
    for name in ("CONFIG", "CACHE", "DATA", "STATE", "RUNTIME"):
        monkeypatch.setenv(f"XDG_{name}_HOME" if name != "RUNTIME" else "XDG_RUNTIME_DIR", str(root / name.lower()))
    caplog.set_level(logging.DEBUG)
    new_passphrase = "second passphrase velvet 99"
    secrets = [PASSPHRASE, new_passphrase, OPENAI, OPENAI + "ZZ", GROQ, GEMINI]
    user = await user_factory()
    try:
        where = {kind: Path(QStandardPaths.writableLocation(kind)) for kind in (
            QStandardPaths.StandardLocation.AppConfigLocation, QStandardPaths.StandardLocation.AppDataLocation,
            QStandardPaths.StandardLocation.CacheLocation, QStandardPaths.StandardLocation.GenericConfigLocation)}
        assert all(path.is_relative_to(root) for path in where.values()), where  # the app's dirs are in root
        config = where[QStandardPaths.StandardLocation.AppConfigLocation]
        await asyncio.to_thread(config.mkdir, parents=True, exist_ok=True)
        async with open_vault(stack, user, config) as ui:
            await set_up(ui)
            ui.section.list_page.auto_lock.setValue(10)  # the options land in the settings file
            ui.section.list_page.clipboard_seconds.setValue(30)
            await add_key(ui, "OpenAI", "main", OPENAI, "scripts", cap=5)
            await add_key(ui, "Groq", "fast", GROQ)
            await add_key(ui, "Gemini", "tts", GEMINI)
            select(ui, "openai", "main")
            ui.section.list_page.actions_["edit"].trigger()
            dialog = editor(ui)
            dialog.reveal.click()
            dialog.key.setText(OPENAI + "ZZ")
            save_button(dialog).click()  # type: ignore[attr-defined]
            await ui.idle()
            select(ui, "groq", "fast")
            ui.section.list_page.actions_["copy"].trigger()
            ui.section.clipboard.clear_if_ours()
            ui.section.list_page.actions_["passphrase"].trigger()
            change = next(d for d in ui.section.findChildren(ChangePassphraseDialog) if d.isVisible())
            change.current.setText(PASSPHRASE)
            change.fields.first.setText(new_passphrase)
            change.fields.second.setText(new_passphrase)
            change.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
            await ui.idle()
            assert "changed" in ui.section.list_page.status.text()
            ui.section.lock()
            await unlock(ui, PASSPHRASE + "?")  # a failed attempt must not be logged either
            ui.settings.sync()
        files = await asyncio.to_thread(lambda: [p for p in root.rglob("*") if p.is_file()])
        assert any(p.name == "settings.ini" for p in files)  # the scan looks where the app writes
        for path in files:
            data = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data, f"plaintext in {path}"
        assert caplog.records, "no logs captured: the scan would prove nothing"
        for secret in secrets:
            assert secret not in caplog.text
            assert secret[-12:] not in caplog.text
        dump = pg_dump(stack)
        assert user.id in dump and "v1:" in dump  # the user's vault rows are in the dump
        for secret in secrets:
            assert secret not in dump, "plaintext in the database dump"
    finally:
        shutil.rmtree(root, ignore_errors=True)


def pg_dump(stack: StackInfo) -> str:
    # initdb may be a symlink into the versioned bindir (/usr/lib/postgresql/N/bin), where pg_dump lives.
    tool = (find_bindir() / "initdb").resolve().parent / "pg_dump"
    result = subprocess.run([str(tool), "--no-owner", "--dbname", stack.admin_dsn], capture_output=True, text=True,
                            check=False, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


async def test_unlock_does_not_freeze_the_ui(stack: StackInfo, user_factory: UserFactory, settings_dir: Path) -> None:
    """Argon2id runs in a thread: Qt timers keep firing while the key is derived (with real t)."""
    user = await user_factory()
    async with open_vault(stack, user, settings_dir) as ui:
        await set_up(ui)
        await add_key(ui, "Groq", "main", GROQ)
    slow = KdfParams(65536, 6, 1)
    async with open_vault(stack, user, settings_dir) as ui:
        service = VaultService(ui.backend, kdf_params=slow)
        await service.unlock(PASSPHRASE)  # the vault written with FAST; re-keyed below with t=6
        ticks: list[float] = []
        loop = asyncio.get_running_loop()
        stop = loop.time() + 10

        async def tick() -> None:
            while loop.time() < stop:
                ticks.append(loop.time())
                await asyncio.sleep(0.02)

        ticker = asyncio.ensure_future(tick())
        await service.change_passphrase(PASSPHRASE, "slow derivation passphrase")
        started = loop.time()
        await service.unlock("slow derivation passphrase")
        elapsed = loop.time() - started
        ticker.cancel()
        gaps = [b - a for a, b in itertools.pairwise(ticks)]
        assert elapsed > 0.2 and max(gaps) < 0.2, (elapsed, max(gaps))
        service.lock()
