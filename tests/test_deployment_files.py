"""Cheap facts about the files an admin deploys: the Asterisk configuration in asterisk_conf/,
the Dockerfile and docker-compose.yml. Nothing here runs Docker or Asterisk; the checks tie
each file to the daemon code it must agree with (actions, events, AGI scripts, contexts,
channel variables, settings)."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import shlex
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from ruamel.yaml import YAML

from acd.asterisk import telephony
from acd.cli import build_parser
from acd.config import AmiSettings, FastAgiSettings, HttpSettings, load_settings
from acd.sim.pbx.dialplan import Dialplan

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "asterisk_conf"
ASTERISK_PY = ROOT / "acd" / "asterisk"


# --------------------------------------------------------------------------- helpers


@dataclass
class Section:
    """One ``[name]`` of an Asterisk .conf file, template options merged in."""

    name: str
    options: dict[str, list[str]] = field(default_factory=dict)
    is_template: bool = False
    lines: list[str] = field(default_factory=list)  # raw option lines, comments included

    def get(self, key: str, default: str | None = None) -> str | None:
        values = self.options.get(key)
        return values[-1] if values else default


_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\](?:\((?P<extra>[^)]*)\))?")


def read_conf(path: Path) -> list[Section]:
    """Asterisk config syntax: ``[name]``, ``[name](!)`` templates, ``[name](tpl,...)``
    inheritance, ``key = value`` / ``key => value``, ``;`` comments."""
    sections: list[Section] = []
    templates: dict[str, Section] = {}
    current: Section | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        header = _SECTION.match(line)
        if header:
            extra = [e.strip() for e in (header["extra"] or "").split(",") if e.strip()]
            current = Section(header["name"], is_template="!" in extra)
            for parent in (e for e in extra if e != "!"):
                for key, values in templates[parent].options.items():
                    current.options[key] = list(values)
            if current.is_template:
                templates[current.name] = current
            sections.append(current)
            continue
        assert current is not None, f"{path.name}: option outside a section: {raw!r}"
        key, sep, value = line.partition("=>") if "=>" in line else line.partition("=")
        assert sep, f"{path.name}: not an option: {raw!r}"
        current.options.setdefault(key.strip(), []).append(value.strip())
        current.lines.append(raw)
    return sections


def sections_of(path: Path, **options: str) -> list[Section]:
    """The non-template sections whose options include all of ``options``."""
    return [
        s
        for s in read_conf(path)
        if not s.is_template and all(s.get(k) == v for k, v in options.items())
    ]


def words(value: str | None) -> set[str]:
    return {w.strip() for w in (value or "").split(",") if w.strip()}


def load_yaml(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


_INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?::?-(?P<default>[^}]*))?\}")


def interpolate(value: str) -> str:
    """docker compose ``${VAR:-default}`` with nothing set in the environment."""
    return _INTERPOLATION.sub(lambda m: m["default"] or "", value)


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if not pending and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        line = (pending + raw).strip()
        pending = ""
        name, _, args = line.partition(" ")
        instructions.append((name.upper(), args.strip()))
    return instructions


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def string_literals(path: Path, pattern: str) -> set[str]:
    return set(re.findall(pattern, path.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- the dialplan


@pytest.fixture(scope="module")
def plan() -> Dialplan:
    plan = Dialplan.from_file(CONF / "extensions.conf")
    assert not plan.warnings
    return plan


def priorities(plan: Dialplan) -> Iterator[tuple[str, str, str, str]]:
    """(context, extension, application, data) of every priority."""
    for context in plan.contexts.values():
        for exten in context.extensions.values():
            for priority in exten.priorities.values():
                yield context.name, exten.name, priority.app, priority.data


def served_agi_scripts() -> set[str]:
    """The script names AgiScripts.__call__ dispatches on (its dict literal)."""
    tree = ast.parse((ASTERISK_PY / "agi_scripts.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.AsyncFunctionDef) and node.name == "__call__":
            for inner in ast.walk(node):
                if isinstance(inner, ast.Dict) and inner.keys:
                    return {k.value for k in inner.keys if isinstance(k, ast.Constant)}
    raise AssertionError("AgiScripts.__call__ has no dispatch table")


def test_every_goto_and_include_target_exists(plan: Dialplan) -> None:
    targets: list[tuple[str, str]] = []
    for context, _, app, data in priorities(plan):
        if app == "Goto":
            targets.append((context, data))
        elif app == "GotoIf":
            branches = data.partition("?")[2]
            targets += [(context, b) for b in branches.split(":") if b]
    assert targets
    for context, target in targets:
        parts = target.split(",")
        if len(parts) == 3:  # context,exten,priority
            assert parts[0] in plan.contexts, f"{context}: Goto to missing context {target}"
            if "$" not in parts[1]:
                assert plan.find_extension(parts[0], parts[1]), f"{context}: {target} missing"
        elif len(parts) == 1 and not parts[0].isdigit():  # a label of the same extension
            assert any(
                e.label_priority(parts[0]) for e in plan.contexts[context].extensions.values()
            ), f"{context}: no label {parts[0]}"
    for context in plan.contexts.values():
        for included in context.includes:
            assert included in plan.contexts, f"{context.name} includes missing {included}"


def test_every_agi_script_of_the_dialplan_is_served_by_the_daemon(plan: Dialplan) -> None:
    served = served_agi_scripts()
    assert served == {
        "inbound",
        "resume",
        "queue-key",
        "announce",
        "connect",
        "agent",
        "callback-result",
        "voicemail-left",
    }
    agi = plan.globals["ACD_AGI"]
    used = set()
    for context, _, app, data in priorities(plan):
        if app == "AGI":
            url = data.split(",")[0]
            assert url.startswith("${ACD_AGI}/"), f"{context}: AGI outside ${{ACD_AGI}}: {url}"
            used.add(url.removeprefix("${ACD_AGI}/").split("?")[0])
    assert used and used <= served, used - served
    # ... and ACD_AGI is where the daemon's FastAGI server listens by default
    assert agi == f"agi://{FastAgiSettings().host}:{FastAgiSettings().port}"


def test_the_contexts_the_daemon_uses_exist(plan: Dialplan) -> None:
    for context in (*telephony.WAIT_CONTEXTS, telephony.AGENT_CONTEXT, telephony.ANNOUNCE_CONTEXT):
        assert plan.exists(context, "s", 1), context  # Originate / Redirect go to s,1
    assert plan.find_label("acd-agent", "s", "bridge")


def test_the_break_feature_code_takes_one_digit_or_more(plan: Dialplan) -> None:
    for exten in ("*721", "*7212"):
        assert plan.find_extension("acd-phones", exten) is not None, exten
    assert plan.find_extension("acd-phones", "*72") is None


def test_channel_variables_read_are_written_by_someone(plan: Dialplan) -> None:
    """Every ACD_* variable one side reads is set by the dialplan, an AGI script or the
    Originate of an agent leg."""
    dialplan_text = (CONF / "extensions.conf").read_text(encoding="utf-8")
    set_by_dialplan = set(re.findall(r"Set\(_*(ACD_\w+)=", dialplan_text)) | {
        k for k in plan.globals if k.startswith("ACD_")
    }
    set_by_agi = string_literals(ASTERISK_PY / "agi_scripts.py", r"\"(ACD_\w+)\"")
    set_by_agi |= string_literals(ASTERISK_PY / "ivr.py", r"\"(ACD_\w+)\"")  # the scenarios'
    set_by_agi |= string_literals(ASTERISK_PY / "telephony.py", r"\"Variable\": \"(ACD_\w+)\"")
    set_by_originate = string_literals(ASTERISK_PY / "telephony.py", r"f\"(ACD_\w+)=")
    written = set_by_dialplan | set_by_agi | set_by_originate
    read_by_dialplan = set(re.findall(r"\$\{(ACD_\w+)", dialplan_text))
    assert read_by_dialplan - written == set()
    assert {"ACD_CALL_ID", "ACD_AGENT_ID", "ACD_CALLER_CHANNEL"} <= set_by_originate
    # After a restart the daemon reads the waiting caller's routing variables back (Getvar).
    source = (ASTERISK_PY / "telephony.py").read_text(encoding="utf-8")
    restore = source[source.index("async def _restore_waiting") :]
    restore = restore[: restore.index("\n    async def ", 1)]
    read_back = set(re.findall(r"\"(ACD_\w+)\"", restore))
    assert {"ACD_CALL_ID", "ACD_QUEUE", "ACD_ARRIVED"} <= read_back
    assert read_back - (set_by_dialplan | set_by_agi) == set()


# --------------------------------------------------------------------------- manager.conf

# The class(es) Asterisk registers each action with (main/manager.c, main/pbx.c,
# res/res_manager_devicestate.c); the user needs write access to ONE of them.
ACTION_CLASSES: dict[str, set[str]] = {
    "Login": set(),
    "Logoff": set(),
    "Challenge": set(),
    "Ping": set(),
    "Events": set(),
    "Originate": {"originate"},
    "Hangup": {"system", "call"},
    "Redirect": {"call"},
    "Getvar": {"call", "reporting"},
    "Setvar": {"call"},
    "CoreShowChannels": {"system", "reporting"},
    "DeviceStateList": {"call", "reporting"},
    "ExtensionStateList": {"call", "reporting"},
}
# The class of each event (the Privilege header in tests/fixtures/asterisk captures); the
# user needs read access to it.
EVENT_CLASSES: dict[str, str] = {
    "Newchannel": "call",
    "Newstate": "call",
    "Hangup": "call",
    "DialBegin": "call",
    "DialEnd": "call",
    "BridgeEnter": "call",
    "BridgeLeave": "call",
    "OriginateResponse": "call",
    "DeviceStateChange": "call",
    "ExtensionStatus": "call",
    "ContactStatus": "system",
    "FullyBooted": "system",
}
NEVER_WRITE = {"all", "system", "command", "config", "agent", "user", "message"}
NEEDED_WRITE = {"call", "originate", "reporting"}


def daemon_actions() -> set[str]:
    found: set[str] = set()
    for path in ASTERISK_PY.glob("*.py"):
        found |= string_literals(path, r"(?:list_)?action\(\s*\"(\w+)\"")
        found |= string_literals(path, r"_request\(\s*\"(\w+)\"")
    return found | {"Ping"}


def daemon_events() -> set[str]:
    found: set[str] = set()
    for path in ASTERISK_PY.glob("*.py"):
        found |= string_literals(path, r"on_event\(\s*\"(\w+)\"")
    return found


@pytest.fixture(scope="module")
def ami_user() -> Section:
    [user] = [s for s in read_conf(CONF / "manager.conf") if s.name != "general"]
    return user


def test_manager_conf_user_matches_the_daemon_defaults(ami_user: Section) -> None:
    [general] = [s for s in read_conf(CONF / "manager.conf") if s.name == "general"]
    defaults = AmiSettings()
    assert general.get("enabled") == "yes"
    assert general.get("port") == str(defaults.port)
    assert general.get("bindaddr") == "127.0.0.1"
    assert ami_user.name == defaults.username
    assert ami_user.get("secret") == defaults.secret.get_secret_value()


def test_manager_conf_user_is_local_and_least_privileged(ami_user: Section) -> None:
    assert ami_user.options["deny"] == ["0.0.0.0/0.0.0.0"]
    assert ami_user.options["permit"] == ["127.0.0.1/255.255.255.255"]
    assert int(ami_user.get("writetimeout") or 0) >= 100
    write, read = words(ami_user.get("write")), words(ami_user.get("read"))
    assert write == NEEDED_WRITE and not write & NEVER_WRITE
    assert read == {"call", "system"} and "all" not in read
    for raw in ami_user.lines:
        assert ";" in raw, f"option without a comment: {raw!r}"


def test_manager_conf_allows_every_action_the_daemon_sends(ami_user: Section) -> None:
    write = words(ami_user.get("write"))
    sent = daemon_actions()
    assert {"Originate", "Hangup", "Redirect", "Getvar", "CoreShowChannels"} <= sent
    for action in sent | set(ACTION_CLASSES):
        assert action in ACTION_CLASSES, f"class of AMI action {action} unknown: add it"
        classes = ACTION_CLASSES[action]
        assert not classes or classes & write, f"{action} needs write access to {classes}"


def test_manager_conf_delivers_every_event_the_daemon_handles(ami_user: Section) -> None:
    read = words(ami_user.get("read"))
    handled = daemon_events()
    assert {"Hangup", "Newchannel", "OriginateResponse", "ContactStatus"} <= handled
    for event in handled | set(EVENT_CLASSES):
        assert event in EVENT_CLASSES, f"class of AMI event {event} unknown: add it"
        assert EVENT_CLASSES[event] in read, f"{event} needs read access to its class"


def test_event_classes_agree_with_the_real_asterisk_captures() -> None:
    captures = "".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in (ROOT / "tests" / "fixtures" / "asterisk").glob("*.txt")
    )
    seen = dict(re.findall(r"Event: (\w+)\\r\\nPrivilege: (\w+),all", captures))
    checked = {e: c for e, c in EVENT_CLASSES.items() if e in seen}
    assert len(checked) >= 10
    assert all(seen[e] == c for e, c in checked.items()), {e: seen[e] for e in checked}


# --------------------------------------------------------------------------- pjsip etc.


def test_agent_phones_in_pjsip_conf_have_hints_and_qualify(plan: Dialplan) -> None:
    pjsip = CONF / "pjsip.conf"
    assert sections_of(pjsip, type="transport", protocol="udp")
    phones = {s.name: s for s in sections_of(pjsip, type="endpoint", context="acd-phones")}
    assert set(phones) == {"1001", "1002", "1003"}
    aors = {s.name: s for s in sections_of(pjsip, type="aor")}
    auths = {s.name for s in sections_of(pjsip, type="auth")}
    for endpoint in phones.values():
        assert endpoint.get("auth") in auths
        aor = aors[endpoint.get("aors") or ""]
        assert aor.get("max_contacts") == "1"
        assert int(aor.get("qualify_frequency") or 0) > 0  # ContactStatus events
    hinted = {h.exten: h.devices for h in plan.hints() if h.context == "acd-phones"}
    assert hinted == {name: (f"PJSIP/{name}",) for name in phones}  # ExtensionStatus events
    [trunk] = sections_of(pjsip, type="endpoint", context="acd-inbound")
    assert sections_of(pjsip, type="identify", endpoint=trunk.name)


def test_music_and_fallback_mailbox_exist(plan: Dialplan) -> None:
    classes = {s.name for s in read_conf(CONF / "musiconhold.conf")}
    used = {data for _, _, app, data in priorities(plan) if app == "MusicOnHold"}
    # ${ACD_MUSIC}: a scenario's class; empty (the built-in IVR) plays the default class
    assert used == {"${ACD_MUSIC}"} and "default" in classes
    mailbox, _, context = plan.globals["ACD_FALLBACK_MAILBOX"].partition("@")
    [vm_context] = [s for s in read_conf(CONF / "voicemail.conf") if s.name == context]
    assert mailbox in vm_context.options


# --------------------------------------------------------------------------- the image


def test_dockerfile_runs_acd_serve_as_a_non_root_user() -> None:
    instructions = dockerfile()
    first = instructions[0]
    assert first == ("FROM", "python:3.11-slim")
    users = [args for name, args in instructions if name == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    [entrypoint] = [exec_form(a) for n, a in instructions if n == "ENTRYPOINT"]
    [cmd] = [exec_form(a) for n, a in instructions if n == "CMD"]
    assert entrypoint == ["acd"]
    assert cmd == ["serve", "--config", "/etc/acd/acd.yaml"]
    args = build_parser().parse_args(cmd)  # a real sub-command with real flags
    assert args.command == "serve" and str(args.config) == "/etc/acd/acd.yaml"
    # the package is installed without its [dev] extra
    installs = [a for n, a in instructions if n == "RUN" and "pip install" in a]
    assert installs and not any("[dev]" in a or "-e " in a for a in installs)


def test_dockerfile_exposes_the_daemon_ports_and_keeps_data_in_a_volume() -> None:
    instructions = dockerfile()
    exposed = {int(p.split("/")[0]) for n, a in instructions if n == "EXPOSE" for p in a.split()}
    assert exposed == {FastAgiSettings().port, HttpSettings().port}
    [volume] = [exec_form(a) for n, a in instructions if n == "VOLUME"]
    workdirs = [a for n, a in instructions if n == "WORKDIR"]
    assert workdirs[-1] in volume  # relative paths of the settings land in the volume
    [healthcheck] = [a for n, a in instructions if n == "HEALTHCHECK"]
    assert "CMD" in healthcheck


def _glob(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go filepath.Match plus ``**``) as a regular expression."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        else:
            char = pattern[i]
            out += {"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char))
            i += 1
    return re.compile(out)


def _ignored(path: str, patterns: list[str]) -> bool:
    """.dockerignore semantics: the last pattern matching the path or a parent decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        regex = _glob(pattern.removeprefix("!").strip("/"))
        if any(regex.fullmatch(c) for c in candidates):
            ignored = not pattern.startswith("!")
    return ignored


def test_everything_the_dockerfile_copies_is_in_the_build_context() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources: list[str] = []
    for name, args in dockerfile():
        if name == "COPY" and "--from" not in args:
            sources += shlex.split(args)[:-1]
    assert "pyproject.toml" in sources and "README.md" in sources  # readme = "README.md"
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not _ignored(source, patterns), f"{source} is excluded by .dockerignore"
    for inside in ("acd/app.py", "acd/asterisk/fastagi.py"):
        assert not _ignored(inside, patterns)
    for left_out in (".git", "tests/test_config.py", "acd/__pycache__/cli.cpython-311.pyc"):
        assert _ignored(left_out, patterns), left_out


def _load_healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "acd_healthcheck", ROOT / "docker" / "healthcheck.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
def test_healthcheck_is_healthy_only_while_the_fastagi_port_listens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    healthcheck = _load_healthcheck()
    monkeypatch.delenv("ACD_CONFIG", raising=False)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        monkeypatch.setenv("ACD_FASTAGI__PORT", str(port))
        assert healthcheck.main() == 1  # bound, not listening
        server.listen()
        assert port in healthcheck.listening_ports()
        assert healthcheck.main() == 0
    assert healthcheck.main() == 1
    monkeypatch.setenv("ACD_FASTAGI__PORT", "not-a-port")
    assert healthcheck.main() == 1


# --------------------------------------------------------------------------- compose


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = load_yaml(ROOT / "docker-compose.yml")
    assert isinstance(data, dict)
    return data


def test_compose_services_and_start_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "asterisk", "acd"}
    assert services["postgres"]["image"] == "postgres:15"
    assert re.fullmatch(r"andrius/asterisk:(20|22)(\..*)?", services["asterisk"]["image"])
    for name in ("postgres", "asterisk"):
        assert services[name]["healthcheck"]["test"]
    acd = services["acd"]
    assert acd["build"] == "."
    assert acd["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "asterisk": {"condition": "service_healthy"},
    }
    assert services["asterisk"].get("network_mode") == acd.get("network_mode") == "host"


def test_compose_environment_is_a_valid_acd_configuration(compose: dict[str, Any]) -> None:
    acd = compose["services"]["acd"]
    environ = {k: interpolate(str(v)) for k, v in acd["environment"].items()}
    assert all(k.startswith("ACD_") for k in environ)
    settings = load_settings(ROOT / "acd.example.yaml", environ=environ)  # every name known
    assert settings.database.scheme == "postgresql+asyncpg"
    assert settings.ami.secret.get_secret_value() == "acdsecret"  # = manager.conf
    postgres = compose["services"]["postgres"]["environment"]
    url = settings.database.url
    assert f"{postgres['POSTGRES_USER']}:" in url and url.endswith(f"/{postgres['POSTGRES_DB']}")
    published = interpolate(compose["services"]["postgres"]["ports"][0]).split(":")
    assert published[0] == "127.0.0.1" and f"@127.0.0.1:{published[1]}/" in url


def test_compose_mounts_every_asterisk_conf_file_and_shares_recordings(
    compose: dict[str, Any], plan: Dialplan
) -> None:
    services = compose["services"]

    def mounts(service: str) -> dict[str, str]:
        return {v.split(":")[1]: v.split(":")[0] for v in services[service]["volumes"]}

    asterisk = mounts("asterisk")
    for conf in CONF.glob("*.conf"):
        assert asterisk.get(f"/etc/asterisk/{conf.name}") == f"./asterisk_conf/{conf.name}"
    recordings_volume = asterisk[plan.globals["ACD_RECORDINGS"]]
    assert recordings_volume in compose["volumes"]
    acd_dir = services["acd"]["environment"]["ACD_RECORDINGS__DIRECTORY"]
    assert mounts("acd")[acd_dir] == recordings_volume
