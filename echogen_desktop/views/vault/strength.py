"""A rough passphrase strength estimate for the hint under the passphrase field.

It is a hint, not a gate: entropy from length and character classes, halved for runs and
repeats, and known-weak passphrases scored zero. What protects the vault is Argon2id plus this
number; the hint nudges toward four or more random words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

_COMMON = frozenset({
    "password", "passphrase", "123456", "12345678", "123456789", "qwerty", "letmein", "iloveyou",
    "admin", "welcome", "monkey", "dragon", "abc123", "password1", "secret", "echogen",
})


@dataclass(frozen=True)
class Strength:
    score: int  # 0 very weak ... 4 strong
    bits: float


def estimate(passphrase: str) -> Strength:
    if not passphrase or passphrase.casefold() in _COMMON:
        return Strength(0, 0.0)
    pool = 0
    pool += 26 if any(c.islower() for c in passphrase) else 0
    pool += 26 if any(c.isupper() for c in passphrase) else 0
    pool += 10 if any(c.isdigit() for c in passphrase) else 0
    pool += 33 if any(not c.isalnum() and c.isascii() for c in passphrase) else 0
    pool += 100 if any(not c.isascii() for c in passphrase) else 0
    distinct = len(set(passphrase))
    bits = len(passphrase) * math.log2(max(pool, 2))
    if distinct < len(passphrase) / 2:  # "aaaaaaaa", "abababab"
        bits /= 2
    score = 0 if bits < 28 else 1 if bits < 40 else 2 if bits < 60 else 3 if bits < 80 else 4
    return Strength(score, bits)
