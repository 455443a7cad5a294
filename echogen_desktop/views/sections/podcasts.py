"""Podcasts: generated episodes with their cover art, fetched through a signed URL and cached on disk."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStyle, QVBoxLayout, QWidget

from echogen_desktop.i18n import QT_TRANSLATE_NOOP, translate
from echogen_desktop.models.columns import Column, columns_for, exact_time, format_clock
from echogen_desktop.models.paged_table import PagedTableModel
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
        self.play_button.setToolTip(self.tr("Play this episode (from its download when there is one)"))
        self.download_button = QPushButton(self.tr("Download"))
        self.download_button.setObjectName("downloadPodcast")
        self.download_button.setAccessibleName(self.tr("Download this episode for offline listening"))
        self.remove_download_button = QPushButton(self.tr("Remove download"))
        self.remove_download_button.setObjectName("removeDownload")
        self.remove_download_button.setAccessibleName(self.tr("Remove the downloaded copy from this computer"))
        self.remove_download_button.hide()
        self.delete_button = QPushButton(self.tr("Delete"))
        self.delete_button.setObjectName("deletePodcast")
        buttons = QHBoxLayout()
        buttons.addWidget(self.play_button)
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.remove_download_button)
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

    def show_download_state(self, downloaded: bool, downloading: bool) -> None:
        self.download_button.setVisible(not downloaded)
        self.download_button.setEnabled(not downloading)
        self.download_button.setText(self.tr("Downloading…") if downloading else self.tr("Download"))
        self.remove_download_button.setVisible(downloaded)


class PodcastsSection(ListSection):
    key = "podcasts"
    spec = PODCASTS
    playRequested = Signal(object)  # Podcast
    downloadRequested = Signal(object)  # Podcast
    removeDownloadRequested = Signal(str)  # podcast id
    _downloaded: set[str]
    _downloading: set[str]

    # ------------------------------------------------------------ downloads (marks and buttons)
    def columns(self) -> Any:
        """The server's columns plus one that marks episodes downloaded to this computer."""
        def text(record: Podcast) -> str:
            return translate("Columns", "Downloaded") if record.id in self._downloaded else ""

        def tooltip(record: Podcast) -> str | None:
            return translate("Columns", "Plays from disk, also offline") if record.id in self._downloaded else None

        mark = Column("downloaded", QT_TRANSLATE_NOOP("Columns", "Offline"), text, tooltip=tooltip)
        return (*columns_for(self.spec), mark)

    def set_download_state(self, downloaded: set[str], downloading: set[str]) -> None:
        self._downloaded, self._downloading = set(downloaded), set(downloading)
        model: PagedTableModel | None = self.model
        if model is not None and model.rowCount() > 0:
            column = model.column_of("downloaded")
            model.dataChanged.emit(model.index(0, column), model.index(model.rowCount() - 1, column))
        if self._podcast is not None:
            self.podcast_detail.show_download_state(self._podcast.id in self._downloaded,
                                                    self._podcast.id in self._downloading)

    def is_downloaded(self, podcast_id: str) -> bool:
        return podcast_id in self._downloaded

    def _remove_download(self) -> None:
        if self._podcast is not None:
            self.removeDownloadRequested.emit(self._podcast.id)

    def _emit_with_podcast(self, signal: Any) -> None:
        if self._podcast is not None:
            signal.emit(self._podcast)

    def title(self) -> str:
        return self.tr("Podcasts")

    def build_detail(self) -> QWidget:
        self.podcast_detail = PodcastDetail()
        self.podcast_detail.delete_button.clicked.connect(self.delete_selected)
        self._podcast: Podcast | None = None
        self._downloaded = set()
        self._downloading = set()
        detail = self.podcast_detail
        detail.play_button.clicked.connect(lambda: self._emit_with_podcast(self.playRequested))
        detail.download_button.clicked.connect(lambda: self._emit_with_podcast(self.downloadRequested))
        detail.remove_download_button.clicked.connect(self._remove_download)
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
        self.podcast_detail.show_download_state(record.id in self._downloaded, record.id in self._downloading)
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
