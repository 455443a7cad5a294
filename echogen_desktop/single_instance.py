"""One running app per user: a second launch asks the first to come to the front, then exits.

Two processes would race over the same refresh token (each refresh rotates it, and using a
rotated token ends the session). A QLockFile decides who is first (Qt clears locks of dead
processes), and a per-user QLocalServer carries the "raise" request, with an optional
argument such as a URL, from the second launch to the first.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import time

from PySide6.QtCore import QByteArray, QDir, QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

RAISE = "raise"
REPLY = b"ok\n"


def default_server_name() -> str:
    """Per user (and short: Unix socket paths are limited to ~100 bytes)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no USER variable
        user = "unknown"
    return "echogen-desktop-" + hashlib.sha256(user.encode()).hexdigest()[:12]


class SingleInstance(QObject):
    """``claim()`` at start-up, ``listen()`` once the app exists; then ``raiseRequested`` arrives."""

    raiseRequested = Signal(str)  # the forwarded argument, "" when there is none

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or default_server_name()
        self._lock = QLockFile(QDir(QDir.tempPath()).filePath(self.name + ".lock"))
        self._lock.setStaleLockTime(0)  # stale only when its process is gone, never by age
        self._server: QLocalServer | None = None

    @property
    def is_primary(self) -> bool:
        return self._lock.isLocked()

    def claim(self) -> bool:
        """True if this process is now the one instance; False if another one runs.

        Cheap, so it can run before the QApplication exists; call ``listen()`` once it does.
        """
        return self._lock.tryLock(0)

    def listen(self) -> bool:
        """Start answering later launches (needs the QCoreApplication: socket notifiers do)."""
        if not self._lock.isLocked():
            raise RuntimeError("claim() the instance before listening")
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            # We hold the lock, so nobody serves this name: the socket file is left over from a crash.
            QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                log.warning("single-instance server cannot listen: %s", server.errorString())
                return False
        server.newConnection.connect(self._accept)
        self._server = server
        return True

    def _unlock(self) -> None:
        if self._lock.isLocked():
            self._lock.unlock()

    def notify_primary(self, argument: str = "", timeout_ms: int = 3000) -> bool:
        """Ask the running instance to raise its window (blocking, before any event loop runs)."""
        deadline = time.monotonic() + timeout_ms / 1000
        message = json.dumps({"command": RAISE, "argument": argument}).encode() + b"\n"
        while True:
            socket = QLocalSocket()
            socket.connectToServer(self.name)
            if socket.waitForConnected(200):
                socket.write(QByteArray(message))
                socket.waitForBytesWritten(1000)
                remaining = max(1, int((deadline - time.monotonic()) * 1000))
                answered = socket.waitForReadyRead(remaining) and bytes(socket.readAll().data()) == REPLY
                socket.disconnectFromServer()
                return answered
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)  # the first instance may hold the lock but not listen yet

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self._unlock()

    def _accept(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)
            self._read(socket)  # the request may have arrived with the connection

    def _read(self, socket: QLocalSocket) -> None:
        if not socket.canReadLine():
            return
        line = bytes(socket.readLine().data())
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        if not isinstance(message, dict) or message.get("command") != RAISE:
            socket.disconnectFromServer()
            return
        socket.write(QByteArray(REPLY))
        socket.flush()
        argument = message.get("argument")
        self.raiseRequested.emit(argument if isinstance(argument, str) else "")
