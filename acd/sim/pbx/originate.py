"""AMI Originate: ``Local/exten@context`` pairs and ``PJSIP/endpoint`` phones.

The event sequences are those of captures 01-03, 06-09: ``Newchannel`` (``;1`` Down, ``;2``
Ring), ``Newexten AppDial2 (Outgoing Line)`` on ``;1``, the variables (``VarSet``), caller
ID (``NewCallerid``/``NewConnectedLine``), ``LocalBridge``, ``DialBegin``; the dialplan runs on
``;2``; its answer answers ``;1`` (``Newstate``), then ``DialEnd`` and ``OriginateResponse``
(Reason 4), and the Application (or the Context/Exten/Priority dialplan) runs on ``;1``.
A phone rings (``Newstate`` 5, ``DialState RINGING``) until it answers, refuses (busy,
Reason 5) or the Timeout passes (Reason 3). A missing or unregistered endpoint fails at once
with Reason 0, Uniqueid ``<unknown>`` and no channel at all.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .channels import Channel, ChannelState, channel_headers
from .events import PRIV_CALL, PRIV_DIALPLAN, AmiEvent
from .functions import split_callerid, write_function
from .runner import pbx_run, run_application

if TYPE_CHECKING:
    from .core import PbxCore

__all__ = ["OriginateOutcome", "OriginateRequest", "start_originate"]

log = logging.getLogger(__name__)

REASON_FAILED = 0
REASON_HANGUP = 1
REASON_NO_ANSWER = 3
REASON_ANSWERED = 4
REASON_BUSY = 5
REASON_CONGESTION = 8


@dataclass
class OriginateRequest:
    channel: str
    context: str | None = None
    exten: str | None = None
    priority: str | None = None
    application: str | None = None
    data: str = ""
    callerid: str | None = None
    variables: list[tuple[str, str]] = field(default_factory=list)
    #: seconds to wait for an answer (AMI's Timeout is in milliseconds)
    timeout: float | None = None
    action_id: str | None = None
    channel_id: str | None = None
    other_channel_id: str | None = None


@dataclass
class OriginateOutcome:
    success: bool
    reason: int
    channel: Channel | None
    event: AmiEvent


class _Originate:
    def __init__(self, core: PbxCore, req: OriginateRequest, fut: asyncio.Future[OriginateOutcome]):
        self.core = core
        self.req = req
        self.fut = fut
        num, name = split_callerid(req.callerid) if req.callerid else (None, None)
        self.cid_num = num
        self.cid_name = name

    # ----- common pieces

    def respond(self, success: bool, reason: int, chan: Channel | None) -> None:
        if self.fut.done():
            return
        req = self.req
        headers: list[tuple[str, str]] = []
        if req.action_id is not None:
            headers.append(("ActionID", req.action_id))
        headers += [
            ("Response", "Success" if success else "Failure"),
            ("Channel", chan.name if chan is not None and success else req.channel),
        ]
        if req.application:
            headers += [("Application", req.application), ("Data", req.data)]
        else:
            headers += [("Context", req.context or ""), ("Exten", req.exten or "")]
        headers += [
            ("Reason", str(reason)),
            ("Uniqueid", chan.uniqueid if chan is not None and success else "<unknown>"),
            ("CallerIDNum", self.cid_num or "<unknown>"),
            ("CallerIDName", self.cid_name or "<unknown>"),
        ]
        event = self.core.emit_plain("OriginateResponse", PRIV_CALL, headers)
        self.fut.set_result(OriginateOutcome(success, reason, chan, event))

    def dial_event(self, name: str, chan: Channel, extra: list[tuple[str, str]]) -> None:
        self.core.emit_plain(name, PRIV_CALL, [*channel_headers(chan, "Dest"), *extra])

    def outgoing_line(self, chan: Channel) -> None:
        chan.appl, chan.data = "AppDial2", "(Outgoing Line)"
        self.core.emit(
            "Newexten",
            chan,
            [
                ("Extension", chan.exten),
                ("Application", "AppDial2"),
                ("AppData", "(Outgoing Line)"),
            ],
            privilege=PRIV_DIALPLAN,
        )

    def apply_variables(self, chan: Channel) -> None:
        for name, value in self.req.variables:
            if name.endswith(")") and "(" in name:
                func, _, args = name.partition("(")
                write_function(self.core, chan, func, args[:-1], value)
            else:
                chan.set_var(name, value)

    def on_answer(self, chan: Channel) -> None:
        self.dial_event("DialEnd", chan, [("DialStatus", "ANSWER")])
        self.respond(True, REASON_ANSWERED, chan)

    async def after_answer(self, chan: Channel) -> None:
        """Run the Application, or the dialplan at Context/Exten/Priority, on ``chan``."""
        req = self.req
        if req.application:
            await run_application(self.core, chan, req.application, req.data)
            return
        chan.context = req.context or chan.context
        chan.exten = req.exten or "s"
        prio_text = (req.priority or "1").strip()
        if prio_text.isdigit():
            chan.priority = int(prio_text)
        else:
            chan.priority = self.core.dialplan.find_label(chan.context, chan.exten, prio_text) or 1
        await pbx_run(self.core, chan)

    # ----- Local

    async def local(self, resource: str) -> None:
        core = self.core
        exten, _, rest = resource.partition("@")
        context = rest.split("/", 1)[0] or "default"
        base = core.local_channel_base(exten, context)
        one = core.new_channel(
            name=base + ";1",
            tech="Local",
            state=ChannelState.DOWN,
            context=context,
            exten=exten,
            uniqueid=self.req.channel_id,
        )
        two = core.new_channel(
            name=base + ";2",
            tech="Local",
            state=ChannelState.RING,
            context=context,
            exten=exten,
            uniqueid=self.req.other_channel_id,
            linkedid=one.uniqueid,
        )
        one.local_peer, two.local_peer = two, one
        one.local_half, two.local_half = 1, 2
        try:
            if core.dialplan.find_extension(context, exten) is None:
                log.warning("Originate: extension %s@%s does not exist", exten, context)
                core.destroy(two)
                core.destroy(one)
                self.respond(False, REASON_FAILED, None)
                return
            self.outgoing_line(one)
            self.apply_variables(one)
            if self.cid_num or self.cid_name:
                one.set_caller(self.cid_num, self.cid_name)
                one.set_connected(self.cid_num, self.cid_name)
            two.copy_all_vars_from(one)
            if self.cid_num or self.cid_name:
                two.connected_num, two.connected_name = self.cid_num, self.cid_name
                two.set_caller(self.cid_num, self.cid_name)
                core.emit("NewConnectedLine", two)
            core.emit_plain(
                "LocalBridge",
                PRIV_CALL,
                [
                    *channel_headers(one, "LocalOne"),
                    *channel_headers(two, "LocalTwo"),
                    ("Context", context),
                    ("Exten", exten),
                    ("LocalOptimization", "Yes"),
                ],
            )
            self.dial_event("DialBegin", one, [("DialString", f"{exten}@{context}")])
            one.on_answer.append(self.on_answer)
            core.start_dialplan(two)
            timeout = self.req.timeout or core.config.default_originate_timeout
            await one.wait_until(lambda: one.state == ChannelState.UP, timeout)
            if one.state != ChannelState.UP:
                status = "CANCEL" if one.check_hangup() or two.dead else "NOANSWER"
                reason = REASON_HANGUP if status == "CANCEL" else REASON_NO_ANSWER
                self.dial_event("DialEnd", one, [("DialStatus", status)])
                core.request_hangup(two, None, event=None)
                self.respond(False, reason, None)
                return
            await self.after_answer(one)
        finally:
            if not one.dead:
                core.destroy(one)

    # ----- PJSIP

    async def pjsip(self, resource: str) -> None:
        core = self.core
        endpoint = resource.split("/", 1)[0]
        phone = core.phones.get(endpoint)
        if phone is None or not phone.registered:
            log.warning("Originate: endpoint %s has no contact", endpoint)
            self.respond(False, REASON_FAILED, None)
            return
        chan = core.new_channel(
            name=core.pjsip_channel_name(endpoint),
            tech="PJSIP",
            state=ChannelState.DOWN,
            context=phone.context,
            exten="s",
            caller_num=phone.number,
            caller_name=phone.display_name,
            uniqueid=self.req.channel_id,
            endpoint=endpoint,
        )
        try:
            self.outgoing_line(chan)
            self.apply_variables(chan)
            if self.cid_num or self.cid_name:
                chan.set_caller(self.cid_num, self.cid_name)
                chan.set_connected(self.cid_num, self.cid_name)
            self.dial_event("DialBegin", chan, [("DialString", resource)])
            chan.on_answer.append(self.on_answer)
            timeout = self.req.timeout or core.config.default_originate_timeout
            decision = await phone.offer(chan, timeout)
            if decision != "answer" or chan.state != ChannelState.UP:
                if decision == "busy":
                    status, reason, cause = "BUSY", REASON_BUSY, 17
                elif decision == "timeout":
                    status, reason, cause = "NOANSWER", REASON_NO_ANSWER, 19
                else:
                    status, reason, cause = "CANCEL", REASON_HANGUP, 16
                self.dial_event("DialEnd", chan, [("DialStatus", status)])
                chan.hangup_cause = chan.hangup_cause or cause
                core.destroy(chan)
                self.respond(False, reason, None)
                return
            await self.after_answer(chan)
        finally:
            if not chan.dead:
                core.destroy(chan)

    async def run(self) -> None:
        tech, _, resource = self.req.channel.partition("/")
        try:
            if tech.lower() == "local" and "@" in resource:
                await self.local(resource)
            elif tech.lower() == "pjsip" and resource:
                await self.pjsip(resource)
            else:
                log.warning("Originate: cannot dial %s", self.req.channel)
                self.respond(False, REASON_FAILED, None)
        finally:
            if not self.fut.done():
                self.respond(False, REASON_FAILED, None)


def start_originate(core: PbxCore, req: OriginateRequest) -> asyncio.Future[OriginateOutcome]:
    """Start an Originate in the background; the future resolves with its OriginateResponse."""
    fut: asyncio.Future[OriginateOutcome] = asyncio.get_running_loop().create_future()
    core.spawn(_Originate(core, req, fut).run(), name=f"originate {req.channel}")
    return fut
