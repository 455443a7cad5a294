"""The opt-in "remember the vault on this device" entry in the OS keychain.

It holds the derived vault key (never the passphrase) with the vault's key-check, keyed by
project URL and user id. A passphrase change elsewhere makes it stale; the service notices and
the entry is dropped. Without a usable keychain the option is simply unavailable.
"""

from __future__ import annotations

import logging

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import fail

log = logging.getLogger(__name__)
SERVICE_PREFIX = "EchoGen Desktop vault"


class DeviceKeychain:
    def __init__(self, backend: keyring.backend.KeyringBackend | None = None) -> None:
        self._keyring = backend if backend is not None else keyring.get_keyring()
        self.available = not isinstance(self._keyring, fail.Keyring)

    @staticmethod
    def service_name(project_url: str) -> str:
        return f"{SERVICE_PREFIX} ({project_url})"

    def load(self, project_url: str, user_id: str) -> str | None:
        if not self.available:
            return None
        try:
            return self._keyring.get_password(self.service_name(project_url), user_id)
        except Exception as exc:  # the type only: backends may echo secrets in messages
            log.warning("keychain read failed (%s)", type(exc).__name__)
            return None

    def save(self, project_url: str, user_id: str, token: str) -> bool:
        if not self.available:
            return False
        try:
            self._keyring.set_password(self.service_name(project_url), user_id, token)
        except Exception as exc:
            log.warning("keychain write failed (%s)", type(exc).__name__)
            return False
        return True

    def delete(self, project_url: str, user_id: str) -> None:
        if not self.available:
            return
        try:
            self._keyring.delete_password(self.service_name(project_url), user_id)
        except keyring.errors.PasswordDeleteError:
            pass
        except Exception as exc:
            log.warning("keychain delete failed (%s)", type(exc).__name__)
