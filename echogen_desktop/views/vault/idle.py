"""Notice when the user has not touched the app for a while (to lock the vault)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal

_ACTIVITY = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel,
    QEvent.Type.TouchBegin, QEvent.Type.ShortcutOverride,
})


class IdleWatcher(QObject):
    """Emits ``idle`` once no key, mouse or touch input reached the app for ``timeout_seconds``."""

    idle = Signal()

    def __init__(self, timeout_seconds: float, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.idle)
        self.timeout_seconds = timeout_seconds
        self._watching = False

    @property
    def timeout_seconds(self) -> float:
        return self._timer.interval() / 1000

    @timeout_seconds.setter
    def timeout_seconds(self, seconds: float) -> None:
        self._timer.setInterval(max(1, int(seconds * 1000)))
        if self._timer.isActive():
            self._timer.start()

    @property
    def watching(self) -> bool:
        return self._watching

    def start(self) -> None:
        app = QCoreApplication.instance()
        if app is not None and not self._watching:
            app.installEventFilter(self)
        self._watching = True
        self._timer.start()

    def stop(self) -> None:
        app = QCoreApplication.instance()
        if app is not None and self._watching:
            app.removeEventFilter(self)
        self._watching = False
        self._timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY:
            self._timer.start()
        return False
