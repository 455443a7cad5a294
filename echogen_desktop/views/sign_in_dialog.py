"""Sign in, or create an account. A dumb view: it emits requests and is told the outcome.

The dialog never blocks (the controller runs the request on the event loop), shows a busy bar
while a request is out, and shows the service layer's user-facing message when it fails.
Enter submits, Esc cancels.
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from echogen_desktop import APP_NAME
from echogen_desktop.views.connection_page import ERROR_STYLE
from echogen_desktop.views.widgets.busy_bar import busy_bar

NOTICE_STYLE = "background: palette(alternate-base); border-radius: 4px; padding: 6px;"


class Mode(Enum):
    SIGN_IN = "sign_in"
    SIGN_UP = "sign_up"


class SignInDialog(QDialog):
    signInRequested = Signal(str, str)  # email, password
    signUpRequested = Signal(str, str, str)  # email, password, full name
    changeProjectRequested = Signal()

    def __init__(self, project_url: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signInDialog")
        self.setWindowTitle(self.tr("Sign in: %1").replace("%1", APP_NAME))
        self.setMinimumWidth(440)
        self.mode = Mode.SIGN_IN
        self._busy = False

        self.heading = QLabel()
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.heading.setFont(font)
        self.project_label = QLabel(self.tr("Project: %1").replace("%1", project_url))
        self.project_label.setObjectName("projectUrlLabel")
        self.project_label.setAccessibleName(self.tr("Project"))
        self.project_label.setVisible(bool(project_url))
        self.notice = QLabel()
        self.notice.setObjectName("signInNotice")
        self.notice.setAccessibleName(self.tr("Notice"))
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(NOTICE_STYLE)
        self.notice.setVisible(False)

        self.email_edit = QLineEdit()
        self.email_edit.setObjectName("email")
        self.email_edit.setAccessibleName(self.tr("Email address"))
        self.email_edit.setPlaceholderText(self.tr("you@example.com"))
        self.email_edit.setInputMethodHints(Qt.InputMethodHint.ImhEmailCharactersOnly)
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("password")
        self.password_edit.setAccessibleName(self.tr("Password"))
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("fullName")
        self.name_edit.setAccessibleName(self.tr("Full name"))
        self.form = QFormLayout()
        self.form.addRow(self.tr("&Email:"), self.email_edit)
        self.form.addRow(self.tr("&Password:"), self.password_edit)
        self.form.addRow(self.tr("Full &name:"), self.name_edit)

        self.busy = busy_bar("signInBusy", self.tr("Waiting for the server"))
        self.busy_label = QLabel()
        self.busy_label.setObjectName("signInBusyText")
        self.busy_label.setVisible(False)
        self.error = QLabel()
        self.error.setObjectName("signInError")
        self.error.setAccessibleName(self.tr("Error"))
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setVisible(False)

        self.switch_button = QPushButton()
        self.switch_button.setObjectName("switchMode")
        self.switch_button.setFlat(True)
        self.switch_button.setAutoDefault(False)
        self.switch_button.clicked.connect(self._toggle_mode)
        self.change_project_button = QPushButton(self.tr("Change &project…"))
        self.change_project_button.setObjectName("changeProject")
        self.change_project_button.setFlat(True)
        self.change_project_button.setAutoDefault(False)
        self.change_project_button.clicked.connect(self.changeProjectRequested)
        links = QHBoxLayout()
        links.addWidget(self.switch_button)
        links.addStretch(1)
        links.addWidget(self.change_project_button)

        buttons = QDialogButtonBox()
        self.submit_button = QPushButton()
        self.submit_button.setObjectName("submitButton")
        self.submit_button.setDefault(True)
        buttons.addButton(self.submit_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setAutoDefault(False)
        buttons.accepted.connect(self._submit)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.project_label)
        layout.addWidget(self.notice)
        layout.addLayout(self.form)
        layout.addWidget(self.busy)
        layout.addWidget(self.busy_label)
        layout.addWidget(self.error)
        layout.addLayout(links)
        layout.addWidget(buttons)
        self._apply_mode()

    # ---------------------------------------------------------- controller side
    def set_email(self, email: str) -> None:
        self.email_edit.setText(email)
        (self.password_edit if email else self.email_edit).setFocus()

    def show_notice(self, message: str) -> None:
        self.notice.setText(message)
        self.notice.setVisible(bool(message))

    def show_error(self, message: str) -> None:
        """The request failed: say why, and let the user try again at once."""
        self.set_busy(False)
        self.error.setText(message)
        self.error.setVisible(bool(message))
        self.password_edit.setFocus()
        self.password_edit.selectAll()

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.busy.setVisible(busy)
        self.busy_label.setText(
            self.tr("Creating your account…") if self.mode is Mode.SIGN_UP else self.tr("Signing in…")
        )
        self.busy_label.setVisible(busy)
        for widget in (self.email_edit, self.password_edit, self.name_edit, self.submit_button,
                       self.switch_button, self.change_project_button):
            widget.setEnabled(not busy)
        # Cancel stays enabled: the user may give up on a slow server.
        if busy:
            self.error.setVisible(False)

    @property
    def is_busy(self) -> bool:
        return self._busy

    def set_mode(self, mode: Mode) -> None:
        self.mode = mode
        self._apply_mode()

    # -------------------------------------------------------------- internals
    def _toggle_mode(self) -> None:
        self.set_mode(Mode.SIGN_UP if self.mode is Mode.SIGN_IN else Mode.SIGN_IN)

    def _apply_mode(self) -> None:
        signing_up = self.mode is Mode.SIGN_UP
        self.heading.setText(self.tr("Create an account") if signing_up else self.tr("Sign in"))
        self.submit_button.setText(self.tr("&Create account") if signing_up else self.tr("&Sign in"))
        self.switch_button.setText(
            self.tr("I already have an account") if signing_up else self.tr("Create an &account…")
        )
        self.form.setRowVisible(self.name_edit, signing_up)
        self.password_edit.setPlaceholderText(self.tr("at least 6 characters") if signing_up else "")
        self.error.setVisible(False)

    def _submit(self) -> None:
        if self._busy:
            return
        email, password = self.email_edit.text().strip(), self.password_edit.text()
        if "@" not in email or email.startswith("@") or email.endswith("@"):
            self.show_error(self.tr("Enter your email address."))
            self.email_edit.setFocus()
            return
        if not password:
            self.show_error(self.tr("Enter your password."))
            return
        self.set_busy(True)
        if self.mode is Mode.SIGN_UP:
            self.signUpRequested.emit(email, password, self.name_edit.text().strip())
        else:
            self.signInRequested.emit(email, password)
