"""Find, initialise, start and stop a private PostgreSQL cluster.

initdb and pg_ctl refuse to run as root, and CI runs as root, so as root the
cluster is owned and run by an unprivileged system user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

SUPERUSER = "postgres"
DATABASE = "postgres"


class PostgresError(RuntimeError):
    """The cluster could not be found, created, started or stopped."""


def find_bindir(explicit: str | None = None) -> Path:
    """Locate the directory holding initdb and pg_ctl."""
    candidates: list[Path] = []
    if explicit:
        candidates.append(Path(explicit))
    if env := os.environ.get("ECHOGEN_PG_BINDIR"):
        candidates.append(Path(env))
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).parent)
    if pg_config := shutil.which("pg_config"):
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    candidates.extend(Path(v) for v in versions)
    for cand in candidates:
        if (cand / "initdb").exists() and (cand / "pg_ctl").exists():
            return cand
    raise PostgresError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found. Install the 'postgresql' "
        "package, or pass --pg-bindir / set ECHOGEN_PG_BINDIR."
    )


def _version_key(path: str) -> int:
    part = Path(path).parent.name
    return int(part) if part.isdigit() else 0


def _run_as_user() -> str | None:
    """The OS user to run Postgres as, or None to run as ourselves."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "echogen-pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "echogen-pg"],
        check=True,
    )
    return "echogen-pg"


class PostgresCluster:
    """A cluster in ``data_dir/pg`` listening on 127.0.0.1:``port``."""

    def __init__(self, data_dir: Path, port: int, bindir: Path) -> None:
        self.root = data_dir
        self.pgdata = data_dir / "pg"
        self.socket_dir = data_dir / "pg-socket"
        self.port = port
        self.bindir = bindir
        self.os_user = _run_as_user()

    def dsn(self, user: str = SUPERUSER, password: str | None = None) -> str:
        auth = f"{user}:{password}@" if password else f"{user}@"
        return f"postgresql://{auth}127.0.0.1:{self.port}/{DATABASE}"

    def _cmd(self, *args: str) -> list[str]:
        argv = [str(self.bindir / args[0]), *args[1:]]
        if self.os_user:
            return ["runuser", "-u", self.os_user, "--", *argv]
        return argv

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(self._cmd(*args), capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise PostgresError(f"{args[0]} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc

    def _own(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if self.os_user:
            entry = pwd.getpwnam(self.os_user)
            os.chown(path, entry.pw_uid, entry.pw_gid)
            _check_traversable(path.parent)

    @property
    def initialized(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def ensure_initialized(self) -> None:
        if self.initialized:
            return
        self._own(self.root / "pg")
        self._run(
            "initdb", "-D", str(self.pgdata), "-U", SUPERUSER, "-A", "trust",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions",
        )

    def is_running(self) -> bool:
        proc = subprocess.run(
            self._cmd("pg_ctl", "status", "-D", str(self.pgdata)),
            capture_output=True, text=True, check=False,
        )
        return proc.returncode == 0

    def start(self) -> None:
        self.ensure_initialized()
        self._own(self.socket_dir)
        if self.is_running():
            return
        opts = (
            f"-h 127.0.0.1 -p {self.port} -k {self.socket_dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200 -c wal_level=logical"
        )
        log = self.root / "pg" / "server.log"
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.pgdata), "-l", str(log), "-o", opts)
        deadline = time.monotonic() + 30
        while not self.is_running():
            if time.monotonic() > deadline:
                raise PostgresError(f"Postgres did not start; see {log}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.initialized and self.is_running():
            self._run("pg_ctl", "stop", "-D", str(self.pgdata), "-m", "fast", "-w")


def _check_traversable(path: Path) -> None:
    """An unprivileged server needs o+x on every parent of its directories."""
    for parent in [path, *path.parents]:
        if not os.stat(parent).st_mode & 0o001:
            raise PostgresError(
                f"{parent} is not searchable by other users, so the unprivileged Postgres "
                "user cannot reach its data directory. Choose a --data-dir outside it "
                "(for example under /tmp or /var/tmp)."
            )
