"""The Library list over a 100,000-row ``scraped_content`` table, against raw supabase-py.

Measures, in one run on one stack:
- time to the first page in the model (request → rows inserted) vs the same raw supabase-py query;
- time to reach the last row by scrolling a QTableView to the bottom repeatedly (lazy paging
  fetches every page in turn) vs one raw ``range()`` request for the last page;
- search latency (model: set_search → first page shown) vs the raw ilike ``or=`` query;
- peak RSS of this process after scrolling through all 100,000 rows.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python bench/library_100k.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import time
import uuid

import asyncpg
import qasync
from PySide6.QtWidgets import QApplication, QTableView

from echogen_desktop.models.paged_table import PagedTableModel
from echogen_desktop.services.backend import Backend, PageQuery
from echogen_desktop.services.tables import CONTENT
from echogen_desktop.tasks import TaskRunner
from echogen_devstack.process import stack_tempdir, start_stack_process, stop_stack_process

SEARCH_TERM = "vent"


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def seed(admin_dsn: str, user_id: str, rows: int) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(
            """
            insert into public.scraped_content (user_id, url, title, markdown, provider, metadata, created_at)
            select $1::uuid, 'https://example.test/a/' || g, 'Article ' || g ||
                   case when g % 97 = 0 then ' about hydrothermal vents' else '' end,
                   '# Article ' || g || E'\n\nA short body.', 'firecrawl',
                   jsonb_build_object('language', 'en', 'reading_time', 3),
                   now() - make_interval(secs => g)
            from generate_series(1, $2) g
            """,
            user_id, rows,
        )
        await conn.execute("analyze public.scraped_content")
    finally:
        await conn.close()


async def wait_for(condition: object, timeout: float = 600) -> None:
    assert callable(condition)
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("benchmark step did not finish")
        await asyncio.sleep(0.001)


async def timed_raw(backend: Backend, query: PageQuery, repeats: int = 5) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        page = await backend.fetch_page(CONTENT, query)
        samples.append((time.perf_counter() - start) * 1000)
        assert page.records
    return statistics.median(samples)


async def run(rows: int) -> None:
    work = stack_tempdir("echogen-bench-100k-")
    proc, info = start_stack_process(work / "stack", "--bcrypt-rounds", "4")
    try:
        backend = await Backend.connect(info.url, info.anon_key)
        email = f"bench-{uuid.uuid4().hex[:8]}@example.test"
        await backend.sign_up(email, "bench password 1")
        user = backend.user
        assert user is not None
        start = time.perf_counter()
        await seed(info.admin_dsn, user.user_id, rows)
        print(f"seeded {rows:,} rows in {time.perf_counter() - start:.1f} s")

        # Raw supabase-py peers (through the same service method, which is one supabase-py call).
        raw_first = await timed_raw(backend, PageQuery(limit=100))
        raw_last = await timed_raw(backend, PageQuery(offset=rows - 100, limit=100, with_count=False))
        raw_search = await timed_raw(backend, PageQuery(limit=100, search=SEARCH_TERM))

        start = time.perf_counter()
        runner = TaskRunner()
        model = PagedTableModel.for_spec(backend.fetch_page, CONTENT, runner)
        view = QTableView()
        view.setModel(model)  # the view asks for the first page itself
        view.resize(900, 600)
        view.show()
        await wait_for(lambda: model.rowCount() >= 100)
        first_page = (time.perf_counter() - start) * 1000

        start = time.perf_counter()
        while model.rowCount() < rows:
            view.scrollToBottom()
            if model.canFetchMore():
                model.fetchMore()
            await asyncio.sleep(0)
        last_row = time.perf_counter() - start
        peak = rss_mib()

        search_samples = []
        for term in (SEARCH_TERM, "Article 12", SEARCH_TERM):
            start = time.perf_counter()
            model.set_search(term)
            await wait_for(lambda: model.rowCount() > 0 and not model.is_loading())
            search_samples.append((time.perf_counter() - start) * 1000)
        await backend.close()

        print(f"\nLibrary over {rows:,} rows (model = PagedTableModel in a QTableView, qasync loop)")
        print(f"{'measure':40} {'model':>12} {'raw supabase-py':>16}")
        ratio = first_page / raw_first
        print(f"{'first page shown (ms)':40} {first_page:12.1f} {raw_first:16.1f}   ratio {ratio:.1f}x")
        print(f"{'last row reached (s) / last page (ms)':40} {last_row:12.1f} {raw_last:16.1f}")
        print(f"{'search, first page (ms, median of 3)':40} {statistics.median(search_samples):12.1f} "
              f"{raw_search:16.1f}")
        print(f"{'peak RSS after scrolling all rows (MiB)':40} {peak:12.0f}")
    finally:
        stop_stack_process(proc)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication([])
    loop = qasync.QEventLoop(app)
    with loop:
        loop.run_until_complete(run(args.rows))


if __name__ == "__main__":
    main()
