"""Help ▸ Copy diagnostics: versions, settings and log lines, and no token or key anywhere in them."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtMultimedia import QMediaDevices
from pytestqt.qtbot import QtBot

from echogen_desktop.diagnostics import copy_to_clipboard, gather
from tests.test_logging import JWT, OPENAI_KEY, REFRESH, logs  # noqa: F401 - the fixture, by name

ANON_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoiYW5vbiIsImlzcyI6InN1cGFiYXNlIn0"
    ".dc_X5iR_VP_qT0zsiyj_I_OZ2T9FtRU2BBNWN8Bu4GE"
)


def _settings(tmp_path: Path) -> QSettings:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("connection/url", "http://127.0.0.1:54321")
    settings.setValue("connection/anon_key", ANON_JWT)
    settings.setValue("session/user_id", "6f1c2d3e-0000-4000-8000-000000000001")
    settings.setValue("session/email", "creator@example.com")
    settings.setValue("vault/openai_api_key", OPENAI_KEY)  # a careless future setting
    settings.setValue("debug/last_refresh_token", REFRESH)
    settings.setValue("window/geometry", QByteArray(b"\x01\xd9\xd0\xcb" * 10))
    settings.sync()
    return settings


def test_diagnostics_hold_versions_settings_and_log_lines_but_no_secret(
    tmp_path: Path, logs: Path,  # noqa: F811
) -> None:
    logging.getLogger("echogen_desktop.session").info("restored session; token %s", JWT)
    logging.getLogger("echogen_desktop.player").warning("Demuxing failed at 12.5 s")
    text = gather(_settings(tmp_path), logs)
    for secret in (JWT, ANON_JWT, OPENAI_KEY, REFRESH):
        assert secret not in text
    assert "EchoGen Desktop: 0.1.0" in text and "PySide6: " in text and "Qt: " in text
    if QMediaDevices.audioOutputs():
        assert "\nAudio output: " in text
    else:  # this machine: no sound card, so playback would be silent and the report must say why
        assert "\nAudio output: none found (playback runs silently)\n" in text
    assert "connection/url = http://127.0.0.1:54321" in text
    assert "session/email = creator@example.com" in text
    assert "vault/openai_api_key = [REDACTED]" in text and "debug/last_refresh_token = [REDACTED]" in text
    assert "window/geometry = <40 bytes>" in text
    assert "Demuxing failed at 12.5 s" in text and "restored session; token [REDACTED_JWT]" in text


def test_copy_puts_the_text_on_the_clipboard(qtbot: QtBot, tmp_path: Path, logs: Path) -> None:  # noqa: F811
    text = copy_to_clipboard(_settings(tmp_path), logs)
    assert QGuiApplication.clipboard().text() == text
    assert OPENAI_KEY not in QGuiApplication.clipboard().text()


def test_help_menu_copies_diagnostics_and_shows_about(
    qtbot: QtBot, tmp_path: Path, logs: Path,  # noqa: F811
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from echogen_desktop.views.main_window import MainWindow

    window = MainWindow(_settings(tmp_path))
    qtbot.addWidget(window)
    window.show()
    QGuiApplication.clipboard().clear()
    copy, about = window.help_actions
    copy.trigger()
    text = QGuiApplication.clipboard().text()
    assert text.startswith("EchoGen Desktop diagnostics") and "connection/url = http://127.0.0.1:54321" in text
    assert OPENAI_KEY not in text and ANON_JWT not in text
    about.trigger()
    box = window.findChild(QMessageBox, "aboutDialog")
    assert box is not None and box.isVisible() and "0.1.0" in box.text()
    box.close()
