"""The daemon's scenario registry: which scenario serves which number, versions, reloads."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from acd.scenario import RoutingFacts
from acd.scenario.registry import ScenarioRegistry, entry_for, number_variants

FACTS = RoutingFacts(skills=frozenset({"operator"}), queues=frozenset({"hotline"}))


def scenario(name: str, numbers: dict[str, str], *, version: str = "", prompt: str = "a/b") -> str:
    entries = "".join(f'  "{n}": {node}\n' if n != "default" else f"  default: {node}\n"
                      for n, node in numbers.items())  # fmt: skip
    return (
        f"name: {name}\n"
        + (f"version: {version}\n" if version else "")
        + "languages: [ru]\ntime_zone: Europe/Moscow\n"
        + f"entry_points:\n{entries}"
        + "nodes:\n"
        + f"  hello: {{type: play, prompt: {{ru: {prompt}}}, next: other}}\n"
        + "  other: {type: play, prompt: {ru: a/other}, next: wait}\n"
        + "  wait: {type: queue, skills: {operator: 1}}\n"
    )


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def touch_later(path: Path) -> None:
    """Make sure a rewrite is seen even on a file system with coarse timestamps."""
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


def test_number_variants_and_entry_for(tmp_path: Path) -> None:
    assert number_variants("73422921960") == ["73422921960", "+73422921960"]
    assert number_variants("+7342") == ["+7342", "7342"]
    assert number_variants("unknown") == ["unknown"] and number_variants(None) == []
    write(tmp_path / "a.yaml", scenario("a", {"+7342": "hello", "default": "other"}))
    registry = ScenarioRegistry(tmp_path, FACTS)
    registry.reload()
    version = registry.get("a")
    assert version is not None
    assert entry_for(version.scenario, "7342") == "hello"
    assert entry_for(version.scenario, "999") == "other"


def test_routes_by_entry_point_and_default_only_when_configured(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", scenario("a", {"+100": "hello", "default": "other"}))
    write(tmp_path / "b.yml", scenario("b", {"200": "hello", "default": "hello"}))
    registry = ScenarioRegistry(tmp_path, FACTS)
    registry.reload()
    route = registry.route("100")
    assert route is not None and (route.version.name, route.entry) == ("a", "hello")
    route = registry.route("+200")
    assert route is not None and route.version.name == "b"
    assert registry.route("300") is None  # several scenarios have a default: none is picked
    registry = ScenarioRegistry(tmp_path, FACTS, default="b")
    registry.reload()
    route = registry.route("300")
    assert route is not None and (route.version.name, route.entry) == ("b", "hello")


def test_version_is_the_declared_one_and_the_content_hash(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", scenario("a", {"1": "hello"}, version="3"))
    registry = ScenarioRegistry(tmp_path, FACTS)
    registry.reload()
    first = registry.get("a")
    assert first is not None and first.version == f"3+{first.digest[:12]}"
    write(path, scenario("a", {"1": "hello"}))
    touch_later(path)
    assert [v.name for v in registry.reload().loaded] == ["a"]
    second = registry.get("a")
    assert second is not None and second.version == second.digest[:12] != first.digest[:12]


def test_unchanged_files_are_not_read_again(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", scenario("a", {"1": "hello"}))
    registry = ScenarioRegistry(tmp_path, FACTS)
    registry.reload()
    version = registry.get("a")
    touch_later(tmp_path / "a.yaml")  # same content, new time: read, same digest, same version
    result = registry.reload()
    assert not result.changed and registry.get("a") is version


def test_a_broken_file_is_refused_and_the_others_are_served(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path / "a.yaml", scenario("a", {"1": "hello"}))
    broken = scenario("b", {"2": "hello"}).replace("next: other", "next: nowhere")
    write(tmp_path / "b.yaml", broken)
    registry = ScenarioRegistry(tmp_path, FACTS)
    with caplog.at_level(logging.ERROR):
        result = registry.reload()
    [problems] = result.refused.values()
    assert any(p.startswith(f"{tmp_path / 'b.yaml'}:") and "nowhere" in p for p in problems)
    assert [v.name for v in registry.versions] == ["a"]
    assert registry.route("2") is None and registry.route("1") is not None
    assert any("b.yaml refused" in r.getMessage() for r in caplog.records)


def test_a_deleted_file_stops_serving(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", scenario("a", {"1": "hello"}))
    registry = ScenarioRegistry(tmp_path, FACTS)
    registry.reload()
    path.unlink()
    assert registry.reload().removed == [path]
    assert registry.route("1") is None and registry.get("a") is None


def test_a_number_in_two_files_stays_with_the_first(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path / "a.yaml", scenario("a", {"1": "hello"}))
    write(tmp_path / "b.yaml", scenario("b", {"1": "hello"}))
    registry = ScenarioRegistry(tmp_path, FACTS)
    with caplog.at_level(logging.WARNING):
        registry.reload()
    route = registry.route("1")
    assert route is not None and route.version.name == "a"
    assert any("number 1 is an entry point of" in r.getMessage() for r in caplog.records)


def test_unknown_skills_and_queues_are_refused(tmp_path: Path) -> None:
    text = scenario("a", {"1": "hello"}).replace("operator: 1", "billing: 1")
    write(tmp_path / "a.yaml", text)
    registry = ScenarioRegistry(tmp_path, FACTS)
    [problems] = registry.reload().refused.values()
    assert any("unknown skill 'billing'" in p for p in problems)


def test_a_missing_directory_serves_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    registry = ScenarioRegistry(tmp_path / "nowhere", FACTS, default="a")
    with caplog.at_level(logging.WARNING):
        registry.reload()
        registry.reload()
    assert registry.versions == [] and registry.route("1") is None
    missing = [r for r in caplog.records if "does not exist" in r.getMessage()]
    assert len(missing) == 1  # said once, not at every look


def test_transfer_target_is_the_file_beside(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", scenario("a", {"1": "hello"}))
    write(tmp_path / "general.yaml", scenario("general", {"default": "hello"}))
    registry = ScenarioRegistry(tmp_path, FACTS)
    registry.reload()
    current = registry.get("a")
    assert current is not None
    target = registry.transfer_target(current, "general")
    assert target is not None and target.name == "general"
    assert registry.transfer_target(current, "general.yaml") is target
    assert registry.transfer_target(current, "missing") is None
