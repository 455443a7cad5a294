"""Cold and warm start of the app, against a raw supabase-py process doing the same first query.

Each run is a new process, timed from just before it is spawned to the moment it reports:
- "signin": the sign-in dialog is on screen (no stored session);
- "main": the main window shows its first Library page, with the session restored from the
  keychain (a file-backed stand-in, bench/file_keyring.py: this machine has no OS keychain).
The peer is a Python process that imports supabase-py, signs in, and fetches the same first page.
The first launch of a kind in the run is reported apart ("first"); the rest give a median.

Run: .venv/bin/python bench/app_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from echogen_devstack.process import stack_tempdir, start_stack_process, stop_stack_process

PEER = """
import asyncio, sys, time
from supabase import acreate_client
async def main():
    client = await acreate_client(sys.argv[1], sys.argv[2])
    await client.auth.sign_in_with_password({"email": sys.argv[3], "password": sys.argv[4]})
    page = await client.table("scraped_content").select("id,title,url,provider,metadata,created_at,updated_at",
        count="exact").order("created_at", desc=True).range(0, 99).execute()
    assert page.data
    print(f"STARTUP peer {time.time():.6f}", flush=True)
asyncio.run(main())
"""


def launch(cmd: list[str], env: dict[str, str]) -> float:
    started = time.time()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    for line in proc.stdout.splitlines():
        if line.startswith("STARTUP "):
            return float(line.split()[2]) - started
    raise RuntimeError(f"no STARTUP line (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def series(cmd: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    first = launch(cmd, env)
    rest = [launch(cmd, env) for _ in range(runs)]
    return first, statistics.median(rest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = stack_tempdir("echogen-bench-start-")
    proc, info = start_stack_process(work / "stack", "--seed", "demo", "--bcrypt-rounds", "4")
    try:
        home = work / "home"
        home.mkdir()
        env = {
            **os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"),
            "XDG_CACHE_HOME": str(home / "cache"), "PYTHONPATH": str(Path(__file__).parent),
            "PYTHON_KEYRING_BACKEND": "file_keyring.FileKeyring",
            "ECHOGEN_BENCH_KEYRING_FILE": str(home / "keyring.json"),
            "ECHOGEN_INSTANCE_NAME": f"bench-{uuid.uuid4().hex[:8]}",
        }
        app = [sys.executable, "-m", "echogen_desktop", "--url", info.url, "--anon-key", info.anon_key]
        assert info.demo_email and info.demo_password
        signin = series(app, {**env, "ECHOGEN_STARTUP_PROBE": "signin"}, args.runs)
        login = f"{info.demo_email}:{info.demo_password}"
        launch(app, {**env, "ECHOGEN_STARTUP_PROBE": "main", "ECHOGEN_PROBE_LOGIN": login})
        restored = series(app, {**env, "ECHOGEN_STARTUP_PROBE": "main"}, args.runs)
        peer_cmd = [sys.executable, "-c", PEER, info.url, info.anon_key, info.demo_email, info.demo_password]
        peer = series(peer_cmd, env, args.runs)
    finally:
        stop_stack_process(proc)
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nStart-up, new process each run ({args.runs} warm runs; seconds)")
    print(f"{'to':52} {'first':>7} {'median':>7}")
    print(f"{'sign-in dialog on screen':52} {signin[0]:7.2f} {signin[1]:7.2f}")
    print(f"{'main window + first Library page (restored session)':52} {restored[0]:7.2f} {restored[1]:7.2f}"
          "   target 1.5 s")
    print(f"{'raw supabase-py process: sign in + same first page':52} {peer[0]:7.2f} {peer[1]:7.2f}")
    print(f"ratio app/raw (median) {restored[1] / peer[1]:.1f}x")


if __name__ == "__main__":
    main()
