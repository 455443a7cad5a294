"""Translation helpers under the names pyside6-lupdate looks for, so it extracts every string.

lupdate reads ``translate("Context", "literal")`` and ``QT_TRANSLATE_NOOP("Context", "literal")`` by
name; a wrapper such as ``_tr(text)`` hides its strings. PySide6's own QT_TRANSLATE_NOOP is typed as
returning ``object``; this one returns the ``str`` it was given.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

translate = QCoreApplication.translate


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:
    """Marks ``text`` for translation in ``context`` where it is defined; ``translate`` it when shown."""
    return text
