"""The FastAGI scripts the shipped dialplan calls (see ``asterisk_conf/README.md``).

``inbound``   the IVR: the YAML routing scenario of the dialled number
              (:mod:`acd.asterisk.ivr`), or the built-in greeting when no scenario serves
              it; then queue the call
``resume``    back into the scenario from ``[acd-ivr]`` (a queue's overflow, after voicemail)
``queue-key`` a key pressed while waiting: a queue node's exit key leaves the queue
``announce``  position and estimated wait for a waiting caller (and a scenario's messages)
``connect``   the agent picked up: connect only if the offer is still theirs
``agent``     feature codes from agents' phones: login (ID + PIN), logout, break, ready,
              wrap-up done — each confirmed with a spoken prompt
``callback-result``  a callback's dialled caller did not answer (``DIALSTATUS``)
``voicemail-left``   a message was left: it becomes a task (:mod:`acd.callbacks`)

Scripts only translate between the channel and :class:`~acd.callcenter.CallCenter`; the
routing decisions are the core's. Every value passed to Asterisk is filled in here (AGI
``EXEC`` does not expand ``${VAR}``) and quoted by the FastAGI codec.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import re
from typing import Any

from acd.asterisk.fastagi import AgiError, AgiHangup, AgiSession
from acd.asterisk.ivr import IvrExecutor
from acd.call_events import CallEvent
from acd.callcenter import CallCenter, CallInfo
from acd.core.announce import Prompt, wait_announcement
from acd.core.calls import format_requirements
from acd.core.errors import RoutingError

log = logging.getLogger(__name__)

_ENDPOINT = re.compile(r"^(?:PJSIP|SIP)/(?P<endpoint>[^-/;]+)-")


def endpoint_of(channel: str) -> str | None:
    """``PJSIP/1001-00000007`` -> ``1001``."""
    match = _ENDPOINT.match(channel)
    return match.group("endpoint") if match else None


class AgiScripts:
    def __init__(
        self,
        center: CallCenter,
        default_language: str = "ru",
        ivr: IvrExecutor | None = None,
    ) -> None:
        self.center = center
        self.default_language = default_language
        self.ivr = ivr  # runs the routing scenarios; None: the built-in greeting for all
        #: callbacks and voicemail tasks (acd.callbacks.CallbackManager), set by the app
        self.callbacks: Any = None

    async def __call__(self, session: AgiSession) -> None:
        handler = {
            "inbound": self.inbound,
            "resume": self.resume,
            "queue-key": self.queue_key,
            "announce": self.announce,
            "connect": self.connect,
            "agent": self.agent,
            "callback-result": self.callback_result,
            "voicemail-left": self.voicemail_left,
        }.get(session.script.strip("/"))
        if handler is None:
            log.warning("unknown FastAGI script %r from %s", session.script, session.channel)
            await session.verbose(f"acd: unknown script {session.script}")
            return
        try:
            await handler(session)
        except AgiHangup:
            log.debug("%s hung up during %s", session.channel, session.script)

    # ------------------------------------------------------------------ inbound: IVR + queue

    async def inbound(self, session: AgiSession) -> None:
        center = self.center
        dialled = session.args[0] if session.args else session.dnid
        queue = center.routing.queue_for_number(dialled)
        call_id = await session.get_variable("ACD_CALL_ID") or session.uniqueid
        arrived_text = await session.get_variable("ACD_ARRIVED")
        language = queue.language or self.default_language
        now = center.now()
        try:
            arrived = float(arrived_text) if arrived_text else now
        except ValueError:
            arrived = now
        self._event(
            call_id,
            "arrived",
            channel=session.channel,
            caller=session.callerid,
            caller_name=session.env.get("calleridname"),
            dialled=dialled,
        )
        route = self.ivr.route(dialled) if self.ivr is not None else None
        if self.ivr is not None and route is not None:
            await self.ivr.inbound(session, route, call_id, min(arrived, now), dialled)
            return
        await session.set_variable("CHANNEL(language)", language)
        await session.stream_file("acd/greeting")
        self._event(call_id, "prompt", prompt="acd/greeting")
        info = CallInfo(
            call_id=call_id,
            channel=session.channel,
            queue_id=queue.id,
            language=language,
            priority=queue.priority,
            requirements=queue.requirements(),
            arrived_at=min(arrived, now),
            caller_number=session.callerid,
            caller_name=session.env.get("calleridname"),
            dialled=dialled,
        )
        for name, value in (
            ("ACD_QUEUE", info.queue_id),
            ("ACD_SKILLS", format_requirements(info.requirements)),
            ("ACD_LANGUAGE", info.language),
            ("ACD_PRIORITY", str(info.priority)),
            ("ACD_NEXT", "queue"),
        ):
            await session.set_variable(name, value)
        center.queue_call(info)

    async def resume(self, session: AgiSession) -> None:
        if self.ivr is None:
            await session.set_variable("ACD_NEXT", "fallback")
            return
        await self.ivr.resume(session)

    async def queue_key(self, session: AgiSession) -> None:
        if self.ivr is None:
            await session.set_variable("ACD_NEXT", "queue")
            return
        await self.ivr.queue_key(session)

    # ------------------------------------------------------------------ announcements

    async def announce(self, session: AgiSession) -> None:
        call_id = session.args[0] if session.args else await session.get_variable("ACD_CALL_ID")
        if not call_id:
            return
        estimate = self.center.estimate(call_id)
        if estimate is None:
            return
        info = self.center.calls.get(call_id)
        language = info.language if info else self.default_language
        slot = self.ivr.announce_slot(call_id) if self.ivr is not None else None
        if slot is not None:  # a scenario's queue node: what is due at this slot
            if slot.message:
                for name in slot.message:
                    await session.stream_file(name)
                self._event(call_id, "message", prompts=list(slot.message))
            if not slot.announce:
                return
            prompts = wait_announcement(
                estimate, language, announce_position=slot.position, announce_wait=slot.wait
            )
        else:
            prompts = wait_announcement(estimate, language)
        await self.play(session, prompts)
        self._event(
            call_id,
            "announced",
            language=language,
            position=estimate.position,
            mean_seconds=round(estimate.mean_seconds, 1) if estimate.known else None,
            low_seconds=round(estimate.low_seconds, 1) if estimate.known else None,
            high_seconds=round(estimate.high_seconds, 1) if estimate.known else None,
            prompts=[p.value for p in prompts],
        )

    async def play(self, session: AgiSession, prompts: list[Prompt]) -> None:
        for prompt in prompts:
            if prompt.kind == "number":
                if prompt.gender:
                    await session.command("SAY NUMBER", prompt.value, "", prompt.gender)
                else:
                    await session.say_number(int(prompt.value))
            else:
                await session.stream_file(prompt.value)

    # ------------------------------------------------------------------ the agent picked up

    async def connect(self, session: AgiSession) -> None:
        call_id = session.args[0] if session.args else ""
        agent_id = session.args[1] if len(session.args) > 1 else ""
        if self.center.offer_accepted(call_id, agent_id):
            await session.set_variable("ACD_CONNECT", "yes")
            return
        await session.set_variable("ACD_CONNECT", "no")
        await session.stream_file("acd/call-taken")

    # ------------------------------------------------------------------ callbacks

    async def callback_result(self, session: AgiSession) -> None:
        """``[acd-callback-agent]``: the caller's number was not answered (DIALSTATUS)."""
        args = [*session.args, "", "", ""]
        if self.callbacks is not None:
            self.callbacks.dial_failed(args[0], args[1], args[2] or "UNKNOWN")

    async def voicemail_left(self, session: AgiSession) -> None:
        """``[acd-voicemail]`` / ``[acd-fallback]``: a message was left (VMSTATUS)."""
        args = [*session.args, "", "", ""]
        call_id, mailbox, status = args[0] or session.uniqueid, args[1], args[2]
        if status != "SUCCESS" or self.callbacks is None:
            return
        skills = ""
        language = ""
        with contextlib.suppress(AgiHangup, AgiError):
            skills = await session.get_variable("ACD_SKILLS") or ""
            language = await session.get_variable("ACD_LANGUAGE") or ""
        self.callbacks.voicemail_left(
            call_id, session.callerid, mailbox, skills=skills, language=language or None
        )

    # ------------------------------------------------------------------ feature codes

    async def agent(self, session: AgiSession) -> None:
        action = session.args[0] if session.args else ""
        reason = session.args[1] if len(session.args) > 1 else ""
        endpoint = endpoint_of(session.channel)
        agent = self.center.agents_by_phone.get(endpoint or "")
        if action == "login":
            agent = await self._authenticate(session, agent)
            if agent is None:
                return
            refused = self.center.seat(agent.id, endpoint) if endpoint else None
            if refused:  # hot-desking: the agent logs in at this phone, not its own
                log.info("agent %s: login at %s refused: %s", agent.id, endpoint, refused)
                await session.stream_file("acd/agent-not-allowed")
                return
        elif agent is None:
            await session.stream_file("acd/agent-unknown-phone")
            return
        try:
            self.center.agent_command(agent.id, action, reason)
        except RoutingError as exc:
            log.info("agent %s: %s refused: %s", agent.id, action, exc)
            await session.stream_file("acd/agent-not-allowed")
            return
        await session.stream_file(f"acd/agent-{action}-ok")

    async def _authenticate(self, session: AgiSession, phone_agent: Any) -> Any:
        digits, _ = await session.get_data("acd/enter-agent-id", 5000, 10)
        agent = self.center.agents_by_id.get(digits)
        pin, _ = await session.get_data("acd/enter-pin", 5000, 10)
        expected = agent.pin.get_secret_value() if agent and agent.pin else None
        if agent is None or (expected is not None and not hmac.compare_digest(pin, expected)):
            log.info("failed agent login from %s (agent %r)", session.channel, digits)
            await session.stream_file("acd/agent-login-failed")
            return None
        return agent

    def _event(self, call_id: str, kind: str, **data: Any) -> None:
        self.center.sink.emit(CallEvent(call_id, self.center.now(), kind, data))


__all__ = ["AgiError", "AgiScripts", "endpoint_of"]
