"""Help ▸ Copy diagnostics: versions, settings and the newest log lines, with every secret removed.

What a user pastes into a bug report. Redaction is belt and braces: settings whose names sound
secret are dropped to a placeholder, and every line (settings values and log lines alike) also
goes through ``logging_setup.redact``, which knows JWTs, API keys and ``password=…`` pairs.
"""

from __future__ import annotations

import platform
import re
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtGui import QGuiApplication

from echogen_desktop import APP_NAME, __version__
from echogen_desktop.audio_output import default_audio_output
from echogen_desktop.logging_setup import REDACTED, last_lines, log_file, redact

LOG_LINES = 200
_SECRET_SETTING = re.compile(r"(?i)(token|password|passphrase|secret|service|private|credential|key$)")
_PUBLIC_SETTING = re.compile(r"(?i)anon_key$")  # public by design, but a JWT: still shown redacted


def versions() -> dict[str, str]:
    import PySide6
    from PySide6.QtCore import qVersion

    rows = {
        APP_NAME: __version__,
        "Python": platform.python_version(),
        "PySide6": PySide6.__version__,
        "Qt": qVersion(),
        "Platform": platform.platform(),
    }
    for module in ("supabase", "httpx", "keyring", "qasync"):
        try:
            from importlib.metadata import version

            rows[module] = version(module)
        except Exception:  # not installed, or a frozen build without metadata
            rows[module] = "?"
    rows["Audio output"] = default_audio_output()
    try:
        import keyring

        rows["Keychain"] = type(keyring.get_keyring()).__module__
    except Exception as exc:
        rows["Keychain"] = f"unavailable ({type(exc).__name__})"
    return rows


def _setting_text(key: str, value: object) -> str:
    if _SECRET_SETTING.search(key) and not _PUBLIC_SETTING.search(key):
        return REDACTED
    if isinstance(value, QByteArray):
        return f"<{value.size()} bytes>"  # window geometry and the like: noise in a report
    return redact(str(value))


def settings_lines(settings: QSettings) -> list[str]:
    return [f"{key} = {_setting_text(key, settings.value(key))}" for key in sorted(settings.allKeys())]


def gather(settings: QSettings, log_path: Path | None = None, lines: int = LOG_LINES) -> str:
    path = log_path or log_file()
    out = [f"{APP_NAME} diagnostics", "", "== Versions =="]
    out += [f"{name}: {value}" for name, value in versions().items()]
    out += ["", f"== Settings ({settings.fileName()}) =="]
    out += settings_lines(settings) or ["(none)"]
    out += ["", f"== Log: last {lines} lines of {path} =="]
    out += last_lines(lines, path) or ["(empty)"]
    return redact("\n".join(out)) + "\n"


def copy_to_clipboard(settings: QSettings, log_path: Path | None = None) -> str:
    text = gather(settings, log_path)
    clipboard = QGuiApplication.clipboard()
    clipboard.setText(text)
    return text
