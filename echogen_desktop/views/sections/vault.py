"""Key Vault: the encrypted API-key editor mounted as a main-window section."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QVBoxLayout, QWidget

from echogen_desktop.controllers.actions import Actions
from echogen_desktop.views.sections.base import Section
from echogen_desktop.views.vault import VaultSection as VaultEditor


class VaultSection(Section):
    key = "vault"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = VaultEditor(None, None, QSettings())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.editor)

    def title(self) -> str:
        return self.tr("Key Vault")

    def bind(self, actions: Actions) -> None:
        super().bind(actions)
        self.editor.attach(actions.backend, actions.runner)

    def unbind(self) -> None:
        self.editor.detach()  # locks first: sign-out drops every decrypted value
        super().unbind()

    def refresh(self) -> None:
        self.editor.refresh()

    def focus_search(self) -> None:
        self.editor.focus_search()

    def delete_selected(self) -> None:
        self.editor.delete_selected()
