"""Command line: --help, --version, --reset-settings (and that it refuses while the app runs)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from PySide6.QtCore import QDir

from echogen_desktop.single_instance import SingleInstance


def _app(*args: str, home: Path, instance: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
           "ECHOGEN_INSTANCE_NAME": instance or f"echogen-cli-{uuid.uuid4().hex[:8]}"}
    return subprocess.run([sys.executable, "-m", "echogen_desktop", *args], capture_output=True, text=True,
                          timeout=60, env=env)


def test_help_lists_every_flag_and_the_link_format(tmp_path: Path) -> None:
    done = _app("--help", home=tmp_path)
    assert done.returncode == 0
    for flag in ("--version", "--self-test", "--reset-settings", "--url", "--anon-key"):
        assert flag in done.stdout
    assert "echogen://podcast/<id>" in done.stdout


def test_reset_settings_empties_the_saved_settings(tmp_path: Path) -> None:
    conf = tmp_path / "config" / "EchoGen" / "EchoGen Desktop.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("[connection]\nurl=http://127.0.0.1:1\n[window]\nsection=3\n", encoding="utf-8")
    done = _app("--reset-settings", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Settings reset (2 entries removed" in done.stdout
    left = conf.read_text(encoding="utf-8") if conf.exists() else ""
    assert "url=" not in left and "section=" not in left


def test_reset_settings_refuses_while_the_app_runs(tmp_path: Path) -> None:
    name = f"echogen-cli-{uuid.uuid4().hex[:8]}"
    running = SingleInstance(name)
    assert running.claim()
    try:
        done = _app("--reset-settings", home=tmp_path, instance=name)
    finally:
        running.release()
        Path(QDir.tempPath(), name + ".lock").unlink(missing_ok=True)
    assert done.returncode == 1 and "quit it before resetting" in done.stderr
