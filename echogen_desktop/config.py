"""Which Supabase project the app talks to: validation, sources and persistence.

Sources, highest priority first: ``--url``/``--anon-key``, the environment variables
``ECHOGEN_SUPABASE_URL``/``ECHOGEN_SUPABASE_ANON_KEY``, then what was saved in QSettings.
The anon key is public by design (it ships in every Supabase web page), so storing it in
QSettings is fine; tokens never go there.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from PySide6.QtCore import QSettings

from echogen_desktop.i18n import translate

ENV_URL = "ECHOGEN_SUPABASE_URL"
ENV_ANON_KEY = "ECHOGEN_SUPABASE_ANON_KEY"
SETTINGS_URL = "connection/url"
SETTINGS_ANON_KEY = "connection/anon_key"
PUBLISHABLE_PREFIX = "sb_publishable_"
SECRET_PREFIX = "sb_secret_"



class ConfigError(ValueError):
    """A URL or key the app cannot use; ``message`` is shown to the user as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ConnectionConfig:
    url: str
    anon_key: str

    def __repr__(self) -> str:
        # The anon key is public, but there is no reason to spray it over logs either.
        return f"ConnectionConfig(url={self.url!r})"


@dataclass(frozen=True)
class RawConfig:
    """Unvalidated text from the highest-priority source for each field."""

    url: str
    anon_key: str

    @property
    def complete(self) -> bool:
        return bool(self.url and self.anon_key)


def normalize_url(text: str) -> str:
    """The project's base URL: http(s), a host, no path, query or fragment, no trailing slash."""
    value = text.strip()
    if not value:
        raise ConfigError(translate("config", "Enter the project URL, for example https://abcdefgh.supabase.co."))
    try:
        parts = urlsplit(value)
        port = parts.port  # raises on a non-numeric or out-of-range port
    except ValueError as exc:
        raise ConfigError(translate("config", "This is not a valid URL.")) from exc
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise ConfigError(translate("config", "The URL must start with https:// (or http:// for a local stack)."))
    if not parts.hostname:
        raise ConfigError(translate("config", "The URL has no host name."))
    if parts.username or parts.password:
        raise ConfigError(translate("config", "The URL must not contain a user name or password."))
    if parts.path.strip("/"):
        raise ConfigError(
            translate("config", "Enter only the project address, without a path such as /rest/v1, for example "
                "https://abcdefgh.supabase.co.")
        )
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise ConfigError(translate("config", "The URL must not contain a query (?…) or a fragment (#…)."))
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def _jwt_payload(token: str) -> Mapping[str, object] | None:
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        return None
    segment = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        payload = json.loads(base64.urlsafe_b64decode(segment.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError):
        return None
    return payload if isinstance(payload, dict) else None


def check_anon_key(text: str) -> str:
    """Accept a legacy anon JWT (role ``anon``) or a new ``sb_publishable_`` key; refuse secrets."""
    key = "".join(text.split())  # keys pasted from a web page often carry line breaks
    if not key:
        raise ConfigError(translate("config", "Enter the project's anon (publishable) key."))
    if key.startswith(SECRET_PREFIX):
        raise ConfigError(
            translate("config",
                      "This is a secret key. The app needs the publishable (anon) key; never share a secret key.")
        )
    if key.startswith(PUBLISHABLE_PREFIX):
        if len(key) <= len(PUBLISHABLE_PREFIX):
            raise ConfigError(translate("config", "This publishable key is incomplete."))
        return key
    payload = _jwt_payload(key)
    if payload is None:
        raise ConfigError(translate(
            "config", "This does not look like an anon key: expected a JWT (eyJ…) or an sb_publishable_ key."))
    role = payload.get("role")
    if role == "service_role":
        raise ConfigError(
            translate("config", "This is the service_role key, which bypasses all security. Use the anon key instead.")
        )
    if role != "anon":
        raise ConfigError(translate("config", "This key is not an anon key (its role is not \"anon\")."))
    return key


def validate(url: str, anon_key: str) -> ConnectionConfig:
    return ConnectionConfig(normalize_url(url), check_anon_key(anon_key))


def raw_config(
    settings: QSettings, *, url: str | None = None, anon_key: str | None = None,
    env: Mapping[str, str] | None = None,
) -> RawConfig:
    """Each field from its highest-priority source: flag, then environment, then saved settings."""
    environ = env if env is not None else {}

    def pick(flag: str | None, env_name: str, key: str) -> str:
        if flag and flag.strip():
            return flag.strip()
        from_env = environ.get(env_name, "").strip()
        if from_env:
            return from_env
        saved = settings.value(key, "")
        return saved.strip() if isinstance(saved, str) else ""

    return RawConfig(pick(url, ENV_URL, SETTINGS_URL), pick(anon_key, ENV_ANON_KEY, SETTINGS_ANON_KEY))


def save(settings: QSettings, config: ConnectionConfig) -> None:
    settings.setValue(SETTINGS_URL, config.url)
    settings.setValue(SETTINGS_ANON_KEY, config.anon_key)
    settings.sync()
