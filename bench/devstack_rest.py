"""Benchmark the devstack against direct peers, in one run, and print the figures.

1. Select 100 rows through supabase-py (gateway → PostgREST layer → Postgres) versus the same
   query through asyncpg straight to Postgres: p50 / p99 latency and the per-call overhead.
2. Download a 100 MB object through a Storage signed URL versus the same bytes from a plain
   static file server (Python's http.server), both fetched with curl: throughput and ratio.

Run: .venv/bin/python bench/devstack_rest.py [--calls 500] [--size-mb 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
from supabase import AsyncClientOptions, acreate_client

from echogen_devstack.process import free_port, stack_tempdir, start_stack_process, stop_stack_process
from echogen_devstack.runner import StackInfo

COLUMNS = "id,title,url,provider,created_at"


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), p99


async def rest_latency(info: StackInfo, calls: int) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        options = AsyncClientOptions(auto_refresh_token=False, persist_session=False, httpx_client=http)
        client = await acreate_client(info.url, info.anon_key, options=options)
        email = f"bench-{uuid.uuid4().hex[:8]}@example.test"
        session = await client.auth.sign_up({"email": email, "password": "bench password 1"})
        assert session.user is not None
        user_id = session.user.id
        rows = [
            {"user_id": user_id, "url": f"https://example.test/{i}", "title": f"Article {i}",
             "markdown": "# Title\n\n" + "word " * 200, "provider": "firecrawl"}
            for i in range(150)
        ]
        await client.table("scraped_content").insert(rows).execute()

        async def via_supabase() -> None:
            result = await client.table("scraped_content").select(COLUMNS).order("created_at", desc=True).limit(
                100
            ).execute()
            assert len(result.data) == 100

        conn = await asyncpg.connect(info.admin_dsn)
        sql = (
            "select id, title, url, provider, created_at from public.scraped_content"
            " where user_id = $1 order by created_at desc limit 100"
        )

        async def via_asyncpg() -> None:
            assert len(await conn.fetch(sql, uuid.UUID(user_id))) == 100

        results = {}
        for name, call in (("supabase-py → devstack", via_supabase), ("asyncpg → Postgres", via_asyncpg)):
            for _ in range(20):
                await call()
            samples = []
            for _ in range(calls):
                start = time.perf_counter()
                await call()
                samples.append((time.perf_counter() - start) * 1000)
            results[name] = percentiles(samples)
        await conn.close()

    print(f"\nSelect 100 rows ({calls} calls each, sequential, loopback)")
    print(f"{'path':28} {'p50 ms':>8} {'p99 ms':>8}")
    for name, (p50, p99) in results.items():
        print(f"{name:28} {p50:8.2f} {p99:8.2f}")
    (s50, s99), (a50, a99) = results.values()
    print(f"ratio p50 {s50 / a50:.1f}x, p99 {s99 / a99:.1f}x; stack overhead per call p50 {s50 - a50:.2f} ms "
          f"(target < 5 ms)")


def curl_throughput(url: str, runs: int = 5) -> float:
    """Median MB/s over ``runs`` curl downloads."""
    speeds = []
    for _ in range(runs):
        out = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{speed_download} %{http_code}", url],
            capture_output=True, text=True, check=True,
        ).stdout.split()
        assert out[1] in {"000", "200", "206"}, out  # file:// reports 000
        speeds.append(float(out[0]) / 1e6)
    return statistics.median(speeds)


def write_payload(work: Path, size_mb: int) -> Path:
    payload = work / "static" / "episode.wav"
    payload.parent.mkdir()
    with payload.open("wb") as fh:
        for _ in range(size_mb):
            fh.write(os.urandom(1 << 20))
    return payload


async def signed_download_url(info: StackInfo, payload: Path) -> str:
    """Upload ``payload`` as a fresh user and return a signed URL for it."""
    async with httpx.AsyncClient(timeout=300) as http:
        options = AsyncClientOptions(auto_refresh_token=False, persist_session=False, httpx_client=http)
        client = await acreate_client(info.url, info.anon_key, options=options)
        session = await client.auth.sign_up({"email": f"dl-{uuid.uuid4().hex[:8]}@example.test",
                                             "password": "bench password 1"})
        assert session.user is not None
        path = f"{session.user.id}/bench/episode.wav"
        bucket = client.storage.from_("podcast-audio")
        await bucket.upload(path, payload, {"content-type": "audio/wav"})
        signed = await bucket.create_signed_url(path, 600)
    url: str = signed["signedURL"]
    return url


def download_throughput(signed_url: str, payload: Path, size_mb: int) -> None:
    port = free_port()
    static = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", str(payload.parent)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        plain = curl_throughput(f"http://127.0.0.1:{port}/episode.wav")
        stack = curl_throughput(signed_url)
        ceiling = curl_throughput(payload.as_uri())
    finally:
        static.terminate()
        static.wait()
    print(f"\nDownload {size_mb} MB with curl (median of 5)")
    print(f"{'signed URL → devstack':28} {stack:8.0f} MB/s")
    print(f"{'python http.server':28} {plain:8.0f} MB/s")
    print(f"{'curl file:// (no HTTP)':28} {ceiling:8.0f} MB/s")
    print(f"ratio {stack / plain:.0%} of the plain server (target ≥ 80%), {stack / ceiling:.0%} of reading the file")


async def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--size-mb", type=int, default=100)
    args = parser.parse_args()
    work = stack_tempdir("echogen-bench-")
    proc, info = start_stack_process(work / "stack")
    try:
        await rest_latency(info, args.calls)
        payload = write_payload(work, args.size_mb)
        download_throughput(await signed_download_url(info, payload), payload, args.size_mb)
    finally:
        stop_stack_process(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(run())
