"""The main window: a sidebar of sections, each a list with a detail pane, over a notification bar.

Until a Backend is attached and a user is signed in it shows a "Not connected" page. The
session controller (app side) calls ``attach(backend, runner)`` once it has a connection and
``set_signed_in(user)`` after every sign-in, refresh and sign-out.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QByteArray, QEvent, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from echogen_desktop import APP_NAME
from echogen_desktop.controllers.actions import Actions
from echogen_desktop.controllers.playback import PlaybackController
from echogen_desktop.icons import action_icon
from echogen_desktop.importing.controller import ImportController, default_journal_dir
from echogen_desktop.importing.journal import UploadJournal
from echogen_desktop.importing.pipeline import ImportPipeline
from echogen_desktop.models.live import LiveBinding
from echogen_desktop.models.paged_table import PagedTableModel
from echogen_desktop.offline.library_db import LibraryDb
from echogen_desktop.offline.offline_mode import OfflineLibraryModel, OfflineLibraryView
from echogen_desktop.player.facade import Player
from echogen_desktop.player.positions import PositionStore
from echogen_desktop.services.backend import Backend, SignedIn
from echogen_desktop.services.changefeed import RealtimeChangeFeed
from echogen_desktop.services.records import ContentItem, Job
from echogen_desktop.services.upload_service import TranscriptStore
from echogen_desktop.tasks import TaskRunner
from echogen_desktop.views.help_menu import add_help_menu
from echogen_desktop.views.import_panel import DropImportFilter, ImportPanel
from echogen_desktop.views.player_dock import DownloadsDock, PlayerDock, ReviewDock
from echogen_desktop.views.sections.base import ListSection, Section
from echogen_desktop.views.sections.jobs import JobsSection
from echogen_desktop.views.sections.library import LibrarySection
from echogen_desktop.views.sections.podcasts import PodcastsSection
from echogen_desktop.views.sections.profile import ProfileSection
from echogen_desktop.views.sections.scripts import ScriptsSection
from echogen_desktop.views.sections.vault import VaultSection
from echogen_desktop.views.widgets.busy_bar import busy_bar
from echogen_desktop.views.widgets.notification_bar import Level, NotificationBar

# The project's own icons (resources/icons/actions), one per section in sidebar order.
_ICONS = ("library", "script", "podcast", "jobs", "vault", "profile")


class Session(Protocol):
    """What the window needs from the app's session controller: the current connection."""

    @property
    def backend(self) -> Backend | None: ...

    @property
    def runner(self) -> TaskRunner: ...


class MainWindow(QMainWindow):
    signOutRequested = Signal()
    offlineRetryRequested = Signal()  # offline library: "Try again" (the app shell reconnects)

    def __init__(
        self,
        settings: QSettings,
        project_url: str | None = None,
        parent: QWidget | None = None,
        *,
        controller: Session | None = None,
        backend: Backend | None = None,
        runner: TaskRunner | None = None,
        library_db: Callable[[], LibraryDb] | None = None,
    ) -> None:
        """``controller`` (the session controller) lets the window follow a replaced backend by itself;
        ``backend`` + ``runner`` attach one directly. ``library_db`` opens the offline library
        (default: the platform's data directory), when it is first needed."""
        super().__init__(parent)
        self._settings = settings
        self._session = controller
        self._project_url = project_url
        self._backend: Backend | None = None
        self._runner: TaskRunner | None = None
        self._feed: RealtimeChangeFeed | None = None
        self.live_updates_enabled = True
        self._import_panel: ImportPanel | None = None
        self._drop_filter: DropImportFilter | None = None
        self._import_dock = QDockWidget(self.tr("Import"), self)
        self._import_dock.setObjectName("importDock")
        self._import_dock.hide()
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self._import_dock)
        self.controller: Actions | None = None
        self.cache_dir: Path | None = None  # tests point the image cache somewhere private
        self.user: SignedIn | None = None
        self.setWindowTitle(APP_NAME)
        self.setObjectName("mainWindow")

        self.sections: list[Section] = [
            LibrarySection(), ScriptsSection(), PodcastsSection(), JobsSection(), VaultSection(), ProfileSection(),
        ]
        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_signed_out_page())
        self.pages.addWidget(self._build_workspace())
        self.setCentralWidget(self.pages)
        self._build_status_bar()
        self._build_menus()
        self._build_player(library_db or LibraryDb.open_default)
        self._restore_state()
        sign_out = getattr(controller, "sign_out", None)
        if callable(sign_out):
            self.signOutRequested.connect(lambda: sign_out())
        if backend is not None and runner is not None:
            self.attach(backend, runner)
        self.set_signed_in(None)

    # ------------------------------------------------------------ construction
    def _build_signed_out_page(self) -> QWidget:
        self.status_label = QLabel(self.tr("Not connected"))
        self.status_label.setObjectName("connectionStatus")
        self.status_label.setAccessibleName(self.tr("Connection status"))
        self.status_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.status_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        self.status_label.setFont(font)
        self.hint_label = QLabel()
        self.hint_label.setObjectName("connectionHint")
        self.hint_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint_label.setWordWrap(True)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        layout.addWidget(self.status_label)
        layout.addWidget(self.hint_label)
        layout.addStretch(1)
        return page

    def _build_workspace(self) -> QWidget:
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setAccessibleName(self.tr("Sections"))
        self.sidebar.setIconSize(QSize(20, 20))
        self.sidebar.setFixedWidth(170)
        self.sidebar.setFrameShape(QListWidget.Shape.NoFrame)
        self.section_stack = QStackedWidget()
        for number, (section, icon) in enumerate(zip(self.sections, _ICONS, strict=True), start=1):
            item = QListWidgetItem(action_icon(icon, self.palette()), section.title())
            item.setToolTip(self.tr("%1 (Ctrl+%2)").replace("%1", section.title()).replace("%2", str(number)))
            item.setSizeHint(QSize(150, 34))
            self.sidebar.addItem(item)
            self.section_stack.addWidget(section)
        self.sidebar.currentRowChanged.connect(self._on_section_changed)
        self.notifications = NotificationBar()
        body = QWidget()
        row = QHBoxLayout(body)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.sidebar)
        row.addWidget(self.section_stack, 1)
        workspace = QWidget()
        layout = QVBoxLayout(workspace)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.notifications)
        layout.addWidget(body, 1)
        return workspace

    def _build_status_bar(self) -> None:
        self.busy_bar = busy_bar("busyIndicator", self.tr("Working"), height=14)
        self.busy_bar.setMaximumWidth(120)
        self.user_label = QLabel()
        self.user_label.setObjectName("signedInAs")
        self.statusBar().addPermanentWidget(self.busy_bar)
        self.statusBar().addPermanentWidget(self.user_label)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        self.import_action = QAction(self.tr("&Import transcripts…"), self)
        self.import_action.setShortcut(QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_I))
        self.import_action.triggered.connect(self._open_import_dialog)
        self.paste_import_action = QAction(self.tr("Import files from the clip&board"), self)
        self.paste_import_action.setShortcut(QKeySequence("Ctrl+Shift+V"))
        self.paste_import_action.triggered.connect(self._paste_import)
        for action in (self.import_action, self.paste_import_action):
            action.setEnabled(False)
            file_menu.addAction(action)
        file_menu.addSeparator()
        self.sign_out_action = QAction(self.tr("Sign &out"), self)
        self.sign_out_action.triggered.connect(self.signOutRequested)
        file_menu.addAction(self.sign_out_action)
        quit_action = QAction(self.tr("&Quit"), self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        view_menu = self.menuBar().addMenu(self.tr("&View"))
        self.find_action = QAction(self.tr("&Search"), self)
        self.find_action.setShortcut(QKeySequence("Ctrl+F"))
        self.find_action.triggered.connect(lambda: self.current_section().focus_search())
        self.refresh_action = QAction(self.tr("&Refresh"), self)
        self.refresh_action.setShortcuts([QKeySequence("Ctrl+R"), QKeySequence("F5")])
        self.refresh_action.triggered.connect(lambda: self.current_section().refresh())
        view_menu.addAction(self.find_action)
        view_menu.addAction(self.refresh_action)
        view_menu.addSeparator()
        self.section_actions: list[QAction] = []
        for number, section in enumerate(self.sections, start=1):
            action = QAction(section.title(), self)
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(lambda _checked=False, row=number - 1: self.show_section(row))
            view_menu.addAction(action)
            self.section_actions.append(action)
        # Menu actions only fire while the menu bar is part of the window: add them to it too.
        self.addActions([self.find_action, self.refresh_action, *self.section_actions])
        # Help ▸ Copy diagnostics / About (views/help_menu.py).
        self.help_actions = add_help_menu(self, self._settings)

    # ------------------------------------------------------------ wiring
    def attach(self, backend: Backend, runner: TaskRunner) -> Actions:
        """Use this backend for every section from now on (a new one replaces the old)."""
        self.detach()
        self._backend, self._runner = backend, runner
        actions = Actions(backend, runner, cache_dir=self.cache_dir, parent=self)
        self.controller = actions
        actions.failed.connect(self.notifications.show_error)
        actions.notice.connect(self.notifications.show_info)
        runner.busyChanged.connect(self._set_busy)
        runner.failed.connect(self.notifications.show_error)
        actions.jobCreated.connect(self._on_job)
        actions.jobChanged.connect(self._on_job)
        actions.contentDeleted.connect(lambda content_id: self._delete_row("library", content_id))
        actions.scriptDeleted.connect(self._on_script_deleted)
        actions.podcastDeleted.connect(lambda podcast_id: self._delete_row("podcasts", podcast_id))
        actions.scriptSaved.connect(lambda script: self._upsert_row("scripts", script))
        self._build_import(backend, runner)
        self.playback.attach(backend, runner)
        if self.user is not None:
            self._bind_sections()
        return actions

    def _build_import(self, backend: Backend, runner: TaskRunner) -> None:
        """Drag-and-drop import: a dock that appears when files arrive, drops anywhere on the window."""
        pipeline = ImportPipeline(TranscriptStore(backend), UploadJournal(default_journal_dir()))
        controller = ImportController(pipeline, runner, parent=self)
        panel = ImportPanel(controller)
        self._import_dock.setWidget(panel)
        self._import_panel = panel
        self._drop_filter = DropImportFilter(panel)
        self._drop_filter.install(self)
        panel.importStarted.connect(self._import_dock.show)
        panel.itemImported.connect(self._on_imported)
        panel.generateScriptRequested.connect(self._generate_script_for)
        for action in (self.import_action, self.paste_import_action):
            action.setEnabled(True)

    def _teardown_import(self) -> None:
        if self._drop_filter is not None:
            self.removeEventFilter(self._drop_filter)
            self._drop_filter = None
        if self._import_panel is not None:
            self._import_panel.deleteLater()
            self._import_panel = None
        self._import_dock.hide()
        for action in (self.import_action, self.paste_import_action):
            action.setEnabled(False)

    def _open_import_dialog(self) -> None:
        if self._import_panel is not None:
            self._import_panel.open_file_dialog()

    def _paste_import(self) -> None:
        if self._import_panel is not None and not self._import_panel.paste_paths():
            self.notifications.show_info(self.tr("The clipboard holds no file paths to import."))

    def _on_imported(self, item: object, select: bool) -> None:
        self._upsert_row("library", item)
        library = self.section("library")
        if select and isinstance(item, ContentItem) and isinstance(library, ListSection):
            self.show_section(0)
            library.select_id(item.id)

    def _generate_script_for(self, content_id: str) -> None:
        self.show_section(0)
        library = self.section("library")
        if isinstance(library, LibrarySection) and library.select_id(content_id):
            library.generate_script()

    def detach(self) -> None:
        self._stop_live_updates()
        self._teardown_import()
        self.playback.detach()
        for section in self.sections:
            section.unbind()
        if self._runner is not None:
            self._runner.busyChanged.disconnect(self._set_busy)
            self._runner.failed.disconnect(self.notifications.show_error)
        if self.controller is not None:
            self.controller.deleteLater()
        self.controller = None
        self._backend = self._runner = None
        self._set_busy(False)

    def set_signed_in(self, user: SignedIn | None) -> None:
        session = self._session
        if user is not None and session is not None and session.backend is not None and (
                session.backend is not self._backend):
            self.attach(session.backend, session.runner)  # first sign-in, or the connection was replaced
        previous = self.user
        self.user = user
        if user is None:
            self._stop_live_updates()
            for section in self.sections:
                section.unbind()
            self.status_label.setText(self.tr("Not connected") if self._backend is None else self.tr("Signed out"))
            self.hint_label.setText(self._signed_out_hint())
            self.user_label.setText("")
            self.statusBar().showMessage(self.tr("Offline") if self._backend is None else "")
            self.sign_out_action.setEnabled(False)
            self.pages.setCurrentIndex(0)
            return
        self.user_label.setText(self.tr("Signed in as %1").replace("%1", user.email))
        self.statusBar().clearMessage()
        self.sign_out_action.setEnabled(True)
        self.pages.setCurrentIndex(1)
        self.offline_mode = False
        # A token refresh reports the same user again: keep the loaded lists as they are.
        if previous is None or previous.user_id != user.user_id or not self._bound():
            self._bind_sections()
            self._player_signed_in()

    def _signed_out_hint(self) -> str:
        if self._backend is not None:
            return self.tr("Sign in to see your library.")
        if self._project_url:
            return self.tr("Project: %1").replace("%1", self._project_url)
        return self.tr(
            "EchoGen Desktop is not connected to a Supabase project yet.\n"
            "Start the local demo stack (see the README), or give a project URL and anon key."
        )

    def _bound(self) -> bool:
        return all(s.controller is not None for s in self.sections)

    def _bind_sections(self) -> None:
        if self.controller is None:
            return
        for section in self.sections:
            section.bind(self.controller)
        if self.live_updates_enabled:
            self.start_live_updates()
        if self._import_panel is not None:
            self._import_panel.controller.recover()  # orphans a killed import left behind
        self.current_section().activated()

    def start_live_updates(self) -> None:
        """Realtime for jobs (polling where realtime is off), polling for the other lists."""
        self._stop_live_updates()
        if self._backend is None or self._runner is None:
            return
        feed = RealtimeChangeFeed(self._backend)
        self._feed = feed
        for section in self.sections:
            if isinstance(section, ListSection) and section.model is not None:
                binding = LiveBinding(feed, section.spec, section.model)
                binding.modeChanged.connect(self._on_feed_mode)
        self._runner.run(feed.start(), owner=self)

    async def stop_live_updates(self) -> None:
        """Stop the change feed and wait until its tasks have ended (app quit, tests)."""
        feed, self._feed = self._feed, None
        if feed is not None:
            await feed.stop()

    def _stop_live_updates(self) -> None:
        feed, self._feed = self._feed, None
        if feed is not None and self._runner is not None:
            self._runner.run(feed.stop())

    def _on_feed_mode(self, mode: str) -> None:
        showing_error = self.notifications.isVisibleTo(self) and self.notifications.level is Level.ERROR
        if mode == "polling" and not showing_error:  # an error the user has not seen yet matters more
            self.notifications.show_info(
                self.tr("Live updates are unavailable: checking for changes every few seconds.")
            )

    # ------------------------------------------------------------ sections
    def current_section(self) -> Section:
        return self.sections[max(0, self.sidebar.currentRow())]

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def list_model(self, key: str) -> PagedTableModel | None:
        """The paged model behind a section's list, for live updates (change feeds) and tests."""
        section = self.section(key)
        return section.model if isinstance(section, ListSection) else None

    def show_section(self, row: int) -> None:
        if 0 <= row < len(self.sections):
            self.sidebar.setCurrentRow(row)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "sidebar"):
            self._tint_sidebar()  # the icons are drawn in the palette's colours: redraw on a light/dark switch

    def _tint_sidebar(self) -> None:
        palette = self.palette()
        for row, name in enumerate(_ICONS):
            item = self.sidebar.item(row)
            if item is not None:
                item.setIcon(action_icon(name, palette))

    def _on_section_changed(self, row: int) -> None:
        if row < 0:
            return
        self.section_stack.setCurrentIndex(row)
        self.sections[row].activated()

    def _on_job(self, job: Job) -> None:
        self._upsert_row("jobs", job)

    def _on_script_deleted(self, script_id: str) -> None:
        self._delete_row("scripts", script_id)
        podcasts = self.list_model("podcasts")
        if podcasts is not None:
            podcasts.refresh()  # the database cascaded the script's podcasts away

    def _upsert_row(self, key: str, record: object) -> None:
        model = self.list_model(key)
        if model is not None:
            model.apply_upsert(record)

    def _delete_row(self, key: str, record_id: str) -> None:
        model = self.list_model(key)
        if model is not None:
            model.apply_delete(record_id)

    def _set_busy(self, busy: bool) -> None:
        self.busy_bar.setVisible(busy)

    # ------------------------------------------------------------ settings
    def _restore_state(self) -> None:
        geometry = self._settings.value("window/geometry")
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)):
            self.resize(1180, 740)
        for section in self.sections:
            section.restore_state(self._settings)
        last = self._settings.value("window/section", 0)
        try:
            row = int(str(last))
        except ValueError:
            row = 0
        self.sidebar.setCurrentRow(row if 0 <= row < len(self.sections) else 0)

    def save_state(self) -> None:
        self._settings.setValue("window/geometry", self.saveGeometry())
        self._settings.setValue("window/section", self.sidebar.currentRow())
        for section in self.sections:
            section.save_state(self._settings)
        self._settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        self.playback.shutdown()
        super().closeEvent(event)

    # ------------------------------------------------------------ player, downloads, offline library
    def _build_player(self, open_db: Callable[[], LibraryDb]) -> None:
        """The player bar (bottom), transcript + review notes (right), downloads (right, below them)."""
        self.offline_mode = False
        self.player = Player(PositionStore(self._settings), parent=self)
        self.player_dock = PlayerDock(self.player, self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.player_dock)
        self.player_dock.hide()  # until something plays (small windows keep their size)
        self.review_dock = ReviewDock(self.player, self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.review_dock)
        self.review_dock.hide()  # until something plays
        self.downloads_dock = DownloadsDock(self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.downloads_dock)
        self.downloads_dock.hide()  # until a download starts
        self.playback = PlaybackController(self.player, self.review_dock, self.downloads_dock, open_db, parent=self)
        self.playback.failed.connect(self._player_error)
        self.playback.notice.connect(self.notifications.show_info)
        self.playback.downloadsChanged.connect(self._refresh_download_marks)
        self.playback.episodeShown.connect(lambda _id: self.show_player())
        podcasts = self.section("podcasts")
        assert isinstance(podcasts, PodcastsSection)
        podcasts.playRequested.connect(self.playback.play_podcast)
        podcasts.downloadRequested.connect(self.playback.download)
        podcasts.removeDownloadRequested.connect(self.playback.remove_download)
        self.offline_model: OfflineLibraryModel | None = None
        self.offline_view: OfflineLibraryView | None = None

        menu = QMenu(self.tr("&Player"), self)
        controls = self.player_dock.controls
        for key in ("toggle", "back", "forward", "previous", "next", "slower", "faster", "mute"):
            menu.addAction(controls.shortcuts[key])
        menu.addSeparator()
        menu.addAction(self.review_dock.notes.add_action)
        menu.addSeparator()
        self.review_dock.toggleViewAction().setText(self.tr("Show &transcript and notes"))
        self.downloads_dock.toggleViewAction().setText(self.tr("Show &downloads"))
        self.player_dock.toggleViewAction().setText(self.tr("Show the &player"))
        menu.addAction(self.player_dock.toggleViewAction())
        menu.addAction(self.review_dock.toggleViewAction())
        menu.addAction(self.downloads_dock.toggleViewAction())
        help_menu = self.menuBar().actions()[-1]
        self.menuBar().insertMenu(help_menu, menu)
        self.player_menu = menu

    def show_player(self) -> None:
        """The player bar and the transcript + notes dock."""
        self.player_dock.show()
        self.review_dock.show()
        self.review_dock.raise_()

    def _player_signed_in(self) -> None:
        self._refresh_download_marks()
        self.playback.signed_in()

    def _player_error(self, message: str) -> None:
        if self.offline_mode:
            self.statusBar().showMessage(message, 10_000)
        else:
            self.notifications.show_error(message)

    def _refresh_download_marks(self) -> None:
        podcasts = self.section("podcasts")
        if isinstance(podcasts, PodcastsSection):
            podcasts.set_download_state(self.playback.downloaded_ids(), self.playback.active_downloads)
        if self.offline_model is not None:
            self.offline_model.reload()

    def show_offline_library(self) -> OfflineLibraryView:
        """The server cannot be reached: downloaded episodes play from disk; the rest needs a connection."""
        if self.offline_view is None:
            self.offline_model = OfflineLibraryModel(self.playback.db, self)
            view = OfflineLibraryView(self.offline_model)
            view.playRequested.connect(self.playback.play_downloaded)
            view.removeRequested.connect(self.playback.remove_download)
            view.retryRequested.connect(self.offlineRetryRequested)
            self.pages.addWidget(view)
            self.offline_view = view
        self.offline_view.set_offline(True)
        self.offline_model.reload() if self.offline_model is not None else None
        self.offline_mode = True
        self.pages.setCurrentWidget(self.offline_view)
        self.statusBar().showMessage(self.tr("Offline"))
        return self.offline_view
