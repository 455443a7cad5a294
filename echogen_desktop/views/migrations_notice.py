"""The explanation shown when a project's database lacks EchoGen's migrations: what is wrong, how to fix it."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QCoreApplication, QUrl

from echogen_desktop.resources import readme_file
from echogen_desktop.services.schema_check import MIGRATIONS_DIR, README_SECTION, SchemaReport

translate = QCoreApplication.translate  # by this name pyside6-lupdate finds the strings


def _tables(names: tuple[str, ...]) -> str:
    return ", ".join(f"<code>{escape(name)}</code>" for name in names)


def migrations_text(report: SchemaReport) -> str:
    """Rich text for a QLabel: the finding per kind of problem, the fix, and where the README says more."""
    lines = [
        "<b>" + translate("MigrationsNotice", "This project's database does not have EchoGen's schema yet.")
        + "</b>"
    ]
    if report.missing_tables:
        lines.append(translate("MigrationsNotice", "Missing tables: %1.").replace(
            "%1", _tables(report.missing_tables)))
    if report.outdated_tables:
        lines.append(translate("MigrationsNotice", "Tables without the columns EchoGen needs: %1.").replace(
            "%1", _tables(report.outdated_tables)))
    if report.open_tables:
        lines.append(translate(
            "MigrationsNotice",
            "Tables anyone with the anon key may read (the privileges migration was not applied): %1.",
        ).replace("%1", _tables(report.open_tables)))
    lines.append(translate(
        "MigrationsNotice",
        "To fix it, apply the SQL files in %1 in order: <code>supabase link</code>, then "
        "<code>supabase db push</code>; or paste each file into the project's SQL editor, oldest first. "
        "They are safe to apply twice. Then press Check again.",
    ).replace("%1", f"<code>{MIGRATIONS_DIR}</code>"))
    section = escape(README_SECTION)
    readme = readme_file()
    where = (f'<a href="{escape(QUrl.fromLocalFile(str(readme)).toString())}">README</a>' if readme is not None
             else "README")
    lines.append(translate("MigrationsNotice", "Step by step: \u201c%1\u201d in the %2.").replace(
        "%1", section).replace("%2", where))
    return "<br>".join(lines)
