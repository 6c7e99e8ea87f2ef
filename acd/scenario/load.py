"""Read a scenario file: YAML with positions, then the models, value by value.

:func:`read_scenario` never raises for a bad file: it returns a :class:`LoadedScenario` with
every problem found, located as ``file:line:col`` (1-based), and the parts that are valid
(header fields, nodes) so the checker can go on looking for more problems. Parsing reuses
:mod:`acd.config`'s reader and messages (same wording for YAML syntax errors as ``acd config
check``); this module adds what scenarios need on top: positions of every key and value
(:class:`SourceMap`), all duplicate keys rather than the first, values YAML cannot construct
(``2026-02-30``, a 5000-digit number), aliases that refer to themselves or expand too much.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.nodes import MappingNode, ScalarNode

from acd.config import ConfigError, ConfigProblem, _plain_message, _read_yaml, _to_plain
from acd.scenario.model import NODE_TYPES, NodeBase, NodeId, Scenario
from acd.scenario.model import Node as NodeUnion
from acd.yaml_values import construction_problem
from acd.yaml_values import walk_nodes as _walk_nodes

__all__ = ["LoadedScenario", "Position", "SourceMap", "read_scenario"]

Position = tuple[int, int]
"""1-based (line, column)."""
Loc = tuple[str | int, ...]

EXTENSION_PREFIX = "x-"
"""Top-level keys starting with this are ignored: a place for YAML anchors (``&name``)."""

MAX_EXPANDED_VALUES = 200_000
"""More values than this after expanding YAML aliases: refuse (a "billion laughs" file)."""

_NODE_ADAPTER: TypeAdapter[Any] = TypeAdapter(NodeUnion)
_NODE_ID_ADAPTER: TypeAdapter[str] = TypeAdapter(NodeId)
_HEADER_FIELDS = {name: info for name, info in Scenario.model_fields.items() if name != "nodes"}
_HEADER_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    name: TypeAdapter(info.rebuild_annotation()) for name, info in _HEADER_FIELDS.items()
}
_TOP_KEYS = list(Scenario.model_fields)

_REQUIRED_HINTS = {
    "name": "give the scenario a name, e.g. 'name: hotline'",
    "languages": "list the languages offered, e.g. 'languages: [ru, kk]'",
    "time_zone": "give the IANA time zone of the call centre, e.g. 'time_zone: Europe/Moscow'",
    "entry_points": "map each dialled number to its first node, e.g. '\"+74951234567\": welcome'",
    "nodes": "list the nodes of the scenario under 'nodes:'",
    "prompt": "give the prompt file per language, e.g. 'prompt: {ru: hotline/welcome}'",
    "next": "name the node that comes next",
    "options": "map the keys to nodes, e.g. 'options: {1: sales, 2: support}'",
    "after_retries": "name the node the call goes to after the last retry",
    "mailbox": "name the voicemail box, e.g. 'mailbox: hotline@default'",
    "confirm_prompt": "give the prompt that confirms the callback",
    "target": "name the node to go to",
    "every": "say how often, in seconds",
    "prompts": "list the prompts to play",
}


# --------------------------------------------------------------------------- source map


def _norm(key: Any) -> str | int:
    """Location path element for a YAML key: keys as text (``1`` and ``"1"`` alike)."""
    if isinstance(key, date):
        return key.isoformat()
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


class SourceMap:
    """1-based positions of every key and value of a YAML tree, by path.

    Paths are tuples of mapping keys (as text, see :func:`_norm`) and list indexes, e.g.
    ``("nodes", "main_menu", "options", "1")``. Lookups fall back to the nearest enclosing
    element that is in the file.
    """

    def __init__(self, tree: Any) -> None:
        self._keys: dict[Loc, Position] = {}
        self._values: dict[Loc, Position] = {}
        self._root: Position = (1, 1)
        if hasattr(tree, "lc"):
            self._root = (int(tree.lc.line) + 1, int(tree.lc.col) + 1)
        seen: set[int] = set()
        stack: list[tuple[Any, Loc]] = [(tree, ())]
        while stack:
            node, path = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, CommentedMap):
                for key in node:
                    child = (*path, _norm(key))
                    if child in self._keys:
                        continue  # a duplicate key: keep the first
                    key_pos = _lc(node, "key", key)
                    # an empty value has no position of its own: point at its key
                    value_pos = key_pos if node[key] is None else _lc(node, "value", key)
                    if key_pos is not None:
                        self._keys[child] = key_pos
                    if value_pos is not None:
                        self._values[child] = value_pos
                    stack.append((node[key], child))
            elif isinstance(node, CommentedSeq):
                for index, item in enumerate(node):
                    child = (*path, index)
                    pos = _lc(node, "item", index)
                    if pos is not None:
                        self._keys[child] = self._values[child] = pos
                    stack.append((item, child))

    def key(self, path: Loc) -> Position:
        """Where the key at ``path`` is (a list item's position for list items)."""
        return self._find(path, self._keys)

    def value(self, path: Loc) -> Position:
        """Where the value at ``path`` starts."""
        return self._find(path, self._values)

    def has(self, path: Loc) -> bool:
        return path in self._keys

    def _find(self, path: Loc, table: Mapping[Loc, Position]) -> Position:
        if path in table:
            return table[path]
        for size in range(len(path) - 1, 0, -1):
            if path[:size] in self._keys:
                return self._keys[path[:size]]
        return self._root


def _lc(node: Any, kind: str, key: Any) -> Position | None:
    try:
        line, column = getattr(node.lc, kind)(key)
    except (KeyError, IndexError, TypeError, AttributeError):  # merged (<<:) keys
        return None
    if line is None:
        return None
    return int(line) + 1, int(column) + 1


# --------------------------------------------------------------------------- the result


@dataclass
class LoadedScenario:
    """What :func:`read_scenario` found in one file.

    ``scenario`` is set when every value is valid (the checker's rules may still fail);
    ``header`` and ``nodes`` hold the valid parts either way, ``node_ids`` every node ID
    written in the file, and ``raw_nodes`` the plain data of each node.
    """

    path: Path
    display: str
    problems: list[ConfigProblem] = field(default_factory=list)
    source: SourceMap | None = None
    tree: Any = None
    data: dict[Any, Any] | None = None
    header: dict[str, Any] = field(default_factory=dict)
    nodes: dict[str, NodeBase] = field(default_factory=dict)
    node_ids: list[str] = field(default_factory=list)
    raw_nodes: dict[str, Any] = field(default_factory=dict)
    scenario: Scenario | None = None

    def problem(self, message: str, path: Loc = (), *, at_key: bool = False) -> ConfigProblem:
        """A problem located at ``path`` (its key with ``at_key``, else its value)."""
        if self.source is None:
            line, column = 1, 1
        elif at_key:
            line, column = self.source.key(path)
        else:
            line, column = self.source.value(path)
        return ConfigProblem(message, file=self.display, line=line, column=column)

    def add(self, message: str, path: Loc = (), *, at_key: bool = False) -> None:
        self.problems.append(self.problem(message, path, at_key=at_key))

    def key_position(self, mapping_path: Loc, key: Any) -> Position | None:
        """Where ``key`` (as written, e.g. ``1`` or ``"1"``) is in the mapping at
        ``mapping_path``; the source map cannot tell keys apart that read the same as text."""
        node = self.tree
        for part in mapping_path:
            if not isinstance(node, CommentedMap):
                return None
            match = [k for k in node if _norm(k) == part]
            if not match:
                return None
            node = node[match[0]]
        if not isinstance(node, CommentedMap) or key not in node:
            return None
        return _lc(node, "key", key)


# --------------------------------------------------------------------------- reading


def read_scenario(path: Path | str, display: str | None = None) -> LoadedScenario:
    """Parse and validate one scenario file; every problem is in ``problems``."""
    path = Path(path)
    loaded = LoadedScenario(path, display if display is not None else str(path))
    tree, problems = _read_tree(path, loaded.display)
    loaded.problems.extend(problems)
    if tree is None:
        if not problems:
            loaded.problems.append(
                ConfigProblem(
                    "the file is empty; a scenario needs name:, languages:, time_zone:, "
                    "entry_points: and nodes:",
                    file=loaded.display,
                    line=1,
                    column=1,
                )
            )
        return loaded
    loaded.source = SourceMap(tree)
    loaded.tree = tree
    trouble = _expansion_problem(tree)
    if trouble is not None:
        loaded.add(trouble)
        return loaded
    data = {
        key: value
        for key, value in _to_plain(tree).items()
        if not (isinstance(key, str) and key.startswith(EXTENSION_PREFIX))
    }
    loaded.data = data
    _validate_header(loaded, data)
    _validate_nodes(loaded, data)
    if not loaded.problems:
        try:
            loaded.scenario = Scenario.model_validate(data)
        except ValidationError as exc:  # pragma: no cover - the parts were valid one by one
            for error in exc.errors():
                loc = tuple(_norm(part) for part in error["loc"])
                loaded.add(_message(error), loc)
    return loaded


def _read_tree(path: Path, display: str) -> tuple[Any, list[ConfigProblem]]:
    """The YAML tree (a mapping) or None, and the problems found while reading it."""
    try:
        return _read_yaml(path, display), []
    except ConfigError as exc:
        problems = [_retarget(problem) for problem in exc.problems]
        if any(problem.message.startswith("duplicate key") for problem in problems):
            second = _read_allowing_duplicates(path, display)
            if second is not None:
                return second
        return None, problems
    except Exception as exc:  # the YAML constructor: 2026-02-30, !!int x, a huge number
        message, line, column = construction_problem(_decode(path), exc)
        return None, [ConfigProblem(message, file=display, line=line, column=column)]


_TOP_LEVEL = re.compile(r"^the top level must be a mapping of sections \(.*?\), not (.*)$")


def _retarget(problem: ConfigProblem) -> ConfigProblem:
    """Reword the config reader's top-level message for scenario files."""
    match = _TOP_LEVEL.match(problem.message)
    if match is None:
        return problem
    return ConfigProblem(
        "a scenario file must be a mapping (name:, languages:, time_zone:, entry_points:, "
        f"nodes:), not {match.group(1)}",
        file=problem.file,
        line=problem.line,
        column=problem.column,
    )


def _decode(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None


def _read_allowing_duplicates(path: Path, display: str) -> tuple[Any, list[ConfigProblem]] | None:
    """Report every duplicate key, and read the file keeping each key's first value."""
    text = _decode(path)
    if text is None:
        return None
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = True
    try:
        tree = yaml.load(text)
        root = YAML(typ="rt").compose(text)
    except Exception:
        return None
    if not isinstance(tree, CommentedMap):
        return None
    problems: list[ConfigProblem] = []
    for node in _walk_nodes(root):
        if not isinstance(node, MappingNode):
            continue
        first: dict[tuple[str, str], int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode):
                continue
            identity = (str(key_node.tag), str(key_node.value))
            line = int(key_node.start_mark.line) + 1
            if identity in first:
                problems.append(
                    ConfigProblem(
                        f"duplicate key '{key_node.value}' (first set on line "
                        f"{first[identity]}); each key may appear only once in a section",
                        file=display,
                        line=line,
                        column=int(key_node.start_mark.column) + 1,
                    )
                )
            else:
                first[identity] = line
    return (tree, problems) if problems else None


def _expansion_problem(tree: Any) -> str | None:
    """A plain message if aliases make the tree cyclic or huge once expanded, else None."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Any, depth: int) -> int:
        if not isinstance(node, dict | list):
            return 1
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _Cyclic
        if depth > 200:
            raise _TooDeep
        active.add(key)
        children: Iterable[Any] = node.values() if isinstance(node, dict) else node
        total = 1
        for child in children:
            total += size(child, depth + 1)
            if total > MAX_EXPANDED_VALUES:
                raise _TooBig
        active.discard(key)
        sizes[key] = total
        return total

    try:
        size(tree, 0)
    except _Cyclic:
        return "an alias (*name) refers to a section that contains it; remove the loop"
    except _TooDeep:
        return "the YAML is nested too deeply"
    except _TooBig:
        return (
            f"the file expands to more than {MAX_EXPANDED_VALUES} values (through aliases); "
            "a scenario is much smaller"
        )
    return None


class _Cyclic(Exception):
    pass


class _TooDeep(Exception):
    pass


class _TooBig(Exception):
    pass


# --------------------------------------------------------------------------- validation


def _validate_header(loaded: LoadedScenario, data: dict[Any, Any]) -> None:
    for key in data:
        if isinstance(key, str) and key in Scenario.model_fields:
            continue
        loaded.add(_unknown_key("", str(key), _TOP_KEYS), (_norm(key),), at_key=True)
    for name, info in _HEADER_FIELDS.items():
        if name not in data:
            if info.is_required():
                loaded.add(f"'{name}' is required: {_REQUIRED_HINTS[name]}")
            continue
        try:
            loaded.header[name] = _HEADER_ADAPTERS[name].validate_python(data[name])
        except ValidationError as exc:
            for error in exc.errors():
                rel: Loc = (name, *_norm_loc(data[name], error["loc"]))
                _add_error(loaded, error, (), rel, Scenario, "")


def _validate_nodes(loaded: LoadedScenario, data: dict[Any, Any]) -> None:
    if "nodes" not in data:
        loaded.add(f"'nodes' is required: {_REQUIRED_HINTS['nodes']}")
        return
    nodes = data["nodes"]
    if not isinstance(nodes, dict) or not nodes:
        loaded.add(
            "'nodes' must be a mapping of node IDs to nodes, e.g. 'welcome: {type: play, ...}'",
            ("nodes",),
        )
        return
    for key, raw in nodes.items():
        path: Loc = ("nodes", _norm(key))
        try:
            node_id = _NODE_ID_ADAPTER.validate_python(key)
        except ValidationError as exc:
            loaded.add(_message(exc.errors()[0]), path, at_key=True)
            node_id = str(key)
        loaded.node_ids.append(node_id)
        loaded.raw_nodes[node_id] = raw
        if not isinstance(raw, dict):
            loaded.add(
                f"node '{node_id}' must be a mapping of settings starting with 'type:', got "
                f"{_describe(raw)}",
                path,
            )
            continue
        try:
            node = _NODE_ADAPTER.validate_python(raw)
        except ValidationError as exc:
            for error in exc.errors():
                _add_node_error(loaded, error, node_id, path, raw)
            continue
        if node_id == str(key):
            loaded.nodes[node_id] = node


def _add_node_error(
    loaded: LoadedScenario, error: Any, node_id: str, path: Loc, raw: dict[Any, Any]
) -> None:
    kind = error["type"]
    subject = f"node '{node_id}'"
    if kind == "union_tag_not_found":
        loaded.add(
            f"{subject} has no 'type:'; node types: {', '.join(NODE_TYPES)}", path, at_key=True
        )
        return
    if kind == "union_tag_invalid":
        given = raw.get("type")
        types = ", ".join(NODE_TYPES)
        if not isinstance(given, str):
            message = f"{subject}: 'type' must be a node type ({types}), got {_describe(given)}"
        else:
            close = difflib.get_close_matches(given, list(NODE_TYPES), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            message = f"{subject}: unknown node type {_describe(given)}{hint}; node types: {types}"
        loaded.add(message, (*path, "type"))
        return
    loc = tuple(error["loc"])
    model = NODE_TYPES.get(str(loc[0])) if loc else None
    if model is None:  # pragma: no cover - errors inside a member always carry its tag
        loaded.add(f"{subject}: {_message(error)}", path)
        return
    _add_error(loaded, error, path, _norm_loc(raw, loc[1:]), model, f"{subject} ({loc[0]})")


def _norm_loc(raw: Any, parts: Iterable[Any]) -> Loc:
    """A pydantic error location as a :class:`SourceMap` path.

    Mapping keys become text (as in the source map), list indexes stay numbers, and an index
    into a value that is not a list in the file (a single prompt name the model turned into a
    list of one) is dropped, so the path points at the value itself.
    """
    out: list[str | int] = []
    for part in parts:
        if part == "[key]":
            out.append(part)
            raw = None
        elif isinstance(raw, list):
            if isinstance(part, int) and 0 <= part < len(raw):
                out.append(part)
                raw = raw[part]
            else:
                out.append(_norm(part))
                raw = None
        elif isinstance(raw, dict):
            out.append(_norm(part))
            try:
                raw = raw.get(part)
            except TypeError:  # an unhashable key cannot be in the mapping
                raw = None
        elif isinstance(part, int) and raw is not None:
            continue  # an index the model added to a scalar: point at the scalar
        else:
            out.append(part if isinstance(part, int) else _norm(part))
            raw = None
    return tuple(out)


def _add_error(
    loaded: LoadedScenario,
    error: Any,
    base: Loc,
    rel: Loc,
    model: type[BaseModel],
    subject: str,
) -> None:
    """Turn one pydantic error into a located, plain problem.

    ``base`` is where ``model`` sits in the file, ``rel`` the error's path inside it;
    ``subject`` names the thing (``node 'menu' (menu)``), empty for the top level.
    """
    kind = error["type"]
    is_key = bool(rel) and rel[-1] == "[key]"
    if is_key:
        rel = rel[:-1]
    loc = (*base, *rel)

    def label(parts: Loc) -> str:
        dotted = ".".join(str(part) for part in parts)
        if subject and dotted:
            return f"{subject}, {dotted}"
        return subject or dotted

    if kind == "extra_forbidden":
        owner = _model_at(model, rel[:-1])
        valid = list(owner.model_fields) if owner is not None else []
        loaded.add(_unknown_key(label(rel[:-1]), str(rel[-1]), valid, owner), loc, at_key=True)
        return
    if kind == "missing":
        name = str(rel[-1]) if rel else ""
        hint = _REQUIRED_HINTS.get(name)
        message = f"{label(rel[:-1])} has no '{name}'" + (f": {hint}" if hint else "")
        loaded.add(message, loc[:-1], at_key=True)
        return
    if is_key:
        loaded.add(f"{label(rel[:-1])}: {_message(error)}", loc, at_key=True)
        return
    message = _message(error)
    if error.get("input") is None and message.startswith("has no value"):
        owner = _model_at(model, rel[:-1])
        info = owner.model_fields.get(str(rel[-1])) if owner is not None and rel else None
        if info is None or info.is_required():
            message = "has no value; give one"
    loaded.add(f"{label(rel)}: {message}", loc)


def _message(error: Any) -> str:
    """Plain English for one pydantic error (the config module's wording where it has one)."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}, got {_describe(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, got {_describe(value)}"
    if kind in ("list_type", "tuple_type"):
        return f"must be a list, got {_describe(value)}"
    if kind in ("too_long", "string_too_long"):
        limit = ctx.get("max_length")
        return f"is too long (at most {limit})" if limit is not None else "is too long"
    if kind == "string_pattern_mismatch":
        return f"{_describe(value)} is not a valid name: use letters, digits, '_', '.' and '-'"
    if kind == "recursion_loop":
        return "is nested too deeply"
    message = _plain_message(error)
    if "should" in message and "Input" in message:  # pragma: no cover - a pydantic phrase left
        return f"is not valid here, got {_describe(value)}"
    return message


def _unknown_key(
    subject: str, key: str, valid: list[str], owner: type[BaseModel] | None = None
) -> str:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(key.lower(), valid, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    what = f"{subject}: unknown key '{key}'" if subject else f"unknown key '{key}'"
    other = ""
    if not close and owner is not None and issubclass(owner, NodeBase):
        users = [name for name, cls in NODE_TYPES.items() if key in cls.model_fields]
        if users:
            other = f"; '{key}' belongs to {', '.join(users)} nodes"
    return f"{what}{hint}{other}; valid keys: {', '.join(valid)}"


def _model_at(model: type[BaseModel], parts: Loc) -> type[BaseModel] | None:
    """The model class that the field path ``parts`` of ``model`` leads to."""
    current: Any = model
    for part in parts:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                return None
            current = info.annotation
            continue
        origin = typing.get_origin(current)
        args = typing.get_args(current)
        if origin is dict and len(args) == 2:
            current = args[1]
        elif origin in (list, tuple) and args:
            current = args[0]
        else:
            return None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin is typing.Union or origin is types.UnionType:
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if not members:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    text = str(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"'{text}'" if isinstance(value, str) else text
