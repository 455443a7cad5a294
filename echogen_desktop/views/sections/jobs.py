"""Jobs: processing jobs with a status badge, live run time, readable payload/result, cancel and retry."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from echogen_desktop.colors import status_color
from echogen_desktop.models.columns import exact_time, format_span, job_type_text, status_text
from echogen_desktop.models.paged_table import PagedTableModel
from echogen_desktop.services.records import Job, JobStatus
from echogen_desktop.services.tables import JOBS
from echogen_desktop.views.sections.base import ListSection
from echogen_desktop.views.theme import set_error_text
from echogen_desktop.views.widgets.detail_bits import DetailStack, FieldList, heading
from echogen_desktop.views.widgets.json_view import JsonView
from echogen_desktop.views.widgets.status_badge import StatusBadgeDelegate

JOB_TYPES = ("script_generation", "audio_render", "cover_art")


class JobDetail(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title_label = heading()
        self.title_label.setObjectName("jobTitle")
        self.badge = QLabel()
        self.badge.setObjectName("jobStatusBadge")
        self.badge.setAccessibleName(self.tr("Status"))
        self.fields = FieldList()
        for key, label in (("id", self.tr("Job ID")), ("created_at", self.tr("Created")),
                           ("started_at", self.tr("Started")), ("finished_at", self.tr("Finished")),
                           ("run_time", self.tr("Run time"))):
            self.fields.add(key, label)
        self.error_box = QPlainTextEdit()
        self.error_box.setObjectName("jobError")
        self.error_box.setAccessibleName(self.tr("Error"))
        self.error_box.setReadOnly(True)
        self.error_box.setMaximumHeight(90)
        self.error_title = QLabel(self.tr("Error:"))
        self.payload_view = JsonView()
        self.payload_view.setObjectName("jobPayload")
        self.payload_view.setAccessibleName(self.tr("Payload"))
        self.result_view = JsonView()
        self.result_view.setObjectName("jobResult")
        self.result_view.setAccessibleName(self.tr("Result"))
        self.tabs = QTabWidget()
        self.tabs.addTab(self.payload_view, self.tr("Payload"))
        self.tabs.addTab(self.result_view, self.tr("Result"))
        self.cancel_button = QPushButton(self.tr("&Cancel job"))
        self.cancel_button.setObjectName("cancelJob")
        self.retry_button = QPushButton(self.tr("Re&try"))
        self.retry_button.setObjectName("retryJob")
        self.retry_button.setToolTip(self.tr("Queue a new job with the same payload"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.retry_button)
        buttons.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.title_label, 1)
        top.addWidget(self.badge)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.fields)
        layout.addWidget(self.error_title)
        layout.addWidget(self.error_box)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)
        self.stack = DetailStack(page, self.tr("Select a job to see its payload and result here."))
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 0, 0, 0)
        outer.addWidget(self.stack)
        self.job: Job | None = None
        self.full = False  # payload and result loaded (list rows carry neither)
        self._busy = False
        # A running job's run time keeps counting.
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._update_run_time)

    def show_job(self, job: Job, *, full: bool) -> None:
        if not full and self.job is not None and self.job.id == job.id and self.full:
            # A list update (status, times): keep the payload and result already loaded.
            job = replace(job, payload=self.job.payload, result=self.job.result)
            full = True
        self.job = job
        self.full = full
        self.title_label.setText(job_type_text(job.job_type))
        color = status_color(job.status.value)
        text_color = "#111111" if color.lightness() > 150 else "#ffffff"
        self.badge.setText(status_text(job.status))
        self.badge.setStyleSheet(
            f"background: {color.name()}; color: {text_color}; border-radius: 9px; padding: 2px 10px;"
            " font-weight: bold;"
        )
        self.fields.set_value("id", job.id)
        self.fields.set_value("created_at", exact_time(job.created_at) or "")
        self.fields.set_value("started_at", exact_time(job.started_at) or "")
        self.fields.set_value("finished_at", exact_time(job.finished_at) or "")
        self._update_run_time()
        failed = job.status is JobStatus.FAILED and bool(job.error)
        self.error_box.setPlainText(job.error or "" if failed else "")
        set_error_text(self.error_box)
        self.error_box.setVisible(failed)
        self.error_title.setVisible(failed)
        self.payload_view.set_json(job.payload if full else None)  # never the previous job's payload
        self.result_view.set_json(job.result if full else None)
        self.tabs.setTabEnabled(1, full and job.result is not None)
        if job.status is JobStatus.RUNNING and job.started_at is not None:
            self._clock.start()
        else:
            self._clock.stop()
        self._update_buttons()
        self.stack.show_page()

    def clear(self) -> None:
        self.job = None
        self.full = False
        self._clock.stop()
        self.stack.show_empty()

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._update_buttons()

    def _update_buttons(self) -> None:
        job = self.job
        self.cancel_button.setEnabled(
            not self._busy and job is not None and job.status in (JobStatus.QUEUED, JobStatus.RUNNING))
        # Retrying re-sends the payload, so it waits for the full job.
        self.retry_button.setEnabled(
            not self._busy and self.full and job is not None and job.status is JobStatus.FAILED)

    def _update_run_time(self) -> None:
        job = self.job
        if job is None:
            return
        seconds = job.run_seconds(datetime.now(UTC))
        text = format_span(seconds)
        if text and job.status is JobStatus.RUNNING:
            text = self.tr("%1 so far").replace("%1", text)
        self.fields.set_value("run_time", text)


class JobsSection(ListSection):
    key = "jobs"
    spec = JOBS

    def title(self) -> str:
        return self.tr("Jobs")

    def build_detail(self) -> QWidget:
        self.status_filter = QComboBox()
        self.status_filter.setObjectName("statusFilter")
        self.status_filter.setAccessibleName(self.tr("Filter by status"))
        self.status_filter.addItem(self.tr("All statuses"), "")
        for status in JobStatus:
            self.status_filter.addItem(status_text(status), status.value)
        self.type_filter = QComboBox()
        self.type_filter.setObjectName("typeFilter")
        self.type_filter.setAccessibleName(self.tr("Filter by type"))
        self.type_filter.addItem(self.tr("All types"), "")
        for job_type in JOB_TYPES:
            self.type_filter.addItem(job_type_text(job_type), job_type)
        self.filter_bar.addWidget(self.status_filter)
        self.filter_bar.addWidget(self.type_filter)
        self.status_filter.currentIndexChanged.connect(self._apply_filters)
        self.type_filter.currentIndexChanged.connect(self._apply_filters)
        self.job_detail = JobDetail()
        self.job_detail.cancel_button.clicked.connect(self.cancel)
        self.job_detail.retry_button.clicked.connect(self.retry)
        return self.job_detail

    def configure_model(self, model: PagedTableModel) -> None:
        model.set_filters(self.filters())

    def configure_view(self) -> None:
        if self.model is not None:
            self._badges = StatusBadgeDelegate(self.table)
            self.table.setItemDelegateForColumn(self.model.column_of("status"), self._badges)

    def filters(self) -> dict[str, str | None]:
        return {"status": self.status_filter.currentData() or None, "job_type": self.type_filter.currentData() or None}

    def _apply_filters(self) -> None:
        if self.model is not None:
            self.model.set_filters(self.filters())

    def show_record(self, record: Any | None) -> None:
        if not isinstance(record, Job) or self.controller is None:
            self.job_detail.clear()
            return
        self.job_detail.show_job(record, full=False)
        self.controller.load_job(record.id, self._on_loaded, owner=self)

    def _on_loaded(self, job: Job) -> None:
        current = self.job_detail.job
        if current is not None and current.id == job.id:
            self.job_detail.show_job(job, full=True)

    def cancel(self) -> None:
        job = self.job_detail.job
        if job is None or self.controller is None:
            return
        self.job_detail.set_busy(True)
        self.controller.cancel_job(job.id, self._on_changed, owner=self,
                                   on_error=lambda _error: self.job_detail.set_busy(False))

    def retry(self) -> None:
        job = self.job_detail.job
        if job is None or self.controller is None:
            return
        self.job_detail.set_busy(True)
        self.controller.retry_job(job, self._on_retried, owner=self,
                                  on_error=lambda _error: self.job_detail.set_busy(False))

    def _on_changed(self, job: Job) -> None:
        self.job_detail.set_busy(False)
        current = self.job_detail.job
        if current is not None and current.id == job.id:
            self.job_detail.show_job(job, full=True)

    def _on_retried(self, job: Job) -> None:
        self.job_detail.set_busy(False)
        self.select_id(job.id)  # follow the new job: that is the one the user now waits for

    def delete_selected(self) -> None:
        """Jobs are history: they cannot be deleted (the Delete key does nothing here)."""
