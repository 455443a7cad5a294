"""Render every main-window section with the demo data to docs/screenshots/*.png.

Starts a throwaway devstack, seeds the demo library, signs in as the demo user and grabs the
window once each section's list and detail have loaded. Run from the repository root:

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from echogen_desktop import APP_NAME  # noqa: E402
from echogen_desktop.offline.library_db import LibraryDb  # noqa: E402
from echogen_desktop.services.backend import Backend  # noqa: E402
from echogen_desktop.services.records import Job, JobStatus  # noqa: E402
from echogen_desktop.tasks import TaskRunner  # noqa: E402
from echogen_desktop.views.main_window import MainWindow  # noqa: E402
from echogen_desktop.views.sections.base import ListSection  # noqa: E402
from echogen_desktop.views.theme import apply_scheme  # noqa: E402
from echogen_devstack.process import stack_tempdir, start_stack_process, stop_stack_process  # noqa: E402
from echogen_devstack.seed import DEMO_EMAIL, DEMO_PASSWORD, seed_demo  # noqa: E402

SIZE = (1280, 800)


async def settle(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the window did not finish loading")
        await asyncio.sleep(0.05)


def pick_row(section: ListSection) -> int:
    """The row that shows most in the detail pane: a failed job, a timed script, else the first."""
    model = section.model
    assert model is not None
    for row in range(model.rowCount()):
        record = model.record_at(row)
        if isinstance(record, Job) and record.status is JobStatus.FAILED:
            return row
        if section.key == "scripts" and record is not None and record.metadata.get("timed"):
            return row
        if section.key == "library" and record is not None and record.provider != "upload":
            return row
    return 0


async def shoot(window: MainWindow, runner: TaskRunner, out: Path, dark_too: bool) -> list[Path]:
    saved: list[Path] = []
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    for number, section in enumerate(window.sections, start=1):
        window.show_section(number - 1)
        if isinstance(section, ListSection):
            await settle(lambda s=section: s.model is not None and s.model.total_count() >= 0 and not runner.busy)
            section.select_id(section.model.record_at(pick_row(section)).id)  # type: ignore[union-attr]
        await asyncio.sleep(0.2)
        await settle(lambda: not runner.busy)
        await asyncio.sleep(0.3)  # let layouts and the chart animation settle
        path = out / f"{number}-{section.key}.png"
        window.grab().save(str(path))
        saved.append(path)
    if dark_too:
        apply_scheme(app, Qt.ColorScheme.Dark)
        for number in (1, 4):
            window.show_section(number - 1)
            section = window.sections[number - 1]
            section.refresh()
            await asyncio.sleep(0.3)
            await settle(lambda: not runner.busy)
            path = out / f"{number}-{section.key}-dark.png"
            window.grab().save(str(path))
            saved.append(path)
        apply_scheme(app, Qt.ColorScheme.Light)
    saved.append(await shoot_player(window, runner, out))
    return saved


async def shoot_player(window: MainWindow, runner: TaskRunner, out: Path) -> Path:
    """Podcasts with an episode playing: the player bar, the transcript following, a review note."""
    index = next(i for i, s in enumerate(window.sections) if s.key == "podcasts")
    window.show_section(index)
    section = window.sections[index]
    assert isinstance(section, ListSection) and section.model is not None
    section.select_id(section.model.record_at(0).id)  # type: ignore[union-attr]
    await settle(lambda: not runner.busy)
    section.podcast_detail.play_button.click()  # type: ignore[attr-defined]
    player = window.player
    await settle(lambda: player.playing and player.position > 0)
    player.seek(20_000)
    await settle(lambda: player.position >= 20_500)
    player.pause()
    notes = window.review_dock.notes.model
    notes.add(12.0, "mispronounced 'Supabase'")
    notes.add(19.5, "cut this pause")
    await settle(lambda: not runner.busy)
    await asyncio.sleep(0.5)
    path = out / "7-player.png"
    window.grab().save(str(path))
    return path


async def run(out: Path, dark_too: bool) -> list[Path]:
    data_dir = stack_tempdir("echogen-screenshots-")
    proc, info = start_stack_process(data_dir, "--bcrypt-rounds", "4")
    backend: Backend | None = None
    try:
        await seed_demo(info.url, info.anon_key, info.service_key)
        backend = await Backend.connect(info.url, info.anon_key)
        user = await backend.sign_in(DEMO_EMAIL, DEMO_PASSWORD)
        settings_dir = Path(tempfile.mkdtemp(prefix="echogen-shots-settings-"))
        settings = QSettings(str(settings_dir / "settings.ini"), QSettings.Format.IniFormat)
        runner = TaskRunner()
        window = MainWindow(settings, project_url=info.url,
                            library_db=lambda: LibraryDb(settings_dir / "data" / "library.sqlite3"))
        window.cache_dir = settings_dir / "cache"
        window.resize(*SIZE)
        window.attach(backend, runner)
        window.set_signed_in(user)
        window.show()
        try:
            return await shoot(window, runner, out, dark_too)
        finally:
            window.close()
            shutil.rmtree(settings_dir, ignore_errors=True)
    finally:
        if backend is not None:
            await backend.close()
        stop_stack_process(proc)
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--no-dark", action="store_true", help="skip the dark-theme pictures")
    args = parser.parse_args()
    import qasync

    from echogen_desktop.views.theme import follow_system_theme

    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setQuitOnLastWindowClosed(False)  # closing the window must not stop the loop mid-run
    follow_system_theme(app)
    apply_scheme(app, Qt.ColorScheme.Light)  # the pictures in the README are the light theme
    args.out.mkdir(parents=True, exist_ok=True)
    saved = qasync.run(run(args.out, not args.no_dark))
    for path in saved:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
