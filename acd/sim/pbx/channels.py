"""The simulated channel: identity, state, caller ID, location, variables and interrupts.

A channel is driven by exactly one *owner* coroutine (its dialplan, an Originate application
or a ringing phone) which ends by destroying it. Everything else acts on a channel through
interrupts: a hangup request or an async goto sets soft-hangup flags, a Bridge() elsewhere
sets :attr:`Channel.pending_bridge`; blocking operations (:meth:`Channel.sleep`,
:meth:`Channel.wait_until`) return early when that happens, as Asterisk's ``ast_safe_sleep``
does.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import TYPE_CHECKING

from .notify import Notifier

if TYPE_CHECKING:
    from .bridges import Bridge
    from .core import PbxCore
    from .recordings import Recording

__all__ = [
    "CAUSE_TEXT",
    "Channel",
    "ChannelState",
    "SoftHangup",
    "Variable",
    "cause_text",
    "channel_headers",
]


class ChannelState(IntEnum):
    DOWN = 0
    RSRVD = 1
    OFFHOOK = 2
    DIALING = 3
    RING = 4
    RINGING = 5
    UP = 6
    BUSY = 7

    @property
    def desc(self) -> str:
        return _STATE_DESC[self]


_STATE_DESC = {
    ChannelState.DOWN: "Down",
    ChannelState.RSRVD: "Rsrvd",
    ChannelState.OFFHOOK: "OffHook",
    ChannelState.DIALING: "Dialing",
    ChannelState.RING: "Ring",
    ChannelState.RINGING: "Ringing",
    ChannelState.UP: "Up",
    ChannelState.BUSY: "Busy",
}


class SoftHangup(IntFlag):
    """``AST_SOFTHANGUP_*``; SoftHangupRequest's ``Cause`` header carries these flags."""

    DEV = 1
    ASYNCGOTO = 2
    SHUTDOWN = 4
    TIMEOUT = 8
    APPUNLOAD = 16
    EXPLICIT = 32


CAUSE_TEXT = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    3: "No route to destination",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    21: "Call Rejected",
    27: "Destination out of order",
    31: "Normal, unspecified",
    34: "Circuit/channel congestion",
    38: "Network out of order",
    41: "Temporary failure",
    127: "Interworking, unspecified",
}

_CAUSE_NAMES = {
    "NORMAL_CLEARING": 16,
    "NORMAL": 16,
    "BUSY": 17,
    "USER_BUSY": 17,
    "NO_USER_RESPONSE": 18,
    "NOANSWER": 19,
    "NO_ANSWER": 19,
    "CALL_REJECTED": 21,
    "CONGESTION": 34,
    "UNALLOCATED": 1,
    "NORMAL_UNSPECIFIED": 31,
}


def cause_text(cause: int) -> str:
    return CAUSE_TEXT.get(cause, "Unknown")


def parse_cause(text: str) -> int:
    """A cause given as a number or an Asterisk name (``BUSY``); 0 if unreadable."""
    text = text.strip()
    if not text:
        return 0
    if text.isdigit():
        return int(text)
    return _CAUSE_NAMES.get(text.upper(), 0)


@dataclass
class Variable:
    """A channel variable; ``inherit`` is 2 for ``__NAME``, 1 for ``_NAME``, else 0."""

    name: str
    value: str
    inherit: int = 0

    @property
    def full_name(self) -> str:
        return "_" * self.inherit + self.name


UNKNOWN = "<unknown>"


class Channel:
    """A simulated Asterisk channel (``PJSIP/1001-00000003``, ``Local/s@ctx-00000001;2``)."""

    def __init__(
        self,
        core: PbxCore,
        *,
        name: str,
        tech: str,
        uniqueid: str,
        linkedid: str,
        state: ChannelState,
        context: str,
        exten: str,
        priority: int = 1,
        caller_num: str | None = None,
        caller_name: str | None = None,
        language: str = "en",
        endpoint: str | None = None,
    ) -> None:
        self.core = core
        self.name = name
        self.tech = tech
        self.uniqueid = uniqueid
        self.linkedid = linkedid
        self.state = state
        self.context = context
        self.exten = exten
        self.priority = priority
        self.caller_num = caller_num
        self.caller_name = caller_name
        self.connected_num: str | None = None
        self.connected_name: str | None = None
        self.language = language
        self.accountcode = ""
        self.endpoint = endpoint
        self.dnid: str | None = None
        self.rdnis: str | None = None
        self.vars: dict[str, Variable] = {}
        self.appl = ""
        self.data = ""
        self.created_wall = time.time()
        self.created = asyncio.get_running_loop().time()
        self.answered_at: float | None = None
        self.softhangup = SoftHangup(0)
        self.hangup_cause = 0
        self.dead = False
        self.in_pbx = False
        self.pending_bridge: Bridge | None = None
        #: where a channel pulled into a Bridge() continues afterwards (option ``F``)
        self.after_bridge_goto: tuple[str, str, int] | None = None
        self.bridge: Bridge | None = None
        self.bridge_kicked = False
        self.bridged_since: float | None = None
        self.bridged_total = 0.0
        self.local_peer: Channel | None = None
        self.local_half = 0
        self.dtmf: deque[str] = deque()
        self.prompts_heard: list[str] = []
        self.moh_class: str | None = None
        self.moh_history: list[str] = []
        self.mixmonitors: list[Recording] = []
        self.in_agi = False
        self.changed = Notifier()
        self.on_answer: list[Callable[[Channel], None]] = []
        self.hangup_source = ""
        #: the dialplan location of the last published snapshot: AMI events show this, not
        #: the live location (AGI SET CONTEXT or a Redirect are seen at the next Newexten)
        self.snap_location: tuple[str, str, int] = (context, exten, priority)

    def __repr__(self) -> str:
        return (
            f"<Channel {self.name} {self.state.desc} {self.context},{self.exten},{self.priority}>"
        )

    # ----- notifications

    def publish(self) -> None:
        """Refresh the snapshot AMI events are built from (``ast_channel_publish_snapshot``)."""
        self.snap_location = (self.context, self.exten, self.priority)

    def notify(self) -> None:
        self.changed.notify()
        self.core.changed.notify()

    # ----- hangup / interrupts

    def check_hangup(self) -> bool:
        """``ast_check_hangup``: any soft-hangup flag, or already destroyed."""
        return self.dead or bool(self.softhangup)

    @property
    def interrupted(self) -> bool:
        """Whether a blocking operation must return now."""
        return self.check_hangup() or self.pending_bridge is not None or self.bridge_kicked

    @property
    def hung_up(self) -> bool:
        """A real hangup (not just an async goto) was requested or done."""
        return self.dead or bool(self.softhangup & ~SoftHangup.ASYNCGOTO)

    async def sleep(self, seconds: float | None) -> bool:
        """Sleep unless interrupted; ``True`` if the whole time passed."""
        if seconds is not None and seconds <= 0:
            return not self.interrupted
        done = await self.wait_until(lambda: False, seconds)
        return not done and not self.interrupted

    async def wait_until(self, predicate: Callable[[], bool], timeout: float | None) -> bool:
        """Wait for ``predicate`` or an interrupt; ``True`` if either happened in time."""
        return await self.changed.wait_for(lambda: self.interrupted or predicate(), timeout)

    # ----- state

    def set_state(self, state: ChannelState) -> None:
        if state == self.state:
            return
        self.state = state
        self.publish()
        if state == ChannelState.UP and self.answered_at is None:
            self.answered_at = asyncio.get_running_loop().time()
        self.core.emit("Newstate", self)
        self.core.device_changed(self)
        if state == ChannelState.UP:
            callbacks, self.on_answer = self.on_answer, []
            for callback in callbacks:
                callback(self)
        self.notify()

    def answer(self) -> None:
        """Answer the channel (``ast_answer``); a Local ``;2`` answers its ``;1`` too."""
        if self.state == ChannelState.UP or self.dead:
            return
        self.set_state(ChannelState.UP)
        peer = self.local_peer
        if self.local_half == 2 and peer is not None and not peer.dead:
            peer.answer()

    # ----- caller ID

    def set_caller(self, num: str | None, name: str | None, *, event: bool = True) -> None:
        self.caller_num = num
        self.caller_name = name
        self.publish()
        if event:
            self.core.emit(
                "NewCallerid",
                self,
                [("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")],
            )

    def set_connected(self, num: str | None, name: str | None, *, event: bool = True) -> None:
        self.connected_num = num
        self.connected_name = name
        self.publish()
        if event:
            self.core.emit("NewConnectedLine", self)

    @property
    def callerid_all(self) -> str:
        num, name = self.caller_num or "", self.caller_name or ""
        if name and num:
            return f'"{name}" <{num}>'
        return name or num

    # ----- variables

    def set_var(self, name: str, value: str, *, event: bool = True) -> None:
        inherit = 2 if name.startswith("__") else 1 if name.startswith("_") else 0
        bare = name[inherit:]
        self.vars[bare] = Variable(bare, value, inherit)
        if event:
            self.core.emit(
                "VarSet",
                self,
                [("Variable", name), ("Value", value)],
                privilege="dialplan,all",
            )
        self.notify()

    def unset_var(self, name: str) -> None:
        self.vars.pop(name.lstrip("_"), None)

    def var(self, name: str) -> str | None:
        found = self.vars.get(name)
        return None if found is None else found.value

    def inherit_from(self, parent: Channel) -> None:
        """``ast_channel_inherit_variables``: ``__X`` stays inheritable, ``_X`` becomes ``X``."""
        for v in parent.vars.values():
            if v.inherit == 2:
                self.vars[v.name] = Variable(v.name, v.value, 2)
            elif v.inherit == 1:
                self.vars[v.name] = Variable(v.name, v.value, 0)

    def copy_all_vars_from(self, other: Channel, *, event: bool = True) -> None:
        """What a Local channel does from ``;1`` to ``;2``: every variable, as it is."""
        for v in other.vars.values():
            self.set_var(v.full_name, v.value, event=event)

    # ----- DTMF

    def queue_dtmf(self, digits: str) -> None:
        for digit in digits:
            self.dtmf.append(digit)
            for name, extra in (("DTMFBegin", []), ("DTMFEnd", [("DurationMs", "100")])):
                self.core.emit(
                    name,
                    self,
                    [("Digit", digit), *extra, ("Direction", "Received")],
                    privilege="dtmf,all",
                )
        self.notify()

    def take_digit(self, allowed: str | None = None) -> str | None:
        """Consume the next buffered digit (only if in ``allowed``, when given)."""
        if not self.dtmf:
            return None
        if allowed is not None and self.dtmf[0] not in allowed:
            return None
        return self.dtmf.popleft()

    # ----- misc

    @property
    def peer(self) -> Channel | None:
        """The other channel of this channel's bridge, if any."""
        if self.bridge is None:
            return None
        others = [c for c in self.bridge.members if c is not self]
        return others[0] if others else None

    def duration(self) -> int:
        return int(asyncio.get_running_loop().time() - self.created)

    @property
    def device(self) -> str | None:
        """``PJSIP/1001`` or ``Local/exten@context`` (the device-state name)."""
        if self.tech == "PJSIP" and self.endpoint:
            return f"PJSIP/{self.endpoint}"
        if self.tech == "Local":
            base = self.name.rsplit("-", 1)[0]
            return base
        return None


def channel_headers(chan: Channel, prefix: str = "") -> list[tuple[str, str]]:
    """The standard channel snapshot block of an AMI event (``Dest``/``LocalOne`` prefixed)."""
    context, exten, priority = chan.snap_location
    return [
        (prefix + "Channel", chan.name),
        (prefix + "ChannelState", str(int(chan.state))),
        (prefix + "ChannelStateDesc", chan.state.desc),
        (prefix + "CallerIDNum", chan.caller_num or UNKNOWN),
        (prefix + "CallerIDName", chan.caller_name or UNKNOWN),
        (prefix + "ConnectedLineNum", chan.connected_num or UNKNOWN),
        (prefix + "ConnectedLineName", chan.connected_name or UNKNOWN),
        (prefix + "Language", chan.language),
        (prefix + "AccountCode", chan.accountcode),
        (prefix + "Context", context),
        (prefix + "Exten", exten),
        (prefix + "Priority", str(priority)),
        (prefix + "Uniqueid", chan.uniqueid),
        (prefix + "Linkedid", chan.linkedid),
    ]
