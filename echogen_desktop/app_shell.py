"""Which top-level window shows when: connection page, sign-in dialog, main window.

It turns the SessionController's signals into windows and the windows' requests into
controller calls. The main window is built on the first sign-in and then lives until the
app quits: sign-out and re-sign-in happen in a dialog over it, so nothing the user was
doing is thrown away.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QEvent, QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QDialog, QMainWindow, QWidget

from echogen_desktop import config as connection
from echogen_desktop.config import ConfigError, ConnectionConfig
from echogen_desktop.offline.offline_mode import Reachability, probe_server
from echogen_desktop.services.backend import SignedIn
from echogen_desktop.services.errors import ServiceError
from echogen_desktop.services.schema_check import MigrationsMissing, SchemaReport
from echogen_desktop.session_controller import SessionController
from echogen_desktop.views.connection_page import ConnectionPage
from echogen_desktop.views.sign_in_dialog import Mode, SignInDialog

log = logging.getLogger(__name__)

WindowFactory = Callable[[], QMainWindow]
OfflineLibraryCheck = Callable[[], bool]  # are there downloaded episodes worth opening offline?


def build_main_window(settings: QSettings, controller: SessionController) -> QMainWindow:
    """MainWindow(settings, ...) with whatever of the controller's parts its constructor asks for."""
    from echogen_desktop.views.main_window import MainWindow

    offered: dict[str, Any] = {
        "controller": controller, "backend": controller.backend, "runner": controller.runner,
        "project_url": controller.config.url if controller.config else None,
    }
    accepted = inspect.signature(MainWindow).parameters
    window: QMainWindow = MainWindow(settings, **{k: v for k, v in offered.items() if k in accepted})
    return window


def _check_outcome(error: ServiceError | None) -> tuple[str | None, SchemaReport | None]:
    """The live check's result as the connection page takes it: a message, and what the schema lacks."""
    if error is None:
        return None, None
    return error.message, error.report if isinstance(error, MigrationsMissing) else None


def has_downloaded_episodes() -> bool:
    """The default ``offline_library`` check: the offline library in the platform's data directory."""
    from echogen_desktop.offline.library_db import LibraryDb

    db = LibraryDb.open_default()
    try:
        return bool(db.downloaded_ids())
    finally:
        db.close()


class AppShell(QObject):
    finished = Signal()
    mainWindowShown = Signal(object)  # the QMainWindow, the first time it is shown

    def __init__(
        self, controller: SessionController, window_factory: WindowFactory, parent: QObject | None = None,
        *, offline_library: OfflineLibraryCheck | None = None,
    ) -> None:
        """``offline_library``: when given, start-up first checks that the server answers; if it does
        not and there are downloads, the main window opens on the offline library instead."""
        super().__init__(parent)
        self._offline_library = offline_library
        self.controller = controller
        self._window_factory = window_factory
        self.window: QMainWindow | None = None
        self.page: ConnectionPage | None = None
        self.dialog: SignInDialog | None = None
        self._window_user: str | None = None
        self._pending: asyncio.Task[Any] | None = None
        self._done = False
        controller.connectionNeeded.connect(self.show_connection_page)
        controller.signInNeeded.connect(lambda message: self.show_sign_in(message))
        controller.reauthRequired.connect(lambda message: self.show_sign_in(message, reauth=True))
        controller.signedIn.connect(self._signed_in)
        controller.signedOut.connect(self._signed_out)

    def start(self) -> None:
        if self._offline_library is None:
            self.controller.start()
            return
        raw = self.controller.raw_config()
        try:
            config = connection.validate(raw.url, raw.anon_key) if raw.complete else None
        except ConfigError:
            config = None
        if config is None:  # nothing to probe: the normal flow asks for a connection
            self.controller.start()
            return
        self.controller.runner.run(probe_server(config.url, config.anon_key, timeout=3.0),
                                   on_done=self._probed, on_error=lambda _error: self.controller.start())

    # ---------------------------------------------------------------- offline
    def _probed(self, reachability: Reachability) -> None:
        check = self._offline_library
        if reachability is Reachability.UNREACHABLE and check is not None and check():
            self.show_offline_library()
        else:
            self.controller.start()

    def show_offline_library(self) -> None:
        """No server: downloaded episodes play from disk; "Try again" goes through the normal flow."""
        window, first = self._ensure_window()
        show = getattr(window, "show_offline_library", None)
        if callable(show):
            show()
        retry = getattr(window, "offlineRetryRequested", None)
        if retry is not None and first:
            retry.connect(self.controller.start)
        if first:
            window.show()
            self.mainWindowShown.emit(window)

    def _ensure_window(self) -> tuple[QMainWindow, bool]:
        if self.window is not None:
            return self.window, False
        window = self._window_factory()
        window.installEventFilter(self)
        sign_out = getattr(window, "signOutRequested", None)
        if sign_out is not None:
            sign_out.connect(self.controller.sign_out)
        self.window = window
        return window, True

    # ------------------------------------------------------------- connection
    def show_connection_page(self, url: str = "", anon_key: str = "", error: str = "") -> None:
        self._drop_dialog()
        if self.page is not None:
            self.page.set_values(url, anon_key, error)
            self.page.raise_()
            return
        page = ConnectionPage(self.window)
        self.page = page
        page.checkRequested.connect(
            lambda u, k: self.controller.check_connection(
                u, k, lambda error: page.set_check_result(u, k, *_check_outcome(error)), owner=page
            )
        )
        page.connectionChosen.connect(self._connection_chosen)
        page.rejected.connect(self._page_rejected)
        page.show()
        page.set_values(url, anon_key, error)

    def _connection_chosen(self, config: ConnectionConfig) -> None:
        self._drop_page()
        self.controller.connect_to(config, checked=True)

    def _page_rejected(self) -> None:
        self._drop_page()
        if self.window is None:
            self.quit()

    def _drop_page(self) -> None:
        if self.page is not None:
            self.page.hide()
            self.page.deleteLater()
            self.page = None

    # ---------------------------------------------------------------- sign-in
    def show_sign_in(self, message: str = "", *, reauth: bool = False) -> SignInDialog:
        self._drop_page()
        dialog = self.dialog
        if dialog is None:
            url = self.controller.config.url if self.controller.config else ""
            dialog = SignInDialog(url, self.window)
            self.dialog = dialog
            dialog.signInRequested.connect(self._sign_in)
            dialog.signUpRequested.connect(self._sign_up)
            dialog.changeProjectRequested.connect(self._change_project)
            dialog.rejected.connect(self._sign_in_rejected)
            user = self.controller.user
            dialog.set_email(user.email if user else self.controller.last_email
                             or os.environ.get("ECHOGEN_DEMO_EMAIL", ""))
        if reauth:
            dialog.change_project_button.setVisible(False)
        notices = [message, self.controller.store.message]
        dialog.show_notice("\n".join(n for n in notices if n))
        dialog.set_busy(False)
        dialog.open()  # window-modal over the main window, never a nested event loop
        dialog.raise_()
        return dialog

    def _sign_in(self, email: str, password: str) -> None:
        self._pending = self.controller.sign_in(email, password, on_error=self._dialog_error)

    def _sign_up(self, email: str, password: str, full_name: str) -> None:
        def confirm() -> None:
            if self.dialog is not None:
                self.dialog.set_busy(False)
                self.dialog.set_mode(Mode.SIGN_IN)
                self.dialog.show_notice(self.tr(
                    "Account created. Open the link in the email we sent you, then sign in."
                ))

        self._pending = self.controller.sign_up(
            email, password, full_name, on_confirm_email=confirm, on_error=self._dialog_error
        )

    def _dialog_error(self, error: ServiceError) -> None:
        if self.dialog is not None and shiboken6.isValid(self.dialog):
            self.dialog.show_error(error.message)

    def _change_project(self) -> None:
        raw = self.controller.raw_config()
        config = self.controller.config
        self.show_connection_page(config.url if config else raw.url, config.anon_key if config else raw.anon_key)

    def _sign_in_rejected(self) -> None:
        if self._pending is not None and not self._pending.done():
            self._pending.cancel()  # the user gave up on a slow server
        self._drop_dialog()
        if self.window is not None and getattr(self.window, "offline_mode", False):
            return  # still offline: the downloaded episodes stay playable
        if self.window is None or self.controller.user is None:
            self.quit()  # nobody signed in and no way forward: the user chose to leave
        else:
            self.controller.dismiss_reauth()  # the window stays; the next failing request asks again

    def _drop_dialog(self) -> None:
        if self.dialog is not None:
            self.dialog.hide()
            self.dialog.deleteLater()
            self.dialog = None

    # ------------------------------------------------------------ main window
    def _signed_in(self, user: SignedIn) -> None:
        self._pending = None
        self._drop_dialog()
        window, first = self._ensure_window()
        if self._window_user != user.user_id:
            self._window_user = user.user_id
            set_signed_in = getattr(window, "set_signed_in", None)
            if callable(set_signed_in):
                set_signed_in(user)
            else:  # shim until the rebuilt MainWindow has set_signed_in()
                window.statusBar().showMessage(self.tr("Signed in as %1").replace("%1", user.email))
        if first:
            window.show()
            self.mainWindowShown.emit(window)

    def _signed_out(self) -> None:
        if self.window is not None:
            self._window_user = None
            set_signed_in = getattr(self.window, "set_signed_in", None)
            if callable(set_signed_in):
                set_signed_in(None)
        self.show_sign_in()

    def raise_window(self, argument: str = "") -> None:
        """Another launch asked us to come to the front."""
        target: QWidget | None = self.dialog or self.page or self.window
        if self.window is not None:
            if self.window.isMinimized():
                self.window.showNormal()
            self.window.raise_()
            self.window.activateWindow()
        if target is not None:
            target.raise_()
            target.activateWindow()
        if argument:
            log.info("forwarded from a second launch: %s", argument)

    def top_level(self) -> QWidget | None:
        """What the user sees in front right now (for screenshots)."""
        for widget in (self.dialog, self.page, self.window):
            if widget is not None and widget.isVisible():
                return widget
        return None

    # ------------------------------------------------------------------- quit
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close:
            # Decide after the window handled it: its closeEvent may refuse.
            QTimer.singleShot(0, self._window_maybe_closed)
        return False

    def _window_maybe_closed(self) -> None:
        if self.window is not None and not self.window.isVisible():
            self.quit()

    def quit(self) -> None:
        if self._done:
            return
        self._done = True
        for dialog in (self.dialog, self.page):
            if isinstance(dialog, QDialog):
                dialog.hide()
        if self.window is not None and self.window.isVisible():
            self.window.close()
        self.finished.emit()
