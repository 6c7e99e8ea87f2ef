"""Asterisk ``$[ ... ]`` expressions (ast_expr2), evaluated to a string (pure).

Operators, lowest precedence first: ``c ? a :: b``; ``|``; ``&``; ``= == != < > <= >=``;
``+ -``; ``* / %``; unary ``! -``; regex ``:`` (anchored) and ``=~``; parentheses.
Comparisons are numeric when both sides are numbers, else string comparisons, and give
``1``/``0``. ``a | b`` is ``a`` unless ``a`` is empty or zero, else ``b`` (or ``0``);
``a & b`` is ``a`` when neither is empty or zero, else ``0``. Double-quoted strings lose
their quotes. A malformed expression evaluates to the empty string, with a warning, as in
Asterisk.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass

__all__ = ["ExpressionError", "evaluate", "is_true"]

log = logging.getLogger(__name__)

# longest first, so that "::" is not read as ":" twice
_OPERATORS: tuple[str, ...] = (
    *("::", "=~", "==", "!=", "<=", ">="),
    *("|", "&", "=", "<", ">", "+", "-", "*", "/", "%", "!", "(", ")", "?", ":"),
)
_OP_CHARS = set("|&=<>!+-*/%()?:")


class ExpressionError(ValueError):
    pass


@dataclass(frozen=True)
class _Tok:
    kind: str  # "op" or "val"
    text: str


def _tokenize(expr: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i = 0
    n = len(expr)
    while i < n:
        ch = expr[i]
        if ch.isspace():
            i += 1
            continue
        if ch == '"':
            j = i + 1
            buf: list[str] = []
            while j < n and expr[j] != '"':
                if expr[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(expr[j])
                j += 1
            if j >= n:
                raise ExpressionError(f"unterminated string in {expr!r}")
            toks.append(_Tok("val", "".join(buf)))
            i = j + 1
            continue
        op = next((o for o in _OPERATORS if expr.startswith(o, i)), None)
        if op is not None:
            toks.append(_Tok("op", op))
            i += len(op)
            continue
        j = i
        while j < n and not expr[j].isspace() and expr[j] not in _OP_CHARS and expr[j] != '"':
            j += 1
        toks.append(_Tok("val", expr[i:j]))
        i = j
    return toks


def _number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    if math.isnan(value) or math.isinf(value):
        return None
    return value


def _format(value: float) -> str:
    if value == int(value) and abs(value) < 1e18:
        return str(int(value))
    return repr(value)


def is_true(text: str) -> bool:
    """Asterisk's ``pbx_checkcondition``: empty is false, a number is its truth, text is true."""
    text = text.strip()
    if not text:
        return False
    num = _number(text)
    if num is not None:
        return num != 0
    return True


def _null(text: str) -> bool:
    num = _number(text)
    return text == "" or (num is not None and num == 0)


class _Parser:
    def __init__(self, toks: list[_Tok]) -> None:
        self.toks = toks
        self.pos = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take_op(self, *ops: str) -> str | None:
        tok = self.peek()
        if tok is not None and tok.kind == "op" and tok.text in ops:
            self.pos += 1
            return tok.text
        return None

    def parse(self) -> str:
        value = self.ternary()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()}")
        return value

    def ternary(self) -> str:
        cond = self.or_()
        if self.take_op("?"):
            a = self.ternary()
            if not self.take_op("::"):
                raise ExpressionError("'?' without '::'")
            b = self.ternary()
            return a if is_true(cond) else b
        return cond

    def or_(self) -> str:
        left = self.and_()
        while self.take_op("|"):
            right = self.and_()
            if not _null(left):
                continue
            left = right if not _null(right) else "0"
        return left

    def and_(self) -> str:
        left = self.cmp()
        while self.take_op("&"):
            right = self.cmp()
            left = left if not _null(left) and not _null(right) else "0"
        return left

    def cmp(self) -> str:
        left = self.add()
        while True:
            op = self.take_op("=", "==", "!=", "<", ">", "<=", ">=")
            if op is None:
                return left
            right = self.add()
            a, b = _number(left), _number(right)
            if a is not None and b is not None:
                res = _compare(a, b, op)
            else:
                res = _compare(left, right, op)
            left = "1" if res else "0"

    def add(self) -> str:
        left = self.mul()
        while True:
            op = self.take_op("+", "-")
            if op is None:
                return left
            right = self.mul()
            a, b = _number(left), _number(right)
            if a is None or b is None:
                raise ExpressionError(f"non-numeric argument to {op}")
            left = _format(a + b if op == "+" else a - b)

    def mul(self) -> str:
        left = self.unary()
        while True:
            op = self.take_op("*", "/", "%")
            if op is None:
                return left
            right = self.unary()
            a, b = _number(left), _number(right)
            if a is None or b is None:
                raise ExpressionError(f"non-numeric argument to {op}")
            if op == "*":
                left = _format(a * b)
            elif b == 0:
                raise ExpressionError("division by zero")
            elif op == "/":
                q = a / b
                left = _format(math.trunc(q)) if a == int(a) and b == int(b) else _format(q)
            else:
                left = _format(math.fmod(a, b))

    def unary(self) -> str:
        if self.take_op("!"):
            return "1" if _null(self.unary()) else "0"
        if self.take_op("-"):
            val = _number(self.unary())
            if val is None:
                raise ExpressionError("non-numeric argument to unary -")
            return _format(-val)
        return self.regex()

    def regex(self) -> str:
        left = self.atom()
        while True:
            op = self.take_op(":", "=~")
            if op is None:
                return left
            pattern = self.atom()
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise ExpressionError(f"bad regex {pattern!r}: {exc}") from exc
            m = compiled.match(left) if op == ":" else compiled.search(left)
            if m is None:
                left = "" if compiled.groups else "0"
            elif compiled.groups:
                left = m.group(1) or ""
            else:
                left = str(m.end() - m.start())

    def atom(self) -> str:
        if self.take_op("("):
            value = self.ternary()
            if not self.take_op(")"):
                raise ExpressionError("missing ')'")
            return value
        tok = self.peek()
        if tok is None:
            raise ExpressionError("unexpected end of expression")
        if tok.kind != "val":
            raise ExpressionError(f"unexpected operator {tok.text!r}")
        self.pos += 1
        return tok.text


def _compare(a: float | str, b: float | str, op: str) -> bool:
    """Compare two numbers or two strings (the caller never mixes them)."""
    left: tuple[float, str] = (a, "") if isinstance(a, float) else (0.0, a)
    right: tuple[float, str] = (b, "") if isinstance(b, float) else (0.0, b)
    if op in ("=", "=="):
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == ">":
        return left > right
    if op == "<=":
        return left <= right
    return left >= right


def evaluate(expr: str) -> str:
    """Evaluate an (already variable-substituted) expression; ``""`` when it is malformed."""
    try:
        toks = _tokenize(expr)
        if not toks:
            return ""
        return _Parser(toks).parse()
    except ExpressionError as exc:
        log.warning("bad expression $[%s]: %s", expr, exc)
        return ""
