"""HS256 JWTs: the project keys, access tokens and signed-URL tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

ISSUER = "supabase-demo"
# Fixed times keep the keys stable across restarts for the same secret.
KEYS_ISSUED_AT = 1_700_000_000
KEYS_EXPIRE_AT = KEYS_ISSUED_AT + 20 * 365 * 24 * 3600


class TokenExpired(Exception):
    """The token's ``exp`` is in the past."""


class TokenInvalid(Exception):
    """The token is malformed or its signature does not match."""


@dataclass(frozen=True)
class ProjectKeys:
    secret: str
    anon_key: str
    service_key: str


def sign(claims: dict[str, Any], secret: str) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def verify(token: str, secret: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=["HS256"], options={"verify_aud": False}
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired("JWT expired") from exc
    except jwt.PyJWTError as exc:
        raise TokenInvalid(str(exc)) from exc
    return claims


def project_keys(secret: str) -> ProjectKeys:
    times = {"iat": KEYS_ISSUED_AT, "exp": KEYS_EXPIRE_AT}
    anon = sign({"iss": ISSUER, "role": "anon", **times}, secret)
    service = sign({"iss": ISSUER, "role": "service_role", **times}, secret)
    return ProjectKeys(secret=secret, anon_key=anon, service_key=service)
