"""The dialplan executor (``__ast_pbx_run``) and the runner of Originate applications.

Per priority: substitute the data, publish ``Newexten``, run the application. A zero result
moves to the next priority; an async goto (Redirect) continues at the new place; anything
else ends the dialplan, after which the channel gets ``SoftHangupRequest`` (``Cause: 16``,
the APPUNLOAD flag, as in every capture) and is hung up. A channel pulled into another's
Bridge() stays in the bridge and is hung up when the bridge ends, unless ``F`` said where
to continue.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .apps import find_app
from .bridges import participate
from .channels import SoftHangup
from .events import PRIV_DIALPLAN
from .functions import ChannelVariables
from .substitution import substitute

if TYPE_CHECKING:
    from .channels import Channel
    from .core import PbxCore
    from .dialplan import Priority

__all__ = ["pbx_run", "run_application", "run_priority"]

log = logging.getLogger(__name__)


async def run_priority(core: PbxCore, chan: Channel, prio: Priority) -> int:
    found = find_app(prio.app)
    if found is None:
        log.warning(
            "No application '%s' for extension (%s, %s, %d)",
            prio.app,
            chan.context,
            chan.exten,
            chan.priority,
        )
        return -1
    app_name, app = found
    data = substitute(prio.data, ChannelVariables(core, chan))
    chan.appl, chan.data = app_name, data
    chan.publish()
    core.emit(
        "Newexten",
        chan,
        [("Extension", chan.exten), ("Application", app_name), ("AppData", data)],
        privilege=PRIV_DIALPLAN,
    )
    return await app(core, chan, data)


async def _enter_pending_bridge(core: PbxCore, chan: Channel) -> bool:
    """Stay in the bridge another channel pulled us into; whether to go on in the dialplan."""
    bridge = chan.pending_bridge
    after = chan.after_bridge_goto
    chan.pending_bridge = None
    chan.after_bridge_goto = None
    if bridge is None:
        return True
    outcome = await participate(chan, bridge)
    if outcome == "hangup" or chan.hung_up:
        return False
    if outcome == "goto":
        chan.softhangup &= ~SoftHangup.ASYNCGOTO
        return True
    if after is not None:
        chan.context, chan.exten, chan.priority = after
        return True
    if not chan.hangup_cause:
        chan.hangup_cause = 16
    return False


async def _loop(core: PbxCore, chan: Channel) -> None:
    plan = core.dialplan
    while True:
        if chan.dead:
            return
        prio = plan.find_priority(chan.context, chan.exten, chan.priority)
        if prio is None:
            if plan.find_extension(chan.context, chan.exten) is None:
                if chan.exten != "i" and plan.exists(chan.context, "i", 1):
                    chan.set_var("INVALID_EXTEN", chan.exten)
                    chan.exten, chan.priority = "i", 1
                    continue
                log.warning(
                    "Channel '%s' sent to invalid extension but no invalid handler: "
                    "context,exten,priority=%s,%s,%d",
                    chan.name,
                    chan.context,
                    chan.exten,
                    chan.priority,
                )
            else:
                log.info(
                    "Auto fallthrough, channel '%s' at %s,%s,%d",
                    chan.name,
                    chan.context,
                    chan.exten,
                    chan.priority,
                )
            return
        res = await run_priority(core, chan, prio)
        if chan.pending_bridge is not None and not chan.hung_up:
            if await _enter_pending_bridge(core, chan):
                continue
            return
        if res == 0 and not chan.check_hangup():
            chan.priority += 1
            continue
        if chan.softhangup & SoftHangup.ASYNCGOTO and not chan.hung_up:
            chan.softhangup &= ~SoftHangup.ASYNCGOTO
            continue
        return


async def _run_h(core: PbxCore, chan: Channel) -> None:
    """The ``h`` extension of the context, if there is one, after the dialplan ended."""
    if not core.dialplan.exists(chan.context, "h", 1):
        return
    chan.exten, chan.priority = "h", 1
    while True:
        prio = core.dialplan.find_priority(chan.context, "h", chan.priority)
        if prio is None:
            return
        if await run_priority(core, chan, prio) != 0:
            return
        chan.priority += 1


async def pbx_run(core: PbxCore, chan: Channel) -> None:
    """Run the dialplan on ``chan`` from its current location, then hang it up."""
    chan.in_pbx = True
    try:
        await _loop(core, chan)
    finally:
        chan.in_pbx = False
    if chan.dead:
        return
    core.emit("SoftHangupRequest", chan, [("Cause", str(int(SoftHangup.APPUNLOAD)))])
    chan.softhangup |= SoftHangup.APPUNLOAD
    await _run_h(core, chan)
    core.destroy(chan)


async def run_application(core: PbxCore, chan: Channel, app_name: str, data: str) -> None:
    """Run an Originate ``Application`` on ``chan`` (no ``Newexten``, as in the captures).

    The channel is hung up when the application returns, unless a Redirect sent it into the
    dialplan or another channel's Bridge() pulled it away meanwhile.
    """
    found = find_app(app_name)
    if found is None:
        log.warning("Originate: no application '%s'", app_name)
        return
    name, app = found
    chan.appl, chan.data = name, data
    await app(core, chan, data)
    if chan.pending_bridge is not None and not chan.hung_up:
        if not await _enter_pending_bridge(core, chan):
            return
        await pbx_run(core, chan)
        return
    if chan.softhangup & SoftHangup.ASYNCGOTO and not chan.hung_up:
        chan.softhangup &= ~SoftHangup.ASYNCGOTO
        await pbx_run(core, chan)
