"""Library: scraped articles and uploaded transcripts, with the rendered article beside the list."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from echogen_desktop.models.columns import exact_time
from echogen_desktop.services.records import ContentItem
from echogen_desktop.services.tables import CONTENT
from echogen_desktop.views.sections.base import ListSection
from echogen_desktop.views.widgets.confirm import confirm
from echogen_desktop.views.widgets.detail_bits import DetailStack, FieldList, heading

SCRIPT_MODELS = ("gemini-2.5-flash", "gemini-2.5-pro", "gpt-4o-mini")
LANGUAGES = ("en", "de", "es", "fr", "it", "pt", "nl", "ja")
_SHOWN_METADATA = {"language", "reading_time", "author", "word_count"}


def default_prompt(title: str) -> str:
    return (f"Turn the article \"{title}\" into a friendly two-host podcast script. "
            "Short turns, plain language.")


class GenerateScriptDialog(QDialog):
    """Model, prompt and language for a script_generation job."""

    def __init__(self, item: ContentItem, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("generateScriptDialog")
        self.setWindowTitle(self.tr("Generate script"))
        self.model_box = QComboBox()
        self.model_box.setEditable(True)
        self.model_box.addItems(SCRIPT_MODELS)
        self.model_box.setAccessibleName(self.tr("Model"))
        self.prompt_edit = QPlainTextEdit(default_prompt(item.title))
        self.prompt_edit.setAccessibleName(self.tr("Prompt"))
        self.language_box = QComboBox()
        self.language_box.setEditable(True)
        self.language_box.addItems(LANGUAGES)
        if item.language:
            self.language_box.setCurrentText(item.language)
        self.language_box.setAccessibleName(self.tr("Language"))
        form = QFormLayout()
        form.addRow(self.tr("&Model:"), self.model_box)
        form.addRow(self.tr("&Prompt:"), self.prompt_edit)
        form.addRow(self.tr("&Language:"), self.language_box)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Queue job"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.error = QLabel()
        self.error.setObjectName("dialogError")
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("Queue a script for “%1”.").replace("%1", item.title)))
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(520, 320)

    def values(self) -> tuple[str, str, str]:
        return (self.model_box.currentText().strip(), self.prompt_edit.toPlainText().strip(),
                self.language_box.currentText().strip())

    def accept(self) -> None:
        model, prompt, language = self.values()
        if not model or not prompt or not language:
            self.error.setText(self.tr("Model, prompt and language are all needed."))
            self.error.show()
            return
        super().accept()


class ContentDetail(QWidget):
    generateRequested = Signal()
    deleteRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title_label = heading()
        self.title_label.setObjectName("contentTitle")
        self.source_label = QLabel()
        self.source_label.setObjectName("contentSource")
        self.source_label.setAccessibleName(self.tr("Source URL"))
        self.source_label.setWordWrap(True)
        self.source_label.linkActivated.connect(self.open_link)
        self._markdown: str | None = None  # the body's source, parsed again after a palette change
        self.fields = FieldList()
        for key, label in (("provider", self.tr("Provider")), ("language", self.tr("Language")),
                           ("reading_time", self.tr("Reading time")), ("author", self.tr("Author")),
                           ("word_count", self.tr("Words")), ("created_at", self.tr("Added")),
                           ("updated_at", self.tr("Updated"))):
            self.fields.add(key, label)
        self.body = QTextBrowser()
        self.body.setObjectName("contentBody")
        self.body.setAccessibleName(self.tr("Article"))
        self.body.setOpenLinks(False)
        self.body.anchorClicked.connect(lambda url: QDesktopServices.openUrl(url))
        self.generate_button = QPushButton(self.tr("&Generate script…"))
        self.generate_button.setObjectName("generateScript")
        self.generate_button.clicked.connect(self.generateRequested)
        self.delete_button = QPushButton(self.tr("Delete"))
        self.delete_button.setObjectName("deleteContent")
        self.delete_button.clicked.connect(self.deleteRequested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title_label)
        layout.addWidget(self.source_label)
        layout.addWidget(self.fields)
        layout.addWidget(self.body, 1)
        layout.addLayout(buttons)
        self.stack = DetailStack(page, self.tr("Select an article or transcript to read it here."))
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 0, 0, 0)
        outer.addWidget(self.stack)

    def show_item(self, item: ContentItem, loading: bool = False) -> None:
        self.title_label.setText(item.title or item.url)
        if item.url.startswith(("http://", "https://")):
            self.source_label.setText(f'<a href="{QUrl(item.url).toString()}">{_escape(item.url)}</a>')
            self.source_label.setToolTip(self.tr("Open in the browser"))
        elif item.url.startswith("storage://"):
            name = str(item.metadata.get("filename") or item.url.rsplit("/", 1)[-1])
            self.source_label.setText(_escape(self.tr("Uploaded file: %1").replace("%1", name)))
            self.source_label.setToolTip(item.url)
        else:
            self.source_label.setText(_escape(item.url))
            self.source_label.setToolTip("")
        meta = item.metadata
        self.fields.set_value("provider", item.provider)
        self.fields.set_value("language", item.language)
        reading = item.reading_time
        self.fields.set_value("reading_time", self.tr("%1 min").replace("%1", f"{reading:g}") if reading else "")
        self.fields.set_value("author", str(meta.get("author") or ""))
        words = meta.get("word_count")
        self.fields.set_value("word_count", f"{words:,}" if isinstance(words, int) else "")
        self.fields.set_value("created_at", exact_time(item.created_at) or "")
        self.fields.set_value("updated_at", exact_time(item.updated_at) or "")
        base = {"provider", "language", "reading_time", "author", "word_count", "created_at", "updated_at"}
        self.fields.clear_extra(base)
        for key, value in sorted(meta.items()):
            if key not in _SHOWN_METADATA and isinstance(value, str | int | float) and not isinstance(value, bool):
                self.fields.set_value(key, str(value))
        self._markdown = item.markdown
        if item.markdown is not None:
            self.body.setMarkdown(item.markdown)
        elif loading:
            self.body.setPlainText(self.tr("Loading…"))
        self.stack.show_page()

    def clear(self) -> None:
        self.stack.show_empty()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._reparse_links()

    def _reparse_links(self) -> None:
        """Rich text takes the link colour from the palette when it is parsed: parse again after a
        light/dark switch, or a link stays dark blue on the dark background."""
        source = self.source_label.text()
        if "<a " in source:
            self.source_label.clear()  # setText with the same text would do nothing
            self.source_label.setText(source)
        markdown = self._markdown
        if markdown:
            scroll = self.body.verticalScrollBar()
            position = scroll.value()
            self.body.setMarkdown(markdown)
            scroll.setValue(position)

    def open_link(self, link: str) -> None:
        QDesktopServices.openUrl(QUrl(link))

    def set_busy(self, busy: bool) -> None:
        self.generate_button.setDisabled(busy)
        self.delete_button.setDisabled(busy)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class LibrarySection(ListSection):
    key = "library"
    spec = CONTENT

    def title(self) -> str:
        return self.tr("Library")

    def build_detail(self) -> QWidget:
        self.content_detail = ContentDetail()
        self.content_detail.generateRequested.connect(self.generate_script)
        self.content_detail.deleteRequested.connect(self.delete_selected)
        self._item: ContentItem | None = None
        return self.content_detail

    def show_record(self, record: Any | None) -> None:
        if not isinstance(record, ContentItem) or self.controller is None:
            self._item = None
            self.content_detail.clear()
            return
        self._item = record
        self.content_detail.show_item(record, loading=True)
        self.controller.load_content(record.id, self._on_loaded, owner=self)

    def _on_loaded(self, item: ContentItem) -> None:
        if self._item is not None and self._item.id == item.id:
            self._item = item
            self.content_detail.show_item(item)

    def generate_script(self) -> None:
        item = self._item
        if item is None:
            return
        dialog = GenerateScriptDialog(item, self)
        dialog.accepted.connect(lambda: self._queue_script(item, *dialog.values()))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def _queue_script(self, item: ContentItem, model: str, prompt: str, language: str) -> None:
        if self.controller is None:
            return
        self.content_detail.set_busy(True)
        self.controller.generate_script(
            item.id, model, prompt, language, lambda _job: self.content_detail.set_busy(False), owner=self,
            on_error=lambda _error: self.content_detail.set_busy(False),
        )

    def delete_selected(self) -> None:
        item = self._item
        if item is None or self.controller is None:
            return
        confirm(
            self, self.tr("Delete article"),
            self.tr("Delete “%1”? Its stored transcript is deleted too. This cannot be undone.").replace(
                "%1", item.title),
            lambda: self._delete(item), self.tr("Delete"),
        )

    def _delete(self, item: ContentItem) -> None:
        if self.controller is not None:
            self.content_detail.set_busy(True)
            self.controller.delete_content(
                item, lambda _: self.content_detail.set_busy(False), owner=self,
                on_error=lambda _error: self.content_detail.set_busy(False),
            )
