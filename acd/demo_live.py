"""The live demo: the real daemon, the simulated PBX over TCP, synthetic callers and agents.

Everything between the caller's phone and the agent's is the production path: the
simulated PBX runs the shipped ``asterisk_conf/extensions.conf``, hands each call to the
daemon over FastAGI, parks it in music on hold, and the daemon rings agents with AMI
``Originate``, connects and records them. Only the people are synthetic: callers arrive as
a Poisson process, hang up when their patience runs out, talk for an exponential time; agents'
phones answer after a short delay.

Time is compressed by ``speed``: every duration (talk, patience, wrap-up, ring timeout,
announcement interval, answer delay) is divided by it and the arrival rate multiplied, so
an hour of business passes in ``3600 / speed`` seconds. Everything reported is converted
back to business time.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from acd.app import App
from acd.call_events import CallEvent
from acd.config import AmiSettings, DatabaseSettings, ScenarioSettings, Settings
from acd.routing_config import AgentSettings, QueueSettings, RelaxationSettings, RoutingSettings
from acd.sim.pbx import SimulatedPBX
from acd.sim.virtual import AgentSummary, CallType, SimConfig, Snapshot, Summary


@dataclass
class _CallRecord:
    queued_at: float | None = None
    connected_at: float | None = None
    agent_id: str | None = None
    outcome: str | None = None
    ended_at: float | None = None
    talk_seconds: float = 0.0


@dataclass
class LiveStats:
    """A call-event sink that keeps the figures of the status line and the summary.

    Times are real (monotonic-free epoch) seconds as the daemon stamps them; ``speed``
    converts them to business seconds.
    """

    speed: float
    service_level_seconds: float  # business seconds
    calls: dict[str, _CallRecord] = field(default_factory=dict)
    missed: Counter[str] = field(default_factory=Counter)

    def emit(self, event: CallEvent) -> None:
        record = self.calls.setdefault(event.call_id, _CallRecord())
        if event.kind == "queued" and record.queued_at is None:
            record.queued_at = event.at
        elif event.kind == "connected":
            record.connected_at = event.at
            record.agent_id = event.data.get("agent_id")
        elif event.kind == "requeued" and event.data.get("reason") == "no_answer":
            self.missed[str(event.data.get("agent_id"))] += 1
        elif event.kind == "finished":
            record.outcome = str(event.data.get("outcome"))
            record.ended_at = event.at
            record.talk_seconds = float(event.data.get("talk_seconds") or 0.0) * self.speed

    def wait_of(self, record: _CallRecord, now: float) -> float:
        if record.queued_at is None:
            return 0.0
        end = next((t for t in (record.connected_at, record.ended_at) if t is not None), now)
        return max(0.0, end - record.queued_at) * self.speed

    def answered(self) -> list[_CallRecord]:
        return [r for r in self.calls.values() if r.connected_at is not None]

    def abandoned(self) -> list[_CallRecord]:
        return [r for r in self.calls.values() if r.connected_at is None and r.outcome]

    def service_level(self, now: float) -> float | None:
        answered = self.answered()
        if not answered:
            return None
        within = sum(self.wait_of(r, now) <= self.service_level_seconds for r in answered)
        return within / len(answered)

    def asa(self, now: float) -> float | None:
        answered = self.answered()
        return sum(self.wait_of(r, now) for r in answered) / len(answered) if answered else None


@dataclass(frozen=True)
class LiveOptions:
    http_port: int = 8080  # the pages and the API (0: any free port)
    hours: float = 1.0
    speed: float = 120.0
    every_minutes: float = 10.0
    seed: int = 1
    answer_delay_seconds: float = 4.0  # business seconds for an agent to pick up
    drain_limit_seconds: float = 3600.0  # business seconds to let the last callers finish


def routing_for(config: SimConfig, speed: float) -> tuple[RoutingSettings, dict[str, str]]:
    """The demo call centre as the daemon's routing settings, durations divided by ``speed``;
    and the number each call type dials."""
    queues_by_id = {q.queue_id: q for q in config.queues}
    queues: list[QueueSettings] = []
    numbers: dict[str, str] = {}
    for index, call_type in enumerate(config.call_types):
        base = queues_by_id[call_type.queue_id]
        number = f"880055501{index:02d}"
        numbers[call_type.name] = number
        queues.append(
            QueueSettings(
                id=call_type.name.replace("/", "_"),
                skills={r.skill: r.min_level for r in call_type.requirements},
                language=call_type.language,
                priority=call_type.priority,
                numbers=[number],
                wrap_up_seconds=base.wrap_up_seconds / speed,
                ring_timeout_seconds=base.ring_timeout_seconds / speed,
                max_misses=base.max_misses,
                service_level_seconds=base.service_level_seconds / speed,
                weight=base.weight,
                announce_every_seconds=45.0 / speed,
                relaxation=[
                    RelaxationSettings(
                        after_seconds=step.after_seconds / speed,
                        min_level=step.min_level,
                        skill=step.skill,
                    )
                    for step in base.relaxation
                ],
            )
        )
    skills = sorted(
        {r.skill for t in config.call_types for r in t.requirements}
        | {s for spec in config.agents for s in spec.profile.skills}
    )
    agents = [
        AgentSettings(
            id=spec.profile.agent_id,
            name=spec.profile.name,
            phone=spec.profile.agent_id,
            skills=dict(spec.profile.skills),
            languages=sorted(spec.profile.languages),
            auto_login=True,
        )
        for spec in config.agents
    ]
    routing = RoutingSettings(
        skills=skills, queues=queues, agents=agents, default_queue=queues[0].id
    )
    return routing, numbers


class LiveDemo:
    def __init__(self, config: SimConfig, options: LiveOptions) -> None:
        self.config = config
        self.options = options
        self.speed = options.speed
        self.rng = random.Random(options.seed)
        self.stats = LiveStats(
            options.speed,
            min((q.service_level_seconds for q in config.queues), default=20.0),
        )
        self.started = 0.0
        self.arrivals_open = True
        self._callers: set[asyncio.Task[None]] = set()
        self.app: App | None = None
        self.on_started: Callable[[int], None] = lambda port: None  # the pages' port, once up
        self.pbx: SimulatedPBX | None = None

    # ------------------------------------------------------------------ running

    async def run(self, on_status: Callable[[Snapshot], None]) -> Summary:
        with tempfile.TemporaryDirectory(prefix="acd-demo-") as tmp:
            work = Path(tmp)
            pbx = SimulatedPBX(spool_dir=work / "spool")
            await pbx.start()
            self.pbx = pbx
            try:
                routing, numbers = routing_for(self.config, self.speed)
                routing = routing.model_copy(
                    update={
                        "presence_file": work / "presence.json",
                        "journal_file": work / "calls.jsonl",
                    }
                )
                for agent in routing.agents:
                    pbx.add_phone(
                        agent.phone,
                        name=agent.name,
                        answer_after=self.options.answer_delay_seconds / self.speed,
                    )
                app = App(self._settings(pbx, routing, work), sink=self.stats)
                await app.start()
                self.app = app
                await add_demo_users(app, [agent.id for agent in routing.agents])
                self.on_started(app.http_port or 0)
                pbx.point_agi_at("127.0.0.1", app.fastagi.port)
                await app.ami.wait_connected(timeout=10)
                try:
                    return await self._drive(numbers, on_status)
                finally:
                    for task in self._callers:
                        task.cancel()
                    await asyncio.gather(*self._callers, return_exceptions=True)
                    await app.stop()
            finally:
                await pbx.stop()

    def _settings(self, pbx: SimulatedPBX, routing: RoutingSettings, work: Path) -> Settings:
        settings = Settings(
            ami=AmiSettings(host=pbx.ami_host, port=pbx.ami_port, action_timeout=5.0),
            # Call records go to a throw-away SQLite database (migrated at start).
            database=DatabaseSettings(
                url=f"sqlite+aiosqlite:///{work / 'acd.sqlite3'}",
                spool_directory=work / "db-spool",
            ),
            routing=routing,
            # The demo's callers get the built-in greeting, not the repository's scenarios.
            scenarios=ScenarioSettings(directory=work / "scenarios", reload_interval=0),
        )
        fastagi = settings.fastagi.model_copy(update={"port": 0})  # any free port
        http = settings.http.model_copy(update={"port": _free_or_any(self.options.http_port)})
        return settings.model_copy(update={"fastagi": fastagi, "http": http})

    async def _drive(
        self, numbers: dict[str, str], on_status: Callable[[Snapshot], None]
    ) -> Summary:
        loop = asyncio.get_running_loop()
        self.started = time.time()
        open_for = self.options.hours * 3600.0 / self.speed
        every = self.options.every_minutes * 60.0 / self.speed
        rate = self.config.calls_per_hour * self.speed / 3600.0
        types = list(self.config.call_types)
        weights = [t.share for t in types]
        start = loop.time()
        next_call = start + (self.rng.expovariate(rate) if rate > 0 else open_for + 1)
        next_status = start + every
        serial = 0
        while True:
            now = loop.time()
            if self.arrivals_open and now - start >= open_for:
                self.arrivals_open = False
            drain_over = now - start >= open_for + self.options.drain_limit_seconds / self.speed
            if not self.arrivals_open and (not self._callers or drain_over):
                on_status(self.snapshot())
                return self.summary()
            if now >= next_status:
                on_status(self.snapshot())
                next_status += every
            if self.arrivals_open and now >= next_call:
                serial += 1
                call_type = self.rng.choices(types, weights)[0]
                task = loop.create_task(self._caller(serial, call_type, numbers[call_type.name]))
                self._callers.add(task)
                task.add_done_callback(self._callers.discard)
                next_call += self.rng.expovariate(rate)
                continue
            wake = min(next_status, next_call if self.arrivals_open else next_status)
            await asyncio.sleep(max(0.0, min(wake - now, 0.05)))

    async def _caller(self, serial: int, call_type: CallType, number: str) -> None:
        """One synthetic caller: dial, wait with patience, talk, hang up."""
        assert self.pbx is not None
        patience = self.rng.expovariate(1.0 / call_type.patience_seconds) / self.speed
        talk = self.rng.expovariate(1.0 / call_type.talk_seconds) / self.speed
        call = await self.pbx.place_call(f"+7701{serial:07d}", f"Caller {serial}", dnid=number)
        try:
            await call.wait_bridged(timeout=patience)
        except TimeoutError:
            if not call.is_hung_up:
                call.hangup()  # patience ran out: abandoned
            return
        with contextlib.suppress(TimeoutError):
            await call.wait_hangup(timeout=talk)  # the agent may hang up first
        if not call.is_hung_up:
            call.hangup()

    # ------------------------------------------------------------------ figures

    def _business_now(self) -> float:
        return self.config.start + (time.time() - self.started) * self.speed

    def snapshot(self) -> Snapshot:
        assert self.app is not None
        now = time.time()
        router = self.app.center.router
        states = Counter(agent.state.value for agent in router.agents.values())
        waiting = ringing = talking = 0
        longest = 0.0
        for call in router.calls.values():
            status = call.status.value
            if status == "waiting":
                waiting += 1
            elif status == "ringing":
                ringing += 1
            elif status == "connected":
                talking += 1
            if status in ("waiting", "ringing"):
                record = self.stats.calls.get(call.call_id)
                if record is not None:
                    longest = max(longest, self.stats.wait_of(record, now))
        return Snapshot(
            elapsed=(now - self.started) * self.speed,
            at=self._business_now(),
            waiting=waiting,
            ringing=ringing,
            talking=talking,
            longest_wait_seconds=longest,
            agents=dict(states),
            offered=sum(1 for r in self.stats.calls.values() if r.queued_at is not None),
            answered=len(self.stats.answered()),
            abandoned=len(self.stats.abandoned()),
            service_level=self.stats.service_level(now),
            asa_seconds=self.stats.asa(now),
            arrivals_open=self.arrivals_open,
        )

    def summary(self) -> Summary:
        assert self.app is not None
        now = time.time()
        stats = self.stats
        queued = [r for r in stats.calls.values() if r.queued_at is not None]
        answered = stats.answered()
        abandoned = stats.abandoned()
        within = sum(stats.wait_of(r, now) <= stats.service_level_seconds for r in answered)
        finished = len(answered) + len(abandoned)
        ended = [r for r in answered if r.outcome]
        router = self.app.center.router
        per_agent = Counter(r.agent_id for r in answered)
        talk = Counter[str]()
        for r in ended:
            talk[r.agent_id or ""] += r.talk_seconds
        agents = tuple(
            AgentSummary(
                agent_id=agent.agent_id,
                name=agent.profile.name,
                calls=per_agent.get(agent.agent_id, 0),
                talk_seconds=talk.get(agent.agent_id, 0.0),
                missed_offers=stats.missed.get(agent.agent_id, 0),
                state_seconds={},
            )
            for agent in router.agents.values()
        )
        waits = [stats.wait_of(r, now) for r in queued]
        return Summary(
            elapsed=(now - self.started) * self.speed,
            offered=len(queued),
            answered=len(answered),
            abandoned=len(abandoned),
            in_queue=sum(1 for r in queued if r.connected_at is None and not r.outcome),
            talking=sum(1 for r in answered if not r.outcome),
            completed=len(ended),
            answered_within_threshold=within,
            service_level=within / len(answered) if answered else None,
            service_level_offered=within / finished if finished else None,
            abandon_rate=len(abandoned) / finished if finished else None,
            asa_seconds=stats.asa(now),
            mean_abandon_wait_seconds=(
                sum(stats.wait_of(r, now) for r in abandoned) / len(abandoned)
                if abandoned
                else None
            ),
            max_wait_seconds=max(waits, default=0.0),
            mean_talk_seconds=sum(r.talk_seconds for r in ended) / len(ended) if ended else None,
            ring_no_answer=sum(stats.missed.values()),
            requeued=sum(stats.missed.values()),
            occupancy=None,
            mean_agents_by_state={},
            agents=agents,
        )


DEMO_PASSWORD = "demo"
DEMO_STAFF = (("admin", "admin"), ("supervisor", "supervisor"), ("qa", "qa"))


async def add_demo_users(app: App, agent_ids: list[str]) -> None:
    """Users to click through the demo's pages with: admin, supervisor, qa, and one per agent
    (user name = agent ID), all with the password ``demo``. The database is thrown away."""
    from acd.http.auth import hash_password
    from acd.storage.models import User

    password_hash = hash_password(DEMO_PASSWORD)
    async with app.db_sessions() as session, session.begin():
        for username, role in DEMO_STAFF:
            session.add(User(username=username, password_hash=password_hash, role=role))
        for agent_id in agent_ids:
            session.add(
                User(
                    username=agent_id, password_hash=password_hash, role="agent", agent_id=agent_id
                )
            )


def _free_or_any(port: int) -> int:
    """``port`` if nothing listens on it, else 0 (any free port)."""
    import socket

    if port == 0:
        return 0
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return 0
    return port
