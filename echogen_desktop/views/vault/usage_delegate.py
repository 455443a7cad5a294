"""Paints the usage column as a bar behind the text: normal below 80% of the monthly cap,
amber from 80%, red from 100%."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from echogen_desktop.colors import status_color
from echogen_desktop.models.vault_keys import UsageLevel, VaultRole


class UsageBarDelegate(QStyledItemDelegate):
    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        ratio = index.data(VaultRole.USAGE_RATIO)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:  # the selection background would cover a bar painted first
            super().paint(painter, option, index)
        if isinstance(ratio, float):
            self._bar(painter, option, ratio, UsageLevel(index.data(VaultRole.USAGE_LEVEL)))
        if not selected:
            super().paint(painter, option, index)

    @staticmethod
    def _bar(painter: QPainter, option: QStyleOptionViewItem, ratio: float, level: UsageLevel) -> None:
        palette = option.palette
        color = QColor({UsageLevel.OVER: status_color("failed"), UsageLevel.WARN: status_color("cancelled")}.get(
            level, palette.highlight().color()))
        rect = QRect(option.rect.adjusted(3, 4, -3, -4))
        track = QColor(palette.mid().color())
        track.setAlphaF(0.25)
        filled = QRect(rect)
        filled.setWidth(int(rect.width() * min(max(ratio, 0.0), 1.0)))
        color.setAlphaF(0.45)
        painter.save()
        painter.fillRect(rect, track)
        painter.fillRect(filled, color)
        painter.restore()
