"""User-facing, translated words for vault failures (the service's English is the fallback)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from echogen_desktop.services.errors import ServiceError
from echogen_desktop.services.vault_service import VaultFailure


def _tr(text: str) -> str:
    return QCoreApplication.translate("VaultMessages", text)


def error_text(error: ServiceError) -> str:
    if not isinstance(error, VaultFailure):
        return error.message
    texts = {
        "WrongPassphrase": _tr("Wrong passphrase. Try again."),
        "TamperedCiphertext": _tr("A stored key was modified or does not belong to this vault."),
        "UnknownVersion": _tr("This vault was written by a newer EchoGen. Update the app to open it."),
        "MalformedCiphertext": _tr("A stored key is corrupt."),
        "MalformedHeader": _tr("The vault header is corrupt."),
        "InsecureParameters": _tr("The vault's key-derivation parameters were weakened or are invalid."),
        "InconsistentVault": _tr("The vault is inconsistent: its keys use different passphrases."),
        "VaultLocked": _tr("The vault is locked. Unlock it first."),
        "NoVault": _tr("There is no vault yet. Set a passphrase first."),
        "VaultExists": _tr("A vault already exists for this account. Unlock it with its passphrase."),
        "StaleRememberedKey": _tr("The key remembered on this device no longer opens the vault. "
                                  "Enter the passphrase."),
    }
    return texts.get(error.reason, error.message)
