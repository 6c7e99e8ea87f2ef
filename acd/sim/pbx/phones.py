"""Simulated SIP phones (PJSIP endpoints) with control hooks for tests and load runs.

``register()``/``unregister()`` produce capture 07's presence events (``ContactStatus``,
``PeerStatus``, ``ExtensionStatus`` for hinted extensions, ``DeviceStateChange``). A call
offered to the phone (an Originate to ``PJSIP/1001``) rings until :meth:`Phone.answer`,
:meth:`Phone.reject` (busy), the auto-answer delay or the caller's timeout.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .channels import Channel, ChannelState, channel_headers
from .events import PRIV_CALL, PRIV_SECURITY, PRIV_SYSTEM

if TYPE_CHECKING:
    from .callers import Call
    from .core import PbxCore

__all__ = ["Offer", "Phone"]


@dataclass
class Offer:
    """A call ringing on a phone, waiting for the phone's decision."""

    channel: Channel
    decision: asyncio.Future[str]
    rang_at: float = field(default_factory=time.time)


class Phone:
    """A PJSIP endpoint and the phone registered on it."""

    def __init__(
        self,
        core: PbxCore,
        endpoint: str,
        *,
        answer_after: float | None = None,
        refuse: bool = False,
        talk_time: float | None = None,
        name: str | None = None,
        context: str = "acd-phones",
        busy_when_in_use: bool = True,
        contact_port: int = 5070,
    ) -> None:
        self.core = core
        self.endpoint = endpoint
        self.answer_after = answer_after
        self.refuse = refuse
        self.talk_time = talk_time
        self.display_name = name if name is not None else f"Agent {endpoint}"
        self.number = endpoint
        self.context = context
        self.busy_when_in_use = busy_when_in_use
        self.registered = False
        self.contact_uri = f"sip:{endpoint}@127.0.0.1:{contact_port}"
        self.offers: list[Offer] = []
        self.answered: list[Channel] = []
        self.rejected: list[Channel] = []
        self.missed: list[Channel] = []
        self.registered_at: float | None = None

    def __repr__(self) -> str:
        state = "registered" if self.registered else "unregistered"
        return f"<Phone {self.endpoint} {state} {self.core.devices.state(self.device)}>"

    @property
    def device(self) -> str:
        return f"PJSIP/{self.endpoint}"

    # ------------------------------------------------------------------ presence

    def _security(self, name: str, extra: list[tuple[str, str]]) -> None:
        now = time.time()
        tv = (
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
            + f".{int(now % 1 * 1000):03d}+0000"
        )
        self.core.emit_plain(
            name,
            PRIV_SECURITY,
            [
                ("EventTV", tv),
                ("Severity", "Informational"),
                ("Service", "PJSIP"),
                ("EventVersion", "1"),
                ("AccountID", self.endpoint),
                ("SessionID", f"{abs(hash(self.contact_uri)):016x}"[:16]),
                ("LocalAddress", "IPV4/UDP/127.0.0.1/5060"),
                (
                    "RemoteAddress",
                    "IPV4/UDP/" + self.contact_uri.rsplit("@", 1)[1].replace(":", "/"),
                ),
                *extra,
            ],
        )

    def _contact_status(self, status: str, rtt: int) -> None:
        self.core.emit_plain(
            "ContactStatus",
            PRIV_SYSTEM,
            [
                ("URI", self.contact_uri),
                ("ContactStatus", status),
                ("AOR", self.endpoint),
                ("EndpointName", self.endpoint),
                ("RoundtripUsec", str(rtt)),
            ],
        )

    def _peer_status(self, status: str) -> None:
        self.core.emit_plain(
            "PeerStatus",
            PRIV_SYSTEM,
            [("ChannelType", "PJSIP"), ("Peer", self.device), ("PeerStatus", status)],
        )

    def register(self) -> None:
        """REGISTER: ContactStatus NonQualified, PeerStatus Reachable, ContactStatus
        Reachable, ExtensionStatus Idle, DeviceStateChange NOT_INUSE."""
        if self.registered:
            return
        self._security("ChallengeSent", [("Challenge", "")])
        self._security("SuccessfulAuth", [("UsingPassword", "1")])
        self.registered = True
        self.registered_at = time.time()
        self._contact_status("NonQualified", 0)
        self._peer_status("Reachable")
        self._contact_status("Reachable", 1137)
        self.core.devices.refresh(self.device, extension_first=True)
        self.core.changed.notify()

    def unregister(self) -> None:
        """REGISTER with Expires 0: PeerStatus Unreachable, ExtensionStatus Unavailable,
        ContactStatus Removed, DeviceStateChange UNAVAILABLE."""
        if not self.registered:
            return
        self._security("ChallengeSent", [("Challenge", "")])
        self._security("SuccessfulAuth", [("UsingPassword", "1")])
        self.registered = False
        self._peer_status("Unreachable")
        devices = self.core.devices
        new_state = devices.compute(self.device)
        changed = devices.states.get(self.device) != new_state
        devices.states[self.device] = new_state
        devices.emit_hints(self.device)
        self._contact_status("Removed", 0)
        if changed:
            devices.emit_device(self.device, new_state)
        for offer in list(self.offers):
            if not offer.decision.done():
                offer.decision.set_result("hangup")
        self.core.changed.notify()

    # ------------------------------------------------------------------ calls

    @property
    def channels(self) -> list[Channel]:
        """Live channels on this endpoint."""
        return [c for c in self.core.channels.values() if c.endpoint == self.endpoint]

    @property
    def ringing(self) -> list[Channel]:
        return [o.channel for o in self.offers if not o.decision.done()]

    @property
    def in_call(self) -> bool:
        return any(c.state == ChannelState.UP for c in self.channels)

    @property
    def state(self) -> str:
        """The device state: NOT_INUSE, INUSE, RINGING, UNAVAILABLE..."""
        return self.core.devices.state(self.device)

    async def offer(self, chan: Channel, timeout: float) -> str:
        """Ring ``chan`` on this phone; ``"answer"``, ``"busy"``, ``"timeout"`` or
        ``"hangup"`` (the caller side gave up, or the phone went away)."""
        others = [c for c in self.channels if c is not chan]
        if self.refuse or (self.busy_when_in_use and others):
            self.rejected.append(chan)
            return "busy"
        loop = asyncio.get_running_loop()
        offer = Offer(chan, loop.create_future())
        self.offers.append(offer)
        chan.set_state(ChannelState.RINGING)
        self.core.emit_plain(
            "DialState", PRIV_CALL, [*channel_headers(chan, "Dest"), ("DialStatus", "RINGING")]
        )
        self.core.changed.notify()
        auto: asyncio.TimerHandle | None = None
        if self.answer_after is not None:
            auto = loop.call_later(max(self.answer_after, 0.0), self._decide, offer, "answer")
        timer = loop.call_later(timeout, self._decide, offer, "timeout")
        hangup_watch = asyncio.ensure_future(chan.wait_until(lambda: offer.decision.done(), None))
        try:
            pending: set[asyncio.Future[object]] = {offer.decision, hangup_watch}  # type: ignore[arg-type]
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if not offer.decision.done():
                offer.decision.set_result("hangup")
            decision = offer.decision.result()
        finally:
            timer.cancel()
            if auto is not None:
                auto.cancel()
            hangup_watch.cancel()
            self.offers.remove(offer)
        if decision == "answer" and not chan.check_hangup():
            chan.answer()
            self.answered.append(chan)
            if self.talk_time is not None:
                loop.call_later(self.talk_time, self._hangup_channel, chan)
        elif decision == "timeout":
            self.missed.append(chan)
        elif decision == "busy":
            self.rejected.append(chan)
        self.core.changed.notify()
        return decision

    def _decide(self, offer: Offer, decision: str) -> None:
        if not offer.decision.done():
            offer.decision.set_result(decision)

    def _pick(self, channel: Channel | str | None) -> Offer | None:
        pending = [o for o in self.offers if not o.decision.done()]
        if channel is None:
            return pending[0] if pending else None
        name = channel if isinstance(channel, str) else channel.name
        return next((o for o in pending if o.channel.name == name), None)

    def answer(self, channel: Channel | str | None = None) -> Channel:
        """Pick up the (oldest) ringing call."""
        offer = self._pick(channel)
        if offer is None:
            raise RuntimeError(f"phone {self.endpoint} is not ringing")
        offer.decision.set_result("answer")
        return offer.channel

    def reject(self, channel: Channel | str | None = None) -> Channel:
        """Refuse the ringing call with 486 Busy Here."""
        offer = self._pick(channel)
        if offer is None:
            raise RuntimeError(f"phone {self.endpoint} is not ringing")
        offer.decision.set_result("busy")
        return offer.channel

    def _hangup_channel(self, chan: Channel, cause: int = 16) -> None:
        if not chan.dead and not chan.hung_up:
            self.core.request_hangup(chan, cause, event="HangupRequest")

    def hangup(self, channel: Channel | str | None = None) -> None:
        """Hang up the phone's answered calls (BYE), or one of them."""
        for chan in self.channels:
            if channel is not None and chan.name != (
                channel if isinstance(channel, str) else channel.name
            ):
                continue
            if chan.state == ChannelState.UP or chan.state == ChannelState.RING:
                self._hangup_channel(chan)

    async def wait_ringing(self, timeout: float = 5.0) -> Channel:
        """Wait until a call rings on this phone; its channel."""
        ok = await self.core.changed.wait_for(lambda: bool(self.ringing), timeout)
        if not ok:
            raise TimeoutError(f"phone {self.endpoint} did not ring within {timeout}s")
        return self.ringing[0]

    async def wait_idle(self, timeout: float = 5.0) -> None:
        ok = await self.core.changed.wait_for(lambda: not self.channels, timeout)
        if not ok:
            raise TimeoutError(f"phone {self.endpoint} still has calls after {timeout}s")

    # ------------------------------------------------------------------ calls from the phone

    async def dial(self, exten: str) -> Call:
        """The phone calls ``exten`` in its own context (feature codes such as ``*70``)."""
        from .callers import Call

        core = self.core
        chan = core.new_channel(
            name=core.pjsip_channel_name(self.endpoint),
            tech="PJSIP",
            state=ChannelState.RING,
            context=self.context,
            exten=exten,
            caller_num=self.number,
            caller_name=self.display_name,
            endpoint=self.endpoint,
        )
        chan.dnid = exten
        core.start_dialplan(chan)
        return Call(core, chan)

    def start_foreign_call(self, number: str = "5550000") -> Call:
        """A call the agent makes outside the ACD: the phone is in use (ExtensionStatus
        InUse) until :meth:`hangup` or ``call.hangup()``."""
        from .callers import Call

        core = self.core
        chan = core.new_channel(
            name=core.pjsip_channel_name(self.endpoint),
            tech="PJSIP",
            state=ChannelState.RING,
            context=self.context,
            exten=number,
            caller_num=self.number,
            caller_name=self.display_name,
            endpoint=self.endpoint,
        )
        chan.dnid = number
        chan.appl, chan.data = "Dial", f"PJSIP/{number}@trunk"
        chan.set_connected(number, None, event=False)
        chan.set_state(ChannelState.UP)

        async def talk() -> None:
            await chan.changed.wait_for(lambda: chan.check_hangup(), None)
            if not chan.hangup_cause:
                chan.hangup_cause = 16

        core.own(chan, talk())
        return Call(core, chan)
