"""The main window shell: signed-out page, section shortcuts, search/refresh keys, remembered layout,
and a backend that goes away mid-session (a non-modal message; the window stays usable)."""

# ruff: noqa: F811 - the shared fixtures are imported by name and then requested as parameters

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QKeySequence, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from echogen_desktop.colors import is_dark, status_color
from echogen_desktop.icons import render
from echogen_desktop.services.records import ContentItem
from echogen_desktop.views.main_window import MainWindow
from echogen_desktop.views.theme import apply_scheme, follow_system_theme
from echogen_desktop.views.widgets.notification_bar import Level
from echogen_devstack.runner import StackInfo
from echogen_devstack.seed import DemoLibrary
from tests.conftest import TestUser, wait_until
from tests.views_support import CuttableProxy, Ui, confirm_dialog, db, open_window, seeded, ui  # noqa: F401

pytestmark = pytest.mark.qasync


def press(window: MainWindow, sequence: str, target: QWidget | None = None) -> None:
    """Type a key sequence at the window the way a user would (shortcuts need the active window)."""
    window.activateWindow()
    combo = QKeySequence(sequence)[0]
    QTest.keyClick(target or QApplication.focusWidget() or window, combo.key(), combo.keyboardModifiers())


def test_signed_out_window_says_not_connected(qtbot: QtBot, tmp_path: Path) -> None:
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), project_url="http://x.test")
    qtbot.addWidget(window)
    window.show()
    assert window.status_label.isVisible() and window.status_label.text() == "Not connected"
    assert "http://x.test" in window.hint_label.text()
    assert not window.sidebar.isVisible() and not window.sign_out_action.isEnabled()


async def test_sections_switch_with_ctrl_1_to_6(ui: Ui) -> None:
    window = ui.window
    assert window.sidebar.isVisible() and not window.status_label.isVisible()
    for number in (4, 2, 6, 5, 3, 1):
        press(window, f"Ctrl+{number}")
        assert window.sidebar.currentRow() == number - 1
        assert window.section_stack.currentWidget() is window.sections[number - 1]
    press(window, "Ctrl+5")
    assert window.current_section().key == "vault"
    assert window.section("vault").editor.isVisible()  # type: ignore[attr-defined]


async def test_ctrl_f_searches_and_f5_refreshes_the_current_list(ui: Ui) -> None:
    window = ui.window
    press(window, "Ctrl+1")
    section = ui.section("library")
    press(window, "Ctrl+F")
    assert isinstance(QApplication.focusWidget(), QLineEdit) and QApplication.focusWidget() is section.search
    assert section.model is not None
    before = section.model.total_count()
    await ui.user.client.table("scraped_content").insert({
        "user_id": ui.user.id, "url": "https://example.test/new", "title": "Added elsewhere", "markdown": "x",
        "provider": "firecrawl",
    }).execute()
    press(window, "F5")
    await wait_until(lambda: section.model is not None and section.model.total_count() == before + 1, 5)
    titles = [section.model.record_at(r).title for r in range(section.model.rowCount())]
    assert titles[0] == "Added elsewhere"
    press(window, "Ctrl+3")
    podcasts = ui.section("podcasts")
    await ui.user.client.table("generated_podcasts").delete().eq("id", ui.lib.generated_podcasts[0]["id"]).execute()
    press(window, "Ctrl+R")
    await wait_until(lambda: podcasts.model is not None and podcasts.model.total_count() == 1, 5)


async def test_delete_key_on_the_list_asks_then_deletes(ui: Ui) -> None:
    article = next(r for r in ui.lib.scraped_content if r["provider"] == "hyperbrowser")
    section = await ui.select("library", article["id"])
    section.table.setFocus()
    press(ui.window, "Del")
    await confirm_dialog(section)
    await ui.idle()
    assert await ui.db.fetchval("select count(*) from scraped_content where id = $1", article["id"]) == 0
    # In the search field Delete edits text instead.
    section.search.setText("abc")
    section.search.setFocus()
    section.search.setCursorPosition(0)
    press(ui.window, "Del", section.search)
    assert section.search.text() == "bc"


async def test_layout_and_last_section_are_restored(
    stack: StackInfo, seeded: tuple[TestUser, DemoLibrary], db: asyncpg.Connection,
) -> None:
    user, lib = seeded
    directory = Path(tempfile.mkdtemp(prefix="echogen-views-layout-"))
    try:
        await _reopen_and_compare(stack, user, lib, db, directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def _reopen_and_compare(
    stack: StackInfo, user: TestUser, lib: DemoLibrary, db: asyncpg.Connection, directory: Path,
) -> None:
    async with open_window(stack, user, lib, db, settings_dir=directory) as first:
        await first.settle()
        first.window.resize(770, 570)  # inside the offscreen screen (800x600)
        first.window.show_section(3)
        QApplication.processEvents()
        jobs = first.section("jobs")
        jobs.splitter.setSizes([380, 200])
        sizes = jobs.splitter.sizes()
        header = jobs.table.horizontalHeader()
        header.resizeSection(1, 222)
        header.setSortIndicator(1, Qt.SortOrder.AscendingOrder)  # sort by type
        await first.loaded("jobs")
        assert jobs.splitter.sizes() == sizes
    async with open_window(stack, user, lib, db, settings_dir=directory) as second:
        await second.settle()
        window = second.window
        assert window.current_section().key == "jobs"
        assert (window.width(), window.height()) == (770, 570)
        jobs = second.section("jobs")
        assert jobs.splitter.sizes() == sizes
        assert jobs.table.horizontalHeader().sectionSize(1) == 222
        # The restored sort is the server's order too.
        assert jobs.model is not None and jobs.model.sort_column() == 1
        types = [jobs.model.record_at(r).job_type for r in range(jobs.model.rowCount())]
        assert types == sorted(types)


async def test_unreachable_backend_shows_a_message_and_the_window_stays_usable(
    stack: StackInfo, seeded: tuple[TestUser, DemoLibrary], db: asyncpg.Connection,
) -> None:
    user, lib = seeded
    target = urlsplit(stack.url)
    proxy = CuttableProxy(target.hostname or "127.0.0.1", target.port or 80)
    await proxy.start()
    async with open_window(stack, user, lib, db, url=proxy.url) as ui:
        await ui.settle()
        window = ui.window
        library = ui.section("library")
        assert library.model is not None and library.model.total_count() == len(lib.scraped_content)
        jobs = ui.section("jobs")
        failed = next(r for r in lib.worker_jobs if r["status"] == "failed")
        await ui.select("jobs", failed["id"])
        assert jobs.job_detail.retry_button.isEnabled()  # type: ignore[attr-defined]
        press(window, "Ctrl+1")

        await proxy.cut()
        press(window, "F5")
        await wait_until(lambda: window.notifications.message != "", 10)
        assert window.notifications.level is Level.ERROR
        assert "cannot be reached" in window.notifications.message
        assert window.notifications.isVisible() and not QApplication.activeModalWidget()
        assert not ui.runner.busy and not window.busy_bar.isVisible()
        # Still usable: the loaded rows stay, sections switch, a failing action reports and recovers.
        assert library.model.rowCount() == len(lib.scraped_content)
        press(window, "Ctrl+4")
        assert window.current_section() is jobs
        window.notifications.dismiss()
        jobs.job_detail.retry_button.click()  # type: ignore[attr-defined]
        await wait_until(lambda: window.notifications.message != "", 10)
        assert "cannot be reached" in window.notifications.message
        assert jobs.job_detail.retry_button.isEnabled()  # type: ignore[attr-defined]
        # Another row still selects; its details cannot load, and nothing stale is shown instead.
        window.notifications.dismiss()
        other = next(r for r in lib.worker_jobs if r["status"] == "succeeded")
        assert jobs.select_id(other["id"])
        await wait_until(lambda: window.notifications.message != "", 10)
        assert jobs.job_detail.payload_view.toPlainText() == ""  # type: ignore[attr-defined]
        assert not jobs.job_detail.retry_button.isEnabled()  # type: ignore[attr-defined]
        # Back online: the same window carries on.
        await proxy.restore()
        press(window, "Ctrl+1")
        await ui.user.client.table("scraped_content").insert({
            "user_id": user.id, "url": "https://example.test/back", "title": "Back online", "markdown": "x",
            "provider": "firecrawl",
        }).execute()
        press(window, "F5")
        await wait_until(lambda: library.model is not None and library.model.total_count() == len(
            lib.scraped_content) + 1, 10)
        record = library.model.record_at(0)
        assert isinstance(record, ContentItem) and record.title == "Back online"
    await proxy.cut()


async def test_theme_follows_the_color_scheme(ui: Ui) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    hints = app.styleHints()
    follow_system_theme(app)
    try:
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)  # what the platform sends on a system switch
        QApplication.processEvents()
        assert is_dark(app.palette()) and is_dark(ui.window.palette())
        dark_badge = status_color("failed")
        ui.window.grab()  # paints the badges and the error colours in the dark theme
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
        QApplication.processEvents()
        assert not is_dark(ui.window.palette())
        assert status_color("failed") != dark_badge
    finally:
        apply_scheme(app, Qt.ColorScheme.Light)


def _ink(icon: QIcon, mode: QIcon.Mode = QIcon.Mode.Normal) -> QColor:
    """The colour most of an icon's opaque pixels have."""
    image = icon.pixmap(QSize(20, 20), mode).toImage()
    counts = Counter(image.pixel(x, y) for x in range(image.width()) for y in range(image.height())
                     if QColor.fromRgba(image.pixel(x, y)).alpha() == 255)
    assert counts, "the icon is empty"
    return QColor.fromRgba(counts.most_common(1)[0][0])


def test_sidebar_icons_are_the_projects_own_in_light_and_dark(qtbot: QtBot, tmp_path: Path) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_scheme(app, Qt.ColorScheme.Light)
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    names = ("library", "script", "podcast", "jobs", "vault", "profile")
    assert window.sidebar.count() == len(names)
    try:
        for scheme in (Qt.ColorScheme.Light, Qt.ColorScheme.Dark):
            apply_scheme(app, scheme)
            QApplication.processEvents()
            text = window.palette().color(QPalette.ColorRole.WindowText)
            for row, name in enumerate(names):
                icon = window.sidebar.item(row).icon()
                assert _ink(icon) == text, (scheme, name)
                assert _ink(icon, QIcon.Mode.Selected) == window.palette().color(QPalette.ColorRole.HighlightedText)
                drawn = render(name, text, 20).toImage()  # our SVG, not a style's standard pixmap
                assert icon.pixmap(QSize(20, 20)).toImage().convertToFormat(drawn.format()) == drawn, name
    finally:
        apply_scheme(app, Qt.ColorScheme.Light)


def _has_colour(widget: QWidget, colour: QColor) -> bool:
    image = widget.grab().toImage()
    wanted = colour.rgb()
    return any(image.pixel(x, y) == wanted for x in range(image.width()) for y in range(image.height()))


def test_links_in_the_article_follow_a_light_dark_switch(qtbot: QtBot) -> None:
    from datetime import UTC, datetime

    from echogen_desktop.views.sections.library import ContentDetail

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_scheme(app, Qt.ColorScheme.Light)
    detail = ContentDetail()
    qtbot.addWidget(detail)
    detail.resize(600, 400)
    detail.show()
    detail.show_item(ContentItem(id="c1", title="T", url="https://example.test/article", provider="firecrawl",
                                 created_at=datetime.now(UTC), markdown="See [the source](https://example.test/x)."))
    light_link = detail.palette().color(QPalette.ColorRole.Link)
    assert _has_colour(detail.source_label, light_link)
    try:
        apply_scheme(app, Qt.ColorScheme.Dark)
        QApplication.processEvents()
        dark_link = detail.palette().color(QPalette.ColorRole.Link)
        assert dark_link != light_link
        assert _has_colour(detail.source_label, dark_link) and not _has_colour(detail.source_label, light_link)
        assert _has_colour(detail.body.viewport(), dark_link)
    finally:
        apply_scheme(app, Qt.ColorScheme.Light)
