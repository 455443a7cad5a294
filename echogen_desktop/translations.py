"""Load the translations for the user's language: the app's own .qm (resources/translations) and Qt's.

Translators work on ``resources/translations/echogen_desktop_<lang>.ts`` (packaging/tools/update-translations)
and compile it with ``pyside6-lrelease`` next to it; a language without a .qm stays English.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from echogen_desktop.resources import resource_path

APP_CATALOGUE = "echogen_desktop"


def install_translators(app: QCoreApplication, locale: QLocale | None = None) -> list[QTranslator]:
    """Install ours for ``locale`` (default: the system's), then Qt's; returns the translators installed."""
    wanted = locale if locale is not None else QLocale.system()
    sources = (
        (APP_CATALOGUE, str(resource_path("translations"))),
        ("qtbase", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)),
    )
    loaded = []
    for name, directory in sources:
        translator = QTranslator(app)  # parented: lives as long as the app
        if translator.load(wanted, name, "_", directory) and app.installTranslator(translator):
            loaded.append(translator)
        else:
            translator.deleteLater()
            break  # without our own catalogue, Qt's alone would only mix two languages
    return loaded
