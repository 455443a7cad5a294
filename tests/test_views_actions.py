"""Every main-window action, driven through the widgets on the real stack, checked in the database."""

# ruff: noqa: F811 - the shared fixtures are imported by name and then requested as parameters

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget

from echogen_desktop.models.segments import END, SPEAKER, START, TEXT
from echogen_desktop.services.records import ContentItem, Job, JobStatus, Podcast
from echogen_desktop.views.sections.jobs import JobsSection
from echogen_desktop.views.sections.library import GenerateScriptDialog, LibrarySection
from echogen_desktop.views.sections.podcasts import PodcastsSection
from echogen_desktop.views.sections.profile import ProfileSection
from echogen_desktop.views.sections.scripts import ScriptsSection
from tests.conftest import wait_until
from tests.views_support import Ui, confirm_dialog, db, seeded, ui  # noqa: F401 - fixtures

pytestmark = pytest.mark.qasync


def _json(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


async def test_generate_script_queues_a_job_with_the_dialog_values(ui: Ui) -> None:
    article = next(r for r in ui.lib.scraped_content if r["provider"] == "firecrawl")
    section = await ui.select("library", article["id"])
    assert isinstance(section, LibrarySection)
    detail = section.content_detail
    await wait_until(lambda: "Loading" not in detail.body.toPlainText() and detail.body.toPlainText(), 5)
    assert detail.title_label.text() == article["title"]
    assert article["markdown"].splitlines()[0].lstrip("# ") in detail.body.toPlainText()
    assert detail.fields.text("reading_time") == f"{article['metadata']['reading_time']} min"

    detail.generate_button.click()
    await wait_until(lambda: section.findChild(GenerateScriptDialog) is not None, 5)
    dialog = section.findChild(GenerateScriptDialog)
    assert dialog is not None
    dialog.model_box.setCurrentText("gemini-2.5-pro")
    dialog.prompt_edit.setPlainText("Two hosts, upbeat, five minutes.")
    dialog.language_box.setCurrentText("de")
    dialog.accept()
    await ui.idle()

    rows = await ui.db.fetch(
        "select * from processing_jobs where user_id = $1 and job_type = 'script_generation' and status = 'queued'"
        " and payload->>'content_id' = $2", ui.user.id, article["id"],
    )
    assert len(rows) == 1
    assert _json(rows[0]["payload"]) == {"content_id": article["id"], "model": "gemini-2.5-pro",
                                         "prompt": "Two hosts, upbeat, five minutes.", "language": "de"}
    jobs = ui.section("jobs").model
    assert jobs is not None and jobs.row_of(rows[0]["id"]) == 0  # on top of the jobs list at once
    assert rows[0]["id"] in ui.window.notifications.message


async def test_generate_dialog_refuses_an_empty_prompt(ui: Ui) -> None:
    article = ui.lib.scraped_content[0]
    section = await ui.select("library", article["id"])
    assert isinstance(section, LibrarySection)
    section.content_detail.generate_button.click()
    await wait_until(lambda: section.findChild(GenerateScriptDialog) is not None, 5)
    dialog = section.findChild(GenerateScriptDialog)
    assert dialog is not None
    dialog.prompt_edit.setPlainText("   ")
    dialog.accept()
    assert dialog.isVisible() and dialog.error.isVisibleTo(dialog)
    dialog.reject()
    await ui.idle()
    count = await ui.db.fetchval(
        "select count(*) from processing_jobs where user_id = $1 and payload->>'content_id' = $2"
        " and payload ? 'language'", ui.user.id, article["id"],
    )
    assert count == 0


async def test_delete_content_removes_the_row_and_its_stored_transcript(ui: Ui) -> None:
    upload = next(r for r in ui.lib.scraped_content if r["provider"] == "upload")
    object_name = upload["url"].removeprefix("storage://transcripts/")
    assert await ui.db.fetchval(
        "select count(*) from storage.objects where bucket_id = 'transcripts' and name = $1", object_name) == 1
    section = await ui.select("library", upload["id"])
    assert isinstance(section, LibrarySection)
    # Cancelling the confirmation deletes nothing.
    section.content_detail.delete_button.click()
    await confirm_dialog(section, accept=False)
    await ui.idle()
    assert await ui.db.fetchval("select count(*) from scraped_content where id = $1", upload["id"]) == 1

    section.table.setFocus()
    section.delete_selected()  # what the Delete key on the list does
    await confirm_dialog(section)
    await ui.idle()
    assert await ui.db.fetchval("select count(*) from scraped_content where id = $1", upload["id"]) == 0
    assert await ui.db.fetchval(
        "select count(*) from storage.objects where bucket_id = 'transcripts' and name = $1", object_name) == 0
    assert section.model is not None and section.model.row_of(upload["id"]) is None
    assert section.model.total_count() == len(ui.lib.scraped_content) - 1
    # The selection moved on to a neighbour; the deleted article is not shown any more.
    assert section.content_detail.title_label.text() != upload["title"]


async def test_edit_segments_saves_and_invalid_segments_are_refused(ui: Ui) -> None:
    script = next(r for r in ui.lib.podcast_scripts if r["metadata"]["timed"])
    section = await ui.select("scripts", script["id"])
    assert isinstance(section, ScriptsSection)
    detail = section.script_detail
    model = detail.segments
    await wait_until(lambda: model.rowCount() == len(script["segments"]), 5)
    assert detail.fields.text("duration") not in ("", "not timed yet")
    first = model.segments[0]

    # Edit a speaker, add a segment after the first, move it down, remove the last one.
    assert model.setData(model.index(0, SPEAKER), "Ava (host)")
    detail.select_row(0)
    detail.add_segment()
    assert model.rowCount() == len(script["segments"]) + 1
    assert model.setData(model.index(1, TEXT), "An added line.")
    assert model.setData(model.index(1, START), "1:00")
    assert model.setData(model.index(1, END), "61.5")
    detail.select_row(1)
    detail.move_segment(1)
    assert model.segments[2].content == "An added line."
    detail.select_row(model.rowCount() - 1)
    detail.remove_segment()
    assert detail.save_button.isEnabled()
    detail.save_button.click()
    await ui.idle()

    stored = _json(await ui.db.fetchval("select segments from podcast_scripts where id = $1", script["id"]))
    assert isinstance(stored, list) and len(stored) == len(script["segments"])
    assert stored[0]["speaker"] == "Ava (host)" and stored[0]["content"] == first.content
    # The added segment took over the speaker of the one it was added after.
    assert stored[2] == {"speaker": "Ava (host)", "content": "An added line.",
                         "start_time": 60.0, "end_time": 61.5}
    assert stored[-1]["content"] == script["segments"][-2]["content"]  # the old last one was removed
    assert not detail.save_button.isEnabled() and not model.dirty

    # End before start: refused with a clear message, nothing written.
    before = await ui.db.fetchval("select segments::text from podcast_scripts where id = $1", script["id"])
    assert model.setData(model.index(3, START), "50")
    assert model.setData(model.index(3, END), "49.5")
    detail.save_button.click()
    await ui.idle()
    assert detail.error_label.isVisibleTo(detail)
    assert "Segment 4 ends" in detail.error_label.text() and "before it starts" in detail.error_label.text()
    assert await ui.db.fetchval("select segments::text from podcast_scripts where id = $1", script["id"]) == before

    # An empty speaker: refused too.
    assert model.setData(model.index(3, END), "55")
    assert model.setData(model.index(0, SPEAKER), "  ")
    detail.save_button.click()
    await ui.idle()
    assert "Segment 1 has no speaker" in detail.error_label.text()
    assert await ui.db.fetchval("select segments::text from podcast_scripts where id = $1", script["id"]) == before
    # A time that is not a number never gets into the model.
    assert not model.setData(model.index(2, START), "soon")


async def test_render_audio_queues_an_audio_render_job(ui: Ui) -> None:
    script = ui.lib.podcast_scripts[0]
    section = await ui.select("scripts", script["id"])
    assert isinstance(section, ScriptsSection)
    section.script_detail.render_button.click()
    await ui.idle()
    payloads = [_json(r["payload"]) for r in await ui.db.fetch(
        "select payload from processing_jobs where user_id = $1 and job_type = 'audio_render' and status = 'queued'"
        " and payload->>'script_id' = $2", ui.user.id, script["id"])]
    assert payloads == [{"script_id": script["id"], "model": "gemini-2.5-flash-preview-tts", "language": "en"}]


async def test_delete_script_removes_it_and_its_podcasts_with_their_files(ui: Ui) -> None:
    podcast = ui.lib.generated_podcasts[0]
    script_id = podcast["script_id"]
    section = await ui.select("scripts", script_id)
    assert isinstance(section, ScriptsSection)
    section.script_detail.delete_button.click()
    await confirm_dialog(section)
    await ui.idle()
    assert await ui.db.fetchval("select count(*) from podcast_scripts where id = $1", script_id) == 0
    assert await ui.db.fetchval("select count(*) from generated_podcasts where id = $1", podcast["id"]) == 0
    names = [podcast["audio_path"], podcast["cover_art_path"]]
    assert await ui.db.fetchval("select count(*) from storage.objects where name = any($1::text[])", names) == 0
    podcasts = ui.section("podcasts").model
    await wait_until(lambda: podcasts is not None and podcasts.row_of(podcast["id"]) is None, 5)


async def test_podcast_detail_shows_cached_cover_and_delete_removes_row_and_objects(ui: Ui) -> None:
    podcast = ui.lib.generated_podcasts[1]
    section = await ui.select("podcasts", podcast["id"])
    assert isinstance(section, PodcastsSection)
    detail = section.podcast_detail
    await wait_until(lambda: detail.cover.pixmap() is not None and not detail.cover.pixmap().isNull(), 5)
    assert detail.title_label.text() == podcast["metadata"]["title"]
    assert detail.fields.text("speakers") == "Ava, Ben"
    assert detail.fields.text("language") == "en-US"
    assert detail.play_button.isEnabled() and detail.download_button.isEnabled()  # wired: tests/test_app_playback.py
    cache = ui.window.cache_dir
    assert cache is not None
    cached = list((cache / "images").glob("*.png"))
    assert len(cached) == 1 and not QImage(str(cached[0])).isNull()

    detail.delete_button.click()
    await confirm_dialog(section)
    await ui.idle()
    assert await ui.db.fetchval("select count(*) from generated_podcasts where id = $1", podcast["id"]) == 0
    for bucket, name in (("podcast-audio", podcast["audio_path"]), ("cover-art", podcast["cover_art_path"])):
        assert await ui.db.fetchval(
            "select count(*) from storage.objects where bucket_id = $1 and name = $2", bucket, name) == 0
    assert section.model is not None and section.model.row_of(podcast["id"]) is None
    # The script it was made from stays.
    assert await ui.db.fetchval("select count(*) from podcast_scripts where id = $1", podcast["script_id"]) == 1


async def test_cancel_a_queued_job_and_retry_a_failed_one(ui: Ui) -> None:
    queued = next(r for r in ui.lib.user_jobs if r["id"] not in ui.lib.cancelled_job_ids)
    section = await ui.select("jobs", queued["id"])
    assert isinstance(section, JobsSection)
    detail = section.job_detail
    await wait_until(lambda: detail.payload_view.toPlainText() != "", 5)
    assert _json(detail.payload_view.toPlainText()) == queued["payload"]
    assert detail.cancel_button.isEnabled() and not detail.retry_button.isEnabled()
    detail.cancel_button.click()
    await ui.idle()
    row = await ui.db.fetchrow("select status, finished_at from processing_jobs where id = $1", queued["id"])
    assert row["status"] == "cancelled" and row["finished_at"] is not None
    assert detail.badge.text() == "Cancelled" and not detail.cancel_button.isEnabled()
    assert section.model is not None
    listed = section.model.record_at(section.model.row_of(queued["id"]) or 0)
    assert isinstance(listed, Job) and listed.status is JobStatus.CANCELLED

    failed = next(r for r in ui.lib.worker_jobs if r["status"] == "failed")
    assert section.select_id(failed["id"])
    await ui.idle()
    assert detail.error_box.isVisibleTo(detail) and "RESOURCE_EXHAUSTED" in detail.error_box.toPlainText()
    assert detail.retry_button.isEnabled() and not detail.cancel_button.isEnabled()
    detail.retry_button.click()
    await ui.idle()
    retries = await ui.db.fetch(
        "select * from processing_jobs where user_id = $1 and id <> $2 and status = 'queued'"
        " and job_type = $3 and payload = $4::jsonb", ui.user.id, failed["id"], failed["job_type"],
        json.dumps(failed["payload"]),
    )
    assert len(retries) == 1
    assert await ui.db.fetchval("select status from processing_jobs where id = $1", failed["id"]) == "failed"
    current = section.current_record()  # the selection follows the new job
    assert current is not None and current.id == retries[0]["id"]


async def test_job_filters_by_status_and_type(ui: Ui) -> None:
    section = await ui.loaded("jobs")
    assert isinstance(section, JobsSection) and section.model is not None
    total = await ui.db.fetchval("select count(*) from processing_jobs where user_id = $1", ui.user.id)
    assert section.model.total_count() == total
    section.status_filter.setCurrentIndex(section.status_filter.findData("succeeded"))
    await ui.loaded("jobs")
    expected = await ui.db.fetchval(
        "select count(*) from processing_jobs where user_id = $1 and status = 'succeeded'", ui.user.id)
    assert section.model.total_count() == expected == section.model.rowCount() > 0
    section.type_filter.setCurrentIndex(section.type_filter.findData("audio_render"))
    await ui.loaded("jobs")
    expected = await ui.db.fetchval(
        "select count(*) from processing_jobs where user_id = $1 and status = 'succeeded'"
        " and job_type = 'audio_render'", ui.user.id)
    assert section.model.total_count() == expected == section.model.rowCount() > 0
    assert all(section.model.record_at(r).job_type == "audio_render" for r in range(section.model.rowCount()))
    assert section.count_label.text() == f"{expected} items"
    section.status_filter.setCurrentIndex(0)
    section.type_filter.setCurrentIndex(0)
    await ui.loaded("jobs")
    assert section.model.total_count() == total


async def test_profile_name_avatar_and_usage(ui: Ui, tmp_path: Path) -> None:
    section = ui.window.section("profile")
    assert isinstance(section, ProfileSection)
    ui.window.show_section(5)
    await ui.idle()
    await wait_until(lambda: section.profile is not None and section.events is not None, 5)
    # The chart sums what the database holds, per provider.
    sums = {r["provider"]: float(r["total"]) for r in await ui.db.fetch(
        "select provider, sum(cost_usd) as total from usage_events where user_id = $1 group by provider", ui.user.id)}
    summary = section.chart.summary
    assert {p: round(v, 4) for p, v in summary.totals.items()} == sums
    assert len(summary.months) >= 1 and section.chart.chart().series()
    assert section.provider_table.rowCount() == len(sums)

    section.name_edit.setText("Renamed Creator")
    section.name_edit.textEdited.emit("Renamed Creator")
    assert section.save_button.isEnabled()
    section.save_button.click()
    await ui.idle()
    assert await ui.db.fetchval("select full_name from profiles where id = $1", ui.user.id) == "Renamed Creator"
    assert not section.save_button.isEnabled()

    picture = QImage(64, 64, QImage.Format.Format_RGB32)
    picture.fill(Qt.GlobalColor.darkCyan)
    png = tmp_path / "me.png"
    assert picture.save(str(png))
    section.upload_avatar_file(png)
    await ui.idle()
    name = f"{ui.user.id}/avatar/avatar.png"
    assert await ui.db.fetchval("select avatar_url from profiles where id = $1", ui.user.id) == name
    assert await ui.db.fetchval(
        "select count(*) from storage.objects where bucket_id = 'cover-art' and name = $1", name) == 1
    await wait_until(lambda: section.avatar.pixmap() is not None and not section.avatar.pixmap().isNull(), 5)

    # A file of the wrong kind is refused before anything is sent.
    text = tmp_path / "notes.txt"
    text.write_text("not a picture")
    section.upload_avatar_file(text)
    assert "PNG, JPEG or WebP" in ui.window.notifications.message


async def test_content_list_search_is_server_side(ui: Ui) -> None:
    section = await ui.loaded("library")
    assert section.model is not None
    section.search.setText("ear")  # "Writing for the Ear" (title) and anything else mentioning it
    await wait_until(lambda: section.model is not None and section.model.search_text == "ear", 3)
    await ui.loaded("library")
    expected = await ui.db.fetchval(
        "select count(*) from scraped_content where user_id = $1 and (title ilike '%ear%' or url ilike '%ear%'"
        " or markdown ilike '%ear%')", ui.user.id)
    assert expected > 0 and section.model.total_count() == expected == section.model.rowCount()
    titles = {section.model.record_at(r).title for r in range(section.model.rowCount())}
    assert "Writing for the Ear" in titles
    section.search.setText("zzz-no-such-thing")
    await wait_until(lambda: section.model is not None and section.model.search_text == "zzz-no-such-thing", 3)
    await ui.loaded("library")
    assert section.model.rowCount() == 0 and section.count_label.text() == "0 items"


def test_records_used_here_still_parse() -> None:
    """The views rely on these record shapes (guards against a silent rename)."""
    assert {"title", "url", "provider", "metadata"} <= set(ContentItem.__dataclass_fields__)
    assert {"cover_art_path", "audio_path", "metadata"} <= set(Podcast.__dataclass_fields__)
    assert QApplication is not None


@pytest.mark.qasync
async def test_server_side_job_changes_show_up_live_and_keep_the_selection(ui: Ui) -> None:
    running = next(r for r in ui.lib.worker_jobs if r["status"] == "running")
    section = await ui.select("jobs", running["id"])
    assert section.model is not None
    ui.window.start_live_updates()
    await wait_until(lambda: ui.window._feed is not None and ui.window._feed.live_tables() == {"processing_jobs"}, 10)
    resets: list[int] = []
    section.model.modelReset.connect(lambda: resets.append(1))
    # A worker (the service role) finishes the job: the open view shows it within a second.
    await ui.db.execute(
        "update processing_jobs set status = 'succeeded', result = '{\"ok\": true}', finished_at = now() where id = $1",
        running["id"],
    )
    loop = asyncio.get_running_loop()
    started = loop.time()

    def shows_succeeded() -> bool:
        row = section.model.row_of(running["id"]) if section.model else None
        record = section.model.record_at(row) if section.model and row is not None else None
        return isinstance(record, Job) and record.status is JobStatus.SUCCEEDED

    await wait_until(shows_succeeded, 1.0, "the job update did not reach the open view within 1 s")
    assert loop.time() - started < 1.0
    current = section.current_record()
    assert current is not None and current.id == running["id"] and not resets
    # A new job inserted by the backend appears at the top without a reload.
    await ui.db.execute(
        "insert into processing_jobs (id, user_id, job_type, status, payload) values"
        " ('audio_render_livelivelive', $1, 'audio_render', 'queued', '{}')", uuid.UUID(ui.user.id),
    )
    await wait_until(lambda: section.model is not None and section.model.row_of("audio_render_livelivelive") == 0, 2)
    current = section.current_record()
    assert current is not None and current.id == running["id"] and not resets


@pytest.mark.qasync
async def test_a_file_dropped_on_the_window_lands_at_the_top_of_the_library_selected(
    ui: Ui, tmp_path: Path
) -> None:
    from tests.test_import_panel import drop, file_mime

    library = await ui.loaded("library")
    assert library.model is not None
    resets: list[int] = []
    library.model.modelReset.connect(lambda: resets.append(1))
    transcript = tmp_path / "Guest interview.md"
    transcript.write_text("# Guest interview\n\nAva: Welcome to the show.\n\nBen: Thanks for having me.\n")
    ui.window.show_section(3)  # dropped while another section is open
    assert drop(ui.window.section("jobs").table, file_mime(transcript))
    await wait_until(lambda: ui.window.current_section().key == "library", 20, "the import did not finish")
    assert ui.window.findChild(QWidget, "importDock").isVisible()  # type: ignore[union-attr]
    top = library.model.record_at(0)
    assert isinstance(top, ContentItem) and top.title == "Guest interview"
    current = library.current_record()
    assert current is not None and current.id == top.id and not resets
    row = await ui.db.fetchrow("select provider, metadata from scraped_content where id = $1", uuid.UUID(top.id))
    assert row["provider"] == "upload"
    assert json.loads(row["metadata"])["source_filename"] == "Guest interview.md"
