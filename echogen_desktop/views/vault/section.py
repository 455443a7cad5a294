"""The Key Vault section: locked by default, first-use setup, the key list and its dialogs.

It owns no cryptography and no HTTP: every step is a VaultService coroutine started through the
TaskRunner (Argon2id runs in a worker thread there, so the window keeps painting). Locking (by
the user, after N idle minutes, on sign-out) drops the rows, the masks, any open dialog that
holds a key, and wipes the key in the service.
"""

from __future__ import annotations

from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QDialog, QLabel, QStackedWidget, QVBoxLayout, QWidget

from echogen_desktop.models.vault_keys import VaultKeysModel, tail_of
from echogen_desktop.services.backend import Backend
from echogen_desktop.services.errors import ServiceError
from echogen_desktop.services.vault_service import VaultEntry, VaultFailure, VaultService, same_slot
from echogen_desktop.tasks import TaskRunner
from echogen_desktop.views.vault.clipboard import DEFAULT_CLEAR_SECONDS, SecretClipboard
from echogen_desktop.views.vault.edit_dialog import KeyEditDialog
from echogen_desktop.views.vault.glyphs import provider_icon
from echogen_desktop.views.vault.idle import IdleWatcher
from echogen_desktop.views.vault.keychain import DeviceKeychain
from echogen_desktop.views.vault.list_page import KeyListPage
from echogen_desktop.views.vault.lock_pages import SetupPage, UnlockPage
from echogen_desktop.views.vault.messages import error_text
from echogen_desktop.views.vault.passphrase_dialog import ChangePassphraseDialog
from echogen_desktop.views.vault.presets import provider_label
from echogen_desktop.views.widgets.confirm import confirm

SETTING_AUTO_LOCK = "vault/auto_lock_minutes"
SETTING_CLIPBOARD = "vault/clipboard_clear_seconds"
SETTING_REMEMBER = "vault/remember_on_device"
DEFAULT_AUTO_LOCK_MINUTES = 5.0


def _number(settings: QSettings, key: str, default: float) -> float:
    value = settings.value(key, default)
    try:
        number = float(str(value))
    except ValueError:
        return default
    return number if number > 0 else default


def _flag(settings: QSettings, key: str) -> bool:
    return str(settings.value(key, False)).lower() in ("true", "1")


class VaultSection(QWidget):
    """Mount with ``VaultSection(backend_or_service, runner, settings)``; call ``lock()`` on sign-out
    (the service also locks by itself when the backend reports a sign-out)."""

    lockedChanged = Signal(bool)

    def __init__(
        self, source: Backend | VaultService | None, runner: TaskRunner | None, settings: QSettings,
        parent: QWidget | None = None, *, keychain: DeviceKeychain | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("vaultSection")
        self._settings = settings
        self._keychain = keychain if keychain is not None else DeviceKeychain()
        self.service: VaultService | None = None
        self.runner: TaskRunner | None = None
        self._dialogs: list[QDialog] = []

        self.model = VaultKeysModel(provider_icon, self, label_for=provider_label)
        self.clipboard = SecretClipboard(_number(settings, SETTING_CLIPBOARD, DEFAULT_CLEAR_SECONDS), self)
        self.idle = IdleWatcher(60 * _number(settings, SETTING_AUTO_LOCK, DEFAULT_AUTO_LOCK_MINUTES), self)
        self.idle.idle.connect(self.lock)

        self.unlock_page = UnlockPage()
        self.setup_page = SetupPage()
        self.list_page = KeyListPage(self.model)
        self.offline_page = QLabel(self.tr("Sign in to use the Key Vault."))
        self.offline_page.setObjectName("vaultOffline")
        self.pages = QStackedWidget()
        for page in (self.offline_page, self.unlock_page, self.setup_page, self.list_page):
            self.pages.addWidget(page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

        self.unlock_page.unlockRequested.connect(self._unlock)
        self.unlock_page.keychainUnlockRequested.connect(self._unlock_from_keychain)
        self.setup_page.createRequested.connect(self._create)
        self.list_page.addRequested.connect(lambda: self._open_editor(None))
        self.list_page.editRequested.connect(self._open_editor)
        self.list_page.deleteRequested.connect(self._ask_delete)
        self.list_page.copyRequested.connect(self.copy_key)
        self.list_page.changePassphraseRequested.connect(self._ask_change_passphrase)
        self.list_page.lockRequested.connect(self.lock)
        self._init_options()
        self.attach(source, runner)

    # ------------------------------------------------------------ wiring
    def attach(self, source: Backend | VaultService | None, runner: TaskRunner | None) -> None:
        """Use this backend (or service) from now on; the vault starts locked."""
        self.detach()
        if source is None or runner is None:
            return
        service = source if isinstance(source, VaultService) else VaultService(source)
        self.service, self.runner = service, runner
        service.add_lock_listener(self._on_service_locked)
        self.refresh_state()

    def detach(self) -> None:
        self.lock()
        if self.service is not None:
            self.service.remove_lock_listener(self._on_service_locked)
        self.service = self.runner = None
        self.pages.setCurrentWidget(self.offline_page)

    @property
    def unlocked(self) -> bool:
        return self.service is not None and self.service.unlocked

    def _run_error(self, show: QLabel) -> Callable[[ServiceError], None]:
        def failed(error: ServiceError) -> None:
            show.setText(error_text(error))
        return failed

    def refresh_state(self) -> None:
        """Locked: ask the server whether a vault exists, to show the unlock prompt or first-use setup."""
        if self.service is None or self.runner is None:
            self.pages.setCurrentWidget(self.offline_page)
            return
        if self.service.unlocked:
            self._reload()
            return
        self.pages.setCurrentWidget(self.unlock_page)
        self.unlock_page.set_busy(True)
        self.unlock_page.status.setText(self.tr("Checking the vault…"))

        def done(exists: bool) -> None:
            self.unlock_page.set_busy(False)
            self.pages.setCurrentWidget(self.unlock_page if exists else self.setup_page)
            self._update_keychain_button()

        def failed(error: ServiceError) -> None:
            self.unlock_page.set_busy(False)
            self.unlock_page.show_error(error_text(error))

        self.runner.run(self.service.has_vault(), done, failed, owner=self)

    # ------------------------------------------------------------ lock state
    def _unlock(self, passphrase: str) -> None:
        if self.service is None or self.runner is None:
            return
        self.unlock_page.set_busy(True)

        def failed(error: ServiceError) -> None:
            self.unlock_page.set_busy(False)
            if isinstance(error, VaultFailure) and error.reason == "NoVault":
                self.pages.setCurrentWidget(self.setup_page)
            self.unlock_page.show_error(error_text(error))

        self.runner.run(self.service.unlock(passphrase), self._on_unlocked, failed, owner=self)

    def _unlock_from_keychain(self) -> None:
        token = self._keychain_token()
        if self.service is None or self.runner is None or token is None:
            return
        self.unlock_page.set_busy(True)

        def failed(error: ServiceError) -> None:
            self.unlock_page.set_busy(False)
            if isinstance(error, VaultFailure) and error.reason == "StaleRememberedKey":
                self._forget_on_device()
            self.unlock_page.show_error(error_text(error))

        self.runner.run(self.service.unlock_with_token(token), self._on_unlocked, failed, owner=self)

    def _create(self, passphrase: str) -> None:
        if self.service is None or self.runner is None:
            return
        self.setup_page.set_busy(True)

        def failed(error: ServiceError) -> None:
            self.setup_page.set_busy(False)
            self.setup_page.show_error(error_text(error))
            if isinstance(error, VaultFailure) and error.reason == "VaultExists":
                self.pages.setCurrentWidget(self.unlock_page)

        def done(_: None) -> None:
            self.setup_page.set_busy(False)
            self._on_unlocked([])

        self.runner.run(self.service.create(passphrase), done, failed, owner=self)

    def _on_unlocked(self, entries: list[VaultEntry]) -> None:
        self.unlock_page.set_busy(False)
        self.unlock_page.error.clear()
        self.list_page.error.clear()
        self.list_page.status.clear()
        self._show_entries(entries)
        self.pages.setCurrentWidget(self.list_page)
        self.idle.start()
        if self.list_page.remember.isChecked():
            self._remember_on_device()
        self._load_usage()
        self.lockedChanged.emit(False)
        self.list_page.search.setFocus()

    def _show_entries(self, entries: list[VaultEntry]) -> None:
        tails, broken = {}, 0
        for entry in entries:
            try:
                tails[entry.id] = tail_of(self._open(entry))
            except VaultFailure:
                broken += 1
        self.model.set_entries(entries, tails)
        if broken:
            self.list_page.error.setText(
                self.tr("%n stored key(s) cannot be opened with this vault: modified, corrupt or from "
                        "another vault.", "", broken))

    def _open(self, entry: VaultEntry) -> str:
        if self.service is None:
            raise VaultFailure("VaultLocked")
        return self.service.open(entry)

    def _reload(self) -> None:
        if self.service is None or self.runner is None:
            return
        self.runner.run(self.service.entries(), self._show_entries, self._run_error(self.list_page.error),
                        owner=self)
        self._load_usage()

    def _load_usage(self) -> None:
        if self.service is not None and self.runner is not None:
            self.runner.run(self.service.month_usage(), self.model.set_usage, lambda _e: None, owner=self)

    def lock(self) -> None:
        """Lock now: wipe the key, drop every decrypted value, close dialogs holding a key."""
        if self.service is not None:
            self.service.lock()  # calls _on_service_locked when it was unlocked
        self._on_service_locked()

    def _on_service_locked(self) -> None:
        if not shiboken6.isValid(self):
            return
        was_unlocked = self.pages.currentWidget() is self.list_page
        self.idle.stop()
        self.clipboard.clear_if_ours()
        for dialog in list(self._dialogs):
            if shiboken6.isValid(dialog):
                dialog.reject()
        self._dialogs.clear()
        self.model.clear()
        self.list_page.search.clear()
        self.proxy_reset()
        if self.service is not None:
            self.pages.setCurrentWidget(self.unlock_page)
            self.unlock_page.set_busy(False)
            self._update_keychain_button()
        if was_unlocked:
            self.lockedChanged.emit(True)

    def proxy_reset(self) -> None:
        self.list_page.proxy.set_search("")

    # ------------------------------------------------------------ keys
    def _open_editor(self, entry: VaultEntry | None) -> KeyEditDialog | None:
        if self.service is None or not self.service.unlocked:
            return None
        try:
            secret = self._open(entry) if entry is not None else ""
        except VaultFailure as error:
            self.list_page.error.setText(error_text(error))
            return None
        exclude = entry.id if entry is not None else None
        dialog = KeyEditDialog(
            lambda p, a: any(e.id != exclude and same_slot(e.provider, e.alias, p, a) for e in self.model.entries()),
            entry, secret, self,
        )
        del secret
        self._dialogs.append(dialog)
        dialog.accepted.connect(lambda: self._save(dialog, entry))
        dialog.finished.connect(lambda _r: self._drop_dialog(dialog))
        dialog.open()
        return dialog

    def _drop_dialog(self, dialog: QDialog) -> None:
        if dialog in self._dialogs:
            self._dialogs.remove(dialog)
        dialog.deleteLater()

    def _save(self, dialog: KeyEditDialog, entry: VaultEntry | None) -> None:
        if self.service is None or self.runner is None:
            return
        values = dialog.values()
        tail = tail_of(values.secret) if values.secret is not None else None

        def done(saved: VaultEntry) -> None:
            self.model.upsert(saved, tail if tail is not None else self._tail_of(saved))
            self.list_page.select_id(saved.id)
            self.list_page.status.setText(self.tr("Saved %1.").replace("%1", _label(saved)))
            self._load_usage()

        errors = self._run_error(self.list_page.error)
        self.list_page.error.clear()
        if entry is None:
            assert values.secret is not None
            work = self.service.add(values.provider, values.alias, values.secret, values.scopes, values.caps)
        else:
            work = self.service.update(entry, provider=values.provider, alias=values.alias, secret=values.secret,
                                       scopes=values.scopes, caps=values.caps)
        self.runner.run(work, done, errors, owner=self)

    def _tail_of(self, entry: VaultEntry) -> str:
        try:
            return tail_of(self._open(entry))
        except VaultFailure:
            return ""

    def _ask_delete(self, entry: VaultEntry) -> None:
        def delete() -> None:
            if self.service is None or self.runner is None:
                return

            def done(_: None) -> None:
                self.model.remove(entry.id)
                self.list_page.status.setText(self.tr("Deleted %1.").replace("%1", _label(entry)))

            self.runner.run(self.service.delete(entry), done, self._run_error(self.list_page.error), owner=self)

        confirm(self, self.tr("Delete key"),
                self.tr("Delete the %1 key? It cannot be recovered from EchoGen.").replace("%1", _label(entry)),
                delete, self.tr("Delete"))

    def copy_key(self, entry: VaultEntry) -> None:
        try:
            secret = self._open(entry)
        except VaultFailure as error:
            self.list_page.error.setText(error_text(error))
            return
        self.clipboard.copy(secret)
        del secret
        self.list_page.status.setText(
            self.tr("Copied %1. The clipboard clears in %2 s.").replace("%1", _label(entry)).replace(
                "%2", f"{self.clipboard.clear_seconds:g}"))

    def _ask_change_passphrase(self) -> ChangePassphraseDialog | None:
        if self.service is None or not self.service.unlocked:
            return None
        dialog = ChangePassphraseDialog(self)
        self._dialogs.append(dialog)
        dialog.accepted.connect(lambda: self._change_passphrase(*dialog.take()))
        dialog.finished.connect(lambda _r: self._drop_dialog(dialog))
        dialog.open()
        return dialog

    def _change_passphrase(self, current: str, new: str) -> None:
        if self.service is None or self.runner is None:
            return
        self.list_page.error.clear()
        self.list_page.status.setText(self.tr("Encrypting every key with the new passphrase…"))

        def done(_: None) -> None:
            self.list_page.status.setText(self.tr("The vault passphrase was changed."))
            if self.list_page.remember.isChecked():
                self._remember_on_device()
            self._reload()

        def failed(error: ServiceError) -> None:
            self.list_page.status.clear()
            self.list_page.error.setText(
                self.tr("The passphrase was not changed: %1").replace("%1", error_text(error)))

        self.runner.run(self.service.change_passphrase(current, new), done, failed, owner=self)

    # ------------------------------------------------------------ options
    def _init_options(self) -> None:
        page = self.list_page
        page.auto_lock.setValue(_number(self._settings, SETTING_AUTO_LOCK, DEFAULT_AUTO_LOCK_MINUTES))
        page.clipboard_seconds.setValue(_number(self._settings, SETTING_CLIPBOARD, DEFAULT_CLEAR_SECONDS))
        page.remember.setChecked(_flag(self._settings, SETTING_REMEMBER) and self._keychain.available)
        page.remember.setEnabled(self._keychain.available)
        if not self._keychain.available:
            page.remember.setToolTip(self.tr("No system keychain was found on this computer."))
        page.auto_lock.valueChanged.connect(self._set_auto_lock)
        page.clipboard_seconds.valueChanged.connect(self._set_clipboard_seconds)
        page.remember.toggled.connect(self._set_remember)

    def _set_auto_lock(self, minutes: float) -> None:
        self._settings.setValue(SETTING_AUTO_LOCK, minutes)
        self.idle.timeout_seconds = minutes * 60

    def _set_clipboard_seconds(self, seconds: float) -> None:
        self._settings.setValue(SETTING_CLIPBOARD, seconds)
        self.clipboard.clear_seconds = seconds

    def _set_remember(self, on: bool) -> None:
        self._settings.setValue(SETTING_REMEMBER, on)
        if on:
            self._remember_on_device()
        else:
            self._forget_on_device()

    def _where(self) -> tuple[str, str] | None:
        backend = self.service.backend if self.service is not None else None
        if backend is None or backend.user is None:
            return None
        return backend.url, backend.user.user_id

    def _keychain_token(self) -> str | None:
        where = self._where()
        return self._keychain.load(*where) if where is not None else None

    def _remember_on_device(self) -> None:
        where = self._where()
        if where is not None and self.service is not None and self.service.unlocked:
            self._keychain.save(*where, self.service.key_token())

    def _forget_on_device(self) -> None:
        where = self._where()
        if where is not None:
            self._keychain.delete(*where)

    def _update_keychain_button(self) -> None:
        self.unlock_page.keychain_button.setVisible(
            self.list_page.remember.isChecked() and self._keychain_token() is not None)

    # ------------------------------------------------------------ main-window hooks
    def focus_search(self) -> None:
        if self.pages.currentWidget() is self.list_page:
            self.list_page.search.setFocus()
            self.list_page.search.selectAll()
        elif self.pages.currentWidget() is self.unlock_page:
            self.unlock_page.passphrase.setFocus()

    def refresh(self) -> None:
        self.refresh_state()

    def delete_selected(self) -> None:
        entry = self.list_page.selected_entry()
        if entry is not None and self.unlocked:
            self._ask_delete(entry)


def _label(entry: VaultEntry) -> str:
    name = provider_label(entry.provider)
    return f"{name} · {entry.alias}" if entry.alias else name
