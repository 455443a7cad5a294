"""Add or edit one key: provider (with presets and a format hint), alias, the key (hidden until
revealed), scopes and caps. A format mismatch only warns; a duplicate provider + alias blocks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from echogen_desktop.services.vault_service import Caps, VaultEntry
from echogen_desktop.views.theme import set_error_text
from echogen_desktop.views.vault.glyphs import provider_icon
from echogen_desktop.views.vault.presets import PRESETS, SCOPE_SUGGESTIONS, check_format, preset_for

Taken = Callable[[str, str], bool]  # (provider, alias) -> another key already uses this pair


@dataclass(frozen=True)
class KeyEdit:
    provider: str
    alias: str
    secret: str | None = field(repr=False)  # None: keep the stored key
    scopes: tuple[str, ...]
    caps: Caps


class KeyEditDialog(QDialog):
    def __init__(self, taken: Taken, entry: VaultEntry | None = None, secret: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keyEditDialog")
        self.setWindowTitle(self.tr("Edit key") if entry else self.tr("Add key"))
        self.setMinimumWidth(480)
        self._taken = taken
        self._entry = entry
        self._original = secret

        self.provider = QComboBox()
        self.provider.setObjectName("providerField")
        self.provider.setAccessibleName(self.tr("Provider"))
        self.provider.setEditable(True)
        self.provider.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for preset in PRESETS:
            self.provider.addItem(provider_icon(preset.id), preset.name, preset.id)
        self.alias = QLineEdit()
        self.alias.setObjectName("aliasField")
        self.alias.setAccessibleName(self.tr("Alias"))
        self.alias.setPlaceholderText(self.tr("e.g. personal, work"))
        self.key = QLineEdit()
        self.key.setObjectName("keyField")
        self.key.setAccessibleName(self.tr("API key"))
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setInputMethodHints(Qt.InputMethodHint.ImhSensitiveData | Qt.InputMethodHint.ImhNoPredictiveText)
        self.reveal = QToolButton()
        self.reveal.setObjectName("revealKey")
        self.reveal.setCheckable(True)
        self.reveal.setText(self.tr("Show"))
        self.reveal.setToolTip(self.tr("Show or hide the key (Ctrl+H)"))
        self.reveal.setAccessibleName(self.tr("Show key"))
        reveal_action = QAction(self)
        reveal_action.setShortcut(QKeySequence("Ctrl+H"))
        reveal_action.triggered.connect(self.reveal.toggle)
        self.addAction(reveal_action)
        self.format_hint = QLabel()
        self.format_hint.setObjectName("formatHint")
        self.format_hint.setWordWrap(True)
        self.scopes = QLineEdit()
        self.scopes.setObjectName("scopesField")
        self.scopes.setAccessibleName(self.tr("Scopes"))
        self.scopes.setPlaceholderText(", ".join(SCOPE_SUGGESTIONS[:3]))
        self.monthly_cap = QDoubleSpinBox()
        self.monthly_cap.setObjectName("monthlyCapField")
        self.monthly_cap.setAccessibleName(self.tr("Monthly cap in US dollars"))
        self.monthly_cap.setRange(0, 1_000_000)
        self.monthly_cap.setDecimals(2)
        self.monthly_cap.setPrefix("$")
        self.monthly_cap.setSpecialValueText(self.tr("No cap"))
        self.daily_requests = QSpinBox()
        self.daily_requests.setObjectName("dailyRequestsField")
        self.daily_requests.setAccessibleName(self.tr("Requests per day"))
        self.daily_requests.setRange(0, 100_000_000)
        self.daily_requests.setSingleStep(100)
        self.daily_requests.setSpecialValueText(self.tr("No limit"))
        self.error = QLabel()
        self.error.setObjectName("duplicateError")
        set_error_text(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)

        key_row = QHBoxLayout()
        key_row.addWidget(self.key, 1)
        key_row.addWidget(self.reveal)
        form = QFormLayout()
        form.addRow(self.tr("&Provider:"), self.provider)
        form.addRow(self.tr("&Alias:"), self.alias)
        key_label = QLabel(self.tr("&Key:"))
        key_label.setBuddy(self.key)  # the row is a layout, so the form cannot set the buddy itself
        form.addRow(key_label, key_row)
        form.addRow("", self.format_hint)
        form.addRow(self.tr("&Scopes:"), self.scopes)
        form.addRow(self.tr("&Monthly cap:"), self.monthly_cap)
        form.addRow(self.tr("&Requests per day:"), self.daily_requests)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        if entry is not None:
            known = preset_for(entry.provider)
            if known is not None and known.id == entry.provider:
                self.provider.setCurrentIndex(self.provider.findData(known.id))
            else:
                self.provider.setEditText(entry.provider)
            self.alias.setText(entry.alias)
            self.scopes.setText(", ".join(entry.scopes))
            self.monthly_cap.setValue(entry.caps.monthly_usd or 0)
            self.daily_requests.setValue(entry.caps.requests_per_day or 0)
        self.key.setText(secret)
        self.reveal.toggled.connect(self._on_reveal)
        self.provider.currentTextChanged.connect(lambda _t: self._validate())
        self.alias.textChanged.connect(lambda _t: self._validate())
        self.key.textChanged.connect(lambda _t: self._validate())
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.finished.connect(lambda _r: self._forget())
        self._validate()

    def provider_id(self) -> str:
        text = self.provider.currentText().strip()
        preset = preset_for(text)
        return preset.id if preset is not None else text

    def _on_reveal(self, shown: bool) -> None:
        self.key.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.reveal.setText(self.tr("Hide") if shown else self.tr("Show"))
        self.reveal.setAccessibleName(self.tr("Hide key") if shown else self.tr("Show key"))

    def _validate(self) -> None:
        provider, alias, secret = self.provider_id(), self.alias.text().strip(), self.key.text().strip()
        duplicate = bool(provider) and self._taken(provider, alias)
        self.error.setText(
            self.tr("You already have a %1 key named \"%2\". Choose another alias.")
            .replace("%1", provider).replace("%2", alias) if duplicate else ""
        )
        check = check_format(provider, secret)
        preset = preset_for(provider)
        if check.looks_like is not None:
            hint = self.tr("⚠ This looks like a %1 key, not a %2 key. Saving anyway is allowed.").replace(
                "%1", check.looks_like.name).replace("%2", preset.name if preset else provider)
        elif not check.ok:
            hint = self.tr("⚠ %1 keys usually start with %2. Check that you pasted the right key.").replace(
                "%1", preset.name if preset else provider).replace("%2", " / ".join(check.expected))
        elif preset is not None and preset.prefixes:
            hint = self.tr("%1 keys start with %2.").replace("%1", preset.name).replace(
                "%2", " / ".join(preset.prefixes))
        else:
            hint = ""
        self.format_hint.setText(hint)
        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setEnabled(bool(provider) and bool(secret) and not duplicate and "\x00" not in provider)

    def values(self) -> KeyEdit:
        secret = self.key.text().strip()
        return KeyEdit(
            provider=self.provider_id(), alias=self.alias.text().strip(),
            secret=None if self._entry is not None and secret == self._original else secret,
            scopes=tuple(s.strip() for s in self.scopes.text().split(",") if s.strip()),
            caps=Caps(self.monthly_cap.value() or None, self.daily_requests.value() or None),
        )

    def _forget(self) -> None:
        """Once closed the dialog must not keep the key in its field (it may outlive the edit)."""
        self._original = ""
        self.key.clear()
