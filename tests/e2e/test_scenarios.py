"""The IVR routing scenarios through real calls: the daemon (``acd.app.App``) against the
simulated PBX over TCP, on the shipped dialplan. Every node type, the hotline example end to
end, overflow and exit keys while waiting, hot reload and the version recorded on the call.

The scenarios are in ``tests/e2e/scenarios/`` (``flow.yaml``: one entry point per feature)
and ``ivr_scripts/`` (the hotline); each test copies what it needs into its own directory.
"""

from __future__ import annotations

import logging
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from e2e_stack import Stack, eventually, make_settings, stored_calls

from acd.app import App
from acd.config import ScenarioSettings, Settings
from acd.core.agents import AgentState
from acd.core.calls import CallStatus
from acd.routing_config import AgentSettings, RoutingSettings
from acd.sim.pbx import Call

HERE = Path(__file__).parent
SCENARIOS = HERE / "scenarios"
IVR_SCRIPTS = HERE.parent.parent / "ivr_scripts"
MOSCOW = ZoneInfo("Europe/Moscow")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=MOSCOW)  # a working day, open
SUNDAY_10 = datetime(2026, 11, 22, 10, 0, tzinfo=MOSCOW)  # closed

# agent -> (phone, skills, languages)
AGENTS: dict[str, tuple[str, dict[str, int], list[str]]] = {
    "a1": ("1001", {"operator": 5}, ["ru"]),
    "a2": ("1002", {"technical_support": 3}, ["ru"]),
    "a3": ("1003", {"operator": 3, "account_manager": 2}, ["ru", "kk"]),
}


def scenario_dir(tmp_path: Path, *files: Path) -> Path:
    directory = tmp_path / "scenarios"
    directory.mkdir(exist_ok=True)
    for file in files:
        shutil.copy(file, directory / file.name)
    return directory


def settings_for(
    stack: Stack,
    directory: Path,
    *,
    default: str | None = None,
    reload_interval: float = 0.0,
    **queue: Any,
) -> Settings:
    base = make_settings(stack.tmp_path, stack.pbx, **queue)
    routing = RoutingSettings(
        skills=["operator", "technical_support", "account_manager"],
        queues=base.routing.queues,
        agents=[
            AgentSettings(
                id=agent_id,
                phone=phone,
                skills=skills,
                languages=languages,
                auto_login=True,
            )
            for agent_id, (phone, skills, languages) in AGENTS.items()
        ],
        presence_file=base.routing.presence_file,
        journal_file=base.routing.journal_file,
    )
    scenarios = ScenarioSettings(
        directory=directory, default=default, reload_interval=reload_interval
    )
    return base.model_copy(update={"routing": routing, "scenarios": scenarios})


async def start(stack: Stack, settings: Settings, clock: datetime = MONDAY_10) -> App:
    app = App(settings, sink=stack.sink)
    app.ivr.clock = lambda: clock  # the scenario clock: opening hours
    await app.start()
    stack.pbx.point_agi_at("127.0.0.1", app.fastagi.port)
    await app.ami.wait_connected(timeout=5)
    stack.app = app
    return app


async def flow_app(stack: Stack, **queue: Any) -> App:
    directory = scenario_dir(stack.tmp_path, SCENARIOS / "flow.yaml", SCENARIOS / "other.yaml")
    return await start(stack, settings_for(stack, directory, **queue))


def everyone_on_break(app: App) -> None:
    for agent_id in AGENTS:
        app.center.agent_command(agent_id, "break", "lunch")


def call_id_of(call: Call) -> str:
    call_id = call.var("ACD_CALL_ID")
    assert call_id
    return call_id


def ivr_events(stack: Stack, call_id: str) -> list[dict[str, Any]]:
    return [e.data for e in stack.events(call_id, "ivr")]


# --------------------------------------------------------------------------- play, menu, set


async def test_menu_key_sets_the_call_and_queues_it_with_the_scenario_version(
    stack: Stack,
) -> None:
    app = await flow_app(stack)
    version = app.scenarios.get("flow")
    assert version is not None and version.version.startswith("7+")
    caller = await stack.pbx.place_call("+79161234567", "Иван", dnid="5550100")
    caller.press("1")  # typed ahead: the menu reads it, the welcome prompt does not
    ringing = await stack.pbx.phone("1001").wait_ringing()  # operator >= 2: a1 (level 5)
    call_id = call_id_of(caller)
    assert caller.prompts_heard == ["t/welcome", "t/menu"]
    [queued] = stack.events(call_id, "queued")
    assert queued.data["scenario"] == "flow"
    assert queued.data["scenario_version"] == version.version
    assert queued.data["skills"] == "operator:2"
    assert (queued.data["priority"], queued.data["queue"]) == (5, "hotline")
    assert (queued.data["topic"], queued.data["category"]) == ("billing", "B")
    assert queued.data["ivr_path"] == ["welcome", "menu", "billing", "billing_wait"]
    [entered] = stack.events(call_id, "scenario")
    assert entered.data["scenario_version"] == version.version
    assert entered.data["entry"] == "welcome"
    for name, value in (
        ("ACD_SCENARIO", "flow"),
        ("ACD_SCENARIO_VERSION", version.version),
        ("ACD_TOPIC", "billing"),
        ("ACD_CATEGORY", "B"),
        ("ACD_SKILLS", "operator:2"),
        ("ACD_PRIORITY", "5"),
        ("ACD_NODE", "billing_wait"),
    ):
        assert caller.var(name) == value, name
    stack.pbx.phone("1001").answer(ringing)
    assert (await caller.wait_bridged()).startswith("PJSIP/1001-")
    await eventually(lambda: app.center.router.agent("a1").state is AgentState.ON_CALL)


async def test_menu_invalid_key_and_timeouts_retry_then_go_after_retries(stack: Stack) -> None:
    await flow_app(stack)
    caller = await stack.pbx.place_call("+79160000001", dnid="5550100")
    caller.press("7")  # not an option
    await caller.wait_hangup()
    assert caller.prompts_heard == [
        "t/welcome",
        "t/menu",
        "t/invalid",  # the key was not an option
        "t/menu",
        "t/timeout",  # nothing pressed
        "t/menu",  # the last try: nothing, then after_retries
        "t/bye",
    ]
    [done] = ivr_events(stack, call_id_of(caller))
    assert done["outcome"] == "hangup" and done["node"] == "end"
    assert done["path"] == ["welcome", "menu", "bye", "end"]
    # The timeline has every prompt and every key pressed, where and when.
    call_id = call_id_of(caller)
    digits = stack.events(call_id, "digits")
    assert [(e.data["node"], e.data["keys"]) for e in digits] == [
        ("menu", "7"),
        ("menu", ""),
        ("menu", ""),
    ]
    assert digits[0].data["prompts"] == ["t/menu"]
    played = [p for e in stack.events(call_id, "prompt") for p in e.data["prompts"]]
    assert played == ["t/welcome", "t/invalid", "t/timeout", "t/bye"]
    menu_step = next(step for step in done["steps"] if step["node"] == "menu")
    assert menu_step["note"].startswith("keys: 7, timeout, timeout")


async def test_goto_and_the_hash_key(stack: Stack) -> None:
    await flow_app(stack)
    caller = await stack.pbx.place_call("+79160000002", dnid="5550100")
    caller.press_digits("9#")  # 9: back to the menu (goto); #: an option like any other
    await caller.wait_hangup()
    assert caller.prompts_heard == ["t/welcome", "t/menu", "t/menu", "t/bye"]
    [done] = ivr_events(stack, call_id_of(caller))
    assert done["path"] == ["welcome", "menu", "again", "menu", "bye", "end"]


# --------------------------------------------------------------------------- language


async def test_language_choice_sticks_to_prompts_announcements_and_agents(
    stack: Stack,
) -> None:
    directory = scenario_dir(stack.tmp_path, SCENARIOS / "lang.yaml")
    app = await start(stack, settings_for(stack, directory, announce_every_seconds=0.3))
    app.center.agent_command("a3", "break", "lunch")  # the only one who speaks Kazakh
    caller = await stack.pbx.place_call("+77010000000", dnid="5550201")
    await caller.wait_for_prompt("t/lang-kk")  # a key pressed earlier would cut the menu short
    caller.press("2")
    await caller.wait_moh()
    call_id = call_id_of(caller)
    # the language menu in every language, then the Kazakh prompts
    assert caller.prompts_heard == ["t/lang-ru", "t/lang-kk", "t/hello-kk"]
    assert caller.chan.language == "kk"  # Asterisk looks up sounds/kk/...
    assert app.center.calls[call_id].language == "kk"
    await eventually(lambda: stack.events(call_id, "announced"), what="an announcement")
    assert stack.events(call_id, "announced")[0].data["language"] == "kk"
    assert not stack.pbx.phone("1001").ringing  # a1 speaks only Russian
    app.center.agent_command("a3", "ready")
    ringing = await stack.pbx.phone("1003").wait_ringing()
    stack.pbx.phone("1003").answer(ringing)
    await caller.wait_bridged()


async def test_no_language_choice_keeps_the_default(stack: Stack) -> None:
    directory = scenario_dir(stack.tmp_path, SCENARIOS / "lang.yaml")
    app = await start(stack, settings_for(stack, directory))
    caller = await stack.pbx.place_call("+77010000001", dnid="5550201")
    ringing = await stack.pbx.phone("1001").wait_ringing()
    assert caller.prompts_heard == ["t/lang-ru", "t/lang-kk", "t/hello-ru"]
    assert app.center.calls[call_id_of(caller)].language == "ru"
    stack.pbx.phone("1001").answer(ringing)
    await caller.wait_bridged()


# --------------------------------------------------------------------------- schedule


async def test_schedule_open_and_closed_follow_the_scenario_clock(stack: Stack) -> None:
    app = await flow_app(stack)
    open_call = await stack.pbx.place_call("+79160000003", dnid="5550102")
    await open_call.wait_hangup()
    assert open_call.prompts_heard == ["t/open"]
    app.ivr.clock = lambda: SUNDAY_10
    closed_call = await stack.pbx.place_call("+79160000004", dnid="5550102")
    await closed_call.wait_hangup()
    assert closed_call.prompts_heard == ["t/closed"]
    [done] = ivr_events(stack, call_id_of(closed_call))
    assert done["path"] == ["hours", "closed_msg", "end"]


# --------------------------------------------------------------------------- queue node


async def test_overflow_after_max_wait_goes_on_in_the_scenario(stack: Stack) -> None:
    app = await flow_app(stack)
    everyone_on_break(app)
    caller = await stack.pbx.place_call("+79160000005", dnid="5550103")
    await caller.wait_moh()
    call_id = call_id_of(caller)
    assert app.center.router.calls[call_id].status is CallStatus.WAITING
    # after max_wait (0.5 s) the call leaves the queue and the caller hears the overflow
    # branch: a voicemail whose next node thanks them
    await caller.wait_hangup(timeout=10)
    [finished] = stack.events(call_id, "finished")
    assert finished.data["outcome"] == "withdrawn"
    assert stack.events(call_id, "queue_exit")[0].data["reason"] == "overflow"
    heard = caller.prompts_heard
    assert heard[0] == "t/overflowed" and heard[-1] == "t/thanks", heard
    assert "t/leave-message" in heard and "beep" in heard
    [message] = stack.pbx.voicemails
    assert (message.mailbox, message.context) == ("101", "flow")
    assert call_id not in app.center.calls and call_id not in app.center.router.calls
    # the message is a task now: a callback waiting in the queue (docs/callbacks.md)
    assert list(app.center.calls) == [f"vm-{call_id}"]
    outcomes = [e["outcome"] for e in ivr_events(stack, call_id)]
    assert outcomes == ["queue", "voicemail", "hangup"]
    assert ivr_events(stack, call_id)[-1]["path"] == [
        "short_wait",
        "overflowed",
        "message_then_thanks",
        "thanks",
        "end",
    ]


async def test_queue_node_announcements_and_periodic_messages(stack: Stack) -> None:
    app = await flow_app(stack)
    everyone_on_break(app)
    caller = await stack.pbx.place_call("+79160000006", dnid="5550107")
    await caller.wait_moh()
    call_id = call_id_of(caller)
    info = app.center.calls[call_id]
    # slots every 30 s (announce.every; messages every 45), the first after 15 s
    assert (info.announce_every, info.announce_first_after) == (30.0, 15.0)
    assert caller.moh_class == "calm" and caller.application == "WaitExten"
    waiting = info.extra["ivr"]

    async def slot(expected_messages: int) -> None:
        assert app.telephony is not None
        before = len(caller.chan.moh_history)
        await app.telephony.announce(info)  # what the clock loop does when a slot is due
        await caller.wait_until(
            lambda c: len(c.chan.moh_history) > before and c.context == "acd-wait",
            what="back to waiting",
        )
        await eventually(lambda: len(stack.events(call_id, "message")) == expected_messages)

    waiting.queued_at -= 50  # 50 s in the queue: the first message is due, and the position
    await slot(1)
    assert caller.prompts_heard[-2:] == ["t/msg-1", "acd/you-are-next"]  # position, no wait
    heard = len(caller.prompts_heard)
    await slot(1)  # nothing due at a slot right after
    assert len(caller.prompts_heard) == heard
    waiting.last_message -= 50
    waiting.last_announcement -= 50
    await slot(2)
    assert caller.prompts_heard[-2:] == ["t/msg-2", "acd/you-are-next"]
    assert len(stack.events(call_id, "announced")) == 2


async def test_exit_key_leaves_the_queue_for_a_callback(stack: Stack) -> None:
    app = await flow_app(stack)
    everyone_on_break(app)
    caller = await stack.pbx.place_call("+79160000007", dnid="5550107")
    await caller.wait_in_app("WaitExten")
    call_id = call_id_of(caller)
    caller.press("5")  # not an exit key: back to waiting
    await eventually(lambda: len(caller.chan.moh_history) >= 2, what="music again")
    await caller.wait_in_app("WaitExten")
    assert app.center.router.calls[call_id].status is CallStatus.WAITING
    caller.press("1")  # callback
    await caller.wait_hangup()
    assert caller.prompts_heard[-1] == "t/callback-booked"
    [booked] = stack.events(call_id, "callback_requested")
    assert booked.data["number"] == "+79160000007"
    assert booked.data["scenario"] == "flow" and booked.data["node"] == "callback"
    assert stack.events(call_id, "queue_exit")[0].data == {
        "node": "keys_wait",
        "reason": "exit_key",
        "key": "1",
    }
    assert stack.events(call_id, "finished")[0].data["outcome"] == "withdrawn"
    assert ivr_events(stack, call_id)[-1]["path"] == ["keys_wait", "callback"]


async def test_no_agent_with_the_skills_takes_the_no_agents_branch(stack: Stack) -> None:
    await flow_app(stack)
    caller = await stack.pbx.place_call("+79160000008", dnid="5550108")
    await caller.wait_hangup()
    assert caller.prompts_heard == ["t/nobody"]
    assert not stack.events(call_id_of(caller), "queued")


# --------------------------------------------------------------------------- voicemail, transfer


async def test_voicemail_without_a_next_node_ends_the_call(stack: Stack) -> None:
    await flow_app(stack)
    caller = await stack.pbx.place_call("+79160000009", dnid="5550100")
    caller.press("2")
    await caller.wait_hangup()
    assert caller.prompts_heard[:3] == ["t/welcome", "t/menu", "t/leave-message"]
    [message] = stack.pbx.voicemails
    assert (message.mailbox, message.context, message.caller_num) == (
        "flow",
        "default",
        "+79160000009",
    )
    assert ivr_events(stack, call_id_of(caller))[-1]["outcome"] == "voicemail"


async def test_transfer_to_a_number_dials_out_through_the_trunk(stack: Stack) -> None:
    await flow_app(stack)
    trunk = stack.pbx.add_phone("trunk")
    caller = await stack.pbx.place_call("+79160000010", dnid="5550104")
    ringing = await trunk.wait_ringing()
    assert ringing.exten == "+74950000000"  # PJSIP/<number>@trunk
    assert caller.var("ACD_TRANSFER_TO") == "+74950000000"
    trunk.answer(ringing)
    assert (await caller.wait_bridged()).startswith("PJSIP/trunk-")
    assert caller.var("DIALSTATUS") == "ANSWER"
    [done] = ivr_events(stack, call_id_of(caller))
    assert (done["outcome"], done["number"]) == ("transfer", "+74950000000")
    trunk.hangup()
    await caller.wait_hangup()


async def test_transfer_to_another_scenario_walks_it(stack: Stack) -> None:
    app = await flow_app(stack)
    caller = await stack.pbx.place_call("+79160000011", dnid="5550105")
    ringing = await stack.pbx.phone("1001").wait_ringing()
    call_id = call_id_of(caller)
    assert caller.prompts_heard == ["other/hello"]
    entered = [e.data["scenario"] for e in stack.events(call_id, "scenario")]
    assert entered == ["flow", "other"]
    [queued] = stack.events(call_id, "queued")
    other = app.scenarios.get("other")
    assert other is not None
    assert (queued.data["scenario"], queued.data["scenario_version"]) == ("other", other.version)
    assert queued.data["ivr_path"] == ["to_other", "other:hello", "other:wait"]
    stack.pbx.phone("1001").answer(ringing)
    await caller.wait_bridged()


# --------------------------------------------------------------------------- the hotline


async def test_hotline_customer_choosing_e_signature_reaches_technical_support(
    stack: Stack,
) -> None:
    directory = scenario_dir(
        stack.tmp_path, IVR_SCRIPTS / "hotline.yaml", IVR_SCRIPTS / "general_line.yaml"
    )
    app = await start(stack, settings_for(stack, directory))
    assert {v.name for v in app.scenarios.versions} == {"hotline", "general_line"}
    caller = await stack.pbx.place_call("+79161112233", dnid="73422921960")
    caller.press_digits("12")  # a customer; topic 2, e-signature
    ringing = await stack.pbx.phone("1002").wait_ringing()  # a2: technical_support
    call_id = call_id_of(caller)
    assert caller.prompts_heard == [
        "hotline/welcome",
        "hotline/are-you-customer",
        "hotline/topics",
    ]
    [queued] = stack.events(call_id, "queued")
    assert queued.data["skills"] == "technical_support:1"
    assert (queued.data["topic"], queued.data["category"]) == ("e-signature", "D")
    assert queued.data["scenario"] == "hotline"
    stack.pbx.phone("1002").answer(ringing)
    assert (await caller.wait_bridged()).startswith("PJSIP/1002-")
    await eventually(lambda: app.center.router.agent("a2").state is AgentState.ON_CALL)
    assert not stack.pbx.phone("1001").ringing and not stack.pbx.phone("1003").ringing


async def test_hotline_non_customer_goes_to_the_general_line(stack: Stack) -> None:
    directory = scenario_dir(
        stack.tmp_path, IVR_SCRIPTS / "hotline.yaml", IVR_SCRIPTS / "general_line.yaml"
    )
    await start(stack, settings_for(stack, directory))
    caller = await stack.pbx.place_call("+79161112234", dnid="73422921960")
    caller.press("2")
    ringing = await stack.pbx.phone("1001").wait_ringing()  # the general line: operators
    assert caller.prompts_heard[-2:] == ["hotline/transfer-general-line", "general/welcome"]
    [queued] = stack.events(call_id_of(caller), "queued")
    assert queued.data["scenario"] == "general_line"
    stack.pbx.phone("1001").answer(ringing)
    await caller.wait_bridged()


async def test_numbers_without_an_entry_point(stack: Stack) -> None:
    """The built-in greeting, unless scenarios.default names a scenario."""
    directory = scenario_dir(
        stack.tmp_path, IVR_SCRIPTS / "hotline.yaml", IVR_SCRIPTS / "general_line.yaml"
    )
    app = await start(stack, settings_for(stack, directory))
    caller = await stack.pbx.place_call("+79161112235", dnid="88005553535")
    await caller.wait_for_prompt("acd/greeting")
    ringing = await stack.pbx.phone("1001").wait_ringing()
    assert not stack.events(call_id_of(caller), "scenario")
    stack.pbx.phone("1001").answer(ringing)
    await caller.wait_bridged()
    await stack.stop_app()

    app = await start(stack, settings_for(stack, directory, default="general_line"))
    assert app.scenarios.route("88005553535") is not None
    caller = await stack.pbx.place_call("+79161112236", dnid="88005553535")
    await caller.wait_for_prompt("general/welcome")
    [entered] = stack.events(call_id_of(caller), "scenario")
    assert entered.data["scenario"] == "general_line"


# --------------------------------------------------------------------------- hot reload


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


async def test_hot_reload_new_calls_get_the_new_version_calls_in_progress_keep_theirs(
    stack: Stack,
) -> None:
    directory = scenario_dir(stack.tmp_path, SCENARIOS / "flow.yaml", SCENARIOS / "other.yaml")
    app = await start(stack, settings_for(stack, directory, reload_interval=0.05))
    old = app.scenarios.get("flow")
    assert old is not None
    everyone_on_break(app)
    first = await stack.pbx.place_call("+79160000012", dnid="5550100")
    await first.wait_for_prompt("t/menu")  # in the menu of the old version
    edit(directory / "flow.yaml", "version: 7", "version: 8")
    edit(directory / "flow.yaml", "{ru: t/welcome}", "{ru: t/welcome-v8}")
    edit(directory / "flow.yaml", "skills: {operator: 2}", "skills: {operator: 4}")
    await eventually(lambda: app.scenarios.get("flow") is not old, what="the reload")
    new = app.scenarios.get("flow")
    assert new is not None and new.version.startswith("8+") and new.version != old.version
    second = await stack.pbx.place_call("+79160000013", dnid="5550100")
    await second.wait_for_prompt("t/menu")
    first.press("1")
    second.press("1")
    first_id, second_id = call_id_of(first), call_id_of(second)
    await eventually(lambda: stack.events(first_id, "queued") and stack.events(second_id, "queued"))
    assert first.prompts_heard[0] == "t/welcome" and second.prompts_heard[0] == "t/welcome-v8"
    [queued_first] = stack.events(first_id, "queued")
    [queued_second] = stack.events(second_id, "queued")
    assert queued_first.data["scenario_version"] == old.version
    assert queued_first.data["skills"] == "operator:2"  # the old version's set node
    assert queued_second.data["scenario_version"] == new.version
    assert queued_second.data["skills"] == "operator:4"


async def test_broken_edit_is_refused_with_located_errors_and_the_old_version_serves(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    directory = scenario_dir(stack.tmp_path, SCENARIOS / "flow.yaml", SCENARIOS / "other.yaml")
    app = await start(stack, settings_for(stack, directory))
    old = app.scenarios.get("flow")
    assert old is not None
    edit(directory / "flow.yaml", "after_retries: bye", "after_retries: byee")
    with caplog.at_level(logging.ERROR, logger="acd.scenario.registry"):
        result = app.reload_scenarios()  # what SIGHUP runs
    [problems] = result.refused.values()
    assert any("byee" in p and "flow.yaml:" in p for p in problems), problems
    logged = [r.getMessage() for r in caplog.records]
    assert any("refused" in m and f"version {old.version} keeps serving" in m for m in logged)
    assert any(m.startswith(str(directory / "flow.yaml") + ":") for m in logged), logged
    assert app.scenarios.get("flow") is old
    caller = await stack.pbx.place_call("+79160000014", dnid="5550102")
    await caller.wait_hangup()
    assert caller.prompts_heard == ["t/open"]
    [entered] = stack.events(call_id_of(caller), "scenario")
    assert entered.data["scenario_version"] == old.version
    # the refusal is not repeated on every look; a good edit is taken in
    caplog.clear()
    assert not app.reload_scenarios().refused and not caplog.records
    edit(directory / "flow.yaml", "after_retries: byee", "after_retries: end")
    assert [v.name for v in app.reload_scenarios().loaded] == ["flow"]
    assert app.scenarios.get("flow") is not old


async def test_sighup_reloads_the_scenarios(stack: Stack) -> None:
    directory = scenario_dir(stack.tmp_path, SCENARIOS / "other.yaml")
    app = await start(stack, settings_for(stack, directory))
    assert app.scenarios.get("flow") is None
    shutil.copy(SCENARIOS / "flow.yaml", directory / "flow.yaml")
    app.reload_scenarios()  # the SIGHUP handler (App.serve_forever) calls exactly this
    assert app.scenarios.get("flow") is not None
    caller = await stack.pbx.place_call("+79160000015", dnid="5550102")
    await caller.wait_hangup()
    assert caller.prompts_heard == ["t/open"]


# --------------------------------------------------------------------------- restart


async def test_restart_rebuilds_a_waiting_scenario_call_with_its_queue_node(
    stack: Stack,
) -> None:
    app = await flow_app(stack)
    everyone_on_break(app)
    caller = await stack.pbx.place_call("+79160000016", dnid="5550107")
    await caller.wait_in_app("WaitExten")
    call_id = call_id_of(caller)
    version = app.scenarios.get("flow")
    assert version is not None
    await stack.stop_app()

    app = await flow_app(stack)  # agents come back on break (presence file)
    await eventually(lambda: call_id in app.center.calls, what="the call restored")
    info = app.center.calls[call_id]
    assert (info.scenario, info.scenario_version) == ("flow", version.version)
    assert info.announce_every == 30.0  # the queue node is back
    assert "ivr" in info.extra
    caller.press("2")  # an exit key: voicemail
    await caller.wait_hangup()
    assert [m.mailbox for m in stack.pbx.voicemails] == ["flow"]
    assert stack.events(call_id, "queue_exit")[-1].data["key"] == "2"


# --------------------------------------------------------------------------- call records


async def test_the_ivrs_outcomes_become_the_call_records(stack: Stack) -> None:
    """The events the daemon emitted for real calls, stored by the call-record writer: out of
    hours, overflow then voicemail, a message left, a transfer to a number, a caller who hung
    up in a menu; each with its scenario version."""
    app = await flow_app(stack)
    trunk = stack.pbx.add_phone("trunk")
    callers: dict[str, Call] = {}

    callers["transferred"] = await stack.pbx.place_call("+79160000010", dnid="5550104")
    trunk.answer(await trunk.wait_ringing())
    await callers["transferred"].wait_bridged()
    trunk.hangup()
    await callers["transferred"].wait_hangup()

    callers["voicemail"] = await stack.pbx.place_call("+79160000009", dnid="5550100")
    callers["voicemail"].press("2")
    await callers["voicemail"].wait_hangup()

    callers["ivr_abandoned"] = await stack.pbx.place_call("+79160000011", dnid="5550100")
    await eventually(lambda: "t/menu" in callers["ivr_abandoned"].prompts_heard)
    callers["ivr_abandoned"].hangup()
    await eventually(lambda: ivr_events(stack, call_id_of(callers["ivr_abandoned"])))

    everyone_on_break(app)
    callers["overflow_voicemail"] = await stack.pbx.place_call("+79160000005", dnid="5550103")
    await callers["overflow_voicemail"].wait_hangup(timeout=10)

    app.ivr.clock = lambda: SUNDAY_10
    callers["out_of_hours"] = await stack.pbx.place_call("+79160000004", dnid="5550102")
    await callers["out_of_hours"].wait_hangup()

    ids = {name: call_id_of(call) for name, call in callers.items()}
    calls = [event for event in stack.events() if event.call_id in ids.values()]
    rows = await stored_calls(stack.tmp_path, calls)
    version = app.ivr.registry.get("flow")
    assert version is not None
    for name, call_id in ids.items():
        row = rows[call_id]
        assert row.outcome == name.removeprefix("overflow_"), (name, row.outcome)
        assert (row.scenario, row.scenario_version) == ("flow", version.version)
        assert row.ended_at is not None and row.answered_at is None
    assert rows[ids["overflow_voicemail"]].queued_at is not None
    assert rows[ids["out_of_hours"]].ivr_path == ["hours", "closed_msg", "end"]
