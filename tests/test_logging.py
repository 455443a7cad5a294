"""Logs: the platform folder, rotation, and secrets scrubbed from every record before it is written."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from echogen_desktop import logging_setup
from echogen_desktop.logging_setup import REDACTED, configure, last_lines, log_dir, redact

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwicm9sZSI6ImF1dGhlbnRpY2F0ZWQifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
OPENAI_KEY = "sk-proj-AbCdEf0123456789ghIJklMNop"
SUPABASE_SECRET = "sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz"
REFRESH = "v2n4ldq5rx7q"  # GoTrue refresh tokens are short random strings: only their name gives them away
PASSWORD = "correct horse battery staple"


@pytest.fixture
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv(logging_setup.ENV_LOG_DIR, str(tmp_path / "logs"))
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    path = configure(logging.DEBUG, console=False)
    assert path is not None
    yield path
    for handler in [h for h in root.handlers if h not in before]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"Authorization: Bearer {JWT}", JWT),
        (f"apikey={JWT}", JWT),
        (f"token {JWT} expired", JWT),
        (f"provider key {OPENAI_KEY} rejected", OPENAI_KEY),
        (f"service key {SUPABASE_SECRET}", SUPABASE_SECRET),
        (f'{{"access_token": "x", "refresh_token": "{REFRESH}", "expires_in": 3600}}', REFRESH),
        (f"POST /token?grant_type=refresh_token&refresh_token={REFRESH}", REFRESH),
        (f"{{'email': 'a@b.c', 'password': '{PASSWORD}'}}", "horse battery"),
        (f"password={PASSWORD.split()[0]}", PASSWORD.split()[0]),
        ("passphrase: hunter2hunter2", "hunter2hunter2"),
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
    ],
)
def test_redact_removes_the_secret(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert "REDACTED" in cleaned


def test_redact_keeps_ordinary_text() -> None:
    text = "GET /rest/v1/generated_podcasts?select=* 200 in 12 ms (user 6f1c…); 3 rows, sk-ip ahead"
    assert redact(text) == text


def test_records_from_any_logger_are_scrubbed_before_the_file(logs: Path) -> None:
    logging.getLogger("httpx").info("HTTP Request: POST %s apikey=%s", "https://x/auth/v1/token", JWT)
    logging.getLogger("echogen_desktop.vault").warning("provider said no to %s", OPENAI_KEY)
    try:
        raise RuntimeError(f"refresh failed for refresh_token={REFRESH}")
    except RuntimeError:
        logging.getLogger("echogen_desktop.session").exception("restore failed with password=%s", "hunter2x")
    logging.getLogger("plain").info("nothing to hide: %d episodes", 3)
    written = logs.read_text(encoding="utf-8")
    for secret in (JWT, OPENAI_KEY, REFRESH, "hunter2x"):
        assert secret not in written
    assert written.count(REDACTED) >= 2 and "[REDACTED_JWT]" in written and "[REDACTED_KEY]" in written
    assert "nothing to hide: 3 episodes" in written
    assert "Traceback" in written and "RuntimeError" in written  # the traceback itself survives


def test_configure_twice_does_not_double_lines(logs: Path) -> None:
    configure(logging.DEBUG, console=False)
    logging.getLogger("once").info("exactly once")
    assert logs.read_text(encoding="utf-8").count("exactly once") == 1


def test_the_log_rotates(logs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logging_setup, "MAX_BYTES", 2_000)
    configure(logging.DEBUG, console=False)
    for n in range(200):
        logging.getLogger("rotate").info("line %03d %s", n, "x" * 40)
    rotated = sorted(p.name for p in logs.parent.iterdir())
    assert f"{logs.name}.1" in rotated and len(rotated) <= 1 + logging_setup.BACKUP_COUNT
    assert logs.stat().st_size <= 2_000
    assert last_lines(1, logs)[0].endswith("line 199 " + "x" * 40)


def test_an_unwritable_log_folder_does_not_stop_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(logging_setup.ENV_LOG_DIR, str(blocker / "logs"))
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        assert configure(console=False) is None
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)


def test_default_folder_is_the_platform_state_dir_on_linux(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(logging_setup.ENV_LOG_DIR, raising=False)
    monkeypatch.setattr(logging_setup.sys, "platform", "linux")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert log_dir() == tmp_path / "echogen-desktop" / "log"
    monkeypatch.setattr(logging_setup.sys, "platform", "darwin")
    assert log_dir() == Path.home() / "Library" / "Logs" / "EchoGen Desktop"
    monkeypatch.setattr(logging_setup.sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path))
    assert log_dir() == tmp_path / "EchoGen" / "EchoGen Desktop" / "Logs"
