"""A non-editable install (a wheel) carries resources/, and the installed package finds it.

The wheel is built from a copy of the sources (so the build leaves nothing in the checkout), installed
with pip into a directory of its own, and imported by a fresh interpreter that cannot see the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "echogen_desktop", "echogen_devstack",
           "resources")

PROBE = """
import json, sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication([])
import echogen_desktop, echogen_desktop.resources as r
from echogen_desktop.icons import action_icon, action_names, app_icon
print(json.dumps({
    "package": echogen_desktop.__file__,
    "resources": str(r.resources_dir()),
    "app_icon_sizes": [s.width() for s in app_icon().availableSizes()],
    "actions": action_names(),
    "sidebar_icon": not action_icon("library").isNull(),
    "translations": sorted(p.name for p in r.resource_path("translations").iterdir()),
    "clip": r.resource_path("sounds", "self-test.wav").is_file(),
}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, pip-installed into ``site/``; returns that directory."""
    base = tmp_path_factory.mktemp("wheel")
    source, dist, site = base / "src", base / "dist", base / "site"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "_resources"))
        else:
            shutil.copy2(path, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", ".", "--no-deps", "--no-build-isolation", "-w", str(dist)],
                   cwd=source, check=True, timeout=300)
    wheels = list(dist.glob("echogen_desktop-*.whl"))
    assert len(wheels) == 1
    prefix = "echogen_desktop/_resources/"
    shipped = {n.removeprefix(prefix) for n in zipfile.ZipFile(wheels[0]).namelist() if n.startswith(prefix)}
    assert shipped == {str(p.relative_to(ROOT / "resources")) for p in (ROOT / "resources").rglob("*") if p.is_file()}
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", str(site), str(wheels[0])],
                   check=True, timeout=300)
    return site


def test_the_installed_package_finds_its_resources(installed: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"ECHOGEN_RESOURCES", "PYTHONPATH"}}
    env.update(PYTHONPATH=str(installed), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(found["package"]).is_relative_to(installed), "imported the checkout, not the install"
    assert found["resources"] == str(installed / "echogen_desktop" / "_resources")
    assert {16, 32, 48, 256} <= set(found["app_icon_sizes"])
    assert {"library", "script", "podcast", "jobs", "vault", "profile"} <= set(found["actions"])
    assert found["sidebar_icon"] and found["clip"]
    assert "echogen_desktop_de.ts" in found["translations"]


def test_a_checkout_still_reads_the_top_level_folder() -> None:
    from echogen_desktop.resources import resources_dir

    assert not (ROOT / "echogen_desktop" / "_resources").exists()
    assert resources_dir() == ROOT / "resources"
