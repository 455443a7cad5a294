"""Copy a secret to the clipboard the way a password manager does.

The copy carries the hints that keep it out of clipboard history and sync on each desktop
(KDE/Klipper, macOS pasteboard managers, Windows clipboard history and monitors). It is cleared
after a delay, and when the app quits, but only if the clipboard still holds what we put there:
whatever the user copied since is theirs. To recognise our copy without keeping the secret, only
a salted hash of it is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from PySide6.QtCore import QCoreApplication, QMimeData, QObject, QTimer, Signal
from PySide6.QtGui import QClipboard, QGuiApplication

KDE_HINT = "x-kde-passwordManagerHint"
MAC_CONCEALED = "application/x-nspasteboard-concealed-type"
WINDOWS_EXCLUDE = "ExcludeClipboardContentFromMonitorProcessing"
DEFAULT_CLEAR_SECONDS = 20.0


def secret_mime(text: str) -> QMimeData:
    mime = QMimeData()
    mime.setText(text)
    mime.setData(KDE_HINT, b"secret")
    mime.setData(MAC_CONCEALED, b"")
    mime.setData(WINDOWS_EXCLUDE, b"\x01\x00\x00\x00")
    return mime


class SecretClipboard(QObject):
    """``copy(text)`` puts a secret on the clipboard; it is wiped after ``clear_seconds``."""

    cleared = Signal()

    def __init__(self, clear_seconds: float = DEFAULT_CLEAR_SECONDS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._salt = os.urandom(16)
        self._digest: bytes | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clear_if_ours)
        self.clear_seconds = clear_seconds
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.clear_if_ours)

    @property
    def clear_seconds(self) -> float:
        return self._timer.interval() / 1000

    @clear_seconds.setter
    def clear_seconds(self, seconds: float) -> None:
        self._timer.setInterval(max(1, int(seconds * 1000)))

    @property
    def pending(self) -> bool:
        """A copy of ours may still be on the clipboard."""
        return self._digest is not None

    def _hash(self, text: str) -> bytes:
        return hashlib.sha256(self._salt + text.encode("utf-8")).digest()

    @staticmethod
    def _clipboard() -> QClipboard:
        return QGuiApplication.clipboard()

    def copy(self, text: str) -> None:
        self._digest = self._hash(text)
        self._clipboard().setMimeData(secret_mime(text), QClipboard.Mode.Clipboard)
        self._timer.start()

    def clear_if_ours(self) -> None:
        self._timer.stop()
        digest, self._digest = self._digest, None
        if digest is None:
            return
        clipboard = self._clipboard()
        mime = clipboard.mimeData(QClipboard.Mode.Clipboard)
        current = mime.text() if mime is not None and mime.hasText() else None
        if current is not None and hmac.compare_digest(self._hash(current), digest):
            clipboard.clear(QClipboard.Mode.Clipboard)
            self.cleared.emit()
