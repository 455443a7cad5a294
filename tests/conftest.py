"""One real stack (Postgres + gateway subprocess) per test session, and fresh users per test."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from supabase import AsyncClient, AsyncClientOptions, acreate_client

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

READY_PREFIX = "ECHOGEN_DEVSTACK_READY "


@dataclass(frozen=True)
class StackInfo:
    url: str
    anon_key: str
    service_key: str
    jwt_secret: str
    admin_dsn: str
    data_dir: str
    demo_email: str | None = None
    demo_password: str | None = None


@dataclass
class TestUser:
    __test__ = False
    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str
    client: AsyncClient


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stack_tempdir(prefix: str) -> Path:
    """A directory the unprivileged Postgres user can reach when tests run as root."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    return path


def start_stack_process(data_dir: Path, *extra: str) -> tuple[subprocess.Popen[str], StackInfo]:
    cmd = [
        sys.executable, "-m", "echogen_devstack", "start", "--json",
        "--data-dir", str(data_dir), "--port", str(free_port()), "--pg-port", str(free_port()),
        "--bcrypt-rounds", "4", *extra,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    seen: list[str] = []
    for line in proc.stdout:
        if line.startswith(READY_PREFIX):
            return proc, StackInfo(**json.loads(line[len(READY_PREFIX):]))
        seen.append(line)
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise RuntimeError("devstack did not become ready:\n" + "".join(seen))


def stop_stack_process(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def stack() -> Iterator[StackInfo]:
    data_dir = stack_tempdir("echogen-test-stack-")
    proc, info = start_stack_process(data_dir)
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
