"""The virtual-time simulation: deterministic, conserves callers, never double-books agents."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from acd.core.agents import AgentProfile, AgentState
from acd.core.calls import CallOutcome, SkillRequirement
from acd.core.commands import CallFinished, Command, ConnectCall, RingAgent, StopRinging
from acd.core.queues import QueueConfig, RelaxationStep
from acd.sim.virtual import (
    AgentSpec,
    CallType,
    SimConfig,
    Simulation,
    Snapshot,
    deterministic,
    lognormal,
)

T0 = 1_795_845_600.0  # 2026-11-23 09:00 Moscow


def centre(
    agents: int = 6,
    calls_per_hour: float = 80.0,
    seed: int = 7,
    patience: float = 120.0,
    **options: object,
) -> SimConfig:
    """Two queues, two languages, agents who miss offers and take breaks often."""
    specs = tuple(
        AgentSpec(
            AgentProfile(
                f"a{i}",
                f"Agent {i}",
                {"operator": 3 + i % 5, "tech_support": 2 + (i * 3) % 7},
                frozenset({"ru", "kk"} if i % 2 else {"ru"}),
            ),
            answer_delay_seconds=5.0,
            no_answer_probability=0.2,
            break_every_seconds=1800.0,
            break_seconds=300.0,
            logout_at=3 * 3600.0 if i == 0 else None,
            login_at=600.0 if i == 1 else 0.0,
        )
        for i in range(agents)
    )
    queues = (
        QueueConfig("general", wrap_up_seconds=10, ring_timeout_seconds=12, max_misses=2),
        QueueConfig(
            "support",
            wrap_up_seconds=20,
            ring_timeout_seconds=12,
            relaxation=(RelaxationStep(after_seconds=45, min_level=2),),
        ),
    )
    types = (
        CallType("g-ru", "general", (SkillRequirement("operator", 2),), "ru", 0.5, 0, 200.0),
        CallType("g-kk", "general", (SkillRequirement("operator", 2),), "kk", 0.2, 0, 200.0),
        CallType("s-ru", "support", (SkillRequirement("tech_support", 4),), "ru", 0.3, 1, 300.0),
    )
    types = tuple(
        CallType(t.name, t.queue_id, t.requirements, t.language, t.share, t.priority,
                 t.talk_seconds, patience)
        for t in types
    )  # fmt: skip
    return SimConfig(
        queues=queues,
        agents=specs,
        call_types=types,
        calls_per_hour=calls_per_hour,
        seed=seed,
        start=T0,
        **options,  # type: ignore[arg-type]
    )


class Ledger:
    """Follows the router's commands: what each agent holds, at every step."""

    def __init__(self) -> None:
        self.holding: dict[str, set[str]] = {}
        self.max_held = 0
        self.connected: set[str] = set()
        self.finished: dict[str, CallOutcome] = {}

    def __call__(self, sim: Simulation, command: Command) -> None:
        if isinstance(command, RingAgent):
            held = self.holding.setdefault(command.agent_id, set())
            held.add(command.call_id)
            self.max_held = max(self.max_held, len(held))
        elif isinstance(command, StopRinging):
            self.holding[command.agent_id].discard(command.call_id)
        elif isinstance(command, ConnectCall):
            assert command.call_id in self.holding[command.agent_id]
            self.connected.add(command.call_id)
        elif isinstance(command, CallFinished):
            assert command.call_id not in self.finished
            self.finished[command.call_id] = command.outcome
            if command.agent_id is not None:
                self.holding[command.agent_id].discard(command.call_id)


def test_same_seed_same_run_other_seed_other_run() -> None:
    a = Simulation(centre(seed=3)).run(until=4 * 3600)
    b = Simulation(centre(seed=3)).run(until=4 * 3600)
    c = Simulation(centre(seed=4)).run(until=4 * 3600)
    assert a == b
    assert a.to_dict() != c.to_dict()


def test_snapshots_are_deterministic_and_step_in_time() -> None:
    first = list(Simulation(centre(seed=5)).steps(until=3600, every=600))
    second = list(Simulation(centre(seed=5)).steps(until=3600, every=600))
    assert first == second
    assert [s.elapsed for s in first] == [600, 1200, 1800, 2400, 3000, 3600]
    assert all(isinstance(s, Snapshot) for s in first)
    assert all(sum(s.agents.values()) == 6 for s in first)


def test_deterministic_whatever_the_hash_seed() -> None:
    tests = os.path.dirname(__file__)
    code = (
        f"import json, sys; sys.path.insert(0, {tests!r}); from test_sim_virtual import centre;"
        "from acd.sim.virtual import Simulation;"
        "print(json.dumps(Simulation(centre(seed=2, explain=True)).run(until=7200).to_dict()))"
    )
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_conservation_and_no_double_booking(seed: int) -> None:
    sim = Simulation(centre(seed=seed, calls_per_hour=120.0))
    ledger = Ledger()
    sim.listeners.append(ledger)
    for snap in sim.steps(until=5 * 3600, every=900):
        assert snap.offered == snap.answered + snap.abandoned + snap.waiting + snap.ringing
        if snap.service_level is not None:
            assert 0.0 <= snap.service_level <= 1.0
    s = sim.summary()
    assert s.offered > 300
    assert s.offered == s.answered + s.abandoned + s.in_queue
    assert s.answered == s.completed + s.talking
    assert s.in_queue + s.talking == sim.calls_in_system
    assert ledger.max_held == 1
    assert len(ledger.connected) == s.answered
    assert sum(o is CallOutcome.ABANDONED for o in ledger.finished.values()) == s.abandoned
    assert s.ring_no_answer > 0  # agents do miss offers in this centre
    assert s.mean_agents_by_state["break"] > 0
    assert sum(a.calls for a in s.agents) == s.answered
    assert math.isclose(sum(a.talk_seconds for a in s.agents), s.mean_talk_seconds * s.completed)
    for value in (s.service_level, s.service_level_offered, s.abandon_rate, s.occupancy):
        assert value is not None and 0.0 <= value <= 1.0
    assert s.max_wait_seconds >= (s.asa_seconds or 0.0)
    # a0 logs out after 3 h (after finishing any call), a1 logs in 10 minutes late
    assert sim.router.agent("a0").state is AgentState.LOGGED_OUT
    by_id = {a.agent_id: a for a in s.agents}
    assert by_id["a0"].state_seconds["logged_out"] > 3600
    assert by_id["a1"].state_seconds["logged_out"] == 600
    # time in states adds up to the run, for every agent
    for agent in s.agents:
        assert math.isclose(sum(agent.state_seconds.values()), s.elapsed)


def test_drain_leaves_nobody_behind() -> None:
    sim = Simulation(centre(seed=11, calls_per_hour=150.0))
    s = sim.run(until=2 * 3600, drain=True)
    assert s.in_queue == 0 and s.talking == 0
    assert s.offered == s.answered + s.abandoned
    assert s.answered == s.completed
    assert s.elapsed >= 2 * 3600


def test_zero_agents_everybody_abandons() -> None:
    sim = Simulation(centre(agents=0, calls_per_hour=60.0))
    s = sim.run(until=3600, drain=True)
    assert s.offered > 20
    assert s.abandoned == s.offered
    assert s.answered == 0
    assert s.service_level is None
    assert s.service_level_offered == 0.0
    assert s.agents == ()


def test_configurable_distributions_and_max_arrivals() -> None:
    cfg = centre(
        seed=9,
        calls_per_hour=100.0,
        talk_distribution=lognormal(0.5),
        answer_distribution=deterministic,
        max_arrivals=50,
    )
    s = Simulation(cfg).run(until=10 * 3600)
    assert s.offered == 50
    assert s.offered == s.answered + s.abandoned + s.in_queue


def test_never_patient_callers_with_nobody_to_answer_do_not_hang_the_drain() -> None:
    s = Simulation(centre(agents=0, calls_per_hour=30.0, patience=math.inf)).run(
        until=600, drain=True
    )
    assert s.abandoned == 0
    assert s.in_queue == s.offered
