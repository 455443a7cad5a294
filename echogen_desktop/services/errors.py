"""One error type for everything the service layer can fail with, in words a user can act on.

supabase-py raises a different exception per sub-client (and postgrest's carries no HTTP
status); views only ever see ServiceError, whose message never contains a token or a key.
Messages are English templates marked for translation in context "ServiceError" (``%1``… for the
parts filled in); ``message`` translates when read, so the service layer needs no translator.
"""

from __future__ import annotations

import enum
import re

import httpx
from postgrest.exceptions import APIError
from storage3.exceptions import StorageApiError
from supabase_auth.errors import AuthApiError, AuthError, AuthRetryableError, AuthWeakPasswordError

from echogen_desktop.i18n import QT_TRANSLATE_NOOP, translate


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
REFUSED_KEY = QT_TRANSLATE_NOOP("ServiceError", "The server refused this anon key.")


def _fill(text: str, parts: tuple[str, ...]) -> str:
    """%1, %2… replaced in one pass (a part that itself holds "%2" stays as it is)."""
    def part(match: re.Match[str]) -> str:
        number = int(match.group(1))
        return parts[number - 1] if 1 <= number <= len(parts) else match.group(0)

    return re.sub(r"%(\d)", part, text)


class ServiceError(Exception):
    """``message``: a template marked with QT_TRANSLATE_NOOP("ServiceError", ...); ``parts`` fill %1, %2…"""

    def __init__(self, kind: ErrorKind, message: str, *parts: str) -> None:
        super().__init__(_fill(message, parts))  # str(error), for logs, stays English
        self.kind = kind
        self.template = message
        self.parts = parts

    @property
    def message(self) -> str:
        """In the user's language where a translation is installed."""
        return _fill(translate("ServiceError", self.template), self.parts)


SESSION_ENDED = QT_TRANSLATE_NOOP("ServiceError", "Your session has ended. Please sign in again.")
MISSING_TABLE = QT_TRANSLATE_NOOP(
    "ServiceError", "The server's database is missing a table: apply the EchoGen migrations.")
UNREACHABLE = QT_TRANSLATE_NOOP("ServiceError", "The server cannot be reached. Check the connection and the URL.")
# The same, said by the checks of a URL and key before sign-in (the connection page).
PROJECT_UNREACHABLE = QT_TRANSLATE_NOOP("ServiceError", "The server cannot be reached. Check the URL and the network.")

_AUTH_CODES: dict[str, tuple[ErrorKind, str]] = {
    "invalid_credentials": (
        ErrorKind.INVALID_CREDENTIALS, QT_TRANSLATE_NOOP("ServiceError", "The email address or password is wrong.")),
    "email_not_confirmed": (ErrorKind.EMAIL_NOT_CONFIRMED, QT_TRANSLATE_NOOP(
        "ServiceError", "This email address is not confirmed yet. Check your inbox for the link.")),
    "user_already_exists": (ErrorKind.USER_EXISTS, QT_TRANSLATE_NOOP(
        "ServiceError", "An account with this email address already exists. Sign in.")),
    "email_exists": (ErrorKind.USER_EXISTS, QT_TRANSLATE_NOOP(
        "ServiceError", "An account with this email address already exists.")),
    "validation_failed": (
        ErrorKind.INVALID_INPUT, QT_TRANSLATE_NOOP("ServiceError", "Check the email address and password.")),
    "refresh_token_not_found": (ErrorKind.SESSION_EXPIRED, SESSION_ENDED),
    "refresh_token_already_used": (ErrorKind.SESSION_EXPIRED, SESSION_ENDED),
    "session_not_found": (ErrorKind.SESSION_EXPIRED, SESSION_ENDED),
    "bad_jwt": (ErrorKind.SESSION_EXPIRED, SESSION_ENDED),
    "over_request_rate_limit": (
        ErrorKind.SERVER, QT_TRANSLATE_NOOP("ServiceError", "Too many attempts. Wait a minute and try again.")),
}

_REST_CODES: dict[str, tuple[ErrorKind, str]] = {
    "PGRST301": (ErrorKind.SESSION_EXPIRED, QT_TRANSLATE_NOOP(
        "ServiceError", "Your session is not valid any more. Please sign in again.")),
    "PGRST303": (ErrorKind.SESSION_EXPIRED, QT_TRANSLATE_NOOP(
        "ServiceError", "Your session has expired. Please sign in again.")),
    "PGRST116": (ErrorKind.NOT_FOUND, QT_TRANSLATE_NOOP("ServiceError", "That item no longer exists.")),
    "PGRST205": (ErrorKind.MIGRATIONS_MISSING, MISSING_TABLE),
    "42P01": (ErrorKind.MIGRATIONS_MISSING, MISSING_TABLE),
    "42501": (ErrorKind.FORBIDDEN, QT_TRANSLATE_NOOP("ServiceError", "You are not allowed to do that.")),
    "23505": (ErrorKind.CONFLICT, QT_TRANSLATE_NOOP("ServiceError", "An item like this already exists.")),
    "23503": (ErrorKind.CONFLICT, QT_TRANSLATE_NOOP("ServiceError", "This item is still referenced by another one.")),
    "23514": (ErrorKind.INVALID_INPUT, QT_TRANSLATE_NOOP(
        "ServiceError", "The server refused a value that is out of range.")),
    "22P02": (ErrorKind.INVALID_INPUT, QT_TRANSLATE_NOOP(
        "ServiceError", "The server refused a value in the wrong format.")),
}


def from_exception(exc: BaseException) -> ServiceError:
    """Translate any client-library exception into a ServiceError."""
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, AuthWeakPasswordError):
        return ServiceError(ErrorKind.WEAK_PASSWORD, QT_TRANSLATE_NOOP("ServiceError", "The password is too weak: %1"),
                            str(exc.message))
    if isinstance(exc, AuthRetryableError | httpx.TransportError):
        return ServiceError(ErrorKind.UNREACHABLE, UNREACHABLE)
    if isinstance(exc, AuthError | APIError) and getattr(exc, "message", None) == GATEWAY_INVALID_KEY:
        return ServiceError(ErrorKind.INVALID_INPUT, REFUSED_KEY)
    if isinstance(exc, AuthApiError) and exc.code in _AUTH_CODES:
        kind, message = _AUTH_CODES[exc.code]
        return ServiceError(kind, message)
    if isinstance(exc, AuthError):
        return ServiceError(ErrorKind.SERVER, QT_TRANSLATE_NOOP("ServiceError", "Sign-in failed: %1"), str(exc.message))
    if isinstance(exc, APIError):
        code = str(exc.code or "")
        if code in _REST_CODES:
            kind, message = _REST_CODES[code]
            return ServiceError(kind, message)
        refused = QT_TRANSLATE_NOOP("ServiceError", "The server refused the request (%1): %2")
        return ServiceError(ErrorKind.SERVER, refused, code, str(exc.message))
    if isinstance(exc, StorageApiError):
        status = str(exc.status)
        if status == "404":
            return ServiceError(ErrorKind.NOT_FOUND, QT_TRANSLATE_NOOP(
                "ServiceError", "The file is not in storage any more."))
        if status == "403":
            return ServiceError(ErrorKind.FORBIDDEN, QT_TRANSLATE_NOOP(
                "ServiceError", "You are not allowed to access that file."))
        if status == "413":
            return ServiceError(ErrorKind.INVALID_INPUT, QT_TRANSLATE_NOOP(
                "ServiceError", "The file is larger than the server accepts."))
        return ServiceError(ErrorKind.SERVER, QT_TRANSLATE_NOOP("ServiceError", "Storage refused the request: %1"),
                            str(exc.message))
    if isinstance(exc, httpx.HTTPStatusError):
        return ServiceError(ErrorKind.SERVER, QT_TRANSLATE_NOOP("ServiceError", "The server answered %1."),
                            str(exc.response.status_code))
    return ServiceError(ErrorKind.SERVER, QT_TRANSLATE_NOOP("ServiceError", "Unexpected error: %1"), type(exc).__name__)
