"""Translation helpers under the names pyside6-lupdate looks for, so it extracts every string.

lupdate reads ``translate("Context", "literal")`` and ``QT_TRANSLATE_NOOP("Context", "literal")`` by
name; a wrapper such as ``_tr(text)`` hides its strings. PySide6's own QT_TRANSLATE_NOOP is typed as
returning ``object``; this one returns the ``str`` it was given. Importing this module does not
import Qt, so the service layer can mark its messages too.
"""

from __future__ import annotations

from collections.abc import Callable

_qt_translate: Callable[[str, str], str] | None = None


def translate(context: str, text: str) -> str:
    """QCoreApplication.translate (the source text where no translator is installed)."""
    global _qt_translate
    if _qt_translate is None:  # Qt is imported on first use, not with this module
        from PySide6.QtCore import QCoreApplication

        _qt_translate = QCoreApplication.translate
    return _qt_translate(context, text)


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:
    """Marks ``text`` for translation in ``context`` where it is defined; ``translate`` it when shown."""
    return text
