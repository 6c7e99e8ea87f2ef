"""Handles on calls for tests: press digits, hang up, wait for things to happen."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .channels import Channel, ChannelState

if TYPE_CHECKING:
    from .core import PbxCore

__all__ = ["Call"]


class Call:
    """A call seen from the simulated caller (or phone) end of one channel."""

    def __init__(self, core: PbxCore, chan: Channel) -> None:
        self.core = core
        self.chan = chan
        self._peers: list[str] = []

    def __repr__(self) -> str:
        return f"<Call {self.chan.name} {self.state.desc}>"

    # ----- what the caller does

    def press(self, digit: str) -> None:
        """Press one DTMF key (buffered until something reads digits)."""
        self.press_digits(digit)

    def press_digits(self, digits: str) -> None:
        if not self.chan.dead:
            self.chan.queue_dtmf(digits)

    def hangup(self, cause: int = 16) -> None:
        """The caller hangs up (BYE): ``HangupRequest``, then the dialplan unwinds."""
        if not self.chan.dead and not self.chan.hung_up:
            self.core.request_hangup(self.chan, cause, event="HangupRequest")

    # ----- what the caller observes

    @property
    def channel(self) -> str:
        return self.chan.name

    @property
    def uniqueid(self) -> str:
        return self.chan.uniqueid

    @property
    def state(self) -> ChannelState:
        return self.chan.state

    @property
    def is_hung_up(self) -> bool:
        return self.chan.dead

    @property
    def hangup_cause(self) -> int | None:
        return self.chan.hangup_cause if self.chan.dead else None

    @property
    def prompts_heard(self) -> list[str]:
        return list(self.chan.prompts_heard)

    @property
    def moh_class(self) -> str | None:
        """The music-on-hold class playing now, or None."""
        return self.chan.moh_class

    @property
    def heard_moh(self) -> bool:
        return bool(self.chan.moh_history)

    @property
    def bridged_with(self) -> str | None:
        """The channel this one is bridged with now (or None)."""
        peer = self.chan.peer
        return None if peer is None else peer.name

    @property
    def location(self) -> tuple[str, str, int]:
        """(context, exten, priority) where the current application was started - what AMI
        shows; a Redirect or ``SET CONTEXT`` is seen once the next application starts."""
        return self.chan.snap_location

    @property
    def context(self) -> str:
        return self.chan.snap_location[0]

    @property
    def application(self) -> str:
        return self.chan.appl

    def var(self, name: str) -> str | None:
        return self.chan.var(name)

    @property
    def variables(self) -> dict[str, str]:
        return {name: v.value for name, v in self.chan.vars.items()}

    # ----- waiting

    async def wait_until(
        self, predicate: Callable[[Call], bool], timeout: float = 5.0, what: str = "condition"
    ) -> None:
        """Wait until ``predicate(call)``; :class:`TimeoutError` says what did not happen."""
        ok = await self.core.changed.wait_for(lambda: predicate(self), timeout)
        if not ok:
            raise TimeoutError(
                f"{self.chan.name}: {what} not met within {timeout}s "
                f"(at {self.chan.context},{self.chan.exten},{self.chan.priority} "
                f"in {self.chan.appl or '-'}, state {self.chan.state.desc}, "
                f"{'hung up' if self.chan.dead else 'alive'})"
            )

    async def wait_for_state(self, state: ChannelState | str, timeout: float = 5.0) -> None:
        wanted = state if isinstance(state, ChannelState) else ChannelState[state.upper()]
        await self.wait_until(lambda c: c.state == wanted, timeout, f"state {wanted.desc}")

    async def wait_hangup(self, timeout: float = 5.0) -> int:
        """Wait until the channel is gone; its hangup cause."""
        await self.wait_until(lambda c: c.chan.dead, timeout, "hangup")
        return self.chan.hangup_cause

    async def wait_for_prompt(self, name: str, timeout: float = 5.0) -> None:
        await self.wait_until(lambda c: name in c.chan.prompts_heard, timeout, f"prompt {name}")

    async def wait_moh(self, timeout: float = 5.0) -> None:
        await self.wait_until(lambda c: c.moh_class is not None, timeout, "music on hold")

    async def wait_bridged(self, timeout: float = 5.0) -> str:
        await self.wait_until(lambda c: c.bridged_with is not None, timeout, "bridge")
        peer = self.bridged_with
        assert peer is not None
        return peer

    async def wait_in_context(self, context: str, timeout: float = 5.0) -> None:
        await self.wait_until(
            lambda c: c.context == context and c.chan.in_pbx, timeout, f"context {context}"
        )

    async def wait_in_app(self, app: str, timeout: float = 5.0) -> None:
        await self.wait_until(
            lambda c: c.chan.appl.lower() == app.lower(), timeout, f"application {app}"
        )
