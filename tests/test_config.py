"""Connection settings: URL and key validation, source priority, persistence."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from echogen_desktop import config
from echogen_desktop.config import ConfigError


def _jwt(payload: dict[str, object]) -> str:
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(payload)}.c2lnbmF0dXJl"


ANON = _jwt({"role": "anon", "iss": "supabase", "ref": "abcdefgh"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://abcdefgh.supabase.co", "https://abcdefgh.supabase.co"),
        ("https://abcdefgh.supabase.co/", "https://abcdefgh.supabase.co"),
        ("  https://abcdefgh.supabase.co//  ", "https://abcdefgh.supabase.co"),
        ("HTTPS://AbcDefGh.Supabase.CO", "https://abcdefgh.supabase.co"),
        ("http://127.0.0.1:54321", "http://127.0.0.1:54321"),
        ("http://localhost:54321/", "http://localhost:54321"),
        ("http://[::1]:54321", "http://[::1]:54321"),
    ],
)
def test_valid_urls_are_normalized(text: str, expected: str) -> None:
    assert config.normalize_url(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Enter the project URL"),
        ("   ", "Enter the project URL"),
        ("abcdefgh.supabase.co", "must start with https://"),
        ("ftp://abcdefgh.supabase.co", "must start with https://"),
        ("javascript:alert(1)", "must start with https://"),
        ("https://", "no host"),
        ("https:///rest/v1", "no host"),
        ("https://abcdefgh.supabase.co/rest/v1", "without a path"),
        ("https://abcdefgh.supabase.co/rest/v1/", "without a path"),
        ("https://abcdefgh.supabase.co?apikey=x", "query"),
        ("https://abcdefgh.supabase.co/?", "query"),
        ("https://abcdefgh.supabase.co#top", "fragment"),
        ("https://user:pw@abcdefgh.supabase.co", "user name or password"),
        ("http://127.0.0.1:99999", "not a valid URL"),
        ("http://127.0.0.1:port", "not a valid URL"),
    ],
)
def test_bad_urls_are_refused_with_a_reason(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        config.normalize_url(text)
    assert fragment in info.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ANON, ANON),
        (f"  {ANON[:20]}\n{ANON[20:]}  ", ANON),  # line breaks from a copied web page
        ("sb_publishable_abc123XYZ", "sb_publishable_abc123XYZ"),
    ],
)
def test_anon_keys_are_accepted(text: str, expected: str) -> None:
    assert config.check_anon_key(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Enter the project's anon"),
        ("sb_secret_abc123", "secret key"),
        ("sb_publishable_", "incomplete"),
        ("not-a-key", "does not look like an anon key"),
        ("a.b", "does not look like an anon key"),
        ("eyJ.!!!.sig", "does not look like an anon key"),
        (_jwt({"role": "service_role"}), "service_role"),
        (_jwt({"role": "authenticated", "sub": "x"}), "not an anon key"),
        (_jwt({"iss": "supabase"}), "not an anon key"),
    ],
)
def test_bad_keys_are_refused_with_a_reason(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        config.check_anon_key(text)
    assert fragment in info.value.message


def test_the_config_repr_keeps_the_key_out_of_logs() -> None:
    assert ANON not in repr(config.validate("https://x.supabase.co", ANON))


def _settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def test_flags_beat_environment_beat_saved_settings(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    config.save(settings, config.validate("https://saved.supabase.co", "sb_publishable_saved"))
    env = {config.ENV_URL: "https://env.supabase.co", config.ENV_ANON_KEY: "sb_publishable_env"}

    assert config.raw_config(settings, env={}) == config.RawConfig(
        "https://saved.supabase.co", "sb_publishable_saved"
    )
    assert config.raw_config(settings, env=env) == config.RawConfig("https://env.supabase.co", "sb_publishable_env")
    flagged = config.raw_config(settings, url="https://flag.supabase.co", anon_key=" ", env=env)
    assert flagged == config.RawConfig("https://flag.supabase.co", "sb_publishable_env")  # per field


def test_saved_settings_survive_a_restart(tmp_path: Path) -> None:
    config.save(_settings(tmp_path), config.validate("https://abcdefgh.supabase.co/", ANON))
    raw = config.raw_config(_settings(tmp_path), env={})
    assert raw.complete
    assert config.validate(raw.url, raw.anon_key) == config.ConnectionConfig("https://abcdefgh.supabase.co", ANON)


def test_nothing_configured_is_incomplete(tmp_path: Path) -> None:
    assert not config.raw_config(_settings(tmp_path), env={}).complete
