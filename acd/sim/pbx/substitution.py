"""``${VAR}``, ``${VAR:offset:length}``, ``${FUNC(args)}`` and ``$[expr]`` substitution (pure).

Mirrors ``pbx_substitute_variables_helper``: the innermost constructs are expanded first,
so ``${${NAME}}`` and ``$[ ${A} + 1 ]`` work; an unknown variable expands to nothing.
What a name means is asked of a :class:`VariableSource` (a channel, or the globals).
"""

from __future__ import annotations

from typing import Protocol

from .expressions import evaluate

__all__ = ["DictSource", "VariableSource", "parse_variable_name", "substitute", "substring"]


class VariableSource(Protocol):
    def get_variable(self, name: str) -> str | None:
        """A variable (or builtin such as ``EXTEN``); ``None`` when unset."""
        ...

    def call_function(self, name: str, args: str) -> str | None:
        """A dialplan function ``NAME(args)`` read; ``None`` when unknown."""
        ...


class DictSource:
    """A plain mapping as a variable source (globals, tests)."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values = dict(values or {})

    def get_variable(self, name: str) -> str | None:
        return self.values.get(name)

    def call_function(self, name: str, args: str) -> str | None:
        return None


def substring(value: str, offset: int, length: int | None) -> str:
    """Asterisk's substring rules: a negative offset counts from the end; a negative length
    leaves that many characters off the end."""
    size = len(value)
    if offset < 0:
        offset = max(size + offset, 0)
    if offset > size:
        return ""
    value = value[offset:]
    if length is None:
        return value
    if length >= 0:
        return value[:length]
    return value[: max(len(value) + length, 0)]


def parse_variable_name(text: str) -> tuple[str, int, int | None]:
    """``NAME:offset:length`` -> (NAME, offset, length); colons inside ``(...)`` don't count."""
    depth = 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == ":" and depth == 0:
            name = text[:i]
            rest = text[i + 1 :].split(":", 1)
            offset = _int(rest[0])
            length = _int(rest[1]) if len(rest) > 1 and rest[1].strip() else None
            return name, offset, length
    return text, 0, None


def _int(text: str) -> int:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return 0


def _find_close(text: str, start: int, open_ch: str, close_ch: str) -> int:
    """Index of the bracket closing the one opened just before ``start``; -1 if none."""
    depth = 1
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "$" and i + 1 < len(text) and text[i + 1] in "{[":
            # a nested ${ or $[ opens a bracket of its own kind
            inner_close = "}" if text[i + 1] == "{" else "]"
            end = _find_close(text, i + 2, text[i + 1], inner_close)
            if end < 0:
                return -1
            i = end + 1
            continue
        if ch == open_ch:
            depth += 1
        elif ch == close_ch:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _lookup(expr: str, source: VariableSource) -> str:
    name, offset, length = parse_variable_name(expr)
    name = name.strip()
    value: str | None
    if name.endswith(")") and "(" in name:
        func, _, args = name.partition("(")
        value = source.call_function(func.strip(), args[:-1])
    else:
        value = source.get_variable(name)
    if value is None:
        return ""
    if offset == 0 and length is None:
        return value
    return substring(value, offset, length)


def substitute(text: str, source: VariableSource) -> str:
    """Expand every ``${...}`` and ``$[...]`` in ``text``."""
    if "$" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "$" and i + 1 < len(text) and text[i + 1] in "{[":
            kind = text[i + 1]
            close = "}" if kind == "{" else "]"
            end = _find_close(text, i + 2, kind, close)
            if end < 0:
                out.append(text[i:])
                break
            inner = substitute(text[i + 2 : end], source)
            out.append(_lookup(inner, source) if kind == "{" else evaluate(inner))
            i = end + 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)
