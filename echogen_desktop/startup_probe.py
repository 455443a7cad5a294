"""Start-up timing for ``bench/app_startup.py``: off unless ECHOGEN_STARTUP_PROBE is set.

It prints ``STARTUP <what> <unix time>`` when the sign-in dialog is on screen ("signin") or when
the main window shows its first Library page ("main"), then quits. With ECHOGEN_PROBE_LOGIN set
to ``email:password`` it signs in through the dialog, so the next launch restores the session.
"""

from __future__ import annotations

import os
import time

from PySide6.QtCore import QObject, QTimer

from echogen_desktop.app_shell import AppShell
from echogen_desktop.views.main_window import MainWindow


class StartupProbe(QObject):
    def __init__(self, shell: AppShell, target: str, login: str) -> None:
        super().__init__(shell)
        self._shell, self._target, self._login = shell, target, login
        self._submitted = False
        self._timer = QTimer(self)
        self._timer.setInterval(5)
        self._timer.timeout.connect(self._poll)
        self._timer.start()

    def _report(self, what: str) -> None:
        print(f"STARTUP {what} {time.time():.6f}", flush=True)
        self._timer.stop()
        self._shell.quit()

    def _poll(self) -> None:
        dialog, window = self._shell.dialog, self._shell.window
        if dialog is not None and dialog.isVisible():
            if self._target == "signin":
                self._report("signin")
            elif self._login and not self._submitted:
                email, _, password = self._login.partition(":")
                self._submitted = True
                dialog.signInRequested.emit(email, password)
            return
        if isinstance(window, MainWindow) and window.isVisible() and window.user is not None:
            model = window.list_model("library")
            if model is not None and model.rowCount() > 0:
                self._report("main")


def install(shell: AppShell) -> StartupProbe | None:
    target = os.environ.get("ECHOGEN_STARTUP_PROBE", "")
    if not target:
        return None
    return StartupProbe(shell, target, os.environ.get("ECHOGEN_PROBE_LOGIN", ""))
