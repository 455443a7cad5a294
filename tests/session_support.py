"""Shared pieces for the session tests: a keychain stand-in, a window stand-in, a wired-up shell."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keyring.errors
from jaraco.classes import properties
from keyring.backend import KeyringBackend
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

from echogen_desktop.app_shell import AppShell
from echogen_desktop.services.backend import SignedIn
from echogen_desktop.session_controller import SessionController
from echogen_desktop.session_store import SessionStore


class MemoryKeyring(KeyringBackend):
    """Fakes the OS keychain in memory: this test machine has none (keyring finds only its fail backend).

    It survives a simulated restart because the test hands the same instance to the next controller.
    """

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("a test stand-in, never chosen automatically")

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}
        self.writes: list[str] = []

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password
        self.writes.append(password)

    def delete_password(self, service: str, username: str) -> None:
        if self.items.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


class StandInWindow(QMainWindow):
    """Stands in for the main window (rebuilt elsewhere): it only has to keep its state."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[SignedIn | None] = []
        self.work = QLabel("unsaved work")  # "what the user was doing"
        self.setCentralWidget(self.work)

    def set_signed_in(self, user: SignedIn | None) -> None:
        self.calls.append(user)


@dataclass
class Wired:
    settings: QSettings
    store: SessionStore
    controller: SessionController
    shell: AppShell
    windows: list[StandInWindow]

    @property
    def window(self) -> StandInWindow | None:
        return self.windows[0] if self.windows else None


def settings_at(path: Path) -> QSettings:
    return QSettings(str(path / "settings.ini"), QSettings.Format.IniFormat)


def wire(settings_dir: Path, url: str, anon_key: str, backend: KeyringBackend) -> Wired:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # as app.main() does: the shell decides when to quit
    settings = settings_at(settings_dir)
    store = SessionStore(backend)
    controller = SessionController(settings, store, url=url, anon_key=anon_key, env={})
    windows: list[StandInWindow] = []

    def factory() -> QMainWindow:
        windows.append(StandInWindow())
        return windows[-1]

    shell = AppShell(controller, factory)
    return Wired(settings, store, controller, shell, windows)
