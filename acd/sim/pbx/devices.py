"""Device states (``PJSIP/1001``, ``Local/s@ctx``) and the hints that turn them into
``ExtensionStatus`` events, computed from registrations and live channels.

Like Asterisk's device-state thread, changes are processed a moment later (``call_soon``) and
coalesced, so a burst of channel changes yields one ``DeviceStateChange`` per real change.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from .channels import ChannelState
from .dialplan import Hint
from .events import PRIV_CALL

if TYPE_CHECKING:
    from .channels import Channel
    from .core import PbxCore

__all__ = ["EXTENSION_STATES", "DeviceStates", "extension_state"]

#: device state -> (ExtensionStatus code, StatusText)
EXTENSION_STATES: dict[str, tuple[int, str]] = {
    "NOT_INUSE": (0, "Idle"),
    "INUSE": (1, "InUse"),
    "BUSY": (2, "Busy"),
    "UNAVAILABLE": (4, "Unavailable"),
    "INVALID": (4, "Unavailable"),
    "UNKNOWN": (4, "Unavailable"),
    "RINGING": (8, "Ringing"),
    "RINGINUSE": (9, "InUse&Ringing"),
    "ONHOLD": (16, "Hold"),
}


def extension_state(device_states: list[str]) -> tuple[int, str]:
    """Aggregate the states of a hint's devices into (Status, StatusText)."""
    if not device_states:
        return (4, "Unavailable")
    ringing = any(s in ("RINGING", "RINGINUSE") for s in device_states)
    inuse = any(s in ("INUSE", "RINGINUSE", "BUSY", "ONHOLD") for s in device_states)
    if ringing and inuse:
        return (9, "InUse&Ringing")
    if any(s == "BUSY" for s in device_states):
        return (2, "Busy")
    if inuse:
        return (1, "InUse")
    if ringing:
        return (8, "Ringing")
    if all(s in ("UNAVAILABLE", "INVALID", "UNKNOWN") for s in device_states):
        return (4, "Unavailable")
    return (0, "Idle")


class DeviceStates:
    def __init__(self, core: PbxCore) -> None:
        self.core = core
        self.states: dict[str, str] = {}
        self.hint_states: dict[tuple[str, str], tuple[int, str]] = {}
        self._pending: dict[str, None] = {}
        self._scheduled = False

    def compute(self, device: str) -> str:
        chans = [c for c in self.core.channels.values() if c.device == device and not c.dead]
        if device.startswith("Local/"):
            up = any(c.state == ChannelState.UP for c in chans)
            return "INUSE" if up else "NOT_INUSE"
        if device.startswith("PJSIP/"):
            phone = self.core.phones.get(device[6:])
            if not chans:
                if phone is None:
                    trunk = device[6:] == self.core.config.trunk_endpoint
                    return "NOT_INUSE" if trunk else "UNAVAILABLE"
                return "NOT_INUSE" if phone.registered else "UNAVAILABLE"
            ringing = any(c.state == ChannelState.RINGING for c in chans)
            inuse = any(c.state != ChannelState.RINGING for c in chans)
            if ringing and inuse:
                return "RINGINUSE"
            return "RINGING" if ringing else "INUSE"
        return "UNKNOWN"

    def state(self, device: str) -> str:
        """The current state (computed now, whether or not an event went out yet)."""
        return self.compute(device)

    def hints_of(self, device: str) -> list[Hint]:
        return [h for h in self.core.dialplan.hints() if device in h.devices]

    def hint_state(self, hint: Hint) -> tuple[int, str]:
        return extension_state([self.compute(d) for d in hint.devices])

    def channel_changed(self, chan: Channel) -> None:
        device = chan.device
        if device is not None:
            self.schedule(device)

    def schedule(self, device: str) -> None:
        self._pending[device] = None
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled = False
        pending, self._pending = list(self._pending), {}
        for device in pending:
            self.refresh(device)

    def refresh(self, device: str, *, extension_first: bool = True) -> None:
        """Emit ``ExtensionStatus``/``DeviceStateChange`` for ``device`` if it changed."""
        new = self.compute(device)
        old = self.states.get(device, self._initial(device))
        if new == old:
            return
        self.states[device] = new
        if extension_first:
            self.emit_hints(device)
            self.emit_device(device, new)
        else:
            self.emit_device(device, new)
            self.emit_hints(device)

    def _initial(self, device: str) -> str:
        """The state a device is assumed in before its first change is seen."""
        if device.startswith("Local/") or device == f"PJSIP/{self.core.config.trunk_endpoint}":
            return "NOT_INUSE"
        return "UNAVAILABLE"

    def emit_device(self, device: str, state: str) -> None:
        self.core.bus.emit("DeviceStateChange", PRIV_CALL, [("Device", device), ("State", state)])

    def emit_hints(self, device: str) -> None:
        for hint in self.hints_of(device):
            key = (hint.context, hint.exten)
            status = self.hint_state(hint)
            if self.hint_states.get(key) == status:
                continue
            self.hint_states[key] = status
            self.core.bus.emit(
                "ExtensionStatus",
                PRIV_CALL,
                [
                    ("Exten", hint.exten),
                    ("Context", hint.context),
                    ("Hint", hint.text),
                    ("Status", str(status[0])),
                    ("StatusText", status[1]),
                ],
            )

    def prime(self) -> None:
        """Record the initial states of all hinted devices without emitting events."""
        for hint in self.core.dialplan.hints():
            for device in hint.devices:
                self.states.setdefault(device, self.compute(device))
            self.hint_states[(hint.context, hint.exten)] = self.hint_state(hint)
