"""Transcript follow-along: timing placement, highlight following real playback, click-to-seek, search."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from echogen_desktop.player.transcript import TranscriptModel, TranscriptPane, place_segments, segment_at
from echogen_desktop.services.records import Segment
from tests.conftest import wait_until
from tests.player_support import SigningProvider, UserFactory, new_player, wav_episode

TIMED = [
    Segment("Ava", "Welcome back to the show.", 0.0, 2.0),
    Segment("Ben", "Today: deep sea vents.", 2.0, 4.0),
    Segment("Ava", "They are hot, and full of life.", 4.0, 6.0),
    Segment("Ben", "Mispronounced Supabase here.", 6.0, 8.0),
]


def test_untimed_segments_share_the_duration_by_text_length() -> None:
    segments = [Segment("A", "x" * 10), Segment("B", "y" * 30), Segment("A", "z" * 60)]
    placed = place_segments(segments, 50.0)
    assert [(s.start, s.end) for s in placed] == [(0.0, 5.0), (5.0, 20.0), (20.0, 50.0)]
    assert all(s.estimated for s in placed)


def test_untimed_runs_fill_the_gaps_between_timed_segments() -> None:
    segments = [
        Segment("A", "timed", 0.0, 4.0),
        Segment("B", "aa"), Segment("B", "aaaaaa"),  # fill 4..12 as 2:6
        Segment("A", "timed again", 12.0, 15.0),
        Segment("B", "tail"),  # fills 15..20 (the real duration)
    ]
    placed = place_segments(segments, 20.0)
    assert [(s.start, s.end, s.estimated) for s in placed] == [
        (0.0, 4.0, False), (4.0, 6.0, True), (6.0, 12.0, True), (12.0, 15.0, False), (15.0, 20.0, True),
    ]
    assert segment_at(placed, 0.0) == 0
    assert segment_at(placed, 5.9) == 1
    assert segment_at(placed, 12.0) == 3
    assert segment_at(placed, 19.9) == 4


def test_transcript_model_passes_the_model_tester(qtmodeltester: ModelTester) -> None:
    model = TranscriptModel()
    model.set_segments([*TIMED, Segment("Ava", "untimed outro")], 10.0)
    model.set_position(3.0)
    qtmodeltester.check(model)
    assert model.current_row == 1
    assert model.data(model.index(1), Qt.ItemDataRole.FontRole).bold()
    assert str(model.data(model.index(4))).startswith("≈")


@pytest.mark.qasync
async def test_highlight_follows_playback_and_click_seeks(
    qtbot: QtBot, tmp_path: Path, user_factory: UserFactory
) -> None:
    user = await user_factory()
    episode = await wav_episode(user, seconds=8)
    player = new_player(tmp_path / "player.ini")
    pane = TranscriptPane()
    qtbot.addWidget(pane)
    pane.resize(420, 300)
    pane.show()
    pane.set_segments(TIMED, 8.0)
    player.positionChanged.connect(pane.set_position_ms)
    pane.seekRequested.connect(player.seek)
    try:
        await player.load(episode, SigningProvider(user))
        await wait_until(lambda: pane.model.current_row == 0, timeout=5)
        await wait_until(lambda: pane.model.current_row == 1, timeout=4, message="highlight did not follow")
        assert player.position >= 2000

        rect = pane.view.visualRect(pane.model.index(3))
        qtbot.mouseClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert pane.model.current_row == 3
        await wait_until(lambda: player.media.position() >= 6000, timeout=3, message="click did not seek")
        await asyncio.sleep(0.3)
        assert pane.model.current_row == 3
    finally:
        player.shutdown()


@pytest.mark.qasync
async def test_untimed_transcript_uses_the_real_duration(
    qtbot: QtBot, tmp_path: Path, user_factory: UserFactory
) -> None:
    user = await user_factory()
    episode = await wav_episode(user, seconds=6)
    player = new_player(tmp_path / "player.ini")
    pane = TranscriptPane()
    qtbot.addWidget(pane)
    pane.show()
    pane.set_segments([Segment("Ava", "a" * 20), Segment("Ben", "b" * 40)], 60.0)  # a wrong guess
    assert pane.estimated_note.isVisible()
    player.durationChanged.connect(pane.set_duration_ms)
    player.positionChanged.connect(pane.set_position_ms)
    try:
        await player.load(episode, SigningProvider(user))
        await wait_until(lambda: abs(pane.model.segments[-1].end - 6.0) < 0.05, timeout=5)
        assert pane.model.segments[1].start == pytest.approx(2.0, abs=0.05)  # 20 of 60 characters
        await wait_until(lambda: pane.model.current_row == 1, timeout=5)
        assert player.position >= 1950
    finally:
        player.shutdown()


def test_search_jumps_to_matches(qtbot: QtBot) -> None:
    pane = TranscriptPane()
    qtbot.addWidget(pane)
    pane.set_segments(TIMED * 10, 80.0)
    pane.resize(400, 200)
    pane.show()
    qtbot.keyClicks(pane.search, "supabase")
    assert pane.view.currentIndex().row() == 3
    qtbot.keyClick(pane.search, Qt.Key.Key_Return)
    assert pane.view.currentIndex().row() == 7
    assert pane.view.viewport().rect().intersects(pane.view.visualRect(pane.model.index(7)))
    pane.search.setText("")
    qtbot.keyClicks(pane.search, "no such words")
    assert pane.matches.text() == "No match"
