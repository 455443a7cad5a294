"""User-facing, translated words for vault failures (the service's English is the fallback)."""

from __future__ import annotations

from echogen_desktop.i18n import translate
from echogen_desktop.services.errors import ServiceError
from echogen_desktop.services.vault_service import VaultFailure


def error_text(error: ServiceError) -> str:
    if not isinstance(error, VaultFailure):
        return error.message
    texts = {
        "WrongPassphrase": translate("VaultMessages", "Wrong passphrase. Try again."),
        "TamperedCiphertext": translate(
            "VaultMessages", "A stored key was modified or does not belong to this vault."),
        "UnknownVersion": translate(
            "VaultMessages", "This vault was written by a newer EchoGen. Update the app to open it."),
        "MalformedCiphertext": translate("VaultMessages", "A stored key is corrupt."),
        "MalformedHeader": translate("VaultMessages", "The vault header is corrupt."),
        "InsecureParameters": translate(
            "VaultMessages", "The vault's key-derivation parameters were weakened or are invalid."),
        "InconsistentVault": translate(
            "VaultMessages", "The vault is inconsistent: its keys use different passphrases."),
        "VaultLocked": translate("VaultMessages", "The vault is locked. Unlock it first."),
        "NoVault": translate("VaultMessages", "There is no vault yet. Set a passphrase first."),
        "VaultExists": translate(
            "VaultMessages", "A vault already exists for this account. Unlock it with its passphrase."),
        "StaleRememberedKey": translate(
            "VaultMessages", "The key remembered on this device no longer opens the vault. Enter the passphrase."),
    }
    return texts.get(error.reason, error.message)
