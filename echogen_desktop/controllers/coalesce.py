"""One run per key at a time; asks that arrive meanwhile fold into one more run afterwards.

For saves that must not overlap but must not be lost either: review notes (one save at a time)
and play positions (one send per episode at a time).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Hashable
from typing import Any

Job = Callable[[], Coroutine[Any, Any, None]]
Spawn = Callable[[Coroutine[Any, Any, None]], None]


class Coalescer:
    def __init__(self, spawn: Spawn) -> None:
        self._spawn = spawn
        self._running: set[Hashable] = set()
        self._again: set[Hashable] = set()

    def request(self, key: Hashable, job: Job) -> None:
        """Run ``job`` now, or once more after the run for ``key`` in progress ends."""
        if key in self._running:
            self._again.add(key)
            return
        self._running.add(key)
        self._spawn(self._run(key, job))

    async def _run(self, key: Hashable, job: Job) -> None:
        try:
            await job()
        finally:
            self._running.discard(key)
            if key in self._again:
                self._again.discard(key)
                self.request(key, job)
