"""What a ``user_sessions.device`` row says about this machine (keys in docs/data-conventions.md)."""

from __future__ import annotations

import platform
from pathlib import Path

from PySide6.QtCore import QSysInfo

from echogen_desktop import __version__

MAX_FIELD = 120
_DMI_MODEL = Path("/sys/devices/virtual/dmi/id/product_name")
_OS_NAMES = {"darwin": "macos", "windows": "windows", "linux": "linux"}


def _clean(value: str) -> str:
    text = " ".join(value.split())
    return text[:MAX_FIELD] if text else "unknown"


def _hardware_model() -> str:
    """The machine's model where the OS tells it cheaply, else the CPU architecture."""
    try:
        model = _DMI_MODEL.read_text("utf-8").strip()
    except OSError:
        model = ""
    if model and model.lower() not in {"system product name", "to be filled by o.e.m."}:
        return model
    return platform.machine() or QSysInfo.currentCpuArchitecture()


def _os_version() -> str:
    version = QSysInfo.productVersion()
    return version if version and version != "unknown" else platform.release()


def device_info(app_version: str = __version__) -> dict[str, str]:
    """``{model, os, os_version, app_version, hostname}``, all non-empty strings."""
    system = platform.system().lower()
    return {
        "model": _clean(_hardware_model()),
        "os": _clean(_OS_NAMES.get(system, system)),
        "os_version": _clean(_os_version()),
        "app_version": _clean(app_version),
        "hostname": _clean(QSysInfo.machineHostName() or platform.node()),
    }
