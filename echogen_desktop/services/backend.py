"""The one service interface between the app and Supabase.

It owns the supabase-py AsyncClient and the single shared httpx client, runs on the qasync
loop, returns typed records and raises only ServiceError. Nothing above it touches HTTP.
"""

from __future__ import annotations

import logging
import secrets
import string
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

import httpx
from postgrest._async.request_builder import AsyncRequestBuilder
from postgrest.types import CountMethod
from realtime import AsyncRealtimeClient
from storage3._async.file_api import AsyncBucketProxy
from supabase import AsyncClient, AsyncClientOptions, acreate_client
from supabase_auth.types import Session

from echogen_desktop.i18n import QT_TRANSLATE_NOOP
from echogen_desktop.services import project_check
from echogen_desktop.services.errors import ErrorKind, ServiceError, from_exception
from echogen_desktop.services.records import (
    ContentItem,
    Job,
    JobStatus,
    Page,
    Podcast,
    Profile,
    Script,
    Segment,
    UsageEvent,
)
from echogen_desktop.services.tables import TableSpec

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

JOB_ID_ALPHABET = string.ascii_lowercase + string.digits
TRANSCRIPTS_BUCKET = "transcripts"
AUDIO_BUCKET = "podcast-audio"
COVER_BUCKET = "cover-art"
AVATAR_BUCKET = COVER_BUCKET  # avatars live in the user's own cover-art folder: {user_id}/avatar/{filename}


@dataclass(frozen=True)
class PageQuery:
    offset: int = 0
    limit: int = 100
    order_column: str | None = None
    descending: bool = True
    search: str = ""
    filters: tuple[tuple[str, str], ...] = ()  # (column, exact value)
    with_count: bool = True


@dataclass(frozen=True)
class SignedIn:
    user_id: str
    email: str
    refresh_token: str = field(repr=False)  # a secret: never in a log line or a traceback


SessionListener = Callable[[SignedIn | None], None]
ChangeCursor = tuple[datetime, str]  # (updated_at, id) of a row: the change feed's keyset position


def new_job_id(job_type: str) -> str:
    """Upstream's id shape: ``{job_type}_{12 random [a-z0-9]}``."""
    return f"{job_type}_{''.join(secrets.choice(JOB_ID_ALPHABET) for _ in range(12))}"


def quote_filter_value(value: str) -> str:
    """Double-quote a value for PostgREST's or=(...) syntax, escaping quotes and backslashes."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pg_time(at: datetime) -> str:
    """A timestamptz literal at Postgres' (microsecond) precision, in UTC."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _row(value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ServiceError(ErrorKind.SERVER, QT_TRANSLATE_NOOP(
            "ServiceError", "The server sent a row in an unexpected shape."))
    return value


def _first(data: object) -> Mapping[str, Any]:
    if not isinstance(data, list) or not data:
        raise ServiceError(ErrorKind.NOT_FOUND, QT_TRANSLATE_NOOP("ServiceError", "That item no longer exists."))
    return _row(data[0])


def _wraps_errors(func: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await func(*args, **kwargs)
        except ServiceError:
            raise
        except Exception as exc:
            error = from_exception(exc)
            log.warning("%s failed: %s (%s)", func.__name__, error.message, type(exc).__name__)
            raise error from exc

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


class Backend:
    """Async access to one Supabase project, for one signed-in user at a time."""

    def __init__(self, client: AsyncClient, http: httpx.AsyncClient, url: str) -> None:
        self._client = client
        self._http = http
        self.url = url
        self._listeners: list[SessionListener] = []
        self._user: SignedIn | None = None
        self.session_expires_at: int | None = None  # epoch seconds of the access token's expiry
        client.auth.on_auth_state_change(self._on_auth_event)

    @classmethod
    async def connect(cls, url: str, anon_key: str, *, request_timeout: float = 20.0) -> Backend:
        http = httpx.AsyncClient(timeout=request_timeout)
        options = AsyncClientOptions(
            auto_refresh_token=True, persist_session=False, httpx_client=http,
            postgrest_client_timeout=int(request_timeout), storage_client_timeout=int(request_timeout),
        )
        try:
            client = await acreate_client(url, anon_key, options=options)
        except Exception as exc:
            await http.aclose()
            raise ServiceError(ErrorKind.INVALID_INPUT, QT_TRANSLATE_NOOP(
                "ServiceError", "Cannot use this project URL or key: %1"), str(exc)) from exc
        return cls(client, http, url)

    async def close(self) -> None:
        try:
            await self._client.realtime.close()  # its listen/heartbeat tasks would outlive us
        except Exception:  # never connected, or already closed
            log.debug("realtime socket was not open")
        await self._http.aclose()

    @staticmethod
    async def check_connection(url: str, anon_key: str, *, timeout: float = 8.0) -> None:
        """Does this URL answer like a Supabase project that takes this key (before connecting)?"""
        await project_check.check_connection(url, anon_key, timeout=timeout)

    @staticmethod
    async def check_project(url: str, anon_key: str, *, timeout: float = 8.0) -> None:
        """``check_connection``, then whether the database has EchoGen's schema (``MigrationsMissing``)."""
        await project_check.check_project(url, anon_key, timeout=timeout)

    async def check_startup(self, *, timeout: float = 8.0) -> None:
        """``check_project`` over the shared client, whose connections the session then reuses."""
        await project_check.check_project(self.url, self._client.supabase_key, timeout=timeout, http=self._http)

    # ----------------------------------------------------------------- auth
    @property
    def user(self) -> SignedIn | None:
        return self._user

    def add_session_listener(self, listener: SessionListener) -> None:
        """Called with the new refresh token after every sign-in and refresh, None after sign-out."""
        self._listeners.append(listener)

    def _on_auth_event(self, event: str, session: Session | None) -> None:
        if event == "SIGNED_OUT" or session is None:
            self._user = None
            self.session_expires_at = None
        else:
            self._user = SignedIn(session.user.id, session.user.email or "", session.refresh_token)
            self.session_expires_at = session.expires_at
        for listener in list(self._listeners):
            listener(self._user)

    def table(self, name: str) -> AsyncRequestBuilder:
        """A query builder on one table, for services layered on the Backend (the key vault)."""
        return self._client.table(name)

    def bucket(self, name: str) -> AsyncBucketProxy:
        """Storage file API of one bucket, for services layered on the Backend (transcript uploads)."""
        return self._client.storage.from_(name)

    @property
    def http(self) -> httpx.AsyncClient:
        """The shared httpx client, for requests supabase-py cannot stream (large uploads)."""
        return self._http

    async def auth_headers(self) -> dict[str, str]:
        """The apikey and the signed-in user's bearer token (refreshed first when it has expired)."""
        session = await self._client.auth.get_session()
        if session is None:
            raise ServiceError(ErrorKind.SESSION_EXPIRED, QT_TRANSLATE_NOOP(
                "ServiceError", "You are signed out. Please sign in."))
        return {"apikey": self._client.supabase_key, "Authorization": f"Bearer {session.access_token}"}

    def _require_user(self) -> SignedIn:
        if self._user is None:
            raise ServiceError(ErrorKind.SESSION_EXPIRED, QT_TRANSLATE_NOOP(
                "ServiceError", "You are signed out. Please sign in."))
        return self._user

    @_wraps_errors
    async def sign_in(self, email: str, password: str) -> SignedIn:
        await self._client.auth.sign_in_with_password({"email": email.strip(), "password": password})
        return self._require_user()

    @_wraps_errors
    async def sign_up(self, email: str, password: str, full_name: str = "") -> SignedIn | None:
        """Returns None when the project asks the user to confirm the address first."""
        response = await self._client.auth.sign_up(
            {"email": email.strip(), "password": password, "options": {"data": {"full_name": full_name}}}
        )
        return self._user if response.session else None

    @_wraps_errors
    async def restore(self, refresh_token: str) -> SignedIn:
        """Resume a session from a stored refresh token (rotates it)."""
        await self._client.auth.refresh_session(refresh_token)
        return self._require_user()

    @_wraps_errors
    async def sign_out(self) -> None:
        # Local scope: signing out here must not sign the user out on other devices.
        await self._client.auth.sign_out({"scope": "local"})

    @_wraps_errors
    async def record_sign_in(self, device: dict[str, Any]) -> None:
        user = self._require_user()
        await self._client.table("user_sessions").insert({"user_id": user.user_id, "device": device}).execute()

    # ---------------------------------------------------------------- lists
    @_wraps_errors
    async def fetch_page(self, spec: TableSpec, query: PageQuery) -> Page:
        request = self._client.table(spec.table).select(
            spec.select, count=CountMethod.exact if query.with_count else None
        )
        for column, value in query.filters:
            request = request.eq(column, value)
        term = query.search.strip()
        if term:
            pattern = quote_filter_value(f"*{term}*")
            request = request.or_(",".join(f"{col}.ilike.{pattern}" for col in spec.search_columns))
        column = query.order_column if query.order_column in spec.sortable else spec.default_order
        request = request.order(column, desc=query.descending, nullsfirst=False)
        if column != "id":
            request = request.order("id", desc=query.descending)
        response = await request.range(query.offset, query.offset + query.limit - 1).execute()
        return Page(tuple(spec.parse(_row(row)) for row in response.data), query.offset, response.count)

    # --------------------------------------------------------------- detail
    @_wraps_errors
    async def get_content(self, content_id: str) -> ContentItem:
        response = await self._client.table("scraped_content").select("*").eq("id", content_id).single().execute()
        return ContentItem.from_row(_row(response.data))

    @_wraps_errors
    async def get_script(self, script_id: str) -> Script:
        response = await self._client.table("podcast_scripts").select("*").eq("id", script_id).single().execute()
        return Script.from_row(_row(response.data))

    @_wraps_errors
    async def get_job(self, job_id: str) -> Job:
        response = await self._client.table("processing_jobs").select("*").eq("id", job_id).single().execute()
        return Job.from_row(_row(response.data))

    @_wraps_errors
    async def get_podcast(self, podcast_id: str) -> Podcast:
        response = await self._client.table("generated_podcasts").select("*").eq("id", podcast_id).single().execute()
        return Podcast.from_row(_row(response.data))

    @_wraps_errors
    async def get_profile(self) -> Profile:
        user = self._require_user()
        response = await self._client.table("profiles").select("*").eq("id", user.user_id).single().execute()
        return Profile.from_row(_row(response.data))

    # -------------------------------------------------------------- actions
    @_wraps_errors
    async def create_job(self, job_type: str, payload: dict[str, Any]) -> Job:
        user = self._require_user()
        row = {"id": new_job_id(job_type), "user_id": user.user_id, "job_type": job_type,
               "status": JobStatus.QUEUED.value, "payload": payload}
        response = await self._client.table("processing_jobs").insert(row).execute()
        return Job.from_row(_first(response.data))

    @_wraps_errors
    async def cancel_job(self, job_id: str) -> Job:
        response = await self._client.table("processing_jobs").update({"status": JobStatus.CANCELLED.value}).eq(
            "id", job_id
        ).in_("status", [JobStatus.QUEUED.value, JobStatus.RUNNING.value]).execute()
        if not response.data:
            raise ServiceError(ErrorKind.CONFLICT, QT_TRANSLATE_NOOP(
                "ServiceError", "Only a queued or running job can be cancelled."))
        return Job.from_row(_first(response.data))

    async def retry_job(self, job: Job) -> Job:
        """A failed job is retried as a new job with the same payload; the old one stays as history."""
        if job.status is not JobStatus.FAILED:
            raise ServiceError(ErrorKind.CONFLICT, QT_TRANSLATE_NOOP(
                "ServiceError", "Only a failed job can be retried."))
        return await self.create_job(job.job_type, job.payload)

    @_wraps_errors
    async def save_segments(self, script_id: str, segments: Sequence[Segment]) -> Script:
        response = await self._client.table("podcast_scripts").update(
            {"segments": [s.to_json() for s in segments]}
        ).eq("id", script_id).execute()
        if not response.data:
            raise ServiceError(ErrorKind.NOT_FOUND, QT_TRANSLATE_NOOP("ServiceError", "That script no longer exists."))
        return Script.from_row(_first(response.data))

    @_wraps_errors
    async def delete_content(self, item: ContentItem) -> None:
        """Delete the row, then its stored transcript (an orphan object is cheaper than a lost row)."""
        await self._client.table("scraped_content").delete().eq("id", item.id).execute()
        paths = await self._transcript_objects(item)
        if paths:
            await self._client.storage.from_(TRANSCRIPTS_BUCKET).remove(sorted(paths))

    async def _transcript_objects(self, item: ContentItem) -> set[str]:
        """The row's stored transcripts: named in metadata or by a ``storage://transcripts/`` URL, and
        whatever lies in its documented folder ``{user_id}/{content_id}/``."""
        paths: set[str] = set()
        named = item.metadata.get("transcript_path")
        if isinstance(named, str) and named:
            paths.add(named)
        prefix = f"storage://{TRANSCRIPTS_BUCKET}/"
        if item.url.startswith(prefix):
            paths.add(item.url[len(prefix):])
        if self._user is not None:
            folder = f"{self._user.user_id}/{item.id}"
            listed = await self._client.storage.from_(TRANSCRIPTS_BUCKET).list(folder)
            paths.update(f"{folder}/{entry['name']}" for entry in listed if entry.get("id"))
        return paths

    @_wraps_errors
    async def delete_script(self, script_id: str) -> None:
        podcasts = await self._client.table("generated_podcasts").select("id,audio_path,cover_art_path").eq(
            "script_id", script_id
        ).execute()
        await self._client.table("podcast_scripts").delete().eq("id", script_id).execute()
        for row in podcasts.data:
            await self._remove_podcast_objects(Podcast.from_row({**_row(row), "created_at": "1970-01-01T00:00:00Z"}))

    @_wraps_errors
    async def delete_podcast(self, podcast: Podcast) -> None:
        await self._client.table("generated_podcasts").delete().eq("id", podcast.id).execute()
        await self._remove_podcast_objects(podcast)

    @_wraps_errors
    async def update_podcast_metadata(
        self, podcast_id: str, change: Callable[[dict[str, Any]], dict[str, Any]], *, attempts: int = 5
    ) -> Podcast:
        """Read-modify-write of ``generated_podcasts.metadata`` with optimistic concurrency.

        ``change`` gets the row's current metadata and returns the new one (e.g. notes merged by id).
        The write only lands while ``updated_at`` is still what was read; on a conflict the row is
        read again and ``change`` re-applied, so a concurrent writer's edit is never overwritten.
        """
        table = "generated_podcasts"
        for _ in range(max(1, attempts)):
            response = await self._client.table(table).select("*").eq("id", podcast_id).execute()
            current = Podcast.from_row(_first(response.data))
            metadata = change(dict(current.metadata))
            if metadata == current.metadata:
                return current
            request = self._client.table(table).update({"metadata": metadata}).eq("id", podcast_id)
            if current.updated_at is not None:
                request = request.eq("updated_at", pg_time(current.updated_at))
            written = await request.execute()
            if written.data:
                return Podcast.from_row(_first(written.data))
        raise ServiceError(ErrorKind.CONFLICT, QT_TRANSLATE_NOOP(
            "ServiceError", "The episode kept changing on the server. Try again in a moment."))

    async def _remove_podcast_objects(self, podcast: Podcast) -> None:
        await self._client.storage.from_(AUDIO_BUCKET).remove([podcast.audio_path])
        if podcast.cover_art_path:
            await self._client.storage.from_(COVER_BUCKET).remove([podcast.cover_art_path])

    # -------------------------------------------------------------- storage
    @_wraps_errors
    async def signed_url(self, bucket: str, path: str, expires_in: int) -> str:
        response = await self._client.storage.from_(bucket).create_signed_url(path, max(1, int(expires_in)))
        url = response.get("signedURL")
        if not isinstance(url, str):
            raise ServiceError(ErrorKind.SERVER, QT_TRANSLATE_NOOP(
                "ServiceError", "Storage did not return a signed URL."))
        return url

    @_wraps_errors
    async def download(self, bucket: str, path: str) -> bytes:
        data: bytes = await self._client.storage.from_(bucket).download(path)
        return data

    def object_path(self, row_id: str | uuid.UUID, filename: str) -> str:
        """The documented naming convention: ``{user_id}/{row_id}/{filename}``."""
        return f"{self._require_user().user_id}/{row_id}/{filename}"

    @_wraps_errors
    async def download_signed(self, bucket: str, path: str, expires_in: int = 60) -> bytes:
        """Fetch an object through a short-lived signed URL over the shared httpx client."""
        url = await self.signed_url(bucket, path, expires_in)
        response = await self._http.get(url)
        response.raise_for_status()
        return response.content

    # -------------------------------------------------------------- profile
    @_wraps_errors
    async def update_profile(self, full_name: str) -> Profile:
        user = self._require_user()
        response = await self._client.table("profiles").update({"full_name": full_name.strip()}).eq(
            "id", user.user_id
        ).execute()
        return Profile.from_row(_first(response.data))

    @_wraps_errors
    async def upload_avatar(self, filename: str, data: bytes, content_type: str) -> Profile:
        """Store the picture at ``{user_id}/avatar/{filename}`` in cover-art; the profile keeps that name."""
        user = self._require_user()
        path = f"{user.user_id}/avatar/{filename}"
        await self._client.storage.from_(AVATAR_BUCKET).upload(
            path, data, {"content-type": content_type, "upsert": "true"}
        )
        response = await self._client.table("profiles").update({"avatar_url": path}).eq("id", user.user_id).execute()
        return Profile.from_row(_first(response.data))

    @_wraps_errors
    async def usage_events(self, limit: int = 5000) -> list[UsageEvent]:
        """The user's own usage events, oldest first (costs are summed client-side for the chart)."""
        response = await self._client.table("usage_events").select(
            "id,provider,event_type,cost_usd,created_at"
        ).order("created_at").limit(limit).execute()
        return [UsageEvent.from_row(_row(row)) for row in response.data]

    # ---------------------------------------------------------- change feed
    @property
    def realtime(self) -> AsyncRealtimeClient:
        """The client's realtime socket; supabase-py keeps its access token current on every auth event."""
        return self._client.realtime

    @_wraps_errors
    async def fetch_changed_since(self, spec: TableSpec, after: ChangeCursor | None, limit: int) -> list[Any]:
        """Rows of the list changed after ``after`` in (updated_at, id) order, at most ``limit``.

        An empty id in ``after`` means "at or after that time" (a rewind window, not a keyset).
        """
        request = self._client.table(spec.table).select(spec.select)
        if after is not None:
            at = quote_filter_value(pg_time(after[0]))
            if after[1]:
                request = request.or_(
                    f"updated_at.gt.{at},and(updated_at.eq.{at},id.gt.{quote_filter_value(after[1])})"
                )
            else:
                request = request.gte("updated_at", pg_time(after[0]))
        response = await request.order("updated_at").order("id").limit(limit).execute()
        return [spec.parse(_row(row)) for row in response.data]

    @_wraps_errors
    async def latest_change(self, spec: TableSpec) -> ChangeCursor | None:
        """The newest (updated_at, id) of the caller's rows, None for an empty list."""
        response = await self._client.table(spec.table).select("id,updated_at").order(
            "updated_at", desc=True
        ).order("id", desc=True).limit(1).execute()
        if not response.data:
            return None
        row = _row(response.data[0])
        return datetime.fromisoformat(str(row["updated_at"]).replace("Z", "+00:00")), str(row["id"])

    @_wraps_errors
    async def existing_ids(self, spec: TableSpec, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` still exist (and are visible to the caller)."""
        if not ids:
            return set()
        response = await self._client.table(spec.table).select("id").in_("id", list(ids)).execute()
        return {str(_row(row)["id"]) for row in response.data}
