"""The app starts, shows its not-connected window, and remembers its geometry."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from echogen_desktop.views.main_window import MainWindow


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
