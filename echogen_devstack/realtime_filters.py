"""``postgres_changes`` filters: ``col=op.value`` with eq, neq, lt, lte, gt, gte and in.

Several conditions joined by commas (outside an ``in.(...)`` list) must all hold, as in
current Realtime. Postgres compares the values, cast to the column's type, so ``gt`` on a
timestamp or ``eq`` on a uuid behaves exactly as it would in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OPERATORS = {"eq": "=", "neq": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


class FilterError(ValueError):
    """The filter text cannot be parsed, or names an unsupported operator."""


@dataclass(frozen=True)
class Condition:
    column: str
    op: str
    value: str | tuple[str, ...]


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _in_values(text: str) -> tuple[str, ...]:
    if not (text.startswith("(") and text.endswith(")")):
        raise FilterError(f"in filter needs a parenthesised list: {text!r}")
    items = [item.strip() for item in text[1:-1].split(",")]
    return tuple(item[1:-1] if len(item) >= 2 and item[0] == item[-1] == '"' else item for item in items)


def parse_filter(text: str) -> tuple[Condition, ...]:
    conditions: list[Condition] = []
    for part in _split_top_level(text):
        column, sep, rest = part.partition("=")
        op, dot, value = rest.partition(".")
        column = column.strip()
        if not sep or not dot or not column:
            raise FilterError(f"filter must look like column=operator.value: {part!r}")
        if op == "in":
            conditions.append(Condition(column, op, _in_values(value)))
        elif op in OPERATORS:
            conditions.append(Condition(column, op, value))
        else:
            raise FilterError(f"unsupported filter operator {op!r}")
    return tuple(conditions)


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def condition_sql(cond: Condition, column_type: str, param: int) -> str:
    """A boolean SQL expression over ``r``, a row of the table, with the value as ``$param``."""
    column = f"r.{quote_ident(cond.column)}"
    if cond.op == "in":
        return f"({column} = any(cast(${param}::text[] as {column_type}[])))"
    return f"({column} {OPERATORS[cond.op]} cast(${param}::text as {column_type}))"


def build_check(
    table_sql: str, checks: list[tuple[Condition, str]]
) -> tuple[str, list[Any]]:
    """One query that evaluates every (condition, column type) over the record ``$1``."""
    params: list[Any] = []
    exprs: list[str] = []
    for cond, column_type in checks:
        params.append(list(cond.value) if isinstance(cond.value, tuple) else cond.value)
        exprs.append(f"coalesce({condition_sql(cond, column_type, len(params) + 1)}, false)")
    sql = f"select array[{', '.join(exprs)}] from jsonb_populate_record(null::{table_sql}, $1::jsonb) r"
    return sql, params
