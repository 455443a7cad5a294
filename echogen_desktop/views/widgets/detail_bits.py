"""Building blocks every detail pane uses: a heading, a read-only field list, an empty state."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget


def heading(text: str = "", scale: float = 1.35) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setBold(True)
    label.setFont(font)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class FieldList(QWidget):
    """Label/value rows whose values can be selected and copied; rows with no value are hidden."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._form = QFormLayout(self)
        self._form.setContentsMargins(0, 0, 0, 0)
        self._form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._values: dict[str, QLabel] = {}

    def add(self, key: str, label: str) -> QLabel:
        value = QLabel()
        value.setObjectName(f"field_{key}")
        value.setWordWrap(True)
        value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        value.setAccessibleName(label)
        self._form.addRow(label + ":", value)
        self._values[key] = value
        return value

    def set_value(self, key: str, text: str) -> None:
        if key not in self._values:
            self.add(key, key.replace("_", " ").capitalize())
        self._values[key].setText(text)
        self._form.setRowVisible(self._values[key], bool(text))

    def text(self, key: str) -> str:
        return self._values[key].text() if key in self._values else ""

    def clear_extra(self, keep: set[str]) -> None:
        """Drop rows added on the fly for a previous record's metadata."""
        for key in [k for k in self._values if k not in keep]:
            self._form.removeRow(self._values.pop(key))


class DetailStack(QStackedWidget):
    """An empty-state page ("select something") in front of the real detail page."""

    def __init__(self, page: QWidget, empty_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        empty = QWidget()
        layout = QVBoxLayout(empty)
        self.empty_label = QLabel(empty_text)
        self.empty_label.setObjectName("detailEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setEnabled(False)
        layout.addWidget(self.empty_label)
        self.addWidget(empty)
        self.addWidget(page)

    def show_empty(self, text: str | None = None) -> None:
        if text is not None:
            self.empty_label.setText(text)
        self.setCurrentIndex(0)

    def show_page(self) -> None:
        self.setCurrentIndex(1)

    @property
    def showing_page(self) -> bool:
        return self.currentIndex() == 1
