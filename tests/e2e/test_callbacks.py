"""Callbacks and voicemail tasks through real calls (docs/callbacks.md): the daemon against
the simulated PBX on the shipped dialplan, with a local aiosmtpd server for the e-mail."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from e2e_stack import Stack, make_settings
from test_scenarios import call_id_of, start

from acd.app import App
from acd.config import CallbacksSettings, ScenarioSettings, Settings, SmtpSettings
from acd.core.calls import CallStatus, SkillRequirement
from acd.routing_config import AgentSettings, RoutingSettings

SCENARIO = """\
name: cb
version: 1
languages: [ru]
time_zone: Europe/Moscow
entry_points:
  "5550200": wait
  "5550201": book
  "5550202": message
nodes:
  wait:
    type: queue
    queue: hotline
    skills: {operator: 1}
    exit_keys: {1: callback}
  callback: {type: callback, number: caller_id, confirm_prompt: {ru: t/callback-booked}}
  book: {type: set, skills: {operator: 1}, next: callback}
  message: {type: voicemail, mailbox: "hotline@default", prompt: {ru: t/leave-message}}
"""

AGENTS = {"a1": "1001", "a2": "1002", "a3": "1003"}
RETRY_SECONDS = 0.2


class Inbox:
    """aiosmtpd handler: keeps every message received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def settings(stack: Stack, smtp_port: int | None = None, **queue: Any) -> Settings:
    directory = stack.tmp_path / "scenarios"
    directory.mkdir(exist_ok=True)
    (directory / "cb.yaml").write_text(SCENARIO, encoding="utf-8")
    base = make_settings(stack.tmp_path, stack.pbx, **queue)
    routing = RoutingSettings(
        skills=["operator"],
        queues=base.routing.queues,
        agents=[
            AgentSettings(id=a, phone=p, skills={"operator": 3}, auto_login=True)
            for a, p in AGENTS.items()
        ],
        presence_file=base.routing.presence_file,
        journal_file=base.routing.journal_file,
    )
    callbacks = CallbacksSettings(
        retry_minutes=RETRY_SECONDS / 60,
        max_attempts=3,
        dial_timeout=5,
        voicemail_directory=stack.pbx.spool_dir / "var/spool/asterisk/voicemail",
        smtp=SmtpSettings(host="127.0.0.1", port=smtp_port, sender="acd@example.com")
        if smtp_port
        else None,
    )
    return base.model_copy(
        update={
            "routing": routing,
            "scenarios": ScenarioSettings(directory=directory, reload_interval=0),
            "callbacks": callbacks,
        }
    )


def on_break(app: App, *agents: str) -> None:
    for agent_id in agents:
        app.center.agent_command(agent_id, "break", "lunch")


async def test_a_booked_callback_keeps_its_place_then_rings_the_agent_and_dials_the_caller(
    stack: Stack,
) -> None:
    trunk = stack.pbx.add_phone("trunk", name="PSTN")
    app = await start(stack, settings(stack, announce_every_seconds=0.3))
    on_break(app, "a2", "a3")
    phone = stack.pbx.phone("1001")
    busy = await stack.pbx.place_call("+79160000000", dnid="5550200")  # a1 is busy with it
    phone.answer(await phone.wait_ringing())
    await stack.wait_for(lambda: stack.events(call_id_of(busy), "connected"), what="busy")
    first = await stack.pbx.place_call("+79160000001", dnid="5550200")
    await first.wait_in_app("WaitExten")
    first_id = call_id_of(first)
    arrived = app.center.router.calls[first_id].arrived_at
    first.press("1")  # exit key: callback
    await first.wait_hangup()
    assert first.prompts_heard[-1] == "t/callback-booked"
    cb_id = f"cb-{first_id}"
    request = app.center.router.calls[cb_id]
    assert request.status is CallStatus.WAITING and request.arrived_at == arrived
    assert app.center.calls[cb_id].channel == ""

    # a caller behind it hears position 2
    second = await stack.pbx.place_call("+79160000002", dnid="5550200")
    await second.wait_in_app("WaitExten")
    second_id = call_id_of(second)
    announced = await stack.wait_for(
        lambda: stack.events(second_id, "announced"), what="announcement"
    )
    assert announced[0].data["position"] == 2
    assert not stack.events(cb_id, "announced")  # nobody on the line to announce to

    # its turn (a1 is free again): the agent's phone rings first ...
    busy.hangup()
    agent_leg = await phone.wait_ringing()
    assert [e.data["agent_id"] for e in stack.events(cb_id, "offered")] == ["a1"]
    assert trunk.ringing == []
    phone.answer(agent_leg)
    # ... then the caller's number is dialled through the trunk and bridged
    dialled = await trunk.wait_ringing()
    assert dialled.exten == "+79160000001"
    assert stack.pbx.call_for(agent_leg).context == "acd-callback-agent"
    trunk.answer(dialled)
    await stack.wait_for(lambda: app.center.calls[cb_id].caller_in_bridge, what="bridged")
    [connected] = stack.events(cb_id, "connected")
    assert connected.data["agent_id"] == "a1"
    assert any(r.path.name == f"{cb_id}.wav" for r in stack.pbx.recordings)
    assert app.center.router.calls[second_id].status is CallStatus.WAITING  # still behind
    trunk.hangup(dialled)
    [finished] = await stack.wait_for(lambda: stack.events(cb_id, "finished"), what="finished")
    assert finished.data["outcome"] == "answered"
    assert stack.events(cb_id, "callback_done")
    assert cb_id not in app.callbacks.requests


async def test_an_unreachable_caller_is_retried_then_cancelled_and_emailed(
    stack: Stack, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    stack.pbx.add_phone("trunk", refuse=True)  # the caller's line is busy, every time
    stack.pbx.phone("1001").answer_after = 0.02
    app = await start(stack, settings(stack, port))
    on_break(app, "a2", "a3")
    caller = await stack.pbx.place_call("+79160000003", dnid="5550201")
    caller.chan.set_var("ACD_CALLER_EMAIL", "client@example.com")
    await caller.wait_hangup()
    cb_id = f"cb-{call_id_of(caller)}"
    await stack.wait_for(
        lambda: stack.events(cb_id, "callback_cancelled"), timeout=10, what="cancelled"
    )
    finished = stack.events(cb_id, "finished")
    assert [f.data["outcome"] for f in finished] == ["callback"] * 3
    assert [f.data["callback_status"] for f in finished] == ["retry", "retry", "cancelled"]
    assert {f.data["dial_status"] for f in finished} == {"BUSY"}
    queued = stack.events(cb_id, "queued")
    assert len(queued) == 3
    for failed, again in zip(finished, queued[1:], strict=False):
        assert again.at - failed.at >= RETRY_SECONDS - 0.01  # the retry interval
    await stack.wait_for(lambda: inbox.messages, what="e-mail")
    [mail] = inbox.messages
    assert mail["To"] == "client@example.com" and mail["From"] == "acd@example.com"
    assert "+79160000003" in mail.get_payload(decode=True).decode()
    assert cb_id not in app.center.router.calls and cb_id not in app.callbacks.requests
    await app.callbacks.flush()
    [row] = await app.callbacks.store.open_callbacks() or [None]  # type: ignore[union-attr]
    assert row is None  # no longer pending: cancelled


async def test_a_callback_at_a_chosen_time_enters_the_queue_then_and_survives_a_restart(
    stack: Stack,
) -> None:
    app = await start(stack, settings(stack))
    on_break(app, *AGENTS)
    now = app.center.now()
    app.callbacks.book(call_id="later", number="+79160000004", due_at=now + 0.4)
    app.callbacks.book(call_id="tomorrow", number="+79160000005", due_at=now + 86400)
    # Booked from the queue: it keeps the caller's place, skills, priority and language.
    app.callbacks.book(
        call_id="asap",
        number="+79160000006",
        requirements=[SkillRequirement("operator", 3)],
        priority=7,
        language="kk",
        arrived_at=now - 100,
        caller_name="Асем",
        topic="billing",
        category="B",
    )
    # A message left after waiting in the queue keeps the skills and language it waited with.
    app.callbacks.voicemail_left(
        "vm-call", "+79160000007", "hotline@default", skills="operator:2", language="kk"
    )
    assert "cb-later" not in app.center.router.calls
    await stack.wait_for(lambda: "cb-later" in app.center.router.calls, what="due")
    [queued] = stack.events("cb-later", "queued")
    assert queued.at >= now + 0.4 - 0.01
    assert app.center.router.calls["cb-later"].arrived_at == pytest.approx(now + 0.4)
    await app.callbacks.flush()
    await stack.stop_app()

    app = await start(stack, settings(stack))  # the pending ones are loaded again
    assert {"cb-later", "cb-tomorrow"} <= set(app.callbacks.requests)
    assert "cb-later" in app.center.router.calls
    assert "cb-tomorrow" not in app.center.router.calls
    assert app.callbacks.requests["cb-tomorrow"].timer is not None
    asap = app.callbacks.requests["cb-asap"]
    assert (asap.requirements, asap.priority, asap.language) == (
        (SkillRequirement("operator", 3),),
        7,
        "kk",
    )
    assert (asap.caller_name, asap.topic, asap.category) == ("Асем", "billing", "B")
    waiting = app.center.router.calls["cb-asap"]
    assert waiting.arrived_at == pytest.approx(now - 100, abs=0.01)
    assert (waiting.priority, waiting.language) == (7, "kk")
    message = app.callbacks.requests["vm-vm-call"]
    assert message.voicemail is app.callbacks.voicemails["vm-call"]
    assert (message.requirements, message.language) == ((SkillRequirement("operator", 2),), "kk")


async def test_a_voicemail_becomes_a_task_offered_to_an_agent_with_deadline_alerts(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    trunk = stack.pbx.add_phone("trunk", answer_after=0.02)
    app = await start(stack, settings(stack))
    on_break(app, *AGENTS)
    caller = await stack.pbx.place_call("+79160000006", dnid="5550202")
    await caller.wait_hangup()
    call_id = call_id_of(caller)
    task = await stack.wait_for(lambda: app.callbacks.voicemails.get(call_id), what="task")
    assert task.number == "+79160000006"
    assert Path(task.path).name == "msg0000.wav" and Path(task.path).exists()
    assert task.due_at - task.left_at == pytest.approx(24 * 3600)
    assert app.center.router.calls[f"vm-{call_id}"].status is CallStatus.WAITING

    # the deadline watch, on an injected clock
    with caplog.at_level(logging.WARNING, logger="acd.callbacks"):
        assert app.callbacks.check_deadlines(task.due_at - 3 * 3600) == []
        assert app.callbacks.check_deadlines(task.due_at - 3600) == [(call_id, "near")]
        assert app.callbacks.check_deadlines(task.due_at - 1800) == []  # once
        assert app.callbacks.check_deadlines(task.due_at + 1) == [(call_id, "overdue")]
    assert [e.data["state"] for e in stack.events(call_id, "voicemail_deadline")] == [
        "near",
        "overdue",
    ]
    assert app.callbacks.alerts == {"near": 1, "overdue": 1}
    assert sum("voicemail task" in r.message for r in caplog.records) == 2

    # offered to an agent as a callback
    stack.pbx.phone("1003").answer_after = 0.02
    app.center.agent_command("a3", "ready")
    [dialled] = await stack.wait_for(lambda: trunk.answered, what="caller answered")
    assert dialled.exten == "+79160000006"
    await stack.wait_for(lambda: stack.events(f"vm-{call_id}", "connected"), what="connected")
    trunk.hangup(dialled)
    await stack.wait_for(lambda: task.status == "handled", what="handled")
    await app.callbacks.flush()
    assert await app.callbacks.store.open_voicemails() == []  # type: ignore[union-attr]
