"""The scenarios the daemon serves: every file of one directory, reloaded when it changes.

:class:`ScenarioRegistry` loads every ``*.yaml``/``*.yml`` file of ``scenarios.directory``
with :func:`~acd.scenario.load_scenario` (so with the routing configuration's skills and
queues). A file with problems is refused: each problem is logged as ``file:line:col:
message`` and the other files are served. :meth:`ScenarioRegistry.reload` looks again —
called every ``scenarios.reload_interval`` seconds by :meth:`ScenarioRegistry.watch` and on
SIGHUP — and only reads files whose modification time or size changed:

* a changed file that passes the checks replaces the old version at once (one reference is
  swapped: a lookup sees the old version or the new one, never a mix);
* a changed file with problems is refused, its problems logged once, and the version that
  was running keeps serving;
* a deleted file stops serving.

Every version is identified by the file's content: :attr:`ScenarioVersion.version` is the
declared ``version:`` (if any) and the first 12 hex digits of the SHA-256 of the file,
``1+3f2a9c1b0d4e``. A call holds on to the :class:`ScenarioVersion` it entered with, so a
reload never changes a call in progress.

Which scenario serves a dialled number: the one whose ``entry_points`` name it (with or
without a leading ``+``); otherwise the scenario named by ``scenarios.default`` (its
``default`` entry); otherwise none — the daemon's built-in greeting. When two files name the
same number, the first file (by name) keeps it and the clash is logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from acd.scenario.check import RoutingFacts, ScenarioError, load_scenario, resolve_scenario_ref
from acd.scenario.model import Scenario

__all__ = [
    "ReloadResult",
    "Route",
    "ScenarioRegistry",
    "ScenarioVersion",
    "entry_for",
    "number_variants",
]

log = logging.getLogger(__name__)

PATTERNS = ("*.yaml", "*.yml")


@dataclass(frozen=True, slots=True, eq=False)
class ScenarioVersion:
    """One accepted version of one scenario file."""

    scenario: Scenario
    path: Path
    digest: str  # SHA-256 of the file, hex
    loaded_at: float

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def version(self) -> str:
        """``<declared version>+<12 hex digits of the content hash>``, or just the hash."""
        short = self.digest[:12]
        declared = self.scenario.version
        return f"{declared}+{short}" if declared else short


@dataclass(frozen=True, slots=True)
class Route:
    """Where a call starts: a scenario version and its entry node."""

    version: ScenarioVersion
    entry: str


@dataclass
class ReloadResult:
    loaded: list[ScenarioVersion] = field(default_factory=list)
    refused: dict[Path, list[str]] = field(default_factory=dict)
    removed: list[Path] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.loaded or self.removed)


@dataclass(slots=True)
class _File:
    stat: tuple[int, int] | None = None  # (mtime_ns, size) when last looked at
    active: ScenarioVersion | None = None
    refused_digest: str | None = None


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """What lookups read; replaced as a whole by a reload."""

    by_path: dict[Path, ScenarioVersion] = field(default_factory=dict)
    by_name: dict[str, ScenarioVersion] = field(default_factory=dict)
    by_number: dict[str, ScenarioVersion] = field(default_factory=dict)
    default: ScenarioVersion | None = None


def number_variants(dialled: str | None) -> list[str]:
    """``73422921960`` -> ``[73422921960, +73422921960]``; ``+7...`` -> ``[+7..., 7...]``."""
    if not dialled:
        return []
    number = dialled.strip()
    if number.startswith("+"):
        return [number, number[1:]]
    return [number, f"+{number}"] if number.isdigit() else [number]


def entry_for(scenario: Scenario, dialled: str | None) -> str | None:
    """The node a call to ``dialled`` starts at in ``scenario``: its own entry, else
    ``default``; None if neither."""
    for key in number_variants(dialled):
        if key in scenario.entry_points:
            return scenario.entry_points[key]
    return scenario.entry_points.get("default")


class ScenarioRegistry:
    def __init__(
        self,
        directory: Path | str,
        facts: RoutingFacts | None = None,
        *,
        default: str | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.facts = facts or RoutingFacts()
        self.default_name = default
        self._files: dict[Path, _File] = {}
        self._snapshot = _Snapshot()
        self._lock = threading.Lock()
        self._missing_logged = False
        self.reloads = 0  # scans that changed what is served

    # ------------------------------------------------------------------ lookups

    @property
    def versions(self) -> list[ScenarioVersion]:
        """Every version being served, by file name."""
        return list(self._snapshot.by_path.values())

    def get(self, name: str) -> ScenarioVersion | None:
        """The version being served of the scenario called ``name``."""
        return self._snapshot.by_name.get(name)

    def route(self, dialled: str | None) -> Route | None:
        """The scenario and entry node for a call to ``dialled``; None: no scenario."""
        snapshot = self._snapshot
        for key in number_variants(dialled):
            version = snapshot.by_number.get(key)
            if version is not None:
                return Route(version, version.scenario.entry_points[key])
        default = snapshot.default
        if default is not None:
            entry = default.scenario.entry_points.get("default")
            if entry is not None:
                return Route(default, entry)
        return None

    def transfer_target(self, current: ScenarioVersion, ref: str) -> ScenarioVersion | None:
        """The version being served of the file a transfer node names (beside ``current``)."""
        path = resolve_scenario_ref(current.path, ref)
        if path is None:
            return None
        return self._snapshot.by_path.get(path)

    # ------------------------------------------------------------------ loading

    def reload(self) -> ReloadResult:
        """Look at the directory again and take in what changed (see the module docs)."""
        with self._lock:
            result = ReloadResult()
            paths = self._scan()
            for path in list(self._files):
                if path not in paths:
                    entry = self._files.pop(path)
                    if entry.active is not None:
                        result.removed.append(path)
                        log.warning(
                            "scenario file %s is gone: scenario %s is no longer served",
                            path,
                            entry.active.name,
                        )
            for path in paths:
                self._look_at(path, self._files.setdefault(path, _File()), result)
            if result.changed or self.reloads == 0:
                self._snapshot = self._build()
                self.reloads += 1
            return result

    def _scan(self) -> list[Path]:
        if not self.directory.is_dir():
            if not self._missing_logged:
                log.warning(
                    "scenario directory %s does not exist: every call gets the built-in greeting",
                    self.directory,
                )
                self._missing_logged = True
            return []
        self._missing_logged = False
        found = {p for pattern in PATTERNS for p in self.directory.glob(pattern) if p.is_file()}
        return sorted(found, key=lambda p: p.name)

    def _look_at(self, path: Path, entry: _File, result: ReloadResult) -> None:
        try:
            info = path.stat()
            stat = (info.st_mtime_ns, info.st_size)
            if stat == entry.stat:
                return
            content = path.read_bytes()
        except OSError as exc:
            log.error("cannot read scenario file %s: %s", path, exc)
            entry.stat = None
            return
        digest = hashlib.sha256(content).hexdigest()
        if entry.active is not None and digest == entry.active.digest:
            entry.stat = stat  # e.g. a broken edit undone: the version served is that file
            entry.refused_digest = None
            return
        if digest == entry.refused_digest:
            entry.stat = stat
            return
        try:
            scenario = load_scenario(path, self.facts, display=str(path))
            again = hashlib.sha256(path.read_bytes()).hexdigest()
        except ScenarioError as exc:
            entry.stat = stat
            entry.refused_digest = digest
            problems = [str(p) for p in exc.problems]
            result.refused[path] = problems
            keeps = (
                f"version {entry.active.version} keeps serving"
                if entry.active is not None
                else "it is not served"
            )
            log.error(
                "scenario file %s refused (%d problem%s); %s",
                path,
                len(problems),
                "" if len(problems) == 1 else "s",
                keeps,
            )
            for problem in problems:
                log.error("%s", problem)
            return
        except OSError as exc:
            log.error("cannot read scenario file %s: %s", path, exc)
            entry.stat = None
            return
        if again != digest:  # written to while we read it: look again next time
            entry.stat = None
            return
        version = ScenarioVersion(scenario, path, digest, time.time())
        previous = entry.active
        entry.stat = stat
        entry.active = version
        entry.refused_digest = None
        result.loaded.append(version)
        if previous is None:
            log.info("scenario %s loaded from %s (version %s)", version.name, path, version.version)
        else:
            log.info(
                "scenario %s reloaded from %s: version %s replaces %s",
                version.name,
                path,
                version.version,
                previous.version,
            )

    def _build(self) -> _Snapshot:
        active = [e.active for _, e in sorted(self._files.items()) if e.active is not None]
        by_path = {v.path: v for v in active}
        by_name: dict[str, ScenarioVersion] = {}
        by_number: dict[str, ScenarioVersion] = {}
        for version in active:
            if version.name in by_name:
                log.warning(
                    "scenario name %s is used by %s and %s: %s is served under that name",
                    version.name,
                    by_name[version.name].path,
                    version.path,
                    by_name[version.name].path,
                )
            else:
                by_name[version.name] = version
            for number in version.scenario.entry_points:
                if number == "default":
                    continue
                owner = by_number.get(number)
                if owner is not None:
                    log.warning(
                        "number %s is an entry point of %s and of %s: %s keeps it",
                        number,
                        owner.path,
                        version.path,
                        owner.path,
                    )
                    continue
                by_number[number] = version
        default = self._default(by_name, active)
        return _Snapshot(by_path, by_name, by_number, default)

    def _default(
        self, by_name: dict[str, ScenarioVersion], active: Iterable[ScenarioVersion]
    ) -> ScenarioVersion | None:
        if self.default_name is None:
            return None
        version = by_name.get(self.default_name)
        if version is None:
            served = ", ".join(sorted(v.name for v in active)) or "none"
            log.warning(
                "scenarios.default names scenario %s, which is not being served (served: %s): "
                "numbers without an entry point get the built-in greeting",
                self.default_name,
                served,
            )
            return None
        if "default" not in version.scenario.entry_points:
            log.warning(
                "scenarios.default names scenario %s, which has no 'default' entry point: "
                "numbers without an entry point get the built-in greeting",
                self.default_name,
            )
            return None
        return version

    async def watch(self, interval: float) -> None:
        """Reload every ``interval`` seconds, forever (cancel to stop)."""
        while True:
            await asyncio.sleep(interval)
            try:
                self.reload()
            except Exception:  # a reload must never stop the watcher
                log.exception("reloading the scenarios failed")
