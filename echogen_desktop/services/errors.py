"""One error type for everything the service layer can fail with, in words a user can act on.

supabase-py raises a different exception per sub-client (and postgrest's carries no HTTP
status); views only ever see ServiceError, whose message never contains a token or a key.
"""

from __future__ import annotations

import enum

import httpx
from postgrest.exceptions import APIError
from storage3.exceptions import StorageApiError
from supabase_auth.errors import AuthApiError, AuthError, AuthRetryableError, AuthWeakPasswordError


class ErrorKind(enum.Enum):
    INVALID_CREDENTIALS = "invalid_credentials"
    EMAIL_NOT_CONFIRMED = "email_not_confirmed"
    WEAK_PASSWORD = "weak_password"
    USER_EXISTS = "user_exists"
    INVALID_INPUT = "invalid_input"
    UNREACHABLE = "unreachable"
    SESSION_EXPIRED = "session_expired"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    MIGRATIONS_MISSING = "migrations_missing"  # the project's database lacks EchoGen's schema
    SERVER = "server"


# What Supabase's API gateway answers to a key that is not the project's (Auth and PostgREST alike).
GATEWAY_INVALID_KEY = "Invalid API key"
REFUSED_KEY = "The server refused this anon key."


class ServiceError(Exception):
    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


_AUTH_CODES: dict[str, tuple[ErrorKind, str]] = {
    "invalid_credentials": (ErrorKind.INVALID_CREDENTIALS, "The email address or password is wrong."),
    "email_not_confirmed": (
        ErrorKind.EMAIL_NOT_CONFIRMED, "This email address is not confirmed yet. Check your inbox for the link."
    ),
    "user_already_exists": (ErrorKind.USER_EXISTS, "An account with this email address already exists. Sign in."),
    "email_exists": (ErrorKind.USER_EXISTS, "An account with this email address already exists."),
    "validation_failed": (ErrorKind.INVALID_INPUT, "Check the email address and password."),
    "refresh_token_not_found": (ErrorKind.SESSION_EXPIRED, "Your session has ended. Please sign in again."),
    "refresh_token_already_used": (ErrorKind.SESSION_EXPIRED, "Your session has ended. Please sign in again."),
    "session_not_found": (ErrorKind.SESSION_EXPIRED, "Your session has ended. Please sign in again."),
    "bad_jwt": (ErrorKind.SESSION_EXPIRED, "Your session has ended. Please sign in again."),
    "over_request_rate_limit": (ErrorKind.SERVER, "Too many attempts. Wait a minute and try again."),
}

_REST_CODES: dict[str, tuple[ErrorKind, str]] = {
    "PGRST301": (ErrorKind.SESSION_EXPIRED, "Your session is not valid any more. Please sign in again."),
    "PGRST303": (ErrorKind.SESSION_EXPIRED, "Your session has expired. Please sign in again."),
    "PGRST116": (ErrorKind.NOT_FOUND, "That item no longer exists."),
    "PGRST205": (
        ErrorKind.MIGRATIONS_MISSING, "The server's database is missing a table: apply the EchoGen migrations."
    ),
    "42P01": (
        ErrorKind.MIGRATIONS_MISSING, "The server's database is missing a table: apply the EchoGen migrations."
    ),
    "42501": (ErrorKind.FORBIDDEN, "You are not allowed to do that."),
    "23505": (ErrorKind.CONFLICT, "An item like this already exists."),
    "23503": (ErrorKind.CONFLICT, "This item is still referenced by another one."),
    "23514": (ErrorKind.INVALID_INPUT, "The server refused a value that is out of range."),
    "22P02": (ErrorKind.INVALID_INPUT, "The server refused a value in the wrong format."),
}


def from_exception(exc: BaseException) -> ServiceError:
    """Translate any client-library exception into a ServiceError."""
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, AuthWeakPasswordError):
        return ServiceError(ErrorKind.WEAK_PASSWORD, f"The password is too weak: {exc.message}")
    if isinstance(exc, AuthRetryableError | httpx.TransportError):
        return ServiceError(ErrorKind.UNREACHABLE, "The server cannot be reached. Check the connection and the URL.")
    if isinstance(exc, AuthError | APIError) and getattr(exc, "message", None) == GATEWAY_INVALID_KEY:
        return ServiceError(ErrorKind.INVALID_INPUT, REFUSED_KEY)
    if isinstance(exc, AuthApiError) and exc.code in _AUTH_CODES:
        kind, message = _AUTH_CODES[exc.code]
        return ServiceError(kind, message)
    if isinstance(exc, AuthError):
        return ServiceError(ErrorKind.SERVER, f"Sign-in failed: {exc.message}")
    if isinstance(exc, APIError):
        code = str(exc.code or "")
        if code in _REST_CODES:
            kind, message = _REST_CODES[code]
            return ServiceError(kind, message)
        return ServiceError(ErrorKind.SERVER, f"The server refused the request ({code}): {exc.message}")
    if isinstance(exc, StorageApiError):
        status = str(exc.status)
        if status == "404":
            return ServiceError(ErrorKind.NOT_FOUND, "The file is not in storage any more.")
        if status == "403":
            return ServiceError(ErrorKind.FORBIDDEN, "You are not allowed to access that file.")
        if status == "413":
            return ServiceError(ErrorKind.INVALID_INPUT, "The file is larger than the server accepts.")
        return ServiceError(ErrorKind.SERVER, f"Storage refused the request: {exc.message}")
    if isinstance(exc, httpx.HTTPStatusError):
        return ServiceError(ErrorKind.SERVER, f"The server answered {exc.response.status_code}.")
    return ServiceError(ErrorKind.SERVER, f"Unexpected error: {type(exc).__name__}")
