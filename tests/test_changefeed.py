"""The change feed against the real stack: realtime into a live Qt model (in place, selection and
scroll kept), polling with realtime out of the picture, fallback when realtime is unreachable or
the server closes the channel, RLS, and the polling keyset under bursts and late commits."""

from __future__ import annotations

import asyncio
import socket
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from postgrest.types import ReturnMethod
from PySide6.QtWidgets import QAbstractItemView, QTableView
from realtime import AsyncRealtimeClient
from supabase import AsyncClient

from echogen_desktop.models.live import LiveBinding
from echogen_desktop.models.paged_table import PagedTableModel
from echogen_desktop.services.backend import Backend
from echogen_desktop.services.changefeed import (
    Change,
    ChangeKind,
    FeedMode,
    PollingChangeFeed,
    RealtimeChangeFeed,
)
from echogen_desktop.services.records import Job, JobStatus
from echogen_desktop.services.tables import CONTENT, JOBS
from echogen_desktop.tasks import TaskRunner
from echogen_devstack.runner import StackInfo
from tests.conftest import TestUser, wait_until

UserFactory = Callable[[], Awaitable[TestUser]]
REALTIME_DEADLINE = 1.0  # the issue: within 1 s over realtime
POLLING_DEADLINE = 5.0  # and within 5 s by polling


# ---------------------------------------------------------------- helpers
@pytest.fixture
async def user(user_factory: UserFactory) -> TestUser:
    return await user_factory()


async def signed_in(stack: StackInfo, user: TestUser) -> Backend:
    backend = await Backend.connect(stack.url, stack.anon_key)
    await backend.sign_in(user.email, user.password)
    return backend


@pytest.fixture
async def backend(stack: StackInfo, user: TestUser) -> AsyncIterator[Backend]:
    backend = await signed_in(stack, user)
    yield backend
    await backend.realtime.remove_all_channels()
    await backend.close()


Feed = RealtimeChangeFeed | PollingChangeFeed


@pytest.fixture
async def feeds() -> AsyncIterator[list[Feed]]:
    """Feeds a test started: stopped afterwards even when the test failed half-way."""
    started: list[Feed] = []
    yield started
    for feed in started:
        await feed.stop()


class Recorder:
    """Every change a subscriber got, with its arrival time."""

    def __init__(self) -> None:
        self.changes: list[tuple[float, Change]] = []

    def __call__(self, change: Change) -> None:
        self.changes.append((time.perf_counter(), change))

    def ids(self, kind: ChangeKind | None = None) -> list[str]:
        return [c.record_id for _, c in self.changes if kind is None or c.kind is kind]

    async def wait_for(self, record_id: str, kind: ChangeKind, started: float, timeout: float) -> float:
        """Seconds from ``started`` until the change arrived (fails after ``timeout``)."""
        def arrived() -> float | None:
            return next((t for t, c in self.changes if c.record_id == record_id and c.kind is kind), None)

        await wait_until(lambda: arrived() is not None, timeout=timeout + 0.5,
                         message=f"{kind} of {record_id} did not arrive")
        latency = (arrived() or 0.0) - started
        assert latency < timeout, f"{kind} of {record_id} took {latency:.2f} s"
        return latency


def job_row(user_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": f"script_generation_{uuid.uuid4().hex[:12]}", "user_id": user_id,
            "job_type": "script_generation", "payload": {"content_id": str(uuid.uuid4())}, **fields}


async def insert_job(service: AsyncClient, user_id: str, **fields: Any) -> str:
    row = job_row(user_id, **fields)
    await service.table("processing_jobs").insert(row, returning=ReturnMethod.minimal).execute()
    return str(row["id"])


async def update_job(service: AsyncClient, job_id: str, **fields: Any) -> None:
    await service.table("processing_jobs").update(fields, returning=ReturnMethod.minimal).eq("id", job_id).execute()


async def delete_job(service: AsyncClient, job_id: str) -> None:
    await service.table("processing_jobs").delete(returning=ReturnMethod.minimal).eq("id", job_id).execute()


def report(label: str, samples: list[float]) -> None:
    print(f"\n{label}: n={len(samples)} median {statistics.median(samples) * 1000:.0f} ms,"
          f" max {max(samples) * 1000:.0f} ms")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def jobs_view(backend: Backend, runner: TaskRunner, service: AsyncClient, user: TestUser,
                    count: int) -> tuple[PagedTableModel, QTableView]:
    await service.table("processing_jobs").insert([job_row(user.id) for _ in range(count)]).execute()
    model = PagedTableModel.for_spec(backend.fetch_page, JOBS, runner)
    view = QTableView()
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setModel(model)
    view.resize(700, 300)
    view.show()
    await wait_until(lambda: model.rowCount() == count and not model.is_loading(), timeout=20)
    return model, view


def job_at(model: PagedTableModel, row: int) -> Job:
    record = model.record_at(row)
    assert isinstance(record, Job), f"no job at row {row}"
    return record


def selected_ids(view: QTableView, model: PagedTableModel) -> list[str]:
    return [job_at(model, index.row()).id for index in view.selectionModel().selectedRows()]


# ---------------------------------------------------------------- realtime into the model
@pytest.mark.qasync
async def test_realtime_changes_reach_the_model_in_place(
    user: TestUser, backend: Backend, service_client: AsyncClient, feeds: list[Feed],
) -> None:
    runner = TaskRunner()
    model, view = await jobs_view(backend, runner, service_client, user, 60)
    feed = RealtimeChangeFeed(backend)
    binding = LiveBinding(feed, JOBS, model)
    feeds.append(feed)
    await feed.start()
    await wait_until(lambda: feed.live_tables() == {"processing_jobs"}, timeout=5)
    assert feed.mode is FeedMode.REALTIME and binding.mode is FeedMode.REALTIME
    applied: list[tuple[float, str, str]] = []
    binding.changeApplied.connect(lambda kind, rid: applied.append((time.perf_counter(), kind, rid)))
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))

    view.selectRow(30)
    view.scrollTo(model.index(45, 0), QAbstractItemView.ScrollHint.PositionAtTop)
    scroll = view.verticalScrollBar().value()
    assert scroll > 0
    target = job_at(model, 30)

    async def applied_within(kind: str, record_id: str, started: float) -> float:
        await wait_until(lambda: any(k == kind and r == record_id for _, k, r in applied), timeout=REALTIME_DEADLINE)
        latency = next(t for t, k, r in applied if k == kind and r == record_id) - started
        assert latency < REALTIME_DEADLINE
        return latency

    # Updates: the selected row changes in place, nothing moves.
    samples = []
    for step in range(10):
        started = time.perf_counter()
        status = JobStatus.RUNNING.value if step % 2 else JobStatus.QUEUED.value
        await update_job(service_client, target.id, status=status, error=f"step {step}")
        expected = f"step {step}"
        await wait_until(lambda: job_at(model, 30).error == expected, timeout=REALTIME_DEADLINE)  # noqa: B023
        samples.append(time.perf_counter() - started)
    report("realtime update -> model row", samples)
    assert job_at(model, 30).id == target.id and job_at(model, 30).status is JobStatus.RUNNING
    assert job_at(model, 30).error == "step 9" and model.rowCount() == 60
    assert selected_ids(view, model) == [target.id] and view.verticalScrollBar().value() == scroll

    # An insert goes on top; the selection follows its row, the scroll bar stays.
    started = time.perf_counter()
    new_id = await insert_job(service_client, user.id)
    insert_latency = await applied_within("INSERT", new_id, started)
    assert job_at(model, 0).id == new_id and model.rowCount() == 61 and model.total_count() == 61
    assert job_at(model, 0).payload == {}  # the channel selects the list's columns only, not the payload
    assert selected_ids(view, model) == [target.id] and view.verticalScrollBar().value() == scroll

    # A delete removes exactly that row.
    doomed = job_at(model, 5).id
    started = time.perf_counter()
    await delete_job(service_client, doomed)
    delete_latency = await applied_within("DELETE", doomed, started)
    assert model.row_of(doomed) is None and model.rowCount() == 60 and model.total_count() == 60
    assert selected_ids(view, model) == [target.id] and view.verticalScrollBar().value() == scroll
    print(f"realtime insert {insert_latency * 1000:.0f} ms, delete {delete_latency * 1000:.0f} ms")
    assert resets == []
    view.close()


# ---------------------------------------------------------------- polling, realtime not involved
@pytest.mark.qasync
async def test_polling_delivers_inserts_updates_and_deletes_within_5_s(
    user: TestUser, backend: Backend, service_client: AsyncClient, feeds: list[Feed],
) -> None:
    runner = TaskRunner()
    model, view = await jobs_view(backend, runner, service_client, user, 30)
    feed = PollingChangeFeed(backend)  # the defaults: every 2 s
    binding = LiveBinding(feed, JOBS, model)
    recorder = Recorder()
    feed.subscribe(JOBS, recorder)
    assert binding.mode is FeedMode.POLLING
    await feed.poll()  # the baseline: where the server is now
    feeds.append(feed)
    await feed.start()
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    view.selectRow(10)
    selected = job_at(model, 10).id

    samples: dict[str, list[float]] = {"insert": [], "update": [], "delete": []}
    for _ in range(2):
        started = time.perf_counter()
        new_id = await insert_job(service_client, user.id)
        samples["insert"].append(await recorder.wait_for(new_id, ChangeKind.INSERT, started, POLLING_DEADLINE))
        await wait_until(lambda: model.row_of(new_id) == 0, timeout=1)  # noqa: B023

        target = job_at(model, 12).id
        started = time.perf_counter()
        await update_job(service_client, target, status="running")
        samples["update"].append(await recorder.wait_for(target, ChangeKind.UPDATE, started, POLLING_DEADLINE))
        await wait_until(lambda: job_at(model, model.row_of(target) or 0).status is JobStatus.RUNNING, 1)  # noqa: B023

        doomed = job_at(model, 20).id
        started = time.perf_counter()
        await delete_job(service_client, doomed)
        samples["delete"].append(await recorder.wait_for(doomed, ChangeKind.DELETE, started, POLLING_DEADLINE))
        await wait_until(lambda: model.row_of(doomed) is None, timeout=1)  # noqa: B023
    for kind, values in samples.items():
        report(f"polling {kind} -> feed", values)
    assert model.rowCount() == 30 and selected_ids(view, model) == [selected] and resets == []
    assert all(c.record.payload == {} for _, c in recorder.changes if c.record)  # list columns only
    # Each change was reported once, not again by the overlap re-reads.
    await asyncio.sleep(feed.interval * 2)
    assert len(recorder.ids()) == len(set(recorder.ids())) == 6
    view.close()


# ---------------------------------------------------------------- fallback
async def test_unreachable_realtime_falls_back_to_polling(
    stack: StackInfo, user: TestUser, backend: Backend, service_client: AsyncClient, feeds: list[Feed],
) -> None:
    dead = AsyncRealtimeClient(f"ws://127.0.0.1:{closed_port()}/realtime/v1", stack.anon_key, max_retries=1)
    polling = PollingChangeFeed(backend, interval=0.5)
    feed = RealtimeChangeFeed(backend, client=dead, polling=polling)
    modes: list[FeedMode] = []
    feed.add_mode_listener(modes.append)
    recorder = Recorder()
    feed.subscribe(JOBS, recorder)
    feeds.append(feed)
    await feed.start()
    await wait_until(lambda: modes == [FeedMode.POLLING], timeout=5)
    assert feed.mode is FeedMode.POLLING and feed.live_tables() == set()
    await polling.poll()  # the baseline is surely taken

    started = time.perf_counter()
    job = await insert_job(service_client, user.id)
    latency = await recorder.wait_for(job, ChangeKind.INSERT, started, POLLING_DEADLINE)
    started = time.perf_counter()
    await update_job(service_client, job, status="running")
    latency2 = await recorder.wait_for(job, ChangeKind.UPDATE, started, POLLING_DEADLINE)
    print(f"\nfallback polling (0.5 s): insert {latency * 1000:.0f} ms, update {latency2 * 1000:.0f} ms")
    assert modes == [FeedMode.POLLING]


async def test_a_channel_the_server_closes_falls_back_and_recovers(
    user: TestUser, backend: Backend, service_client: AsyncClient, feeds: list[Feed],
) -> None:
    feed = RealtimeChangeFeed(backend, polling=PollingChangeFeed(backend, interval=0.5), retry_interval=0.5)
    modes: list[FeedMode] = []
    feed.add_mode_listener(modes.append)
    recorder = Recorder()
    feed.subscribe(JOBS, recorder)
    feeds.append(feed)
    await feed.start()
    await wait_until(lambda: feed.live_tables() == {"processing_jobs"}, timeout=5)
    token = backend.realtime.access_token
    assert token

    await backend.realtime.set_auth("not-a-jwt")  # the server closes the channel
    await wait_until(lambda: modes == [FeedMode.POLLING], timeout=3)
    job = await insert_job(service_client, user.id)  # missed by realtime: polling must bring it
    await recorder.wait_for(job, ChangeKind.INSERT, time.perf_counter(), POLLING_DEADLINE)

    await backend.realtime.set_auth(token)  # as after a token refresh: the retry joins again
    await wait_until(lambda: feed.live_tables() == {"processing_jobs"}, timeout=5)
    assert modes == [FeedMode.POLLING, FeedMode.REALTIME]
    started = time.perf_counter()
    await update_job(service_client, job, status="running")
    await recorder.wait_for(job, ChangeKind.UPDATE, started, REALTIME_DEADLINE)


async def test_a_refreshed_token_keeps_the_channel_delivering(
    user: TestUser, backend: Backend, service_client: AsyncClient, feeds: list[Feed],
) -> None:
    feed = RealtimeChangeFeed(backend)
    recorder = Recorder()
    feed.subscribe(JOBS, recorder)
    feeds.append(feed)
    await feed.start()
    await wait_until(lambda: feed.live_tables() == {"processing_jobs"}, timeout=5)
    before = backend.realtime.access_token
    assert backend.user is not None
    await asyncio.sleep(1.1)  # a token issued in the same second would be the same token
    await backend.restore(backend.user.refresh_token)  # what auto-refresh does
    await wait_until(lambda: backend.realtime.access_token != before, timeout=2)
    await asyncio.sleep(0.2)  # the new token reaches the joined channel
    started = time.perf_counter()
    job = await insert_job(service_client, user.id)
    await recorder.wait_for(job, ChangeKind.INSERT, started, REALTIME_DEADLINE)
    assert feed.mode is FeedMode.REALTIME and feed.live_tables() == {"processing_jobs"}


# ---------------------------------------------------------------- RLS
async def test_other_users_changes_never_arrive(
    user: TestUser, backend: Backend, user_factory: UserFactory, service_client: AsyncClient, feeds: list[Feed],
) -> None:
    other = await user_factory()
    polling = PollingChangeFeed(backend, interval=0.3)
    feed = RealtimeChangeFeed(backend, polling=polling)
    jobs, content = Recorder(), Recorder()
    feed.subscribe(JOBS, jobs)  # realtime
    feed.subscribe(CONTENT, content)  # polling: not in the publication
    feeds.append(feed)
    await feed.start()
    await wait_until(lambda: feed.live_tables() == {"processing_jobs"}, timeout=5)
    await polling.poll()  # content's baseline is surely taken

    async def article(owner: str) -> str:
        row = {"id": str(uuid.uuid4()), "user_id": owner, "url": f"https://example.test/{uuid.uuid4()}",
               "title": "t", "markdown": "m", "provider": "upload"}
        await service_client.table("scraped_content").insert(row, returning=ReturnMethod.minimal).execute()
        return row["id"]

    foreign_job = await insert_job(service_client, other.id)
    await update_job(service_client, foreign_job, status="running")
    foreign = await article(other.id)
    # Sentinels written after the foreign rows: once they arrive, foreign ones would have too.
    own_job = await insert_job(service_client, user.id)
    own = await article(user.id)
    await jobs.wait_for(own_job, ChangeKind.INSERT, time.perf_counter(), REALTIME_DEADLINE)
    await content.wait_for(own, ChangeKind.INSERT, time.perf_counter(), POLLING_DEADLINE)
    await asyncio.sleep(0.7)
    assert jobs.ids() == [own_job] and content.ids() == [own]
    assert foreign not in content.ids() and foreign_job not in jobs.ids()
    assert feed.mode is FeedMode.REALTIME


# ---------------------------------------------------------------- the polling keyset
async def test_a_burst_larger_than_the_batch_arrives_once(
    user: TestUser, backend: Backend, service_client: AsyncClient,
) -> None:
    feed = PollingChangeFeed(backend, batch=10)
    recorder = Recorder()
    feed.subscribe(JOBS, recorder)
    await feed.poll()  # baseline
    rows = [job_row(user.id) for _ in range(25)]  # one statement: all share one updated_at
    await service_client.table("processing_jobs").insert(rows, returning=ReturnMethod.minimal).execute()
    for _ in range(3):
        await feed.poll()
    assert sorted(recorder.ids(ChangeKind.INSERT)) == sorted(r["id"] for r in rows)
    for _ in range(3):  # the overlap re-reads find nothing new
        await feed.poll()
    assert len(recorder.changes) == 25


async def test_a_late_commit_with_an_older_updated_at_is_not_missed(
    stack: StackInfo, user: TestUser, backend: Backend, service_client: AsyncClient,
) -> None:
    feed = PollingChangeFeed(backend)
    recorder = Recorder()
    feed.subscribe(JOBS, recorder)
    await feed.poll()
    conn = await asyncpg.connect(stack.admin_dsn)
    try:
        slow = job_row(user.id)
        transaction = conn.transaction()
        await transaction.start()  # updated_at = now() = this transaction's start
        await conn.execute("insert into public.processing_jobs (id, user_id, job_type) values ($1, $2, $3)",
                           slow["id"], uuid.UUID(user.id), "script_generation")
        await asyncio.sleep(0.05)
        quick = await insert_job(service_client, user.id)
        await feed.poll()
        assert recorder.ids() == [quick]
        await transaction.commit()
    finally:
        await conn.close()
    await feed.poll()
    assert recorder.ids() == [quick, slow["id"]]


async def test_polling_delete_check_covers_large_loaded_sets_in_turn(
    user: TestUser, backend: Backend, service_client: AsyncClient,
) -> None:
    rows = [job_row(user.id) for _ in range(12)]
    await service_client.table("processing_jobs").insert(rows, returning=ReturnMethod.minimal).execute()
    known = sorted(r["id"] for r in rows)
    feed = PollingChangeFeed(backend, delete_every=1, delete_chunk=5)
    recorder = Recorder()
    feed.subscribe(JOBS, recorder, known_ids=lambda: known)
    await feed.poll()
    doomed = [known[1], known[11]]  # in the first and the last chunk
    for job in doomed:
        await delete_job(service_client, job)
    await feed.poll()
    assert recorder.ids(ChangeKind.DELETE) == [known[1]]
    for _ in range(2):
        await feed.poll()
    assert recorder.ids(ChangeKind.DELETE) == doomed


def test_feed_timestamps_round_trip() -> None:
    from echogen_desktop.services.backend import pg_time

    at = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    assert pg_time(at) == "2026-03-04T05:06:07.891011Z"
