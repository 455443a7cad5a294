"""Benchmark transcript imports against their peers, in one run, and print the figures.

1. A 50 MB upload through the import's streaming upload (``TranscriptStore.upload``: raw body,
   1 MB chunks read in a worker thread, progress per chunk) versus a raw storage3
   ``upload(path, Path)`` of the same file (multipart over the same kind of httpx client).
   Alternating runs, median of N: throughput and the ratio (target: at least 80 %).
2. Drop to row: a 100 KB transcript dropped on the import panel (a real QDropEvent on the qasync
   loop) until the controller reports the inserted row (target: under 500 ms), median of N.
3. The UI heartbeat (10 ms QTimer) during a whole 50 MB .txt import (conversion included).

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python bench/import_upload.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import qasync
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from echogen_desktop.importing.controller import FileState, ImportController
from echogen_desktop.importing.journal import UploadJournal
from echogen_desktop.importing.metadata import warm_up
from echogen_desktop.importing.pipeline import ImportPipeline
from echogen_desktop.services.backend import Backend
from echogen_desktop.services.upload_service import TranscriptStore
from echogen_desktop.tasks import TaskRunner
from echogen_desktop.views.import_panel import ImportPanel
from echogen_devstack.process import stack_tempdir, start_stack_process, stop_stack_process

SENTENCE = "The deep sea vents host whole ecosystems that live without sunlight, fed by chemistry. "


async def wait_for(condition: object, timeout: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():  # type: ignore[operator]
        if time.perf_counter() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.001)


def deliver_drop(panel: ImportPanel, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    handle = panel.window().windowHandle()
    assert handle is not None
    pos = panel.mapTo(panel.window(), QPoint(30, 30))
    QApplication.sendEvent(handle, QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                                   Qt.KeyboardModifier.NoModifier))
    QApplication.sendEvent(handle, QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime,
                                              Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))


async def main(runs: int, url: str, anon_key: str, work: Path) -> None:
    backend = await Backend.connect(url, anon_key, request_timeout=120)
    email = f"bench-{uuid.uuid4().hex[:8]}@example.test"
    await backend.sign_up(email, "bench password 1")
    await backend.sign_in(email, "bench password 1")
    user_id = backend.user.user_id if backend.user else ""
    store = TranscriptStore(backend)
    pipeline = ImportPipeline(store, UploadJournal(work / "journal"))
    await asyncio.to_thread(warm_up)

    # 1. 50 MB: ours versus raw storage3
    big = work / "big.pdf"
    big.write_bytes(b"%PDF-1.4\n" + os.urandom(50 * 1024 * 1024 - 4096))
    size = big.stat().st_size
    ours: list[float] = []
    raw: list[float] = []
    for run in range(runs):
        started = time.perf_counter()
        await store.upload(f"{user_id}/ours-{run}/big.pdf", big, "application/pdf", size, lambda _s, _t: None)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        await backend.bucket("transcripts").upload(f"{user_id}/raw-{run}/big.pdf", big,
                                                   {"content-type": "application/pdf"})
        raw.append(time.perf_counter() - started)
    ours_mbs = size / statistics.median(ours) / 1e6
    raw_mbs = size / statistics.median(raw) / 1e6
    print(f"50 MB upload, median of {runs}: import stream {ours_mbs:.0f} MB/s, raw storage3 {raw_mbs:.0f} MB/s, "
          f"ratio {ours_mbs / raw_mbs:.0%}")

    # 2. drop -> row for a 100 KB transcript
    runner = TaskRunner()
    controller = ImportController(pipeline, runner)
    panel = ImportPanel(controller)
    panel.resize(600, 400)
    panel.show()
    latencies: list[float] = []
    keys: list[int] = []
    controller.fileAdded.connect(keys.append)
    for run in range(runs):
        text = work / f"transcript-{run}.txt"
        text.write_text(f"# Transcript {run} {uuid.uuid4()}\n\n" + SENTENCE * (100_000 // len(SENTENCE)))
        before = len(keys)
        started = time.perf_counter()
        deliver_drop(panel, text)
        await wait_for(lambda b=before: len(keys) > b and controller.task(keys[-1]).state.final)
        latencies.append(time.perf_counter() - started)
        assert controller.task(keys[-1]).state is FileState.DONE, controller.task(keys[-1]).message
    print(f"drop -> row (100 KB .txt), median of {runs}: {statistics.median(latencies) * 1000:.0f} ms "
          f"(min {min(latencies) * 1000:.0f}, max {max(latencies) * 1000:.0f})")

    # 3. heartbeat during a 50 MB .txt import (conversion + language + upload + insert)
    huge = work / "huge.txt"
    huge.write_text(SENTENCE * (49 * 1024 * 1024 // len(SENTENCE)))
    beats: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: beats.append(time.perf_counter()))
    timer.start()
    started = time.perf_counter()
    controller.import_paths([huge])
    await wait_for(lambda: controller.batch()[-1].state.final, 300)
    timer.stop()
    gaps = [b - a for a, b in itertools.pairwise(beats)]
    print(f"50 MB .txt import: {time.perf_counter() - started:.1f} s, {controller.batch()[-1].state.value}, "
          f"heartbeat max gap {max(gaps) * 1000:.0f} ms, gaps over 100 ms: {sum(g > 0.1 for g in gaps)}")
    await backend.close()


def run() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    stack_dir = stack_tempdir("echogen-bench-import-")
    work = Path(tempfile.mkdtemp(prefix="echogen-bench-files-"))
    proc, info = start_stack_process(stack_dir / "stack")
    try:
        app = QApplication.instance() or QApplication([])
        loop = qasync.QEventLoop(app)
        with loop:
            loop.run_until_complete(main(args.runs, info.url, info.anon_key, work))
    finally:
        stop_stack_process(proc)
        shutil.rmtree(stack_dir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run()
