"""Translators can start: the .ts file is current, and translated text is written so lupdate finds it.

pyside6-lupdate only extracts ``tr("literal")``, ``translate("Context", "literal")`` and
``QT_TRANSLATE_NOOP("Context", "literal")``. A helper such as ``def _tr(text): return
QCoreApplication.translate("ctx", text)`` hides every string from it, so the strings silently never get
translated. A ``translate("Context", variable)`` is right only where the file marks its texts with
``QT_TRANSLATE_NOOP("Context", ...)`` (texts defined at module level, translated when shown).
"""

from __future__ import annotations

import ast
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from echogen_desktop.models import columns
from echogen_desktop.services.records import JobStatus
from echogen_desktop.services.tables import CONTENT, JOBS, PODCASTS, SCRIPTS

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "echogen_desktop"
TS = ROOT / "resources" / "translations" / "echogen_desktop_de.ts"
# Owned by the offline-mode work (its _tr wrapper is to become translate("offline", ...)); nothing else may join.
KNOWN_WRAPPERS: set[str] = set()
HELPER = "echogen_desktop/i18n.py"  # translate() itself: lupdate reads its callers' literals


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _hidden_text(path: Path) -> list[int]:
    """Lines of tr()/translate() calls whose text lupdate cannot see and no marker in the file names."""
    calls = [node for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(node, ast.Call)]
    marked = {_literal(c.args[0]) for c in calls if _name(c.func) == "QT_TRANSLATE_NOOP" and len(c.args) == 2
              and _literal(c.args[0]) is not None and _literal(c.args[1]) is not None}
    hidden = []
    for call in calls:
        name = _name(call.func)
        if name not in {"tr", "translate"}:
            continue
        index = 0 if name == "tr" else 1
        text = call.args[index] if len(call.args) > index else None
        if text is None or _literal(text) is not None:
            continue
        context = _literal(call.args[0]) if name == "translate" else None
        if context is None or context not in marked:
            hidden.append(call.lineno)
    return hidden


def _messages(path: Path) -> set[tuple[str, str]]:
    root = ET.parse(path).getroot()
    return {(ctx.findtext("name") or "", msg.findtext("source") or "")
            for ctx in root.iter("context") for msg in ctx.iter("message")}


def test_translated_text_is_always_a_literal_or_marked() -> None:
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if str(path.relative_to(ROOT)) == HELPER:
            continue
        lines = _hidden_text(path)
        if lines:
            offenders[str(path.relative_to(ROOT))] = lines
    assert set(offenders) <= KNOWN_WRAPPERS, f"text lupdate cannot see: {offenders}"


def test_the_check_finds_a_wrapper(tmp_path: Path) -> None:
    wrapper = tmp_path / "wrapper.py"
    wrapper.write_text('def _tr(text):\n    return QCoreApplication.translate("ctx", text)\n'
                       'TITLE = QT_TRANSLATE_NOOP("other", "Title")\n', encoding="utf-8")
    assert _hidden_text(wrapper) == [2]
    marked = tmp_path / "marked.py"
    marked.write_text('TITLE = QT_TRANSLATE_NOOP("ctx", "Title")\n'
                      'def header(text):\n    return translate("ctx", text)\n', encoding="utf-8")
    assert _hidden_text(marked) == []


def test_marked_column_texts_reach_the_ts_file() -> None:
    committed = _messages(TS)
    titles = {column.title for spec in (CONTENT, SCRIPTS, PODCASTS, JOBS)
              for column in columns.columns_for(spec)}
    assert {"Title", "Duration", "Job ID"} <= titles
    assert {("Columns", title) for title in titles} <= committed
    assert {("Columns", columns.status_text(status)) for status in JobStatus} <= committed


def test_the_ts_file_is_current(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.ts"
    sources = sorted(str(p) for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
    lupdate = ROOT / ".venv" / "bin" / "pyside6-lupdate"
    done = subprocess.run([str(lupdate), "-locations", "none", "-no-obsolete", *sources, "-ts", str(fresh)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr

    committed, current = _messages(TS), _messages(fresh)
    assert ("HelpMenu", "Copy &diagnostics") in committed and ("MainWindow", "&File") in committed
    missing = current - committed
    hint = f"{len(missing)} new strings, e.g. {sorted(missing)[:3]}"
    assert not missing, f"run packaging/tools/update-translations: {hint}"


def test_service_messages_are_marked_for_translation() -> None:
    """A ServiceError's text is a QT_TRANSLATE_NOOP("ServiceError", ...) template (parts go in %1, %2…)."""
    offenders = []
    for path in sorted((PACKAGE / "services").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _name(node.func) == "ServiceError" and len(node.args) >= 2:
                text = node.args[1]
                if isinstance(text, ast.JoinedStr) or _literal(text) is not None:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, f"unmarked service messages: {offenders}"


def _compile(tmp_path: Path, context: str, german: dict[str, str], qm: Path) -> None:
    root = ET.Element("TS", version="2.1", language="de_DE")
    element = ET.SubElement(root, "context")
    ET.SubElement(element, "name").text = context
    for source, translation in german.items():
        message = ET.SubElement(element, "message")
        ET.SubElement(message, "source").text = source
        ET.SubElement(message, "translation").text = translation
    ts = tmp_path / f"{qm.stem}.ts"
    ET.ElementTree(root).write(ts, encoding="utf-8", xml_declaration=True)
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "pyside6-lrelease"), str(ts), "-qm", str(qm)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_app_loads_a_compiled_catalogue_and_qts_own(
    tmp_path: Path, qapp: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtCore import QCoreApplication, QLocale
    from PySide6.QtWidgets import QDialogButtonBox

    from echogen_desktop.resources import ENV_RESOURCES
    from echogen_desktop.translations import install_translators
    from echogen_desktop.views.connection_page import ConnectionPage

    (tmp_path / "translations").mkdir()
    _compile(tmp_path, "ConnectionPage", {"&Continue": "&Weiter", "Check &again": "&Erneut prüfen"},
             tmp_path / "translations" / "echogen_desktop_de.qm")
    monkeypatch.setenv(ENV_RESOURCES, str(tmp_path))
    app = QCoreApplication.instance()
    assert app is not None
    # No French catalogue of ours: all English, not Qt's French buttons beside our English text.
    assert install_translators(app, QLocale("fr_FR")) == []
    installed = install_translators(app, QLocale("de_DE"))
    try:
        assert any(t.filePath().endswith("echogen_desktop_de.qm") for t in installed)
        assert any("qtbase_de" in t.filePath() for t in installed)  # Qt's own buttons and dialogs
        page = ConnectionPage()
        assert page.continue_button.text() == "&Weiter" and page.recheck_button.text() == "&Erneut prüfen"
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        assert box.button(QDialogButtonBox.StandardButton.Cancel).text() == "Abbrechen"
        page.deleteLater()
    finally:
        for translator in installed:
            QCoreApplication.removeTranslator(translator)
    assert ConnectionPage().continue_button.text() == "&Continue"


def test_service_errors_reach_the_user_translated(tmp_path: Path, qapp: object) -> None:
    """Through a real .qm: the message a view reads is translated, the logged text stays English."""
    from PySide6.QtCore import QCoreApplication, QTranslator
    from supabase_auth.errors import AuthApiError

    from echogen_desktop.services.errors import UNREACHABLE, ErrorKind, ServiceError, from_exception

    german = {
        "The server cannot be reached. Check the connection and the URL.":
            "Der Server ist nicht erreichbar. Verbindung und URL prüfen.",
        "The email address or password is wrong.": "E-Mail-Adresse oder Passwort ist falsch.",
        "The server answered %1.": "Der Server antwortete mit %1.",
    }
    root = ET.Element("TS", version="2.1", language="de_DE")
    context = ET.SubElement(root, "context")
    ET.SubElement(context, "name").text = "ServiceError"
    for source, translation in german.items():
        message = ET.SubElement(context, "message")
        ET.SubElement(message, "source").text = source
        ET.SubElement(message, "translation").text = translation
    ts, qm = tmp_path / "de.ts", tmp_path / "de.qm"
    ET.ElementTree(root).write(ts, encoding="utf-8", xml_declaration=True)
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "pyside6-lrelease"), str(ts), "-qm", str(qm)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    translator = QTranslator()
    assert translator.load(str(qm))
    assert QCoreApplication.installTranslator(translator)
    try:
        unreachable = ServiceError(ErrorKind.UNREACHABLE, UNREACHABLE)
        assert unreachable.message == "Der Server ist nicht erreichbar. Verbindung und URL prüfen."
        assert str(unreachable) == "The server cannot be reached. Check the connection and the URL."
        wrong = from_exception(AuthApiError("Invalid login credentials", 400, "invalid_credentials"))
        assert wrong.message == "E-Mail-Adresse oder Passwort ist falsch."
        import httpx

        response = httpx.Response(502, request=httpx.Request("GET", "http://x.test"))
        answered = from_exception(httpx.HTTPStatusError("bad gateway", request=response.request, response=response))
        assert (answered.message, str(answered)) == ("Der Server antwortete mit 502.", "The server answered 502.")
    finally:
        QCoreApplication.removeTranslator(translator)
    assert unreachable.message == str(unreachable)  # back to the source text
