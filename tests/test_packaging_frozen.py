"""The FROZEN Linux build: packaging/build-linux, then the bundled app's --self-test, --version and --help.

Slow (a PyInstaller build, ~30-60 s on 2 cores) and needs the packaging extra, so it only runs with
ECHOGEN_PACKAGING=1. ``packaging/smoke-test`` does the same from a shell, with timings.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from echogen_desktop import __version__

ROOT = Path(__file__).resolve().parent.parent
FROZEN = ROOT / "dist" / "echogen-desktop" / "echogen-desktop"
pytestmark = pytest.mark.skipif(os.environ.get("ECHOGEN_PACKAGING") != "1", reason="set ECHOGEN_PACKAGING=1")


@pytest.fixture(scope="module")
def build() -> Iterator[Path]:
    done = subprocess.run([str(ROOT / "packaging" / "build-linux")], capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHON": sys.executable})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert FROZEN.is_file()
    yield ROOT / "dist"


def _frozen(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    # A clean environment: nothing from the venv may leak into the frozen app.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "QT_QPA_PLATFORM": "offscreen", "LANG": "C.UTF-8"}
    return subprocess.run([str(FROZEN), *args], capture_output=True, text=True, timeout=120, env=env, cwd=home)


def test_frozen_app_passes_its_self_test(build: Path, tmp_path: Path) -> None:
    done = _frozen("--self-test", home=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Frozen: yes" in done.stdout and "media backend: available" in done.stdout
    assert "clip: played to the end" in done.stdout and "self-test passed" in done.stdout


def test_frozen_app_answers_version_and_help(build: Path, tmp_path: Path) -> None:
    version = _frozen("--version", home=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == f"EchoGen Desktop {__version__}"
    usage = _frozen("--help", home=tmp_path)
    assert usage.returncode == 0 and "--self-test" in usage.stdout and "echogen://podcast/<id>" in usage.stdout


def test_tarball_carries_the_desktop_integration(build: Path) -> None:
    tarball = next(build.glob(f"echogen-desktop-{__version__}-linux-*.tar.gz"))
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
    top = tarball.name.removesuffix(".tar.gz")
    expected = {
        f"{top}/echogen-desktop/echogen-desktop",
        f"{top}/share/applications/ai.echogen.EchoGenDesktop.desktop",
        f"{top}/share/metainfo/ai.echogen.EchoGenDesktop.metainfo.xml",
        f"{top}/install.sh",
        *(f"{top}/share/icons/hicolor/{s}x{s}/apps/echogen-desktop.png" for s in (16, 22, 32, 48, 64, 128, 256, 512)),
    }
    assert expected <= names
    assert any(n.endswith("plugins/multimedia/libffmpegmediaplugin.so") for n in names)
    assert not any("QtWebEngine" in n or "Qt6Quick3D" in n for n in names)


def test_install_script_installs_and_registers_the_scheme(build: Path, tmp_path: Path) -> None:
    tarball = next(build.glob(f"echogen-desktop-{__version__}-linux-*.tar.gz"))
    with tarfile.open(tarball) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    top = tmp_path / "unpacked" / tarball.name.removesuffix(".tar.gz")
    prefix = tmp_path / "prefix"
    done = subprocess.run([str(top / "install.sh")], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PREFIX": str(prefix)})
    assert done.returncode == 0, done.stderr
    desktop = (prefix / "share" / "applications" / "ai.echogen.EchoGenDesktop.desktop").read_text()
    assert f"Exec={prefix}/lib/echogen-desktop/echogen-desktop %u" in desktop
    assert "MimeType=x-scheme-handler/echogen;" in desktop
    launched = subprocess.run([str(prefix / "bin" / "echogen-desktop"), "--version"], capture_output=True, text=True,
                              timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert launched.returncode == 0 and __version__ in launched.stdout
