"""The README's Troubleshooting section quotes the app word for word (the *"…"* spans), and its quick
start still has exactly the two commands it promises."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, f"no '{title}' section in the README"
    return match.group(1)


def _squash(text: str) -> str:
    return " ".join(text.split())


def _app_strings() -> set[str]:
    """Every string literal in the app (adjacent literals are one constant), whitespace squashed."""
    found = set()
    for path in (ROOT / "echogen_desktop").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(_squash(node.value.replace("&", "")))
    return found


def test_every_quoted_message_is_in_the_app() -> None:
    quotes = [_squash(q) for q in re.findall(r'\*"(.+?)"\*', _section("Troubleshooting"), re.S)]
    assert len(quotes) >= 12
    strings = _app_strings()
    for quote in quotes:
        # "…" in a quote stands for what the app fills in (%1): each piece around it must be in one string.
        pieces = [p.strip() for p in quote.split("…") if p.strip()]
        assert any(all(piece in s for piece in pieces) for s in strings), f"the app never says: {quote!r}"


def test_the_bold_buttons_exist() -> None:
    strings = _app_strings()
    for button in re.findall(r"\*\*([A-Z][a-z]+(?: [a-z]+)*)\*\*", _section("Troubleshooting")):
        assert button in strings, button


def test_the_quick_start_is_two_commands() -> None:
    quick = _section("Two commands on a fresh machine (Debian/Ubuntu, Python 3.11+)")
    blocks = re.findall(r"```sh\n(.*?)```", quick, re.S)
    assert [b.strip() for b in blocks] == ["./dev demo", "./dev test"]
