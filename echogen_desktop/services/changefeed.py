"""The app's change feed: server-side row changes as typed ``Change`` events, behind one interface.

Two implementations, both pure asyncio (no Qt), both reading as the signed-in user so RLS
decides what arrives:

``PollingChangeFeed``
    Every ``interval`` seconds (default 2 s), one request per subscribed table: the list's
    columns (``TableSpec.select``) of rows with ``(updated_at, id)`` after the last one seen,
    oldest first, at most ``batch`` rows, so a burst is worked off over several polls. The
    position is a keyset on ``(updated_at, id)``: a bulk insert whose rows share one
    ``updated_at`` cannot stall it. ``updated_at`` is ``now()``, the start of the writing
    transaction, so a long transaction can commit a row *older* than one already seen; each
    caught-up poll therefore re-reads the last ``overlap`` seconds and skips rows already
    delivered at that same ``updated_at``. The first poll of a table only records where the
    server is (nothing is replayed).

    Deletes leave nothing to see by ``updated_at``. Subscribers pass ``known_ids`` (the rows
    they show); every ``delete_every``-th poll (default: every poll) the feed asks which of up
    to ``delete_chunk`` of them still exist (one index-only ``id=in.(...)`` request, rotating
    through larger sets) and reports the missing ones as DELETE. With the defaults a delete
    among 200 loaded rows is seen within one interval (2 s); with more rows loaded each chunk
    is checked in turn (1,000 rows: within 10 s), or the row disappears on refresh.

    INSERT vs UPDATE is a guess polling has to make: a row created after the table's baseline
    (or whose ``created_at`` equals its ``updated_at``) is an INSERT, anything else an UPDATE.

``RealtimeChangeFeed``
    Tables in the ``supabase_realtime`` publication (``processing_jobs``) arrive over
    Supabase Realtime ``postgres_changes`` on the Backend's own supabase-py client (no second
    client or socket); every other table is polled. supabase-py passes the user's access token
    to the socket on every auth event (sign-in and each refresh), so RLS on the server filters
    the changes and a refreshed token keeps the channel alive. Until a table's channel has
    joined, and whenever it errors, times out or is closed by the server, that table is polled
    instead (``mode`` becomes "polling" and mode listeners hear it). realtime-py rejoins after
    a dropped socket by itself; a channel that stays down is re-created every
    ``retry_interval`` seconds. When a channel joins again one last poll catches up on what
    happened meanwhile, and the mode returns to "realtime".

Subscriber callbacks run on the event loop (the qasync loop in the app), so Qt models may be
updated from them directly; an exception in one is logged and does not stop the feed.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import uuid
from collections.abc import Callable, Collection, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from realtime import AsyncRealtimeChannel, AsyncRealtimeClient, RealtimeSubscribeStates
from realtime.types import RealtimePostgresChangesListenEvent

from echogen_desktop.services.backend import Backend, ChangeCursor
from echogen_desktop.services.errors import ServiceError
from echogen_desktop.services.records import RecordError
from echogen_desktop.services.tables import TableSpec

log = logging.getLogger(__name__)

REALTIME_TABLES = frozenset({"processing_jobs"})  # what the migrations put in supabase_realtime
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class FeedMode(enum.StrEnum):
    REALTIME = "realtime"
    POLLING = "polling"


class ChangeKind(enum.StrEnum):
    INSERT = "INSERT"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


@dataclass(frozen=True, slots=True)
class Change:
    table: str
    kind: ChangeKind
    record: Any | None  # the list's typed record (records.py); None for DELETE
    record_id: str


ChangeCallback = Callable[[Change], None]
KnownIds = Callable[[], Collection[str]]
ModeListener = Callable[[FeedMode], None]


class Subscription(Protocol):
    def cancel(self) -> None: ...


class ChangeFeed(Protocol):
    """What models and controllers use; ``RealtimeChangeFeed`` and ``PollingChangeFeed`` both fit."""

    @property
    def mode(self) -> FeedMode: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def subscribe(
        self, spec: TableSpec, callback: ChangeCallback, known_ids: KnownIds | None = None
    ) -> Subscription: ...

    def add_mode_listener(self, listener: ModeListener) -> None: ...

    def remove_mode_listener(self, listener: ModeListener) -> None: ...


def _safe_call(callback: ChangeCallback, change: Change) -> None:
    try:
        callback(change)
    except Exception:
        log.exception("change feed subscriber failed on %s %s", change.kind, change.record_id)


# ===================================================================== polling
@dataclass(eq=False)
class _Watch:
    """One polled table: its position on the server and who hears about it."""

    spec: TableSpec
    cursor: ChangeCursor | None
    ready: bool  # False until the first poll (or the caller) fixed where the server is
    horizon: datetime | None = None  # rows created after this are INSERTs
    subscribers: list[PollingSubscription] = field(default_factory=list)
    seen: dict[str, datetime] = field(default_factory=dict)  # id -> updated_at delivered, within overlap
    inserted: set[str] = field(default_factory=set)  # ids reported as INSERT: their next change is an UPDATE
    caught_up: bool = True
    polls: int = 0
    delete_offset: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def emit(self, change: Change) -> None:
        for subscription in list(self.subscribers):
            _safe_call(subscription.callback, change)

    def known_ids(self) -> list[str]:
        ids: set[str] = set()
        for subscription in self.subscribers:
            if subscription.known_ids is not None:
                ids.update(subscription.known_ids())
        return sorted(ids)


@dataclass(eq=False)
class PollingSubscription:
    feed: PollingChangeFeed
    watch: _Watch
    callback: ChangeCallback
    known_ids: KnownIds | None

    @property
    def cursor(self) -> ChangeCursor | None:
        """Where the next poll resumes; the epoch for a list that was empty; None before the baseline."""
        if not self.watch.ready:
            return None
        return self.watch.cursor or (EPOCH, "")

    def cancel(self) -> None:
        self.feed._drop(self)


class PollingChangeFeed:
    def __init__(
        self,
        backend: Backend,
        *,
        interval: float = 2.0,
        batch: int = 200,
        overlap: float = 2.0,
        delete_every: int = 1,
        delete_chunk: int = 200,
    ) -> None:
        self._backend = backend
        self.interval = interval
        self._batch = batch
        self._overlap = timedelta(seconds=overlap)
        self._delete_every = max(1, delete_every)
        self._delete_chunk = delete_chunk
        self._watches: dict[str, _Watch] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def mode(self) -> FeedMode:
        return FeedMode.POLLING

    def add_mode_listener(self, listener: ModeListener) -> None:
        """Polling is always polling: nothing will ever be reported."""

    def remove_mode_listener(self, listener: ModeListener) -> None:
        pass

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="polling-change-feed")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def subscribe(
        self,
        spec: TableSpec,
        callback: ChangeCallback,
        known_ids: KnownIds | None = None,
        *,
        since: ChangeCursor | None = None,
    ) -> PollingSubscription:
        """``since``: deliver changes after this position (a new table's default is "from now on")."""
        watch = self._watches.get(spec.table)
        if watch is None:
            watch = _Watch(spec, cursor=since, ready=since is not None, horizon=since[0] if since else None)
            self._watches[spec.table] = watch
        subscription = PollingSubscription(self, watch, callback, known_ids)
        watch.subscribers.append(subscription)
        return subscription

    def _drop(self, subscription: PollingSubscription) -> None:
        watch = subscription.watch
        if subscription in watch.subscribers:
            watch.subscribers.remove(subscription)
        if not watch.subscribers and self._watches.get(watch.spec.table) is watch:
            del self._watches[watch.spec.table]

    async def poll(self, table: str | None = None) -> None:
        """One round now (all tables, or one); errors are logged and the next round tries again."""
        for watch in [w for w in self._watches.values() if table is None or w.spec.table == table]:
            try:
                async with watch.lock:
                    await self._poll_watch(watch)
            except ServiceError as error:
                log.info("polling %s failed: %s", watch.spec.table, error.message)
            except RecordError as error:
                log.warning("polling %s got a bad row: %s", watch.spec.table, error)

    async def _run(self) -> None:
        while True:  # the first round at once: it fixes each table's baseline
            await self.poll()
            await asyncio.sleep(self.interval)

    async def _poll_watch(self, watch: _Watch) -> None:
        if not watch.ready:
            await self._baseline(watch)
            return
        watch.polls += 1
        await self._poll_changes(watch)
        if watch.polls % self._delete_every == 0:
            await self._poll_deletes(watch)

    async def _baseline(self, watch: _Watch) -> None:
        """Where the server is now; the rows of the last ``overlap`` count as delivered (the
        subscriber loaded them), so the first re-read does not replay them."""
        latest = await self._backend.latest_change(watch.spec)
        if latest is not None:
            window = await self._backend.fetch_changed_since(watch.spec, (latest[0] - self._overlap, ""), self._batch)
            watch.seen = {record.id: record.updated_at for record in window}
            watch.caught_up = len(window) < self._batch
            latest = (window[-1].updated_at, window[-1].id) if window else latest
        watch.cursor = latest
        watch.horizon = latest[0] if latest else None
        watch.ready = True

    async def _poll_changes(self, watch: _Watch) -> None:
        start = watch.cursor
        if start is not None and watch.caught_up:
            start = (start[0] - self._overlap, "")  # re-read late commits
        records = await self._backend.fetch_changed_since(watch.spec, start, self._batch)
        watch.caught_up = len(records) < self._batch
        for record in records:
            at: datetime = record.updated_at
            if watch.seen.get(record.id) == at:
                continue
            watch.seen[record.id] = at
            kind = ChangeKind.UPDATE
            if record.id not in watch.inserted and (
                record.created_at == at or watch.horizon is None or record.created_at > watch.horizon
            ):
                kind = ChangeKind.INSERT
                watch.inserted.add(record.id)
            watch.emit(Change(watch.spec.table, kind, record, record.id))
        if records:
            # The server's order, not Python's: text ids may collate differently from str ordering.
            watch.cursor = (records[-1].updated_at, records[-1].id)
            newest = max(watch.seen.values(), default=watch.cursor[0])
            watch.seen = {k: v for k, v in watch.seen.items() if v >= newest - self._overlap}

    async def _poll_deletes(self, watch: _Watch) -> None:
        ids = watch.known_ids()
        if not ids:
            return
        if watch.delete_offset >= len(ids):
            watch.delete_offset = 0
        chunk = ids[watch.delete_offset : watch.delete_offset + self._delete_chunk]
        watch.delete_offset += len(chunk)
        existing = await self._backend.existing_ids(watch.spec, chunk)
        for record_id in chunk:
            if record_id not in existing:
                watch.seen.pop(record_id, None)
                watch.emit(Change(watch.spec.table, ChangeKind.DELETE, None, record_id))


# ==================================================================== realtime
@dataclass(eq=False)
class _LiveTable:
    """One table served over realtime while its channel is joined, and by polling otherwise."""

    spec: TableSpec
    subscribers: list[_RealtimeSubscription] = field(default_factory=list)
    channel: AsyncRealtimeChannel | None = None
    joined: bool = False
    settled: bool = False  # the first join has succeeded or failed: until then the mode stays as it was
    connecting: bool = False
    watermark: ChangeCursor | None = None  # where polling resumes if the channel goes down
    fallback: PollingSubscription | None = None

    def emit(self, change: Change) -> None:
        updated = getattr(change.record, "updated_at", None)
        if isinstance(updated, datetime) and (self.watermark is None or updated > self.watermark[0]):
            self.watermark = (updated, "")
        for subscription in list(self.subscribers):
            _safe_call(subscription.callback, change)

    def known_ids(self) -> set[str]:
        ids: set[str] = set()
        for subscription in self.subscribers:
            if subscription.known_ids is not None:
                ids.update(subscription.known_ids())
        return ids


@dataclass(eq=False)
class _RealtimeSubscription:
    feed: RealtimeChangeFeed
    table: _LiveTable
    callback: ChangeCallback
    known_ids: KnownIds | None

    def cancel(self) -> None:
        self.feed._drop(self)


class RealtimeChangeFeed:
    def __init__(
        self,
        backend: Backend,
        *,
        polling: PollingChangeFeed | None = None,
        client: AsyncRealtimeClient | None = None,
        realtime_tables: Collection[str] = REALTIME_TABLES,
        join_timeout: float = 5.0,
        retry_interval: float = 30.0,
    ) -> None:
        self._backend = backend
        self._client = client if client is not None else backend.realtime
        self._polling = polling if polling is not None else PollingChangeFeed(backend)
        self._realtime_tables = frozenset(realtime_tables)
        self._join_timeout = join_timeout
        self._retry_interval = retry_interval
        self._tables: dict[str, _LiveTable] = {}
        self._listeners: list[ModeListener] = []
        self._mode = FeedMode.REALTIME
        self._started = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._supervisor: asyncio.Task[None] | None = None

    # ---------------------------------------------------------------- interface
    @property
    def mode(self) -> FeedMode:
        return self._mode

    def live_tables(self) -> set[str]:
        """Tables served by realtime alone right now (joined, and caught up after polling)."""
        return {name for name, table in self._tables.items() if table.joined and table.fallback is None}

    def add_mode_listener(self, listener: ModeListener) -> None:
        self._listeners.append(listener)

    def remove_mode_listener(self, listener: ModeListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        await self._polling.start()
        for table in self._tables.values():
            self._go_live(table)
        self._supervisor = asyncio.create_task(self._supervise(), name="realtime-change-feed")

    async def stop(self) -> None:
        self._started = False
        tasks = [*self._tasks, *([self._supervisor] if self._supervisor else [])]
        self._supervisor = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for table in self._tables.values():
            await self._leave(table)
            self._stop_fallback(table)
        await self._polling.stop()

    def subscribe(
        self, spec: TableSpec, callback: ChangeCallback, known_ids: KnownIds | None = None
    ) -> Subscription:
        if spec.table not in self._realtime_tables:
            return self._polling.subscribe(spec, callback, known_ids)
        table = self._tables.get(spec.table)
        if table is None:
            table = self._tables[spec.table] = _LiveTable(spec)
            if self._started:
                self._go_live(table)
        subscription = _RealtimeSubscription(self, table, callback, known_ids)
        table.subscribers.append(subscription)
        return subscription

    def _drop(self, subscription: _RealtimeSubscription) -> None:
        table = subscription.table
        if subscription in table.subscribers:
            table.subscribers.remove(subscription)
        if not table.subscribers and self._tables.get(table.spec.table) is table:
            del self._tables[table.spec.table]
            self._stop_fallback(table)
            if self._started:
                self._spawn(self._leave(table))
            self._update_mode()

    # ---------------------------------------------------------------- channels
    def _go_live(self, table: _LiveTable) -> None:
        """Poll the table until its channel has joined; the join runs in the background."""
        self._start_fallback(table)
        self._spawn(self._join(table))

    async def _join(self, table: _LiveTable) -> None:
        if table.connecting:
            return
        table.connecting = True
        try:
            await self._leave(table)
            channel = self._client.channel(f"echogen-{table.spec.table}-{uuid.uuid4().hex[:8]}")
            channel.on_postgres_changes(
                RealtimePostgresChangesListenEvent.All, callback=lambda payload: self._on_payload(table, payload),
                schema="public", table=table.spec.table, select=list(table.spec.list_columns),
            )
            table.channel = channel

            def on_state(state: RealtimeSubscribeStates, error: Exception | None) -> None:
                self._on_state(table, channel, state, error)

            try:
                await asyncio.wait_for(channel.subscribe(on_state), self._join_timeout)
            except Exception as exc:  # unreachable server, refused socket, join timeout
                log.info("realtime for %s unavailable (%s): polling instead", table.spec.table, exc or type(exc))
                self._on_state(table, channel, RealtimeSubscribeStates.CHANNEL_ERROR, exc)
        finally:
            table.connecting = False

    async def _leave(self, table: _LiveTable) -> None:
        channel, table.channel = table.channel, None
        table.joined = False
        if channel is not None:
            try:
                await self._client.remove_channel(channel)
            except Exception as exc:  # the socket may already be gone; the channel is dropped either way
                log.debug("leaving %s: %s", channel.topic, exc)

    def _on_state(
        self, table: _LiveTable, channel: AsyncRealtimeChannel, state: RealtimeSubscribeStates,
        error: Exception | None,
    ) -> None:
        if channel is not table.channel or not self._started:
            return  # an old channel's last words
        table.settled = True
        if state == RealtimeSubscribeStates.SUBSCRIBED:
            table.joined = True
            self._spawn(self._catch_up(table))
        else:
            if table.joined:
                log.info("realtime channel for %s %s (%s): polling instead", table.spec.table, state.value, error)
            table.joined = False
            self._start_fallback(table)
        self._update_mode()

    async def _catch_up(self, table: _LiveTable) -> None:
        """One last poll covers the gap before the join; then realtime alone serves the table."""
        fallback = table.fallback
        if fallback is None:
            return
        await self._polling.poll(table.spec.table)
        if table.joined and table.fallback is fallback:
            if fallback.cursor is not None and (table.watermark is None or fallback.cursor[0] > table.watermark[0]):
                table.watermark = fallback.cursor
            self._stop_fallback(table)

    def _on_payload(self, table: _LiveTable, payload: Any) -> None:
        try:
            data = payload["data"]
            kind = ChangeKind(data["type"])
            if kind is ChangeKind.DELETE:
                change = Change(table.spec.table, kind, None, str(data["old_record"]["id"]))
            else:
                record = table.spec.parse(data["record"])
                change = Change(table.spec.table, kind, record, record.id)
        except (KeyError, TypeError, ValueError) as exc:  # RecordError is a ValueError
            log.warning("ignoring a malformed realtime change on %s: %s", table.spec.table, exc)
            return
        table.emit(change)

    async def _supervise(self) -> None:
        """Re-create channels that stayed down (a closed channel, a socket that gave up reconnecting)."""
        while True:
            await asyncio.sleep(self._retry_interval)
            for table in list(self._tables.values()):
                if not table.joined and not table.connecting:
                    await self._join(table)

    # ---------------------------------------------------------------- fallback
    def _start_fallback(self, table: _LiveTable) -> None:
        if table.fallback is None and self._tables.get(table.spec.table) is table:
            table.fallback = self._polling.subscribe(table.spec, table.emit, table.known_ids, since=table.watermark)

    def _stop_fallback(self, table: _LiveTable) -> None:
        fallback, table.fallback = table.fallback, None
        if fallback is not None:
            fallback.cancel()

    def _update_mode(self) -> None:
        polling = any(table.settled and not table.joined for table in self._tables.values())
        mode = FeedMode.POLLING if polling else FeedMode.REALTIME
        if mode != self._mode:
            self._mode = mode
            for listener in list(self._listeners):
                listener(mode)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
