"""Translators can start: the .ts file is current, and translated text is written so lupdate finds it.

pyside6-lupdate only extracts ``tr("literal")`` / ``translate("Context", "literal")``. A helper such as
``def _tr(text): return QCoreApplication.translate("ctx", text)`` hides every string from it, so the
strings silently never get translated. KNOWN_WRAPPERS lists the ones found so far, to be rewritten by
their owners; a new one fails this test.
"""

from __future__ import annotations

import ast
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "echogen_desktop"
TS = ROOT / "resources" / "translations" / "echogen_desktop_de.ts"
KNOWN_WRAPPERS = {
    "echogen_desktop/config.py", "echogen_desktop/views/vault/messages.py", "echogen_desktop/models/columns.py",
    "echogen_desktop/models/vault_keys.py", "echogen_desktop/offline/offline_mode.py",
}


def _calls(path: Path) -> list[tuple[str, ast.Call]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in {"tr", "translate"}:
                found.append((name, node))
    return found


def test_translated_text_is_always_a_literal() -> None:
    offenders = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        for name, call in _calls(path):
            text_arg = call.args[0 if name == "tr" else 1] if len(call.args) > (0 if name == "tr" else 1) else None
            if text_arg is not None and not (isinstance(text_arg, ast.Constant) and isinstance(text_arg.value, str)):
                offenders.add(str(path.relative_to(ROOT)))
    assert offenders <= KNOWN_WRAPPERS, f"text lupdate cannot see in {sorted(offenders - KNOWN_WRAPPERS)}"


def test_the_ts_file_is_current(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.ts"
    sources = sorted(str(p) for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
    lupdate = ROOT / ".venv" / "bin" / "pyside6-lupdate"
    done = subprocess.run([str(lupdate), "-locations", "none", "-no-obsolete", *sources, "-ts", str(fresh)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr

    def messages(path: Path) -> set[tuple[str, str]]:
        root = ET.parse(path).getroot()
        return {(ctx.findtext("name") or "", msg.findtext("source") or "")
                for ctx in root.iter("context") for msg in ctx.iter("message")}

    committed, current = messages(TS), messages(fresh)
    assert ("HelpMenu", "Copy &diagnostics") in committed and ("MainWindow", "&File") in committed
    missing = current - committed
    hint = f"{len(missing)} new strings, e.g. {sorted(missing)[:3]}"
    assert not missing, f"run packaging/tools/update-translations: {hint}"
