"""Every prompt the daemon, the dialplan and the shipped scenarios play is in the catalogue,
in every language it is played in — and the catalogue has nothing nobody plays.

Sources: ``acd/asterisk/agi_scripts.py`` (the names in its code, ``agent-<action>-ok`` for
each feature code of the dialplan), ``acd/core/announce.py`` (every announcement it can
make), ``asterisk_conf/extensions.conf`` (``Playback``/``Background``/``Read``) and
``ivr_scripts/*.yaml``. A prompt of the daemon or the dialplan can be played to a channel of
any language; a scenario's prompt in the language it is given for — except the language
menu's, which every caller hears in the language the call has at that moment.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from acd.core import announce
from acd.core.announce import SUPPORTED_LANGUAGES, Prompt
from acd.prompts import Catalogue, default_catalogue
from acd.scenario import load_scenario
from acd.scenario.model import LanguageNode, QueueNode

ROOT = Path(__file__).resolve().parents[2]
AGI_SCRIPTS = ROOT / "acd" / "asterisk" / "agi_scripts.py"
ANNOUNCE = ROOT / "acd" / "core" / "announce.py"
DIALPLAN = ROOT / "asterisk_conf" / "extensions.conf"
SCENARIOS = sorted((ROOT / "ivr_scripts").glob("*.yaml"))

Needed = dict[str, set[str]]  # prompt name -> languages it must exist in


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return default_catalogue()


def _need(needed: Needed, name: str, languages: tuple[str, ...] | set[str]) -> None:
    needed.setdefault(name, set()).update(languages)


def _missing(needed: Needed, catalogue: Catalogue) -> list[str]:
    return sorted(
        f"{name} ({language})"
        for name, languages in needed.items()
        for language in languages
        if not catalogue.has(name, language)
    )


# --------------------------------------------------------------------------- the sources


def _feature_code_actions() -> list[str]:
    """The actions the dialplan's feature codes pass: AGI(${ACD_AGI}/agent,<action>...)."""
    text = DIALPLAN.read_text(encoding="utf-8")
    return sorted(set(re.findall(r"AGI\(\$\{ACD_AGI\}/agent,([a-z-]+)", text)))


def _string_templates(path: Path) -> Iterator[str]:
    """Every string literal of a module, f-strings with ``{}`` for their fields."""
    nodes = list(ast.walk(ast.parse(path.read_text(encoding="utf-8"))))
    parts = {id(part) for node in nodes if isinstance(node, ast.JoinedStr) for part in node.values}
    for node in nodes:
        if isinstance(node, ast.JoinedStr):
            yield "".join(
                part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
            )
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in parts
        ):
            yield node.value


def agi_script_prompts() -> set[str]:
    names: set[str] = set()
    for template in _string_templates(AGI_SCRIPTS):
        if not re.fullmatch(r"acd/[a-z0-9{}/_-]+", template):
            continue
        if template == "acd/agent-{}-ok":
            names.update(f"acd/agent-{action}-ok" for action in _feature_code_actions())
        elif "{}" in template:
            pytest.fail(f"{AGI_SCRIPTS.name}: teach this test what {template!r} expands to")
        else:
            names.add(template)
    return names


def dialplan_prompts() -> set[str]:
    names: set[str] = set()
    for line in DIALPLAN.read_text(encoding="utf-8").splitlines():
        line = line.split(";", 1)[0]
        for app, args in re.findall(r"\b(Playback|Background|BackGround|Read)\(([^)]*)\)", line):
            parts = args.split(",")
            files = parts[1] if app == "Read" and len(parts) > 1 else parts[0]
            names.update(name.strip() for name in files.split("&") if name.strip())
    return names


@functools.cache
def announcement_prompts(language: str) -> frozenset[str]:
    """Every file an announcement can play in ``language``: numbers 0..1000 (and the
    thousands) in every form, every wait the announcer says."""
    prompts: list[Prompt] = []
    numbers = [*range(1001), *range(1000, 1_000_000, 1000), 999_999]
    for case in ("nom", "gen", "abl"):
        for gender in ("m", "f"):
            for n in numbers:
                try:
                    prompts += announce.number_prompts(n, language, gender=gender, case=case)
                except ValueError:
                    break  # a case the language does not have
    for position in range(1, 30):
        prompts += announce.position_phrase(position, language)
    for low in range(0, 62):
        for high in range(0, 62):
            prompts += announce.wait_phrase(low, high, language)
    return frozenset(p.value for p in prompts if p.kind == "file")


def announce_literals() -> set[str]:
    """The names ``Prompt.file("...")`` is called with in announce.py."""
    tree = ast.parse(ANNOUNCE.read_text(encoding="utf-8"))
    return {
        f"{announce.PROMPT_DIR}/{node.args[0].value}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "file"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


def scenario_prompts() -> Needed:
    needed: Needed = {}
    for path in SCENARIOS:
        scenario = load_scenario(path)
        for node in scenario.nodes.values():
            for _, prompt in node.prompts():
                for language, files in prompt.items():
                    heard_in = (
                        set(scenario.languages) if isinstance(node, LanguageNode) else {language}
                    )
                    for name in files:
                        _need(needed, name, heard_in)
            if isinstance(node, QueueNode) and node.announce is not None:
                for language in scenario.languages:
                    for name in announcement_prompts(language):
                        _need(needed, name, {language})
    return needed


# --------------------------------------------------------------------------- the checks


def test_the_sources_are_found() -> None:
    """Guards the parsing above: if a source changes shape, this fails rather than pass on
    an empty list."""
    assert _feature_code_actions() == ["break", "login", "logout", "ready", "wrapup-done"]
    assert {"acd/greeting", "acd/enter-pin", "acd/agent-login-ok"} <= agi_script_prompts()
    assert dialplan_prompts() == {"acd/technical-difficulties", "acd/service-unavailable"}
    assert {"acd/your-position", "acd/digits/gen-1f", "acd/minutes-gen-one"} <= (
        announcement_prompts("ru")
    )
    assert {"acd/digits/abl-20", "acd/minutes-until"} <= announcement_prompts("kk")
    assert len(SCENARIOS) >= 3
    assert scenario_prompts()["kz/choose-language-kk"] == {"ru", "kk"}


def test_daemon_and_dialplan_prompts_exist_in_every_language(catalogue: Catalogue) -> None:
    needed: Needed = {}
    for name in agi_script_prompts() | dialplan_prompts():
        _need(needed, name, SUPPORTED_LANGUAGES)
    assert _missing(needed, catalogue) == []


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_announcement_prompt_exists(catalogue: Catalogue, language: str) -> None:
    needed: Needed = {}
    for name in announcement_prompts(language):
        _need(needed, name, {language})
    assert _missing(needed, catalogue) == []


def test_announce_names_are_all_in_the_catalogue(catalogue: Catalogue) -> None:
    assert sorted(name for name in announce_literals() if name not in catalogue) == []


def test_scenario_prompts_exist_in_the_languages_they_are_played_in(
    catalogue: Catalogue,
) -> None:
    assert _missing(scenario_prompts(), catalogue) == []


def test_the_catalogue_has_no_prompt_nobody_plays(catalogue: Catalogue) -> None:
    used = agi_script_prompts() | dialplan_prompts() | set(scenario_prompts())
    for language in SUPPORTED_LANGUAGES:
        used |= announcement_prompts(language)
    assert sorted(name for name in catalogue.names() if name not in used) == []
