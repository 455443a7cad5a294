"""GoTrue-compatible ``/auth/v1``: sign-up, password and refresh grants, user, logout, admin."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import time
import uuid
from datetime import datetime
from typing import Any

import asyncpg
import bcrypt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from echogen_devstack.db import Conn
from echogen_devstack.errors import auth_error
from echogen_devstack.state import StackState, bearer_token, stack_of
from echogen_devstack.tokens import TokenExpired, TokenInvalid, sign, verify

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 6
USER_COLUMNS = (
    "id, aud, role, email, phone, email_confirmed_at, last_sign_in_at, raw_app_meta_data,"
    " raw_user_meta_data, created_at, updated_at, is_anonymous, encrypted_password"
)


class AuthFailure(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.response = auth_error(status, code, message, **extra)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "aud": row["aud"],
        "role": row["role"],
        "email": row["email"],
        "phone": row["phone"] or "",
        "email_confirmed_at": _iso(row["email_confirmed_at"]),
        "confirmed_at": _iso(row["email_confirmed_at"]),
        "last_sign_in_at": _iso(row["last_sign_in_at"]),
        "app_metadata": json.loads(row["raw_app_meta_data"]),
        "user_metadata": json.loads(row["raw_user_meta_data"]),
        "identities": [],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
        "is_anonymous": row["is_anonymous"],
    }


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AuthFailure(400, "validation_failed", "Could not parse request body as JSON") from exc
    if not isinstance(data, dict):
        raise AuthFailure(400, "validation_failed", "Request body must be a JSON object")
    return data


async def _hash_password(stack: StackState, password: str) -> str:
    salt = bcrypt.gensalt(rounds=stack.bcrypt_rounds)
    hashed = await asyncio.to_thread(bcrypt.hashpw, password.encode(), salt)
    return hashed.decode()


async def _check_password(password: str, hashed: str | None) -> bool:
    if not hashed:
        return False
    return await asyncio.to_thread(bcrypt.checkpw, password.encode(), hashed.encode())


def _validate_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AuthFailure(
            422, "weak_password", f"Password should be at least {MIN_PASSWORD} characters.",
            weak_password={"reasons": ["length"]},
        )
    return password


async def _issue_session(
    stack: StackState, conn: Conn, user: asyncpg.Record,
    session_id: uuid.UUID | None = None, parent: str | None = None,
) -> dict[str, Any]:
    """Create (or continue) a session, and return GoTrue's session JSON."""
    if session_id is None:
        session_id = await conn.fetchval(
            "insert into auth.sessions (user_id) values ($1) returning id", user["id"]
        )
    refresh = secrets.token_urlsafe(24)
    await conn.execute(
        "insert into auth.refresh_tokens (token, user_id, session_id, parent) values ($1, $2, $3, $4)",
        _hash_token(refresh), user["id"], session_id, parent,
    )
    now = int(time.time())
    claims = {
        "iss": f"{stack.public_url}/auth/v1",
        "sub": str(user["id"]),
        "aud": "authenticated",
        "exp": now + stack.jwt_expiry,
        "iat": now,
        "email": user["email"],
        "phone": user["phone"] or "",
        "app_metadata": json.loads(user["raw_app_meta_data"]),
        "user_metadata": json.loads(user["raw_user_meta_data"]),
        "role": "authenticated",
        "aal": "aal1",
        "amr": [{"method": "password", "timestamp": now}],
        "session_id": str(session_id),
        "is_anonymous": False,
    }
    return {
        "access_token": sign(claims, stack.keys.secret),
        "token_type": "bearer",
        "expires_in": stack.jwt_expiry,
        "expires_at": now + stack.jwt_expiry,
        "refresh_token": refresh,
        "user": user_json(user),
    }


async def _user_by(conn: Conn, column: str, value: object) -> asyncpg.Record | None:
    assert column in {"id", "email"}
    row: asyncpg.Record | None = await conn.fetchrow(
        f"select {USER_COLUMNS} from auth.users where {column} = $1 and deleted_at is null", value
    )
    return row


async def _create_user(
    stack: StackState, conn: Conn, email: object, password: object,
    metadata: object, confirmed: bool,
) -> asyncpg.Record:
    if not isinstance(email, str) or not EMAIL.match(email.strip()):
        raise AuthFailure(400, "validation_failed", "Unable to validate email address: invalid format")
    hashed = await _hash_password(stack, _validate_password(password))
    meta = metadata if isinstance(metadata, dict) else {}
    try:
        row: asyncpg.Record | None = await conn.fetchrow(
            f"insert into auth.users (email, encrypted_password, email_confirmed_at,"
            f" raw_app_meta_data, raw_user_meta_data)"
            f" values (lower($1), $2, case when $3 then now() end, $4::jsonb, $5::jsonb)"
            f" returning {USER_COLUMNS}",
            email.strip(), hashed, confirmed,
            json.dumps({"provider": "email", "providers": ["email"]}), json.dumps(meta),
        )
    except asyncpg.UniqueViolationError as exc:
        raise AuthFailure(422, "user_already_exists", "User already registered") from exc
    assert row is not None
    return row


async def signup(request: Request) -> Response:
    stack = stack_of(request)
    body = await _body(request)
    async with stack.db.admin.acquire() as conn, conn.transaction():
        user = await _create_user(
            stack, conn, body.get("email"), body.get("password"), body.get("data"), stack.auto_confirm
        )
        if not stack.auto_confirm:
            return JSONResponse(user_json(user))
        await conn.execute("update auth.users set last_sign_in_at = now() where id = $1", user["id"])
        return JSONResponse(await _issue_session(stack, conn, user))


async def token(request: Request) -> Response:
    grant = request.query_params.get("grant_type")
    if grant == "password":
        return await _password_grant(request)
    if grant == "refresh_token":
        return await _refresh_grant(request)
    raise AuthFailure(400, "validation_failed", f"Unsupported grant_type: {grant!r}")


async def _password_grant(request: Request) -> Response:
    stack = stack_of(request)
    body = await _body(request)
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        raise AuthFailure(400, "validation_failed", "An email address and a password are required")
    async with stack.db.admin.acquire() as conn, conn.transaction():
        user = await _user_by(conn, "email", email.strip().lower())
        if user is None or not await _check_password(password, user["encrypted_password"]):
            raise AuthFailure(400, "invalid_credentials", "Invalid login credentials")
        if user["email_confirmed_at"] is None:
            raise AuthFailure(400, "email_not_confirmed", "Email not confirmed")
        await conn.execute("update auth.users set last_sign_in_at = now() where id = $1", user["id"])
        return JSONResponse(await _issue_session(stack, conn, user))


async def _refresh_grant(request: Request) -> Response:
    stack = stack_of(request)
    body = await _body(request)
    presented = body.get("refresh_token")
    if not isinstance(presented, str) or not presented:
        raise AuthFailure(400, "validation_failed", "refresh_token required")
    async with stack.db.admin.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "select id, user_id, session_id, revoked from auth.refresh_tokens where token = $1 for update",
            _hash_token(presented),
        )
        if row is None:
            raise AuthFailure(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
        if row["revoked"]:
            # Reuse of a rotated token means it leaked: end the whole session family.
            # Returned, not raised, so the deletion commits.
            await conn.execute("delete from auth.sessions where id = $1", row["session_id"])
            return auth_error(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used")
        await conn.execute("update auth.refresh_tokens set revoked = true, updated_at = now() where id = $1", row["id"])
        await conn.execute("update auth.sessions set updated_at = now() where id = $1", row["session_id"])
        user = await _user_by(conn, "id", row["user_id"])
        if user is None:
            raise AuthFailure(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
        return JSONResponse(await _issue_session(stack, conn, user, row["session_id"], _hash_token(presented)))


def _bearer_claims(request: Request) -> dict[str, Any]:
    """Verified claims of the JWT in Authorization (a user's or the service key), with GoTrue's errors."""
    token_ = bearer_token(request)
    if token_ is None:
        raise AuthFailure(401, "no_authorization", "This endpoint requires a Bearer token")
    try:
        return verify(token_, stack_of(request).keys.secret)
    except TokenExpired as exc:
        raise AuthFailure(403, "bad_jwt", "invalid JWT: unable to parse or verify signature, token is expired") from exc
    except TokenInvalid as exc:
        raise AuthFailure(403, "bad_jwt", "invalid JWT: unable to parse or verify signature") from exc


def _user_claims(request: Request) -> dict[str, Any]:
    """Claims of a user JWT: as _bearer_claims, and it must name a user."""
    claims = _bearer_claims(request)
    if not claims.get("sub"):
        raise AuthFailure(403, "bad_jwt", "invalid claim: missing sub claim")
    return claims


async def _session_user(conn: Conn, claims: dict[str, Any]) -> asyncpg.Record:
    try:
        user_id = uuid.UUID(str(claims["sub"]))
        session_id = uuid.UUID(str(claims.get("session_id")))
    except ValueError as exc:
        raise AuthFailure(403, "bad_jwt", "invalid claim: malformed sub or session_id") from exc
    exists = await conn.fetchval(
        "select 1 from auth.sessions where id = $1 and user_id = $2", session_id, user_id
    )
    if not exists:
        raise AuthFailure(403, "session_not_found", "Session from session_id claim in JWT does not exist")
    user = await _user_by(conn, "id", user_id)
    if user is None:
        raise AuthFailure(403, "user_not_found", "User from sub claim in JWT does not exist")
    return user


async def get_user(request: Request) -> Response:
    claims = _user_claims(request)
    async with stack_of(request).db.admin.acquire() as conn:
        return JSONResponse(user_json(await _session_user(conn, claims)))


async def update_user(request: Request) -> Response:
    stack = stack_of(request)
    claims = _user_claims(request)
    body = await _body(request)
    async with stack.db.admin.acquire() as conn, conn.transaction():
        user = await _session_user(conn, claims)
        if "password" in body and body["password"] is not None:
            hashed = await _hash_password(stack, _validate_password(body["password"]))
            await conn.execute("update auth.users set encrypted_password = $2 where id = $1", user["id"], hashed)
        if isinstance(body.get("data"), dict):
            await conn.execute(
                "update auth.users set raw_user_meta_data = raw_user_meta_data || $2::jsonb where id = $1",
                user["id"], json.dumps(body["data"]),
            )
        if isinstance(body.get("email"), str):
            if not EMAIL.match(body["email"].strip()):
                raise AuthFailure(400, "validation_failed", "Unable to validate email address: invalid format")
            try:
                await conn.execute("update auth.users set email = lower($2) where id = $1", user["id"], body["email"])
            except asyncpg.UniqueViolationError as exc:
                raise AuthFailure(
                    422, "email_exists", "A user with this email address has already been registered"
                ) from exc
        await conn.execute("update auth.users set updated_at = now() where id = $1", user["id"])
        updated = await _user_by(conn, "id", user["id"])
        assert updated is not None
        return JSONResponse(user_json(updated))


async def logout(request: Request) -> Response:
    claims = _user_claims(request)
    scope = request.query_params.get("scope", "global")
    if scope not in {"global", "local", "others"}:
        raise AuthFailure(400, "validation_failed", "scope must be global, local or others")
    async with stack_of(request).db.admin.acquire() as conn, conn.transaction():
        user = await _session_user(conn, claims)
        session_id = uuid.UUID(str(claims["session_id"]))
        if scope == "local":
            await conn.execute("delete from auth.sessions where id = $1", session_id)
        elif scope == "global":
            await conn.execute("delete from auth.sessions where user_id = $1", user["id"])
        else:
            await conn.execute("delete from auth.sessions where user_id = $1 and id <> $2", user["id"], session_id)
    return Response(status_code=204)


def _require_service_role(request: Request) -> None:
    claims = _bearer_claims(request)
    if claims.get("role") != "service_role":
        raise AuthFailure(403, "not_admin", "User not allowed")


async def admin_users(request: Request) -> Response:
    _require_service_role(request)
    stack = stack_of(request)
    async with stack.db.admin.acquire() as conn, conn.transaction():
        if request.method == "POST":
            body = await _body(request)
            user = await _create_user(
                stack, conn, body.get("email"), body.get("password"), body.get("user_metadata"),
                bool(body.get("email_confirm", False)) or stack.auto_confirm,
            )
            return JSONResponse(user_json(user))
        rows = await conn.fetch(f"select {USER_COLUMNS} from auth.users where deleted_at is null order by created_at")
        return JSONResponse({"users": [user_json(r) for r in rows], "aud": "authenticated"})


async def admin_user(request: Request) -> Response:
    _require_service_role(request)
    try:
        user_id = uuid.UUID(request.path_params["user_id"])
    except ValueError as exc:
        raise AuthFailure(404, "user_not_found", "User not found") from exc
    async with stack_of(request).db.admin.acquire() as conn, conn.transaction():
        user = await _user_by(conn, "id", user_id)
        if user is None:
            raise AuthFailure(404, "user_not_found", "User not found")
        if request.method == "DELETE":
            await conn.execute("delete from auth.users where id = $1", user_id)
        return JSONResponse(user_json(user))


async def settings(request: Request) -> Response:
    stack = stack_of(request)
    return JSONResponse({
        "external": {"email": True, "phone": False},
        "disable_signup": False,
        "mailer_autoconfirm": stack.auto_confirm,
        "phone_autoconfirm": False,
    })


def _guarded(handler: Any) -> Any:
    """The API key itself is the gateway's business (gateway.key_auth, before any route)."""
    async def endpoint(request: Request) -> Response:
        try:
            response: Response = await handler(request)
            return response
        except AuthFailure as failure:
            return failure.response
    return endpoint


def routes() -> list[BaseRoute]:
    return [
        Route("/signup", _guarded(signup), methods=["POST"]),
        Route("/token", _guarded(token), methods=["POST"]),
        Route("/user", _guarded(get_user), methods=["GET"]),
        Route("/user", _guarded(update_user), methods=["PUT"]),
        Route("/logout", _guarded(logout), methods=["POST"]),
        Route("/settings", _guarded(settings), methods=["GET"]),
        Route("/admin/users", _guarded(admin_users), methods=["GET", "POST"]),
        Route("/admin/users/{user_id}", _guarded(admin_user), methods=["GET", "DELETE"]),
    ]
