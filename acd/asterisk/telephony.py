"""The call centre's telephony over AMI: ring agents, stop ringing, announce, and translate
what Asterisk reports (hang-ups, failed originates, phone presence) into call-centre facts.

On every (re)connection it resynchronises: waiting callers parked in the ``acd-wait`` and
``acd-announce`` contexts are put back in the queue with their original arrival time, calls
whose channels are gone are closed, and every agent phone's state is read again.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from acd.asterisk.ami import AmiClient, AmiError
from acd.asterisk.ami_codec import AmiMessage
from acd.call_journal import OpenCall
from acd.callcenter import CallCenter, CallInfo
from acd.core.agents import AgentState
from acd.core.calls import SkillRequirement, format_requirements
from acd.core.errors import InvalidValue
from acd.routing_config import AgentSettings

log = logging.getLogger(__name__)

#: OriginateResponse Reason 0: no channel could be made (an unregistered endpoint); the
#: others are the far end's answer (1 hung up, 3 no answer, 5 busy, 8 congestion).
UNREACHABLE = "0"
#: The channel variables a caller's routing is read back from after a (re)connection.
ROUTING_VARIABLES = (
    "ACD_CALL_ID",
    "ACD_QUEUE",
    "ACD_SKILLS",
    "ACD_LANGUAGE",
    "ACD_PRIORITY",
    "ACD_ARRIVED",
    # set by an IVR scenario (acd/asterisk/ivr.py): absent for the built-in one
    "ACD_SCENARIO",
    "ACD_SCENARIO_VERSION",
    "ACD_TOPIC",
    "ACD_CATEGORY",
    "ACD_NODE",
    "ACD_QUEUED",
)
WAIT_CONTEXT = "acd-wait"
WAIT_CONTEXTS = frozenset({WAIT_CONTEXT, "acd-announce"})
AGENT_CONTEXT = "acd-agent"
CALLBACK_AGENT_CONTEXT = "acd-callback-agent"
ANNOUNCE_CONTEXT = "acd-announce"
IVR_CONTEXT = "acd-ivr"

# Device states (DeviceStateChange / DeviceStateList) -> (registered, busy)
_DEVICE_STATES: dict[str, tuple[bool | None, bool | None]] = {
    "UNAVAILABLE": (False, None),
    "INVALID": (False, None),
    "NOT_INUSE": (True, False),
    "INUSE": (True, True),
    "BUSY": (True, True),
    "ONHOLD": (True, True),
    "RINGING": (True, None),
    "RINGINUSE": (True, True),
}
# ExtensionStatus "Status" bit field: 0 idle, 1 in use, 2 busy, 4 unavailable, 8 ringing,
# 16 on hold
_EXTENSION_STATES: dict[int, tuple[bool | None, bool | None]] = {
    0: (True, False),
    1: (True, True),
    2: (True, True),
    4: (False, None),
    8: (True, None),
    9: (True, True),
    16: (True, True),
}
_CONTACT_UP = frozenset({"Reachable", "NonQualified", "Created", "Updated"})
_CONTACT_DOWN = frozenset({"Unreachable", "Removed"})


@dataclass(slots=True)
class AgentLeg:
    """The channel we originate to an agent's phone for one offer."""

    leg_id: str  # the Uniqueid we ask Asterisk to give it (Originate ChannelId)
    call_id: str
    agent_id: str
    channel: str | None = None
    cancelled: bool = False


def parse_skills(text: str) -> tuple[SkillRequirement, ...]:
    """``"operator:3,billing:2"`` -> requirements (the ACD_SKILLS channel variable)."""
    result = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        skill, _, level = part.partition(":")
        result.append(SkillRequirement(skill, int(level or "1")))
    return tuple(result)


class AmiTelephony:
    def __init__(self, ami: AmiClient, center: CallCenter) -> None:
        self.ami = ami
        self.center = center
        self.legs: dict[str, AgentLeg] = {}
        #: calls the journal had open when the daemon started, settled by the first resync
        self.recovering: dict[str, OpenCall] | None = None
        #: caller channel -> call, for conversations that went on while the daemon was down
        self.adopted: dict[str, OpenCall] = {}
        #: called with each waiting caller rebuilt after a (re)connection, before it is
        #: queued, with the channel variables read back (the IVR re-arms its queue node)
        self.on_restore: Callable[[CallInfo, dict[str, str]], None] | None = None
        self._leg_seq = itertools.count(1)
        ami.on_event("Hangup", self._on_hangup)
        ami.on_event("Newchannel", self._on_newchannel)
        ami.on_event("BridgeEnter", self._on_bridge_enter)
        ami.on_event("OriginateResponse", self._on_originate_response)
        ami.on_event("ContactStatus", self._on_contact_status)
        ami.on_event("DeviceStateChange", self._on_device_state)
        ami.on_event("ExtensionStatus", self._on_extension_status)
        ami.on_connected(self.resync)
        ami.on_disconnected(self._link_lost)
        center.telephony = self

    # ------------------------------------------------------------------ actions

    async def ring(self, call: CallInfo, agent: AgentSettings, timeout: float) -> None:
        leg = AgentLeg(
            f"acd-{call.call_id}-{agent.id}-{next(self._leg_seq)}", call.call_id, agent.id
        )
        self.legs[leg.leg_id] = leg
        call.agent_leg = leg.leg_id
        name = (call.caller_name or "").replace('"', "'")
        number = call.caller_number or ""
        variables = [
            f"ACD_CALL_ID={call.call_id}",
            f"ACD_AGENT_ID={agent.id}",
            f"ACD_CALLER_CHANNEL={call.channel}",
        ]
        context = AGENT_CONTEXT
        if call.callback_number is not None:
            # A callback: the agent's phone first, then [acd-callback-agent] dials the caller.
            context = CALLBACK_AGENT_CONTEXT
            number = call.callback_number
            variables += [
                f"ACD_CALLBACK_NUMBER={call.callback_number}",
                f"ACD_CALLBACK_TIMEOUT={call.extra.get('dial_timeout', 40)}",
            ]
        await self.ami.action(
            "Originate",
            {
                "Channel": f"PJSIP/{agent.phone}",
                "Context": context,
                "Exten": "s",
                "Priority": "1",
                "Timeout": str(max(1000, int(timeout * 1000))),
                "Async": "true",
                "CallerID": f'"{name}" <{number}>',
                "ChannelId": leg.leg_id,
                "Variable": variables,
            },
        )

    async def stop_ringing(self, call: CallInfo, agent: AgentSettings) -> None:
        leg = self.legs.get(call.agent_leg or "")
        if leg is None or leg.agent_id != agent.id:
            return
        leg.cancelled = True
        if leg.channel is not None:
            await self._hangup(leg.channel)

    async def announce(self, call: CallInfo) -> None:
        await self.ami.action(
            "Redirect",
            {"Channel": call.channel, "Context": ANNOUNCE_CONTEXT, "Exten": "s", "Priority": "1"},
        )

    async def send_to_ivr(self, channel: str, reason: str) -> None:
        """Take a waiting caller back into the IVR scenario (``acd-ivr``): ``reason`` tells
        the ``resume`` script why (``overflow``)."""
        await self.ami.action(
            "Setvar", {"Channel": channel, "Variable": "ACD_RESUME", "Value": reason}
        )
        await self.ami.action(
            "Redirect",
            {"Channel": channel, "Context": IVR_CONTEXT, "Exten": "s", "Priority": "1"},
        )

    async def transfer_caller(self, call: CallInfo, from_agent: str) -> None:
        """Move a transferred caller out of the bridge with ``from_agent`` back to the music
        on hold of ``acd-wait`` (the daemon has already queued the call again for the new
        skills: the next agent's leg bridges to the caller there), then end that agent's
        leg. The caller's ``ACD_SKILLS`` are updated first, so a restart re-queues them for
        the new skills; exit keys no longer apply."""
        for name, value in (
            ("ACD_SKILLS", format_requirements(call.requirements)),
            ("ACD_EXIT_KEYS", ""),
        ):
            await self.ami.action(
                "Setvar", {"Channel": call.channel, "Variable": name, "Value": value}
            )
        await self.ami.action(
            "Redirect",
            {"Channel": call.channel, "Context": WAIT_CONTEXT, "Exten": "s", "Priority": "1"},
        )
        for leg_id, leg in list(self.legs.items()):
            if leg.call_id == call.call_id and leg.agent_id == from_agent:
                leg.cancelled = True  # its hang-up is this transfer, not the call's end
                if leg.channel is not None:
                    await self._hangup(leg.channel)
                else:
                    self.legs.pop(leg_id, None)

    async def _hangup(self, channel: str) -> None:
        try:
            await self.ami.action("Hangup", {"Channel": channel, "Cause": "16"})
        except AmiError as exc:  # already gone: nothing to do
            log.debug("hangup %s: %s", channel, exc)

    # ------------------------------------------------------------------ events

    def _on_newchannel(self, msg: AmiMessage) -> None:
        leg = self.legs.get(msg.get("Uniqueid") or "")
        if leg is None:
            return
        leg.channel = msg.get("Channel")
        if leg.cancelled and leg.channel:
            self.center._spawn(self._hangup(leg.channel), f"hangup {leg.channel}")

    def _on_hangup(self, msg: AmiMessage) -> None:
        uniqueid = msg.get("Uniqueid") or ""
        leg = self.legs.pop(uniqueid, None)
        if leg is not None:
            if not leg.cancelled:
                self.center.agent_leg_hung_up(leg.call_id, leg.agent_id)
            return
        channel = msg.get("Channel") or ""
        adopted = self.adopted.pop(channel, None)
        if adopted is not None:
            self._close_recovered(adopted, "answered", end_known=True)
            return
        call_id = self.center.call_by_channel.get(channel)
        if call_id is not None:
            self.center.caller_hung_up(call_id)

    def _on_bridge_enter(self, msg: AmiMessage) -> None:
        leg = self.legs.get(msg.get("Uniqueid") or "")
        if leg is not None:
            self.center.entered_bridge(leg.call_id, caller=False)
            return
        call_id = self.center.call_by_channel.get(msg.get("Channel") or "")
        if call_id is not None:
            self.center.entered_bridge(call_id, caller=True)

    def _on_originate_response(self, msg: AmiMessage) -> None:
        if (msg.get("Response") or "").lower() == "success":
            return
        # A failed originate has Uniqueid "<unknown>": find the leg by the dialled phone.
        endpoint = (msg.get("Channel") or "").partition("/")[2]
        agent = self.center.agents_by_phone.get(endpoint)
        if agent is None:
            return
        state = self.center.router.agents.get(agent.id)
        if state is None or state.state is not AgentState.RINGING or state.call_id is None:
            return
        for leg_id, leg in list(self.legs.items()):
            if leg.agent_id == agent.id and leg.call_id == state.call_id and leg.channel is None:
                self.legs.pop(leg_id, None)
        reason = msg.get("Reason") or ""
        if reason == UNREACHABLE:
            # No channel could be made: the phone is not registered (its registration events
            # were missed). Not the agent's miss: the phone counts as unreachable until
            # Asterisk reports it again (ContactStatus, DeviceStateChange).
            log.warning(
                "phone %s of agent %s is unreachable (originate failed)", endpoint, agent.id
            )
            self.center.phone_status(endpoint, registered=False)
            return
        log.info("originate to %s failed (reason %s)", endpoint, reason)
        self.center.offer_failed(state.call_id, agent.id)

    def _on_contact_status(self, msg: AmiMessage) -> None:
        endpoint = msg.get("EndpointName") or msg.get("AOR") or ""
        status = msg.get("ContactStatus") or ""
        if status in _CONTACT_UP:
            self.center.phone_status(endpoint, registered=True)
        elif status in _CONTACT_DOWN:
            self.center.phone_status(endpoint, registered=False)

    def _on_device_state(self, msg: AmiMessage) -> None:
        device = msg.get("Device") or ""
        tech, _, endpoint = device.partition("/")
        if tech.upper() not in ("PJSIP", "SIP"):
            return
        registered, busy = _DEVICE_STATES.get((msg.get("State") or "").upper(), (None, None))
        self.center.phone_status(endpoint, registered=registered, busy=busy)

    def _on_extension_status(self, msg: AmiMessage) -> None:
        try:
            status = int(msg.get("Status") or "")
        except ValueError:
            return
        registered, busy = _EXTENSION_STATES.get(status, (None, None))
        self.center.phone_status(msg.get("Exten") or "", registered=registered, busy=busy)

    # ------------------------------------------------------------------ resynchronisation

    async def _link_lost(self) -> None:
        """Without AMI no phone can be rung: treat every phone as unreachable until the
        resync on reconnection reads their real state (so no agent collects missed offers
        for rings that could never be sent)."""
        for agent in self.center.routing.agents:
            self.center.phone_status(agent.phone, registered=False)

    async def resync(self) -> None:
        """Rebuild the picture from Asterisk after a (re)connection."""
        channels = await self.ami.list_action("CoreShowChannels")
        names = {c.get("Channel") for c in channels}
        uniqueids = {c.get("Uniqueid") for c in channels}
        # Calls whose caller is gone: abandoned (or ended) while we were not listening.
        for info in list(self.center.calls.values()):
            if info.callback_number is not None:
                if info.accepted_by is not None and info.agent_leg not in uniqueids:
                    self.center.agent_leg_hung_up(info.call_id, info.accepted_by)
                continue  # a callback has no caller channel: it waits on
            if info.channel not in names:
                self.center.caller_hung_up(info.call_id)
            elif info.accepted_by is not None and info.agent_leg not in uniqueids:
                self.center.offer_failed(info.call_id, info.accepted_by)
        for leg_id, leg in list(self.legs.items()):
            if leg_id not in uniqueids and (leg.channel is None or leg.channel not in names):
                self.legs.pop(leg_id, None)
                self.center.agent_leg_hung_up(leg.call_id, leg.agent_id)
        # Phones first: restored callers are routed at once, and only to reachable phones.
        await self._resync_phones()
        restored = 0
        for channel in channels:
            if channel.get("Context") not in WAIT_CONTEXTS or channel.get("BridgeId"):
                continue
            if await self._restore_waiting(channel):
                restored += 1
        await self._settle_recovered(channels)
        log.info(
            "resynchronised: %d channels, %d waiting callers restored", len(channels), restored
        )

    async def _settle_recovered(self, channels: list[AmiMessage]) -> None:
        """Account for every call the journal had open before the daemon (re)started."""
        if self.recovering is None:
            return
        recovering, self.recovering = self.recovering, None
        live = {c.get("Channel"): c for c in channels}
        for call in recovering.values():
            if call.call_id in self.center.calls:
                continue  # waiting again: picked up by the resync above
            if call.status == "connected" and call.channel in live:
                if await self._resume(call, live[call.channel]):
                    continue  # the router has it again, its agent on call
                self.adopted[call.channel or ""] = call  # still talking: closed on hang-up
                continue
            outcome = "answered" if call.status == "connected" else "abandoned"
            self._close_recovered(call, outcome, end_known=False)

    def _close_recovered(self, call: OpenCall, outcome: str, *, end_known: bool) -> None:
        """Close a call the daemon lost sight of. When it ended while the daemon was down its
        end time is unknown: the record says so (``end_known``) and gives the time noticed."""
        now = self.center.now()
        talk = now - call.connected_at if call.connected_at is not None else 0.0
        self.center._emit(
            call.call_id,
            now,
            "finished",
            outcome=outcome,
            agent_id=call.agent_id,
            wait_seconds=round((call.connected_at or now) - call.queued_at, 3),
            talk_seconds=round(talk, 3),
            channel=call.channel,
            recovered=True,
            end_known=end_known,
        )

    async def _resume(self, call: OpenCall, channel: AmiMessage) -> bool:
        """A call still talking to its agent: back in the router as connected, so its end
        has talk time and wrap-up. False if it cannot be (its agent is not available)."""
        if call.agent_id is None or call.connected_at is None:
            return False
        name = channel.get("Channel") or ""
        values = await self._getvars(name, ROUTING_VARIABLES)
        info = self._call_info(name, values, channel, call.call_id, call.queued_at)
        return self.center.resume_call(info, call.agent_id, call.connected_at)

    async def _restore_waiting(self, channel: AmiMessage) -> bool:
        name = channel.get("Channel") or ""
        values = await self._getvars(name, ROUTING_VARIABLES)
        call_id = values.get("ACD_CALL_ID") or channel.get("Uniqueid") or ""
        if not call_id or call_id in self.center.calls:
            return False
        info = self._call_info(name, values, channel, call_id, self.center.now())
        if self.on_restore is not None:
            try:
                self.on_restore(info, values)
            except Exception:  # the caller is queued anyway, with the queue's defaults
                log.exception("rebuilding the IVR state of %s failed", name)
        self.center.queue_call(info)
        return True

    def _call_info(
        self,
        name: str,
        values: dict[str, str],
        channel: AmiMessage,
        call_id: str,
        arrived_default: float,
    ) -> CallInfo:
        """A caller's call as its channel variables describe it (queue defaults for what
        is missing or unreadable)."""
        routing = self.center.routing
        queue_id = values.get("ACD_QUEUE") or routing.default_queue
        queue = self.center.queue_settings.get(queue_id) or routing.queue_for_number(None)
        try:
            requirements = parse_skills(values.get("ACD_SKILLS") or "") or queue.requirements()
            priority = int(values.get("ACD_PRIORITY") or queue.priority)
            arrived = float(values.get("ACD_ARRIVED") or arrived_default)
        except (ValueError, InvalidValue) as exc:
            log.warning("channel %s has bad routing variables (%s): defaults", name, exc)
            requirements, priority, arrived = (
                queue.requirements(),
                queue.priority,
                arrived_default,
            )
        return CallInfo(
            call_id=call_id,
            channel=name,
            queue_id=queue.id,
            language=values.get("ACD_LANGUAGE") or queue.language or "ru",
            priority=priority,
            requirements=requirements,
            arrived_at=arrived,
            caller_number=channel.get("CallerIDNum"),
            caller_name=channel.get("CallerIDName"),
            dialled=channel.get("Exten"),
            scenario=values.get("ACD_SCENARIO"),
            scenario_version=values.get("ACD_SCENARIO_VERSION"),
            topic=values.get("ACD_TOPIC"),
            category=values.get("ACD_CATEGORY"),
        )

    async def _getvars(self, channel: str, names: Iterable[str]) -> dict[str, str]:
        values: dict[str, str] = {}
        for name in names:
            try:
                reply = await self.ami.action("Getvar", {"Channel": channel, "Variable": name})
            except AmiError:
                continue
            value = reply.get("Value")
            if value:
                values[name] = value
        return values

    async def _resync_phones(self) -> None:
        try:
            devices = await self.ami.list_action("DeviceStateList")
        except AmiError as exc:
            log.warning("DeviceStateList failed: %s", exc)
            return
        for device in devices:
            self._on_device_state(device)

    def describe(self) -> dict[str, Any]:
        return {"legs": len(self.legs), "connected": self.ami.connected}
