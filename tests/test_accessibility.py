"""Every control a keyboard can reach has an accessible name, and Tab visits every one of them.

Walks the real windows: the first-run connection page, the sign-in dialog and the main window
(signed-out page and the workspace with all six sections). Offenders are listed by object name
and class so they are easy to find.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget
from pytestqt.qtbot import QtBot

from echogen_desktop.views.connection_page import ConnectionPage
from echogen_desktop.views.main_window import MainWindow
from echogen_desktop.views.sign_in_dialog import SignInDialog


def _keyboard_reachable(root: QWidget) -> list[QWidget]:
    found = [root] if root.focusPolicy() & Qt.FocusPolicy.TabFocus else []
    found += root.findChildren(QWidget)
    return [
        w for w in found
        if w.isVisibleTo(root.window()) and w.isEnabled() and bool(w.focusPolicy() & Qt.FocusPolicy.TabFocus)
        and w.focusProxy() is None
    ]


def _accessible_name(widget: QWidget) -> str:
    """What a screen reader announces: an explicit name, or what Qt derives (button text, label buddy)."""
    if widget.accessibleName():
        return widget.accessibleName()
    interface = QAccessible.queryAccessibleInterface(widget)
    name = interface.text(QAccessible.Text.Name) if interface is not None else ""
    if not name and isinstance(widget, QAbstractButton):
        name = widget.text().replace("&", "") or widget.toolTip()
    return name


def _describe(widget: QWidget) -> str:
    return f"{type(widget).__name__}#{widget.objectName() or '?'} (parent {type(widget.parent()).__name__})"


def unnamed_controls(root: QWidget) -> list[str]:
    return [_describe(w) for w in _keyboard_reachable(root) if not _accessible_name(w).strip()]


def tab_order_misses(root: QWidget, qtbot: QtBot) -> list[str]:
    """Press Tab around the window once; name every reachable control the focus never landed on."""
    reachable = _keyboard_reachable(root)
    if not reachable:
        return []
    root.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is root.window(), timeout=3000)
    reachable[0].setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is reachable[0], timeout=3000)
    visited: list[QWidget] = []
    for _ in range(len(reachable) * 3 + 5):
        current = QApplication.focusWidget()
        if current is not None and current not in visited:
            visited.append(current)
        qtbot.keyClick(current or root, Qt.Key.Key_Tab)
        QApplication.processEvents()
    return [_describe(w) for w in reachable if w not in visited]


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def _show(qtbot: QtBot, widget: QWidget) -> QWidget:
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_connection_page_controls_are_named_and_tabbable(qtbot: QtBot) -> None:
    page = _show(qtbot, ConnectionPage())
    assert unnamed_controls(page) == []
    assert tab_order_misses(page, qtbot) == []


def test_sign_in_dialog_controls_are_named_and_tabbable(qtbot: QtBot) -> None:
    dialog = _show(qtbot, SignInDialog("http://127.0.0.1:54321"))
    assert unnamed_controls(dialog) == []
    assert tab_order_misses(dialog, qtbot) == []


def test_main_window_signed_out_page(qtbot: QtBot, settings: QSettings) -> None:
    window = _show(qtbot, MainWindow(settings))
    assert unnamed_controls(window) == []
    assert tab_order_misses(window, qtbot) == []


@pytest.mark.parametrize("row", range(6))
def test_main_window_workspace_sections(qtbot: QtBot, settings: QSettings, row: int) -> None:
    window = MainWindow(settings)
    _show(qtbot, window)
    window.pages.setCurrentIndex(1)  # the workspace, as after a sign-in (no data needed to check names)
    window.show_section(row)
    assert unnamed_controls(window) == [], f"section {window.sections[row].key}"
    assert tab_order_misses(window, qtbot) == [], f"section {window.sections[row].key}"


def test_the_check_catches_an_unnamed_control_and_a_tab_trap(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QLineEdit, QPlainTextEdit, QVBoxLayout

    form = QWidget()
    layout = QVBoxLayout(form)
    named, unnamed, trap = QLineEdit(), QLineEdit(), QPlainTextEdit()  # Tab types a tab in a text edit
    named.setAccessibleName("Named")
    trap.setAccessibleName("Notes")
    unnamed.setObjectName("nameless")
    for widget in (named, trap, unnamed):
        layout.addWidget(widget)
    _show(qtbot, form)
    assert unnamed_controls(form) == ["QLineEdit#nameless (parent QWidget)"]
    assert tab_order_misses(form, qtbot) == ["QLineEdit#nameless (parent QWidget)"]
