"""Where the bundled files (icons, sounds, translations) are: in a frozen build and in a checkout.

PyInstaller unpacks data next to the executable under ``sys._MEIPASS``; an installed wheel carries them
in ``echogen_desktop/_resources/`` (see setup.py); from a source checkout they sit in ``resources/`` at
the repository root. ``ECHOGEN_RESOURCES`` overrides them all (tests, odd installs).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV_RESOURCES = "ECHOGEN_RESOURCES"
PACKAGED_DIR = "_resources"  # inside the installed package: setup.py copies resources/ there for a wheel


def resources_dir() -> Path:
    override = os.environ.get(ENV_RESOURCES)
    if override:
        return Path(override)
    frozen_root = getattr(sys, "_MEIPASS", None)
    if isinstance(frozen_root, str):
        return Path(frozen_root) / "resources"
    packaged = Path(__file__).resolve().parent / PACKAGED_DIR
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def is_frozen() -> bool:
    """PyInstaller sets ``sys.frozen``; Nuitka (pyside6-deploy) marks compiled modules with ``__compiled__``."""
    return bool(getattr(sys, "frozen", False)) or "__compiled__" in globals()


def readme_file() -> Path | None:
    """The README next to the resources (a checkout, or a build that ships it), if there is one."""
    candidate = resources_dir().parent / "README.md"
    return candidate if candidate.is_file() else None
