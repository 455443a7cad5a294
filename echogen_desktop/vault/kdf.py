"""Passphrase -> vault key: Argon2id, then HKDF-SHA256 into an encryption key and a key-check value.

    master = Argon2id(NFC(passphrase) as UTF-8, salt, m, t, p, version 0x13, 32 bytes)
    enc    = HKDF-SHA256(master, salt=none, info="echogen-vault/v1\\0aes-256-gcm", 32 bytes)
    check  = HKDF-SHA256(master, salt=none, info="echogen-vault/v1\\0key-check", 32 bytes)

``check`` is stored; ``enc`` and ``master`` never are. Both outputs land in bytearrays that the
caller wipes; ``master`` is wiped here as soon as the two are derived.
"""

from __future__ import annotations

import math
import time
import unicodedata
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import InsecureParameters

KEY_BYTES = 32
SALT_BYTES = 16
CHECK_BYTES = 32

# Accepted parameter ranges. The floor stops a downgrade by whoever can edit the header; the
# ceiling stops a header from making the client allocate or spin without bound.
MIN_MEMORY_KIB = 65536  # 64 MiB
MAX_MEMORY_KIB = 1048576  # 1 GiB
MIN_ITERATIONS = 1
MAX_ITERATIONS = 256
MIN_LANES = 1
MAX_LANES = 16

DEFAULT_MEMORY_KIB = MIN_MEMORY_KIB
# One lane: cryptography's Argon2id runs lanes on one thread anyway (so more lanes buy no
# speed here), and libsodium, which other clients may use, only implements p = 1.
DEFAULT_LANES = 1
DEFAULT_TARGET_SECONDS = 0.75

_INFO_ENC = b"echogen-vault/v1\x00aes-256-gcm"
_INFO_CHECK = b"echogen-vault/v1\x00key-check"


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost parameters: memory in KiB, passes over memory, lanes."""

    memory_kib: int
    iterations: int
    lanes: int

    def validate(self) -> None:
        for name, value, low, high in (
            ("memory (m)", self.memory_kib, MIN_MEMORY_KIB, MAX_MEMORY_KIB),
            ("iterations (t)", self.iterations, MIN_ITERATIONS, MAX_ITERATIONS),
            ("lanes (p)", self.lanes, MIN_LANES, MAX_LANES),
        ):
            if type(value) is not int or not low <= value <= high:
                raise InsecureParameters(f"Argon2id {name} must be an integer from {low} to {high}")


def normalize_passphrase(passphrase: str) -> bytes:
    """NFC then UTF-8, so the same typed passphrase gives the same bytes on every OS."""
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def _argon2(passphrase: str, salt: bytes, params: KdfParams) -> bytearray:
    params.validate()
    if len(salt) != SALT_BYTES:
        raise ValueError(f"salt must be {SALT_BYTES} bytes")
    master = bytearray(KEY_BYTES)
    kdf = Argon2id(
        salt=salt, length=KEY_BYTES, iterations=params.iterations, lanes=params.lanes,
        memory_cost=params.memory_kib,
    )
    kdf.derive_into(normalize_passphrase(passphrase), master)
    return master


def _hkdf(master: bytearray, info: bytes, length: int) -> bytearray:
    out = bytearray(length)
    HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive_into(master, out)
    return out


def derive(passphrase: str, salt: bytes, params: KdfParams) -> tuple[bytearray, bytearray]:
    """(encryption key, key-check value), both fresh bytearrays the caller must wipe."""
    master = _argon2(passphrase, salt, params)
    try:
        return _hkdf(master, _INFO_ENC, KEY_BYTES), _hkdf(master, _INFO_CHECK, CHECK_BYTES)
    finally:
        wipe(master)


def wipe(buffer: bytearray) -> None:
    """Overwrite in place (the best Python can do; immutable copies elsewhere are out of reach)."""
    buffer[:] = bytes(len(buffer))


@dataclass(frozen=True)
class Calibration:
    params: KdfParams
    seconds: float  # measured time of one derivation with ``params``


def time_derivation(params: KdfParams) -> float:
    """Seconds one full derivation (Argon2id + HKDF) takes here, with a throwaway passphrase."""
    start = time.perf_counter()
    enc, check = derive("calibration", bytes(SALT_BYTES), params)
    elapsed = time.perf_counter() - start
    wipe(enc)
    wipe(check)
    return elapsed


def calibrate(
    target_seconds: float = DEFAULT_TARGET_SECONDS,
    memory_kib: int = DEFAULT_MEMORY_KIB,
    lanes: int = DEFAULT_LANES,
) -> Calibration:
    """The iteration count that makes one derivation take about ``target_seconds`` here.

    Time is close to linear in t, so two short probes (t=1, t=3; the faster of two runs each,
    to shrug off a busy moment) give the slope and fixed cost. The chosen t is then timed, and
    corrected once if that run lands more than 25% off target.
    """
    def fastest(iterations: int) -> float:
        return min(time_derivation(KdfParams(memory_kib, iterations, lanes)) for _ in range(2))

    one, three = fastest(1), fastest(3)
    per_pass = max((three - one) / 2, 1e-6)
    fixed = max(one - per_pass, 0.0)
    params = _clamped(math.ceil((target_seconds - fixed) / per_pass), memory_kib, lanes)
    seconds = time_derivation(params)
    if abs(seconds - target_seconds) > 0.25 * target_seconds:
        params = _clamped(round(params.iterations * target_seconds / seconds), memory_kib, lanes)
        seconds = time_derivation(params)
    return Calibration(params, seconds)


def _clamped(iterations: int, memory_kib: int, lanes: int) -> KdfParams:
    params = KdfParams(memory_kib, min(max(iterations, MIN_ITERATIONS), MAX_ITERATIONS), lanes)
    params.validate()
    return params
