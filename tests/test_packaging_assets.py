"""What the installers ship: desktop file, AppStream metainfo, icons at every size, .ico/.icns, the spec."""

from __future__ import annotations

import configparser
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage

ROOT = Path(__file__).resolve().parent.parent
LINUX = ROOT / "packaging" / "linux"
APP_ID = "ai.echogen.EchoGenDesktop"
HICOLOR = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def test_desktop_file_registers_the_echogen_scheme() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(LINUX / f"{APP_ID}.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Name"] == "EchoGen Desktop"
    assert "x-scheme-handler/echogen;" in entry["MimeType"]
    assert entry["Exec"].split() == ["echogen-desktop", "%u"]  # %u: the clicked link is the argument
    assert entry["Icon"] == "echogen-desktop" and entry["Categories"].endswith(";")


def test_metainfo_names_the_desktop_file_and_binary() -> None:
    root = ET.parse(LINUX / f"{APP_ID}.metainfo.xml").getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == f"{APP_ID}.desktop"
    assert root.findtext("provides/binary") == "echogen-desktop"
    assert root.findtext("metadata_license") == "CC0-1.0" and root.findtext("project_license") == "MIT"
    release = root.find("releases/release")
    assert release is not None and release.get("version") == "0.1.0"


@pytest.mark.parametrize("size", HICOLOR)
def test_hicolor_icons_have_their_nominal_size(size: int) -> None:
    image = QImage(str(ROOT / "resources" / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "echogen-desktop.png"))
    assert (image.width(), image.height()) == (size, size)
    assert image.hasAlphaChannel() and image.pixelColor(0, 0).alpha() == 0  # rounded corners: transparent
    assert image.pixelColor(size // 2, size // 2).alpha() == 255


def test_windows_ico_holds_every_size_as_png() -> None:
    data = (ROOT / "packaging" / "windows" / "echogen-desktop.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind) == (0, 1)
    sizes = []
    for n in range(count):
        width, _h, _c, _r, _planes, _bits, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * n)
        assert data[offset:offset + 8] == b"\x89PNG\r\n\x1a\n" and offset + length <= len(data)
        sizes.append(width or 256)
    assert sizes == [16, 24, 32, 48, 64, 128, 256]


def test_macos_icns_is_well_formed() -> None:
    data = (ROOT / "packaging" / "macos" / "echogen-desktop.icns").read_bytes()
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)
    kinds, at = [], 8
    while at < len(data):
        kind, length = data[at:at + 4], struct.unpack(">I", data[at + 4:at + 8])[0]
        assert data[at + 8:at + 16] == b"\x89PNG\r\n\x1a\n"
        kinds.append(kind)
        at += length
    assert at == len(data) and {b"ic10", b"ic09", b"ic07", b"icp4"} <= set(kinds)


def test_action_icons_are_ours_and_follow_the_palette(qapp: object) -> None:
    from echogen_desktop.icons import action_names, render

    names = action_names()
    licences = (ROOT / "resources" / "LICENSES.md").read_text(encoding="utf-8")
    assert len(names) >= 20
    for name in names:
        assert f"{name}.svg" in licences, f"{name}.svg has no recorded origin"
        svg = (ROOT / "resources" / "icons" / "actions" / f"{name}.svg").read_text(encoding="utf-8")
        assert 'viewBox="0 0 24 24"' in svg and "currentColor" in svg and "#" not in svg  # no fixed colour
        for colour in ("#101010", "#f0f0f0"):  # light theme text, dark theme text
            image = render(name, QColor(colour), 24).toImage()
            pixels = [image.pixelColor(x, y) for x in range(24) for y in range(24)]
            inked = [c for c in pixels if c.alpha() > 200]
            assert len(inked) > 12, name
            want = QColor(colour)
            assert all(abs(c.lightness() - want.lightness()) <= 3 for c in inked if c.alpha() == 255), name


def test_spec_bundles_resources_and_drops_unused_qt() -> None:
    spec = (ROOT / "packaging" / "echogen-desktop.spec").read_text(encoding="utf-8")
    assert '(str(ROOT / "resources"), "resources")' in spec
    for module in ("QtWebEngineCore", "QtQuick3D", "QtPdf", "Qt3DCore", "QtDesigner"):
        assert f'"{module}"' in spec
    assert "PySide6.QtMultimedia" in spec and "exclude_binaries=True" in spec  # onedir, media forced in


def test_workflow_builds_and_self_tests_on_three_systems() -> None:
    workflow = (ROOT / ".github" / "workflows" / "build.yml").read_text(encoding="utf-8")
    for runner in ("ubuntu-", "windows-", "macos-"):
        assert runner in workflow
    assert workflow.count("--self-test") >= 3
    for script in ("packaging/build-linux", "packaging\\build-windows.ps1", "packaging/build-macos"):
        assert script in workflow and (ROOT / script.replace("\\", "/")).is_file()
    assert "NOT YET RUN" in workflow
