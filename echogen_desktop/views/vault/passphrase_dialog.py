"""Change the vault passphrase: the current one, then the new one twice."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from echogen_desktop.views.vault.passphrase_fields import PassphrasePair, password_field


class ChangePassphraseDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("changePassphraseDialog")
        self.setWindowTitle(self.tr("Change vault passphrase"))
        self.setMinimumWidth(440)
        intro = QLabel(self.tr("Every key is encrypted again with the new passphrase, in one step: "
                               "if anything fails, the old passphrase keeps working."))
        intro.setWordWrap(True)
        self.current = password_field("currentPassphrase", self.tr("Current passphrase"))
        self.fields = PassphrasePair()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        form = QFormLayout()
        form.addRow(self.tr("C&urrent passphrase:"), self.current)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.fields)
        layout.addWidget(self.buttons)
        self.current.textChanged.connect(lambda _t: self._validate())
        self.fields.validChanged.connect(lambda _v: self._validate())
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.finished.connect(lambda _r: self._forget())
        self._values: tuple[str, str] = ("", "")
        self._validate()

    def _validate(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.current.text()) and self.fields.valid)

    def accept(self) -> None:
        self._values = (self.current.text(), self.fields.passphrase())
        super().accept()

    def take(self) -> tuple[str, str]:
        """(current, new), once; the dialog keeps neither afterwards."""
        values, self._values = self._values, ("", "")
        return values

    def _forget(self) -> None:
        self.current.clear()
        self.fields.clear()
