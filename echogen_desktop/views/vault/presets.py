"""Known providers: display name, the prefixes their keys start with, and the scopes offered.

A key that does not start with its provider's prefix only earns a warning (providers change key
formats), and a key that looks like another provider's is named, since pasting the wrong key into
the right slot is the commonest mistake.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProviderPreset:
    id: str  # what goes into user_api_keys.provider (and the ciphertext's associated data)
    name: str
    prefixes: tuple[str, ...]  # empty: no known format


PRESETS: tuple[ProviderPreset, ...] = (
    ProviderPreset("openai", "OpenAI", ("sk-",)),
    ProviderPreset("gemini", "Google Gemini", ("AIza",)),
    ProviderPreset("groq", "Groq", ("gsk_",)),
    ProviderPreset("openrouter", "OpenRouter", ("sk-or-",)),
    ProviderPreset("anthropic", "Anthropic", ("sk-ant-",)),
    ProviderPreset("elevenlabs", "ElevenLabs", ("sk_",)),
    ProviderPreset("firecrawl", "Firecrawl", ("fc-",)),
    ProviderPreset("hyperbrowser", "Hyperbrowser", ("hb_",)),
    ProviderPreset("imagerouter", "ImageRouter", ()),
)

SCOPE_SUGGESTIONS = ("scripts", "tts", "images", "scraping", "chat")


def preset_for(provider: str) -> ProviderPreset | None:
    key = provider.strip().casefold()
    return next((p for p in PRESETS if p.id == key or p.name.casefold() == key), None)


def provider_label(provider: str) -> str:
    preset = preset_for(provider)
    return preset.name if preset is not None else provider


@dataclass(frozen=True)
class FormatCheck:
    ok: bool
    expected: tuple[str, ...]  # the provider's prefixes (to show in the warning)
    looks_like: ProviderPreset | None  # another provider whose format the key matches best


def check_format(provider: str, secret: str) -> FormatCheck:
    """Whether ``secret`` has the shape of ``provider``'s keys. Unknown providers always pass."""
    value = secret.strip()
    best = max(
        ((len(prefix), p) for p in PRESETS for prefix in p.prefixes if value.startswith(prefix)),
        key=lambda pair: pair[0], default=None,
    )
    best_match = best[1] if best is not None else None
    own = preset_for(provider)
    if own is None or not value:
        return FormatCheck(True, (), None)
    if best_match is not None and best_match.id != own.id:
        return FormatCheck(False, own.prefixes, best_match)  # "sk-or-..." in the OpenAI slot
    if not own.prefixes or any(value.startswith(prefix) for prefix in own.prefixes):
        return FormatCheck(True, own.prefixes, None)
    return FormatCheck(False, own.prefixes, None)
