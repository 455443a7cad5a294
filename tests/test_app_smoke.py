"""The app starts, shows its not-connected window, and remembers its geometry."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from echogen_desktop.views.main_window import MainWindow
from echogen_devstack.runner import StackInfo
from echogen_devstack.seed import DemoLibrary
from tests.conftest import TestUser
from tests.views_support import seeded  # noqa: F401


def test_main_window_says_not_connected(qtbot: QtBot, tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.status_label.text() == "Not connected"
    assert not window.grab().isNull()


def test_window_geometry_is_remembered(qtbot: QtBot, tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    first = MainWindow(settings)
    qtbot.addWidget(first)
    first.show()
    first.resize(777, 555)
    first.close()
    second = MainWindow(settings)
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == (777, 555)


def test_console_entry_point_starts_and_exits_cleanly(tmp_path: Path) -> None:
    env = {"QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "echogen_desktop", "--quit-after", "0.5"],
        capture_output=True, text=True, timeout=60, env={**env, "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr


def test_version_flag() -> None:
    proc = subprocess.run([sys.executable, "-m", "echogen_desktop", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and "EchoGen Desktop 0.1.0" in proc.stdout


async def test_quitting_with_requests_in_flight_is_clean(
    stack: StackInfo, seeded: tuple[TestUser, DemoLibrary], tmp_path: Path,  # noqa: F811
) -> None:
    """The real app signs in through its dialog and quits the moment its main window shows the
    first page, while the other sections, the profile and the change feed are still loading:
    everything unwinds on the running loop, with nothing failing against a closed one."""
    user, _library = seeded  # the probe waits for a first Library page with rows in it
    env = {"QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin",
           "ECHOGEN_STARTUP_PROBE": "main", "ECHOGEN_PROBE_LOGIN": f"{user.email}:{user.password}"}
    proc = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "echogen_desktop", "--url", stack.url, "--anon-key", stack.anon_key],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "STARTUP main" in proc.stdout
    for sign in ("Traceback", "NoEventLoopError", "no running event loop", " failed: "):
        assert sign not in proc.stderr, proc.stderr
