"""Blocking work on a thread of its own, awaited from the (qasync) loop, and stoppable.

Why not ``asyncio.to_thread``: a cancelled await must tell the thread to stop at its next check
and give it a moment to let go of its files, and a thread stuck in a read must never hold up the
app's exit (these threads are daemons, not the default executor's joined workers).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import queue
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
STOP_GRACE_SECONDS = 2.0


class Stopped(Exception):
    """Raised inside a worker whose awaiting task was cancelled."""


def _settle(future: asyncio.Future[T], value: T | None, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)  # type: ignore[arg-type]


def thread_safe(callback: Callable[[T], None]) -> Callable[[T], None]:
    """``callback`` called on the current loop, from any thread; dropped once the loop is closed."""
    loop = asyncio.get_running_loop()

    def call(value: T) -> None:
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(callback, value)

    return call


async def run_blocking(work: Callable[[threading.Event], T], *, name: str) -> T:
    """Run ``work(stop)`` on a daemon thread; if the await is cancelled, ``stop`` is set and the
    thread gets up to ``STOP_GRACE_SECONDS`` to wind down before the cancellation goes on."""
    loop = asyncio.get_running_loop()
    result: asyncio.Future[T] = loop.create_future()
    stop = threading.Event()

    def body() -> None:
        value: T | None = None
        error: BaseException | None = None
        try:
            value = work(stop)
        except BaseException as exc:  # handed to the awaiting task
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting
            loop.call_soon_threadsafe(_settle, result, value, error)

    threading.Thread(target=body, name=name, daemon=True).start()
    try:
        return await asyncio.shield(result)
    except asyncio.CancelledError:
        stop.set()
        await asyncio.wait([result], timeout=STOP_GRACE_SECONDS)
        if result.done():
            result.exception()  # seen: no "exception was never retrieved" noise
        raise


class Md5Pipe:
    """MD5 of a stream, hashed on a helper thread while the caller goes on reading.

    hashlib drops the GIL on large buffers, so the digest overlaps the transfer. Blocks are handed
    over in batches of about a megabyte (a thread hand-off per 64 KiB read cost more than the
    hashing), and the queue is bounded so a slow hasher holds up the reader instead of memory.
    """

    BATCH_BYTES = 1 << 20

    def __init__(self, depth: int = 8) -> None:
        self._digest = hashlib.md5(usedforsecurity=False)
        self._queue: queue.Queue[list[bytes] | None] = queue.Queue(depth)
        self._batch: list[bytes] = []
        self._batched = 0
        self._thread = threading.Thread(target=self._run, name="md5", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            for block in batch:
                self._digest.update(block)

    def feed(self, data: bytes) -> None:
        self._batch.append(data)
        self._batched += len(data)
        if self._batched >= self.BATCH_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self._batch:
            self._queue.put(self._batch)
            self._batch, self._batched = [], 0

    def __enter__(self) -> Md5Pipe:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def hexdigest(self) -> str:
        self.close()
        return self._digest.hexdigest()

    def close(self) -> None:
        if self._thread.is_alive():
            self._flush()
            self._queue.put(None)
            self._thread.join()
