"""Application argument syntax (pure): argument splitting, options, Goto targets.

:func:`separate_args` is ``AST_STANDARD_APP_ARGS``: split on a delimiter outside quotes and
brackets, drop the double quotes, a backslash keeps the next character.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GotoTarget", "parse_goto", "parse_options", "separate_args"]


def separate_args(data: str, delim: str = ",", remove_chars: bool = True) -> list[str]:
    """Split application data into arguments (``""`` gives ``[""]`` like Asterisk)."""
    args: list[str] = []
    cur: list[str] = []
    depth = 0
    quoted = False
    i = 0
    while i < len(data):
        ch = data[i]
        if ch in "([" and not quoted:
            depth += 1
            cur.append(ch)
        elif ch in ")]" and not quoted and depth > 0:
            depth -= 1
            cur.append(ch)
        elif ch == '"' and delim != '"':
            quoted = not quoted
            if not remove_chars:
                cur.append(ch)
        elif ch == "\\" and i + 1 < len(data):
            if not remove_chars:
                cur.append(ch)
            cur.append(data[i + 1])
            i += 1
        elif ch == delim and depth == 0 and not quoted:
            args.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    args.append("".join(cur))
    return args


def parse_options(text: str) -> dict[str, str | None]:
    """Application options ``bF(ctx^exten^1)`` -> {"b": None, "F": "ctx^exten^1"}."""
    opts: dict[str, str | None] = {}
    i = 0
    while i < len(text):
        ch = text[i]
        if i + 1 < len(text) and text[i + 1] == "(":
            end = text.find(")", i + 2)
            end = len(text) if end < 0 else end
            opts[ch] = text[i + 2 : end]
            i = end + 1
            continue
        opts[ch] = None
        i += 1
    return opts


@dataclass(frozen=True)
class GotoTarget:
    """``[[context,]exten,]priority``; ``None`` parts mean "the channel's current one"."""

    context: str | None
    exten: str | None
    priority: str


def parse_goto(text: str, sep: str = ",") -> GotoTarget | None:
    """Read a Goto target; the priority may be a number or a label. ``None`` if empty."""
    parts = [p.strip() for p in text.split(sep)]
    if sep == "," and len(parts) == 1 and "|" in text:
        parts = [p.strip() for p in text.split("|")]
    if not parts or not parts[-1]:
        return None
    if len(parts) == 1:
        return GotoTarget(None, None, parts[0])
    if len(parts) == 2:
        return GotoTarget(None, parts[0] or None, parts[1])
    return GotoTarget(parts[0] or None, parts[1] or None, parts[2])
