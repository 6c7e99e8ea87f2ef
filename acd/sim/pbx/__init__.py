"""A simulated Asterisk PBX speaking real AMI and FastAGI over TCP, for tests, demos and
benchmarks on machines without Asterisk. It loads and executes ``asterisk_conf/
extensions.conf``; see ``docs/simulated-pbx.md``.
"""

from __future__ import annotations

from .callers import Call
from .channels import Channel, ChannelState
from .core import PbxConfig, PbxCore
from .dialplan import Dialplan, DialplanError
from .events import AmiEvent
from .originate import OriginateOutcome
from .pbx import DEFAULT_DIALPLAN, SimulatedPBX, run_pbx, start_pbx
from .phones import Phone
from .recordings import Recording, Voicemail

__all__ = [
    "DEFAULT_DIALPLAN",
    "AmiEvent",
    "Call",
    "Channel",
    "ChannelState",
    "Dialplan",
    "DialplanError",
    "OriginateOutcome",
    "PbxConfig",
    "PbxCore",
    "Phone",
    "Recording",
    "SimulatedPBX",
    "Voicemail",
    "run_pbx",
    "start_pbx",
]
