"""A new passphrase typed twice, with a strength hint: the vault's first use and passphrase change."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QProgressBar, QWidget

from echogen_desktop.colors import status_color
from echogen_desktop.views.theme import set_error_text
from echogen_desktop.views.vault.strength import estimate


def password_field(name: str, accessible: str) -> QLineEdit:
    field = QLineEdit()
    field.setObjectName(name)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setAccessibleName(accessible)
    return field


class PassphrasePair(QWidget):
    """``validChanged(bool)``: both fields filled in and equal."""

    validChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.first = password_field("newPassphrase", self.tr("New passphrase"))
        self.second = password_field("confirmPassphrase", self.tr("Confirm passphrase"))
        self.meter = QProgressBar()
        self.meter.setObjectName("strengthMeter")
        self.meter.setAccessibleName(self.tr("Passphrase strength"))
        self.meter.setRange(0, 4)
        self.meter.setTextVisible(False)
        self.meter.setMaximumHeight(8)
        self.hint = QLabel()
        self.hint.setObjectName("strengthHint")
        self.hint.setWordWrap(True)
        self.mismatch = QLabel()
        self.mismatch.setObjectName("passphraseMismatch")
        set_error_text(self.mismatch)
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addRow(self.tr("&Passphrase:"), self.first)
        layout.addRow("", self.meter)
        layout.addRow("", self.hint)
        layout.addRow(self.tr("&Confirm:"), self.second)
        layout.addRow("", self.mismatch)
        self.first.textChanged.connect(self._update)
        self.second.textChanged.connect(self._update)
        self._valid = False
        self._update()

    def _update(self) -> None:
        text = self.first.text()
        strength = estimate(text)
        self.meter.setValue(strength.score if text else 0)
        palette = self.meter.palette()  # red while weak, amber while fair, green from good
        palette.setColor(QPalette.ColorRole.Highlight, status_color(
            "failed" if strength.score <= 1 else "cancelled" if strength.score == 2 else "succeeded"))
        self.meter.setPalette(palette)
        words = [
            self.tr("Very weak: anyone with the database could guess it."),
            self.tr("Weak: add more words."),
            self.tr("Fair: a few more words would help."),
            self.tr("Good."),
            self.tr("Strong."),
        ]
        self.hint.setText(
            words[strength.score] if text else self.tr("Use four or more random words. It cannot be recovered.")
        )
        mismatch = bool(self.second.text()) and self.second.text() != text
        self.mismatch.setText(self.tr("The passphrases do not match.") if mismatch else "")
        valid = bool(text) and text == self.second.text()
        if valid != self._valid:
            self._valid = valid
            self.validChanged.emit(valid)

    @property
    def valid(self) -> bool:
        return self._valid

    def passphrase(self) -> str:
        return self.first.text() if self._valid else ""

    def clear(self) -> None:
        self.first.clear()
        self.second.clear()
