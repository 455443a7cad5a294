"""What every route handler can reach through ``request.app.state.stack``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request

from echogen_devstack.db import Database
from echogen_devstack.tokens import ProjectKeys, TokenExpired, TokenInvalid, verify


@dataclass
class StackState:
    keys: ProjectKeys
    db: Database
    storage_root: Path
    public_url: str
    jwt_expiry: int = 3600
    auto_confirm: bool = True
    bcrypt_rounds: int = 10


class ApiKeyMissing(Exception):
    """No ``apikey`` header: the gateway refuses before any API sees the request."""


class ApiKeyInvalid(Exception):
    """An ``apikey`` that is not one of the project's keys: Supabase's gateway refuses it before any API."""


PROJECT_KEY_ROLES = ("anon", "service_role")


def check_project_key(stack: StackState, apikey: str | None) -> None:
    """The ``apikey`` must be the project's anon or service key (signed with its secret); raises otherwise."""
    if not apikey:
        raise ApiKeyMissing("No API key found in request")
    try:
        claims = verify(apikey, stack.keys.secret)
    except (TokenInvalid, TokenExpired) as exc:
        raise ApiKeyInvalid("Invalid API key") from exc
    if claims.get("role") not in PROJECT_KEY_ROLES:
        raise ApiKeyInvalid("Invalid API key")


def stack_of(request: Request) -> StackState:
    state: StackState = request.app.state.stack
    return state


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def caller_claims(request: Request) -> dict[str, Any]:
    """Verify the request's JWT (Bearer, else the API key) and return its claims.

    Raises ApiKeyMissing, TokenExpired or TokenInvalid.
    """
    stack = stack_of(request)
    apikey = request.headers.get("apikey") or request.query_params.get("apikey")
    if not apikey:
        raise ApiKeyMissing("No API key found in request")
    token = bearer_token(request) or apikey
    claims = verify(token, stack.keys.secret)
    if not isinstance(claims.get("role", "anon"), str):
        raise TokenInvalid("role claim must be a string")
    return claims
