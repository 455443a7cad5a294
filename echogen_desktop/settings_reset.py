"""``--reset-settings``: forget the saved project, window layout and session, as on a first run.

The stored refresh token belongs to the saved session, so it is removed from the keychain too:
after the reset nothing points at it any more.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QSettings

log = logging.getLogger(__name__)


def reset_settings(settings: QSettings) -> list[str]:
    """Clear every key; return what was there (the names only). The keychain entry goes best-effort."""
    keys = sorted(settings.allKeys())
    project = settings.value("session/project_url", "")
    user = settings.value("session/user_id", "")
    if isinstance(project, str) and isinstance(user, str) and project and user:
        try:
            from echogen_desktop.session_store import SessionStore

            SessionStore().delete(project, user)
        except Exception as exc:  # no keychain, locked keychain: the settings still go
            log.warning("could not remove the stored session: %s", type(exc).__name__)
    settings.clear()
    settings.sync()
    return keys
