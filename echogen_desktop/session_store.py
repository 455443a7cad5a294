"""The refresh token in the OS keychain, so a session survives restarts.

Only the refresh token is stored (the access token is short-lived and re-derived from it),
keyed by project URL and user id. Where there is no keychain the token stays in memory and
the user is told they will have to sign in again next time. Nothing is ever written in
plaintext to disk, and no token appears in a log line or an exception message.
"""

from __future__ import annotations

import logging

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import fail
from PySide6.QtCore import QCoreApplication

log = logging.getLogger(__name__)

SERVICE_PREFIX = "EchoGen Desktop"
# Windows Credential Manager refuses secrets over 2560 bytes.
MAX_TOKEN_BYTES = 2500


def no_keychain_message() -> str:
    return QCoreApplication.translate(
        "SessionStore", "No system keychain found: you will need to sign in again next time"
    )


class SessionStore:
    """get/put/delete one refresh token per (project URL, user id)."""

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None) -> None:
        self._keyring = backend if backend is not None else keyring.get_keyring()
        self._memory: dict[tuple[str, str], str] = {}
        self.persistent = not isinstance(self._keyring, fail.Keyring)
        self.message = "" if self.persistent else no_keychain_message()

    @staticmethod
    def service_name(project_url: str) -> str:
        return f"{SERVICE_PREFIX} ({project_url})"

    def _fall_back(self, exc: Exception) -> None:
        # The exception type only: keyring backends may echo the secret in their messages.
        log.warning("keychain unavailable (%s); keeping the session in memory", type(exc).__name__)
        self.persistent = False
        self.message = no_keychain_message()

    def load(self, project_url: str, user_id: str) -> str | None:
        key = (project_url, user_id)
        if self.persistent:
            try:
                token = self._keyring.get_password(self.service_name(project_url), user_id)
            except Exception as exc:  # any backend failure means: no keychain
                self._fall_back(exc)
            else:
                return token
        return self._memory.get(key)

    def save(self, project_url: str, user_id: str, refresh_token: str) -> None:
        key = (project_url, user_id)
        self._memory[key] = refresh_token
        if not self.persistent:
            return
        if len(refresh_token.encode()) > MAX_TOKEN_BYTES:
            log.warning("refresh token too long for the keychain; keeping it in memory")
            self._forget_persisted(project_url, user_id)
            return
        try:
            self._keyring.set_password(self.service_name(project_url), user_id, refresh_token)
        except Exception as exc:
            self._fall_back(exc)

    def delete(self, project_url: str, user_id: str) -> None:
        self._memory.pop((project_url, user_id), None)
        if self.persistent:
            self._forget_persisted(project_url, user_id)

    def _forget_persisted(self, project_url: str, user_id: str) -> None:
        try:
            self._keyring.delete_password(self.service_name(project_url), user_id)
        except keyring.errors.PasswordDeleteError:
            pass  # nothing stored: already forgotten
        except Exception as exc:
            self._fall_back(exc)
