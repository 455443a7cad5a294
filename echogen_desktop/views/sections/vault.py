"""Key Vault: a placeholder until the vault issue brings the encrypted API-key store."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from echogen_desktop.views.sections.base import Section
from echogen_desktop.views.widgets.detail_bits import heading


class VaultSection(Section):
    key = "vault"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = heading(self.tr("Key Vault"))
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message = QLabel(self.tr(
            "Your provider API keys, encrypted on this computer before they are stored.\n"
            "The key vault arrives with the vault release."
        ))
        self.message.setObjectName("vaultPlaceholder")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(title)
        layout.addWidget(self.message)
        layout.addStretch(2)

    def title(self) -> str:
        return self.tr("Key Vault")
