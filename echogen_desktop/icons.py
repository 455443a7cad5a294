"""The app icon and the action icons (SVGs drawn for this project, see resources/LICENSES.md).

Action icons are drawn in ``currentColor``; they are tinted with the palette's text colour when loaded,
so one set works in light and dark themes; disabled icons take the palette's disabled text colour and
selected ones (a sidebar row) its highlighted text colour.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from echogen_desktop.resources import resource_path

APP_ICON_NAME = "echogen-desktop"
_PIXMAP_SIZES = (16, 20, 24, 32, 48)


def app_icon() -> QIcon:
    icon = QIcon()
    for size in (16, 22, 24, 32, 48, 64, 128, 256, 512):
        png = resource_path("icons", "hicolor", f"{size}x{size}", "apps", f"{APP_ICON_NAME}.png")
        if png.is_file():
            icon.addFile(str(png), QSize(size, size))
    return icon


@cache
def _svg_text(name: str) -> str:
    return resource_path("icons", "actions", f"{name}.svg").read_text(encoding="utf-8")


def action_names() -> list[str]:
    return sorted(p.stem for p in resource_path("icons", "actions").glob("*.svg"))


def render(name: str, color: QColor, size: int, ratio: float = 1.0) -> QPixmap:
    """One action icon as a pixmap of ``size`` logical pixels, drawn in ``color``."""
    svg = _svg_text(name).replace("currentColor", color.name())
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    if not renderer.isValid():
        raise ValueError(f"icon {name!r} is not a valid SVG")
    pixels = max(1, round(size * ratio))
    image = QImage(pixels, pixels, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, pixels, pixels))
    painter.end()
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


def action_icon(name: str, palette: QPalette | None = None) -> QIcon:
    """A themed icon: normal and disabled modes, crisp at the screen's device pixel ratio."""
    pal = palette if palette is not None else QGuiApplication.palette()
    screen = QGuiApplication.primaryScreen()
    ratio = screen.devicePixelRatio() if screen is not None else 1.0
    normal = pal.color(QPalette.ColorGroup.Active, QPalette.ColorRole.WindowText)
    disabled = pal.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText)
    selected = pal.color(QPalette.ColorGroup.Active, QPalette.ColorRole.HighlightedText)  # on a selected row
    icon = QIcon()
    for size in _PIXMAP_SIZES:
        icon.addPixmap(render(name, normal, size, ratio), QIcon.Mode.Normal)
        icon.addPixmap(render(name, disabled, size, ratio), QIcon.Mode.Disabled)
        icon.addPixmap(render(name, selected, size, ratio), QIcon.Mode.Selected)
    return icon
