"""The sandbox's ROQL: enough of Oracle's query language for what any client may send it.

``select <paths> from <table> [where <condition>] [order by <path> [asc|desc], ...] [limit n]
[offset n]``; conditions are
comparisons (``=``, ``!=``, ``<>``, ``<``, ``<=``, ``>``, ``>=``, ``like``, ``is [not] null``)
joined by ``and``/``or``/``not`` with parentheses. Each rule below names where it comes from:
Oracle's documentation, Oracle's own code, or inferred (and then ``python -m bot doctor``
checks the bot's side of it on a live site).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Oracle doc: a query answers at most 20,000 rows.
MAX_ROWS = 20_000


class RoqlError(Exception):
    """A query Oracle would refuse: 400 with ``OSC-CREST-00007`` (Oracle doc: "an invalid
    query parameter was used") and this detail."""


@dataclass(frozen=True)
class Token:
    kind: str  # "string", "number", "word", "op", "(", ")", ","
    text: str
    value: Any = None


_WORD = re.compile(r"[A-Za-z_][\w.]*")
_NUMBER = re.compile(r"-?\d+")
_OPS = ("!=", "<>", ">=", "<=", "=", ">", "<")
_KEYWORDS = {
    "select",
    "from",
    "where",
    "and",
    "or",
    "not",
    "like",
    "is",
    "null",
    "order",
    "by",
    "asc",
    "desc",
    "limit",
    "offset",
}
# inferred (any database): no order is owed to rows a query did not ask to order; the sandbox
# answers such a query in an order that changes from call to call, so that a client relying on
# one fails in tests (the doctor sends the bot's paged queries, ordered, to a live site)
_SHUFFLE = random.Random()


def tokenize(statement: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(statement)
    while i < n:
        char = statement[i]
        if char.isspace():
            i += 1
            continue
        if char == "'":
            # Oracle code: a quote inside a literal is written twice ('O''Brien'); a backslash
            # escapes nothing, so 'O\'Brien' ends after the backslash and leaves an unclosed
            # quote, answered "unrecognized token" (Customer Portal framework tests).
            j = i + 1
            while j < n:
                if statement[j] == "'":
                    if j + 1 < n and statement[j + 1] == "'":
                        j += 2
                        continue
                    break
                j += 1
            if j >= n:
                raise RoqlError(f'unrecognized token: "{statement[i:]}"')
            tokens.append(
                Token("string", statement[i : j + 1], statement[i + 1 : j].replace("''", "'"))
            )
            i = j + 1
            continue
        if char in "(),":
            tokens.append(Token(char, char))
            i += 1
            continue
        op = next((o for o in _OPS if statement.startswith(o, i)), None)
        if op is not None:
            tokens.append(Token("op", op))
            i += len(op)
            continue
        match = _NUMBER.match(statement, i) if char.isdigit() or char == "-" else None
        if match:
            tokens.append(Token("number", match.group(), int(match.group())))
            i = match.end()
            continue
        match = _WORD.match(statement, i)
        if match:
            tokens.append(Token("word", match.group()))
            i = match.end()
            continue
        raise RoqlError(f'unrecognized token: "{statement[i:]}"')
    return tokens


@dataclass
class Query:
    columns: list[str]
    table: str
    where: Any  # a condition tree, or None
    limit: int
    offset: int
    order: list[tuple[str, bool]] = field(default_factory=list)  # (path, descending)


class _Parser:
    def __init__(self, tokens: list[Token], statement: str) -> None:
        self.tokens = tokens
        self.at = 0
        self.statement = statement

    def peek(self) -> Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token and token.kind == "word" and token.text.lower() == word:
            self.at += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.keyword(word):
            self.fail()

    def fail(self) -> None:
        token = self.peek()
        near = token.text if token else "end of query"
        raise RoqlError(f"syntax error near {near!r} in query: {self.statement}")

    def take(self, kind: str) -> Token:
        token = self.peek()
        if token is None or token.kind != kind:
            self.fail()
        self.at += 1
        return token  # type: ignore[return-value]

    def path(self) -> str:
        token = self.take("word")
        if token.text.lower() in _KEYWORDS:
            self.fail()
        return token.text

    def query(self) -> Query:
        self.expect("select")
        columns = []
        while True:
            columns.append(self.path())
            if not (self.peek() and self.peek().kind == ","):  # type: ignore[union-attr]
                break
            self.at += 1
        self.expect("from")
        table = self.path()
        where = self.disjunction() if self.keyword("where") else None
        order: list[tuple[str, bool]] = []
        if self.keyword("order"):
            # inferred: ROQL's ORDER BY as SQL's (paths, ASC or DESC, before LIMIT and OFFSET);
            # python -m bot doctor sends every paged query, ordered, to a live site
            self.expect("by")
            while True:
                path = self.path()
                descending = self.keyword("desc")
                if not descending:
                    self.keyword("asc")
                order.append((path, descending))
                if not (self.peek() and self.peek().kind == ","):  # type: ignore[union-attr]
                    break
                self.at += 1
        limit, offset = MAX_ROWS, 0
        while self.peek() is not None:
            if self.keyword("limit"):
                limit = min(self.take("number").value, MAX_ROWS)
            elif self.keyword("offset"):
                offset = self.take("number").value
            else:
                self.fail()
        return Query(columns, table, where, limit, offset, order)

    def disjunction(self) -> Any:
        parts = [self.conjunction()]
        while self.keyword("or"):
            parts.append(self.conjunction())
        return ("or", parts) if len(parts) > 1 else parts[0]

    def conjunction(self) -> Any:
        parts = [self.factor()]
        while self.keyword("and"):
            parts.append(self.factor())
        return ("and", parts) if len(parts) > 1 else parts[0]

    def factor(self) -> Any:
        if self.keyword("not"):
            return ("not", self.factor())
        token = self.peek()
        if token is not None and token.kind == "(":
            self.at += 1
            inner = self.disjunction()
            self.take(")")
            return inner
        column = self.path()
        if self.keyword("is"):
            negated = self.keyword("not")
            self.expect("null")
            return ("isnull", column, negated)
        if self.keyword("like"):
            return ("like", column, self.take("string").value)
        op = self.take("op").text
        token = self.peek()
        if token is None or token.kind not in ("string", "number"):
            self.fail()
        self.at += 1
        return ("cmp", column, "!=" if op == "<>" else op, token.value)  # type: ignore[union-attr]


def parse(statement: str) -> Query:
    return _Parser(tokenize(statement), statement).query()


def split_statements(text: str) -> list[str]:
    """Oracle doc: several queries separated by ``;`` give several result tables."""
    pieces, current, quoted = [], [], False
    for char in text:
        if char == "'":
            quoted = not quoted  # a doubled quote flips twice: still right
        if char == ";" and not quoted:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return [piece for piece in pieces if piece.strip()]


# ------------------------------------------------------------------------------ evaluation
_MISSING = object()


def resolve(row: dict[str, Any], path: str, table: str) -> Any:
    """The value at a dotted path. Oracle code: paths may start with the table's name
    (``Tasks.CustomFields.c.order_number``) and ignore case (``Emails.Address``)."""
    parts = path.split(".")
    if parts[0].lower() == table.lower() and len(parts) > 1:
        parts = parts[1:]
    value: Any = row
    for part in parts:
        if value is None:
            return None  # a null reference: its fields are null
        if not isinstance(value, dict):
            raise RoqlError(f"Invalid field: {path}")
        found = next((v for k, v in value.items() if k.lower() == part.lower()), _MISSING)
        if found is _MISSING:
            # inferred: an unknown field (a custom field the site lacks) is a query error
            raise RoqlError(f"Invalid field: {path}")
        value = found
    if isinstance(value, dict) and "id" in value:
        # inferred: a bare reference or named ID answers its id (the bot never relies on it:
        # it selects ….id or ….lookupName)
        return value["id"]
    if isinstance(value, dict):
        raise RoqlError(f"Invalid field: {path}")
    return value


def _time_literal(text: str, path: str) -> datetime:
    # Oracle code: time literals are written '2011-10-17T16:27:42' (tests) or
    # '2023-08-14 00:00:00' (samples); inferred: read as UTC, and anything else (a trailing Z,
    # a fraction) refused, so that the client is held to the verified forms
    for form in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, form).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise RoqlError(f"Invalid date and time value for {path}: '{text}'")


def _like(pattern: str) -> re.Pattern[str]:
    # Oracle doc: % matches any run of characters and _ any one; no escape is documented, so
    # (inferred) a backslash is an ordinary character here too. Oracle doc: not case-sensitive.
    out = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern]
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def holds(row: dict[str, Any], condition: Any, table: str) -> bool:
    kind = condition[0]
    if kind == "or":
        return any(holds(row, part, table) for part in condition[1])
    if kind == "and":
        return all(holds(row, part, table) for part in condition[1])
    if kind == "not":
        return not holds(row, condition[1], table)
    value = resolve(row, condition[1], table)
    if kind == "isnull":
        return (value is not None) if condition[2] else (value is None)
    if kind == "like":
        return value is not None and bool(_like(condition[2]).fullmatch(str(value)))
    _, path, op, literal = condition
    if isinstance(value, datetime):
        if not isinstance(literal, str):
            raise RoqlError(f"Invalid date and time value for {path}: {literal}")
        literal = _time_literal(literal, path)
    if value is None:
        return False  # inferred: SQL's null, equal to nothing
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, str) and isinstance(literal, str):
        # Oracle doc: "The search parameters … are not case-sensitive"
        value, literal = value.casefold(), literal.casefold()
    elif isinstance(value, int) and isinstance(literal, str):
        if not literal.lstrip("-").isdigit():
            return False
        literal = int(literal)
    elif isinstance(value, str) and isinstance(literal, int):
        literal = str(literal)
    comparisons = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
    }
    return comparisons[op](value, literal)


def _sort_key(value: Any) -> tuple[int, Any]:
    # inferred: nulls first in an ascending order (as Oracle's database sorts them by default
    # is unverified; the bot orders only by columns that are never null: id, updatedTime)
    if value is None:
        return (0, 0)
    if isinstance(value, datetime):
        return (1, value.timestamp())
    if isinstance(value, int | float):
        return (1, value)
    return (2, str(value).lower())


def cell(value: Any) -> str | None:
    """Oracle doc: every cell of a query result is a string (or null)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def column_name(path: str) -> str:
    # inferred: how Oracle names a dotted column in columnNames is unverified (`emails.address`
    # or `address`); the sandbox answers the last part, so a client reading cells by the path's
    # name instead of by position fails here first
    return path.split(".")[-1]


def run(query: Query, rows: list[dict[str, Any]], template: dict[str, Any]) -> dict[str, Any]:
    """One result table, shaped as Oracle's ``queryResults`` items (Oracle doc). ``template``
    is a row with every field of the table, so an unknown column is refused even when no row
    matches."""
    for path in query.columns:
        resolve(template, path, query.table)
    if query.where is not None:
        holds(template, query.where, query.table)
    for path, _descending in query.order:
        resolve(template, path, query.table)
    matched = [row for row in rows if query.where is None or holds(row, query.where, query.table)]
    if query.order:
        for path, descending in reversed(query.order):  # stable sorts, last key first
            matched.sort(
                key=lambda row, path=path: _sort_key(resolve(row, path, query.table)),
                reverse=descending,
            )
    else:
        _SHUFFLE.shuffle(matched)
    matched = matched[query.offset : query.offset + query.limit]
    return {
        "tableName": query.table,
        "count": len(matched),
        "columnNames": [column_name(path) for path in query.columns],
        "rows": [
            [cell(resolve(row, path, query.table)) for path in query.columns] for row in matched
        ],
    }
