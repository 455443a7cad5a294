"""The two faces of a locked vault: the unlock prompt, and first use (set a passphrase)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from echogen_desktop.views.theme import set_error_text
from echogen_desktop.views.vault.passphrase_fields import PassphrasePair, password_field
from echogen_desktop.views.widgets.detail_bits import heading


def _centered(content: QWidget) -> QVBoxLayout:
    outer = QVBoxLayout()
    outer.addStretch(1)
    row = QHBoxLayout()
    row.addStretch(1)
    content.setMaximumWidth(460)
    row.addWidget(content, 4)
    row.addStretch(1)
    outer.addLayout(row)
    outer.addStretch(2)
    return outer


class UnlockPage(QWidget):
    unlockRequested = Signal(str)
    keychainUnlockRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("vaultUnlockPage")
        title = heading(self.tr("The Key Vault is locked"))
        intro = QLabel(self.tr("Your provider API keys are encrypted on this computer. "
                               "Enter the vault passphrase to use them."))
        intro.setWordWrap(True)
        self.passphrase = password_field("unlockPassphrase", self.tr("Vault passphrase"))
        self.passphrase.setPlaceholderText(self.tr("Vault passphrase"))
        self.unlock_button = QPushButton(self.tr("&Unlock"))
        self.unlock_button.setObjectName("unlockButton")
        self.unlock_button.setDefault(True)
        self.keychain_button = QPushButton(self.tr("Unlock with this device's &keychain"))
        self.keychain_button.setObjectName("keychainUnlockButton")
        self.keychain_button.hide()
        self.status = QLabel()
        self.status.setObjectName("unlockStatus")
        self.status.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("unlockError")
        self.error.setWordWrap(True)
        set_error_text(self.error)
        row = QHBoxLayout()
        row.addWidget(self.passphrase, 1)
        row.addWidget(self.unlock_button)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.keychain_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        self.setLayout(_centered(box))
        self.unlock_button.clicked.connect(self._submit)
        self.passphrase.returnPressed.connect(self._submit)
        self.passphrase.textChanged.connect(lambda _t: self.error.clear())
        self.keychain_button.clicked.connect(self.keychainUnlockRequested)

    def _submit(self) -> None:
        text = self.passphrase.text()
        if not text or not self.unlock_button.isEnabled():
            return
        self.passphrase.clear()  # the field must not keep the passphrase once it was used
        self.unlockRequested.emit(text)

    def set_busy(self, busy: bool) -> None:
        self.passphrase.setEnabled(not busy)
        self.unlock_button.setEnabled(not busy)
        self.keychain_button.setEnabled(not busy)
        self.status.setText(self.tr("Unlocking… deriving the key takes about a second.") if busy else "")
        if not busy:
            self.passphrase.setFocus()

    def show_error(self, text: str) -> None:
        self.error.setText(text)


class SetupPage(QWidget):
    createRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("vaultSetupPage")
        title = heading(self.tr("Set up your Key Vault"))
        intro = QLabel(self.tr(
            "Choose a passphrase for your provider API keys. Keys are encrypted with it on this computer "
            "before they are stored; the server never sees it. There is no way to recover a forgotten "
            "passphrase."))
        intro.setWordWrap(True)
        self.fields = PassphrasePair()
        self.create_button = QPushButton(self.tr("&Create vault"))
        self.create_button.setObjectName("createVaultButton")
        self.create_button.setEnabled(False)
        self.status = QLabel()
        self.status.setObjectName("setupStatus")
        self.error = QLabel()
        self.error.setObjectName("setupError")
        self.error.setWordWrap(True)
        set_error_text(self.error)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addWidget(self.fields)
        layout.addWidget(self.create_button, 0, Qt.AlignmentFlag.AlignRight)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        self.setLayout(_centered(box))
        self.fields.validChanged.connect(self.create_button.setEnabled)
        self.create_button.clicked.connect(self._submit)
        self.fields.second.returnPressed.connect(self._submit)

    def _submit(self) -> None:
        text = self.fields.passphrase()
        if not text or not self.create_button.isEnabled():
            return
        self.fields.clear()
        self.createRequested.emit(text)

    def set_busy(self, busy: bool) -> None:
        self.fields.setEnabled(not busy)
        self.create_button.setEnabled(not busy and self.fields.valid)
        self.status.setText(self.tr("Creating the vault… measuring this computer's speed.") if busy else "")

    def show_error(self, text: str) -> None:
        self.error.setText(text)
