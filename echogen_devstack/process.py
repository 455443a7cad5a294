"""Run a stack in a child process and wait for it: for tests, benchmarks and the demo."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from echogen_devstack.cli import READY_PREFIX
from echogen_devstack.runner import StackInfo


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stack_tempdir(prefix: str) -> Path:
    """A directory the unprivileged Postgres user can reach when running as root."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    return path


def start_stack_process(
    data_dir: Path, *extra: str, timeout: float = 120
) -> tuple[subprocess.Popen[str], StackInfo]:
    """Start ``echogen-devstack start --json`` and return once it prints its ready line."""
    cmd = [
        sys.executable, "-m", "echogen_devstack", "start", "--json",
        "--data-dir", str(data_dir), "--port", str(free_port()), "--pg-port", str(free_port()),
        *extra,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
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
