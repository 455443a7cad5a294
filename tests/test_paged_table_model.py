"""The paged table model over the real stack: paging, server-side sort and search, live changes,
refresh, stale pages, failures, the four section models under qtmodeltester, and UI responsiveness."""

from __future__ import annotations

import asyncio
import random
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from PySide6.QtCore import (
    QMessageLogContext,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtGui import QColor
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QTableView
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from supabase import AsyncClient, AsyncClientOptions, acreate_client

from echogen_desktop.models.columns import CONTENT_COLUMNS, JOB_COLUMNS, columns_for, format_clock, format_span
from echogen_desktop.models.paged_table import PagedTableModel
from echogen_desktop.models.roles import Role
from echogen_desktop.services.backend import Backend, PageQuery
from echogen_desktop.services.records import ContentItem, JobStatus, Page
from echogen_desktop.services.tables import CONTENT, JOBS, PODCASTS, SCRIPTS, TableSpec
from echogen_desktop.tasks import TaskRunner
from echogen_devstack.runner import StackInfo
from tests.conftest import Heartbeat, TestUser, wait_until

pytestmark = pytest.mark.qasync
UserFactory = Callable[[], Awaitable[TestUser]]

# A search term that breaks naive PostgREST or=() quoting: comma, double quotes, parentheses.
TRICKY = 'Deep, "sea" (vents)'
WORDS = ("apple", "Banana", "cherry", "Delta", "echo", "Foxtrot", "golf", "Hotel", "india", "Juliet", "kilo", "Lima")
BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)


# ---------------------------------------------------------------- helpers
@pytest.fixture
async def user(user_factory: UserFactory) -> TestUser:
    return await user_factory()


@pytest.fixture
async def backend(stack: StackInfo, user: TestUser) -> AsyncIterator[Backend]:
    backend = await Backend.connect(stack.url, stack.anon_key)
    await backend.sign_in(user.email, user.password)
    yield backend
    await backend.close()


@pytest.fixture
async def db(stack: StackInfo) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(stack.admin_dsn)
    yield conn
    await conn.close()


@pytest.fixture
def runner() -> TaskRunner:
    return TaskRunner()


def content_rows(user_id: str, count: int, *, first: int = 0, body_size: int = 2000) -> list[dict[str, Any]]:
    """Rows with mixed-case titles (collation matters for sort), distinct times, and TRICKY sprinkled in."""
    rng = random.Random(first)
    rows = []
    for i in range(first, first + count):
        title = f"{rng.choice(WORDS)} {rng.choice(WORDS).lower()} {i}"
        markdown = f"# Article {i}\n\n" + "lorem ipsum " * (body_size // 12)
        if i % 97 == 0:
            title = f"{TRICKY} {i}"
        elif i % 89 == 0:
            title = f"Deep, sea (vents) {i}"  # the same words without quotes: must NOT match TRICKY
        if i % 101 == 0:
            markdown += f"\n\nFound in the body: deep, \"SEA\" (VENTS) {i}"
        rows.append({
            "user_id": user_id, "url": f"https://news.example.test/{i}", "title": title, "markdown": markdown,
            "provider": "firecrawl" if i % 2 else "upload",
            "metadata": {"language": "en", "reading_time": i % 9 + 1},
            "created_at": (BASE_TIME + timedelta(seconds=i)).isoformat(),
        })
    return rows


async def seed_content(user: TestUser, count: int, *, batch: int = 1000, body_size: int = 2000) -> None:
    for first in range(0, count, batch):
        rows = content_rows(user.id, min(batch, count - first), first=first, body_size=body_size)
        await user.client.table("scraped_content").insert(rows, returning="minimal").execute()


async def load_all(model: PagedTableModel, timeout: float = 60.0) -> None:
    """Drive fetchMore the way a view scrolling to the bottom does, until the model has everything."""
    deadline = time.monotonic() + timeout
    while model.is_loading() or model.canFetchMore(QModelIndex()):
        if not model.is_loading():
            model.fetchMore(QModelIndex())
        await asyncio.sleep(0.005)
        assert time.monotonic() < deadline, "paging did not finish"


async def first_page(model: PagedTableModel) -> None:
    model.fetchMore(QModelIndex())
    await wait_until(lambda: not model.is_loading() and model.total_count() >= 0, timeout=20)


def ids(model: PagedTableModel) -> list[str]:
    return [model.data(model.index(row, 0), Role.ID) for row in range(model.rowCount())]


def content_model(backend: Backend, runner: TaskRunner, page_size: int = 100) -> PagedTableModel:
    return PagedTableModel.for_spec(backend.fetch_page, CONTENT, runner, page_size=page_size)


async def db_ids(db: asyncpg.Connection, user_id: str, where: str = "true", order: str = "created_at desc, id desc",
                 *args: object) -> list[str]:
    rows = await db.fetch(
        f"select id::text from public.scraped_content where user_id = $1 and ({where}) order by {order}",
        uuid.UUID(user_id), *args,
    )
    return [row[0] for row in rows]


@contextmanager
def modeltest_failures() -> Iterator[list[str]]:
    """Collects what Qt's QAbstractItemModelTester reports (category qt.modeltest)."""
    failures: list[str] = []

    def handler(_mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if context.category == "qt.modeltest":
            failures.append(message)

    previous = qInstallMessageHandler(handler)
    try:
        yield failures
    finally:
        qInstallMessageHandler(previous)


class Signals:
    """Counts a model's structural signals, to prove live changes never reset it."""

    def __init__(self, model: PagedTableModel) -> None:
        self.resets = 0
        self.inserted: list[tuple[int, int]] = []
        self.removed: list[tuple[int, int]] = []
        self.changed: list[tuple[int, int]] = []
        model.modelReset.connect(self._reset)
        model.rowsInserted.connect(lambda _p, a, b: self.inserted.append((a, b)))
        model.rowsRemoved.connect(lambda _p, a, b: self.removed.append((a, b)))
        model.dataChanged.connect(lambda tl, br, _r: self.changed.append((tl.row(), br.row())))

    def _reset(self) -> None:
        self.resets += 1


# ---------------------------------------------------------------- columns (no network)
def test_list_specs_never_select_bodies() -> None:
    assert "markdown" not in CONTENT.select.split(",")
    assert "segments" not in SCRIPTS.select.split(",") and "prompt" not in SCRIPTS.select.split(",")
    assert "payload" not in JOBS.select.split(",") and "result" not in JOBS.select.split(",")


@pytest.mark.parametrize("spec", [CONTENT, SCRIPTS, PODCASTS, JOBS], ids=lambda s: s.table)
def test_sortable_columns_name_server_columns_the_spec_allows(spec: TableSpec) -> None:
    columns = columns_for(spec)
    assert {c.server_column for c in columns if c.sortable} <= spec.sortable
    assert any(c.server_column == spec.default_order for c in columns)
    assert len({c.key for c in columns}) == len(columns)


def test_duration_formats() -> None:
    assert format_clock(None) == "" and format_clock(65) == "1:05" and format_clock(3725) == "1:02:05"
    assert format_span(4.25) == "4.2 s" and format_span(125) == "2 min 5 s" and format_span(7260) == "2 h 1 min"


# ---------------------------------------------------------------- paging
async def test_pages_through_1000_rows_without_duplicates_or_bodies(
    stack: StackInfo, user: TestUser, db: asyncpg.Connection, runner: TaskRunner, qtmodeltester: ModelTester,
) -> None:
    await seed_content(user, 1000)
    requests: list[httpx.URL] = []

    async def record(request: httpx.Request) -> None:
        requests.append(request.url)

    # The same wiring as Backend.connect, plus a hook that records every request URL.
    http = httpx.AsyncClient(timeout=20, event_hooks={"request": [record]})
    client: AsyncClient = await acreate_client(
        stack.url, stack.anon_key, options=AsyncClientOptions(persist_session=False, httpx_client=http)
    )
    backend = Backend(client, http, stack.url)
    await backend.sign_in(user.email, user.password)
    try:
        model = content_model(backend, runner)
        loading: list[bool] = []
        totals: list[int] = []
        pages: list[tuple[int, int]] = []
        model.loadingChanged.connect(loading.append)
        model.totalCountChanged.connect(totals.append)
        model.pageLoaded.connect(lambda offset, added: pages.append((offset, added)))

        assert model.canFetchMore(QModelIndex()) and model.rowCount() == 0
        model.fetchMore(QModelIndex())
        model.fetchMore(QModelIndex())  # a second call while one is in flight must not double the page
        assert model.is_loading() and model.property("loading") is True
        await wait_until(lambda: not model.is_loading(), timeout=20)
        assert model.rowCount() == 100
        assert model.total_count() == 1000 and model.property("totalCount") == 1000
        assert totals == [1000] and loading == [True, False]

        await load_all(model)
        assert model.rowCount() == 1000 and not model.canFetchMore(QModelIndex())
        assert pages == [(offset, 100) for offset in range(0, 1000, 100)]
        loaded = ids(model)
        assert len(set(loaded)) == 1000
        assert loaded == await db_ids(db, user.id)  # newest first, exactly the server's rows
        assert all(model.record_at(row).markdown is None for row in range(1000))
        assert model.row_of(loaded[567]) == 567 and model.record_at(1000) is None
        lists = [url for url in requests if url.path.endswith("/rest/v1/scraped_content")]

        # qtmodeltester over the loaded rows, then while a reload pages in (the tester asks for more
        # from inside rowsInserted, as a view does).
        qtmodeltester.check(model, force_py=True)
        model.sort(model.column_of("provider"), Qt.SortOrder.AscendingOrder)
        await load_all(model)
        assert model.rowCount() == 1000 and len(set(ids(model))) == 1000
    finally:
        await backend.close()

    assert len(lists) == 10
    for url in lists:
        selected = url.params["select"].split(",")
        assert "markdown" not in selected and "*" not in selected, url
        assert selected == list(CONTENT.list_columns)


async def test_sort_by_title_matches_server_order(
    user: TestUser, backend: Backend, db: asyncpg.Connection, runner: TaskRunner,
) -> None:
    await seed_content(user, 1000, body_size=100)
    model = content_model(backend, runner, page_size=250)
    sorts: list[tuple[int, Qt.SortOrder]] = []
    model.sortChanged.connect(lambda column, order: sorts.append((column, order)))
    title = model.column_of("title")
    await first_page(model)
    assert model.sort_column() == model.column_of("created_at")
    assert model.sort_order() == Qt.SortOrder.DescendingOrder

    model.sort(title, Qt.SortOrder.AscendingOrder)
    assert model.rowCount() == 0 and model.is_loading()  # reloads from the first page
    await load_all(model)
    by_title = await db_ids(db, user.id, "true", "title asc, id asc")
    assert ids(model) == by_title != await db_ids(db, user.id)
    assert sorts[-1] == (title, Qt.SortOrder.AscendingOrder)

    model.sort(title, Qt.SortOrder.DescendingOrder)
    await load_all(model)
    assert ids(model) == await db_ids(db, user.id, "true", "title desc, id desc")

    # A column sorted inside metadata cannot be ordered by the server: the click changes nothing.
    before = ids(model)
    model.sort(model.column_of("language"), Qt.SortOrder.AscendingOrder)
    assert not model.is_loading() and ids(model) == before
    assert sorts[-1] == (title, Qt.SortOrder.DescendingOrder)


async def test_search_finds_exactly_the_matching_rows(
    user: TestUser, backend: Backend, db: asyncpg.Connection, runner: TaskRunner,
) -> None:
    await seed_content(user, 1000, body_size=200)
    model = content_model(backend, runner)
    await first_page(model)
    where = "title ilike $2 or url ilike $2 or markdown ilike $2"

    model.set_search(f"  {TRICKY}  ")
    assert model.search_text == TRICKY
    await load_all(model)
    expected = await db_ids(db, user.id, where, "created_at desc, id desc", f"%{TRICKY}%")
    assert len(expected) == 11 + 10 - 1  # titles where i % 97 == 0, bodies where i % 101 == 0; 0 is both
    assert ids(model) == expected and model.total_count() == len(expected)
    body_only = [i for i in expected if TRICKY not in model.record_at(model.row_of(i) or 0).title]
    assert body_only  # matched through markdown, which the list never downloaded

    model.set_search("ECHO")  # case-insensitive, many pages
    await load_all(model)
    assert ids(model) == await db_ids(db, user.id, where, "created_at desc, id desc", "%echo%")
    assert model.total_count() == model.rowCount() > 100

    model.set_search("no such words anywhere")
    await load_all(model)
    assert model.rowCount() == 0 and model.total_count() == 0 and not model.canFetchMore(QModelIndex())

    model.set_search("")
    await first_page(model)
    assert model.total_count() == 1000


# ---------------------------------------------------------------- the four sections
async def seed_sections(user: TestUser, service_client: AsyncClient) -> None:
    content = await user.client.table("scraped_content").insert(content_rows(user.id, 3)).execute()
    content_ids = [row["id"] for row in content.data]
    segments = [{"speaker": "Ava", "content": "Hi", "start_time": 0.0, "end_time": 61.5}]
    scripts = await user.client.table("podcast_scripts").insert([
        {"user_id": user.id, "source_content_id": content_ids[i] if i else None, "prompt": f"Prompt {i}",
         "model": "gpt-4o" if i % 2 else "claude", "language": "en", "segments": segments,
         "metadata": {"title": f"Script {i}"} if i != 1 else {}}
        for i in range(3)
    ]).execute()
    script_ids = [row["id"] for row in scripts.data]
    await user.client.table("generated_podcasts").insert([
        {"user_id": user.id, "script_id": script_ids[i], "audio_path": f"{user.id}/p{i}/episode.mp3",
         "duration_seconds": 60 * i + 5,
         "metadata": {"title": f"Episode {i}", "language": "en-US",
                      "speakers": [{"name": "Ava", "voice": "v1"}, {"name": "Ben", "voice": "v2"}],
                      "playback": [None, {"position": 20.4, "played": False, "updated_at": "2026-11-30T10:00:00Z"},
                                   {"position": 0, "played": True, "updated_at": "2026-11-30T10:00:00Z"}][i]}}
        for i in range(3)
    ]).execute()
    await user.client.table("processing_jobs").insert(
        {"id": f"script_generation_{uuid.uuid4().hex[:12]}", "user_id": user.id, "job_type": "script_generation",
         "status": "queued", "payload": {"content_id": content_ids[0]}}
    ).execute()
    now = datetime.now(UTC)
    worker_jobs = [
        ("audio_render", "running", None, now - timedelta(seconds=30), None),
        ("audio_render", "succeeded", None, now - timedelta(minutes=5), now - timedelta(minutes=2)),
        ("cover_art", "failed", "The TTS provider refused the key.", now - timedelta(minutes=9), now),
        ("script_generation", "cancelled", None, None, now),
    ]
    await service_client.table("processing_jobs").insert([
        {"id": f"{job_type}_{uuid.uuid4().hex[:12]}", "user_id": user.id, "job_type": job_type, "status": status,
         "error": error, "started_at": started and started.isoformat(),
         "finished_at": finished and finished.isoformat()}
        for job_type, status, error, started, finished in worker_jobs
    ]).execute()


async def test_each_section_model_passes_qtmodeltester(
    user: TestUser, backend: Backend, runner: TaskRunner, service_client: AsyncClient,
    request: pytest.FixtureRequest,
) -> None:
    await seed_sections(user, service_client)
    expected = {CONTENT.table: 3, SCRIPTS.table: 3, PODCASTS.table: 3, JOBS.table: 5}
    models: dict[str, PagedTableModel] = {}
    for spec in (CONTENT, SCRIPTS, PODCASTS, JOBS):
        model = PagedTableModel.for_spec(backend.fetch_page, spec, runner, page_size=2)
        models[spec.table] = model
        python_tester = ModelTester(request.config)
        python_tester.check(model, force_py=True)  # asserts on every signal while pages arrive
        # Qt's own C++ tester as well: in Warning mode it reports through the message handler.
        with modeltest_failures() as failures:
            cpp_tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
            await load_all(model)
            assert model.rowCount() == expected[spec.table] == model.total_count(), spec.table
            model.sort(model.column_of("created_at"), Qt.SortOrder.AscendingOrder)
            await load_all(model)
            del cpp_tester
        assert not failures, failures
        assert model.rowCount() == expected[spec.table]
        for row in range(model.rowCount()):
            for column in range(model.columnCount()):
                text = model.data(model.index(row, column), Qt.ItemDataRole.DisplayRole)
                assert isinstance(text, str)
            assert model.data(model.index(row, model.column_of("title") if spec is not JOBS else 0))

    podcasts = models[PODCASTS.table]
    episode = next(r for r in range(3) if podcasts.record_at(r).metadata["title"] == "Episode 1")
    assert podcasts.data(podcasts.index(episode, podcasts.column_of("speakers"))) == "Ava, Ben"
    assert podcasts.data(podcasts.index(episode, podcasts.column_of("duration"))) == "1:05"
    column = podcasts.column_of("listened")
    listened = {podcasts.record_at(r).metadata["title"]: podcasts.data(podcasts.index(r, column)) for r in range(3)}
    assert listened == {"Episode 0": "", "Episode 1": "0:45 left", "Episode 2": "Played"}
    scripts = models[SCRIPTS.table]
    assert {scripts.data(scripts.index(r, 0)) for r in range(3)} == {"Script 0", "Script 2", "Untitled script"}

    jobs = models[JOBS.table]
    status = jobs.column_of("status")
    by_status = {jobs.record_at(r).status: r for r in range(jobs.rowCount())}
    failed, succeeded = by_status[JobStatus.FAILED], by_status[JobStatus.SUCCEEDED]
    assert jobs.data(jobs.index(failed, status)) == "Failed"
    assert jobs.data(jobs.index(failed, status), Role.STATUS) == "failed"
    assert jobs.data(jobs.index(failed, status), Qt.ItemDataRole.ToolTipRole) == "The TTS provider refused the key."
    red, green = (jobs.data(jobs.index(r, status), Role.STATUS_COLOR) for r in (failed, succeeded))
    assert isinstance(red, QColor) and isinstance(green, QColor) and red != green
    assert jobs.data(jobs.index(succeeded, jobs.column_of("run_time"))) == "3 min 0 s"
    assert jobs.data(jobs.index(by_status[JobStatus.QUEUED], jobs.column_of("run_time"))) == ""
    assert jobs.headerData(status, Qt.Orientation.Horizontal) == "Status"
    touched: list[tuple[int, int, int]] = []
    jobs.dataChanged.connect(lambda tl, br, _r: touched.append((tl.column(), br.column(), br.row())))
    jobs.touch_column("run_time")  # the Jobs view ticks this while jobs run
    assert touched == [(jobs.column_of("run_time"), jobs.column_of("run_time"), 4)]
    assert jobs.headerData(jobs.column_of("run_time"), Qt.Orientation.Horizontal, Role.SORT_KEY) == ""
    assert JOB_COLUMNS[0].key == "status" and CONTENT_COLUMNS[0].key == "title"


async def test_job_filters_and_a_job_leaving_the_filter(
    user: TestUser, backend: Backend, runner: TaskRunner, service_client: AsyncClient,
) -> None:
    await seed_sections(user, service_client)
    model = PagedTableModel.for_spec(backend.fetch_page, JOBS, runner)
    await first_page(model)
    assert model.rowCount() == 5

    model.set_filters({"status": "failed", "job_type": None})
    await load_all(model)
    assert [model.record_at(r).status for r in range(model.rowCount())] == [JobStatus.FAILED]
    model.set_filters({"job_type": "audio_render"})
    await load_all(model)
    assert sorted(model.record_at(r).status for r in range(model.rowCount())) == ["running", "succeeded"]
    assert model.filters == {"job_type": "audio_render"}

    model.set_filters({"status": "queued"})
    await load_all(model)
    assert model.rowCount() == 1 and model.total_count() == 1
    signals = Signals(model)
    cancelled = await backend.cancel_job(model.record_at(0).id)
    assert model.apply_upsert(cancelled) is None  # no longer queued: it leaves the filtered list
    assert model.rowCount() == 0 and model.total_count() == 0 and signals.resets == 0
    new_job = await backend.create_job("cover_art", {"podcast_id": str(uuid.uuid4())})
    assert model.apply_upsert(new_job) == 0 and model.total_count() == 1
    assert signals.inserted == [(0, 0)] and signals.removed == [(0, 0)] and signals.resets == 0


# ---------------------------------------------------------------- live changes and refresh
async def test_live_upsert_and_delete_keep_other_rows_without_reset(
    user: TestUser, backend: Backend, db: asyncpg.Connection, runner: TaskRunner, qtmodeltester: ModelTester,
) -> None:
    await seed_content(user, 250, body_size=100)
    model = content_model(backend, runner)
    await first_page(model)
    model.fetchMore(QModelIndex())
    await wait_until(lambda: model.rowCount() == 200, timeout=20)
    selected = QPersistentModelIndex(model.index(50, 1))  # what a view's selection holds on to
    selected_id = selected.data(Role.ID)
    signals = Signals(model)

    target: ContentItem = model.record_at(10)
    await user.client.table("scraped_content").update({"title": "Renamed live"}).eq("id", target.id).execute()
    assert model.apply_upsert(await backend.get_content(target.id)) == 10
    assert signals.changed == [(10, 10)] and model.rowCount() == 200
    assert model.data(model.index(10, model.column_of("title"))) == "Renamed live"

    row = {**content_rows(user.id, 1, first=5000)[0], "created_at": datetime.now(UTC).isoformat()}
    inserted = await user.client.table("scraped_content").insert(row).execute()
    new_item = await backend.get_content(inserted.data[0]["id"])
    assert model.apply_upsert(new_item) == 0
    assert signals.inserted == [(0, 0)] and model.total_count() == 251 and model.row_of(new_item.id) == 0
    assert selected.row() == 51 and selected.data(Role.ID) == selected_id

    doomed: ContentItem = model.record_at(20)
    await backend.delete_content(doomed)
    assert model.apply_delete(doomed.id) is True
    assert signals.removed == [(20, 20)] and model.total_count() == 250 and model.row_of(doomed.id) is None
    assert selected.row() == 50 and selected.data(Role.ID) == selected_id
    assert model.apply_delete(str(uuid.uuid4())) is False and model.total_count() == 250

    # Paging on after live changes neither skips nor repeats a row (qtmodeltester drives it).
    qtmodeltester.check(model, force_py=True)
    await load_all(model)
    assert ids(model) == await db_ids(db, user.id)
    assert signals.resets == 0 and model.rowCount() == 250


async def test_refresh_merges_without_reset(
    user: TestUser, backend: Backend, db: asyncpg.Connection, runner: TaskRunner, qtmodeltester: ModelTester,
) -> None:
    await seed_content(user, 250, body_size=100)
    model = content_model(backend, runner)
    await first_page(model)
    model.fetchMore(QModelIndex())
    await wait_until(lambda: model.rowCount() == 200, timeout=20)
    keep = QPersistentModelIndex(model.index(150, 0))
    keep_id = keep.data(Role.ID)
    renamed_id = model.record_at(5).id
    gone = [model.record_at(3).id, model.record_at(120).id]

    await user.client.table("scraped_content").delete().in_("id", gone).execute()
    await user.client.table("scraped_content").update({"title": "Changed elsewhere"}).eq("id", renamed_id).execute()
    row = {**content_rows(user.id, 1, first=7000)[0], "created_at": datetime.now(UTC).isoformat()}
    await user.client.table("scraped_content").insert(row).execute()

    signals = Signals(model)
    outcomes: list[bool] = []
    model.refreshed.connect(outcomes.append)
    model.refresh()
    await wait_until(lambda: bool(outcomes), timeout=20)
    assert outcomes == [False] and signals.resets == 0
    assert ids(model) == (await db_ids(db, user.id))[:200]
    assert model.total_count() == 249
    assert keep.isValid() and keep.data(Role.ID) == keep_id and keep.row() == 150 - 2 + 1
    assert model.record_at(model.row_of(renamed_id) or 0).title == "Changed elsewhere"
    assert signals.removed == [(120, 120), (3, 3)]  # bottom-up, so row numbers stay valid
    qtmodeltester.check(model, force_py=True)
    await load_all(model)
    assert ids(model) == await db_ids(db, user.id)

    # When rows that stay have moved relative to each other, refresh falls back to a reset and says so.
    model.sort(model.column_of("title"), Qt.SortOrder.AscendingOrder)
    await load_all(model)
    first = model.record_at(0)
    await user.client.table("scraped_content").update({"title": "zzz last now"}).eq("id", first.id).execute()
    model.refresh()
    await wait_until(lambda: len(outcomes) == 2, timeout=20)
    assert outcomes[1] is True
    assert ids(model) == await db_ids(db, user.id, "true", "title asc, id asc")
    assert model.row_of(first.id) == model.rowCount() - 1


async def test_a_stale_page_after_a_search_change_is_discarded(
    user: TestUser, backend: Backend, runner: TaskRunner,
) -> None:
    await seed_content(user, 300, body_size=50)
    gate = asyncio.Event()
    stale_delivered = asyncio.Event()

    async def slow_unsearched(query: PageQuery) -> Page:
        page = await backend.fetch_page(CONTENT, query)
        if not query.search:  # hold the unfiltered first page until the search has been answered
            await gate.wait()
            asyncio.get_running_loop().call_soon(stale_delivered.set)
        return page

    model = PagedTableModel(slow_unsearched, runner, CONTENT_COLUMNS, search_columns=CONTENT.search_columns)
    signals = Signals(model)
    model.fetchMore(QModelIndex())
    await asyncio.sleep(0.2)
    model.set_search(TRICKY)
    await wait_until(lambda: not model.is_loading(), timeout=20)
    searched = ids(model)
    assert len(searched) == 6  # titles 0, 97, 194, 291 and bodies 101, 202

    gate.set()
    await asyncio.wait_for(stale_delivered.wait(), 10)
    await asyncio.sleep(0.05)  # let the runner deliver the stale page to the model
    assert ids(model) == searched and model.total_count() == 6
    assert signals.inserted == [(0, 5)] and not model.is_loading()


async def test_a_failed_fetch_reports_and_the_model_recovers(
    stack: StackInfo, backend: Backend, user: TestUser, runner: TaskRunner,
) -> None:
    await seed_content(user, 30, body_size=50)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    dead = await Backend.connect(f"http://127.0.0.1:{closed_port}", stack.anon_key)
    current = [dead]

    async def fetch(query: PageQuery) -> Page:
        return await current[0].fetch_page(CONTENT, query)

    model = PagedTableModel(fetch, runner, CONTENT_COLUMNS)
    failures: list[str] = []
    unhandled: list[str] = []
    model.loadFailed.connect(failures.append)
    runner.failed.connect(unhandled.append)
    try:
        model.fetchMore(QModelIndex())
        await wait_until(lambda: bool(failures), timeout=20)
        assert failures == ["The server cannot be reached. Check the connection and the URL."]
        assert not unhandled and not model.is_loading() and model.rowCount() == 0
        assert not model.canFetchMore(QModelIndex())  # views do not hammer a dead server on every scroll

        model.fetchMore(QModelIndex())  # an explicit retry still goes out, and fails again cleanly
        await wait_until(lambda: len(failures) == 2, timeout=20)

        current[0] = backend  # the connection is back
        model.fetchMore(QModelIndex())
        await wait_until(lambda: model.rowCount() == 30, timeout=20)
        assert model.total_count() == 30 and len(failures) == 2
    finally:
        await dead.close()


# ---------------------------------------------------------------- responsiveness
async def test_ui_heartbeat_while_10000_rows_page_in(
    user: TestUser, backend: Backend, runner: TaskRunner, qtbot: QtBot,
) -> None:
    await seed_content(user, 10_000, batch=2500, body_size=100)
    model = content_model(backend, runner)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(900, 600)
    # A scrolled-to-bottom view asks for more by itself (QAbstractItemView calls fetchMore).
    model.rowsInserted.connect(lambda *_: QTimer.singleShot(0, view.scrollToBottom))

    heartbeat = Heartbeat()
    heartbeat.start()
    started = time.perf_counter()
    view.show()
    await wait_until(lambda: model.rowCount() == 10_000, timeout=120, message="10,000 rows did not page in")
    elapsed = time.perf_counter() - started
    heartbeat.stop()
    view.close()

    assert len(set(ids(model))) == 10_000
    worst = heartbeat.max_gap
    print(f"\n10,000 rows in {elapsed:.2f} s; heartbeat max gap {worst * 1000:.1f} ms over {len(heartbeat.gaps)} beats")
    assert worst < 0.100, f"UI stalled for {worst * 1000:.0f} ms"


async def test_ui_heartbeat_while_pages_arrive_over_a_slow_network(
    stack: StackInfo, user: TestUser, backend: Backend, runner: TaskRunner, qtbot: QtBot,
) -> None:
    await seed_content(user, 1_000, batch=1000, body_size=100)
    service = {"apikey": stack.service_key, "Authorization": f"Bearer {stack.service_key}"}
    async with httpx.AsyncClient(timeout=10) as http:
        switched = await http.post(f"{stack.url}/__devstack/faults", json={"rest_delay_ms": 300}, headers=service)
        assert switched.json()["rest_delay_ms"] == 300
        try:
            model = content_model(backend, runner)
            view = QTableView()
            qtbot.addWidget(view)
            view.setModel(model)
            model.rowsInserted.connect(lambda *_: QTimer.singleShot(0, view.scrollToBottom))
            heartbeat = Heartbeat()
            heartbeat.start()
            started = time.perf_counter()
            view.show()
            await wait_until(lambda: model.rowCount() == 1_000, timeout=60, message="rows did not page in")
            elapsed = time.perf_counter() - started
            heartbeat.stop()  # the view is left open: closing the last window would stop the loop here
        finally:
            await http.post(f"{stack.url}/__devstack/faults", json={}, headers=service)
    assert elapsed >= 10 * 0.3  # every one of the ten pages really waited on the slow link
    worst = heartbeat.max_gap
    print(f"\n1,000 rows over a 300 ms link in {elapsed:.2f} s; heartbeat max gap {worst * 1000:.1f} ms")
    assert worst < 0.100, f"UI stalled for {worst * 1000:.0f} ms"
