"""echogen://podcast/<id>: parsing, and opening the episode in a signed-in window (also when it comes
before the window, and when it points at nothing)."""

# ruff: noqa: F811 - the shared fixtures are imported by name and then requested as parameters

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QUrl
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication

from echogen_desktop import links
from echogen_desktop.links import LinkError, LinkRouter, PodcastLink, parse_link
from echogen_desktop.views.widgets.notification_bar import Level
from tests.conftest import wait_until
from tests.views_support import Ui, db, seeded, ui  # noqa: F401

EPISODE = "0b6f3c1e-7d2a-4c55-9e1f-2a3b4c5d6e7f"


@pytest.mark.parametrize(
    "text",
    [
        f"echogen://podcast/{EPISODE}",
        f"ECHOGEN://Podcast/{EPISODE.upper()}",
        f"echogen://podcast/{EPISODE}/",
        f"  echogen://podcast/{EPISODE}\n",
        f"echogen://podcast/{EPISODE.replace('-', '')}",
    ],
)
def test_episode_links_parse(text: str) -> None:
    assert parse_link(text) == PodcastLink(EPISODE)
    assert PodcastLink(EPISODE).url() == f"echogen://podcast/{EPISODE}"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (f"https://podcast/{EPISODE}", "Not an echogen:// link"),
        (f"echogen://script/{EPISODE}", "Unknown kind"),
        ("echogen://podcast/", "looks like"),
        (f"echogen://podcast/{EPISODE}/extra", "looks like"),
        ("echogen://podcast/42", "not valid"),
        ("echogen://podcast/..%2F..%2Fetc%2Fpasswd", "not valid"),
        ("", "Not an echogen:// link"),
    ],
)
def test_other_links_are_refused_with_a_reason(text: str, why: str) -> None:
    with pytest.raises(LinkError) as caught:
        parse_link(text)
    assert why in caught.value.message


@dataclass
class Shell:
    window: Any = None


def _podcast_id(ui: Ui) -> str:
    return str(ui.lib.generated_podcasts[-1]["id"])


def _current_podcast(ui: Ui) -> str | None:
    record = ui.section("podcasts").current_record()
    return None if record is None else str(record.id)


@pytest.mark.qasync
async def test_a_link_selects_the_episode(ui: Ui) -> None:
    target = _podcast_id(ui)
    ui.window.show_section(0)
    assert _current_podcast(ui) != target
    router = LinkRouter(Shell(ui.window))
    assert router.open_link(f"echogen://podcast/{target}")
    await wait_until(lambda: _current_podcast(ui) == target, 10, "the episode was not selected")
    assert ui.window.current_section().key == "podcasts" and router.pending is None


@pytest.mark.qasync
async def test_a_link_waits_for_the_window_and_the_sign_in(ui: Ui) -> None:
    target = _podcast_id(ui)
    shell = Shell(None)
    router = LinkRouter(shell)
    router.open_link(f"echogen://podcast/{target}")  # first launch: nobody signed in yet
    await asyncio.sleep(0.6)  # a few retries with no window
    assert router.pending == PodcastLink(target)
    shell.window = ui.window  # the shell built the main window after the sign-in
    await wait_until(lambda: _current_podcast(ui) == target, 10, "the pending link was not opened")


@pytest.mark.qasync
async def test_an_unknown_episode_says_so(ui: Ui, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(links, "GIVE_UP_MS", 1_000)
    router = LinkRouter(Shell(ui.window))
    router.open_link(f"echogen://podcast/{uuid.uuid4()}")
    await wait_until(lambda: router.pending is None, 5, "the router did not give up")
    assert ui.window.notifications.level == Level.ERROR
    assert "not found" in ui.window.notifications.message


@pytest.mark.qasync
async def test_a_broken_link_is_reported_in_the_window(ui: Ui) -> None:
    router = LinkRouter(Shell(ui.window))
    assert not router.open_link("echogen://podcast/not-an-id")
    assert "not valid" in ui.window.notifications.message
    assert not router.open_link("")  # a plain second launch: nothing to open, nothing to say


@pytest.mark.qasync
async def test_macos_open_url_events_are_links(ui: Ui) -> None:
    target = _podcast_id(ui)
    router = LinkRouter(Shell(ui.window))
    app = QApplication.instance()
    assert app is not None
    router.watch_file_open_events(app)
    try:
        event = QFileOpenEvent(QUrl(f"echogen://podcast/{target}"))
        assert event.type() == QEvent.Type.FileOpen
        QCoreApplication.sendEvent(app, event)
        await wait_until(lambda: _current_podcast(ui) == target, 10, "the open event did not select it")
    finally:
        app.removeEventFilter(router)
