"""Logs in the platform's log folder, rotated, with secrets scrubbed from every record.

Folders: Linux ``$XDG_STATE_HOME/echogen-desktop/log`` (``~/.local/state/...``), macOS
``~/Library/Logs/EchoGen Desktop``, Windows ``%LOCALAPPDATA%\\EchoGen\\EchoGen Desktop\\Logs``;
``ECHOGEN_LOG_DIR`` overrides. The redaction runs on the handlers, so records from every logger
(ours, httpx, supabase-py) are scrubbed before they reach the file or the console.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
from collections import deque
from pathlib import Path

from echogen_desktop import APP_NAME, ORG_NAME

ENV_LOG_DIR = "ECHOGEN_LOG_DIR"
LOG_FILE_NAME = "echogen-desktop.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[REDACTED]"

_SECRET_NAMES = (
    r"refresh_token|access_token|provider_token|provider_refresh_token|id_token|token|"
    r"password|passwd|pwd|passphrase|secret|client_secret|service_key|service_role_key|"
    r"api[_-]?key|authorization"
)
# Order matters: whole tokens first (they may sit inside a key=value), then named values.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[REDACTED_JWT]"),
    (re.compile(r"\b(?:sk|rk|pk_live|sk_live|sk_test|sb_secret|sbp)[-_][A-Za-z0-9_-]{8,}"), "[REDACTED_KEY]"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer " + REDACTED),
    # name, separator, then a quoted value (which may hold spaces) or a bare one.
    (
        re.compile(
            rf"(?i)([\"']?\b(?:{_SECRET_NAMES})\b[\"']?\s*[:=]\s*)"
            r"(?:\"[^\"]*\"|'[^']*'|(?!\[REDACTED)[^\s,;&}\])]+)"
        ),
        rf"\1{REDACTED}",
    ),
)


def redact(text: str) -> str:
    """``text`` without JWTs, API keys, bearer tokens and named secrets (password=…, "refresh_token": …)."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Formats the record's message once, scrubs it, and drops the arguments it was built from."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: log it raw rather than lose it
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def log_dir() -> Path:
    override = os.environ.get(ENV_LOG_DIR)
    if override:
        return Path(override)
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Logs" / APP_NAME
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(base) / ORG_NAME / APP_NAME / "Logs"
    state = os.environ.get("XDG_STATE_HOME") or str(home / ".local" / "state")
    return Path(state) / "echogen-desktop" / "log"


def log_file() -> Path:
    return log_dir() / LOG_FILE_NAME


class _OurHandler:
    """Marks handlers this module installed, so configure() can run twice without doubling them."""


def configure(level: int = logging.INFO, *, console: bool = True) -> Path | None:
    """Install the rotating file handler (and a console one for warnings) on the root logger.

    Returns the log file, or None when the folder cannot be written (read-only home, sandbox):
    the app must start anyway, so then only the console handler is installed.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _OurHandler)]:
        root.removeHandler(old)
        old.close()
    formatter = logging.Formatter(FORMAT)
    path: Path | None = log_file()
    handlers: list[logging.Handler] = []
    try:
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(_RotatingFile(path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"))
    except OSError as exc:
        print(f"{APP_NAME}: cannot write logs to {path}: {exc}", file=sys.stderr)
        path = None
    if console:
        console_handler = _Console(sys.stderr)
        console_handler.setLevel(logging.WARNING)
        handlers.append(console_handler)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
    root.setLevel(min(level, root.level) if root.level != logging.NOTSET else level)
    logging.captureWarnings(True)
    return path


class _RotatingFile(logging.handlers.RotatingFileHandler, _OurHandler):
    pass


class _Console(logging.StreamHandler, _OurHandler):  # type: ignore[type-arg]
    pass


def last_lines(count: int = 200, path: Path | None = None) -> list[str]:
    """The newest ``count`` lines of the log (older rotated files are not read), redacted again."""
    target = path or log_file()
    try:
        with target.open(encoding="utf-8", errors="replace") as lines:
            tail = deque(lines, maxlen=count)
    except OSError:
        return []
    return [redact(line.rstrip("\n")) for line in tail]
