"""PostgREST's query-string grammar: select, filters, logic trees, order and column lists.

Pure parsing into small frozen dataclasses; no SQL and no catalog here. Names come out
exactly as written, to be checked against the schema cache before any SQL is built.
Errors are PostgREST's PGRST100: ``"failed to parse <what> (<text>)" (line 1, column N)``.
"""

from __future__ import annotations

from dataclasses import dataclass

SIMPLE_OPS = frozenset({
    "eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch",
    "cs", "cd", "ov", "sl", "sr", "nxr", "nxl", "adj", "isdistinct",
})
QUANTIFIABLE_OPS = frozenset({"eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch"})
FTS_OPS = frozenset({"fts", "plfts", "phfts", "wfts"})
IS_VALUES = frozenset({"null", "not_null", "true", "false", "unknown"})


class ParseError(Exception):
    """A PGRST100 query-string error: ``message`` and ``details`` as PostgREST words them."""

    def __init__(self, what: str, text: str, pos: int, details: str) -> None:
        super().__init__(f'"failed to parse {what} ({text})" (line 1, column {pos + 1})')
        self.message = str(self)
        self.details = details


class Unsupported(Exception):
    """Valid PostgREST syntax this stack does not implement (resource embedding)."""


@dataclass(frozen=True)
class JsonStep:
    arrow: str  # "->" or "->>"
    key: str
    is_index: bool


@dataclass(frozen=True)
class Field:
    name: str
    path: tuple[JsonStep, ...] = ()

    @property
    def label(self) -> str:
        """The JSON key PostgREST gives a selected field: the last path key, or the column."""
        return self.path[-1].key if self.path else self.name


@dataclass(frozen=True)
class SelectItem:
    field: Field | None  # None is `*`
    alias: str | None = None
    cast: str | None = None


@dataclass(frozen=True)
class Condition:
    field: Field
    op: str  # a SIMPLE_OPS or FTS_OPS name, "in" or "is"
    value: str | tuple[str, ...]
    negate: bool = False
    quantifier: str | None = None  # "any" / "all" for `eq(any).{a,b}`
    fts_config: str | None = None


@dataclass(frozen=True)
class Logic:
    op: str  # "and" / "or"
    children: tuple[Condition | Logic, ...]
    negate: bool = False


@dataclass(frozen=True)
class OrderTerm:
    field: Field
    desc: bool = False
    nulls: str | None = None  # "first" / "last"


# The cast target is pasted into SQL, so it is one plain word or one of the multi-word names.
MULTI_WORD_TYPES = frozenset({
    "double precision", "character varying", "bit varying", "timestamp with time zone",
    "timestamp without time zone", "time with time zone", "time without time zone",
})


def _valid_cast(name: str) -> bool:
    if name in MULTI_WORD_TYPES:
        return True
    return bool(name) and name.isascii() and (name[0].isalpha() or name[0] == "_") and \
        all(ch.isalnum() or ch == "_" for ch in name)


def _is_ident_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_ $"


class _Cursor:
    def __init__(self, what: str, text: str) -> None:
        self.what = what
        self.text = text
        self.pos = 0

    def fail(self, details: str) -> ParseError:
        return ParseError(self.what, self.text, self.pos, details)

    def peek(self, s: str) -> bool:
        return self.text.startswith(s, self.pos)

    def take(self, s: str) -> bool:
        if self.peek(s):
            self.pos += len(s)
            return True
        return False

    def expect(self, s: str) -> None:
        if not self.take(s):
            raise self.fail(f'unexpected {self._found()} expecting "{s}"')

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def skip_ws(self) -> None:
        while not self.at_end() and self.text[self.pos] in " \t":
            self.pos += 1

    def _found(self) -> str:
        return "end of input" if self.at_end() else repr(self.text[self.pos])

    def unexpected(self, expecting: str) -> ParseError:
        return self.fail(f"unexpected {self._found()} expecting {expecting}")

    def until(self, stops: str) -> str:
        start = self.pos
        while not self.at_end() and self.text[self.pos] not in stops:
            self.pos += 1
        return self.text[start:self.pos]

    # -- names -------------------------------------------------------------------------------

    def quoted(self) -> str:
        """``"..."`` with backslash escapes."""
        self.expect('"')
        out: list[str] = []
        while True:
            if self.at_end():
                raise self.fail('unexpected end of input expecting closing quote (")')
            ch = self.text[self.pos]
            self.pos += 1
            if ch == '"':
                return "".join(out)
            if ch == "\\":
                if self.at_end():
                    raise self.fail("unexpected end of input after backslash")
                ch = self.text[self.pos]
                self.pos += 1
            out.append(ch)

    def field_name(self) -> str:
        """A quoted name, or identifier runs joined by `-` (but `->` starts a JSON path)."""
        self.skip_ws()
        if self.peek('"'):
            return self.quoted()
        start = self.pos
        while not self.at_end():
            ch = self.text[self.pos]
            if _is_ident_char(ch) or (ch == "-" and not self.peek("->") and self.pos > start):
                self.pos += 1
            else:
                break
        name = self.text[start:self.pos]
        if name.endswith("-"):
            self.pos -= 1
            name = name[:-1]
        name = name.strip()
        if not name:
            raise self.unexpected("field name (* or [a..z0..9_$])")
        return name

    def json_path(self) -> tuple[JsonStep, ...]:
        steps: list[JsonStep] = []
        while self.peek("->"):
            arrow = "->>" if self.take("->>") else ("->" if self.take("->") else "")
            index = self._json_index()
            if index is not None:
                steps.append(JsonStep(arrow, index, True))
            else:
                steps.append(JsonStep(arrow, self.field_name(), False))
        return tuple(steps)

    def _json_index(self) -> str | None:
        """An array index (`->0`, `->-1`) when followed by the end of the operand."""
        start = self.pos
        self.take("-")
        digits_start = self.pos
        while not self.at_end() and self.text[self.pos] in "0123456789":
            self.pos += 1
        ends = self.at_end() or any(self.peek(s) for s in ("->", "::", ".", ",", ")", " "))
        if self.pos > digits_start and ends:
            return self.text[start:self.pos]
        self.pos = start
        return None

    def field(self) -> Field:
        name = self.field_name()
        path = self.json_path()
        self.skip_ws()
        return Field(name, path)


# -- select ---------------------------------------------------------------------------------


def parse_select(text: str) -> list[SelectItem]:
    cur = _Cursor("select parameter", text)
    items: list[SelectItem] = []
    while True:
        cur.skip_ws()
        items.append(_select_item(cur))
        cur.skip_ws()
        if cur.at_end():
            return items
        if not cur.take(","):
            raise cur.unexpected('"->>", "->", "::", "," or end of input')


def _select_item(cur: _Cursor) -> SelectItem:
    if cur.take("*"):
        cur.skip_ws()
        if not (cur.at_end() or cur.peek(",")):
            raise cur.unexpected('"," or end of input')
        return SelectItem(None)
    if cur.peek(".."):
        raise Unsupported("spread of an embedded resource")
    alias: str | None = None
    start = cur.pos
    name = cur.field_name()
    if cur.peek(":") and not cur.peek("::"):
        cur.pos += 1
        alias = name
        cur.skip_ws()
        start = cur.pos
        name = cur.field_name()
    if cur.peek("(") or cur.peek("!"):
        raise Unsupported(f"embedding the resource '{name}'")
    cur.pos = start
    fld = cur.field()
    cast: str | None = None
    if cur.take("::"):
        cast = " ".join(cur.until(",").split()).lower()
        if not _valid_cast(cast):
            raise cur.fail(f"unexpected cast type {cast!r} expecting a type name")
    cur.skip_ws()
    if not (cur.at_end() or cur.peek(",")):
        raise cur.unexpected('"->>", "->", "::", "," or end of input')
    return SelectItem(fld, alias, cast)


# -- filters --------------------------------------------------------------------------------


def parse_filter_key(key: str) -> Field:
    """The left side of ``col=op.value``: a column, maybe with a JSON path."""
    cur = _Cursor("tree path", key)
    fld = cur.field()
    if cur.peek("."):
        raise EmbeddedFilter(fld.name)
    if not cur.at_end():
        raise cur.unexpected('"->>", "->", "." or end of input')
    return fld


class EmbeddedFilter(Exception):
    """``rel.col=...``: a filter on an embedded resource (PGRST108 here, no embedding)."""

    def __init__(self, resource: str) -> None:
        super().__init__(resource)
        self.resource = resource


def parse_filter(fld: Field, value: str) -> Condition:
    cur = _Cursor("filter", value)
    cond = _op_expr(cur, fld, in_logic=False)
    if not cur.at_end():
        raise cur.unexpected("end of input")
    return cond


def _op_expr(cur: _Cursor, fld: Field, *, in_logic: bool) -> Condition:
    negate = False
    if cur.peek("not."):
        cur.pos += 4
        negate = True
    op_start = cur.pos
    op = cur.until(".(")
    if op == "in" and cur.take("."):
        return Condition(fld, "in", _list_value(cur), negate)
    if op == "is" and cur.take("."):
        word = cur.until(",)" if in_logic else "").lower()
        if word not in IS_VALUES:
            cur.pos = op_start + 3
            raise cur.fail(f'unexpected "{word}" expecting null or trilean value (unknown, true, false)')
        return Condition(fld, "is", word, negate)
    if op in FTS_OPS:
        config: str | None = None
        if cur.take("("):
            start = cur.pos
            while not cur.at_end() and _is_ident_char(cur.text[cur.pos]):
                cur.pos += 1
            config = cur.text[start:cur.pos].strip()
            if not config:
                raise cur.unexpected("letter or digit")
            cur.expect(")")
        cur.expect(".")
        return Condition(fld, op, _single_value(cur, in_logic), negate, fts_config=config)
    quantifier: str | None = None
    if cur.peek("(any)") or cur.peek("(all)"):
        quantifier = cur.text[cur.pos + 1:cur.pos + 4]
        cur.pos += 5
        if op not in QUANTIFIABLE_OPS:
            cur.pos = op_start
            raise cur.fail(f"unknown single value operator {op}({quantifier})")
    if op not in SIMPLE_OPS or not cur.take("."):
        cur.pos = op_start
        if not op:
            raise cur.unexpected("operator (eq, gt, ...)")
        raise cur.fail(f"unknown single value operator {op}")
    return Condition(fld, op, _single_value(cur, in_logic), negate, quantifier)


def _single_value(cur: _Cursor, in_logic: bool) -> str:
    if not in_logic:
        value = cur.text[cur.pos:]
        cur.pos = len(cur.text)
        return value
    # Inside and()/or(): a quoted value, a {pg,array}, or text up to the next `,` or `)`.
    if cur.peek('"'):
        start = cur.pos
        quoted = cur.quoted()
        if cur.at_end() or cur.peek(",") or cur.peek(")"):
            return quoted
        cur.pos = start
    if cur.peek("{"):
        start = cur.pos
        cur.until("}")
        if cur.take("}"):
            return cur.text[start:cur.pos]
        cur.pos = start
    return cur.until(",)")


def _list_value(cur: _Cursor) -> tuple[str, ...]:
    cur.skip_ws()
    cur.expect("(")
    items: list[str] = []
    while True:
        if cur.peek('"'):
            start = cur.pos
            quoted = cur.quoted()
            if cur.peek(",") or cur.peek(")"):
                items.append(quoted)
            else:
                cur.pos = start
                items.append(cur.until(",)"))
        else:
            items.append(cur.until(",)"))
        if cur.take(","):
            continue
        cur.expect(")")
        cur.skip_ws()
        return tuple(items)


# -- logic trees ----------------------------------------------------------------------------

LOGIC_KEYS = {"and": ("and", False), "or": ("or", False), "not.and": ("and", True), "not.or": ("or", True)}


def parse_logic(key: str, value: str) -> Logic:
    """``or=(a.eq.1,and(b.gt.2,c.is.null))`` and ``not.or=(...)``."""
    op, negate = LOGIC_KEYS[key]
    cur = _Cursor("logic tree", value)
    children = _logic_children(cur)
    if not cur.at_end():
        raise cur.unexpected("end of input")
    return Logic(op, children, negate)


def _logic_children(cur: _Cursor) -> tuple[Condition | Logic, ...]:
    cur.skip_ws()
    cur.expect("(")
    children: list[Condition | Logic] = []
    while True:
        cur.skip_ws()
        children.append(_logic_item(cur))
        cur.skip_ws()
        if cur.take(","):
            continue
        cur.expect(")")
        return tuple(children)


def _logic_item(cur: _Cursor) -> Condition | Logic:
    for prefix, (op, negate) in (("not.and(", ("and", True)), ("not.or(", ("or", True)),
                                 ("and(", ("and", False)), ("or(", ("or", False))):
        if cur.peek(prefix):
            cur.pos += len(prefix) - 1
            return Logic(op, _logic_children(cur), negate)
    fld = cur.field()
    if cur.peek("("):
        raise cur.unexpected("logic operator (and, or)")
    cur.expect(".")
    return _op_expr(cur, fld, in_logic=True)


# -- order, columns, integers ---------------------------------------------------------------


def parse_order(text: str) -> list[OrderTerm]:
    cur = _Cursor("order", text)
    terms: list[OrderTerm] = []
    while True:
        cur.skip_ws()
        fld = cur.field()
        if cur.peek("("):
            raise Unsupported("ordering by an embedded resource")
        desc = False
        nulls: str | None = None
        if cur.take(".asc"):
            pass
        elif cur.take(".desc"):
            desc = True
        if cur.take(".nullsfirst"):
            nulls = "first"
        elif cur.take(".nullslast"):
            nulls = "last"
        cur.skip_ws()
        terms.append(OrderTerm(fld, desc, nulls))
        if cur.at_end():
            return terms
        if not cur.take(","):
            raise cur.unexpected('"asc", "desc", "nullsfirst", "nullslast", "," or end of input')


def parse_columns(what: str, text: str) -> list[str]:
    """``columns=a,"b c"`` and ``on_conflict=a,b``."""
    cur = _Cursor(what, text)
    names: list[str] = []
    while True:
        names.append(cur.field_name())
        cur.skip_ws()
        if cur.at_end():
            return names
        if not cur.take(","):
            raise cur.unexpected('"," or end of input')


def parse_nonneg_int(what: str, text: str) -> int:
    stripped = text.strip()
    if not stripped.isdigit() or not stripped.isascii() or len(stripped) > 18:
        raise ParseError(what, text, 0, "expecting a non-negative integer")
    return int(stripped)
