"""Signed-URL tokens: HS256 JWTs over ``bucket/key`` with the project secret, as storage-api.

Download tokens carry ``{url, iat, exp}``; upload tokens ``{owner, url, upsert, scope, iat,
exp}``. A token is only good for the object it names, and a download token can't upload
(or the reverse).
"""

from __future__ import annotations

import time
from typing import Any

import jwt

UPLOAD_SCOPE = "upload"
UPLOAD_TOKEN_SECONDS = 2 * 3600


class SignedTokenError(Exception):
    """Verification failed; ``error`` and ``message`` are storage-api's wording."""

    def __init__(self, error: str, message: str, code: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message
        self.code = code


def sign_download(url: str, expires_in: int, secret: str) -> str:
    now = int(time.time())
    return jwt.encode({"url": url, "iat": now, "exp": now + expires_in}, secret, algorithm="HS256")


def sign_upload(url: str, owner: str | None, upsert: bool, secret: str) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "owner": owner,
        "url": url,
        "upsert": upsert,
        "scope": UPLOAD_SCOPE,
        "iat": now,
        "exp": now + UPLOAD_TOKEN_SECONDS,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def verify(token: str | None, url: str, secret: str, *, upload: bool) -> dict[str, Any]:
    """Check signature, expiry, purpose and that the token names ``url``."""
    if not token:
        raise SignedTokenError("InvalidJWT", "Missing token", "InvalidJWT")
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["exp"], "verify_aud": False}
        )
    except jwt.ExpiredSignatureError as exc:
        raise SignedTokenError("InvalidJWT", "The provided token has expired.", "ExpiredToken") from exc
    except jwt.InvalidSignatureError as exc:
        raise SignedTokenError("InvalidJWT", "invalid signature", "InvalidJWT") from exc
    except jwt.PyJWTError as exc:
        raise SignedTokenError("InvalidJWT", "jwt malformed", "InvalidJWT") from exc
    if claims.get("url") != url or (claims.get("scope") == UPLOAD_SCOPE) != upload:
        raise SignedTokenError(
            "InvalidSignature", "The url do not match the signature", "InvalidSignature"
        )
    return claims
