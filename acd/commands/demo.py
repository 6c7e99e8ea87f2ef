"""``acd demo``: a simulated call centre with synthetic callers and agents.

By default the real daemon runs against the simulated PBX over TCP in compressed real time
(:mod:`acd.demo_live`); ``--virtual`` runs the routing core alone in virtual time, a whole
day in a moment (:mod:`acd.sim.virtual`).

A small Russian/Kazakh call centre: agents speak ru (some also kk) and have the skills
``operator``, ``tech_support`` and ``account_manager`` at levels 1-10; callers ring three
queues in either language. :mod:`acd.sim.virtual` drives the real router; this module only
builds the call centre and prints what happens.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from acd.core.agents import AgentProfile
from acd.core.calls import SkillRequirement
from acd.core.erlang import InvalidPlanInput, agents_needed, erlang_a
from acd.core.queues import QueueConfig, RelaxationStep
from acd.sim.virtual import AgentSpec, CallType, SimConfig, Simulation, Snapshot, Summary, spread

TIME_ZONE = "Europe/Moscow"
# Monday 2026-11-23, 09:00 Moscow time: the doors open.
START = 1_795_845_600.0
WRAP_UP_SECONDS = 15.0
SERVICE_LEVEL_SECONDS = 20.0
SL_TARGET = 0.8

# (name, languages, skills): the eight agents of the requirements; more are made up from them.
ROSTER: tuple[tuple[str, tuple[str, ...], dict[str, int]], ...] = (
    ("Айгерим Нурланова", ("ru", "kk"), {"operator": 9, "account_manager": 6}),
    ("Дмитрий Иванов", ("ru",), {"operator": 7, "tech_support": 9}),
    ("Ержан Сапаров", ("ru", "kk"), {"operator": 6, "tech_support": 7}),
    ("Елена Козлова", ("ru",), {"operator": 8, "account_manager": 9}),
    ("Асель Бекова", ("ru", "kk"), {"operator": 8, "tech_support": 5}),
    ("Сергей Петров", ("ru",), {"operator": 5, "tech_support": 8}),
    ("Мария Волкова", ("ru",), {"operator": 9}),
    ("Нурлан Ахметов", ("ru", "kk"), {"operator": 5, "account_manager": 7, "tech_support": 4}),
)
_EXTRA_NAMES = (
    "Ольга Соколова",
    "Даурен Жумабаев",
    "Алексей Морозов",
    "Динара Касымова",
    "Ирина Лебедева",
    "Арман Оспанов",
    "Павел Новиков",
    "Гульнара Абдиева",
)

# (call type, queue, requirement, language, share of calls, talk time relative to the mean)
_MIX: tuple[tuple[str, str, SkillRequirement, str, float, float], ...] = (
    ("general/ru", "general", SkillRequirement("operator", 1), "ru", 0.42, 0.85),
    ("general/kk", "general", SkillRequirement("operator", 1), "kk", 0.18, 0.85),
    ("support/ru", "support", SkillRequirement("tech_support", 5), "ru", 0.20, 1.30),
    ("support/kk", "support", SkillRequirement("tech_support", 5), "kk", 0.08, 1.30),
    ("accounts/ru", "accounts", SkillRequirement("account_manager", 5), "ru", 0.09, 1.10),
    ("accounts/kk", "accounts", SkillRequirement("account_manager", 5), "kk", 0.03, 1.10),
)

#: Defaults of the options that differ between the live demo and the virtual one.
LIVE_DEFAULTS: dict[str, float] = {
    "calls_per_hour": 60.0,
    "hours": 1.0,
    "every": 10.0,
    "speed": 120.0,
}
VIRTUAL_DEFAULTS: dict[str, float] = {"calls_per_hour": 400.0, "hours": 8.0, "every": 30.0}


def resolve_defaults(args: argparse.Namespace) -> argparse.Namespace:
    """Fill the options left unset with the defaults of the chosen mode."""
    defaults = VIRTUAL_DEFAULTS if args.virtual else LIVE_DEFAULTS
    for name, value in defaults.items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)
    return args


# (agent state, column label), in the status line's order.
STATE_COLUMNS = (
    ("on_call", "talk"),
    ("ringing", "ring"),
    ("wrap_up", "wrap"),
    ("available", "free"),
    ("break", "break"),
    ("logged_out", "off"),
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` sub-command."""
    parser = subparsers.add_parser(
        "demo",
        help="run a simulated call centre: the daemon, a simulated PBX, callers and agents",
        description=(
            "Run the daemon against the simulated PBX (AMI and FastAGI over TCP, the shipped "
            "dialplan) with synthetic callers (Poisson arrivals, exponential talk times and "
            "patience) and agents in a Russian/Kazakh call centre, in compressed real time. "
            "With --virtual, run the routing core alone in virtual time. Prints a status line "
            "every few simulated minutes and a summary at the end."
        ),
    )
    parser.add_argument(
        "--virtual",
        action="store_true",
        help="routing core only, in virtual time (no PBX, no sockets): a day in a moment",
    )
    parser.add_argument("--agents", type=int, default=8, help="number of agents (default 8)")
    parser.add_argument(
        "--calls-per-hour",
        type=float,
        default=None,
        help=f"offered calls per hour (default {LIVE_DEFAULTS['calls_per_hour']:g}; "
        f"--virtual: {VIRTUAL_DEFAULTS['calls_per_hour']:g})",
    )
    parser.add_argument(
        "--aht",
        type=float,
        default=300.0,
        help=f"average handling time = talk + {WRAP_UP_SECONDS:g} s wrap-up, seconds (default 300)",
    )
    parser.add_argument(
        "--patience", type=float, default=180.0, help="mean caller patience, seconds (default 180)"
    )
    parser.add_argument(
        "--hours",
        type=float,
        default=None,
        help=f"opening hours to simulate (default {LIVE_DEFAULTS['hours']:g}; "
        f"--virtual: {VIRTUAL_DEFAULTS['hours']:g})",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--every",
        type=float,
        default=None,
        metavar="MINUTES",
        help=f"simulated minutes between status lines (default {LIVE_DEFAULTS['every']:g}; "
        f"--virtual: {VIRTUAL_DEFAULTS['every']:g})",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=None,
        metavar="N",
        help=f"run at N times real time (default {LIVE_DEFAULTS['speed']:g}: an hour in "
        f"{3600 / LIVE_DEFAULTS['speed']:g} s; --virtual: as fast as possible)",
    )
    parser.add_argument(
        "--http-port",
        type=int,
        default=8080,
        help="live demo: port of the pages and the API (default 8080; taken: any free port)",
    )
    parser.add_argument(
        "--json", action="store_true", help="end with one JSON summary object on the last line"
    )
    parser.set_defaults(func=run)


# --------------------------------------------------------------------------- the call centre


def build_config(
    agents: int = 8,
    calls_per_hour: float = 400.0,
    aht: float = 300.0,
    patience: float = 180.0,
    seed: int = 1,
) -> SimConfig:
    """The demo call centre as a :class:`SimConfig`."""
    if agents < 0:
        raise ValueError(f"--agents must be 0 or more, got {agents}")
    if not (math.isfinite(calls_per_hour) and calls_per_hour >= 0):
        raise ValueError(f"--calls-per-hour must be 0 or more, got {calls_per_hour:g}")
    if not (math.isfinite(aht) and aht > WRAP_UP_SECONDS):
        raise ValueError(f"--aht must be more than the {WRAP_UP_SECONDS:g} s wrap-up, got {aht:g}")
    if not (patience > 0):
        raise ValueError(f"--patience must be more than 0, got {patience:g}")
    queues = (
        QueueConfig(
            "general",
            wrap_up_seconds=WRAP_UP_SECONDS,
            service_level_seconds=SERVICE_LEVEL_SECONDS,
            prior_handle_seconds=aht,
            prior_patience_seconds=patience,
        ),
        QueueConfig(
            "support",
            wrap_up_seconds=WRAP_UP_SECONDS,
            service_level_seconds=SERVICE_LEVEL_SECONDS,
            relaxation=(
                RelaxationStep(after_seconds=60, min_level=3),
                RelaxationStep(after_seconds=120, min_level=8, skill="operator"),
            ),
            prior_handle_seconds=aht,
            prior_patience_seconds=patience,
        ),
        QueueConfig(
            "accounts",
            wrap_up_seconds=WRAP_UP_SECONDS,
            service_level_seconds=SERVICE_LEVEL_SECONDS,
            weight=1,
            relaxation=(RelaxationStep(after_seconds=90, min_level=8, skill="operator"),),
            prior_handle_seconds=aht,
            prior_patience_seconds=patience,
        ),
    )
    talk = aht - WRAP_UP_SECONDS
    scale = talk / sum(share * rel for *_, share, rel in _MIX)  # the mix averages to ``talk``
    call_types = tuple(
        CallType(
            name,
            queue,
            (req,),
            language,
            share=share,
            talk_seconds=rel * scale,
            patience_seconds=patience,
        )
        for name, queue, req, language, share, rel in _MIX
    )
    specs = tuple(
        AgentSpec(
            _profile(i),
            answer_delay_seconds=4.0,
            no_answer_probability=0.03,
            break_every_seconds=100 * 60.0,
            break_seconds=10 * 60.0,
        )
        for i in range(agents)
    )
    return SimConfig(
        queues=queues,
        agents=specs,
        call_types=call_types,
        calls_per_hour=calls_per_hour,
        seed=seed,
        start=START,
        time_zone=TIME_ZONE,
        explain=True,
    )


def _profile(i: int) -> AgentProfile:
    name, languages, skills = ROSTER[i % len(ROSTER)]
    if i >= len(ROSTER):
        extra = i - len(ROSTER)
        name = _EXTRA_NAMES[extra % len(_EXTRA_NAMES)]
        if extra >= len(_EXTRA_NAMES):
            name = f"{name} {extra // len(_EXTRA_NAMES) + 1}"
    return AgentProfile(str(1001 + i), name, dict(skills), frozenset(languages))


# --------------------------------------------------------------------------- formatting


def _clock(at: float) -> str:
    return datetime.fromtimestamp(at, ZoneInfo(TIME_ZONE)).strftime("%H:%M")


def _mmss(seconds: float | None) -> str:
    """``95.3`` -> ``1:35``; hours as ``1:02:03``."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _pct(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value * 100:.{digits}f}%"


def status_header() -> list[str]:
    """Two header lines over :func:`status_line`'s columns."""
    states = " ".join(f"{label:>5}" for _, label in STATE_COLUMNS)
    width = len(states)
    return [
        f"{'':5}  {'queue':<14}  {'agents':<{width}}  so far",
        f"{'time':<5}  {'wait':>5} {'longest':>8}  {states}  "
        f"{'SL':>5} {'ASA':>6} {'offered':>8} {'answered':>9} {'abandoned':>10}",
    ]


def status_line(snap: Snapshot) -> str:
    """One line: callers waiting, agents by state, service level and ASA so far."""
    states = " ".join(f"{snap.agents.get(state, 0):>5}" for state, _ in STATE_COLUMNS)
    line = (
        f"{_clock(snap.at):<5}  {snap.waiting + snap.ringing:>5} "
        f"{_mmss(snap.longest_wait_seconds):>8}  {states}  "
        f"{_pct(snap.service_level, 0):>5} {_mmss(snap.asa_seconds):>6} {snap.offered:>8} "
        f"{snap.answered:>9} {snap.abandoned:>10}"
    )
    if not snap.arrivals_open:
        line += "  closed"
    return line


def _load_lines(args: argparse.Namespace) -> list[str]:
    """What Erlang A says about this load, as a yardstick for the simulation."""
    load = args.calls_per_hour * args.aht / 3600.0
    first = f"offered load {load:.1f} Erlang on {args.agents} agents"
    lines = [first]
    try:
        if args.calls_per_hour > 0:
            need = agents_needed(
                args.calls_per_hour, args.aht, SL_TARGET, SERVICE_LEVEL_SECONDS, args.patience
            )
            lines[0] += (
                f"; {SL_TARGET:.0%} answered within {SERVICE_LEVEL_SECONDS:g} s needs about "
                f"{need.agents} (acd plan)"
            )
        if args.agents >= 1 and args.calls_per_hour > 0:
            model = erlang_a(
                args.calls_per_hour, args.aht, args.agents, SERVICE_LEVEL_SECONDS, args.patience
            )
            lines.append(
                f"Erlang A for {args.agents} agents (one pooled queue, no breaks): service level "
                f"{_pct(model.service_level)} of offered, {_pct(model.abandonment_probability)} "
                "abandoned"
            )
    except InvalidPlanInput:
        pass
    return lines


def _languages(profile: AgentProfile) -> str:
    return " ".join(lang for lang in ("ru", "kk") if lang in profile.languages)


def _skills(profile: AgentProfile) -> str:
    return ", ".join(f"{skill} {level}" for skill, level in profile.skills.items())


def summary_lines(summary: Summary, config: SimConfig, hours: float) -> list[str]:
    finished = summary.answered + summary.abandoned
    opened = _clock(config.start)
    closed = _clock(config.start + hours * 3600.0)
    over = summary.elapsed - hours * 3600.0
    lines = [
        "",
        f"Summary: {opened}-{closed}"
        + (f", last caller gone {_clock(config.start + summary.elapsed)}" if over > 0 else ""),
        f"  offered        {summary.offered:>6}",
        f"  answered       {summary.answered:>6}   {_pct(_share(summary.answered, finished))}",
        f"  abandoned      {summary.abandoned:>6}   {_pct(_share(summary.abandoned, finished))}"
        + (
            f"  (after {_mmss(summary.mean_abandon_wait_seconds)} on average)"
            if summary.abandoned
            else ""
        ),
    ]
    if summary.in_queue or summary.talking:
        lines.append(
            f"  still in queue {summary.in_queue:>6}   and {summary.talking} talking at the end"
        )
    lines += [
        f"  service level  {_pct(summary.service_level):>6} of answered calls within "
        f"{SERVICE_LEVEL_SECONDS:g} s, {_pct(summary.service_level_offered)} of all offered",
        f"  ASA            {_mmss(summary.asa_seconds):>6}   (average wait of answered calls)",
        f"  max wait       {_mmss(summary.max_wait_seconds):>6}",
        f"  average talk   {_mmss(summary.mean_talk_seconds):>6}",
        f"  occupancy      {_pct(summary.occupancy):>6}   "
        f"({summary.ring_no_answer} offers rang out and went to the next agent)",
    ]
    if not summary.agents:
        return lines
    lines += ["", "Talk time per agent (the router prefers whoever talked least today)"]
    profiles = {spec.profile.agent_id: spec.profile for spec in config.agents}
    longest = max(a.talk_seconds for a in summary.agents) or 1.0
    name_width = max(len(a.name) for a in summary.agents)
    skill_width = max(len(_skills(profiles[a.agent_id])) for a in summary.agents)
    for agent in summary.agents:
        profile = profiles[agent.agent_id]
        bar = "█" * round(20 * agent.talk_seconds / longest)
        lines.append(
            f"  {agent.agent_id}  {agent.name:<{name_width}}  {_languages(profile):<5}  "
            f"{_skills(profile):<{skill_width}}  {_mmss(agent.talk_seconds):>7}  "
            f"{agent.calls:>4} calls  {bar}"
        )
    s = spread(a.talk_seconds for a in summary.agents)
    ratio = s["max_over_min"]
    lines.append(
        f"  spread: min {_mmss(s['min'])}, max {_mmss(s['max'])}, "
        f"max/min {'-' if ratio is None else f'{ratio:.2f}'}, "
        f"coefficient of variation {_pct(s['cv'])}"
    )
    return lines


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def summary_json(summary: Summary, args: argparse.Namespace) -> dict[str, Any]:
    out = summary.to_dict()
    out["talk_spread"] = spread(a.talk_seconds for a in summary.agents)
    out["service_level_seconds"] = SERVICE_LEVEL_SECONDS
    out["parameters"] = {
        "agents": args.agents,
        "calls_per_hour": args.calls_per_hour,
        "aht_seconds": args.aht,
        "patience_seconds": args.patience,
        "hours": args.hours,
        "seed": args.seed,
        "wrap_up_seconds": WRAP_UP_SECONDS,
    }
    return out


# --------------------------------------------------------------------------- the command


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    resolve_defaults(args)
    try:
        config = build_config(args.agents, args.calls_per_hour, args.aht, args.patience, args.seed)
        if not (math.isfinite(args.hours) and args.hours > 0):
            raise ValueError(f"--hours must be more than 0, got {args.hours:g}")
        if not (math.isfinite(args.every) and args.every > 0):
            raise ValueError(f"--every must be more than 0 minutes, got {args.every:g}")
        if args.speed is not None and not (math.isfinite(args.speed) and args.speed > 0):
            raise ValueError(f"--speed must be more than 0, got {args.speed:g}")
    except ValueError as exc:
        print(f"acd demo: {exc}", file=sys.stderr)
        return 2

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    kazakh = sum(1 for spec in config.agents if "kk" in spec.profile.languages)
    if not args.virtual:
        return _run_live(args, config, say, out)
    say("acd demo: a Russian/Kazakh call centre in virtual time, routed by the real core")
    say(
        f"  {args.agents} agents ({kazakh} also speak Kazakh), {args.calls_per_hour:g} calls/h, "
        f"AHT {args.aht:g} s (talk + {WRAP_UP_SECONDS:g} s wrap-up), "
        f"patience {args.patience:g} s"
    )
    say(f"  open {args.hours:g} h from {_clock(START)} ({TIME_ZONE}), seed {args.seed}")
    for line in _load_lines(args):
        say(f"  {line}")
    say()
    for line in status_header():
        say(line)
    sim = Simulation(config)
    wall_start = time.monotonic()
    try:
        for snap in sim.steps(until=args.hours * 3600.0, every=args.every * 60.0, drain=True):
            if args.speed is not None:
                lag = snap.elapsed / args.speed - (time.monotonic() - wall_start)
                if lag > 0:
                    time.sleep(lag)
            say(status_line(snap))
        summary = sim.summary()
        for line in summary_lines(summary, config, args.hours):
            say(line)
        if args.json:
            say(json.dumps(summary_json(summary, args), ensure_ascii=False))
    except BrokenPipeError:  # ``acd demo | head``: stop quietly
        if out is sys.stdout:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0


def _run_live(
    args: argparse.Namespace, config: SimConfig, say: Callable[..., None], out: TextIO
) -> int:
    """The daemon and the simulated PBX over TCP, in compressed real time."""
    import asyncio
    import logging

    from acd.demo_live import LiveDemo, LiveOptions

    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    kazakh = sum(1 for spec in config.agents if "kk" in spec.profile.languages)
    say("acd demo: the acd daemon and a simulated Asterisk (AMI + FastAGI over TCP)")
    say(
        f"  {args.agents} agents ({kazakh} also speak Kazakh), {args.calls_per_hour:g} calls/h, "
        f"AHT {args.aht:g} s (talk + {WRAP_UP_SECONDS:g} s wrap-up), "
        f"patience {args.patience:g} s"
    )
    say(
        f"  open {args.hours:g} h from {_clock(START)} ({TIME_ZONE}), seed {args.seed}, "
        f"{args.speed:g}x real time: about {args.hours * 3600 / args.speed:.0f} s"
    )
    for line in _load_lines(args):
        say(f"  {line}")
    options = LiveOptions(
        hours=args.hours,
        speed=args.speed,
        every_minutes=args.every,
        seed=args.seed,
        http_port=args.http_port,
    )
    demo = LiveDemo(config, options)

    def started(port: int) -> None:
        say(
            f"  pages: http://127.0.0.1:{port}/ui/login — users admin, supervisor, qa, and "
            f"agents 1001-{1000 + args.agents}; password demo"
        )
        say()
        for line in status_header():
            say(line)

    demo.on_started = started
    try:
        summary = asyncio.run(demo.run(lambda snap: say(status_line(snap))))
        for line in summary_lines(summary, config, args.hours):
            say(line)
        if args.json:
            say(json.dumps(summary_json(summary, args), ensure_ascii=False))
    except BrokenPipeError:
        if out is sys.stdout:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0
