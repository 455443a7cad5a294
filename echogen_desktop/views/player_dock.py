"""The player's places in the main window: the controls docked at the bottom, and a side dock with
the transcript and the review notes of the episode that is playing (tabs), plus the downloads dock.

Dumb views: they hold the player's widgets; ``controllers/playback.py`` decides what they show.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QTabWidget, QWidget

from echogen_desktop.player.controls import PlayerControls
from echogen_desktop.player.facade import Player
from echogen_desktop.player.review_notes import ReviewNotesModel, ReviewNotesPane
from echogen_desktop.player.transcript import TranscriptPane
from echogen_desktop.views.downloads_view import DownloadsView


class PlayerDock(QDockWidget):
    """The transport bar; it stays docked at the bottom (its keys work window-wide)."""

    def __init__(self, player: Player, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Player"), parent)
        self.setObjectName("playerDock")
        self.controls = PlayerControls(player)
        self.setWidget(self.controls)
        self.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        self.setTitleBarWidget(QWidget())  # the controls show the episode title themselves


class ReviewDock(QDockWidget):
    """Transcript and review notes of the episode that is playing, as two tabs."""

    def __init__(self, player: Player, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Transcript and notes"), parent)
        self.setObjectName("reviewDock")
        self.transcript = TranscriptPane()
        self.notes = ReviewNotesPane(lambda: player.position)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName(self.tr("Transcript and review notes"))
        self.tabs.addTab(self.transcript, self.tr("Transcript"))
        self.tabs.addTab(self.notes, self.tr("Review notes"))
        self.setWidget(self.tabs)
        self.setAllowedAreas(Qt.DockWidgetArea.RightDockWidgetArea | Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setMinimumWidth(320)

    def use_notes_model(self, model: ReviewNotesModel) -> None:
        """One model per episode: unsaved changes of one episode never leak into the next."""
        pane = self.notes
        old = pane.model
        pane.model = model
        pane.view.setModel(model)
        model.notesEdited.connect(pane.saveRequested)
        if old is not model:
            old.notesEdited.disconnect(pane.saveRequested)


class DownloadsDock(QDockWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Downloads"), parent)
        self.setObjectName("downloadsDock")
        self.view = DownloadsView()
        self.setWidget(self.view)
