"""Provider icons: a coloured rounded badge with the provider's initial, painted here (no images)."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

from echogen_desktop.colors import accent_color
from echogen_desktop.views.vault.presets import preset_for

SIZES = (16, 24, 32, 48)


def _badge(letter: str, color: QColor, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawRoundedRect(QRectF(0.5, 0.5, size - 1, size - 1), size * 0.22, size * 0.22)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(max(8, int(size * 0.6)))
    painter.setFont(font)
    painter.setPen(QColor("#ffffff") if color.lightnessF() < 0.6 else QColor("#111111"))
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, letter)
    painter.end()
    return pixmap


@lru_cache(maxsize=64)
def provider_icon(provider: str) -> QIcon:
    preset = preset_for(provider)
    name = preset.name if preset else provider.strip()
    letter = (name[:1] or "?").upper()
    color = accent_color(preset.id if preset else provider.casefold(), dark=False)
    icon = QIcon()
    for size in SIZES:
        icon.addPixmap(_badge(letter, color, size))
    return icon
