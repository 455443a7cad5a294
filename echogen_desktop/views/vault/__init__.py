"""The Key Vault section: ``VaultSection(backend_or_service, runner, settings)``; ``lock()`` on sign-out."""

from echogen_desktop.views.vault.section import VaultSection

__all__ = ["VaultSection"]
