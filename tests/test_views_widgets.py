"""The small pieces behind the views: the segment editor model, validation, time parsing, usage
sums, the debounced search field and the notification bar."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from echogen_desktop.colors import speaker_color
from echogen_desktop.models.segments import END, SPEAKER, START, TEXT, SegmentsModel, parse_seconds, validate_segments
from echogen_desktop.models.usage import summarize
from echogen_desktop.services.records import Segment, UsageEvent
from echogen_desktop.views.widgets.json_view import JsonView
from echogen_desktop.views.widgets.notification_bar import Level, NotificationBar
from echogen_desktop.views.widgets.search_field import SearchField

SEGMENTS = (
    Segment("Ava", "Welcome back.", 0.0, 2.4),
    Segment("Ben", "Today: deep sea vents.", 2.4, 4.9),
    Segment("Ava", "Let's dive in.", None, None),
)


def test_segments_model_passes_the_model_tester_while_edited(qtmodeltester: ModelTester) -> None:
    model = SegmentsModel()
    model.set_segments(SEGMENTS)
    qtmodeltester.check(model, force_py=True)
    model.add_segment(0)
    model.move_segment(1, 1)
    model.remove_segment(0)
    assert model.setData(model.index(0, SPEAKER), "Cleo")
    qtmodeltester.check(model, force_py=True)


def test_segments_model_edits_moves_and_tracks_dirty() -> None:
    model = SegmentsModel()
    model.set_segments(SEGMENTS)
    assert not model.dirty and model.total_duration() == 4.9
    assert model.data(model.index(1, START)) == "2.40"
    assert model.data(model.index(0, SPEAKER), Qt.ItemDataRole.BackgroundRole) == speaker_color("Ava")
    assert model.data(model.index(1, SPEAKER), Qt.ItemDataRole.BackgroundRole) != speaker_color("Ava")
    row = model.add_segment(1)
    assert row == 2 and model.segments[2] == Segment("Ben", "", 4.9, None) and model.dirty
    assert model.move_segment(2, -1) == 1 and model.segments[1].start_time == 4.9
    assert model.move_segment(0, -1) == 0  # already on top: nothing moves
    assert model.setData(model.index(3, END), "1:05.5") and model.segments[3].end_time == 65.5
    assert model.total_duration() == 65.5
    assert not model.setData(model.index(3, START), "later")
    assert not model.setData(model.index(3, START), "-2")
    assert model.setData(model.index(3, START), "") and model.segments[3].start_time is None
    model.remove_segment(0)
    assert model.rowCount() == 3 and model.segments[0].speaker == "Ben"
    model.set_segments(SEGMENTS)
    assert not model.dirty and model.rowCount(QModelIndex()) == 3 and model.columnCount() == 4
    assert model.headerData(TEXT, Qt.Orientation.Horizontal) == "Text"


def test_parse_seconds() -> None:
    assert parse_seconds("12.5") == 12.5
    assert parse_seconds(" 2:03,5 ") == 123.5
    assert parse_seconds("") is None
    for bad in ("abc", "-1", "nan", "1:xx"):
        with pytest.raises(ValueError):
            parse_seconds(bad)


def test_validation_names_the_segment_and_the_problem() -> None:
    assert validate_segments(SEGMENTS) is None
    assert validate_segments([]) is None
    assert validate_segments([SEGMENTS[0], Segment(" ", "x", 1, 2)]) == (
        "Segment 2 has no speaker. Every segment needs one.")
    message = validate_segments([Segment("Ava", "x", 5.0, 4.0)])
    assert message is not None and message.startswith("Segment 1 ends (4.00 s) before it starts (5.00 s)")
    assert validate_segments([Segment("Ava", "x", 5.0, 5.0), Segment("Ben", "y", None, 3.0)]) is None


def _event(provider: str, cost: float, month: int, day: int = 10) -> UsageEvent:
    return UsageEvent(f"{provider}{month}{day}", provider, "x", cost, datetime(2026, month, day, 12, tzinfo=UTC))


def test_usage_summary_by_provider_and_month() -> None:
    summary = summarize([
        _event("gemini", 0.5, 1), _event("gemini", 0.25, 1, 20), _event("firecrawl", 0.1, 1),
        _event("gemini", 1.0, 4),
    ])
    assert summary.months == ("2026-01", "2026-02", "2026-03", "2026-04")  # no gaps
    assert summary.providers == ("gemini", "firecrawl")
    assert summary.by_month["gemini"] == (0.75, 0.0, 0.0, 1.0)
    assert summary.by_month["firecrawl"] == (0.1, 0.0, 0.0, 0.0)
    assert summary.counts == {"gemini": 3, "firecrawl": 1}
    assert summary.total == pytest.approx(1.85)
    empty = summarize([])
    assert empty.months == () and empty.total == 0


def test_search_field_debounces_keystrokes(qtbot: QtBot) -> None:
    field = SearchField()
    qtbot.addWidget(field)
    seen: list[str] = []
    field.searchChanged.connect(seen.append)
    for text in ("d", "de", "dee", "deep"):
        field.setText(text)
    assert seen == []
    qtbot.waitUntil(lambda: seen == ["deep"], timeout=2000)
    field.setText(" deep ")
    qtbot.wait(SearchField.DEBOUNCE_MS + 150)
    assert seen == ["deep"]  # the same term (trimmed) is not searched twice
    field.setText("vent")
    qtbot.keyClick(field, Qt.Key.Key_Return)  # Enter searches at once
    assert seen == ["deep", "vent"]


def test_notification_bar_levels(qtbot: QtBot) -> None:
    bar = NotificationBar()
    qtbot.addWidget(bar)
    bar.show_error("The server cannot be reached.")
    assert bar.isVisibleTo(bar.parentWidget() or bar) and bar.level is Level.ERROR
    assert bar.message == "The server cannot be reached."
    bar.INFO_TIMEOUT_MS = 200  # type: ignore[misc]
    with qtbot.waitSignal(bar.dismissed, timeout=2000):
        bar.show_info("Saved.")
        assert bar.level is Level.INFO and bar.message == "Saved."
    assert bar.message == ""


def test_json_view_is_readable(qtbot: QtBot) -> None:
    view = JsonView()
    qtbot.addWidget(view)
    view.set_json({"b": 1, "a": {"ü": [1, 2]}})
    assert view.toPlainText().splitlines()[:3] == ["{", '  "a": {', '    "ü": [']
    view.set_json(None)
    assert view.toPlainText() == ""
