"""Tests for acd.config (settings, located errors) and the ``acd config`` command."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from acd_cli import run_acd
from ruamel.yaml import YAML

from acd.config import (
    DEFAULT_DATABASE_URL,
    ConfigError,
    ConfigProblem,
    Settings,
    load_settings,
    mask_database_url,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent

JARGON = ("type=", "errors.pydantic.dev", "Input should", "validation error", "Traceback")


def write(tmp_path: Path, text: str | bytes, name: str = "acd.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path, environ: dict[str, str] | None = None) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ or {})
    return caught.value.problems


def assert_plain(message: str) -> None:
    for word in JARGON:
        assert word not in message, message


# --------------------------------------------------------------------------- defaults & values


def test_defaults_without_file() -> None:
    settings = load_settings(None, {})
    assert settings.ami.host == "127.0.0.1"
    assert settings.ami.port == 5038
    assert settings.ami.username == "acd"
    assert settings.ami.secret.get_secret_value() == "acdsecret"
    assert settings.ami.connect_timeout > 0
    assert settings.ami.action_timeout > 0
    assert settings.ami.ping_interval > 0
    assert (settings.fastagi.host, settings.fastagi.port) == ("127.0.0.1", 4573)
    assert (settings.http.host, settings.http.port) == ("127.0.0.1", 8080)
    assert settings.database.url == DEFAULT_DATABASE_URL == "sqlite+aiosqlite:///./acd.sqlite3"
    assert settings.database.is_sqlite
    assert settings.recordings.directory == Path("./recordings")
    assert settings.recordings.retention_days == 730
    assert settings.business.time_zone == "Europe/Moscow"
    assert str(settings.business.tzinfo) == "Europe/Moscow"
    assert settings.business.default_language == "ru"


def test_example_file_matches_defaults() -> None:
    """Every setting of the example is the default, except the routing section: the skills
    and queues of the example scenarios (ivr_scripts/)."""
    example = load_settings(PROJECT_ROOT / "acd.example.yaml", {})
    defaults = load_settings(None, {})
    assert {k: v for k, v in example.masked_dict().items() if k != "routing"} == {
        k: v for k, v in defaults.masked_dict().items() if k != "routing"
    }
    assert example.ami.secret == defaults.ami.secret
    routing = example.routing
    assert routing.skills == ["operator", "technical_support", "account_manager"]
    assert [q.id for q in routing.queues] == ["hotline", "support"] and routing.agents == []
    assert (routing.presence_file, routing.journal_file) == (
        defaults.routing.presence_file,
        defaults.routing.journal_file,
    )


@pytest.mark.parametrize("scenario", sorted((PROJECT_ROOT / "ivr_scripts").glob("*.yaml")))
def test_the_example_scenarios_check_against_the_example_configuration(scenario: Path) -> None:
    result = run_acd(
        "scenario", "check", str(scenario), "--config", str(PROJECT_ROOT / "acd.example.yaml")
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"{scenario}: OK"), result.stdout


@pytest.mark.parametrize("text", ["", "\n\n", "# nothing here\n", "---\n"])
def test_empty_file_means_defaults(tmp_path: Path, text: str) -> None:
    settings = load_settings(write(tmp_path, text), {})
    assert settings.ami.port == 5038


def test_section_with_everything_commented_out_means_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "ami:\n  # port: 1\nhttp:\n")
    settings = load_settings(path, {})
    assert settings.ami.port == 5038
    assert settings.http.port == 8080


def test_file_values(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        ami:
          host: 10.0.0.5
          port: 5039
          username: router
          secret: "0123"
          connect_timeout: 2.5
          action_timeout: 3
          ping_interval: 15
        fastagi: {host: 0.0.0.0, port: 4574}
        http:
          port: 8081
        database:
          url: postgresql+asyncpg://acd:pw@db.example.org/acd
        recordings:
          directory: /var/spool/acd
          retention_days: 90
        business:
          time_zone: UTC
          default_language: en
        """,
    )
    settings = load_settings(path, {})
    assert settings.ami.host == "10.0.0.5"
    assert settings.ami.port == 5039
    assert settings.ami.username == "router"
    assert settings.ami.secret.get_secret_value() == "0123"
    assert settings.ami.connect_timeout == 2.5
    assert settings.ami.action_timeout == 3.0
    assert settings.fastagi.host == "0.0.0.0"
    assert settings.fastagi.port == 4574
    assert settings.http.port == 8081
    assert settings.http.host == "127.0.0.1"
    assert settings.database.scheme == "postgresql+asyncpg"
    assert not settings.database.is_sqlite
    assert settings.recordings.directory == Path("/var/spool/acd")
    assert settings.recordings.retention_days == 90
    assert settings.business.time_zone == "UTC"
    assert settings.business.default_language == "en"


def test_path_may_be_a_string(tmp_path: Path) -> None:
    path = write(tmp_path, "http:\n  port: 9000\n")
    assert load_settings(str(path), {}).http.port == 9000


# --------------------------------------------------------------------------- environment


def test_env_overrides_file(tmp_path: Path) -> None:
    path = write(tmp_path, "ami:\n  host: 10.0.0.5\n  port: 5039\n")
    settings = load_settings(path, {"ACD_AMI__PORT": "6000"})
    assert settings.ami.port == 6000
    assert settings.ami.host == "10.0.0.5"  # untouched keys keep the file's value


def test_env_replaces_a_bad_file_value(tmp_path: Path) -> None:
    path = write(tmp_path, "ami:\n  port: abc\n")
    assert load_settings(path, {"ACD_AMI__PORT": "5040"}).ami.port == 5040


def test_nested_env_without_file() -> None:
    environ = {
        "ACD_AMI__HOST": "10.0.0.5",
        "ACD_DATABASE__URL": "postgresql+asyncpg://u:p@db/acd",
        "acd_business__time_zone": "UTC",  # names are case-insensitive
        "ACD_RECORDINGS__RETENTION_DAYS": "30",
        "ACD_UNRELATED": "ignored",
        "PATH": "/usr/bin",
    }
    settings = load_settings(None, environ)
    assert settings.ami.host == "10.0.0.5"
    assert settings.database.url == "postgresql+asyncpg://u:p@db/acd"
    assert settings.business.time_zone == "UTC"
    assert settings.recordings.retention_days == 30


def test_env_section_as_json_and_single_keys_win() -> None:
    environ = {
        "ACD_FASTAGI": '{"host": "0.0.0.0", "port": 4600}',
        "ACD_FASTAGI__HOST": "10.1.1.1",
    }
    settings = load_settings(None, environ)
    assert settings.fastagi.port == 4600
    assert settings.fastagi.host == "10.1.1.1"


def test_acd_config_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "http:\n  port: 9001\n")
    assert load_settings(None, {"ACD_CONFIG": str(path)}).http.port == 9001
    # An explicit path wins over ACD_CONFIG.
    other = write(tmp_path, "http:\n  port: 9002\n", name="other.yaml")
    assert load_settings(other, {"ACD_CONFIG": str(path)}).http.port == 9002


def test_acd_config_pointing_nowhere_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_settings(None, {"ACD_CONFIG": str(missing)})
    assert str(caught.value) == f"{missing}: file not found"


def test_env_problems_name_the_variable(tmp_path: Path) -> None:
    path = write(tmp_path, "ami:\n  host: 10.0.0.5\n")
    environ = {
        "ACD_AMI__PORT": "abc",
        "ACD_HTTP__PROT": "80",
        "ACD_AMII__HOST": "x",
        "ACD_AMI_HOST": "x",
        "ACD_DATABASE": "not json",
        "ACD_A__B__C": "1",
    }
    problems = problems_of(path, environ)
    by_var = {p.env_var: p for p in problems}
    assert set(by_var) == set(environ)
    for problem in problems:
        assert problem.file is None and problem.line is None
        assert_plain(problem.message)
    assert by_var["ACD_AMI__PORT"].field == "ami.port"
    assert (
        str(by_var["ACD_AMI__PORT"])
        == "env ACD_AMI__PORT: ami.port: must be a whole number, got 'abc'"
    )
    assert "did you mean 'port'" in by_var["ACD_HTTP__PROT"].message
    assert "unknown section 'amii'" in by_var["ACD_AMII__HOST"].message
    assert "ACD_AMI__HOST" in by_var["ACD_AMI_HOST"].message
    assert "JSON object" in by_var["ACD_DATABASE"].message


def test_settings_class_reads_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACD_HTTP__PORT", "8181")
    assert Settings().http.port == 8181


# --------------------------------------------------------------------------- bad files

# (name, file content, line, column, field, fragment of the message)
BAD_FILES: list[tuple[str, str | bytes, int, int, str, str]] = [
    (
        "unknown-section",
        "amii:\n  host: x\n",
        1,
        1,
        "amii",
        "unknown section 'amii' (did you mean 'ami'?)",
    ),
    (
        "unknown-key",
        "ami:\n  host: 10.0.0.5\n  prot: 5038\n",
        3,
        3,
        "ami.prot",
        "did you mean 'port'?",
    ),
    ("wrong-type", "ami:\n  port: abc\n", 2, 9, "ami.port", "must be a whole number, got 'abc'"),
    ("fraction", "ami:\n  port: 50.5\n", 2, 9, "ami.port", "whole number"),
    ("bool-number", "ami:\n  port: true\n", 2, 9, "ami.port", "must be a number, got true"),
    ("port-range", "http:\n  port: 70000\n", 2, 9, "http.port", "from 1 to 65535, got 70000"),
    ("port-zero", "fastagi:\n  port: 0\n", 2, 9, "fastagi.port", "from 1 to 65535"),
    (
        "negative-timeout",
        "ami:\n  connect_timeout: -1\n",
        2,
        20,
        "ami.connect_timeout",
        "greater than 0",
    ),
    (
        "infinite-timeout",
        "ami:\n  ping_interval: .inf\n",
        2,
        18,
        "ami.ping_interval",
        "finite number",
    ),
    (
        "zero-retention",
        "recordings:\n  retention_days: 0\n",
        2,
        19,
        "recordings.retention_days",
        "at least 1",
    ),
    ("empty-value", "ami:\n  port:\n", 2, 3, "ami.port", "has no value"),
    ("empty-host", "http:\n  host: ''\n", 2, 9, "http.host", "must not be empty"),
    ("section-not-mapping", "fastagi: 4573\n", 1, 10, "fastagi", "must be a section"),
    (
        "unknown-time-zone",
        "business:\n  time_zone: Europe/Moskow\n",
        2,
        14,
        "business.time_zone",
        "unknown time zone 'Europe/Moskow' (did you mean 'Europe/Moscow'?)",
    ),
    (
        "bad-language",
        "business:\n  default_language: Russian\n",
        2,
        21,
        "business.default_language",
        "language code",
    ),
    (
        "bad-db-scheme",
        "database:\n  url: mysql://acd:hunter2@db/acd\n",
        2,
        8,
        "database.url",
        "unsupported database scheme 'mysql'",
    ),
    ("db-not-url", "database:\n  url: acd.sqlite3\n", 2, 8, "database.url", "not a database URL"),
    ("tab-indent", "ami:\n\thost: x\n", 2, 1, "", "tab character"),
    ("tab-indent-later", "ami:\n  host: x\n\tport: 1\n", 3, 1, "", "tab character"),
    (
        "duplicate-key",
        "ami:\n  port: 1\n  host: a\n  port: 2\n",
        4,
        3,
        "",
        "duplicate key 'port' (first set on line 2)",
    ),
    (
        "duplicate-section",
        "ami: {}\nhttp: {}\nami: {}\n",
        3,
        1,
        "",
        "duplicate key 'ami' (first set on line 1)",
    ),
    (
        "unclosed-quote",
        'ami:\n  host: "abc\n  port: 1\n',
        2,
        9,
        "",
        "quoted string is never closed",
    ),
    ("unclosed-single-quote", "ami:\n  host: 'abc\n", 2, 9, "", "quoted string is never closed"),
    ("unclosed-bracket", "ami:\n  host: [a, b\n  port: 1\n", 2, 9, "", "'[' is never closed"),
    ("unclosed-brace", "ami: {host: a, port: 1\n", 1, 6, "", "'{' is never closed"),
    ("bad-indentation", "ami:\n  host: x\n   port: 1\n", 3, 8, "", "indentation"),
    ("dedented-key", "ami:\n    host: x\n  port: 1\n", 3, 3, "", "bad indentation"),
    ("two-documents", "ami: {}\n---\nhttp: {}\n", 2, 1, "", "only one YAML document"),
    ("top-level-list", "- ami\n- http\n", 1, 1, "", "top level must be a mapping of sections"),
    ("top-level-scalar", "# comment\nhello\n", 2, 1, "", "top level must be a mapping of sections"),
    ("non-utf8", b"ami:\n  host: caf\xe9\n", 2, 12, "", "not valid UTF-8"),
    ("utf16", "ami: {}\n".encode("utf-16"), 1, 1, "", "UTF-16"),
    ("control-char", "ami:\n  host: a\x00b\n", 2, 10, "", "control character U+0000"),
]


@pytest.mark.parametrize(
    ("text", "line", "column", "field", "fragment"),
    [case[1:] for case in BAD_FILES],
    ids=[case[0] for case in BAD_FILES],
)
def test_bad_file_is_located(
    tmp_path: Path, text: str | bytes, line: int, column: int, field: str, fragment: str
) -> None:
    path = write(tmp_path, text)
    problems = problems_of(path)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert (problem.file, problem.line, problem.column) == (str(path), line, column)
    assert problem.field == field
    assert problem.env_var is None
    assert fragment in problem.message
    assert_plain(problem.message)
    prefix = f"{path}:{line}:{column}: " + (f"{field}: " if field else "")
    assert str(problem).startswith(prefix)


def test_corpus_is_big_enough() -> None:
    assert len(BAD_FILES) >= 12


def test_secret_values_are_never_echoed(tmp_path: Path) -> None:
    path = write(tmp_path, "ami:\n  secret: 987654\ndatabase:\n  url: mysql://u:hunter2@h/db\n")
    error_text = "\n".join(p.message for p in problems_of(path))
    assert "987654" not in error_text
    assert "hunter2" not in error_text
    assert "put it in quotes" in error_text


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    (problem,) = problems_of(path)
    assert (problem.file, problem.line, problem.column) == (str(path), None, None)
    assert str(problem) == f"{path}: file not found"


def test_directory(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path)
    assert str(problem) == f"{tmp_path}: is a directory, not a file"


def test_unreadable_file_even_as_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "ami: {}\n")

    def deny(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", deny)
    (problem,) = problems_of(path)
    assert str(problem) == f"{path}: permission denied: the file cannot be read"


def test_several_errors_are_all_reported_in_file_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        ami:
          port: abc
          prot: 1
          action_timeout: 0
        http:
          port: 99999
        business:
          time_zone: Mars/Olympus
        database:
          url: mysql://db/acd
        """,
    )
    problems = problems_of(path)
    assert [(p.line, p.column, p.field) for p in problems] == [
        (2, 9, "ami.port"),
        (3, 3, "ami.prot"),
        (4, 19, "ami.action_timeout"),
        (6, 9, "http.port"),
        (8, 14, "business.time_zone"),
        (10, 8, "database.url"),
    ]
    with pytest.raises(ConfigError) as caught:
        load_settings(path, {})
    rendered = str(caught.value).splitlines()
    assert len(rendered) == len(problems)
    assert rendered[0] == f"{path}:2:9: ami.port: must be a whole number, got 'abc'"
    for line in rendered:
        assert line.startswith(f"{path}:")
        assert_plain(line)


def test_file_and_env_problems_together(tmp_path: Path) -> None:
    path = write(tmp_path, "ami:\n  port: abc\n")
    problems = problems_of(path, {"ACD_HTTP__PORT": "0"})
    assert [(p.file, p.env_var, p.field) for p in problems] == [
        (str(path), None, "ami.port"),
        (None, "ACD_HTTP__PORT", "http.port"),
    ]


def test_config_error_is_an_exception_with_problems() -> None:
    problem = ConfigProblem(
        "must be a whole number", field="ami.port", file="a.yaml", line=3, column=9
    )
    error = ConfigError([problem])
    assert isinstance(error, Exception)
    assert error.problems == [problem]
    assert str(error) == "a.yaml:3:9: ami.port: must be a whole number"


# --------------------------------------------------------------------------- masking


def test_mask_database_url() -> None:
    assert mask_database_url("postgresql+asyncpg://acd:pw@db:5432/acd") == (
        "postgresql+asyncpg://acd:********@db:5432/acd"
    )
    assert mask_database_url(DEFAULT_DATABASE_URL) == DEFAULT_DATABASE_URL


def test_secrets_stay_out_of_repr_and_masked_dict() -> None:
    settings = load_settings(
        None,
        {"ACD_AMI__SECRET": "topsecret", "ACD_DATABASE__URL": "postgresql+asyncpg://u:pw1@h/d"},
    )
    assert "topsecret" not in repr(settings)
    assert "pw1" not in repr(settings)
    masked = settings.masked_dict()
    assert masked["ami"]["secret"] == "********"
    assert masked["database"]["url"] == "postgresql+asyncpg://u:********@h/d"


# --------------------------------------------------------------------------- CLI


def test_cli_check_ok(tmp_path: Path) -> None:
    path = write(tmp_path, "http:\n  port: 9000\n")
    result = run_acd("config", "check", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ok: {path}"
    assert result.stderr == ""


def test_cli_check_example_file() -> None:
    result = run_acd("config", "check", "acd.example.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok: acd.example.yaml"


def test_cli_check_reports_every_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "ami:\n  port: abc\nhttp:\n  port: 0\n")
    result = run_acd("config", "check", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"{path}:2:9: ami.port: must be a whole number, got 'abc'" in result.stderr
    assert f"{path}:4:9: http.port: " in result.stderr
    assert "2 problems" in result.stderr
    assert_plain(result.stderr)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ami:\n\thost: x\n", ":2:1: tab character"),
        (b"ami: caf\xe9\n", ":1:9: the file is not valid UTF-8"),
        ("- a\n", ":1:1: the top level must be a mapping"),
    ],
)
def test_cli_check_syntax_errors(tmp_path: Path, text: str | bytes, expected: str) -> None:
    path = write(tmp_path, text)
    result = run_acd("config", "check", str(path))
    assert result.returncode == 2
    assert f"{path}{expected}" in result.stderr
    assert_plain(result.stderr)


def test_cli_check_missing_file_and_directory(tmp_path: Path) -> None:
    result = run_acd("config", "check", str(tmp_path / "missing.yaml"))
    assert result.returncode == 2
    assert f"{tmp_path / 'missing.yaml'}: file not found" in result.stderr
    result = run_acd("config", "check", str(tmp_path))
    assert result.returncode == 2
    assert "is a directory" in result.stderr
    assert_plain(result.stderr)


def test_cli_check_uses_environment(tmp_path: Path) -> None:
    result = run_acd("config", "check", env={"ACD_AMI__PORT": "x"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "env ACD_AMI__PORT: ami.port: must be a whole number" in result.stderr
    path = write(tmp_path, "ami:\n  port: 5040\n")
    result = run_acd("config", "check", env={"ACD_CONFIG": str(path)}, cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"ok: {path}"


def test_cli_show_masks_secrets(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ami:\n  secret: s3cret\ndatabase:\n  url: postgresql+asyncpg://acd:dbpass@db/acd\n",
    )
    result = run_acd("config", "show", str(path), env={"ACD_HTTP__PORT": "8181"})
    assert result.returncode == 0, result.stderr
    assert "s3cret" not in result.stdout
    assert "dbpass" not in result.stdout
    shown = YAML(typ="safe").load(result.stdout)
    assert shown["ami"]["secret"] == "********"
    assert shown["database"]["url"] == "postgresql+asyncpg://acd:********@db/acd"
    assert shown["http"]["port"] == 8181
    assert list(shown) == [
        "ami",
        "fastagi",
        "http",
        "database",
        "recordings",
        "business",
        "routing",
        "scenarios",
        "callbacks",
        "cpus",
    ]


def test_cli_show_invalid(tmp_path: Path) -> None:
    path = write(tmp_path, "ami:\n  port: abc\n")
    result = run_acd("config", "show", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"{path}:2:9: ami.port" in result.stderr


def test_cli_config_without_action_prints_usage() -> None:
    result = run_acd("config")
    assert result.returncode == 2
    assert "check" in result.stderr and "show" in result.stderr


def test_routing_section_builds_a_router(tmp_path: Path) -> None:
    from acd.routing_config import build_router

    path = write(
        tmp_path,
        """\
        routing:
          skills: [operator, tech_support]
          queues:
            - id: hotline
              skills: {operator: 3}
              numbers: ["88005553535"]
              relaxation: [{after_seconds: 60, min_level: 1}]
            - id: tech
              skills: {tech_support: 5}
          agents:
            - {id: "7", name: Анна, phone: "1001", pin: "1234", skills: {operator: 8}}
            - {id: "8", phone: "1002", skills: {tech_support: 6}, languages: [ru, kk]}
        """,
    )
    settings = load_settings(path, environ={})
    routing = settings.routing
    assert routing.queue_for_number("88005553535").id == "hotline"
    assert routing.queue_for_number("999").id == "hotline"  # the default queue
    assert routing.agent_by_phone("1002").id == "8"
    router = build_router(routing, "Europe/Moscow", start=0.0)
    assert sorted(router.agents) == ["7", "8"]
    assert router.queues["hotline"].relaxation[0].min_level == 1
    assert settings.masked_dict()["routing"]["agents"][0]["pin"] == "********"


def test_routing_section_refuses_unknown_skills_and_duplicates(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        routing:
          skills: [operator]
          queues:
            - {id: hotline, skills: {operatr: 3}}
          agents:
            - {id: "7", phone: "1001", skills: {operator: 11}}
            - {id: "7", phone: "1001", skills: {operator: 2}}
        """,
    )
    text = "\n".join(str(p) for p in problems_of(path))
    assert "routing.agents.0.skills.operator" in text
    assert "10" in text  # the level must be at most 10

    path.write_text(
        "routing:\n"
        "  skills: [operator]\n"
        "  queues:\n"
        "    - {id: hotline, skills: {operatr: 3}}\n"
        "  agents:\n"
        '    - {id: "7", phone: "1001", skills: {operator: 2}}\n'
        '    - {id: "7", phone: "1001", skills: {operator: 2}}\n'
    )
    (problem,) = problems_of(path)
    assert (problem.line, problem.column, problem.field) == (2, 3, "routing")
    assert problem.message == (
        "queue 'hotline' uses unknown skill 'operatr'; agent '7' is defined twice; "
        "phone '1001' is defined twice (known skills: operator)"
    )
