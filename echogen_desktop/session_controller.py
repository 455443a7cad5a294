"""The session's life: connect, restore or sign in, keep the refresh token stored, sign out.

Start-up: configuration → ``Backend.connect`` → silent restore from the stored refresh token
→ ``signedIn``. Without a usable token, ``signInNeeded``; without a usable configuration,
``connectionNeeded``. Every rotation of the refresh token is written to the keychain at once
(the previous one is dead from then on). When the session is revoked while the app is in use,
``reauthRequired`` asks for the password again while everything else stays as it is.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Mapping

from PySide6.QtCore import QObject, QSettings, QTimer, Signal

from echogen_desktop import config as connection
from echogen_desktop.config import ConfigError, ConnectionConfig
from echogen_desktop.device import device_info
from echogen_desktop.services.backend import Backend, SignedIn
from echogen_desktop.services.errors import ErrorKind, ServiceError
from echogen_desktop.session_store import SessionStore
from echogen_desktop.tasks import TaskRunner

log = logging.getLogger(__name__)

SETTINGS_PROJECT = "session/project_url"
SETTINGS_USER = "session/user_id"
SETTINGS_EMAIL = "session/email"
# After the access token's expiry, how long to wait for supabase-py's own refresh before checking.
EXPIRY_GRACE_S = 2.0
# Short: an unreachable server is the sign-in's business (and the offline library's), not this check's.
PROJECT_CHECK_TIMEOUT_S = 3.0
WATCHDOG_RETRY_MS = 10_000

ErrorCallback = Callable[[ServiceError], None]


async def _restore(backend: Backend, refresh_token: str) -> SignedIn:
    return await backend.restore(refresh_token)


async def _project_guard(backend: Backend) -> None:
    """Stop at a refused key, a URL that is not Supabase, or a database without EchoGen's migrations.

    An unreachable server is not this check's business: sign-in and the offline library handle it.
    """
    try:
        await backend.check_startup(timeout=PROJECT_CHECK_TIMEOUT_S)
    except ServiceError as exc:
        if exc.kind in (ErrorKind.MIGRATIONS_MISSING, ErrorKind.INVALID_INPUT):
            await backend.close()
            raise
        log.info("project check inconclusive: %s", exc.message)


class SessionController(QObject):
    connectionNeeded = Signal(str, str, str)  # url text, key text, why ("" on first run)
    signInNeeded = Signal(str)  # why ("" when there simply is no stored session)
    signedIn = Signal(object)  # SignedIn, after a restore, a sign-in or a re-sign-in
    signedOut = Signal()
    reauthRequired = Signal(str)  # the session ended while in use: sign in again, keep the window

    def __init__(
        self,
        settings: QSettings,
        store: SessionStore | None = None,
        *,
        url: str | None = None,
        anon_key: str | None = None,
        env: Mapping[str, str] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.store = store if store is not None else SessionStore()
        self.runner = TaskRunner(self)
        self.backend: Backend | None = None
        self.config: ConnectionConfig | None = None
        self.user: SignedIn | None = None
        self.reauth_pending = False
        self._asking = False  # a reauthRequired is out and not yet answered or dismissed
        self._flag_url, self._flag_key = url, anon_key
        self._env = env if env is not None else os.environ
        self._signing_out = False
        self._watchdog = QTimer(self)
        self._watchdog.setSingleShot(True)
        self._watchdog.timeout.connect(self._check_expiry)
        self._expiry_suspect = False
        self.runner.sessionExpired.connect(
            lambda: self._need_reauth(self.tr("Your session has ended. Please sign in again."))
        )

    # ------------------------------------------------------------------ state
    @property
    def signed_in(self) -> bool:
        return self.user is not None and not self.reauth_pending

    @property
    def last_email(self) -> str:
        saved = self.settings.value(SETTINGS_EMAIL, "")
        return saved if isinstance(saved, str) else ""

    def raw_config(self) -> connection.RawConfig:
        return connection.raw_config(self.settings, url=self._flag_url, anon_key=self._flag_key, env=self._env)

    # ---------------------------------------------------------------- startup
    def start(self) -> None:
        raw = self.raw_config()
        if not raw.complete:
            self.connectionNeeded.emit(raw.url, raw.anon_key, "")
            return
        try:
            config = connection.validate(raw.url, raw.anon_key)
        except ConfigError as exc:
            self.connectionNeeded.emit(raw.url, raw.anon_key, exc.message)
            return
        self.connect_to(config)

    def check_connection(
        self, url: str, anon_key: str, on_result: Callable[[ServiceError | None], None],
        owner: QObject | None = None,
    ) -> asyncio.Task[None]:
        """Live check of a URL and key (and the project's schema) before they are used; ``None`` means fine."""
        return self.runner.run(
            Backend.check_project(url, anon_key),
            on_done=lambda _: on_result(None), on_error=on_result, owner=owner,
        )

    def connect_to(self, config: ConnectionConfig, *, checked: bool = False) -> asyncio.Task[Backend]:
        """``checked``: the connection page's live check just checked the key and the schema."""
        old, self.backend = self.backend, None

        async def connect() -> Backend:
            if old is not None:
                await old.close()
            backend = await Backend.connect(config.url, config.anon_key)
            if not checked:
                await _project_guard(backend)
            return backend

        def failed(error: ServiceError) -> None:
            self.connectionNeeded.emit(config.url, config.anon_key, error.message)

        return self.runner.run(connect(), on_done=lambda b: self._connected(config, b), on_error=failed)

    def _connected(self, config: ConnectionConfig, backend: Backend) -> None:
        self.backend, self.config = backend, config
        backend.add_session_listener(self._on_session)
        connection.save(self.settings, config)
        self._restore_or_ask()

    def _restore_or_ask(self) -> None:
        backend, config = self._require_backend()
        user_id = self._last_user(config)
        token = self.store.load(config.url, user_id) if user_id else None
        if not token:
            self.signInNeeded.emit("")
            return

        def failed(error: ServiceError) -> None:
            if error.kind is ErrorKind.SESSION_EXPIRED and user_id:
                self.store.delete(config.url, user_id)  # dead: never present it again
            self.signInNeeded.emit(error.message)

        self.runner.run(_restore(backend, token), on_done=lambda u: self._set_user(u), on_error=failed)

    # ---------------------------------------------------------------- sign-in
    def sign_in(self, email: str, password: str, on_error: ErrorCallback) -> asyncio.Task[SignedIn]:
        backend, _ = self._require_backend()

        async def flow() -> SignedIn:
            user = await backend.sign_in(email, password)
            await self._record_sign_in(backend)
            return user

        return self.runner.run(flow(), on_done=lambda u: self._set_user(u), on_error=on_error)

    def sign_up(
        self, email: str, password: str, full_name: str,
        on_confirm_email: Callable[[], None], on_error: ErrorCallback,
    ) -> asyncio.Task[SignedIn | None]:
        """``on_confirm_email`` runs when the project wants the address confirmed before sign-in."""
        backend, _ = self._require_backend()

        async def flow() -> SignedIn | None:
            user = await backend.sign_up(email, password, full_name)
            if user is not None:
                await self._record_sign_in(backend)
            return user

        def done(user: SignedIn | None) -> None:
            if user is None:
                on_confirm_email()
            else:
                self._set_user(user)

        return self.runner.run(flow(), on_done=done, on_error=on_error)

    async def _record_sign_in(self, backend: Backend) -> None:
        # The audit row must not stand between the user and their library.
        try:
            await backend.record_sign_in(dict(device_info()))
        except ServiceError as exc:
            log.warning("could not record the sign-in: %s", exc.message)

    def _set_user(self, user: SignedIn) -> None:
        _, config = self._require_backend()
        previous = self.user
        if previous is not None and previous.user_id != user.user_id:
            self.store.delete(config.url, previous.user_id)
        self.user = user
        self.reauth_pending = self._asking = False
        self.settings.setValue(SETTINGS_EMAIL, user.email)
        self._arm_watchdog()
        self.signedIn.emit(user)

    # --------------------------------------------------------------- sign-out
    def sign_out(self) -> asyncio.Task[None] | None:
        """Scope ``local``: this device only. The stored token goes first, whatever the server says."""
        if self.backend is None or self.config is None or self.user is None:
            return None
        backend, config, user = self.backend, self.config, self.user
        self.store.delete(config.url, user.user_id)
        self.settings.remove(SETTINGS_USER)
        self.user = None
        self.reauth_pending = self._asking = False
        self._watchdog.stop()
        self._signing_out = True

        async def flow() -> None:
            try:
                await backend.sign_out()
            finally:
                self._signing_out = False

        def failed(error: ServiceError) -> None:
            log.warning("server-side sign-out failed: %s", error.message)  # signed out here all the same

        task = self.runner.run(flow(), on_error=failed)
        self.signedOut.emit()
        return task

    # ------------------------------------------------------- session tracking
    def _on_session(self, signed: SignedIn | None) -> None:
        """Backend listener: after every sign-in and refresh (rotated token), None on sign-out."""
        config = self.config
        if config is None:
            return
        if signed is not None:
            self.store.save(config.url, signed.user_id, signed.refresh_token)
            self.settings.setValue(SETTINGS_PROJECT, config.url)
            self.settings.setValue(SETTINGS_USER, signed.user_id)
            if self.user is not None and self.user.user_id == signed.user_id and not self.reauth_pending:
                self.user = signed
                self._arm_watchdog()
            return
        if not self._signing_out:
            self._need_reauth(self.tr("You were signed out. Please sign in again."))

    def dismiss_reauth(self) -> None:
        """The user closed the sign-in prompt: ask again at the next request that fails for want of it."""
        self._asking = False

    def _need_reauth(self, message: str) -> None:
        if self.user is None or self._asking:
            return
        self.reauth_pending = self._asking = True
        self._watchdog.stop()
        if self.config is not None:
            self.store.delete(self.config.url, self.user.user_id)
        self.reauthRequired.emit(message)

    def _arm_watchdog(self) -> None:
        expires_at = self.backend.session_expires_at if self.backend is not None else None
        if expires_at is None or not self.signed_in:
            self._watchdog.stop()
            return
        self._expiry_suspect = False
        delay = max(0.5, expires_at + EXPIRY_GRACE_S - time.time())
        self._watchdog.start(int(delay * 1000))

    def _check_expiry(self) -> None:
        """supabase-py gives up silently when a refresh is refused; notice it, and find out why."""
        backend, user = self.backend, self.user
        if backend is None or user is None or not self.signed_in:
            return
        expires_at = backend.session_expires_at
        if expires_at is None or time.time() < expires_at + EXPIRY_GRACE_S:
            self._arm_watchdog()  # refreshed meanwhile
            return
        if not self._expiry_suspect:
            # After a sleep both timers fire late: let supabase-py's own refresh go first.
            self._expiry_suspect = True
            self._watchdog.start(int(EXPIRY_GRACE_S * 1000))
            return

        def failed(error: ServiceError) -> None:
            # SESSION_EXPIRED already went to reauth through runner.sessionExpired.
            if error.kind is not ErrorKind.SESSION_EXPIRED:
                self._watchdog.start(WATCHDOG_RETRY_MS)

        self.runner.run(_restore(backend, user.refresh_token), on_error=failed)

    # -------------------------------------------------------------- helpers
    def _last_user(self, config: ConnectionConfig) -> str:
        project, user_id = self.settings.value(SETTINGS_PROJECT, ""), self.settings.value(SETTINGS_USER, "")
        if project != config.url or not isinstance(user_id, str):
            return ""
        return user_id

    def _require_backend(self) -> tuple[Backend, ConnectionConfig]:
        if self.backend is None or self.config is None:
            raise RuntimeError("not connected to a project yet")
        return self.backend, self.config

    async def aclose(self) -> None:
        self._watchdog.stop()
        self.runner.cancel_all()
        if self.backend is not None:
            await self.backend.close()
            self.backend = None
