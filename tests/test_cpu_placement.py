"""CPU placement: the ``cpus`` settings and their errors, the writer process on its CPUs, the
daemon on its own, and ``acd bench persist --cpus``."""

from __future__ import annotations

import asyncio
import logging
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from acd_cli import run_acd

from acd import cpus as cpu_placement
from acd.bench import persist
from acd.call_events import CallEvent
from acd.config import ConfigError, ConfigProblem, DatabaseSettings, Settings, load_settings
from acd.routing_config import RoutingSettings
from acd.storage.writer_process import WriterProcess

ALLOWED = sorted(cpu_placement.allowed_cpus())
FAST = {"linger": 0.005, "retry_interval": 0.05, "max_retry_interval": 0.2}
T0 = 1_795_845_600.0

linux_only = pytest.mark.skipif(
    not cpu_placement.supported(), reason="CPU pinning needs Linux's sched_setaffinity"
)
two_cpus = pytest.mark.skipif(
    len(ALLOWED) < 2,
    reason=f"needs two CPUs to split; this process may run on CPU "
    f"{cpu_placement.format_cpus(ALLOWED)} only",
)


@pytest.fixture
def own_affinity() -> Iterator[frozenset[int]]:
    """This process's CPUs, given back after the test whatever it pinned."""
    before = cpu_placement.get_affinity(0)
    try:
        yield before
    finally:
        cpu_placement.set_affinity(0, before)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "acd.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path | None, environ: dict[str, str] | None = None) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ or {})
    return caught.value.problems


# --------------------------------------------------------------------------- helpers


def test_cpu_lists_are_written_as_taskset_writes_them() -> None:
    assert cpu_placement.format_cpus([1, 0]) == "0, 1"
    assert cpu_placement.format_cpus([0, 1, 2, 3, 6, 8, 9]) == "0-3, 6, 8, 9"
    assert cpu_placement.parse_cpu_list("0,2-3") == [0, 2, 3]
    assert cpu_placement.parse_cpu_list(" [1, 4] ") == [1, 4]
    assert cpu_placement.parse_cpu_list("") == []
    for bad in ("a", "3-1", "1-", "-1", "1,,2", "1.5"):
        with pytest.raises(ValueError):
            cpu_placement.parse_cpu_list(bad)


# --------------------------------------------------------------------------- settings


def test_no_cpus_by_default() -> None:
    settings = load_settings(None, {})
    assert settings.cpus.daemon is None and settings.cpus.writer is None


@linux_only
def test_a_good_placement(tmp_path: Path) -> None:
    writer = ALLOWED[1:] or ALLOWED
    path = write(
        tmp_path,
        f"""
        cpus:
          daemon: [{ALLOWED[0]}]
          writer: [{", ".join(str(cpu) for cpu in writer)}]
        """,
    )
    settings = load_settings(path, {})
    assert settings.cpus.daemon == (ALLOWED[0],)
    assert settings.cpus.writer == tuple(writer)
    assert settings.masked_dict()["cpus"] == {"daemon": [ALLOWED[0]], "writer": writer}


@linux_only
def test_environment_variables_take_cpu_lists() -> None:
    every = ",".join(str(cpu) for cpu in ALLOWED)
    settings = load_settings(
        None, {"ACD_CPUS__DAEMON": str(ALLOWED[0]), "ACD_CPUS__WRITER": f"[{every}]"}
    )
    assert settings.cpus.daemon == (ALLOWED[0],)
    assert settings.cpus.writer == tuple(ALLOWED)


BAD = [
    ("[]", "must list at least one CPU, e.g. [0]; delete the setting to leave it unpinned"),
    ("[{first}, {first}]", "lists CPU {first} more than once; list each CPU once"),
    ("[-1]", "CPU numbers start at 0, got -1"),
    (
        "[{outside}]",
        "this process may not run on CPU {outside}; the CPUs it may run on are {allowed}",
    ),
    ("true", "must be a list of CPU numbers such as [0] or [1, 2], got true"),
    (
        "{{a: 1}}",
        "must be a list of CPU numbers such as [0] or [1, 2], got a section (key: value lines)",
    ),
    ("[a]", "must be a list of CPU numbers such as [0] or [1, 2]; 'a' is not a CPU number"),
    ("[1.5]", "must be a list of CPU numbers such as [0] or [1, 2]; 1.5 is not a CPU number"),
    (
        "'zero'",
        "must be a list of CPU numbers such as [0] or [1, 2], or a CPU list such as '0,2-3', "
        "got 'zero'",
    ),
]


@linux_only
@pytest.mark.parametrize(("value", "message"), BAD, ids=[value for value, _ in BAD])
def test_bad_cpu_sets_are_located_and_explained(tmp_path: Path, value: str, message: str) -> None:
    names = {
        "first": ALLOWED[0],
        "outside": max(ALLOWED) + 1,
        "allowed": cpu_placement.format_cpus(ALLOWED),
    }
    path = write(tmp_path, f"cpus:\n  daemon: {value.format(**names)}\n")
    (problem,) = problems_of(path)
    assert str(problem) == f"{path}:2:11: cpus.daemon: {message.format(**names)}"


def test_a_cpu_this_process_may_not_use_names_the_allowed_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cpu_placement, "supported", lambda: True)
    monkeypatch.setattr(cpu_placement, "allowed_cpus", lambda: frozenset({0, 2, 3, 4}))
    path = write(tmp_path, "cpus:\n  daemon: [0]\n  writer: [1, 5]\n")
    (problem,) = problems_of(path)
    assert str(problem) == (
        f"{path}:3:11: cpus.writer: this process may not run on CPUs 1, 5; "
        "the CPUs it may run on are 0, 2-4"
    )


def test_every_bad_setting_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "cpus:\n  daemon: []\n  writer: [-2]\n")
    assert [(p.line, p.field) for p in problems_of(path)] == [
        (2, "cpus.daemon"),
        (3, "cpus.writer"),
    ]


@linux_only
def test_a_bad_environment_variable_is_named() -> None:
    (problem,) = problems_of(None, {"ACD_CPUS__WRITER": "1-"})
    assert problem.env_var == "ACD_CPUS__WRITER" and problem.field == "cpus.writer"
    assert "or a CPU list such as '0,2-3', got '1-'" in problem.message


def test_without_sched_setaffinity_a_placement_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(os, "sched_setaffinity", raising=False)
    assert load_settings(write(tmp_path, "cpus:\n  daemon:\n"), {}).cpus.daemon is None
    path = write(tmp_path, "cpus:\n  writer: [0]\n")
    (problem,) = problems_of(path)
    assert str(problem) == (
        f"{path}:2:11: cpus.writer: pinning to CPUs is not possible on this platform "
        "(it needs Linux's sched_setaffinity); delete this setting"
    )


# --------------------------------------------------------------------------- writer process


def answered_call(call_id: str, agent: str, t0: float) -> list[CallEvent]:
    return [
        CallEvent(
            call_id, t0, "arrived", {"channel": "PJSIP/t-1", "caller": "+7916", "dialled": "8800"}
        ),
        CallEvent(call_id, t0 + 1, "queued", {"queue": "hotline", "language": "ru", "priority": 0}),
        CallEvent(call_id, t0 + 1, "offered", {"agent_id": agent, "candidates": [agent]}),
        CallEvent(call_id, t0 + 4, "connected", {"agent_id": agent}),
        CallEvent(
            call_id,
            t0 + 64,
            "finished",
            {"outcome": "answered", "agent_id": agent, "wait_seconds": 4.0, "talk_seconds": 60.0},
        ),
    ]


async def store_calls(writer: WriterProcess, count: int) -> None:
    for i in range(count):
        for event in answered_call(f"c{i}", f"a{i}", T0 + i):
            writer.emit(event)
    assert await writer.drain(30)
    assert writer.stats.calls_finished == count and writer.stats.spooled == 0


def threads_of(pid: int) -> list[int]:
    return [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]


@linux_only
@two_cpus
async def test_the_writer_process_runs_on_its_cpus(
    tmp_path: Path, own_affinity: frozenset[int]
) -> None:
    # The daemon is on the first CPU; the child starts there (it inherits it) and moves.
    cpu_placement.set_affinity(0, ALLOWED[:1])
    target = ALLOWED[-1]
    writer = WriterProcess(
        f"sqlite+aiosqlite:///{tmp_path / 'acd.sqlite3'}",
        tmp_path / "spool",
        cpus=[target],
        writer_options=FAST,
    )
    await writer.start()  # returns once the child is ready: it pinned itself before that
    try:
        assert writer._process is not None
        pid = writer._process.pid
        assert os.sched_getaffinity(pid) == {target}
        # told on its command line, so it pins itself before loading its database libraries
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert command[-3:-1] == [b"--cpus", str(target).encode()]
        assert all(os.sched_getaffinity(tid) == {target} for tid in threads_of(pid))
        await store_calls(writer, 5)
        assert all(os.sched_getaffinity(tid) == {target} for tid in threads_of(pid))
    finally:
        await writer.aclose()
    assert os.sched_getaffinity(0) == {ALLOWED[0]}  # the daemon's own CPUs are its own


@linux_only
async def test_a_writer_process_that_cannot_be_pinned_warns_and_writes(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    missing = max(ALLOWED) + 1
    writer = WriterProcess(
        f"sqlite+aiosqlite:///{tmp_path / 'acd.sqlite3'}",
        tmp_path / "spool",
        cpus=[missing],
        writer_options=FAST,
    )
    await writer.start()
    try:
        assert writer._process is not None
        assert os.sched_getaffinity(writer._process.pid) == os.sched_getaffinity(0)
        await store_calls(writer, 3)
    finally:
        await writer.aclose()
    err = capfd.readouterr().err
    assert "WARNING" in err and f"cannot run on CPUs {missing}" in err and "going on" in err


# --------------------------------------------------------------------------- the daemon


def _app(tmp_path: Path, cpus: Any) -> Any:
    """A daemon (not started) on SQLite in ``tmp_path`` with the ``cpus`` settings."""
    from acd.app import App

    settings = Settings(
        database=DatabaseSettings(
            url=f"sqlite+aiosqlite:///{tmp_path / 'acd.sqlite3'}",
            spool_directory=tmp_path / "spool",
        ),
        routing=RoutingSettings(
            presence_file=tmp_path / "presence.json", journal_file=tmp_path / "calls.jsonl"
        ),
        cpus=cpus,
    )
    return App(settings)


@linux_only
@two_cpus
async def test_the_daemon_runs_on_its_cpus_and_tells_the_writer_its_own(
    tmp_path: Path, own_affinity: frozenset[int], caplog: pytest.LogCaptureFixture
) -> None:
    from acd.config import CpusSettings

    app = _app(tmp_path, CpusSettings(daemon=ALLOWED[:1], writer=ALLOWED[1:]))
    try:
        assert app.writer.cpus == tuple(ALLOWED[1:])
        with caplog.at_level(logging.INFO, logger="acd.app"):
            app._pin_daemon()
        assert os.sched_getaffinity(0) == {ALLOWED[0]}
        others = cpu_placement.format_cpus(ALLOWED[1:])
        assert f"daemon running on CPUs {ALLOWED[0]}; call writer process on CPUs {others}" in (
            caplog.text
        )
        app._unpin_daemon()
        assert os.sched_getaffinity(0) == own_affinity
    finally:
        app.journal.close()
        await app.db_engine.dispose()
        await app.callbacks_engine.dispose()


@linux_only
async def test_a_daemon_pinned_alone_leaves_the_writer_its_former_cpus(
    tmp_path: Path, own_affinity: frozenset[int]
) -> None:
    """Spawned by a pinned daemon, the writer process would inherit its one CPU."""
    from acd.config import CpusSettings

    app = _app(tmp_path, CpusSettings(daemon=ALLOWED[:1]))
    try:
        assert app.writer.cpus is None
        app._pin_daemon()
        assert app.writer.cpus == tuple(sorted(own_affinity))
        app._unpin_daemon()
    finally:
        app.journal.close()
        await app.db_engine.dispose()
        await app.callbacks_engine.dispose()


# --------------------------------------------------------------------------- the bench


def test_the_bench_takes_split_or_shared() -> None:
    with pytest.raises(ValueError, match="--cpus must be split or shared, got 'both'"):
        persist.run(cpus="both", calls=10)
    result = run_acd("bench", "persist", "--cpus", "both")
    assert result.returncode == 2
    assert result.stderr == (
        "acd bench persist: error: argument --cpus: expected split or shared, got 'both'\n"
    )


def test_local_databases_are_recognised() -> None:
    assert persist.is_local("postgresql://u:p@127.0.0.1:5432/db")
    assert persist.is_local("postgresql://u@localhost/db")
    assert persist.is_local("postgresql://u@[::1]/db")
    assert persist.is_local("postgresql://u@/db?host=/var/run/postgresql")
    assert not persist.is_local("postgresql://u@db.example.org/db")
    assert not persist.is_local("postgresql://u@/db?host=10.0.0.5")


async def test_split_with_one_cpu_runs_shared_and_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cpu_placement, "allowed_cpus", lambda: frozenset({3}))
    async with persist.placed("split", 12345) as placement:
        assert placement.writer_pin is None
        assert placement.as_json() == {
            "mode": "shared",
            "requested": "split",
            "daemon_cpus": [3],
            "writer_cpus": [3],
            "postgresql_cpus": "not pinned: ran shared",
            "note": "split needs two CPUs, this process may run on CPU 3 only: ran shared",
        }


@pytest.fixture(scope="module")
def postmaster() -> int:
    """The local PostgreSQL server's postmaster (skips when there is none to see)."""
    import asyncpg

    async def find() -> int | None:
        connection = await asyncpg.connect(persist.admin_dsn(), timeout=5)
        try:  # (while the backend runs: its parent is read from /proc)
            parent = cpu_placement.parent(int(await connection.fetchval("SELECT pg_backend_pid()")))
        finally:
            await connection.close()
        return parent if parent and cpu_placement.command_name(parent) == "postgres" else None

    try:
        pid = asyncio.run(find())
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI and unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    if pid is None:
        pytest.skip("the PostgreSQL server does not run on this host")
    return pid


def server_affinities(postmaster: int) -> dict[int, set[int]]:
    found: dict[int, set[int]] = {}
    for pid in (postmaster, *cpu_placement.children(postmaster)):
        try:
            found[pid] = os.sched_getaffinity(pid)
        except ProcessLookupError:
            continue
    return found


@linux_only
@two_cpus
def test_a_split_run_pins_everything_and_puts_postgresql_back(
    postmaster: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = server_affinities(postmaster)
    own = os.sched_getaffinity(0)
    seen: dict[str, Any] = {}
    measure = persist._measure

    async def spy(urls: list[str], options: dict[str, Any], placement: Any) -> dict[str, Any]:
        seen["own"] = os.sched_getaffinity(0)
        result = await measure(urls, options, placement)
        seen["server"] = server_affinities(postmaster)  # backends started meanwhile too
        return result

    monkeypatch.setattr(persist, "_measure", spy)
    result = persist.run(calls=200, rate=1000.0, cpus="split")

    others = ALLOWED[1:]
    assert result["cpu_placement"] == {
        "mode": "split",
        "requested": "split",
        "daemon_cpus": ALLOWED[:1],
        "writer_cpus": others,
        "postgresql_cpus": others,
    }
    assert seen["own"] == set(ALLOWED[:1])
    assert seen["server"] and all(cpus == set(others) for cpus in seen["server"].values())
    without, process = result["routing_without_writer"], result["routing_with_writer"]
    assert result["routing_p99_added_ms"] == round(process["p99_ms"] - without["p99_ms"], 3)
    assert result["records_per_s"] > 0 and result["spooled"] == 0

    assert os.sched_getaffinity(0) == own
    after = server_affinities(postmaster)
    assert {pid: after[pid] for pid in before if pid in after} == {
        pid: cpus for pid, cpus in before.items() if pid in after
    }
    assert all(cpus == before[postmaster] for pid, cpus in after.items() if pid not in before)


@linux_only
def test_a_shared_run_pins_nothing(postmaster: int) -> None:
    before = server_affinities(postmaster)[postmaster]
    result = persist.run(calls=100, rate=1000.0, cpus="shared")
    assert result["cpu_placement"] == {
        "mode": "shared",
        "requested": "shared",
        "daemon_cpus": ALLOWED,
        "writer_cpus": ALLOWED,
        "postgresql_cpus": "not pinned: --cpus shared",
    }
    assert isinstance(result["routing_p99_added_ms"], float)
    assert os.sched_getaffinity(postmaster) == before
