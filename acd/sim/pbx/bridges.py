"""Two-party bridges (what app Bridge() creates), with Asterisk's events and teardown.

A hangup of a member dissolves the bridge (the others are kicked out, each continuing as its
owner decides); a member leaving for another reason (a Redirect) just leaves.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

from .channels import channel_headers
from .events import PRIV_CALL

if TYPE_CHECKING:
    from .channels import Channel
    from .core import PbxCore

__all__ = ["Bridge", "participate"]


class Bridge:
    def __init__(self, core: PbxCore) -> None:
        self.core = core
        self.uniqueid = str(uuid.uuid4())
        self.members: list[Channel] = []
        self.destroyed = False
        core.bus.emit("BridgeCreate", PRIV_CALL, self._headers())

    def _headers(self) -> list[tuple[str, str]]:
        return [
            ("BridgeUniqueid", self.uniqueid),
            ("BridgeType", "basic"),
            ("BridgeTechnology", "simple_bridge"),
            ("BridgeCreator", "<unknown>"),
            ("BridgeName", "<unknown>"),
            ("BridgeNumChannels", str(len(self.members))),
            ("BridgeVideoSourceMode", "none"),
        ]

    def _member_event(self, name: str, chan: Channel) -> None:
        self.core.bus.emit(name, PRIV_CALL, [*self._headers(), *channel_headers(chan)])

    def add(self, chan: Channel) -> None:
        now = asyncio.get_running_loop().time()
        self.members.append(chan)
        chan.bridge = self
        chan.bridge_kicked = False
        chan.publish()
        self._member_event("BridgeEnter", chan)
        if len(self.members) == 2:
            # ast_bridge_channel_update_linkedids: everybody takes the oldest linkedid
            oldest = min((m.linkedid for m in self.members), key=_uid_order)
            for member in self.members:
                member.linkedid = oldest
            for member in self.members:
                other = self.members[1] if member is self.members[0] else self.members[0]
                member.set_var("BRIDGEPEER", other.name)
                member.bridged_since = now
        chan.notify()
        self.core.changed.notify()

    def _leave(self, chan: Channel) -> None:
        if chan not in self.members:
            return
        now = asyncio.get_running_loop().time()
        for member in self.members:
            if member.bridged_since is not None:
                member.bridged_total += now - member.bridged_since
                member.bridged_since = None
        self.members.remove(chan)
        chan.bridge = None
        chan.publish()
        self._member_event("BridgeLeave", chan)
        chan.notify()

    def leave(self, chan: Channel, *, hangup: bool) -> None:
        """``chan`` leaves; on a hangup the bridge dissolves and the others are kicked."""
        if chan not in self.members:
            return
        if hangup or len(self.members) <= 1:
            for member in self.members:
                if not member.dead:
                    member.set_var("BRIDGEPEER", "")
            self._leave(chan)
            if hangup:
                for member in list(self.members):
                    member.bridge_kicked = True
                    self._leave(member)
        else:
            self._leave(chan)
            for member in self.members:
                member.set_var("BRIDGEPEER", "")
        if not self.members and not self.destroyed:
            self.destroyed = True
            self.core.bus.emit("BridgeDestroy", PRIV_CALL, self._headers())
        self.core.changed.notify()


async def participate(chan: Channel, bridge: Bridge) -> str:
    """Stay in ``bridge`` until hung up, kicked or redirected.

    Returns ``"hangup"``, ``"kicked"`` (the bridge dissolved) or ``"goto"`` (redirected).
    """
    if bridge.destroyed:
        return "kicked"
    if chan.bridge is not bridge:
        bridge.add(chan)
    await chan.changed.wait_for(
        lambda: chan.check_hangup() or chan.bridge_kicked or chan.bridge is not bridge, None
    )
    if chan.bridge_kicked:
        chan.bridge_kicked = False
        return "kicked"
    if chan.bridge is not bridge:
        return "kicked"
    hangup = chan.hung_up
    bridge.leave(chan, hangup=hangup)
    return "hangup" if hangup else "goto"


def _uid_order(uniqueid: str) -> tuple[int, int]:
    """Creation order of a uniqueid (``epoch.sequence``)."""
    epoch, _, seq = uniqueid.partition(".")
    try:
        return (int(epoch), int(seq or 0))
    except ValueError:
        return (2**62, 0)
