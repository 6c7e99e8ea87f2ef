"""Dialplan variables as a channel sees them: builtins, channel variables, globals and
functions (``CALLERID``, ``CHANNEL``, ``LEN``, ``IF``, ``DB``, ``DEVICE_STATE``...).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from .appargs import separate_args
from .expressions import is_true

if TYPE_CHECKING:
    from .channels import Channel
    from .core import PbxCore

__all__ = ["ChannelVariables", "read_function", "write_function"]


class ChannelVariables:
    """The :class:`~acd.sim.pbx.substitution.VariableSource` of a channel (or of no channel,
    for globals-only expansion)."""

    def __init__(self, core: PbxCore, chan: Channel | None) -> None:
        self.core = core
        self.chan = chan

    def get_variable(self, name: str) -> str | None:
        chan = self.chan
        if chan is not None:
            builtin = _builtin(self.core, chan, name)
            if builtin is not None:
                return builtin
            value = chan.var(name)
            if value is not None:
                return value
        if name == "EPOCH":
            return str(int(time.time()))
        return self.core.globals.get(name)

    def call_function(self, name: str, args: str) -> str | None:
        return read_function(self.core, self.chan, name, args)


def _builtin(core: PbxCore, chan: Channel, name: str) -> str | None:
    if name == "EXTEN":
        return chan.exten
    if name == "CONTEXT":
        return chan.context
    if name == "PRIORITY":
        return str(chan.priority)
    if name == "CHANNEL":
        return chan.name
    if name == "UNIQUEID":
        return chan.uniqueid
    if name == "EPOCH":
        return str(int(time.time()))
    if name == "HANGUPCAUSE":
        return str(chan.hangup_cause)
    if name == "SYSTEMNAME":
        return ""
    if name == "CALLERIDNUM":
        return chan.caller_num or ""
    if name == "CALLERIDNAME":
        return chan.caller_name or ""
    return None


def _channel_item(chan: Channel, item: str) -> str | None:
    item = item.strip().lower()
    values = {
        "name": chan.name,
        "state": chan.state.desc,
        "language": chan.language,
        "context": chan.context,
        "exten": chan.exten,
        "priority": str(chan.priority),
        "uniqueid": chan.uniqueid,
        "linkedid": chan.linkedid,
        "channeltype": chan.tech,
        "accountcode": chan.accountcode,
        "musicclass": chan.moh_class or "default",
        "hangupsource": chan.hangup_source,
    }
    return values.get(item)


def read_function(core: PbxCore, chan: Channel | None, name: str, args: str) -> str | None:
    """Read ``NAME(args)``; ``None`` for an unknown function or a missing channel."""
    fname = name.strip().upper()
    if fname == "LEN":
        return str(len(args))
    if fname == "ISNULL":
        return "1" if not args else "0"
    if fname == "EXISTS":
        return "0" if not args else "1"
    if fname == "TOUPPER":
        return args.upper()
    if fname == "TOLOWER":
        return args.lower()
    if fname == "IF":
        cond, _, branches = args.partition("?")
        yes, _, no = branches.partition(":")
        return yes if is_true(cond) else no
    if fname == "GLOBAL":
        return core.globals.get(args.strip(), "")
    if fname == "ENV":
        return os.environ.get(args.strip(), "")
    if fname == "DB":
        return core.astdb.get(args.strip(), "")
    if fname == "DB_EXISTS":
        return "1" if args.strip() in core.astdb else "0"
    if fname == "DEVICE_STATE":
        return core.devices.state(args.strip())
    if fname == "EXTENSION_STATE":
        exten, _, context = args.strip().partition("@")
        hint = core.dialplan.hint_for(context or "default", exten)
        if hint is None:
            return "UNKNOWN"
        code, _text = core.devices.hint_state(hint)
        return {0: "NOT_INUSE", 1: "INUSE", 2: "BUSY", 4: "UNAVAILABLE", 8: "RINGING"}.get(
            code, "RINGINUSE" if code == 9 else "HOLDINUSE"
        )
    if fname == "CUT":
        parts = separate_args(args)
        if len(parts) < 3 or chan is None:
            return ""
        value = chan.var(parts[0]) or core.globals.get(parts[0], "")
        delim = parts[1] or "-"
        fields = value.split(delim)
        try:
            idx = int(parts[2]) - 1
        except ValueError:
            return ""
        return fields[idx] if 0 <= idx < len(fields) else ""
    if fname == "CDR":
        return ""
    if chan is None:
        return None
    if fname == "CALLERID":
        item = args.strip().lower()
        if item in ("num", "number", "ani-num", "ani"):
            return chan.caller_num or ""
        if item == "name":
            return chan.caller_name or ""
        if item == "all":
            return chan.callerid_all
        if item == "dnid":
            return chan.dnid or ""
        if item == "rdnis":
            return chan.rdnis or ""
        return ""
    if fname == "CONNECTEDLINE":
        item = args.strip().lower()
        if item in ("num", "number"):
            return chan.connected_num or ""
        if item == "name":
            return chan.connected_name or ""
        return ""
    if fname == "CHANNEL":
        return _channel_item(chan, args)
    return None


def write_function(core: PbxCore, chan: Channel | None, name: str, args: str, value: str) -> bool:
    """Write ``NAME(args)=value``; ``False`` for an unknown function."""
    fname = name.strip().upper()
    item = args.strip().lower()
    if fname == "GLOBAL":
        core.set_global(args.strip(), value)
        return True
    if fname == "DB":
        core.astdb[args.strip()] = value
        return True
    if fname in ("CDR", "TIMEOUT", "VOLUME", "TALK_DETECT"):
        return True
    if chan is None:
        return False
    if fname == "CALLERID":
        if item in ("num", "number"):
            chan.set_caller(value, chan.caller_name)
        elif item == "name":
            chan.set_caller(chan.caller_num, value)
        elif item == "all":
            num, cname = _split_callerid(value)
            chan.set_caller(num, cname)
        return True
    if fname == "CONNECTEDLINE":
        if item in ("num", "number"):
            chan.set_connected(value, chan.connected_name)
        elif item == "name":
            chan.set_connected(chan.connected_num, value)
        return True
    if fname == "CHANNEL":
        if item == "language":
            chan.language = value
        elif item == "accountcode":
            chan.accountcode = value
        elif item == "musicclass":
            chan.moh_class = chan.moh_class and value
        return True
    return False


def _split_callerid(text: str) -> tuple[str | None, str | None]:
    """``"Name" <num>`` -> (num, Name); a bare number -> (num, None)."""
    text = text.strip()
    if "<" in text and text.endswith(">"):
        name, _, num = text[:-1].rpartition("<")
        name = name.strip().strip('"').strip()
        return (num.strip() or None, name or None)
    if text.replace("+", "").isdigit():
        return (text, None)
    return (None, text.strip('"') or None)


def split_callerid(text: str) -> tuple[str | None, str | None]:
    return _split_callerid(text)
