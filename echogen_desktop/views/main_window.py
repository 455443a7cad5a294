"""The main window. Until a connection exists it says so, and how to get one."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from echogen_desktop import APP_NAME


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings, project_url: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self.setWindowTitle(APP_NAME)
        self.setObjectName("mainWindow")
        self.status_label = QLabel(self.tr("Not connected"))
        self.status_label.setObjectName("connectionStatus")
        self.status_label.setAccessibleName(self.tr("Connection status"))
        self.status_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.status_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        self.status_label.setFont(font)
        if project_url:
            text = self.tr("Project: %1\nSigning in to it is not available in this build yet.").replace(
                "%1", project_url
            )
        else:
            text = self.tr(
                "EchoGen Desktop is not connected to a Supabase project yet.\n"
                "Start the local demo stack (see the README), or give a project URL and anon key."
            )
        hint = QLabel(text)
        hint.setObjectName("connectionHint")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setWordWrap(True)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addStretch(1)
        layout.addWidget(self.status_label)
        layout.addWidget(hint)
        layout.addStretch(1)
        self.setCentralWidget(central)
        self.statusBar().showMessage(self.tr("Offline"))
        quit_action = QAction(self.tr("&Quit"), self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        self.menuBar().addMenu(self.tr("&File")).addAction(quit_action)
        self._restore_geometry()

    def _restore_geometry(self) -> None:
        geometry = self._settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and self.restoreGeometry(geometry):
            return
        self.resize(960, 640)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._settings.setValue("window/geometry", self.saveGeometry())
        super().closeEvent(event)
