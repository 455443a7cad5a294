"""Player and download figures over the local stack, each against a peer in the same run.

- time to first audio: Play → position > 0, streamed through a signed URL vs from a local file;
- seek latency: seek() → the position reported near the target (streamed WAV);
- download throughput of a 200 MB episode: the app's DownloadManager vs curl on the same signed URL,
  writing into the same folder (the like-for-like peer) and into /dev/null (the network ceiling).

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python bench/player.py [--runs 5] [--size-mb 200]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import math
import os
import shutil
import statistics
import struct
import subprocess
import time
import uuid
import wave
from pathlib import Path

import httpx
import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from supabase import AsyncClientOptions, acreate_client

from echogen_desktop.offline.downloads import DownloadManager, DownloadSpec
from echogen_desktop.player.facade import Episode, Player
from echogen_desktop.player.positions import PositionStore
from echogen_devstack.process import stack_tempdir, start_stack_process, stop_stack_process

BUCKET = "podcast-audio"


def wav_bytes(seconds: float, rate: int = 22050) -> bytes:
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 220 * i / rate))) for i in range(int(seconds * rate))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return out.getvalue()


async def until(condition: object, timeout: float = 20) -> float:
    assert callable(condition)
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("player did not get there")
        await asyncio.sleep(0.001)
    return time.perf_counter() - start


async def first_audio(player: Player, template: Episode, provider: object) -> float:
    """A fresh episode id each run, so no remembered position makes position > 0 at once."""
    player.stop()
    episode = Episode(id=str(uuid.uuid4()), title=template.title, audio_path=template.audio_path,
                      duration_seconds=template.duration_seconds, local_file=template.local_file)
    start = time.perf_counter()
    player.open(episode, provider, autoplay=True)  # type: ignore[arg-type]
    await until(lambda: player.playing and 0 < player.position < 5_000)
    elapsed = time.perf_counter() - start
    player.stop()
    return elapsed * 1000


async def run(runs: int, size_mb: int) -> None:
    work = stack_tempdir("echogen-bench-player-")
    proc, info = start_stack_process(work / "stack", "--bcrypt-rounds", "4")
    try:
        async with httpx.AsyncClient(timeout=300) as http:
            options = AsyncClientOptions(auto_refresh_token=False, persist_session=False, httpx_client=http)
            client = await acreate_client(info.url, info.anon_key, options=options)
            session = await client.auth.sign_up({"email": f"p-{uuid.uuid4().hex[:8]}@example.test",
                                                 "password": "bench password 1"})
            assert session.user is not None
            uid = session.user.id
            bucket = client.storage.from_(BUCKET)
            audio = wav_bytes(30)
            path = f"{uid}/{uuid.uuid4()}/episode.wav"
            await bucket.upload(path, audio, {"content-type": "audio/wav"})
            local = work / "episode.wav"
            local.write_bytes(audio)

            async def provider(audio_path: str, expires_in: int) -> str:
                signed = await bucket.create_signed_url(audio_path, expires_in)
                url: str = signed["signedURL"]
                return url

            player = Player(PositionStore(QSettings(str(work / "p.ini"), QSettings.Format.IniFormat)))
            streamed = Episode(id="s", title="streamed", audio_path=path, duration_seconds=30)
            downloaded = Episode(id="l", title="local", audio_path=path, duration_seconds=30, local_file=local)
            stream_ms = [await first_audio(player, streamed, provider) for _ in range(runs)]
            local_ms = [await first_audio(player, downloaded, None) for _ in range(runs)]

            player.open(Episode(id=str(uuid.uuid4()), title="s", audio_path=path, duration_seconds=30),
                        provider, autoplay=True)
            await until(lambda: player.playing and player.position > 0)
            seeks = []
            for target in (20_000, 5_000, 25_000, 10_000, 15_000)[:runs]:
                start = time.perf_counter()
                player.seek(target)
                # Done when playback has moved on from the new place (minus the 50 ms it then played).
                await until(lambda t=target: t + 50 <= player.position < t + 2_000)
                seeks.append((time.perf_counter() - start) * 1000 - 50)
            player.stop()

            big = work / "big.wav"
            with big.open("wb") as fh:
                for _ in range(size_mb):
                    fh.write(os.urandom(1 << 20))
            big_path = f"{uid}/{uuid.uuid4()}/episode.wav"
            with big.open("rb") as fh:
                await bucket.upload(big_path, fh.read(), {"content-type": "audio/wav"})
            ours, curl_file, curl_null, curl_checked = [], [], [], []
            manager = DownloadManager()
            for n in range(runs):
                url = await provider(big_path, 600)
                dest = work / f"dl-{n}.wav"
                start = time.perf_counter()
                await manager.fetch(DownloadSpec(key=f"k{n}", title="big", dest=dest,
                                                 source=lambda u=url: _const(u), expected_size=size_mb << 20))
                ours.append(size_mb * 1.048576 / (time.perf_counter() - start))
                dest.unlink()
                curl_file.append(await _curl(url, work / f"curl-{n}.wav"))
                (work / f"curl-{n}.wav").unlink()
                curl_null.append(await _curl(url, Path(os.devnull)))
                curl_checked.append(size_mb * 1.048576 / await asyncio.to_thread(_curl_checked, url, work / "c.wav"))
            await manager.close()
    finally:
        stop_stack_process(proc)
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nPlayer over the local stack (median of {runs})")
    print(f"{'first audio, streamed (signed URL)':40} {statistics.median(stream_ms):8.0f} ms   target < 300 ms")
    print(f"{'first audio, downloaded file':40} {statistics.median(local_ms):8.0f} ms   target < 150 ms")
    print(f"{'seek latency, streamed WAV':40} {statistics.median(seeks):8.0f} ms")
    o, cf, cn = statistics.median(ours), statistics.median(curl_file), statistics.median(curl_null)
    cc = statistics.median(curl_checked)
    print(f"{f'download {size_mb} MB: DownloadManager':40} {o:8.0f} MB/s   (size + MD5 checked, fsync, rename)")
    print(f"{f'download {size_mb} MB: curl + md5sum + fsync':40} {cc:8.0f} MB/s   ratio {o / cc:.0%} (same checks)")
    print(f"{f'download {size_mb} MB: curl -o file':40} {cf:8.0f} MB/s   ratio {o / cf:.0%} (no checks)")
    print(f"{f'download {size_mb} MB: curl -o /dev/null':40} {cn:8.0f} MB/s   ratio {o / cn:.0%} (no disk at all)")
    print("runs, MB/s: ours", *(f"{x:.0f}" for x in ours), "| curl checked", *(f"{x:.0f}" for x in curl_checked),
          "| curl -o file", *(f"{x:.0f}" for x in curl_file))


async def _const(url: str) -> str:
    return url


def _curl_checked(url: str, out: Path) -> float:
    """Seconds for curl to download into ``out``, md5sum to check it and an fsync to make it durable."""
    start = time.perf_counter()
    subprocess.run(["curl", "-s", "-o", str(out), url], check=True)
    subprocess.run(["md5sum", str(out)], check=True, capture_output=True)
    fd = os.open(out, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    elapsed = time.perf_counter() - start
    out.unlink()
    return elapsed


async def _curl(url: str, out: Path) -> float:
    """curl's own figure (MB/s) for one download of ``url`` into ``out``."""
    done = await asyncio.to_thread(subprocess.run, ["curl", "-s", "-o", str(out), "-w", "%{speed_download}", url],
                                   capture_output=True, text=True, check=True)
    return float(done.stdout) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size-mb", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication([])
    loop = qasync.QEventLoop(app)
    with loop:
        loop.run_until_complete(run(args.runs, args.size_mb))


if __name__ == "__main__":
    main()
