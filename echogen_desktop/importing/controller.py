"""Qt side of imports: one task per file on the qasync loop, state the panel can show.

The view calls ``import_paths`` / ``resolve_duplicate`` / ``cancel_all`` and listens to the
signals; every network call goes through the pipeline and the TaskRunner.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import threading
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QStandardPaths, Signal

from echogen_desktop.importing.errors import ImportRejected
from echogen_desktop.importing.formats import SUPPORTED_TYPES_TEXT, format_of
from echogen_desktop.importing.metadata import warm_up
from echogen_desktop.importing.pipeline import ImportPipeline, Prepared
from echogen_desktop.services.errors import ServiceError
from echogen_desktop.services.records import ContentItem
from echogen_desktop.tasks import TaskRunner

log = logging.getLogger(__name__)
PARALLEL_FILES = 2


def default_journal_dir() -> Path:
    """Where in-flight uploads are journaled: the app's data folder (AppDataLocation)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) / "import-journal"


class FileState(enum.Enum):
    QUEUED = "queued"
    CONVERTING = "converting"
    DUPLICATE = "duplicate"  # waiting for the user: skip or import anyway
    UPLOADING = "uploading"
    DONE = "done"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"

    @property
    def final(self) -> bool:
        return self in _FINAL


_FINAL = {FileState.DONE, FileState.REJECTED, FileState.FAILED, FileState.CANCELLED, FileState.SKIPPED}


@dataclass
class FileTask:
    key: int
    path: Path
    name: str
    total: int
    state: FileState = FileState.QUEUED
    sent: int = 0
    message: str = ""
    prepared: Prepared | None = None
    item: ContentItem | None = None
    duplicates: list[ContentItem] = field(default_factory=list)
    reject: ImportRejected | None = None


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Files to import (folders walked for supported files, hidden ones skipped) and empty folders."""
    files: list[Path] = []
    empty_folders: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.is_file() and format_of(p.name) is not None
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            files.extend(found) if found else empty_folders.append(path)
        else:
            files.append(path)
    return files, empty_folders


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class ImportController(QObject):
    fileAdded = Signal(int)  # key of a new FileTask
    fileChanged = Signal(int)  # its state, progress or message changed
    overallProgress = Signal(int, int)  # bytes done, bytes in the batch
    itemImported = Signal(object, bool)  # ContentItem, and whether to select it (a single-file batch)
    batchFinished = Signal(int, int)  # imported, not imported
    runningChanged = Signal(bool)
    orphansCleaned = Signal(int)

    def __init__(self, pipeline: ImportPipeline, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pipeline = pipeline
        self._runner = runner
        self._tasks: dict[int, FileTask] = {}
        self._running: dict[int, asyncio.Task[None]] = {}
        self._next_key = 0
        self._batch: list[int] = []
        self._slots = asyncio.Semaphore(PARALLEL_FILES)
        # The language model takes ~1 s to load: do it now, so the first drop is not slowed by it.
        threading.Thread(target=warm_up, name="import-warm-up", daemon=True).start()

    # ---------------------------------------------------------------- queries
    def task(self, key: int) -> FileTask:
        return self._tasks[key]

    def batch(self) -> list[FileTask]:
        return [self._tasks[key] for key in self._batch]

    @property
    def running(self) -> bool:
        return bool(self._running)

    # ---------------------------------------------------------------- intents
    def import_paths(self, paths: Iterable[Path | str]) -> list[int]:
        """Start importing files and folders; returns the keys of the new file tasks."""
        if not self._running and all(t.state.final for t in self.batch()):
            self._batch = []  # a new drop after the last one finished starts a new batch
        files, empty_folders = expand_paths(Path(p) for p in paths)
        keys: list[int] = []
        for folder in empty_folders:
            task = self._add(folder, 0)
            message = self.tr("“{0}” has no files of a supported type ({1}).")
            self._finish(task, FileState.REJECTED, message.format(folder.name, SUPPORTED_TYPES_TEXT))
            keys.append(task.key)
        for path in files:
            task = self._add(path, _size(path))
            keys.append(task.key)
            self._start(task, self._prepare_and_upload(task))
        self._emit_overall()
        return keys

    def resolve_duplicate(self, key: int, import_anyway: bool) -> None:
        task = self._tasks[key]
        if task.state is not FileState.DUPLICATE or task.prepared is None:
            return
        if import_anyway:
            self._start(task, self._upload(task, task.prepared))
        else:
            self._finish(task, FileState.SKIPPED, self.tr("Skipped: already in your library."))

    def cancel(self, key: int) -> None:
        task = self._tasks[key]
        running = self._running.get(key)
        if running is not None:
            running.cancel()
        elif task.state is FileState.DUPLICATE:
            self._finish(task, FileState.CANCELLED, self.tr("Cancelled; nothing was imported."))

    def cancel_all(self) -> None:
        for task in self.batch():
            if not task.state.final:
                self.cancel(task.key)

    def recover(self) -> None:
        """Clean up uploads a killed previous run left without a row (call once after sign-in)."""
        self._runner.run(self.pipeline.recover(), lambda removed: self.orphansCleaned.emit(len(removed)),
                         lambda error: log.warning("orphan clean-up failed: %s", error.message), owner=self)

    # -------------------------------------------------------------- the work
    def _add(self, path: Path, size: int) -> FileTask:
        task = FileTask(self._next_key, path, path.name or str(path), size)
        self._next_key += 1
        self._tasks[task.key] = task
        self._batch.append(task.key)
        self.fileAdded.emit(task.key)
        return task

    def _start(self, task: FileTask, coro: Coroutine[Any, Any, None]) -> None:
        was_running = self.running
        future = self._runner.run(coro, owner=self)
        self._running[task.key] = future
        key = task.key
        future.add_done_callback(lambda _f: self._task_done(key))
        if not was_running:
            self.runningChanged.emit(True)

    def _task_done(self, key: int) -> None:
        self._running.pop(key, None)
        if not self._running:
            self.runningChanged.emit(False)
            self._maybe_finish_batch()

    def _update(self, task: FileTask, state: FileState, message: str = "") -> None:
        task.state = state
        task.message = message
        self.fileChanged.emit(task.key)

    def _finish(self, task: FileTask, state: FileState, message: str) -> None:
        self._update(task, state, message)
        self._emit_overall()

    def _emit_overall(self) -> None:
        batch = self.batch()
        total = sum(max(t.total, 1) for t in batch)
        done = sum(max(t.total, 1) if t.state.final else min(t.sent, t.total) for t in batch)
        self.overallProgress.emit(done, total)

    def _maybe_finish_batch(self) -> None:
        batch = self.batch()
        if batch and all(t.state.final for t in batch):
            imported = sum(1 for t in batch if t.state is FileState.DONE)
            self.batchFinished.emit(imported, len(batch) - imported)

    async def _prepare_and_upload(self, task: FileTask) -> None:
        async with self._slots:
            try:
                self._update(task, FileState.CONVERTING, self.tr("Reading…"))
                prepared = await self.pipeline.prepare(task.path)
                task.prepared = prepared
                task.duplicates = await self.pipeline.find_duplicates(prepared)
            except ImportRejected as rejected:
                task.reject = rejected
                self._finish(task, FileState.REJECTED, rejected.message)
                return
            except ServiceError as error:
                message = self.tr("“{0}” was not imported: {1}").format(task.name, error.message)
                self._finish(task, FileState.FAILED, message)
                return
            except asyncio.CancelledError:
                self._finish(task, FileState.CANCELLED, self.tr("Cancelled; nothing was imported."))
                raise
            if task.duplicates:
                first = task.duplicates[0]
                self._update(task, FileState.DUPLICATE, self.tr(
                    "“{0}” is already in your library as “{1}” (imported {2}). Skip it or import it anyway?"
                ).format(task.name, first.title, first.created_at.astimezone().strftime("%Y-%m-%d %H:%M")))
                return
            await self._commit(task, prepared)

    async def _upload(self, task: FileTask, prepared: Prepared) -> None:
        async with self._slots:
            await self._commit(task, prepared)

    async def _commit(self, task: FileTask, prepared: Prepared) -> None:
        self._update(task, FileState.UPLOADING, self.tr("Uploading…"))

        def progress(sent: int, total: int) -> None:
            task.sent, task.total = sent, total
            self.fileChanged.emit(task.key)
            self._emit_overall()

        try:
            item = await self.pipeline.commit(prepared, progress)
        except asyncio.CancelledError:
            self._finish(task, FileState.CANCELLED, self.tr("Cancelled; nothing was saved."))
            raise
        except ServiceError as error:
            self._finish(task, FileState.FAILED, self.tr(
                "“{0}” was not imported: {1} Nothing was saved."
            ).format(task.name, error.message.rstrip(".") + "."))
            return
        task.item = item
        task.sent = task.total
        self._finish(task, FileState.DONE, self.tr("Imported as “{0}”.").format(item.title))
        self.itemImported.emit(item, len(self._batch) == 1)
