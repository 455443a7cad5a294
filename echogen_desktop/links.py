"""``echogen://`` links: parse them, then open what they point at in the main window.

A link arrives three ways: as the first launch's argument, forwarded by a second launch through the
single-instance socket (Linux and Windows start a new process per click), or as a QFileOpenEvent
(macOS hands the URL to the running app). Supported: ``echogen://podcast/<uuid>`` selects that
episode in Podcasts. The main window may not exist yet (first launch, sign-in pending) and the list
loads asynchronously, so the router keeps the link and retries until it opens or times out.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtGui import QFileOpenEvent

log = logging.getLogger(__name__)
translate = QCoreApplication.translate  # by this name pyside6-lupdate finds the strings

SCHEME = "echogen"
RETRY_MS = 250
GIVE_UP_MS = 30_000  # signing in and loading the first page of podcasts can take a while


class LinkError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class PodcastLink:
    podcast_id: str

    def url(self) -> str:
        return f"{SCHEME}://podcast/{self.podcast_id}"


def parse_link(text: str) -> PodcastLink:
    """``echogen://podcast/<uuid>`` (scheme and host in any case, an optional trailing slash)."""
    value = text.strip()
    parts = urlsplit(value)
    if parts.scheme.lower() != SCHEME:
        raise LinkError(translate("links", "Not an echogen:// link: %1").replace("%1", value[:200]))
    if parts.netloc.lower() != "podcast":
        raise LinkError(translate("links", "Unknown kind of echogen:// link: %1").replace("%1", value[:200]))
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if len(segments) != 1:
        raise LinkError(translate("links", "An episode link looks like echogen://podcast/<id>."))
    try:
        podcast_id = str(uuid.UUID(segments[0]))
    except ValueError as exc:
        raise LinkError(
            translate("links", "This episode id is not valid: %1").replace("%1", segments[0][:80])
        ) from exc
    return PodcastLink(podcast_id)


class WindowHolder(Protocol):
    """The app shell: owns the main window once somebody signed in."""

    @property
    def window(self) -> Any: ...


class LinkRouter(QObject):
    """Opens links in the shell's main window, waiting for it (and the podcast list) as needed."""

    def __init__(self, shell: WindowHolder, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._shell = shell
        self.pending: PodcastLink | None = None
        self._waited_ms = 0
        self._timer = QTimer(self)
        self._timer.setInterval(RETRY_MS)
        self._timer.timeout.connect(self._try_open)

    def open_link(self, url: str) -> bool:
        """Accept a link (returns False and tells the user when it is not one we can open)."""
        if not url:
            return False  # a plain second launch: only the raise was wanted
        try:
            link = parse_link(url)
        except LinkError as exc:
            log.warning("ignored link: %s", exc.message)
            self._notify(exc.message, error=True)
            return False
        log.info("opening %s", link.url())
        self.pending = link
        self._waited_ms = 0
        self._try_open()
        if self.pending is not None:
            self._timer.start()
        return True

    def watch_file_open_events(self, app: QObject) -> None:
        """macOS delivers a clicked echogen:// URL to the running app as a QFileOpenEvent."""
        app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            url = event.url()
            if url.scheme().lower() == SCHEME:
                self.open_link(url.toString())
                return True
        return False

    def _try_open(self) -> None:
        link = self.pending
        if link is None:
            self._timer.stop()
            return
        if self._select(link):
            self.pending = None
            self._timer.stop()
            return
        self._waited_ms += RETRY_MS
        if self._waited_ms >= GIVE_UP_MS and self._signed_in():
            self.pending = None
            self._timer.stop()
            self._notify(translate("links", "The linked episode was not found in your podcasts."), error=True)
        # Not signed in yet: keep the link until somebody is (the timer keeps polling).

    def _signed_in(self) -> bool:
        window = self._shell.window
        return window is not None and getattr(window, "user", None) is not None

    def _select(self, link: PodcastLink) -> bool:
        window = self._shell.window
        if not self._signed_in():
            return False
        sections = getattr(window, "sections", [])
        podcasts = next((s for s in sections if getattr(s, "key", "") == "podcasts"), None)
        if podcasts is None:
            return False
        window.show_section(sections.index(podcasts))
        return bool(podcasts.select_id(link.podcast_id))

    def _notify(self, message: str, *, error: bool) -> None:
        notifications = getattr(self._shell.window, "notifications", None)
        if notifications is not None:
            (notifications.show_error if error else notifications.show_info)(message)
