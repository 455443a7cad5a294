"""Error responses in each API's own wire shape (see shared/specs/supabase-protocol.md)."""

from __future__ import annotations

from starlette.responses import JSONResponse


def auth_error(status: int, code: str, message: str, **extra: object) -> JSONResponse:
    """GoTrue with ``X-Supabase-Api-Version: 2024-01-01``: ``{code, message}``."""
    body: dict[str, object] = {"code": code, "message": message, **extra}
    return JSONResponse(body, status_code=status, headers={"X-Supabase-Api-Version": "2024-01-01"})


def rest_error(
    status: int, code: str, message: str, details: str | None = None, hint: str | None = None
) -> JSONResponse:
    """PostgREST: ``{code, message, details, hint}`` with the code a string."""
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return JSONResponse(
        {"code": code, "message": message, "details": details, "hint": hint},
        status_code=status,
        headers=headers,
    )


def storage_error(status: int, error: str, message: str, *, code: str | None = None) -> JSONResponse:
    """storage-api: HTTP 400 for every non-500 error, the real status in the body."""
    http_status = 500 if status >= 500 else 400
    body = {"statusCode": str(status), "error": error, "message": message}
    if code is not None:
        body["code"] = code
    return JSONResponse(body, status_code=http_status)


def gateway_error(status: int, message: str, hint: str | None = None) -> JSONResponse:
    """The API gateway's own refusals (missing or unknown API key)."""
    body = {"message": message} if hint is None else {"message": message, "hint": hint}
    return JSONResponse(body, status_code=status)
