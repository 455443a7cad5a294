"""Run service coroutines from Qt code on the qasync loop, and deliver results back as callbacks.

The UI never awaits: it starts a task and gets ``on_done`` or ``on_error`` later. Callbacks whose
owner QObject was destroyed meanwhile are dropped, so a closed dialog is never called into.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Signal

from echogen_desktop.services.errors import ErrorKind, ServiceError, from_exception

log = logging.getLogger(__name__)
T = TypeVar("T")


class TaskRunner(QObject):
    """Starts coroutines and tracks whether any are still running (for busy indicators)."""

    busyChanged = Signal(bool)
    failed = Signal(str)  # a user-facing message, for errors nobody handled
    sessionExpired = Signal()  # some task found the session revoked or expired: time to sign in again

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    def run(
        self,
        coro: Coroutine[Any, Any, T],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[ServiceError], None] | None = None,
        *,
        owner: QObject | None = None,
    ) -> asyncio.Task[T]:
        task = asyncio.ensure_future(coro)
        was_busy = self.busy
        self._tasks.add(task)
        if not was_busy:
            self.busyChanged.emit(True)
        task.add_done_callback(lambda t: self._finished(t, on_done, on_error, owner))
        return task

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def _finished(
        self,
        task: asyncio.Task[T],
        on_done: Callable[[T], None] | None,
        on_error: Callable[[ServiceError], None] | None,
        owner: QObject | None,
    ) -> None:
        self._tasks.discard(task)
        if not shiboken6.isValid(self):
            return
        if not self._tasks:
            self.busyChanged.emit(False)
        if task.cancelled() or (owner is not None and not shiboken6.isValid(owner)):
            return
        exc = task.exception()
        if exc is None:
            if on_done is not None:
                on_done(task.result())
            return
        error = from_exception(exc)
        if not isinstance(exc, ServiceError):
            log.error("task failed", exc_info=exc)
        if error.kind is ErrorKind.SESSION_EXPIRED:
            self.sessionExpired.emit()
        if on_error is not None:
            on_error(error)
        else:
            self.failed.emit(error.message)
