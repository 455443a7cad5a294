"""Help menu: Copy diagnostics (for bug reports) and About. Kept out of main_window.py on purpose."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMessageBox

from echogen_desktop import APP_NAME, __version__
from echogen_desktop.diagnostics import copy_to_clipboard
from echogen_desktop.icons import action_icon, app_icon
from echogen_desktop.logging_setup import log_file

translate = QCoreApplication.translate  # by this name pyside6-lupdate finds the strings


def add_help_menu(window: QMainWindow, settings: QSettings) -> list[QAction]:
    menu = window.menuBar().addMenu(translate("HelpMenu", "&Help"))
    menu.setObjectName("helpMenu")
    diagnostics = QAction(action_icon("copy"), translate("HelpMenu", "Copy &diagnostics"), window)
    diagnostics.setObjectName("copyDiagnosticsAction")
    diagnostics.setStatusTip(
        translate("HelpMenu", "Copy versions, settings (secrets removed) and recent log lines")
    )
    about = QAction(action_icon("info"), translate("HelpMenu", "&About %1").replace("%1", APP_NAME), window)
    about.setObjectName("aboutAction")
    about.setMenuRole(QAction.MenuRole.AboutRole)

    def copy() -> None:
        copy_to_clipboard(settings)
        window.statusBar().showMessage(translate("HelpMenu", "Diagnostics copied to the clipboard."), 5000)

    diagnostics.triggered.connect(copy)
    about.triggered.connect(lambda: show_about(window))
    menu.addAction(diagnostics)
    menu.addSeparator()
    menu.addAction(about)
    return [diagnostics, about]


def about_text(window: QMainWindow) -> str:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    return (
        translate(
            "HelpMenu",
            "<h3>%1 %2</h3><p>A desktop studio for EchoGen.ai podcasts over Supabase.</p>"
            "<p>Qt %3, PySide6 %4.<br>Logs: %5</p><p>Licensed under the MIT licence.</p>",
        )
        .replace("%1", APP_NAME)
        .replace("%2", __version__)
        .replace("%3", qVersion())
        .replace("%4", pyside_version)
        .replace("%5", str(log_file()))
    )


def show_about(window: QMainWindow) -> QMessageBox:
    box = QMessageBox(window)
    box.setObjectName("aboutDialog")
    box.setWindowTitle(translate("HelpMenu", "About %1").replace("%1", APP_NAME))
    box.setIconPixmap(app_icon().pixmap(64, 64))
    box.setText(about_text(window))
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.open()  # window-modal, no nested event loop
    return box
