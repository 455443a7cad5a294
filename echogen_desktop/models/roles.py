"""Item data roles the list models answer beyond Qt's standard ones."""

from __future__ import annotations

import enum

from PySide6.QtCore import Qt

_USER = int(Qt.ItemDataRole.UserRole)


class Role(enum.IntEnum):
    RECORD = _USER + 1  # the typed record (ContentItem, Script, Podcast, Job) of the row
    ID = _USER + 2  # the record's id as a string: how views restore a selection
    SORT_KEY = _USER + 3  # the server column a header click orders by ("" when not sortable)
    RAW = _USER + 4  # the cell's underlying value (datetime, float, ...) before formatting
    STATUS = _USER + 100  # a job's status value ("queued", ...); the status badge delegate reads this
    STATUS_COLOR = _USER + 101  # QColor for the status badge in the current (light/dark) theme
