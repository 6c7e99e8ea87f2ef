"""The rules of a scenario beyond single values, each problem located in the file.

:func:`check_file` reads a file (:func:`acd.scenario.load.read_scenario`) and adds what only
the whole scenario shows: targets that are not nodes, unreachable nodes, keys listed twice,
prompts missing for an offered language, skills the routing configuration does not know,
schedules that leave some hours with no route, loops a caller cannot leave, queues reached
without any skill requirement. It keeps going after the first problem, so one run lists them
all. :func:`load_scenario` is the strict entry point for the daemon: a :class:`Scenario`, or
:class:`ScenarioError` with every problem.
"""

from __future__ import annotations

import difflib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acd.config import ConfigError, ConfigProblem
from acd.scenario.load import LoadedScenario, Loc, read_scenario
from acd.scenario.model import (
    DTMF_KEYS,
    LANGUAGE_NAMES,
    CallbackNode,
    LanguageNode,
    NodeBase,
    QueueNode,
    Scenario,
    ScheduleNode,
    SetNode,
    TransferNode,
    parse_day_key,
)
from acd.scenario.schedule import closed_example, open_example

__all__ = [
    "RoutingFacts",
    "ScenarioError",
    "check_file",
    "load_scenario",
    "resolve_scenario_ref",
]

_LEAVES = ("options", "exit_keys")


class ScenarioError(ConfigError):
    """The scenario is unusable; ``problems`` lists every problem, located in the file."""


@dataclass(frozen=True)
class RoutingFacts:
    """What the checker knows of the routing configuration; ``None`` means "do not check"."""

    skills: frozenset[str] | None = None
    queues: frozenset[str] | None = None
    origin: str = ""  # where they come from, for messages: "acd.yaml", "--skills"


def load_scenario(
    path: Path | str, facts: RoutingFacts | None = None, display: str | None = None
) -> Scenario:
    """A checked scenario, or :class:`ScenarioError` listing every problem."""
    loaded = check_file(path, facts, display)
    if loaded.problems or loaded.scenario is None:
        raise ScenarioError(loaded.problems)
    return loaded.scenario


def check_file(
    path: Path | str, facts: RoutingFacts | None = None, display: str | None = None
) -> LoadedScenario:
    """Read and check one file; ``problems`` of the result holds every problem, in order."""
    loaded = read_scenario(path, display)
    if loaded.data is not None:
        _Checker(loaded, facts or RoutingFacts()).run()
    loaded.problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    if loaded.problems:
        loaded.scenario = None
    return loaded


def resolve_scenario_ref(scenario_file: Path, ref: str) -> Path | None:
    """The file a transfer's ``scenario:`` names, beside ``scenario_file``; None if missing."""
    folder = scenario_file.parent
    names = [ref] if ref.endswith((".yaml", ".yml")) else [f"{ref}.yaml", f"{ref}.yml"]
    for name in names:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


# --------------------------------------------------------------------------- the checker


class _Checker:
    def __init__(self, loaded: LoadedScenario, facts: RoutingFacts) -> None:
        self.loaded = loaded
        self.facts = facts
        self.header = loaded.header
        self.nodes = loaded.nodes
        self.ids = set(loaded.node_ids)
        languages = self.header.get("languages")
        self.languages: list[str] | None = list(dict.fromkeys(languages)) if languages else None
        # nodes whose edges are read from the raw data (invalid nodes are added implicitly)
        self.raw_edges: set[str] = set()

    def add(self, message: str, path: Loc, *, at_key: bool = False) -> None:
        self.loaded.add(message, path, at_key=at_key)

    def run(self) -> None:
        self.check_header()
        for node_id, node in self.nodes.items():
            self.check_node(node_id, node)
        self.check_dtmf_duplicates()
        reached = self.check_reachability()
        self.check_loops()
        self.check_queue_skills(reached)

    # ------------------------------------------------------------------ header

    def check_header(self) -> None:
        data = self.loaded.data or {}
        raw_languages = data.get("languages")
        if self.languages is not None and isinstance(raw_languages, list):
            seen: set[str] = set()
            for index, code in enumerate(self.header["languages"]):
                if code in seen:
                    self.add(f"languages: '{code}' is listed twice", ("languages", index))
                seen.add(code)
        default = self.header.get("default_language")
        if default is not None and self.languages is not None and default not in self.languages:
            self.add(
                f"default_language: '{default}' is not one of the languages offered "
                f"({', '.join(self.languages)})",
                ("default_language",),
            )
        for number, target in (self.header.get("entry_points") or {}).items():
            what = "calls to other numbers go" if number == "default" else f"calls to {number} go"
            self.check_target(f"entry_points: {what}", target, ("entry_points", number))

    # ------------------------------------------------------------------ nodes

    def check_target(self, what: str, target: str, path: Loc) -> None:
        if target in self.ids:
            return
        close = difflib.get_close_matches(target, sorted(self.ids), n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        self.add(f"{what} to '{target}', which is not a node{hint}", path)

    def check_node(self, node_id: str, node: NodeBase) -> None:
        base: Loc = ("nodes", node_id)
        subject = f"node '{node_id}' ({node.type})"
        for field_path, target in node.targets():
            if field_path[0] in _LEAVES:
                verb = f"{field_path[0]}: key {field_path[1]} goes"
            else:
                verb = f"{'.'.join(str(p) for p in field_path)} goes"
            self.check_target(f"{subject}, {verb}", target, (*base, *field_path))
        if self.languages is not None:
            for field_path, prompt in node.prompts():
                self.check_prompt(subject, prompt, (*base, *field_path))
        if isinstance(node, SetNode):
            self.check_set(subject, node, base)
        elif isinstance(node, QueueNode):
            self.check_queue(subject, node, base)
        elif isinstance(node, ScheduleNode):
            self.check_schedule(subject, node, base)
        elif isinstance(node, LanguageNode):
            self.check_language_menu(subject, node, base)
        elif isinstance(node, CallbackNode):
            self.check_callback(subject, node, base)
        elif isinstance(node, TransferNode):
            self.check_transfer(subject, node, base)

    def check_prompt(self, subject: str, prompt: dict[str, tuple[str, ...]], path: Loc) -> None:
        assert self.languages is not None
        label = ".".join(str(p) for p in path[2:])
        missing = [code for code in self.languages if code not in prompt]
        if missing:
            names = ", ".join(f"{code} ({LANGUAGE_NAMES[code]})" for code in missing)
            self.add(
                f"{subject}, {label}: no prompt for {names}; the scenario offers "
                f"{', '.join(self.languages)}",
                path,
            )
        for code in prompt:
            if code not in self.languages:
                self.add(
                    f"{subject}, {label}: a prompt for '{code}', which the scenario does not "
                    f"offer (languages: {', '.join(self.languages)})",
                    (*path, code),
                    at_key=True,
                )

    def check_skills(self, subject: str, skills: dict[str, int], path: Loc) -> None:
        known = self.facts.skills
        if known is None:
            return
        for skill in skills:
            if skill in known:
                continue
            close = difflib.get_close_matches(skill, sorted(known), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            origin = f" (from {self.facts.origin})" if self.facts.origin else ""
            self.add(
                f"{subject}, skills: unknown skill '{skill}'{hint}; known skills{origin}: "
                f"{', '.join(sorted(known)) or 'none'}",
                (*path, "skills", skill),
                at_key=True,
            )

    def check_set(self, subject: str, node: SetNode, base: Loc) -> None:
        if all(
            getattr(node, name) is None
            for name in ("topic", "skills", "priority", "category", "language")
        ):
            self.add(
                f"{subject} sets nothing; give a topic, skills, priority, category or language",
                base,
                at_key=True,
            )
        if node.skills is not None:
            self.check_skills(subject, node.skills, base)
        if (
            node.language is not None
            and self.languages is not None
            and node.language not in self.languages
        ):
            self.add(
                f"{subject}, language: '{node.language}' is not one of the languages "
                f"offered ({', '.join(self.languages)})",
                (*base, "language"),
            )

    def check_queue(self, subject: str, node: QueueNode, base: Loc) -> None:
        self.check_skills(subject, node.skills, base)
        known_queues = self.facts.queues
        if node.queue is not None and known_queues is not None and node.queue not in known_queues:
            close = difflib.get_close_matches(node.queue, sorted(known_queues), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            origin = f" (from {self.facts.origin})" if self.facts.origin else ""
            self.add(
                f"{subject}, queue: unknown queue '{node.queue}'{hint}; known queues{origin}: "
                f"{', '.join(sorted(known_queues))}",
                (*base, "queue"),
            )
        if node.max_wait is not None and node.overflow is None:
            self.add(
                f"{subject} has 'max_wait' but no 'overflow': name the node the call goes to "
                "when it has waited that long",
                (*base, "max_wait"),
                at_key=True,
            )
        if node.overflow is not None and node.max_wait is None:
            self.add(
                f"{subject} has 'overflow' but no 'max_wait': say after how many seconds "
                "the call overflows",
                (*base, "overflow"),
                at_key=True,
            )

    def check_schedule(self, subject: str, node: ScheduleNode, base: Loc) -> None:
        raw = self.loaded.raw_nodes.get(str(base[1]))
        raw_keys = raw if isinstance(raw, dict) else {}
        given: dict[int, str] = {}
        for key in node.hours:
            for day in parse_day_key(key):
                if day in given:
                    self.add(
                        f"{subject}, hours: '{key}' gives hours for a day that "
                        f"'{given[day]}' already gives",
                        (*base, "hours", key),
                        at_key=True,
                    )
                    break
                given[day] = key
        if node.calendar is None:
            for name in ("holiday_hours", "transferred_workday_hours"):
                if name in raw_keys:
                    self.add(
                        f"{subject}: '{name}' has no effect without 'calendar' (RU or KZ) "
                        "to say which days are holidays",
                        (*base, name),
                        at_key=True,
                    )
        closed = closed_example(node)
        opened = open_example(node)
        if closed is not None and node.closed is None:
            self.add(
                f"{subject} is closed on {closed} but has no 'closed' branch: calls then "
                "have nowhere to go; add 'closed: <node>' or opening hours",
                base,
                at_key=True,
            )
        if opened is not None and node.open is None:
            self.add(
                f"{subject} is open on {opened} but has no 'open' branch: calls then have "
                "nowhere to go; add 'open: <node>'",
                base,
                at_key=True,
            )
        if opened is None and node.open is not None:
            self.add(
                f"{subject} is never open (no day has hours), so 'open' is never taken; "
                "give opening hours under 'hours:'",
                (*base, "open"),
                at_key=True,
            )

    def check_language_menu(self, subject: str, node: LanguageNode, base: Loc) -> None:
        if self.languages is None:
            return
        for key, code in node.options.items():
            if code not in self.languages:
                self.add(
                    f"{subject}, options: key {key} chooses '{code}', which the scenario does "
                    f"not offer (languages: {', '.join(self.languages)})",
                    (*base, "options", key),
                )

    def check_callback(self, subject: str, node: CallbackNode, base: Loc) -> None:
        if node.number == "entered" and node.enter_prompt is None:
            self.add(
                f"{subject}: 'number: entered' needs an 'enter_prompt' asking for the number",
                (*base, "number"),
            )
        if node.min_digits > node.max_digits:
            self.add(
                f"{subject}: min_digits ({node.min_digits}) is more than max_digits "
                f"({node.max_digits})",
                (*base, "min_digits"),
            )

    def check_transfer(self, subject: str, node: TransferNode, base: Loc) -> None:
        if (node.number is None) == (node.scenario is None):
            self.add(
                f"{subject} needs exactly one of 'number' (a phone number) or 'scenario' "
                "(another scenario file, e.g. the general line)",
                base,
                at_key=True,
            )
            return
        if node.scenario is not None:
            target = resolve_scenario_ref(self.loaded.path, node.scenario)
            if target is None:
                self.add(
                    f"{subject}, scenario: no scenario file '{node.scenario}' next to this "
                    f"file (looked for it in {self.loaded.path.parent})",
                    (*base, "scenario"),
                )
            elif target.resolve() == self.loaded.path.resolve():
                self.add(f"{subject} transfers the call to this same scenario", base)

    # ------------------------------------------------------------------ keys

    def check_dtmf_duplicates(self) -> None:
        """``1:`` and ``"1":`` are different YAML keys but the same phone key."""
        for node_id, raw in self.loaded.raw_nodes.items():
            if not isinstance(raw, dict) or raw.get("type") not in ("menu", "language", "queue"):
                continue
            for name in ("options", "exit_keys"):
                keys = raw.get(name)
                if not isinstance(keys, dict):
                    continue
                first: dict[str, Any] = {}
                for key in keys:
                    digit = _dtmf_text(key)
                    if digit is None:
                        continue
                    if digit not in first:
                        first[digit] = key
                        continue
                    self.raw_edges.add(node_id)  # the model kept only one of the two targets
                    mapping: Loc = ("nodes", node_id, name)
                    earlier = self.loaded.key_position(mapping, first[digit])
                    here = self.loaded.key_position(mapping, key)
                    line = f" (first on line {earlier[0]})" if earlier else ""
                    message = (
                        f"node '{node_id}' ({raw['type']}), {name}: key {digit} is listed "
                        f"twice{line}"
                    )
                    if here is None:
                        self.add(message, mapping, at_key=True)
                    else:
                        self.loaded.problems.append(
                            ConfigProblem(
                                message, file=self.loaded.display, line=here[0], column=here[1]
                            )
                        )

    # ------------------------------------------------------------------ graph

    def edges(self, node_id: str) -> Iterator[str]:
        node = self.nodes.get(node_id)
        if node is not None and node_id not in self.raw_edges:
            for _, target in node.targets():
                resolved = self.resolve(target)
                if resolved is not None:
                    yield resolved
            return
        # an invalid node: any text in it that names a node counts as a way there, so one
        # mistake does not also make its targets "unreachable"
        yield from (text for text in _texts(self.loaded.raw_nodes.get(node_id)) if text in self.ids)

    def resolve(self, target: str) -> str | None:
        """The node ``target`` names; for a misspelt one, the node it most likely means (so a
        typo is reported once, not again as every node behind it being unreachable)."""
        if target in self.ids:
            return target
        close = difflib.get_close_matches(target, sorted(self.ids), n=1, cutoff=0.6)
        return close[0] if close else None

    def entries(self) -> list[str]:
        data = self.loaded.data or {}
        raw = data.get("entry_points")
        entry_points = self.header.get("entry_points")
        targets = entry_points.values() if entry_points is not None else _texts(raw)
        return [resolved for t in targets if (resolved := self.resolve(t)) is not None]

    def check_reachability(self) -> set[str]:
        reached = set(self.entries())
        queue = deque(reached)
        while queue:
            for target in self.edges(queue.popleft()):
                if target not in reached:
                    reached.add(target)
                    queue.append(target)
        has_entries = bool((self.loaded.data or {}).get("entry_points"))
        if has_entries:
            for node_id in self.loaded.node_ids:
                if node_id not in reached:
                    self.add(
                        f"node '{node_id}' is never reached: no entry point or other node "
                        "leads to it",
                        ("nodes", node_id),
                        at_key=True,
                    )
        return reached

    def check_loops(self) -> None:
        """Cycles through nodes that never wait for the caller: the call would go round for
        ever (a menu, queue, voicemail or callback in the cycle lets the caller out)."""
        passive = [i for i in self.loaded.node_ids if i in self.nodes and not self.nodes[i].WAITS]
        passive_set = set(passive)
        graph = {i: [t for t in self.edges(i) if t in passive_set] for i in passive}
        reported: set[str] = set()
        for cycle in _cycles(passive, graph):
            if reported.intersection(cycle):
                continue
            reported.update(cycle)
            path = " -> ".join([*cycle, cycle[0]])
            self.add(
                f"the nodes {path} form a loop the caller can never leave (no menu, queue, "
                "voicemail or callback in it)",
                ("nodes", cycle[0]),
                at_key=True,
            )

    def check_queue_skills(self, reached: set[str]) -> None:
        """A queue node without skills needs a ``set`` node with skills on every way to it."""
        bare = [
            i
            for i, node in self.nodes.items()
            if isinstance(node, QueueNode) and not node.skills and i in reached
        ]
        if not bare:
            return

        def gives_skills(node_id: str) -> bool:
            node = self.nodes.get(node_id)
            return isinstance(node, SetNode) and bool(node.skills)

        parent: dict[str, str | None] = {}
        queue: deque[str] = deque()
        for entry in self.entries():
            if entry not in parent:
                parent[entry] = None
                queue.append(entry)
        while queue:
            current = queue.popleft()
            if gives_skills(current):
                continue
            for target in self.edges(current):
                if target not in parent:
                    parent[target] = current
                    queue.append(target)
        for node_id in bare:
            if node_id not in parent:
                continue
            way: list[str] = []
            step: str | None = node_id
            while step is not None:
                way.append(step)
                step = parent[step]
            self.add(
                f"node '{node_id}' (queue) can be reached with no skill requirement "
                f"({' -> '.join(reversed(way))}): give it 'skills:', or set skills with a "
                "'set' node on every way to it",
                ("nodes", node_id),
                at_key=True,
            )


def _dtmf_text(key: Any) -> str | None:
    if isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= 9:
        return str(key)
    if isinstance(key, str) and len(key) == 1 and key in DTMF_KEYS:
        return key
    return None


def _texts(value: Any) -> Iterable[str]:
    """Every string inside a plain YAML value."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _cycles(order: list[str], graph: dict[str, list[str]]) -> Iterator[list[str]]:
    """One cycle per strongly connected component that has one (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    for root in order:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = graph[node]
            if child < len(targets):
                work.append((node, child + 1))
                target = targets[child]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    yield _cycle_in(sorted(component, key=order.index), graph)


def _cycle_in(component: list[str], graph: dict[str, list[str]]) -> list[str]:
    """A simple cycle through the first node of a strongly connected component."""
    members = set(component)
    start = component[0]
    parent: dict[str, str] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        current = queue.popleft()
        for target in graph[current]:
            if target == start:
                way = [current]
                while way[-1] != start:
                    way.append(parent[way[-1]])
                return list(reversed(way))
            if target in members and target not in seen:
                seen.add(target)
                parent[target] = current
                queue.append(target)
    return [start]  # pragma: no cover - a component with a cycle always closes
