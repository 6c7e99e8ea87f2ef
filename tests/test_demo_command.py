"""``acd demo``: runs as a real process, prints status lines, ends with a JSON summary."""

from __future__ import annotations

import argparse
import io
import json

from acd_cli import run_acd

from acd.commands import demo

SUMMARY_KEYS = {
    "offered",
    "answered",
    "abandoned",
    "in_queue",
    "service_level",
    "service_level_offered",
    "asa_seconds",
    "max_wait_seconds",
    "mean_talk_seconds",
    "agents",
    "talk_spread",
    "parameters",
}


def test_virtual_demo_json_last_line() -> None:
    done = run_acd("demo", "--virtual", "--hours", "1", "--json")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary.keys() >= SUMMARY_KEYS
    assert summary["offered"] == summary["answered"] + summary["abandoned"]  # drained
    assert len(summary["agents"]) == 8
    assert {a["name"] for a in summary["agents"]} >= {"Айгерим Нурланова", "Дмитрий Иванов"}
    assert 0.0 <= summary["service_level"] <= 1.0
    # a header, two status lines (30 min each) and the summary come before the JSON
    assert any(line.startswith("09:30") for line in lines)
    assert any(line.startswith("10:00") for line in lines)
    assert any("Summary" in line for line in lines)


def test_demo_bad_input_is_a_clear_error() -> None:
    done = run_acd("demo", "--virtual", "--aht", "10")
    assert done.returncode == 2
    assert "--aht" in done.stderr


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="acd")
    demo.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["demo", *argv])


def test_defaults_match_the_docs() -> None:
    args = demo.resolve_defaults(_parse("--virtual"))
    assert (args.agents, args.calls_per_hour, args.aht, args.patience, args.hours) == (
        8,
        400.0,
        300.0,
        180.0,
        8.0,
    )
    assert args.seed == 1 and args.speed is None and not args.json
    live = demo.resolve_defaults(_parse())
    assert (live.calls_per_hour, live.hours, live.every, live.speed) == (60.0, 1.0, 10.0, 120.0)
    assert live.agents == 8 and not live.virtual


def test_live_demo_through_the_simulated_pbx() -> None:
    """The README's main command, shortened: daemon + simulated PBX over TCP."""
    done = run_acd("demo", "--hours", "0.25", "--speed", "600", "--every", "5", "--json")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert "simulated Asterisk" in lines[0]
    summary = json.loads(lines[-1])
    assert summary.keys() >= SUMMARY_KEYS
    assert summary["offered"] > 0
    assert summary["offered"] == summary["answered"] + summary["abandoned"]  # nobody lost
    assert summary["in_queue"] == 0
    assert sum(a["calls"] for a in summary["agents"]) == summary["answered"]
    assert any(line.startswith("09:05") for line in lines)


def test_same_seed_same_output_and_human_summary() -> None:
    outputs = []
    for _ in range(2):
        out = io.StringIO()
        args = _parse(
            "--virtual", "--hours", "2", "--agents", "10", "--calls-per-hour", "90", "--every", "60"
        )
        assert demo.run(args, out) == 0
        outputs.append(out.getvalue())
    assert outputs[0] == outputs[1]
    text = outputs[0]
    assert "Talk time per agent" in text
    assert "spread:" in text
    assert "1010" in text  # agents beyond the eight of the roster are made up
    assert "11:00" in text  # a status line every 60 simulated minutes


def test_build_config_mix_averages_to_the_aht() -> None:
    cfg = demo.build_config(agents=8, aht=300.0)
    total = sum(t.share for t in cfg.call_types)
    mean_talk = sum(t.share * t.talk_seconds for t in cfg.call_types) / total
    assert abs(mean_talk - (300.0 - demo.WRAP_UP_SECONDS)) < 1e-9
    assert {t.language for t in cfg.call_types} == {"ru", "kk"}
    assert {q.queue_id for q in cfg.queues} == {"general", "support", "accounts"}


async def test_live_demo_serves_its_pages_with_demo_users() -> None:
    """A newcomer can log in to the running demo's pages as the header says."""
    import asyncio

    import aiohttp

    from acd.demo_live import DEMO_PASSWORD, LiveDemo, LiveOptions

    live = LiveDemo(
        demo.build_config(agents=3, calls_per_hour=60, seed=2),
        LiveOptions(hours=0.5, speed=600, http_port=0),
    )
    ports: list[int] = []
    live.on_started = ports.append
    run = asyncio.ensure_future(live.run(lambda snap: None))
    async with asyncio.timeout(30):
        while not ports:
            await asyncio.sleep(0.01)
    async with aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{ports[0]}"
        async with http.get(f"{base}/ui/login") as page:
            assert page.status == 200
        async with http.post(
            f"{base}/api/login", json={"username": "supervisor", "password": DEMO_PASSWORD}
        ) as login:
            assert login.status == 200, await login.text()
        async with http.post(
            f"{base}/api/login", json={"username": "supervisor", "password": "wrong"}
        ) as refused:
            assert refused.status == 401
    summary = await asyncio.wait_for(run, 60)
    assert summary.offered == summary.answered + summary.abandoned
