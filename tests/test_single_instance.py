"""One instance per user: a second launch raises the first and exits; a crash leaves nothing in the way."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QDir

from echogen_desktop.single_instance import SingleInstance, default_server_name
from tests.conftest import wait_until


@pytest.fixture
def name() -> Iterator[str]:
    unique = f"echogen-test-{uuid.uuid4().hex[:10]}"
    yield unique
    for leftover in (unique, unique + ".lock"):
        Path(QDir.tempPath(), leftover).unlink(missing_ok=True)


SECOND = """
import json, sys
from echogen_desktop.single_instance import SingleInstance
second = SingleInstance(sys.argv[1])
print(json.dumps([second.claim(), second.notify_primary(sys.argv[2])]))
"""


def _second_launch(name: str, argument: str) -> tuple[bool, bool]:
    """A second process, waited for on a thread so the first one's event loop keeps running.

    (Not a thread of this process: PySide holds the GIL in the blocking socket calls.)
    """
    done = subprocess.run([sys.executable, "-c", SECOND, name, argument], capture_output=True, text=True,
                          timeout=30, check=True)
    claimed, answered = json.loads(done.stdout)
    return bool(claimed), bool(answered)


def test_the_server_name_is_per_user_and_short() -> None:
    assert default_server_name() == default_server_name()
    assert default_server_name().startswith("echogen-desktop-") and len(default_server_name()) < 40


@pytest.mark.qasync
async def test_a_second_instance_raises_the_first_and_forwards_its_argument(name: str) -> None:
    first = SingleInstance(name)
    assert first.claim() and first.is_primary and first.listen()
    heard: list[str] = []
    first.raiseRequested.connect(heard.append)
    claimed, answered = await asyncio.to_thread(_second_launch, name, "echogen://podcast/42")
    assert (claimed, answered) == (False, True)
    await wait_until(lambda: heard == ["echogen://podcast/42"], 5)
    claimed, answered = await asyncio.to_thread(_second_launch, name, "")
    assert (claimed, answered) == (False, True)
    await wait_until(lambda: heard == ["echogen://podcast/42", ""], 5)
    first.release()
    third = SingleInstance(name)
    assert third.claim()  # released: the next launch is the first again
    third.release()


def test_nobody_answers_when_nobody_runs(name: str) -> None:
    assert not SingleInstance(name).notify_primary("x", timeout_ms=300)


def _crash_an_instance(name: str) -> None:
    """Start an instance in another process and kill it: its lock and socket files stay behind."""
    crash = textwrap.dedent(f"""
        import time
        from PySide6.QtCore import QCoreApplication
        from echogen_desktop.single_instance import SingleInstance
        app = QCoreApplication([])
        instance = SingleInstance({name!r})
        assert instance.claim() and instance.listen()
        print("ready", flush=True)
        time.sleep(120)
    """)
    proc = subprocess.Popen([sys.executable, "-c", crash], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        assert not SingleInstance(name).claim()  # alive: it holds the lock
    finally:
        proc.kill()  # a crash: no clean-up runs
        proc.wait()
    assert Path(QDir.tempPath(), name).exists() and Path(QDir.tempPath(), name + ".lock").exists()


@pytest.mark.qasync
async def test_a_crashed_instance_leaves_a_stale_lock_and_socket_that_are_recovered(name: str) -> None:
    _crash_an_instance(name)
    survivor = SingleInstance(name)
    assert survivor.claim() and survivor.listen()
    heard: list[str] = []
    survivor.raiseRequested.connect(heard.append)
    assert await asyncio.to_thread(_second_launch, name, "after-crash") == (False, True)
    await wait_until(lambda: heard == ["after-crash"], 5)
    survivor.release()


def test_the_app_itself_hands_over_and_exits_zero(name: str, tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path), "ECHOGEN_INSTANCE_NAME": name,
    }
    if "TMPDIR" in os.environ:
        env["TMPDIR"] = os.environ["TMPDIR"]
    command = [sys.executable, "-m", "echogen_desktop"]
    first = subprocess.Popen([*command, "--quit-after", "30"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not Path(QDir.tempPath(), name).exists():  # listening
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first instance did not start"
            time.sleep(0.05)
        second = subprocess.run([*command, "echogen://open"], env=env, capture_output=True, text=True, timeout=30)
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stdout
        assert first.poll() is None  # the first one keeps running
    finally:
        first.terminate()
        first.wait(timeout=30)
