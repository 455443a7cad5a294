"""Render the app icon SVG into every raster the platforms want: hicolor PNGs, a Windows .ico, a macOS .icns.

Run from the repository root: ``python packaging/tools/make_icons.py``. Only Qt is needed (QtSvg draws the
SVG), so the same script runs on all three build machines. The .ico and .icns containers hold PNG data,
which every supported Windows (Vista and later) and macOS (10.7 and later) version reads.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parents[2]
SVG = ROOT / "resources" / "icons" / "app" / "echogen-desktop.svg"
HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# icns element types holding PNG data, by pixel size (the @2x variants share the pixel sizes).
ICNS_TYPES = (
    (b"icp4", 16), (b"icp5", 32), (b"icp6", 64), (b"ic07", 128), (b"ic08", 256), (b"ic09", 512),
    (b"ic10", 1024), (b"ic11", 32), (b"ic12", 64), (b"ic13", 256), (b"ic14", 512),
)


def render_png(renderer: QSvgRenderer, size: int) -> bytes:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError(f"cannot encode a {size}px PNG")
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """ICONDIR + one ICONDIRENTRY per size + the PNG payloads (a width of 0 means 256)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, payload = b"", b""
    for size in sizes:
        data = pngs[size]
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset + len(payload))
        payload += data
    return header + entries + payload


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    body = b"".join(kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_TYPES)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    app = QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        print(f"cannot read {SVG}", file=sys.stderr)
        return 1
    needed = set(HICOLOR_SIZES) | set(ICO_SIZES) | {size for _kind, size in ICNS_TYPES}
    pngs = {size: render_png(renderer, size) for size in sorted(needed)}
    for size in HICOLOR_SIZES:
        target = ROOT / "resources" / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "echogen-desktop.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(pngs[size])
    scalable = ROOT / "resources" / "icons" / "hicolor" / "scalable" / "apps" / "echogen-desktop.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    scalable.write_bytes(SVG.read_bytes())
    (ROOT / "packaging" / "windows").mkdir(exist_ok=True)
    ico = ico_bytes({size: pngs[size] for size in ICO_SIZES})
    (ROOT / "packaging" / "windows" / "echogen-desktop.ico").write_bytes(ico)
    (ROOT / "packaging" / "macos").mkdir(exist_ok=True)
    (ROOT / "packaging" / "macos" / "echogen-desktop.icns").write_bytes(icns_bytes(pngs))
    del app
    print(f"icons written: hicolor {HICOLOR_SIZES}, .ico {ICO_SIZES}, .icns {len(ICNS_TYPES)} elements")
    return 0


if __name__ == "__main__":
    sys.exit(main())
