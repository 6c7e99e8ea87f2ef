"""Scenario uploads: checking a YAML text like a scenario file, and putting a version live.

:func:`check_content` runs the scenario checker (:func:`acd.scenario.check.check_file`) on
an uploaded text, with the routing configuration's skills and queues, beside the served
files (so a transfer to ``general_line`` finds ``general_line.yaml``); every problem comes
back with its line and column.

:func:`directory_scenario_hook` is the hook the App gives the API
(:attr:`HttpDeps.scenario_hook`): activating a version writes its text over the scenario's
file in ``scenarios.directory`` (``<name>.yaml`` for a new scenario), atomically, and
reloads the registry at once. If the registry refuses the file, the previous file is put
back and the problems are returned; the version that was served keeps serving.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from acd.config import ConfigProblem
from acd.scenario.check import RoutingFacts, check_file
from acd.scenario.registry import ScenarioRegistry

__all__ = ["CheckResult", "check_content", "directory_scenario_hook"]

DISPLAY = "upload"


@dataclass(frozen=True)
class CheckResult:
    name: str | None
    problems: list[ConfigProblem]


def _scratch_directory(preferred: Path | None) -> Path:
    if preferred is not None and preferred.is_dir() and os.access(preferred, os.W_OK):
        return preferred
    return Path(tempfile.gettempdir())


def check_content(content: str, facts: RoutingFacts, directory: Path | None) -> CheckResult:
    """Check ``content`` as a scenario file that would sit in ``directory``."""
    scratch = _scratch_directory(directory)
    # Not *.yaml: the registry watching the directory never picks the file up.
    handle, name = tempfile.mkstemp(prefix=".upload-", suffix=".check", dir=scratch)
    path = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(content)
        loaded = check_file(path, facts, DISPLAY)
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
    scenario_name = loaded.scenario.name if loaded.scenario is not None else None
    if scenario_name is None and isinstance(loaded.header.get("name"), str):
        scenario_name = loaded.header["name"]
    return CheckResult(scenario_name, list(loaded.problems))


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``; its modification time always changes, so that the
    registry (which looks at time and size) sees the new content even within one tick."""
    try:
        before = path.stat()
        old: tuple[int, int] | None = (before.st_mtime_ns, before.st_size)
    except OSError:
        old = None
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    after = path.stat()
    if old is not None and (after.st_mtime_ns, after.st_size) == old:
        bumped = old[0] + 1000
        os.utime(path, ns=(bumped, bumped))


def directory_scenario_hook(registry: ScenarioRegistry) -> Callable[[str, str], list[str]]:
    """The hook that serves an activated version through ``registry``'s directory."""

    def activate(name: str, content: str) -> list[str]:
        served = registry.get(name)
        directory = registry.directory
        directory.mkdir(parents=True, exist_ok=True)
        path = served.path if served is not None else directory / f"{name}.yaml"
        if path.resolve().parent != directory.resolve():
            return [f"{path} is not in the scenario directory {directory}"]
        previous = path.read_bytes() if path.exists() else None
        _write_atomically(path, content.encode("utf-8"))
        result = registry.reload()
        problems = result.refused.get(path)
        if problems is None:
            return []
        if previous is None:
            with contextlib.suppress(OSError):
                path.unlink()
        else:
            _write_atomically(path, previous)
        registry.reload()
        return list(problems)

    return activate
