"""The call centre at run time: the router, the live calls, and the clock that drives them.

One object owns the :class:`~acd.core.router.Router` and is the only place that feeds it.
Adapters (the FastAGI scripts, the AMI telephony) report what happened through its methods;
it turns the router's commands into side effects through the :class:`Telephony` port and a
:class:`~acd.call_events.CallEventSink`. No business rule lives here: who gets which call is
decided by the core.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from collections.abc import Callable, Collection, Coroutine
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from acd.call_events import CallEvent, CallEventSink
from acd.core.agents import AgentState
from acd.core.calls import CallOutcome, CallStatus, SkillRequirement, format_requirements
from acd.core.commands import (
    AgentStateChanged,
    CallFinished,
    CallRequeued,
    Command,
    ConnectCall,
    RingAgent,
    StopRinging,
)
from acd.core.errors import RoutingError
from acd.core.events import (
    AgentBreak,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentReady,
    CallAbandoned,
    CallArrived,
    CallEnded,
    CallResumed,
    Event,
    OfferAnswered,
    OfferRejected,
    PhoneStatusChanged,
    Tick,
    WrapUpDone,
)
from acd.core.ewt import WaitEstimate
from acd.core.router import Router
from acd.presence import PresenceStore
from acd.routing_config import AgentSettings, RoutingSettings

log = logging.getLogger(__name__)


@dataclass(slots=True)
class CallInfo:
    """What the daemon knows about a live call beyond the router's view."""

    call_id: str
    channel: str  # the caller's channel name in Asterisk
    queue_id: str
    language: str
    priority: int
    requirements: tuple[SkillRequirement, ...]
    arrived_at: float
    caller_number: str | None = None
    caller_name: str | None = None
    dialled: str | None = None
    agent_id: str | None = None
    agent_leg: str | None = None  # Uniqueid we gave the agent's originated channel
    agent_channel: str | None = None  # its channel name, once Asterisk reports it
    accepted_by: str | None = None  # the agent whose phone said yes; talk starts in the bridge
    caller_in_bridge: bool = False
    agent_in_bridge: bool = False
    announcements: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    # Set when an IVR scenario queued the call (acd.asterisk.ivr): which one, which version
    # of its file, and what the caller chose; recorded on the "queued" event.
    scenario: str | None = None
    scenario_version: str | None = None
    topic: str | None = None
    category: str | None = None
    ivr_path: tuple[str, ...] = ()
    # The scenario's queue node may override the queue's announce_every_seconds (and delay
    # the first announcement slot).
    announce_every: float | None = None
    announce_first_after: float | None = None
    # A callback (acd.callbacks): no caller channel; the agent is rung first and then this
    # number is dialled. ``outcome`` / ``finished_data`` override the "finished" event.
    callback_number: str | None = None
    outcome: str | None = None
    finished_data: dict[str, Any] = field(default_factory=dict)


class Telephony(Protocol):
    """What the call centre asks of the PBX (implemented over AMI)."""

    async def ring(self, call: CallInfo, agent: AgentSettings, timeout: float) -> None: ...

    async def stop_ringing(self, call: CallInfo, agent: AgentSettings) -> None: ...

    async def announce(self, call: CallInfo) -> None: ...


class CallCenter:
    def __init__(
        self,
        router: Router,
        routing: RoutingSettings,
        sink: CallEventSink,
        *,
        clock: Callable[[], float] = time.time,
        presence: PresenceStore | None = None,
    ) -> None:
        self.router = router
        self.routing = routing
        self.sink = sink
        self.clock = clock
        self.presence = presence
        self.telephony: Telephony | None = None
        self.calls: dict[str, CallInfo] = {}
        self.call_by_channel: dict[str, str] = {}  # caller channel name -> call ID
        self.agents_by_id = {a.id: a for a in routing.agents}
        self.agents_by_phone = {a.phone: a for a in routing.agents}
        #: agent -> its own phone, while it is logged in at another (hot-desking, ``*70``)
        self._home_phone: dict[str, str] = {}
        self._ring_started: dict[str, float] = {}  # call -> when the offer ringing now began
        self.queue_settings = {q.id: q for q in routing.queues}
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._announce_due: list[tuple[float, str, int]] = []
        self.routing_latency: list[float] = []  # seconds from a freeing event to ring sent
        #: called with each finished call (its info, or None, and the outcome recorded)
        self.finished_hooks: list[Callable[[str, CallInfo | None, str], None]] = []

    # ------------------------------------------------------------------ clock and feeding

    def now(self) -> float:
        """Wall-clock time that never goes backwards (NTP steps are absorbed)."""
        return max(self.clock(), self.router.now)

    def feed(self, event: Event) -> list[Command]:
        """Apply an event to the router and carry out the commands; bad events are logged."""
        try:
            commands = self.router.handle(event)
        except RoutingError as exc:
            log.info("ignored %s: %s", type(event).__name__, exc)
            return []
        for command in commands:
            self._execute(command)
        self._wake.set()
        return commands

    def _execute(self, command: Command) -> None:
        if isinstance(command, RingAgent):
            self._on_ring(command)
        elif isinstance(command, StopRinging):
            self._on_stop_ringing(command)
        elif isinstance(command, ConnectCall):
            self._emit(
                command.call_id,
                command.at,
                "connected",
                agent_id=command.agent_id,
                ring_seconds=self._ring_seconds(command.call_id, command.at),
            )
        elif isinstance(command, CallRequeued):
            self._emit(
                command.call_id,
                command.at,
                "requeued",
                agent_id=command.agent_id,
                reason=command.reason,
            )
        elif isinstance(command, CallFinished):
            self._ring_started.pop(command.call_id, None)
            info = self.calls.pop(command.call_id, None)
            if info is not None and info.channel:
                self.call_by_channel.pop(info.channel, None)
            outcome = self._outcome(command, info)
            # Hooks (acd.callbacks) see the call first and may add to its "finished" event.
            for hook in self.finished_hooks:
                try:
                    hook(command.call_id, info, outcome)
                except Exception:
                    log.exception("finished hook for %s failed", command.call_id)
            self._emit(
                command.call_id,
                command.at,
                "finished",
                outcome=outcome,
                agent_id=command.agent_id,
                wait_seconds=round(command.wait_seconds, 3),
                talk_seconds=round(command.talk_seconds, 3),
                channel=(info.channel or None) if info else None,
                **(info.finished_data if info is not None else {}),
            )
        elif isinstance(command, AgentStateChanged):
            log.info(
                "agent %s: %s -> %s%s",
                command.agent_id,
                command.old.value,
                command.new.value,
                f" ({command.reason})" if command.reason else "",
            )
            agent = self.router.agent(command.agent_id)
            if command.new is AgentState.LOGGED_OUT:
                self.unseat(command.agent_id)
            if self.presence is not None:
                away = command.agent_id in self._home_phone  # at another desk's phone
                phone = self.agents_by_id[command.agent_id].phone if away else None
                self.presence.record(command.agent_id, agent.state, agent.break_reason, phone)
            on_a_call = command.new in (AgentState.RINGING, AgentState.ON_CALL)
            state = {
                "agent_id": command.agent_id,
                "old": command.old.value,
                "new": command.new.value,
                "reason": command.reason,
                "call_id": agent.call_id if on_a_call else None,
            }
            # Not a call's event: call_id "" (see acd.storage.writer.AGENT_STATE).
            self.sink.emit(CallEvent("", command.at, "agent_state", state))

    def _outcome(self, command: CallFinished, info: CallInfo | None) -> str:
        """The router's outcome, with abandons under the queue's threshold told apart."""
        if info is not None and info.outcome is not None:
            return info.outcome
        outcome = command.outcome.value
        if (
            info is not None
            and info.callback_number is not None
            and outcome == CallOutcome.ANSWERED.value
            and not info.caller_in_bridge
        ):
            return "callback"  # the agent took it, but the caller was never reached
        queue = self.queue_settings.get(info.queue_id) if info is not None else None
        if (
            outcome == CallOutcome.ABANDONED.value
            and queue is not None
            and command.wait_seconds < queue.short_abandon_seconds
        ):
            return "short_abandon"
        return outcome

    def _emit(self, call_id: str, at: float, kind: str, **data: Any) -> None:
        self.sink.emit(CallEvent(call_id, at, kind, data))

    def _spawn(self, coro: Coroutine[Any, Any, None], what: str) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("%s failed: %r", what, t.exception())

        task.add_done_callback(done)

    # ------------------------------------------------------------------ router commands

    def _on_ring(self, command: RingAgent) -> None:
        info = self.calls.get(command.call_id)
        agent = self.agents_by_id.get(command.agent_id)
        explanation = command.explanation
        self._ring_started[command.call_id] = command.at
        self._emit(
            command.call_id,
            command.at,
            "offered",
            agent_id=command.agent_id,
            deadline=command.deadline,
            trigger=explanation.trigger if explanation else None,
            candidates=[c.agent_id for c in explanation.candidates] if explanation else [],
            excluded={e.agent_id: e.reason.value for e in explanation.excluded}
            if explanation
            else {},
            # The lists above are bounded (the best candidates, a few named per reason); these
            # count everyone.
            candidate_count=explanation.candidate_count if explanation else 0,
            excluded_counts={r.value: n for r, n in explanation.excluded_counts.items()}
            if explanation
            else {},
        )
        if info is None or agent is None or self.telephony is None:
            log.error(
                "cannot ring %s for %s: unknown call or agent", command.agent_id, command.call_id
            )
            return
        info.agent_id = agent.id
        timeout = max(0.5, command.deadline - self.now())
        telephony = self.telephony

        async def ring() -> None:
            try:
                await telephony.ring(info, agent, timeout)
            except Exception as exc:  # the phone could not be rung: a failed offer
                log.warning("ringing %s for %s failed: %s", agent.id, info.call_id, exc)
                self.offer_failed(info.call_id, agent.id)

        self._spawn(ring(), f"ring {agent.id}")

    def _ring_seconds(self, call_id: str, at: float) -> float | None:
        """How long the offer that ends now rang (None if it is not known)."""
        started = self._ring_started.pop(call_id, None)
        return None if started is None else round(max(0.0, at - started), 3)

    def _on_stop_ringing(self, command: StopRinging) -> None:
        self._emit(
            command.call_id,
            command.at,
            "ring_ended",
            agent_id=command.agent_id,
            reason=command.reason,
            ring_seconds=self._ring_seconds(command.call_id, command.at),
        )
        info = self.calls.get(command.call_id)
        agent = self.agents_by_id.get(command.agent_id)
        if info is None or agent is None or self.telephony is None:
            return
        telephony = self.telephony
        self._spawn(telephony.stop_ringing(info, agent), f"stop ringing {agent.id}")
        info.agent_id = None
        info.accepted_by = None

    # ------------------------------------------------------------------ what adapters report

    def queue_call(self, info: CallInfo) -> None:
        """The IVR is done: the caller now waits in Asterisk for an agent."""
        if info.call_id in self.router.calls:
            return
        self.calls[info.call_id] = info
        if info.channel:  # a callback has no caller channel
            self.call_by_channel[info.channel] = info.call_id
        now = self.now()
        self._emit(
            info.call_id,
            now,
            "queued",
            queue=info.queue_id,
            language=info.language,
            priority=info.priority,
            skills=format_requirements(info.requirements),
            channel=info.channel or None,
            **_scenario_data(info),
            **({"callback_number": info.callback_number} if info.callback_number else {}),
        )
        commands = self.feed(
            CallArrived(
                now,
                info.call_id,
                info.queue_id,
                info.requirements,
                info.language,
                info.priority,
                arrived_at=min(info.arrived_at, now),
            )
        )
        if not commands and info.call_id not in self.router.calls:
            self.calls.pop(info.call_id, None)
            if info.channel:
                self.call_by_channel.pop(info.channel, None)
            return
        self._schedule_announcement(info, now)

    def resume_call(self, info: CallInfo, agent_id: str, answered_at: float) -> bool:
        """After a restart: ``info``'s caller is still talking to ``agent_id`` (answered at
        ``answered_at``). The router takes the call over as connected, the agent on call;
        False (nothing changed) if it cannot, e.g. the agent is not available."""
        now = self.now()
        answered = min(answered_at, now)
        info.accepted_by = info.agent_id = agent_id
        info.caller_in_bridge = info.agent_in_bridge = True
        self.calls[info.call_id] = info
        if info.channel:
            self.call_by_channel[info.channel] = info.call_id
        event = CallResumed(
            now,
            info.call_id,
            info.queue_id,
            info.requirements,
            agent_id,
            min(info.arrived_at, answered),
            answered,
            info.language,
            info.priority,
        )
        try:
            self.router_handle_strict(event)
        except RoutingError as exc:
            log.info("call %s not resumed with agent %s: %s", info.call_id, agent_id, exc)
            self.calls.pop(info.call_id, None)
            if info.channel:
                self.call_by_channel.pop(info.channel, None)
            return False
        self._emit(info.call_id, now, "resumed", agent_id=agent_id, answered_at=answered)
        return True

    def offer_accepted(self, call_id: str, agent_id: str) -> bool:
        """The agent picked up: they may be connected only if the offer is still theirs.

        The call counts as answered once caller and agent are both in the bridge
        (:meth:`entered_bridge`): an agent who hangs up before that has not talked to the
        caller, who keeps their place in the queue.
        """
        info = self._call_of(call_id, agent_id, CallStatus.RINGING)
        if info is None:
            return False
        info.accepted_by = agent_id
        info.caller_in_bridge = info.agent_in_bridge = False
        if info.callback_number is not None:
            # A callback: the agent took it and now dials the caller; dialling counts as
            # handling (an unreachable caller ends it, see acd.callbacks).
            self.offer_answered(call_id, agent_id)
        return True

    def _call_of(self, call_id: str, agent_id: str, status: CallStatus) -> CallInfo | None:
        """The live call ``call_id`` if it is ``status`` with ``agent_id``, else None."""
        call = self.router.calls.get(call_id)
        info = self.calls.get(call_id)
        if call is None or info is None or call.status is not status or call.agent_id != agent_id:
            return None
        return info

    def entered_bridge(self, call_id: str, *, caller: bool) -> None:
        """The caller's or the agent's channel entered the bridge; both in: answered."""
        info = self.calls.get(call_id)
        if info is None or info.accepted_by is None:
            return
        if info.callback_number is not None:
            # The agent's leg enters a bridge only once the dialled caller has answered.
            info.caller_in_bridge = info.agent_in_bridge = True
            return
        if caller:
            info.caller_in_bridge = True
        else:
            info.agent_in_bridge = True
        if info.caller_in_bridge and info.agent_in_bridge:
            self.offer_answered(call_id, info.accepted_by)

    def offer_answered(self, call_id: str, agent_id: str) -> bool:
        """Caller and agent are talking (if the offer is still the agent's)."""
        call = self.router.calls.get(call_id)
        if call is None or call.status is not CallStatus.RINGING or call.agent_id != agent_id:
            return False
        return bool(self.feed(OfferAnswered(self.now(), call_id, agent_id)))

    def offer_failed(self, call_id: str, agent_id: str) -> None:
        call = self.router.calls.get(call_id)
        if call is not None and call.status is CallStatus.RINGING and call.agent_id == agent_id:
            self.feed(OfferRejected(self.now(), call_id, agent_id))

    def caller_hung_up(self, call_id: str) -> None:
        call = self.router.calls.get(call_id)
        if call is None:
            self.calls.pop(call_id, None)
            return
        event = CallEnded if call.status is CallStatus.CONNECTED else CallAbandoned
        self.feed(event(self.now(), call_id))

    def agent_leg_hung_up(self, call_id: str, agent_id: str) -> None:
        call = self.router.calls.get(call_id)
        if call is None or call.agent_id != agent_id:
            return
        if call.status is CallStatus.CONNECTED:
            self.feed(CallEnded(self.now(), call_id))
        elif call.status is CallStatus.RINGING:
            self.feed(OfferRejected(self.now(), call_id, agent_id))

    def transfer(
        self,
        call_id: str,
        agent_id: str,
        requirements: tuple[SkillRequirement, ...],
        reason: str | None = None,
    ) -> CallInfo:
        """The agent's connected call goes back in the queue for ``requirements`` (a blind
        transfer to a skill group): the agent's part ends (outcome ``transferred``, wrap-up
        follows) and the caller keeps their place (the original arrival time). Returns the
        call as it now waits; the telephony moves the caller's channel (AMI Redirect).

        Raises :class:`RoutingError` when the agent has no connected call to transfer."""
        info = self._call_of(call_id, agent_id, CallStatus.CONNECTED)
        if info is None:
            raise RoutingError(f"agent {agent_id} has no connected call {call_id}")
        if info.callback_number is not None or not info.channel:
            raise RoutingError("a callback cannot be transferred: the caller was dialled out")
        for requirement in requirements:
            if requirement.skill not in self.router.skills:
                raise RoutingError(f"unknown skill {requirement.skill!r}")
        now = self.now()
        info.outcome = "transferred"
        skills = format_requirements(requirements)
        info.finished_data = {**info.finished_data, "transfer_skills": skills}
        self.feed(CallEnded(now, call_id))
        again = replace(
            info,
            requirements=tuple(requirements),
            agent_id=None,
            agent_leg=None,
            agent_channel=None,
            accepted_by=None,
            caller_in_bridge=False,
            agent_in_bridge=False,
            announcements=0,
            extra={},
            outcome=None,
            finished_data={},
        )
        self._emit(
            call_id,
            now,
            "transferred",
            agent_id=agent_id,
            skills=skills,
            reason=reason,
        )
        self.queue_call(again)
        return again

    def phone_status(
        self, endpoint: str, *, registered: bool | None = None, busy: bool | None = None
    ) -> None:
        agent = self.agents_by_phone.get(endpoint)
        if agent is None:
            return
        state = self.router.agent(agent.id)
        if busy is not None and state.state in (AgentState.RINGING, AgentState.ON_CALL):
            busy = None  # our own call makes the phone busy: not a foreign call
        if registered is None and busy is None:
            return
        if (registered is None or registered == state.phone_registered) and (
            busy is None or busy == state.phone_busy
        ):
            return
        self.feed(PhoneStatusChanged(self.now(), agent.id, registered, busy))

    def seat(self, agent_id: str, phone: str, *, dialled_from: bool = True) -> str | None:
        """Hot-desking: ``agent_id``, logged out, logs in at ``phone``, another desk's; its
        calls ring there until it logs out. Returns why not (the phone's own agent is logged
        in, or this agent is), or None."""
        settings = self.agents_by_id.get(agent_id)
        state = self.router.agents.get(agent_id)
        if settings is None or state is None:
            return f"agent {agent_id} is not routed"
        if settings.phone == phone:
            return None
        if state.state is not AgentState.LOGGED_OUT:
            return f"agent {agent_id} is logged in at phone {settings.phone}: log out first"
        holder = self.agents_by_phone.get(phone)
        if holder is not None and holder.id != agent_id:
            other = self.router.agents.get(holder.id)
            if other is not None and other.state is not AgentState.LOGGED_OUT:
                return f"phone {phone} is agent {holder.id}'s, who is logged in"
        if self.agents_by_phone.get(settings.phone) is settings:
            del self.agents_by_phone[settings.phone]
        self._home_phone.setdefault(agent_id, settings.phone)
        seated = settings.model_copy(update={"phone": phone})
        self.agents_by_id[agent_id] = seated
        self.agents_by_phone[phone] = seated
        log.info("agent %s is at phone %s (its own: %s)", agent_id, phone, settings.phone)
        if dialled_from:  # it is registered, and busy until the feature-code call ends (its
            # device state then says so)
            self.feed(PhoneStatusChanged(self.now(), agent_id, True, True))
        return None

    def unseat(self, agent_id: str) -> None:
        """Back to its own phone (at log-out)."""
        home = self._home_phone.pop(agent_id, None)
        settings = self.agents_by_id.get(agent_id)
        if home is None or settings is None:
            return
        desk = settings.phone
        if self.agents_by_phone.get(desk) is settings:
            del self.agents_by_phone[desk]
            owner = next(
                (a for a in self.agents_by_id.values() if a.phone == desk and a.id != agent_id),
                None,
            )
            if owner is not None:  # the desk's phone is its own agent's again
                self.agents_by_phone[desk] = owner
        back = settings.model_copy(update={"phone": home})
        self.agents_by_id[agent_id] = back
        self.agents_by_phone.setdefault(home, back)
        log.info("agent %s is back at its own phone %s", agent_id, home)

    def agent_command(self, agent_id: str, action: str, reason: str = "") -> list[Command]:
        """A presence change from a phone feature code or the API."""
        now = self.now()
        events: dict[str, Event] = {
            "login": AgentLoggedIn(now, agent_id),
            "logout": AgentLoggedOut(now, agent_id),
            "ready": AgentReady(now, agent_id),
            "break": AgentBreak(now, agent_id, reason),
            "wrapup-done": WrapUpDone(now, agent_id),
        }
        if action not in events:
            raise RoutingError(f"unknown agent action {action!r}")
        return self.router_handle_strict(events[action])

    def router_handle_strict(self, event: Event) -> list[Command]:
        """Like :meth:`feed` but lets the named error through (to tell the agent why)."""
        commands = self.router.handle(event)
        for command in commands:
            self._execute(command)
        self._wake.set()
        return commands

    def estimate(self, call_id: str) -> WaitEstimate | None:
        call = self.router.calls.get(call_id)
        if call is None or call.status is not CallStatus.WAITING:
            return None
        return self.router.estimate_wait(call_id)

    def restore_presence(self, only: Collection[str] | None = None) -> None:
        """Log agents back in as they were before a restart (or as configured): every routed
        agent, or those of ``only`` (agents loaded later, e.g. from the database)."""
        saved = self.presence.load() if self.presence is not None else {}
        seats = self.presence.seats() if self.presence is not None else {}
        configured = {agent.id: agent for agent in self.routing.agents}
        for agent_id in list(self.agents_by_id if only is None else only):
            agent = self.router.agents.get(agent_id)
            if agent is None or agent.state is not AgentState.LOGGED_OUT:
                continue  # not routed, or logged in already
            state, reason = saved.get(agent_id, (None, None))
            config = configured.get(agent_id)
            if state is None and config is not None and config.auto_login:
                state = AgentState.AVAILABLE
            if state in (None, AgentState.LOGGED_OUT):
                continue
            if agent_id in seats:
                refused = self.seat(agent_id, seats[agent_id], dialled_from=False)
                if refused:
                    log.warning(
                        "agent %s not back at phone %s: %s", agent_id, seats[agent_id], refused
                    )
            self.feed(AgentLoggedIn(self.now(), agent_id))
            if state is AgentState.BREAK:
                self.feed(AgentBreak(self.now(), agent_id, reason or "break"))

    # ------------------------------------------------------------------ announcements

    def _schedule_announcement(self, info: CallInfo, now: float) -> None:
        queue = self.queue_settings.get(info.queue_id)
        if queue is None or self.telephony is None or not info.channel:
            return  # a callback has nobody waiting on the line to announce to
        every = info.announce_every or queue.announce_every_seconds
        if info.announcements == 0 and info.announce_first_after:
            every = info.announce_first_after
        heapq.heappush(self._announce_due, (now + every, info.call_id, info.announcements))

    def _due_announcements(self, now: float) -> None:
        while self._announce_due and self._announce_due[0][0] <= now:
            _, call_id, count = heapq.heappop(self._announce_due)
            info = self.calls.get(call_id)
            call = self.router.calls.get(call_id)
            if info is None or call is None or info.announcements != count:
                continue
            info.announcements += 1
            if call.status is CallStatus.WAITING and self.telephony is not None:
                self._spawn(self.telephony.announce(info), f"announce {call_id}")
            self._schedule_announcement(info, now)

    # ------------------------------------------------------------------ the clock loop

    async def run(self) -> None:
        """Deliver Ticks at the router's deadlines and announcements when they are due."""
        while True:
            self._wake.clear()
            now = self.now()
            deadline = self.router.next_deadline()
            if deadline is not None and deadline <= now:
                self.feed(Tick(now))
                continue
            self._due_announcements(now)
            wakes = [
                d
                for d in (deadline, self._announce_due[0][0] if self._announce_due else None)
                if d is not None
            ]
            timeout = max(0.0, min(wakes) - now) if wakes else None
            # asyncio.timeout, not wait_for: on 3.11 wait_for loses a cancel that arrives as
            # the wake-up does, and this loop would then never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.presence is not None:
            self.presence.flush()


def _scenario_data(info: CallInfo) -> dict[str, Any]:
    """The IVR scenario fields of a call's "queued" event (none for the built-in greeting)."""
    if info.scenario is None:
        return {}
    return {
        "scenario": info.scenario,
        "scenario_version": info.scenario_version,
        "topic": info.topic,
        "category": info.category,
        "ivr_path": list(info.ivr_path),
    }
