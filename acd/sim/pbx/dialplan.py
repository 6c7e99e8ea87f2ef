"""Parse ``extensions.conf`` and find what a channel executes next (pure, no I/O but reading).

Supported, as Asterisk's ``pbx_config`` reads it: ``[context]`` sections, ``[globals]``,
``exten => pattern,priority[(label)],App(args)``, ``same => n,...``, numeric and ``n``
priorities, ``hint`` priorities, ``include => context``, ``;`` comments (``\\;`` escapes one)
and ``;-- block --;`` comments. ``#include``/``#exec``, templates and ``switch`` are ignored
with a warning.

Pattern extensions start with ``_``: ``X`` is 0-9, ``Z`` 1-9, ``N`` 2-9 (the three letters
case-insensitive, as in Asterisk), ``[1-5a]`` a set, ``.`` one or more of anything, ``!``
zero or more, ``-`` is ignored, anything else is literal. Among the extensions of one context
an exact match wins, then the most specific pattern (Asterisk's ``ext_cmp`` order); included
contexts are searched only when the context itself has no match.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "Context",
    "Dialplan",
    "DialplanError",
    "Extension",
    "Hint",
    "Priority",
    "pattern_matches",
    "pattern_matches_more",
    "pattern_sort_key",
]

log = logging.getLogger(__name__)

HINT = -1
_PRIORITY_RE = re.compile(r"^\s*(?P<num>\d+|n|hint)\s*(?:\(\s*(?P<label>[^)]*?)\s*\))?\s*$", re.I)


class DialplanError(ValueError):
    """The file cannot be read as a dialplan; the message names file and line."""


@dataclass(frozen=True)
class Priority:
    """One step of an extension: ``App(data)`` with the data not yet substituted."""

    number: int
    app: str
    data: str
    label: str | None = None
    source: str = ""


@dataclass(frozen=True)
class Hint:
    """``exten => 1001,hint,PJSIP/1001``: the devices whose state the extension reports."""

    context: str
    exten: str
    devices: tuple[str, ...]

    @property
    def text(self) -> str:
        return "&".join(self.devices)


@dataclass
class Extension:
    """An extension (literal or ``_pattern``) with its priorities."""

    name: str
    priorities: dict[int, Priority] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    hint: str | None = None

    @property
    def is_pattern(self) -> bool:
        return self.name.startswith("_")

    def matches(self, exten: str) -> bool:
        if self.is_pattern:
            return pattern_matches(self.name, exten)
        return self.name == exten

    def label_priority(self, label: str) -> int | None:
        return self.labels.get(label)


@dataclass
class Context:
    name: str
    extensions: dict[str, Extension] = field(default_factory=dict)
    includes: list[str] = field(default_factory=list)

    def own_match(self, exten: str) -> Extension | None:
        """The best match among this context's own extensions (not its includes)."""
        exact = self.extensions.get(exten)
        if exact is not None and not exact.is_pattern:
            return exact
        candidates = [e for e in self.extensions.values() if e.is_pattern and e.matches(exten)]
        if not candidates:
            return None
        return min(candidates, key=lambda e: pattern_sort_key(e.name))


# --------------------------------------------------------------------------- patterns


def _pattern_tokens(pattern: str) -> Iterator[str]:
    """Tokens of a pattern without its leading ``_``: single chars or ``[...]`` sets."""
    body = pattern[1:] if pattern.startswith("_") else pattern
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "[":
            end = body.find("]", i + 1)
            if end < 0:
                yield body[i:]
                return
            yield body[i : end + 1]
            i = end + 1
            continue
        if ch != "-":
            yield ch
        i += 1


def _set_chars(token: str) -> str:
    inner = token[1:-1] if token.endswith("]") else token[1:]
    chars: list[str] = []
    i = 0
    while i < len(inner):
        if i + 2 < len(inner) and inner[i + 1] == "-":
            lo, hi = ord(inner[i]), ord(inner[i + 2])
            chars.extend(chr(c) for c in range(lo, hi + 1))
            i += 3
        else:
            chars.append(inner[i])
            i += 1
    return "".join(dict.fromkeys(chars))


_CLASS = {"X": "0123456789", "Z": "123456789", "N": "23456789"}
_REGEX_CACHE: dict[str, re.Pattern[str]] = {}


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    cached = _REGEX_CACHE.get(pattern)
    if cached is not None:
        return cached
    parts: list[str] = []
    for tok in _pattern_tokens(pattern):
        up = tok.upper()
        if tok.startswith("["):
            parts.append("[" + re.escape(_set_chars(tok)) + "]")
        elif up in _CLASS:
            parts.append("[" + _CLASS[up] + "]")
        elif tok == ".":
            parts.append(".+")
        elif tok == "!":
            parts.append(".*")
        else:
            parts.append(re.escape(tok))
    compiled = re.compile("^" + "".join(parts) + "$", re.S)
    _REGEX_CACHE[pattern] = compiled
    return compiled


def pattern_matches(pattern: str, exten: str) -> bool:
    """Whether the ``_pattern`` matches the dialled extension."""
    return _pattern_regex(pattern).match(exten) is not None


def pattern_matches_more(pattern: str, prefix: str) -> bool:
    """Whether some extension longer than ``prefix`` that starts with it matches the pattern
    (``ast_matchmore_extension`` for one extension)."""
    if not pattern.startswith("_"):
        return pattern.startswith(prefix) and len(pattern) > len(prefix)
    tokens = list(_pattern_tokens(pattern))
    for index, ch in enumerate(prefix):
        if index >= len(tokens):
            return False
        token = tokens[index]
        if token in (".", "!"):
            return True  # matches the rest of the prefix and more
        up = token.upper()
        if token.startswith("["):
            allowed = _set_chars(token)
        elif up in _CLASS:
            allowed = _CLASS[up]
        else:
            allowed = token
        if ch not in allowed:
            return False
    return len(tokens) > len(prefix)


def pattern_sort_key(pattern: str) -> tuple[tuple[int, str], ...]:
    """Order of patterns of one context: at the first differing position, the one matching
    fewer characters comes first; ``.`` and ``!`` match the most."""
    key: list[tuple[int, str]] = []
    for tok in _pattern_tokens(pattern):
        up = tok.upper()
        if tok.startswith("["):
            key.append((len(_set_chars(tok)), tok))
        elif up in _CLASS:
            key.append((len(_CLASS[up]), up))
        elif tok == ".":
            key.append((10_000, tok))
        elif tok == "!":
            key.append((10_001, tok))
        else:
            key.append((1, tok))
    return tuple(key)


# --------------------------------------------------------------------------- the dialplan


class Dialplan:
    """Contexts, globals and hints of one ``extensions.conf``."""

    def __init__(self) -> None:
        self.contexts: dict[str, Context] = {}
        self.globals: dict[str, str] = {}
        self.warnings: list[str] = []
        self.source: str = "<string>"

    # ----- loading

    @classmethod
    def from_file(cls, path: str | Path) -> Dialplan:
        p = Path(path)
        return cls.parse(p.read_text(encoding="utf-8"), source=str(p))

    @classmethod
    def parse(cls, text: str, source: str = "<string>") -> Dialplan:
        plan = cls()
        plan.source = source
        _Parser(plan, source).feed(text)
        return plan

    # ----- queries

    def context(self, name: str) -> Context | None:
        return self.contexts.get(name)

    def find_extension(self, context: str, exten: str) -> Extension | None:
        """The extension a channel at (context, exten) runs, searching includes depth-first."""
        return self._find(context, exten, set())

    def _find(self, context: str, exten: str, seen: set[str]) -> Extension | None:
        if context in seen:
            return None
        seen.add(context)
        ctx = self.contexts.get(context)
        if ctx is None:
            return None
        found = ctx.own_match(exten)
        if found is not None and found.priorities:
            return found
        for inc in ctx.includes:
            found_inc = self._find(inc, exten, seen)
            if found_inc is not None:
                return found_inc
        return found if found is not None and found.priorities else None

    def find_priority(self, context: str, exten: str, priority: int) -> Priority | None:
        ext = self.find_extension(context, exten)
        if ext is None:
            return None
        return ext.priorities.get(priority)

    def exists(self, context: str, exten: str, priority: int = 1) -> bool:
        return self.find_priority(context, exten, priority) is not None

    def find_label(self, context: str, exten: str, label: str) -> int | None:
        ext = self.find_extension(context, exten)
        if ext is None:
            return None
        return ext.label_priority(label)

    def can_match_more(self, context: str, exten: str) -> bool:
        """Whether a longer extension starting with ``exten`` exists in the context or what
        it includes (the PBX then waits for more digits)."""
        return self._matchmore(context, exten, set())

    def _matchmore(self, context: str, exten: str, seen: set[str]) -> bool:
        if context in seen:
            return False
        seen.add(context)
        ctx = self.contexts.get(context)
        if ctx is None:
            return False
        if any(pattern_matches_more(e.name, exten) for e in ctx.extensions.values()):
            return True
        return any(self._matchmore(inc, exten, seen) for inc in ctx.includes)

    def hints(self) -> list[Hint]:
        found: list[Hint] = []
        for ctx in self.contexts.values():
            for ext in ctx.extensions.values():
                if ext.hint is not None:
                    devices = tuple(d.strip() for d in ext.hint.split("&") if d.strip())
                    found.append(Hint(ctx.name, ext.name, devices))
        return found

    def hint_for(self, context: str, exten: str) -> Hint | None:
        for hint in self.hints():
            if hint.context == context and hint.exten == exten:
                return hint
        return None


def _strip_comment(line: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line) and line[i + 1] == ";":
            out.append(";")
            i += 2
            continue
        if ch == ";":
            break
        out.append(ch)
        i += 1
    return "".join(out)


def split_app(appl: str) -> tuple[str, str]:
    """``App(args)`` -> ("App", "args"); the arguments run to the *last* ``)``."""
    appl = appl.strip()
    paren = appl.find("(")
    if paren < 0:
        # old style "App,args"
        name, _, data = appl.partition(",")
        return name.strip(), data
    name = appl[:paren].strip()
    data = appl[paren + 1 :]
    end = data.rfind(")")
    if end >= 0:
        data = data[:end]
    return name, data


class _Parser:
    def __init__(self, plan: Dialplan, source: str) -> None:
        self.plan = plan
        self.source = source
        self.section: str | None = None
        self.last_exten: str | None = None
        self.last_priority = 0
        self.in_block_comment = False

    def warn(self, lineno: int, message: str) -> None:
        text = f"{self.source}:{lineno}: {message}"
        self.plan.warnings.append(text)
        log.warning("%s", text)

    def feed(self, text: str) -> None:
        for lineno, raw in enumerate(text.splitlines(), start=1):
            line = raw
            if self.in_block_comment:
                end = line.find("--;")
                if end < 0:
                    continue
                line = line[end + 3 :]
                self.in_block_comment = False
            start = line.find(";--")
            if start >= 0:
                end = line.find("--;", start + 3)
                if end < 0:
                    self.in_block_comment = True
                    line = line[:start]
                else:
                    line = line[:start] + line[end + 3 :]
            line = _strip_comment(line).strip()
            if not line:
                continue
            self.line(lineno, line)

    def line(self, lineno: int, line: str) -> None:
        if line.startswith("#"):
            self.warn(lineno, f"ignored directive {line.split()[0]}")
            return
        if line.startswith("["):
            end = line.find("]")
            if end < 0:
                raise DialplanError(f"{self.source}:{lineno}: unterminated context name")
            name = line[1:end].strip()
            if line[end + 1 :].strip():
                self.warn(lineno, f"ignored template options of [{name}]")
            self.section = name
            self.last_exten = None
            if name not in ("general", "globals"):
                self.plan.contexts.setdefault(name, Context(name))
            return
        if self.section is None:
            self.warn(lineno, "line outside any context ignored")
            return
        if "=" not in line:
            self.warn(lineno, f"cannot read {line!r}")
            return
        key, _, value = line.partition("=")
        if value.startswith(">"):
            value = value[1:]
        key = key.strip()
        value = value.strip()
        if self.section == "general":
            return
        if self.section == "globals":
            self.plan.globals[key] = value
            return
        ctx = self.plan.contexts[self.section]
        lkey = key.lower()
        if lkey == "include":
            ctx.includes.append(re.split(r"[,|]", value, maxsplit=1)[0].strip())
        elif lkey in ("exten", "same"):
            self.extension(lineno, ctx, lkey, value)
        elif lkey in ("switch", "ignorepat", "eswitch", "lswitch"):
            self.warn(lineno, f"ignored {key}")
        else:
            self.warn(lineno, f"unknown keyword {key!r}")

    def extension(self, lineno: int, ctx: Context, kind: str, value: str) -> None:
        if kind == "same":
            if self.last_exten is None:
                raise DialplanError(f"{self.source}:{lineno}: 'same =>' without a previous exten")
            name = self.last_exten
            rest = value
        else:
            name, sep, rest = value.partition(",")
            name = name.strip()
            if not sep or not name:
                raise DialplanError(f"{self.source}:{lineno}: cannot read extension {value!r}")
            if "/" in name and not name.startswith("_"):
                name = name.split("/", 1)[0]
        prio_text, sep, appl = rest.partition(",")
        m = _PRIORITY_RE.match(prio_text)
        if not sep or m is None:
            raise DialplanError(f"{self.source}:{lineno}: cannot read priority in {value!r}")
        num_text = m.group("num").lower()
        label = m.group("label") or None
        ext = ctx.extensions.setdefault(name, Extension(name))
        self.last_exten = name
        if num_text == "hint":
            ext.hint = appl.strip()
            self.last_priority = HINT
            return
        number = self.last_priority + 1 if num_text == "n" else int(num_text)
        if number <= 0:
            raise DialplanError(f"{self.source}:{lineno}: invalid priority {prio_text.strip()!r}")
        self.last_priority = number
        app, data = split_app(appl)
        if number in ext.priorities:
            self.warn(lineno, f"duplicate priority {number} of {name}@{ctx.name} ignored")
            return
        ext.priorities[number] = Priority(number, app, data, label, f"{self.source}:{lineno}")
        if label:
            ext.labels[label] = number
