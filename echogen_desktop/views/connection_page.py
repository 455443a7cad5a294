"""First-run page: which Supabase project to use (URL + anon key), checked live before Continue.

A dumb view: it validates the text locally (no network), asks for a live check through
``checkRequested`` and is told the outcome through ``set_check_result``; the controller does
the HTTP call. Continue stays disabled until the current URL and key passed the live check.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from echogen_desktop import APP_NAME
from echogen_desktop.config import ConfigError, ConnectionConfig, validate
from echogen_desktop.services.schema_check import SchemaReport
from echogen_desktop.views.migrations_notice import migrations_text
from echogen_desktop.views.widgets.busy_bar import busy_bar

CHECK_DELAY_MS = 400  # wait for the user to stop typing before asking the server

ERROR_STYLE = "color: white; background: #b3261e; border-radius: 4px; padding: 6px;"
LINK_STYLE = "color: white; text-decoration: underline;"  # readable on the error background
OK_STYLE = "color: #1b5e20; padding: 6px;"


class ConnectionPage(QDialog):
    checkRequested = Signal(str, str)  # normalized url, anon key
    connectionChosen = Signal(object)  # ConnectionConfig that passed the live check

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectionPage")
        self.setWindowTitle(self.tr("Connect: %1").replace("%1", APP_NAME))
        self.setMinimumWidth(560)
        self._verified: ConnectionConfig | None = None
        self._pending: ConnectionConfig | None = None

        title = QLabel(self.tr("Connect to your EchoGen project"))
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        title.setFont(font)
        intro = QLabel(self.tr(
            "Enter the Supabase project URL and its anon (publishable) key. You find both in the Supabase "
            "dashboard under Project Settings → API. For the local demo stack, run ./dev demo."
        ))
        intro.setWordWrap(True)

        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("projectUrl")
        self.url_edit.setAccessibleName(self.tr("Project URL"))
        self.url_edit.setPlaceholderText("https://abcdefgh.supabase.co")
        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("anonKey")
        self.key_edit.setAccessibleName(self.tr("Anon key"))
        self.key_edit.setPlaceholderText(self.tr("eyJ… or sb_publishable_…"))
        form = QFormLayout()
        form.addRow(self.tr("Project &URL:"), self.url_edit)
        form.addRow(self.tr("&Anon key:"), self.key_edit)

        self.busy = busy_bar("connectionBusy", self.tr("Checking the connection"))
        self.status = QLabel()
        self.status.setObjectName("connectionStatus")
        self.status.setAccessibleName(self.tr("Connection check result"))
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setOpenExternalLinks(True)
        self.recheck_button = QPushButton(self.tr("Check &again"))
        self.recheck_button.setObjectName("recheckButton")
        self.recheck_button.setAccessibleName(self.tr("Check the connection again"))
        self.recheck_button.setAutoDefault(False)  # Enter belongs to Continue
        self.recheck_button.setVisible(False)
        self.recheck_button.clicked.connect(lambda: self._request_check())

        buttons = QDialogButtonBox()
        self.continue_button = QPushButton(self.tr("&Continue"))
        self.continue_button.setObjectName("continueButton")
        self.continue_button.setDefault(True)
        self.continue_button.setEnabled(False)
        buttons.addButton(self.continue_button, QDialogButtonBox.ButtonRole.AcceptRole)
        quit_button = buttons.addButton(self.tr("&Quit"), QDialogButtonBox.ButtonRole.RejectRole)
        quit_button.setObjectName("quitButton")
        buttons.accepted.connect(self._continue)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addSpacing(8)
        layout.addLayout(form)
        layout.addWidget(self.busy)
        layout.addWidget(self.status)
        layout.addWidget(self.recheck_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        layout.addWidget(buttons)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(CHECK_DELAY_MS)
        self._debounce.timeout.connect(self._request_check)
        self.url_edit.textChanged.connect(self._edited)
        self.key_edit.textChanged.connect(self._edited)

    # ---------------------------------------------------------- controller side
    def set_values(self, url: str, anon_key: str, error: str = "") -> None:
        """Pre-fill (from flags, environment or settings) and check at once."""
        self.url_edit.setText(url)
        self.key_edit.setText(anon_key)
        self.key_edit.setCursorPosition(0)  # show where the key starts, not its tail
        if error:
            self._show(error, ok=False)
        self._debounce.stop()
        self._request_check(keep_message=bool(error))

    def set_check_result(
        self, url: str, anon_key: str, error: str | None, schema: SchemaReport | None = None
    ) -> None:
        """Outcome of the live check for (url, key); a result for text since edited is ignored.

        ``schema``: the project answers, but its database lacks the migrations; explained in full.
        """
        if self._pending is None or (self._pending.url, self._pending.anon_key) != (url, anon_key):
            return
        checked, self._pending = self._pending, None
        self.busy.setVisible(False)
        if schema is not None:
            self._show_rich(migrations_text(schema))
            return
        if error:
            self._show(error, ok=False)
            self.recheck_button.setVisible(True)
            return
        self._verified = checked
        self.continue_button.setEnabled(True)
        self._show(self.tr("Connected: %1 answers as a Supabase project.").replace("%1", checked.url), ok=True)

    def show_error(self, message: str) -> None:
        self._verified = None
        self.continue_button.setEnabled(False)
        self._show(message, ok=False)

    # -------------------------------------------------------------- internals
    def _edited(self) -> None:
        self._verified = None
        self._pending = None
        self.busy.setVisible(False)
        self.recheck_button.setVisible(False)
        self.continue_button.setEnabled(False)
        self.status.clear()
        self.status.setStyleSheet("")
        self._debounce.start()

    def _request_check(self, keep_message: bool = False) -> None:
        url, key = self.url_edit.text(), self.key_edit.text()
        if not url.strip() and not key.strip():
            return
        try:
            config = validate(url, key)
        except ConfigError as exc:
            self._show(exc.message, ok=False)
            return
        self._pending = config
        self.busy.setVisible(True)
        self.recheck_button.setVisible(False)
        if not keep_message:
            self._show(self.tr("Checking %1 …").replace("%1", config.url), ok=None)
        self.checkRequested.emit(config.url, config.anon_key)

    def _continue(self) -> None:
        if self._verified is not None:
            self.connectionChosen.emit(self._verified)
            self.accept()

    def _show(self, message: str, ok: bool | None) -> None:
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setText(message)
        self.status.setStyleSheet(ERROR_STYLE if ok is False else OK_STYLE if ok else "")

    def _show_rich(self, html: str) -> None:
        """An error with markup and a link (the missing-migrations explanation)."""
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.status.setText(html.replace("<a ", f'<a style="{LINK_STYLE}" '))
        self.status.setStyleSheet(ERROR_STYLE)
        self.recheck_button.setVisible(True)
        self._fit_height()

    def _fit_height(self) -> None:
        """Grow to show a long explanation whole (a word-wrapped label does not resize its window)."""
        layout = self.layout()
        if layout is not None and self.isVisible():
            needed = layout.totalHeightForWidth(self.width())
            if needed > self.height():
                self.resize(self.width(), needed)
