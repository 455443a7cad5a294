"""``echogen-devstack start|stop``: the local Supabase-compatible stack."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

from echogen_devstack.postgres import PostgresError
from echogen_devstack.runner import GatewayError, StackInfo, StackOptions, default_data_dir, read_state, run_stack

READY_PREFIX = "ECHOGEN_DEVSTACK_READY "


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="echogen-devstack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start Postgres and the gateway (Ctrl+C stops both)")
    start.add_argument("--data-dir", type=Path, default=default_data_dir())
    start.add_argument("--host", default="127.0.0.1")
    start.add_argument("--port", type=int, default=54321)
    start.add_argument("--pg-port", type=int, default=54322)
    start.add_argument("--pg-bindir", help="directory holding initdb and pg_ctl")
    start.add_argument("--jwt-expiry", type=int, default=3600, help="access-token lifetime in seconds")
    start.add_argument("--no-autoconfirm", action="store_true", help="sign-ups must confirm their email")
    start.add_argument("--bcrypt-rounds", type=int, default=10)
    start.add_argument("--seed", choices=["demo"], help="create the demo user and library")
    start.add_argument("--no-migrations", action="store_true",
                       help="leave supabase/migrations unapplied (a project before its set-up; not with --seed)")
    start.add_argument("--json", action="store_true", help="print one machine-readable ready line")
    stop = sub.add_parser("stop", help="stop a stack started with 'start'")
    stop.add_argument("--data-dir", type=Path, default=default_data_dir())
    return parser


def _print_ready(info: StackInfo, as_json: bool) -> None:
    if as_json:
        print(READY_PREFIX + json.dumps(info.__dict__), flush=True)
        return
    lines = [
        "EchoGen devstack is running.",
        f"  API URL      {info.url}",
        f"  anon key     {info.anon_key}",
        f"  service key  {info.service_key}",
        f"  Postgres     {info.admin_dsn}",
        f"  data dir     {info.data_dir}",
    ]
    if info.demo_email:
        lines.append(f"  demo user    {info.demo_email} / {info.demo_password}")
    lines.append("Stop it with Ctrl+C or 'echogen-devstack stop'.")
    print("\n".join(lines), flush=True)


def _stop(data_dir: Path) -> int:
    pid = read_state(data_dir).get("pid")
    if not isinstance(pid, int):
        print(f"No running stack recorded in {data_dir}.", file=sys.stderr)
        return 1
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        print(f"The stack (pid {pid}) is not running.", file=sys.stderr)
        return 1
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            print("Stopped.")
            return 0
        time.sleep(0.1)
    print(f"The stack (pid {pid}) did not stop within 30 s.", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "stop":
        return _stop(args.data_dir)
    if args.no_migrations and args.seed:
        parser.error("--seed needs the migrations: leave out --no-migrations")
    opts = StackOptions(
        data_dir=args.data_dir.resolve(), host=args.host, port=args.port, pg_port=args.pg_port,
        pg_bindir=args.pg_bindir, jwt_expiry=args.jwt_expiry, auto_confirm=not args.no_autoconfirm,
        bcrypt_rounds=args.bcrypt_rounds, seed=args.seed, migrate=not args.no_migrations,
    )
    try:
        asyncio.run(run_stack(opts, lambda info: _print_ready(info, args.json)))
    except (PostgresError, GatewayError) as exc:
        print(f"echogen-devstack: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
