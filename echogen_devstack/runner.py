"""Start the whole stack in this process: Postgres, bootstrap + migrations, the gateway."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import asyncpg
import uvicorn

from echogen_devstack.db import Database
from echogen_devstack.gateway import build_app
from echogen_devstack.migrate import apply_migrations, bootstrap, default_migrations_dir
from echogen_devstack.postgres import SUPERUSER, PostgresCluster, find_bindir
from echogen_devstack.realtime import Realtime
from echogen_devstack.state import StackState
from echogen_devstack.tokens import project_keys

STATE_FILE = "stack.json"


class GatewayError(RuntimeError):
    """The HTTP gateway could not start."""


@dataclass
class StackOptions:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 54321
    pg_port: int = 54322
    pg_bindir: str | None = None
    jwt_expiry: int = 3600
    auto_confirm: bool = True
    bcrypt_rounds: int = 10
    seed: str | None = None
    migrate: bool = True  # False: the bootstrap only, as a Supabase project before its migrations
    migrations_dir: Path = field(default_factory=default_migrations_dir)


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


def default_data_dir() -> Path:
    if os.geteuid() == 0:
        # Root's home is not searchable by the unprivileged Postgres user.
        return Path("/var/tmp/echogen-devstack")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "echogen-devstack"


def read_state(data_dir: Path) -> dict[str, object]:
    path = data_dir / STATE_FILE
    if not path.exists():
        return {}
    loaded: dict[str, object] = json.loads(path.read_text("utf-8"))
    return loaded


def _write_state(data_dir: Path, state: dict[str, object]) -> None:
    path = data_dir / STATE_FILE
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(state, fh)
    os.replace(tmp, path)


def _jwt_secret(data_dir: Path) -> str:
    """Kept across restarts, so the app's stored sessions stay valid."""
    state = read_state(data_dir)
    secret = state.get("jwt_secret")
    if isinstance(secret, str) and len(secret) >= 32:
        return secret
    secret = secrets.token_urlsafe(48)
    _write_state(data_dir, {**state, "jwt_secret": secret})
    return secret


async def prepare_database(cluster: PostgresCluster, migrations_dir: Path | None) -> None:
    """The bootstrap, then the migrations unless ``migrations_dir`` is None."""
    conn = await asyncpg.connect(cluster.dsn(SUPERUSER))
    try:
        await bootstrap(conn)
        if migrations_dir is not None:
            await apply_migrations(conn, migrations_dir)
    finally:
        await conn.close()


async def run_stack(
    opts: StackOptions, on_ready: Callable[[StackInfo], Awaitable[None] | None]
) -> None:
    """Run until the gateway is told to exit (SIGINT/SIGTERM); then stop Postgres."""
    opts.data_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
    os.chmod(opts.data_dir, 0o755)
    secret = _jwt_secret(opts.data_dir)
    keys = project_keys(secret)
    cluster = PostgresCluster(opts.data_dir, opts.pg_port, find_bindir(opts.pg_bindir))
    servers: list[uvicorn.Server] = []
    stop_requested: list[int] = []

    def request_stop(signum: int, frame: FrameType | None) -> None:
        # uvicorn re-raises the signal it caught once serve() returns; landing here instead of the
        # default handler lets the finally below stop Postgres rather than leave it running.
        stop_requested.append(signum)
        for server_ in servers:
            server_.should_exit = True

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    await asyncio.to_thread(cluster.start)
    try:
        await prepare_database(cluster, opts.migrations_dir if opts.migrate else None)
        db = await Database.connect(cluster.dsn(SUPERUSER), cluster.dsn("authenticator"))
        realtime = await Realtime.start(db)  # captures changes for /realtime/v1
        url = f"http://{opts.host}:{opts.port}"
        storage_root = opts.data_dir / "storage"
        storage_root.mkdir(exist_ok=True)
        stack = StackState(
            keys=keys, db=db, storage_root=storage_root, public_url=url,
            jwt_expiry=opts.jwt_expiry, auto_confirm=opts.auto_confirm, bcrypt_rounds=opts.bcrypt_rounds,
        )
        app = build_app(stack)
        app.state.realtime = realtime
        config = uvicorn.Config(
            app, host=opts.host, port=opts.port, log_level="warning",
            lifespan="off", access_log=False, timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        servers.append(server)
        server.should_exit = bool(stop_requested)
        serving = asyncio.create_task(server.serve())
        while not server.started:
            if serving.done():
                raise GatewayError(  # uvicorn exits instead of raising when it cannot bind
                    f"the gateway could not listen on {opts.host}:{opts.port}: is another stack running?"
                )
            await asyncio.sleep(0.02)
        info = StackInfo(
            url=url, anon_key=keys.anon_key, service_key=keys.service_key, jwt_secret=secret,
            admin_dsn=cluster.dsn(SUPERUSER), data_dir=str(opts.data_dir),
        )
        if opts.seed == "demo":
            from echogen_devstack.seed import seed_demo

            demo = await seed_demo(url, keys.anon_key, keys.service_key)
            info = StackInfo(**{**info.__dict__, "demo_email": demo.email, "demo_password": demo.password})
        _write_state(opts.data_dir, {**read_state(opts.data_dir), "pid": os.getpid(), "url": url})
        result = on_ready(info)
        if asyncio.iscoroutine(result):
            await result
        await serving
        await realtime.close()
        await db.close()
    finally:
        state = read_state(opts.data_dir)
        state.pop("pid", None)
        _write_state(opts.data_dir, state)
        await asyncio.to_thread(cluster.stop)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
