"""Ask before a destructive action without blocking the event loop (QMessageBox.open, not exec)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget


def confirm(parent: QWidget, title: str, text: str, on_yes: Callable[[], None], yes_text: str) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Cancel, parent)
    box.setObjectName("confirmDialog")
    yes = box.addButton(yes_text, QMessageBox.ButtonRole.DestructiveRole)
    yes.setObjectName("confirmYes")
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)

    def finished() -> None:
        if box.clickedButton() is yes:
            on_yes()
        box.deleteLater()

    box.finished.connect(finished)
    box.open()
    return box
