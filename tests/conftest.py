"""One real stack (Postgres + gateway subprocess) per test session, and fresh users per test."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from supabase import AsyncClient, AsyncClientOptions, acreate_client

from echogen_devstack.process import stack_tempdir, start_stack_process, stop_stack_process
from echogen_devstack.runner import StackInfo

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")


def _qasync_loop() -> asyncio.AbstractEventLoop:
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    loop: asyncio.AbstractEventLoop = qasync.QEventLoop(app)
    return loop


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Callable[[], object]]:
    """Tests marked ``qasync`` run on the app's real loop: Qt events and asyncio interleave."""
    if item.get_closest_marker("qasync"):
        return {"qasync": _qasync_loop}
    return {"asyncio": asyncio.new_event_loop}


async def wait_until(condition: Callable[[], object], timeout: float = 5.0, message: str = "") -> None:
    """Poll ``condition`` while the loop (and, under qasync, Qt) keeps running."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(message or f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)

@dataclass
class TestUser:
    __test__ = False
    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str
    client: AsyncClient


@pytest.fixture(autouse=True)
def private_user_dirs(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads or writes the real user's data, settings, cache or log folders (the offline
    library, QSettings and the logs all live under these on Linux)."""
    root = tmp_path_factory.mktemp("user-dirs")
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(root / name.lower()))


@pytest.fixture(scope="session")
def stack() -> Iterator[StackInfo]:
    data_dir = stack_tempdir("echogen-test-stack-")
    proc, info = start_stack_process(data_dir, "--bcrypt-rounds", "4")
    try:
        yield info
    finally:
        stop_stack_process(proc)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def make_client(stack: StackInfo, key: str, http: httpx.AsyncClient) -> AsyncClient:
    options = AsyncClientOptions(auto_refresh_token=False, persist_session=False, httpx_client=http)
    return await acreate_client(stack.url, key, options=options)


@pytest.fixture
async def anon_client(stack: StackInfo, http: httpx.AsyncClient) -> AsyncClient:
    return await make_client(stack, stack.anon_key, http)


@pytest.fixture
async def service_client(stack: StackInfo, http: httpx.AsyncClient) -> AsyncClient:
    return await make_client(stack, stack.service_key, http)


@pytest.fixture
def user_factory(stack: StackInfo, http: httpx.AsyncClient) -> Callable[[], Awaitable[TestUser]]:
    async def create() -> TestUser:
        client = await make_client(stack, stack.anon_key, http)
        email = f"user-{uuid.uuid4().hex[:12]}@example.test"
        password = "correct horse battery staple"
        response = await client.auth.sign_up({"email": email, "password": password})
        session = response.session
        assert session is not None and response.user is not None
        return TestUser(
            id=response.user.id, email=email, password=password,
            access_token=session.access_token, refresh_token=session.refresh_token, client=client,
        )

    return create


class Heartbeat:
    """A 10 ms QTimer that records the gaps between its ticks: how long the UI thread was busy."""

    def __init__(self, interval_ms: int = 10) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)

    def _beat(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def max_gap(self) -> float:
        """The longest gap in seconds (the first tick is left out: it measures the start-up)."""
        return max(self.gaps[1:], default=0.0)
