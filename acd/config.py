"""Daemon configuration: a YAML file plus ``ACD_*`` environment overrides.

Use :func:`load_settings`; it reads the file with ruamel.yaml's round-trip loader so that
every problem can be reported as ``file:line:col: field: message`` in plain English, and
raises :class:`ConfigError` with *all* problems found rather than the first one.

Precedence, lowest to highest: built-in defaults, the YAML file, environment variables.
Environment variables are ``ACD_<SECTION>__<KEY>`` (double underscore, case-insensitive),
e.g. ``ACD_AMI__HOST=10.0.0.5``; a whole section may also be given as a JSON object,
e.g. ``ACD_AMI='{"host": "10.0.0.5", "port": 5038}'``. ``ACD_CONFIG`` names the file
used when no path is passed.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

__all__ = [
    "ALLOWED_DATABASE_SCHEMES",
    "CONFIG_ENV_VAR",
    "DEFAULT_DATABASE_URL",
    "ENV_NESTED_DELIMITER",
    "ENV_PREFIX",
    "AmiSettings",
    "BusinessSettings",
    "ConfigError",
    "ConfigProblem",
    "CpusSettings",
    "DatabaseSettings",
    "FastAgiSettings",
    "HttpSettings",
    "RecordingsSettings",
    "Settings",
    "load_settings",
    "mask_database_url",
]

from acd import cpus as _cpus
from acd.routing_config import RoutingSettings
from acd.yaml_values import construction_problem

ENV_PREFIX = "ACD_"
ENV_NESTED_DELIMITER = "__"
CONFIG_ENV_VAR = "ACD_CONFIG"
"""Environment variable naming the config file used when ``load_settings`` gets no path."""

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./acd.sqlite3"
ALLOWED_DATABASE_SCHEMES = ("sqlite+aiosqlite", "postgresql+asyncpg")

# Error type used by our own validators; its message is already plain English.
_PLAIN = "acd_plain"
# Values that must never be echoed back in an error message.
_SENSITIVE = {("ami", "secret"), ("database", "url")}


def _plain_error(message: str) -> PydanticCustomError:
    # The message goes through the context so braces in user input are not formatted.
    return PydanticCustomError(_PLAIN, "{message}", {"message": message})


# --------------------------------------------------------------------------- field types


def _not_bool(value: Any) -> Any:
    """Reject YAML ``true``/``false`` for numbers (pydantic would turn them into 1/0)."""
    if isinstance(value, bool):
        raise _plain_error(f"must be a number, got {_describe(value)}")
    return value


def _check_port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise _plain_error(f"must be a TCP port number from 1 to 65535, got {value}")
    return value


def _not_empty_path(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise _plain_error("must not be empty")
    return value


def _check_time_zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        close = difflib.get_close_matches(name, sorted(zoneinfo.available_timezones()), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise _plain_error(
            f"unknown time zone '{name}'{hint}; use an IANA name such as 'Europe/Moscow' or 'UTC'"
        ) from None
    return name


_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _check_language(code: str) -> str:
    if not _LANGUAGE_RE.match(code):
        raise _plain_error(f"must be a language code such as 'ru' or 'en', got '{code}'")
    return code


def _check_database_url(url: str) -> str:
    example = (
        "use 'sqlite+aiosqlite:///./acd.sqlite3' (embedded SQLite) or "
        "'postgresql+asyncpg://user:password@host/dbname' (PostgreSQL)"
    )
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        raise _plain_error(f"is not a database URL; {example}")
    if scheme not in ALLOWED_DATABASE_SCHEMES:
        raise _plain_error(f"unsupported database scheme '{scheme}'; {example}")
    if scheme == "postgresql+asyncpg" and not urlsplit(url).hostname:
        raise _plain_error(f"the PostgreSQL URL has no host name; {example}")
    if scheme == "sqlite+aiosqlite" and rest and not rest.startswith("/"):
        raise _plain_error(
            "a SQLite URL needs three slashes before the file path, "
            "e.g. 'sqlite+aiosqlite:///./acd.sqlite3'"
        )
    return url


_CPU_SET_EXAMPLE = "a list of CPU numbers such as [0] or [1, 2]"


def _cpu_set(value: Any) -> tuple[int, ...] | None:
    """``[0, 1]`` (or ``0``, or ``"0,2-3"`` as ``taskset -c`` and environment variables
    write it): distinct CPUs this process may run on, on a platform that can pin."""
    if value is None:
        return None
    if not _cpus.supported():
        raise _plain_error(
            "pinning to CPUs is not possible on this platform (it needs Linux's "
            "sched_setaffinity); delete this setting"
        )
    if isinstance(value, str):
        try:
            items: list[Any] = _cpus.parse_cpu_list(value)
        except ValueError:
            raise _plain_error(
                f"must be {_CPU_SET_EXAMPLE}, or a CPU list such as '0,2-3', got {_describe(value)}"
            ) from None
    elif isinstance(value, int) and not isinstance(value, bool):
        items = [value]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise _plain_error(f"must be {_CPU_SET_EXAMPLE}, got {_describe(value)}")
    if not items:
        raise _plain_error(
            "must list at least one CPU, e.g. [0]; delete the setting to leave it unpinned"
        )
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int):
            raise _plain_error(f"must be {_CPU_SET_EXAMPLE}; {_describe(item)} is not a CPU number")
        if item < 0:
            raise _plain_error(f"CPU numbers start at 0, got {item}")
    twice = sorted({cpu for cpu in items if items.count(cpu) > 1})
    if twice:
        what = "CPU" if len(twice) == 1 else "CPUs"
        listed = ", ".join(str(cpu) for cpu in twice)
        raise _plain_error(f"lists {what} {listed} more than once; list each CPU once")
    allowed = _cpus.allowed_cpus()
    outside = sorted(set(items) - allowed)
    if outside:
        what = "CPU" if len(outside) == 1 else "CPUs"
        raise _plain_error(
            f"this process may not run on {what} {_cpus.format_cpus(outside)}; "
            f"the CPUs it may run on are {_cpus.format_cpus(allowed)}"
        )
    return tuple(items)


Port = Annotated[int, BeforeValidator(_not_bool), AfterValidator(_check_port)]
Seconds = Annotated[float, BeforeValidator(_not_bool), Field(gt=0, allow_inf_nan=False)]
Days = Annotated[int, BeforeValidator(_not_bool), Field(ge=1)]
Host = Annotated[str, Field(min_length=1)]
NonEmptyStr = Annotated[str, Field(min_length=1)]
CpuSet = Annotated[tuple[int, ...] | None, BeforeValidator(_cpu_set)]


# --------------------------------------------------------------------------- models


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AmiSettings(_Section):
    """Asterisk Manager Interface connection."""

    host: Host = "127.0.0.1"
    port: Port = 5038
    username: NonEmptyStr = "acd"
    secret: Annotated[SecretStr, Field(min_length=1)] = SecretStr("acdsecret")
    connect_timeout: Seconds = 5.0
    action_timeout: Seconds = 10.0
    ping_interval: Seconds = 20.0


class FastAgiSettings(_Section):
    """Where the FastAGI server listens for Asterisk ``AGI(agi://...)`` calls."""

    host: Host = "127.0.0.1"
    port: Port = 4573


class HttpSettings(_Section):
    """Where the HTTP API (reports, status) listens."""

    host: Host = "127.0.0.1"
    port: Port = 8080


class DatabaseSettings(_Section):
    """SQLAlchemy async URL (``repr=False`` keeps a password out of logs), and where call
    records wait while the database is unreachable."""

    url: Annotated[str, AfterValidator(_check_database_url)] = Field(
        default=DEFAULT_DATABASE_URL, repr=False
    )
    spool_directory: Annotated[Path, BeforeValidator(_not_empty_path)] = Path("./spool")

    @property
    def scheme(self) -> str:
        return self.url.partition("://")[0]

    @property
    def is_sqlite(self) -> bool:
        return self.scheme == "sqlite+aiosqlite"


class RecordingsSettings(_Section):
    """Call recordings; a relative directory is relative to the daemon's working directory."""

    directory: Annotated[Path, BeforeValidator(_not_empty_path)] = Path("./recordings")
    retention_days: Days = 730


class BusinessSettings(_Section):
    time_zone: Annotated[str, AfterValidator(_check_time_zone)] = "Europe/Moscow"
    default_language: Annotated[str, AfterValidator(_check_language)] = "ru"

    @property
    def tzinfo(self) -> tzinfo:
        """The business time zone as a :class:`zoneinfo.ZoneInfo`."""
        return zoneinfo.ZoneInfo(self.time_zone)


class ScenarioSettings(_Section):
    """IVR routing scenarios (``docs/scenarios.md``): where the YAML files are, which one
    serves the numbers no scenario names, and how often the files are checked for changes."""

    directory: Annotated[Path, BeforeValidator(_not_empty_path)] = Path("./ivr_scripts")
    default: Annotated[str, Field(min_length=1)] | None = None
    reload_interval: Annotated[
        float, BeforeValidator(_not_bool), Field(ge=0, allow_inf_nan=False)
    ] = 2.0


class SmtpSettings(_Section):
    """The mail server that tells callers their callback was cancelled."""

    host: Host = "127.0.0.1"
    port: Port = 25
    sender: Annotated[str, Field(min_length=3, alias="from")] = "acd@localhost"
    user: str | None = None
    password: SecretStr | None = Field(default=None, repr=False)
    starttls: bool = False
    timeout: Seconds = 10.0

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CallbacksSettings(_Section):
    """Callbacks and voicemail tasks (``docs/callbacks.md``)."""

    retry_minutes: Annotated[
        float, BeforeValidator(_not_bool), Field(gt=0, allow_inf_nan=False)
    ] = 30.0
    max_attempts: Annotated[int, BeforeValidator(_not_bool), Field(ge=1)] = 3
    dial_timeout: Seconds = 40.0
    voicemail_hours: Annotated[
        float, BeforeValidator(_not_bool), Field(gt=0, allow_inf_nan=False)
    ] = 24.0
    voicemail_warn_hours: Annotated[
        float, BeforeValidator(_not_bool), Field(ge=0, allow_inf_nan=False)
    ] = 2.0
    check_interval: Seconds = 60.0
    voicemail_directory: Annotated[Path, BeforeValidator(_not_empty_path)] = Path(
        "/var/spool/asterisk/voicemail"
    )
    smtp: SmtpSettings | None = None


class CpusSettings(_Section):
    """Which CPUs the daemon and its call-record writer process run on (``docs/serve.md``).

    On a host with few cores, routing latency suffers when the daemon waits for a CPU the
    writer or PostgreSQL holds: give the daemon a CPU of its own, the others the rest.
    Unset: no pinning, the scheduler decides.
    """

    daemon: CpuSet = None
    writer: CpuSet = None


class _EnvironmentSource(PydanticBaseSettingsSource):
    """``ACD_*`` variables from ``os.environ``, parsed exactly as :func:`load_settings` does."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ does the work

    def __call__(self) -> dict[str, Any]:
        overrides, _, problems = _environment_overrides(os.environ)
        if problems:
            raise ConfigError(problems)
        return overrides


class Settings(BaseSettings):
    """All daemon settings.

    ``Settings()`` applies defaults and ``ACD_*`` environment variables only; use
    :func:`load_settings` to read a file and get located, plain-English errors.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        case_sensitive=False,
        extra="forbid",
    )

    ami: AmiSettings = Field(default_factory=AmiSettings)
    fastagi: FastAgiSettings = Field(default_factory=FastAgiSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    recordings: RecordingsSettings = Field(default_factory=RecordingsSettings)
    business: BusinessSettings = Field(default_factory=BusinessSettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    scenarios: ScenarioSettings = Field(default_factory=ScenarioSettings)
    callbacks: CallbacksSettings = Field(default_factory=CallbacksSettings)
    cpus: CpusSettings = Field(default_factory=CpusSettings)

    @model_validator(mode="before")
    @classmethod
    def _empty_sections_are_defaults(cls, data: Any) -> Any:
        # "ami:" with every key commented out is YAML null; treat it as "all defaults".
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (k in cls.model_fields and v is None)}
        return data

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, _EnvironmentSource(settings_cls)

    def masked_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible data with the AMI secret and the database password masked."""
        data = self.model_dump(mode="json")
        data["ami"]["secret"] = "********"
        data["database"]["url"] = mask_database_url(self.database.url)
        for agent in data["routing"]["agents"]:
            if agent.get("pin") is not None:
                agent["pin"] = "********"
        smtp = data.get("callbacks", {}).get("smtp")
        if smtp and smtp.get("password") is not None:
            smtp["password"] = "********"
        return data


def mask_database_url(url: str) -> str:
    """Replace the password in a database URL with ``********``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    name = user.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{name}:********@{host}"))


_SECTIONS: dict[str, type[BaseModel]] = {
    name: info.annotation  # type: ignore[misc]
    for name, info in Settings.model_fields.items()
}


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class ConfigProblem:
    """One configuration problem.

    ``file``/``line``/``column`` (1-based) locate it in the YAML file; ``env_var`` is set
    instead when the bad value came from the environment. ``field`` is the dotted setting
    path (``ami.port``), empty for problems with the file as a whole.
    """

    message: str
    field: str = ""
    file: str | None = None
    line: int | None = None
    column: int | None = None
    env_var: str | None = None

    def __str__(self) -> str:
        if self.env_var is not None:
            where = f"env {self.env_var}"
        elif self.file is not None and self.line is not None:
            where = f"{self.file}:{self.line}:{self.column or 1}"
        else:
            where = self.file or "<settings>"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class ConfigError(Exception):
    """The configuration is unusable; ``problems`` lists every problem found."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems: list[ConfigProblem] = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


def _sort_key(problem: ConfigProblem) -> tuple[int, str, int, int, str]:
    if problem.env_var is None:
        return (0, problem.file or "", problem.line or 0, problem.column or 0, problem.field)
    return (1, problem.env_var, 0, 0, problem.field)


# --------------------------------------------------------------------------- loading


def load_settings(
    path: Path | str | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build :class:`Settings` from defaults, the YAML file at ``path``, and ``environ``.

    ``environ`` defaults to ``os.environ``. With no ``path``, ``ACD_CONFIG`` (if set and
    non-empty) names the file; otherwise only defaults and the environment are used.
    Raises :class:`ConfigError` listing every problem.
    """
    env: Mapping[str, str] = os.environ if environ is None else environ
    if path is None and env.get(CONFIG_ENV_VAR):
        path = env[CONFIG_ENV_VAR]

    tree: Any = None
    display: str | None = None
    file_data: dict[Any, Any] = {}
    if path is not None:
        display = str(path)
        tree = _read_yaml(Path(path), display)
        if tree is not None:
            file_data = _to_plain(tree)

    overrides, origins, problems = _environment_overrides(env)
    merged = _merge(file_data, overrides)
    settings: Settings | None = None
    try:
        # model_validate bypasses BaseSettings' own sources: the data is already merged.
        settings = Settings.model_validate(merged)
    except ValidationError as exc:
        for error in exc.errors():
            problems.append(_problem_from_error(error, tree, display, file_data, origins))
    if problems or settings is None:
        raise ConfigError(sorted(problems, key=_sort_key))
    return settings


def _read_yaml(path: Path, display: str) -> Any:
    """Read and parse the file; ``None`` for an empty file. Raises ConfigError."""

    def fail(message: str, line: int | None = None, column: int | None = None) -> ConfigError:
        return ConfigError([ConfigProblem(message, file=display, line=line, column=column)])

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise fail("file not found") from None
    except IsADirectoryError:
        raise fail("is a directory, not a file") from None
    except PermissionError:
        raise fail("permission denied: the file cannot be read") from None
    except OSError as exc:
        raise fail(f"cannot read the file: {exc.strerror or exc}") from None

    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise fail("the file is UTF-16 encoded; save it as UTF-8", 1, 1)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        offset = exc.start + (3 if raw.startswith(b"\xef\xbb\xbf") else 0)
        line_start = raw.rfind(b"\n", 0, offset) + 1
        line = raw.count(b"\n", 0, offset) + 1
        column = len(raw[line_start:offset].decode("utf-8", "replace")) + 1
        raise fail(
            f"the file is not valid UTF-8 text (byte 0x{raw[offset]:02x} here); save it as UTF-8",
            line,
            column,
        ) from None

    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        raise ConfigError([_syntax_problem(exc, text, display)]) from None
    except ReaderError as exc:
        line, column = _offset_to_position(text, exc.position)
        raise fail(
            f"the control character U+{exc.character:04X} is not allowed in a YAML file",
            line,
            column,
        ) from None
    except YAMLError as exc:
        raise fail(f"YAML syntax error: {exc}") from None
    except RecursionError:
        raise fail("the YAML is nested too deeply") from None
    except Exception as exc:  # a value YAML cannot construct: 2026-02-30, !!int x, 10**5000
        raise fail(*construction_problem(text, exc)) from None

    if tree is None or isinstance(tree, CommentedMap):
        return tree
    line, column = _first_content_position(text)
    kind = "a list" if isinstance(tree, CommentedSeq) else f"the value {_describe(tree)}"
    raise fail(
        f"the top level must be a mapping of sections (ami:, database:, ...), not {kind}",
        line,
        column,
    )


def _offset_to_position(text: str, offset: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _first_content_position(text: str) -> tuple[int, int]:
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip()
        if stripped and not stripped.startswith(("#", "---", "%")):
            return number, len(line) - len(stripped) + 1
    return 1, 1


def _syntax_problem(exc: MarkedYAMLError, text: str, display: str) -> ConfigProblem:
    """Translate a ruamel.yaml syntax error into a plain, located message."""
    problem = (exc.problem or "").strip()
    context = (exc.context or "").strip() if isinstance(exc.context, str) else ""
    mark = exc.problem_mark or exc.context_mark
    message: str

    def stopped() -> str:
        end = exc.problem_mark
        if end is None:
            return ""
        return f" (reading stopped at line {end.line + 1}, column {end.column + 1})"

    if isinstance(exc, DuplicateKeyError):
        found = re.search(r'duplicate key "(.*?)" with value', problem)
        key = found.group(1) if found else "?"
        first = _first_key_line(text, exc, key)
        where = f" (first set on line {first})" if first else ""
        message = f"duplicate key '{key}'{where}; each key may appear only once in a section"
    elif problem.startswith("found character '\\t'"):
        message = "tab character; YAML indentation must use spaces, not tabs"
    elif m := re.match(r"found character '(.+)' that cannot start any token", problem):
        message = f"a value cannot start with '{m.group(1)}'; put the value in quotes"
    elif context.startswith("while scanning a quoted scalar"):
        mark = exc.context_mark or mark
        message = "this quoted string is never closed; add the matching closing quote" + stopped()
    elif context.startswith(("while parsing a flow sequence", "while parsing a flow mapping")):
        opener, closer = ("[", "]") if "sequence" in context else ("{", "}")
        mark = exc.context_mark or mark
        message = (
            f"this '{opener}' is never closed: expected ',' or '{closer}'" + stopped()
            if "expected ','" in problem
            else f"syntax error inside this '{opener}...{closer}': {problem}"
        )
    elif problem.startswith("mapping values are not allowed here"):
        message = (
            "unexpected ':' here; check this line's indentation, "
            "or put the value in quotes if it contains ': '"
        )
    elif problem.startswith("expected <block end>") or problem.startswith(
        "did not find expected key"
    ):
        message = "bad indentation: this line does not line up with the lines above it"
    elif problem.startswith("could not find expected ':'"):
        mark = exc.context_mark or mark
        message = "expected 'key: value' here, but there is no ':'"
    elif problem.startswith("block sequence entries are not allowed here"):
        message = "unexpected '-' list item here; check the indentation"
    elif context.startswith("expected a single document"):
        message = "only one YAML document is allowed; remove the extra '---'"
    elif m := re.match(r"found undefined alias '(.+)'", problem):
        message = f"'*{m.group(1)}' refers to an anchor '&{m.group(1)}' that is not defined above"
    else:
        detail = "; ".join(part for part in (context, problem) if part)
        message = f"YAML syntax error: {detail or exc}"

    if mark is None:
        return ConfigProblem(message, file=display)
    return ConfigProblem(message, file=display, line=mark.line + 1, column=mark.column + 1)


def _first_key_line(text: str, exc: MarkedYAMLError, key: str) -> int | None:
    """Line of the first occurrence of a duplicated key (the composer keeps both)."""
    mapping_mark = exc.context_mark
    if mapping_mark is None:
        return None
    try:
        root = YAML(typ="rt").compose(text)
    except Exception:  # pragma: no cover - best effort only
        return None
    stack: list[Node] = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, MappingNode):
            start = node.start_mark
            if (start.line, start.column) == (mapping_mark.line, mapping_mark.column):
                for key_node, _ in node.value:
                    if isinstance(key_node, ScalarNode) and key_node.value == key:
                        return int(key_node.start_mark.line) + 1
            for key_node, value_node in node.value:
                stack.extend((key_node, value_node))
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return None


def _to_plain(node: Any) -> Any:
    """ruamel round-trip objects -> plain Python values for validation."""
    if isinstance(node, dict):
        return {_to_plain(key): _to_plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_to_plain(item) for item in node]
    if isinstance(node, bool | ScalarBoolean):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, TaggedScalar):
        return str(node.value)
    return node


# --------------------------------------------------------------------------- environment

Origins = dict[tuple[str, ...], str]


def _environment_overrides(
    environ: Mapping[str, str],
) -> tuple[dict[str, dict[str, Any]], Origins, list[ConfigProblem]]:
    """Collect ``ACD_*`` overrides as ``{section: {key: value}}``.

    Returns the overrides, which variable set each ``(section, key)``, and problems with
    variable names. Unrelated ``ACD_*`` variables without ``__`` are ignored, except an
    obvious single-underscore slip such as ``ACD_AMI_HOST``.
    """
    overrides: dict[str, dict[str, Any]] = {}
    origins: Origins = {}
    problems: list[ConfigProblem] = []
    candidates: list[tuple[int, str, list[str], str]] = []
    for name, value in environ.items():
        if not name.upper().startswith(ENV_PREFIX) or name.upper() == CONFIG_ENV_VAR:
            continue
        rest = name[len(ENV_PREFIX) :]
        if not rest:
            continue
        parts = rest.lower().split(ENV_NESTED_DELIMITER)
        candidates.append((len(parts), name, parts, value))

    # Whole sections (ACD_AMI='{...}') first, so single keys (ACD_AMI__HOST) win over them.
    for depth, name, parts, value in sorted(candidates):
        if depth == 1:
            key = parts[0]
            if key in _SECTIONS:
                section_values = _parse_section_json(value)
                if section_values is None:
                    first = next(iter(_SECTIONS[key].model_fields))
                    problems.append(
                        ConfigProblem(
                            f"must be a JSON object such as '{{\"{first}\": ...}}', "
                            f"or set single keys with {ENV_PREFIX}{key.upper()}__{first.upper()}",
                            field=key,
                            env_var=name,
                        )
                    )
                    continue
                for item_key, item_value in section_values.items():
                    overrides.setdefault(key, {})[item_key] = item_value
                    origins[(key, item_key)] = name
            elif hint := _double_underscore_hint(key):
                problems.append(
                    ConfigProblem(
                        f"is not a setting; nested settings use a double underscore: {hint}",
                        env_var=name,
                    )
                )
            continue
        if depth > 2 or not all(parts):
            problems.append(
                ConfigProblem(
                    f"is not a valid setting name; use {ENV_PREFIX}<SECTION>__<KEY>, "
                    f"e.g. {ENV_PREFIX}AMI__HOST",
                    env_var=name,
                )
            )
            continue
        section, key = parts
        overrides.setdefault(section, {})[key] = value
        origins[(section, key)] = name
    return overrides, origins, problems


def _parse_section_json(value: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _double_underscore_hint(key: str) -> str | None:
    for section, model in _SECTIONS.items():
        prefix = f"{section}_"
        if key.startswith(prefix) and key[len(prefix) :] in model.model_fields:
            return f"{ENV_PREFIX}{section.upper()}__{key[len(prefix) :].upper()}"
    return None


def _merge(file_data: dict[Any, Any], overrides: dict[str, dict[str, Any]]) -> dict[Any, Any]:
    merged = dict(file_data)
    for section, values in overrides.items():
        base = merged.get(section)
        merged[section] = {**(base if isinstance(base, dict) else {}), **values}
    return merged


def _origin(loc: tuple[Any, ...], origins: Origins, file_data: dict[Any, Any]) -> str | None:
    """The environment variable that supplied the value at ``loc``, if any."""
    for size in range(len(loc), 0, -1):
        if loc[:size] in origins:
            return origins[loc[:size]]
    if not _present(file_data, loc):
        # e.g. an unknown section that only the environment mentions (ACD_AMII__HOST)
        for path, name in origins.items():
            if path[: len(loc)] == loc:
                return name
    return None


def _present(data: Any, loc: tuple[Any, ...]) -> bool:
    for part in loc:
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


# --------------------------------------------------------------------------- messages


def _problem_from_error(
    error: Mapping[str, Any],
    tree: Any,
    display: str | None,
    file_data: dict[Any, Any],
    origins: Origins,
) -> ConfigProblem:
    loc = tuple(error["loc"])
    field = ".".join(str(part) for part in loc)
    message = _plain_message(error)
    env_var = _origin(loc, origins, file_data)
    if env_var is not None:
        return ConfigProblem(message, field=field, env_var=env_var)
    at_key = error["type"] in ("extra_forbidden", "invalid_key")
    position = _locate(tree, loc, at_key=at_key) if tree is not None else None
    if position is None:
        return ConfigProblem(message, field=field, file=display)
    return ConfigProblem(
        message, field=field, file=display, line=position[0] + 1, column=position[1] + 1
    )


def _locate(tree: Any, loc: tuple[Any, ...], *, at_key: bool) -> tuple[int, int] | None:
    """0-based (line, column) of the node at ``loc``: its key for unknown keys and empty
    values, its value otherwise; the deepest enclosing node when ``loc`` is not in the file.
    """
    node = tree
    position: tuple[int, int] | None = (tree.lc.line, tree.lc.col) if hasattr(tree, "lc") else None
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        try:
            if isinstance(node, CommentedMap) and part in node:
                value = node[part]
                if last and (at_key or value is None):
                    found = node.lc.key(part)
                else:
                    found = node.lc.value(part)
                node = value
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                found = node.lc.item(part)
                node = node[part]
            else:
                break
        except (KeyError, IndexError, TypeError):  # merged (<<:) keys have no own position
            break
        if found is None:
            break
        position = (int(found[0]), int(found[1]))
    return position


_TYPE_ERRORS = {
    "int_type",
    "int_parsing",
    "float_type",
    "float_parsing",
    "string_type",
    "path_type",
    "model_type",
    "model_attributes_type",
    "dict_type",
}


def _plain_message(error: Mapping[str, Any]) -> str:
    """Translate one pydantic error into plain English (never echoing secrets)."""
    kind: str = error["type"]
    loc = tuple(error["loc"])
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    sensitive = loc in _SENSITIVE
    got = "" if sensitive else f", got {_describe(value)}"

    if kind == _PLAIN:
        return str(error["msg"])
    if kind == "extra_forbidden":
        return _unknown_key_message(loc)
    if kind == "invalid_key":
        return "setting names must be text, not numbers or lists"
    if value is None and kind in _TYPE_ERRORS:
        default = _default_for(loc)
        tail = "" if default is None or sensitive else f" ({default})"
        return f"has no value; give one, or delete the line to use the default{tail}"
    if kind in ("int_type", "int_parsing"):
        return f"must be a whole number{got}"
    if kind == "int_from_float":
        return f"must be a whole number, not a fraction{got}"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number{got}"
    if kind == "finite_number":
        return "must be a finite number"
    if kind == "greater_than":
        limit = _number(ctx.get("gt"))
        return (
            f"must be greater than 0{got}" if limit == "0" else f"must be greater than {limit}{got}"
        )
    if kind == "greater_than_equal":
        return f"must be at least {_number(ctx.get('ge'))}{got}"
    if kind == "less_than":
        return f"must be less than {_number(ctx.get('lt'))}{got}"
    if kind == "less_than_equal":
        return f"must be at most {_number(ctx.get('le'))}{got}"
    if kind in ("string_too_short", "too_short"):
        return "must not be empty"
    if kind == "string_type":
        if isinstance(value, int | float):  # includes true/false
            hint = (
                "; put it in quotes" if sensitive else f'; put it in quotes: "{_describe(value)}"'
            )
            return f"must be text{got}{hint}"
        return f"must be text{got}"
    if kind == "path_type":
        return f"must be a directory path{got}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a section of 'key: value' settings{got}"
    if kind == "missing":
        return "is required"
    message = str(error.get("msg", kind))
    message = re.sub(r"^Value error, ", "", message)
    message = re.sub(r"\s*\[type=[^\]]*\]", "", message)
    message = re.sub(r"\s*(For further information visit )?https://\S+", "", message)
    return message.strip() or "invalid value"


def _unknown_key_message(loc: tuple[Any, ...]) -> str:
    key = str(loc[-1])
    if len(loc) == 1:
        valid = list(_SECTIONS)
        what = f"unknown section '{key}'"
    else:
        model = _SECTIONS.get(str(loc[0]))
        valid = list(model.model_fields) if model else []
        what = f"unknown setting '{key}' in section '{loc[0]}'"
    close = difflib.get_close_matches(key.lower(), valid, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    listing = f"; valid names: {', '.join(valid)}" if valid else ""
    return f"{what}{hint}{listing}"


def _default_for(loc: tuple[Any, ...]) -> str | None:
    if len(loc) != 2 or str(loc[0]) not in _SECTIONS:
        return None
    info = _SECTIONS[str(loc[0])].model_fields.get(str(loc[1]))
    if info is None or info.default is None:
        return None
    return _describe(info.default)


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _describe(value: Any) -> str:
    """Show a value the way a YAML author would recognise it."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"'{shown}'"
    if isinstance(value, dict):
        return "a section (key: value lines)"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Path):
        return f"'{value}'"
    return f"'{value}'"
