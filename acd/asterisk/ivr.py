"""The IVR over FastAGI: a caller walks the YAML routing scenario of the number they dialled.

:class:`IvrExecutor` drives :func:`acd.scenario.engine.walk` — the same walk the dry-run
simulator drives — on an :class:`~acd.asterisk.fastagi.AgiSession`, answering its actions:

``Play``            ``STREAM FILE`` of each prompt file (not interruptible)
``Collect``         the prompt files, then the keys: one key is read with ``STREAM FILE``
                    (any key interrupts) and ``GET DATA <last file> <timeout> 1``, where an
                    empty answer without ``(timeout)`` is ``#`` (GET DATA's terminator);
                    several keys (a callback number) with ``GET DATA`` (``#`` ends them)
``SetLanguage``     ``CHANNEL(language)`` (Asterisk then plays ``sounds/<lang>/<file>``), and
                    the call's language for its queue announcements and agents
``EnterQueue``      the call joins the router queue the node names (``queue:``, else
                    ``routing.default_queue``) with the skills, priority and language the
                    scenario gave it; the channel variables that let a restarted daemon
                    rebuild it are set and ``ACD_NEXT=queue`` sends the caller to
                    ``[acd-wait]``. The walk is suspended there: the queue node's
                    ``max_wait`` (the daemon withdraws the call and Redirects the caller to
                    ``[acd-ivr]``, whose ``resume`` script goes on at ``overflow``) and
                    ``exit_keys`` (``WaitExten`` in ``[acd-wait]`` hands the key to the
                    ``queue-key`` script) bring the caller back into the scenario
``RecordVoicemail`` the prompt, then ``ACD_NEXT=voicemail`` and ``ACD_MAILBOX``:
                    ``[acd-voicemail]`` runs ``VoiceMail()``; with a ``next`` node the
                    caller comes back through ``[acd-ivr]``
``BookCallback``    a ``callback_requested`` call event (number, skills, topic, language),
                    and the request handed to :attr:`IvrExecutor.on_callback`
                    (:class:`acd.callbacks.CallbackManager`): it keeps the call's place in
                    the queue (``docs/callbacks.md``); ``ACD_CALLER_EMAIL`` on the channel,
                    if set, is where a cancelled callback is notified

and the outcome of the walk: a transfer to a number sets ``ACD_NEXT=transfer`` and
``ACD_TRANSFER_TO`` (``[acd-transfer]`` dials out through ``[acd-outbound]``); a transfer to
another scenario walks that one on the same channel; a hang-up (also after a callback) sets
``ACD_NEXT=hangup``. Anything the daemon cannot do (a missing scenario) sets
``ACD_NEXT=fallback``: the apology and the fallback voicemail of ``[acd-fallback]``.

A call keeps the :class:`~acd.scenario.registry.ScenarioVersion` it entered with for the
whole walk, even if the file is reloaded meanwhile; the scenario's name and version are on
every IVR call event (``scenario``, ``ivr``, ``queued``) and in ``ACD_SCENARIO`` /
``ACD_SCENARIO_VERSION``. See ``docs/scenarios.md`` ("In the daemon").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from acd.asterisk.fastagi import AgiHangup, AgiSession
from acd.call_events import CallEvent
from acd.callcenter import CallCenter, CallInfo
from acd.core.agents import AgentState
from acd.core.calls import CallStatus, format_requirements
from acd.core.events import CallWithdrawn
from acd.scenario.engine import (
    Action,
    BookCallback,
    CallState,
    Clock,
    Collect,
    EnterQueue,
    Outcome,
    Play,
    QueueExit,
    RecordVoicemail,
    Reply,
    SetLanguage,
    walk,
)
from acd.scenario.model import QueueNode, VoicemailNode
from acd.scenario.registry import Route, ScenarioRegistry, ScenarioVersion, entry_for

__all__ = ["ALL_KEYS", "AnnounceSlot", "IvrExecutor", "WaitingCall"]

log = logging.getLogger(__name__)

ALL_KEYS: Final = "0123456789*#"
MAX_TRANSFERS: Final = 5
"""Transfers from scenario to scenario one call may make (a guard against A -> B -> A)."""
RESUME_TTL: Final = 3600.0
"""How long the state of a call sent back to the IVR (overflow, after voicemail) is kept."""
RINGING_RETRY: Final = 1.0
"""An overflow that falls while an agent's phone rings waits this long and looks again."""


@dataclass(slots=True)
class IvrCall:
    """A call walking a scenario."""

    call_id: str
    channel: str
    caller: str | None
    caller_name: str | None
    dialled: str | None
    arrived_at: float
    version: ScenarioVersion
    state: CallState
    earlier_path: list[str] = field(default_factory=list)  # nodes of scenarios left behind
    transfers: int = 0
    channel_language: str | None = None  # last CHANNEL(language) set
    queue: str | None = None  # the queue it last waited in
    queue_priority: int | None = None  # and its priority there

    @property
    def prefix(self) -> str:
        return f"{self.version.name}:" if self.transfers else ""

    @property
    def path(self) -> list[str]:
        """Nodes visited; after a transfer, the other scenario's as ``name:node``."""
        return [*self.earlier_path, *(self.prefix + s.node for s in self.state.steps)]


@dataclass(slots=True)
class WaitingCall:
    """A scenario call parked in the queue (or on its way back to the IVR)."""

    ivr: IvrCall
    node: str  # the queue node, or the voicemail node for a resume after voicemail
    action: EnterQueue | None
    queued_at: float
    last_announcement: float | None = None
    last_message: float | None = None
    message_index: int = 0
    overflow_timer: asyncio.TimerHandle | None = None
    parked_at: float = 0.0  # when it was handed back for a resume


@dataclass(frozen=True, slots=True)
class AnnounceSlot:
    """What to play at one announcement slot of a scenario call."""

    announce: bool
    position: bool
    wait: bool
    message: tuple[str, ...]  # prompt files of the periodic message due, if any


class _Suspended:
    """The walk stops here: the caller leaves the AGI (queue, voicemail with a next node)."""


SUSPENDED: Final = _Suspended()


class IvrExecutor:
    def __init__(
        self,
        center: CallCenter,
        registry: ScenarioRegistry,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.center = center
        self.registry = registry
        #: the scenario clock (schedules); default: the call centre's clock
        self.clock: Clock = clock or self._center_clock
        #: sends a caller back to ``[acd-ivr]`` (``AmiTelephony.send_to_ivr``), set by the app
        self.send_to_ivr: Callable[[str, str], Any] | None = None
        #: books a callback (``CallbackManager.book``), set by the app
        self.on_callback: Callable[..., Any] | None = None
        self._resuming: dict[str, WaitingCall] = {}

    def _center_clock(self) -> datetime:
        return datetime.fromtimestamp(self.center.now(), UTC)

    # ------------------------------------------------------------------ FastAGI entry points

    def route(self, dialled: str | None) -> Route | None:
        return self.registry.route(dialled)

    async def inbound(
        self, session: AgiSession, route: Route, call_id: str, arrived: float, dialled: str | None
    ) -> None:
        """Walk the scenario from its entry node (the ``inbound`` script)."""
        version = route.version
        state = CallState(
            language=version.scenario.language, caller=session.callerid, dialled=dialled
        )
        ivr = IvrCall(
            call_id=call_id,
            channel=session.channel,
            caller=session.callerid,
            caller_name=session.env.get("calleridname"),
            dialled=dialled,
            arrived_at=arrived,
            version=version,
            state=state,
        )
        self._scenario_event(ivr, route.entry)
        await self._run(session, ivr, walk(version.scenario, state, self.clock, route.entry))

    async def resume(self, session: AgiSession) -> None:
        """Back from the queue (overflow) or from voicemail: go on where the walk stopped
        (the ``resume`` script, from ``[acd-ivr]``)."""
        call_id = session.args[0] if session.args else session.uniqueid
        reason = session.args[1] if len(session.args) > 1 else ""
        await session.set_variable("ACD_RESUME", "")
        waiting = self._resuming.pop(call_id, None) or await self._rebuild(session, call_id)
        if waiting is None:
            log.warning("%s: nothing to resume for call %s (%s)", session.channel, call_id, reason)
            await session.set_variable("ACD_NEXT", "fallback")
            return
        reply: Reply
        expected: type
        if reason == "voicemail":
            reply, expected = None, RecordVoicemail
        elif reason == "overflow":
            reply, expected = QueueExit("overflow"), EnterQueue
        else:
            log.warning("%s: unknown resume reason %r", session.channel, reason)
            await session.set_variable("ACD_NEXT", "fallback")
            return
        await self._continue(session, waiting, expected, reply)

    async def queue_key(self, session: AgiSession) -> None:
        """A key pressed while waiting (``[acd-wait]``): an exit key of the queue node leaves
        the queue for its node; any other key sends the caller back to waiting."""
        call_id = session.args[0] if session.args else session.uniqueid
        key = session.args[1][:1] if len(session.args) > 1 else ""
        info = self.center.calls.get(call_id)
        waiting: WaitingCall | None = info.extra.get("ivr") if info is not None else None
        if (
            info is None
            or waiting is None
            or waiting.action is None
            or key not in waiting.action.exit_keys
        ):
            await session.set_variable("ACD_NEXT", "queue")
            return
        self._withdraw(info, waiting, "exit_key", key=key)
        await session.set_variable("ACD_NEXT", "")
        await self._continue(session, waiting, EnterQueue, QueueExit("key", key))

    # ------------------------------------------------------------------ announcements

    def announce_slot(self, call_id: str) -> AnnounceSlot | None:
        """What a scenario call hears at this announcement slot; None for other calls.

        Slots come every ``announce.every`` (or the queue's ``announce_every_seconds``), or
        every ``messages.every`` when that is shorter; each slot says the position and wait
        when they are due, and the next periodic message when it is due.
        """
        info = self.center.calls.get(call_id)
        waiting: WaitingCall | None = info.extra.get("ivr") if info is not None else None
        if info is None or waiting is None or waiting.action is None:
            return None
        action = waiting.action
        now = self.center.now()
        queue = self.center.queue_settings.get(info.queue_id)
        default_every = queue.announce_every_seconds if queue is not None else 60.0
        every = action.announce_every or default_every
        if waiting.last_announcement is not None:
            announce = now - waiting.last_announcement >= every - _slack(every)
        elif action.announce_every and action.announce_first_after > 0:
            announce = True  # the first slot comes at first_after
        else:
            announce = now - waiting.queued_at >= every - _slack(every)
        position = action.announce_position if action.announce_every else True
        wait = action.announce_wait if action.announce_every else True
        announce = announce and (position or wait)
        if announce:
            waiting.last_announcement = now
        message: tuple[str, ...] = ()
        if action.messages_every and action.messages:
            since = waiting.last_message if waiting.last_message is not None else waiting.queued_at
            if now - since >= action.messages_every - _slack(action.messages_every):
                message = action.messages[waiting.message_index % len(action.messages)]
                waiting.message_index += 1
                waiting.last_message = now
        return AnnounceSlot(announce, position, wait, message)

    # ------------------------------------------------------------------ after a restart

    def restore(self, info: CallInfo, values: dict[str, str]) -> None:
        """A waiting caller rebuilt from its channel variables after a (re)connection: put
        its queue node back (announcements, messages, exit keys, max wait). The node comes
        from the version of the scenario served now; the call keeps recording the version
        it entered with (``ACD_SCENARIO_VERSION``)."""
        if not info.scenario:
            return
        version = self.registry.get(info.scenario)
        node_id = values.get("ACD_NODE") or ""
        if version is None or not isinstance(version.scenario.nodes.get(node_id), QueueNode):
            log.warning(
                "call %s waits at node %r of scenario %s, which is not served now: it keeps "
                "its place with the queue's defaults",
                info.call_id,
                node_id,
                info.scenario,
            )
            return
        state = CallState(
            language=info.language,
            caller=info.caller_number,
            dialled=info.dialled,
            topic=info.topic,
            skills={r.skill: r.min_level for r in info.requirements},
            priority=info.priority,
            category=info.category,
        )
        ivr = IvrCall(
            call_id=info.call_id,
            channel=info.channel,
            caller=info.caller_number,
            caller_name=info.caller_name,
            dialled=info.dialled,
            arrived_at=info.arrived_at,
            version=version,
            state=state,
            channel_language=info.language,
        )
        action = _first_action(walk(version.scenario, state, self.clock, node_id))
        if not isinstance(action, EnterQueue):
            return
        try:
            queued_at = float(values.get("ACD_QUEUED") or info.arrived_at)
        except ValueError:
            queued_at = info.arrived_at
        waiting = WaitingCall(ivr, node_id, action, queued_at)
        self._apply_queue_node(info, waiting)

    # ------------------------------------------------------------------ the walk

    async def _run(
        self,
        session: AgiSession,
        ivr: IvrCall,
        steps: Generator[Action, Reply, Outcome],
        reply: Reply = None,
    ) -> None:
        try:
            try:
                while True:
                    action = steps.send(reply)
                    result = await self._perform(session, ivr, action)
                    if isinstance(result, _Suspended):
                        steps.close()
                        return
                    reply = result
            except StopIteration as stop:
                outcome: Outcome = stop.value
        except AgiHangup:
            self._ivr_event(ivr, "caller_hung_up", ivr.path[-1] if ivr.path else "")
            raise
        await self._finish(session, ivr, outcome)

    async def _continue(
        self, session: AgiSession, waiting: WaitingCall, expected: type, reply: Reply
    ) -> None:
        """Walk again from the node the call stopped at, answering its action with ``reply``."""
        ivr = waiting.ivr
        ivr.channel = session.channel
        state = ivr.state
        if expected is RecordVoicemail and state.steps and state.steps[-1].node == waiting.node:
            state.steps.pop()  # the voicemail node notes itself again
        steps = walk(ivr.version.scenario, state, self.clock, waiting.node)
        first = _first_action(steps)
        if not isinstance(first, expected):
            log.warning(
                "call %s: node %s of scenario %s is no longer a %s node",
                ivr.call_id,
                waiting.node,
                ivr.version.name,
                expected.__name__,
            )
            steps.close()
            await session.set_variable("ACD_NEXT", "fallback")
            return
        await self._ensure_language(session, ivr, state.language)
        await self._run(session, ivr, steps, reply)

    async def _perform(
        self, session: AgiSession, ivr: IvrCall, action: Action
    ) -> Reply | _Suspended:
        if isinstance(action, Play):
            await self._ensure_language(session, ivr, action.language)
            for name in action.files:
                await session.stream_file(name)
            self._event(
                ivr.call_id, "prompt", node=ivr.prefix + action.node, prompts=list(action.files)
            )
            return None
        if isinstance(action, Collect):
            await self._ensure_language(session, ivr, action.language)
            keys = await self._collect(session, action)
            self._event(
                ivr.call_id,
                "digits",
                node=ivr.prefix + action.node,
                keys=keys or "",
                prompts=list(action.files),
            )
            return keys
        if isinstance(action, SetLanguage):
            await self._ensure_language(session, ivr, action.language)
            return None
        if isinstance(action, EnterQueue):
            return await self._enter_queue(session, ivr, action)
        if isinstance(action, RecordVoicemail):
            return await self._voicemail(session, ivr, action)
        if isinstance(action, BookCallback):
            self._event(
                ivr.call_id,
                "callback_requested",
                scenario=ivr.version.name,
                scenario_version=ivr.version.version,
                node=action.node,
                number=action.number,
                skills=format_requirements(action.requirements),
                topic=action.topic,
                category=action.category,
                language=action.language,
            )
            if self.on_callback is not None:
                email = await session.get_variable("ACD_CALLER_EMAIL")
                queue_id = ivr.queue or self.center.routing.default_queue
                priority = ivr.queue_priority
                if priority is None:
                    priority = ivr.state.priority
                self.on_callback(
                    call_id=ivr.call_id,
                    number=action.number,
                    queue_id=queue_id,
                    requirements=action.requirements,
                    priority=priority,
                    language=action.language,
                    arrived_at=ivr.arrived_at,
                    email=email or None,
                    caller_name=ivr.caller_name,
                    topic=action.topic,
                    category=action.category,
                )
            return None
        raise TypeError(f"unknown scenario action {action!r}")  # pragma: no cover

    async def _ensure_language(self, session: AgiSession, ivr: IvrCall, language: str) -> None:
        if ivr.channel_language != language:
            await session.set_variable("CHANNEL(language)", language)
            ivr.channel_language = language

    async def _collect(self, session: AgiSession, action: Collect) -> str:
        timeout_ms = max(1, round(action.timeout * 1000))
        for name in action.files[:-1]:
            key = await session.stream_file(name, ALL_KEYS)
            if key:
                if action.max_digits == 1 or key == "#":
                    return key
                rest, _ = await session.get_data("", timeout_ms, action.max_digits - 1)
                return key + rest
        last = action.files[-1] if action.files else ""
        digits, timed_out = await session.get_data(last, timeout_ms, action.max_digits)
        if not digits and not timed_out:
            return "#"  # GET DATA's terminator, pressed first
        return digits

    async def _enter_queue(
        self, session: AgiSession, ivr: IvrCall, action: EnterQueue
    ) -> Reply | _Suspended:
        center = self.center
        node = ivr.version.scenario.node(action.node)
        if isinstance(node, QueueNode) and node.no_agents and not self._anyone_can_take(action):
            self._event(ivr.call_id, "queue_exit", node=action.node, reason="no_agents")
            return QueueExit("no_agents")
        queue_id = action.queue or center.routing.default_queue
        now = center.now()
        path = [*ivr.path, ivr.prefix + action.node]
        info = CallInfo(
            call_id=ivr.call_id,
            channel=session.channel,
            queue_id=queue_id,
            language=action.language,
            priority=action.priority,
            requirements=action.requirements,
            arrived_at=min(ivr.arrived_at, now),
            caller_number=ivr.caller,
            caller_name=ivr.caller_name,
            dialled=ivr.dialled,
            scenario=ivr.version.name,
            scenario_version=ivr.version.version,
            topic=action.topic,
            category=action.category,
            ivr_path=tuple(path),
        )
        waiting = WaitingCall(ivr, action.node, action, now)
        ivr.queue, ivr.queue_priority = queue_id, action.priority
        for name, value in (
            ("ACD_QUEUE", queue_id),
            ("ACD_SKILLS", format_requirements(action.requirements)),
            ("ACD_LANGUAGE", action.language),
            ("ACD_PRIORITY", str(action.priority)),
            ("ACD_SCENARIO", ivr.version.name),
            ("ACD_SCENARIO_VERSION", ivr.version.version),
            ("ACD_TOPIC", action.topic or ""),
            ("ACD_CATEGORY", action.category or ""),
            ("ACD_NODE", action.node),
            ("ACD_QUEUED", f"{now:.3f}"),
            ("ACD_EXIT_KEYS", "".join(sorted(action.exit_keys))),
            # WaitExten's m() needs a class: without one Asterisk plays no music at all
            ("ACD_MUSIC", action.music or "default"),
            ("ACD_NEXT", "queue"),
        ):
            await session.set_variable(name, value)
        self._ivr_event(ivr, "queue", action.node, queue=queue_id, path=path)
        self._apply_queue_node(info, waiting)
        center.queue_call(info)
        if info.call_id not in center.calls:
            log.error("call %s could not be queued in %s", ivr.call_id, queue_id)
            self._cancel_timer(waiting)
            await session.set_variable("ACD_NEXT", "fallback")
        return SUSPENDED

    def _apply_queue_node(self, info: CallInfo, waiting: WaitingCall) -> None:
        """Announcement slots, and the overflow timer, of the call's queue node."""
        action = waiting.action
        assert action is not None
        info.extra["ivr"] = waiting
        every = action.announce_every
        if action.messages_every:
            queue = self.center.queue_settings.get(info.queue_id)
            base = every or (queue.announce_every_seconds if queue is not None else None)
            every = min(base, action.messages_every) if base else action.messages_every
        info.announce_every = every
        if action.announce_every and action.announce_first_after > 0:
            info.announce_first_after = action.announce_first_after
        if action.max_wait is not None:
            delay = max(0.0, waiting.queued_at + action.max_wait - self.center.now())
            self._arm_overflow(info.call_id, waiting, delay)

    def _anyone_can_take(self, action: EnterQueue) -> bool:
        """Whether a logged-in agent (available or not) has the skills and the language."""
        for agent in self.center.router.agents.values():
            if agent.state is AgentState.LOGGED_OUT:
                continue
            profile = agent.profile
            if action.language not in profile.languages:
                continue
            if all(profile.skills.get(r.skill, 0) >= r.min_level for r in action.requirements):
                return True
        return False

    async def _voicemail(
        self, session: AgiSession, ivr: IvrCall, action: RecordVoicemail
    ) -> Reply | _Suspended:
        await self._ensure_language(session, ivr, action.language)
        for name in action.files:
            await session.stream_file(name)
        await session.set_variable("ACD_MAILBOX", action.mailbox)
        node = ivr.version.scenario.node(action.node)
        then = node.next if isinstance(node, VoicemailNode) else None
        if then is None:
            await session.set_variable("ACD_NEXT", "voicemail")
            return None  # the walk ends with a voicemail outcome
        waiting = WaitingCall(ivr, action.node, None, self.center.now())
        self._park(waiting)
        await session.set_variable("ACD_NODE", action.node)
        await session.set_variable("ACD_RESUME", "voicemail")
        await session.set_variable("ACD_NEXT", "voicemail")
        self._ivr_event(ivr, "voicemail", action.node, mailbox=action.mailbox)
        return SUSPENDED

    async def _finish(self, session: AgiSession, ivr: IvrCall, outcome: Outcome) -> None:
        if outcome.kind == "transfer" and outcome.scenario is not None:
            await self._transfer_to_scenario(session, ivr, outcome)
            return
        extra: dict[str, Any] = {}
        if outcome.kind == "transfer" and outcome.number is not None:
            await session.set_variable("ACD_TRANSFER_TO", outcome.number)
            await session.set_variable("ACD_NEXT", "transfer")
            extra["number"] = outcome.number
        elif outcome.kind == "voicemail":
            pass  # ACD_NEXT=voicemail is set
        elif outcome.kind in ("hangup", "callback"):
            await session.set_variable("ACD_NEXT", "hangup")
        if outcome.reason:
            extra["reason"] = outcome.reason
        self._ivr_event(ivr, outcome.kind, outcome.node, **extra)

    async def _transfer_to_scenario(
        self, session: AgiSession, ivr: IvrCall, outcome: Outcome
    ) -> None:
        assert outcome.scenario is not None
        target = self.registry.transfer_target(ivr.version, outcome.scenario)
        entry = entry_for(target.scenario, ivr.dialled) if target is not None else None
        if target is None or entry is None or ivr.transfers >= MAX_TRANSFERS:
            why = (
                f"transferred too often ({ivr.transfers})"
                if target is not None and entry is not None
                else f"scenario {outcome.scenario} is not being served"
            )
            log.error("call %s: transfer from %s: %s", ivr.call_id, ivr.version.name, why)
            self._ivr_event(ivr, "fallback", outcome.node, reason=why)
            await session.set_variable("ACD_NEXT", "fallback")
            return
        self._ivr_event(ivr, "transfer", outcome.node, to_scenario=target.name)
        language = ivr.state.language
        if language not in target.scenario.languages:
            language = target.scenario.language
        ivr.earlier_path = ivr.path
        ivr.transfers += 1
        ivr.version = target
        ivr.state = CallState(language=language, caller=ivr.caller, dialled=ivr.dialled)
        self._scenario_event(ivr, entry)
        await self._run(session, ivr, walk(target.scenario, ivr.state, self.clock, entry))

    # ------------------------------------------------------------------ leaving the queue

    def _arm_overflow(self, call_id: str, waiting: WaitingCall, delay: float) -> None:
        self._cancel_timer(waiting)
        loop = asyncio.get_running_loop()
        waiting.overflow_timer = loop.call_later(delay, self._overflow_due, call_id, waiting)

    @staticmethod
    def _cancel_timer(waiting: WaitingCall) -> None:
        if waiting.overflow_timer is not None:
            waiting.overflow_timer.cancel()
            waiting.overflow_timer = None

    def _overflow_due(self, call_id: str, waiting: WaitingCall) -> None:
        waiting.overflow_timer = None
        info = self.center.calls.get(call_id)
        call = self.center.router.calls.get(call_id)
        if info is None or call is None or info.extra.get("ivr") is not waiting:
            return  # answered, abandoned, or already out of the queue
        if call.status is CallStatus.RINGING:
            self._arm_overflow(call_id, waiting, RINGING_RETRY)  # let the offer play out
            return
        if call.status is not CallStatus.WAITING:
            return
        self._withdraw(info, waiting, "overflow")
        self._park(waiting)
        send = self.send_to_ivr
        if send is None:
            log.error("call %s overflowed but cannot be sent back to the IVR", call_id)
            return
        channel = info.channel

        async def redirect() -> None:
            try:
                await send(channel, "overflow")
            except Exception as exc:  # the caller hung up meanwhile
                log.info("call %s: overflow redirect failed: %s", call_id, exc)
                self._resuming.pop(call_id, None)

        self.center._spawn(redirect(), f"overflow {call_id}")

    def _withdraw(
        self, info: CallInfo, waiting: WaitingCall, reason: str, key: str | None = None
    ) -> None:
        self._cancel_timer(waiting)
        info.extra.pop("ivr", None)
        data: dict[str, Any] = {"node": waiting.node, "reason": reason}
        if key is not None:
            data["key"] = key
        self._event(info.call_id, "queue_exit", **data)
        self.center.feed(CallWithdrawn(self.center.now(), info.call_id, reason))

    def _park(self, waiting: WaitingCall) -> None:
        now = time.monotonic()
        for call_id, old in list(self._resuming.items()):
            if now - old.parked_at > RESUME_TTL:
                del self._resuming[call_id]
        waiting.parked_at = now
        self._resuming[waiting.ivr.call_id] = waiting

    async def _rebuild(self, session: AgiSession, call_id: str) -> WaitingCall | None:
        """The call's state from its channel variables (the daemon restarted meanwhile)."""
        values: dict[str, str] = {}
        for name in (
            "ACD_SCENARIO",
            "ACD_NODE",
            "ACD_LANGUAGE",
            "ACD_TOPIC",
            "ACD_CATEGORY",
            "ACD_SKILLS",
            "ACD_PRIORITY",
            "ACD_DNID",
            "ACD_ARRIVED",
        ):
            values[name] = await session.get_variable(name) or ""
        version = self.registry.get(values["ACD_SCENARIO"])
        node = values["ACD_NODE"]
        if version is None or node not in version.scenario.nodes:
            return None
        skills: dict[str, int] = {}
        for part in filter(None, values["ACD_SKILLS"].split(",")):
            skill, _, level = part.partition(":")
            skills[skill] = int(level) if level.isdigit() else 1
        language = values["ACD_LANGUAGE"]
        if language not in version.scenario.languages:
            language = version.scenario.language
        priority = values["ACD_PRIORITY"]
        state = CallState(
            language=language,
            caller=session.callerid,
            dialled=values["ACD_DNID"] or None,
            topic=values["ACD_TOPIC"] or None,
            skills=skills,
            priority=int(priority) if priority.isdigit() else None,
            category=values["ACD_CATEGORY"] or None,
        )
        try:
            arrived = float(values["ACD_ARRIVED"])
        except ValueError:
            arrived = self.center.now()
        ivr = IvrCall(
            call_id=call_id,
            channel=session.channel,
            caller=session.callerid,
            caller_name=session.env.get("calleridname"),
            dialled=state.dialled,
            arrived_at=arrived,
            version=version,
            state=state,
        )
        return WaitingCall(ivr, node, None, self.center.now())

    # ------------------------------------------------------------------ call events

    def _event(self, call_id: str, kind: str, **data: Any) -> None:
        self.center.sink.emit(CallEvent(call_id, self.center.now(), kind, data))

    def _scenario_event(self, ivr: IvrCall, entry: str) -> None:
        self._event(
            ivr.call_id,
            "scenario",
            scenario=ivr.version.name,
            scenario_version=ivr.version.version,
            file=str(ivr.version.path),
            entry=entry,
            dialled=ivr.dialled,
        )

    def _ivr_event(self, ivr: IvrCall, outcome: str, node: str, **data: Any) -> None:
        state = ivr.state
        fields: dict[str, Any] = {
            "scenario": ivr.version.name,
            "scenario_version": ivr.version.version,
            "outcome": outcome,
            "node": node,
            "path": ivr.path,
            "language": state.language,
            "topic": state.topic,
            "category": state.category,
            "out_of_hours": state.out_of_hours,
            # what happened at each node: the keys pressed, the schedule's decision, ...
            "steps": [
                {"node": ivr.prefix + step.node, "type": step.type, "note": step.note}
                for step in state.steps
            ],
        }
        fields.update(data)
        self._event(ivr.call_id, "ivr", **fields)


def _first_action(steps: Generator[Action, Reply, Outcome]) -> Action | None:
    try:
        return next(steps)
    except StopIteration:
        return None


def _slack(every: float) -> float:
    """Tolerance for "is it due" at an announcement slot: slots come a little late or early
    (the Redirect takes a moment), never by more than this."""
    return min(2.0, every / 10)
