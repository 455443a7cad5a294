"""Podcasts: generated episodes with their cover art, fetched through a signed URL and cached on disk."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStyle, QVBoxLayout, QWidget

from echogen_desktop.models.columns import exact_time, format_clock
from echogen_desktop.services.records import Podcast
from echogen_desktop.services.tables import PODCASTS
from echogen_desktop.views.sections.base import ListSection
from echogen_desktop.views.widgets.confirm import confirm
from echogen_desktop.views.widgets.detail_bits import DetailStack, FieldList, heading

COVER_SIZE = 220


def speaker_text(metadata: Mapping[str, Any]) -> str:
    """``speakers`` as [{name, voice}] or plain names; upstream's speaker1/speaker1Voice keys otherwise."""
    value = metadata.get("speakers")
    parts: list[str] = []
    if isinstance(value, list):
        for speaker in value:
            if isinstance(speaker, Mapping):
                name, voice = str(speaker.get("name") or ""), str(speaker.get("voice") or "")
                parts.append(f"{name} ({voice})" if name and voice else name or voice)
            elif speaker:
                parts.append(str(speaker))
    else:
        for key in ("speaker1", "speaker2"):
            if metadata.get(key):
                voice = str(metadata.get(f"{key}Voice") or "")
                parts.append(f"{metadata[key]} ({voice})" if voice else str(metadata[key]))
    return ", ".join(p for p in parts if p)


class PodcastDetail(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cover = QLabel()
        self.cover.setObjectName("podcastCover")
        self.cover.setAccessibleName(self.tr("Cover art"))
        self.cover.setFixedSize(COVER_SIZE, COVER_SIZE)
        self.cover.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.cover.setFrameShape(QFrame.Shape.StyledPanel)
        self.title_label = heading()
        self.title_label.setObjectName("podcastTitle")
        self.fields = FieldList()
        for key, label in (("duration", self.tr("Duration")), ("language", self.tr("Language")),
                           ("speakers", self.tr("Speakers")), ("category", self.tr("Category")),
                           ("created_at", self.tr("Created")), ("audio_path", self.tr("Audio file"))):
            self.fields.add(key, label)
        self.play_button = QPushButton(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay), self.tr("Play"))
        self.play_button.setObjectName("playPodcast")
        self.play_button.setEnabled(False)
        self.play_button.setToolTip(self.tr("The player arrives in a later release."))
        self.delete_button = QPushButton(self.tr("Delete"))
        self.delete_button.setObjectName("deletePodcast")
        buttons = QHBoxLayout()
        buttons.addWidget(self.play_button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.cover, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.title_label)
        layout.addWidget(self.fields)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.stack = DetailStack(page, self.tr("Select a podcast to see it here."))
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 0, 0, 0)
        outer.addWidget(self.stack)

    def show_podcast(self, podcast: Podcast) -> None:
        self.title_label.setText(podcast.title)
        meta = podcast.metadata
        self.fields.set_value("duration", format_clock(podcast.duration_seconds))
        self.fields.set_value("language", str(meta.get("language") or ""))
        self.fields.set_value("speakers", speaker_text(meta))
        self.fields.set_value("category", str(meta.get("category") or ""))
        self.fields.set_value("created_at", exact_time(podcast.created_at) or "")
        self.fields.set_value("audio_path", podcast.audio_path.rsplit("/", 1)[-1])
        self.stack.show_page()

    def show_cover(self, data: bytes | None) -> None:
        pixmap = QPixmap()
        if data and pixmap.loadFromData(data):
            self.cover.setPixmap(pixmap.scaled(
                COVER_SIZE, COVER_SIZE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            ))
        else:
            self.cover.setPixmap(QPixmap())
            self.cover.setText(self.tr("No cover art") if data is None else self.tr("Unreadable image"))

    def clear(self) -> None:
        self.stack.show_empty()


class PodcastsSection(ListSection):
    key = "podcasts"
    spec = PODCASTS

    def title(self) -> str:
        return self.tr("Podcasts")

    def build_detail(self) -> QWidget:
        self.podcast_detail = PodcastDetail()
        self.podcast_detail.delete_button.clicked.connect(self.delete_selected)
        self._podcast: Podcast | None = None
        return self.podcast_detail

    def show_record(self, record: Any | None) -> None:
        if not isinstance(record, Podcast) or self.controller is None:
            self._podcast = None
            self.podcast_detail.clear()
            return
        changed_cover = self._podcast is None or self._podcast.id != record.id or (
            self._podcast.cover_art_path != record.cover_art_path)
        self._podcast = record
        self.podcast_detail.show_podcast(record)
        if changed_cover:
            self.podcast_detail.show_cover(None)
            if record.cover_art_path:
                self.podcast_detail.cover.setText(self.tr("Loading cover…"))
                self.controller.load_cover(record, lambda data: self._on_cover(record.id, data), owner=self)

    def _on_cover(self, podcast_id: str, data: bytes) -> None:
        if self._podcast is not None and self._podcast.id == podcast_id:
            self.podcast_detail.show_cover(data)

    def delete_selected(self) -> None:
        podcast = self._podcast
        if podcast is None or self.controller is None:
            return
        confirm(
            self, self.tr("Delete podcast"),
            self.tr("Delete “%1” with its audio and cover art? This cannot be undone.").replace("%1", podcast.title),
            lambda: self._delete(podcast), self.tr("Delete"),
        )

    def _delete(self, podcast: Podcast) -> None:
        if self.controller is None:
            return
        button = self.podcast_detail.delete_button
        button.setEnabled(False)
        self.controller.delete_podcast(podcast, lambda _: button.setEnabled(True), owner=self,
                                       on_error=lambda _error: button.setEnabled(True))
