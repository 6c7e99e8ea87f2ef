"""The AMI server of the simulated PBX: real TCP, Asterisk 22's response and event formats.

Sessions are served concurrently; each authenticates (plain or MD5 challenge), then gets
every bus event allowed by its event mask (``Events: off``/``on``/``call,agi``...). Responses
and list actions (``EventList: start`` ... ``XxxComplete``) follow the captures in
``tests/fixtures/asterisk``. :meth:`AmiServer.drop_connections` cuts every session (abruptly,
or half-open: silently stops reading and writing while the socket stays open) to test the
daemon's reconnection.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from .ami_protocol import AmiMessage, encode_frame, read_message
from .apps import start_mixmonitor, stop_mixmonitor
from .channels import Channel, channel_headers, parse_cause
from .events import PRIV_SECURITY, PRIV_SYSTEM, PRIV_USER, AmiEvent
from .functions import ChannelVariables, read_function, write_function
from .originate import OriginateRequest, start_originate

if TYPE_CHECKING:
    from .core import PbxCore

__all__ = ["BANNER", "AmiServer", "AmiSession"]

log = logging.getLogger(__name__)

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
_ALL_CLASSES = frozenset(
    {"system", "call", "log", "verbose", "command", "agent", "user", "config", "dtmf",
     "reporting", "cdr", "dialplan", "originate", "agi", "cc", "aoc", "test", "security",
     "message"}
)  # fmt: skip

Headers = list[tuple[str, str]]
HeaderSeq = Sequence[tuple[str, str]]


def _event_tv(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}+0000"


def _hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _parse_mask(text: str) -> frozenset[str] | None:
    """None for "all events", else the set of classes (empty for ``off``)."""
    low = text.strip().lower()
    if low in ("on", "yes", "true", "1", "all"):
        return None
    if low in ("off", "no", "false", "0", ""):
        return frozenset()
    classes = frozenset(c.strip() for c in low.split(",") if c.strip())
    return None if "all" in classes else classes


class AmiSession:
    def __init__(
        self, server: AmiServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.core = server.core
        self.reader = reader
        self.writer = writer
        self.authenticated = False
        self.username = ""
        self.mask: frozenset[str] | None = None
        self.frozen = False
        self.closed = False
        self.challenge: str | None = None
        self.session_id = f"0x{random.getrandbits(48):012x}"
        self.started = time.time()
        sock = writer.get_extra_info("sockname") or ("127.0.0.1", 0)
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        self.local_address = f"IPV4/TCP/{sock[0]}/{sock[1]}"
        self.remote_address = f"IPV4/TCP/{peer[0]}/{peer[1]}"
        self._unsubscribe = self.core.bus.subscribe(self.on_event)
        self.task: asyncio.Task[None] | None = None

    # ----- output

    def send(self, headers: Headers) -> None:
        if self.frozen or self.closed or self.writer.is_closing():
            return
        self.writer.write(encode_frame(headers))

    def on_event(self, event: AmiEvent) -> None:
        if not self.authenticated or self.frozen:
            return
        if self.mask is not None and not (event.classes & self.mask):
            return
        self.send(list(event.headers))

    def respond(
        self, msg: AmiMessage, response: str, headers: HeaderSeq = (), message: str | None = None
    ) -> None:
        out: Headers = [("Response", response)]
        if msg.action_id is not None:
            out.append(("ActionID", msg.action_id))
        if message is not None:
            out.append(("Message", message))
        out.extend(headers)
        self.send(out)

    def error(self, msg: AmiMessage, message: str) -> None:
        self.respond(msg, "Error", message=message)

    def list_start(self, msg: AmiMessage, message: str) -> None:
        self.respond(msg, "Success", [("EventList", "start"), ("Message", message)])

    def list_complete(self, msg: AmiMessage, event: str, count: int, extra: HeaderSeq = ()) -> None:
        out: Headers = [("Event", event)]
        if msg.action_id is not None:
            out.append(("ActionID", msg.action_id))
        out += [("EventList", "Complete"), ("ListItems", str(count)), *extra]
        self.send(out)

    def item(self, msg: AmiMessage, event: str, headers: Headers) -> None:
        out: Headers = [("Event", event)]
        if msg.action_id is not None:
            out.append(("ActionID", msg.action_id))
        self.send(out + headers)

    # ----- life cycle

    async def run(self) -> None:
        self.writer.write(BANNER)
        try:
            while not self.closed:
                msg = await read_message(self.reader)
                if msg is None:
                    break
                if self.frozen:
                    continue
                await self.dispatch(msg)
        except (ConnectionError, OSError):
            pass
        finally:
            self._unsubscribe()
            if not self.frozen:
                self.close()
            self.server.sessions.discard(self)

    def close(self) -> None:
        self.closed = True
        if not self.writer.is_closing():
            self.writer.close()

    def abort(self) -> None:
        self.closed = True
        self._unsubscribe()
        transport = self.writer.transport
        if transport is not None:
            transport.abort()

    def freeze(self) -> None:
        """Half-open: stop reading and writing, keep the socket open."""
        self.frozen = True
        self._unsubscribe()
        transport = self.writer.transport
        pause = getattr(transport, "pause_reading", None)
        if pause is not None:
            with contextlib.suppress(Exception):
                pause()

    async def dispatch(self, msg: AmiMessage) -> None:
        action = msg.action.strip()
        if not action:
            self.error(msg, "Missing action in request")
            return
        low = action.lower()
        if not self.authenticated and low not in ("login", "challenge", "logoff"):
            self.error(msg, "Permission denied")
            return
        handler: Callable[[AmiMessage], Awaitable[None]] | None = getattr(
            self, "action_" + low, None
        )
        if handler is None:
            self.error(
                msg,
                f"Invalid/unknown command: {action}. "
                "Use Action: ListCommands to show available commands.",
            )
            self._security("RequestBadFormat", "Error", [("RequestType", f"Action: {action}")])
            return
        try:
            await handler(msg)
        except Exception:
            log.exception("AMI action %s failed", action)
            self.error(msg, "Internal error in the simulated PBX")

    def _security(self, name: str, severity: str, extra: Headers) -> None:
        now = time.time()
        headers: Headers = [
            ("EventTV", _event_tv(now)),
            ("Severity", severity),
            ("Service", "AMI"),
            ("EventVersion", "1"),
        ]
        if name == "SuccessfulAuth":
            headers += [("AccountID", self.username)]
        headers += [
            ("SessionID", self.session_id),
            ("LocalAddress", self.local_address),
            ("RemoteAddress", self.remote_address),
            *extra,
            ("SessionTV", _event_tv(self.started)),
        ]
        if name != "SuccessfulAuth":
            headers.append(("AccountID", self.username))
        self.core.emit_plain(name, PRIV_SECURITY, headers)

    # ----- authentication

    async def action_challenge(self, msg: AmiMessage) -> None:
        if msg.get("AuthType").lower() != "md5":
            self.error(msg, "Must specify AuthType")
            return
        self.challenge = str(random.randint(100000000, 999999999))
        self.respond(msg, "Success", [("Challenge", self.challenge)])

    async def action_login(self, msg: AmiMessage) -> None:
        username = msg.get("Username")
        secret = self.server.users.get(username)
        ok = False
        using_password = "0"
        if secret is not None:
            if msg.get("AuthType").lower() == "md5" and self.challenge:
                key = hashlib.md5((self.challenge + secret).encode()).hexdigest()
                ok = msg.get("Key").lower() == key
            else:
                ok = msg.get("Secret") == secret
        if not ok:
            self.error(msg, "Authentication failed")
            self.username = username
            await self.writer.drain()
            self.close()
            return
        self.authenticated = True
        self.username = username
        self.mask = _parse_mask(msg.get("Events", "on")) if msg.has("Events") else None
        self.respond(msg, "Success", message="Authentication accepted")
        if self.mask is None or "system" in self.mask:
            uptime = str(int(time.time() - self.core.started_wall))
            reload_ = str(int(time.time() - self.core.reloaded_wall))
            self.send(
                [
                    ("Event", "FullyBooted"),
                    ("Privilege", PRIV_SYSTEM),
                    ("Uptime", uptime),
                    ("LastReload", reload_),
                    ("Status", "Fully Booted"),
                ]
            )
        self._security("SuccessfulAuth", "Informational", [("UsingPassword", using_password)])

    async def action_logoff(self, msg: AmiMessage) -> None:
        self.respond(msg, "Goodbye", message="Thanks for all the fish.")
        with contextlib.suppress(ConnectionError):
            await self.writer.drain()
        self.close()

    # ----- simple actions

    async def action_ping(self, msg: AmiMessage) -> None:
        self.respond(msg, "Success", [("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}")])

    async def action_events(self, msg: AmiMessage) -> None:
        self.mask = _parse_mask(msg.get("EventMask"))
        self.respond(msg, "Success", [("Events", "Off" if self.mask == frozenset() else "On")])

    async def action_corestatus(self, msg: AmiMessage) -> None:
        start = time.localtime(self.core.started_wall)
        reload_ = time.localtime(self.core.reloaded_wall)
        self.respond(
            msg,
            "Success",
            [
                ("CoreStartupDate", time.strftime("%Y-%m-%d", start)),
                ("CoreStartupTime", time.strftime("%H:%M:%S", start)),
                ("CoreReloadDate", time.strftime("%Y-%m-%d", reload_)),
                ("CoreReloadTime", time.strftime("%H:%M:%S", reload_)),
                ("CoreCurrentCalls", str(len(self.core.channels))),
                ("CoreProcessedCalls", str(self.core.processed_calls)),
            ],
        )

    async def action_coresettings(self, msg: AmiMessage) -> None:
        cfg = self.core.config
        self.respond(
            msg,
            "Success",
            [
                ("AMIversion", cfg.ami_version),
                ("AsteriskVersion", cfg.asterisk_version),
                ("SystemName", ""),
                ("CoreMaxCalls", "0"),
                ("CoreMaxLoadAvg", "0.000000"),
                ("CoreRunUser", ""),
                ("CoreRunGroup", ""),
                ("CoreMaxFilehandles", "0"),
                ("CoreRealTimeEnabled", "No"),
                ("CoreCDRenabled", "Yes"),
                ("CoreHTTPenabled", "No"),
                ("SoundsSearchCustomDir", "No"),
            ],
        )

    async def action_listcommands(self, msg: AmiMessage) -> None:
        names = sorted(n[7:] for n in dir(self) if n.startswith("action_"))
        self.respond(msg, "Success", [(n, f"{n}.  (Priv: <none>)") for n in names])

    async def action_userevent(self, msg: AmiMessage) -> None:
        name = msg.get("UserEvent")
        if not name:
            self.error(msg, "UserEvent header missing")
            return
        body = [(k, v) for k, v in msg.headers if k.lower() not in ("action", "userevent")]
        self.respond(msg, "Success", message="Event Sent")
        self.core.emit_plain("UserEvent", PRIV_USER, [("UserEvent", name), *body])

    # ----- channels

    def _channel(self, msg: AmiMessage, key: str = "Channel") -> Channel | None:
        name = msg.get(key)
        if not name:
            self.error(msg, "No channel specified")
            return None
        chan = self.core.find_channel(name)
        if chan is None:
            self.error(msg, "No such channel")
        return chan

    async def action_coreshowchannels(self, msg: AmiMessage) -> None:
        self.list_start(msg, "Channels will follow")
        chans = list(self.core.channels.values())
        for chan in chans:
            self.item(
                msg,
                "CoreShowChannel",
                [
                    *channel_headers(chan),
                    ("Application", chan.appl),
                    ("ApplicationData", chan.data),
                    ("Duration", _hms(chan.duration())),
                    ("BridgeId", chan.bridge.uniqueid if chan.bridge else ""),
                ],
            )
        self.list_complete(msg, "CoreShowChannelsComplete", len(chans))

    async def action_status(self, msg: AmiMessage) -> None:
        if msg.get("Channel"):
            chan = self._channel(msg)
            if chan is None:
                return
            chans = [chan]
        else:
            chans = list(self.core.channels.values())
        self.list_start(msg, "Channel status will follow")
        for chan in chans:
            headers: Headers = [
                ("Event", "Status"),
                ("Privilege", "Call"),
                *channel_headers(chan),
                ("Type", chan.tech),
                ("DNID", chan.dnid or ""),
                ("EffectiveConnectedLineNum", chan.connected_num or "<unknown>"),
                ("EffectiveConnectedLineName", chan.connected_name or "<unknown>"),
                ("TimeToHangup", "0"),
                ("BridgeID", chan.bridge.uniqueid if chan.bridge else ""),
                ("Application", chan.appl),
                ("Data", chan.data),
                ("Nativeformats", "(slin)"),
                ("Readformat", "slin"),
                ("Readtrans", ""),
                ("Writeformat", "slin"),
                ("Writetrans", ""),
                ("Callgroup", "0"),
                ("Pickupgroup", "0"),
                ("Seconds", str(chan.duration())),
            ]
            if msg.action_id is not None:
                headers.append(("ActionID", msg.action_id))
            self.send(headers)
        self.list_complete(msg, "StatusComplete", len(chans), [("Items", str(len(chans)))])

    async def action_getvar(self, msg: AmiMessage) -> None:
        name = msg.get("Variable")
        if not name:
            self.error(msg, "No variable specified")
            return
        chan: Channel | None = None
        if msg.get("Channel"):
            chan = self._channel(msg)
            if chan is None:
                return
        value: str | None
        if name.endswith(")") and "(" in name:
            func, _, args = name.partition("(")
            value = read_function(self.core, chan, func, args[:-1])
        else:
            value = ChannelVariables(self.core, chan).get_variable(name)
        self.respond(msg, "Success", [("Variable", name), ("Value", value or "")])

    async def action_setvar(self, msg: AmiMessage) -> None:
        name = msg.get("Variable")
        if not name:
            self.error(msg, "No variable specified")
            return
        value = msg.get("Value")
        chan: Channel | None = None
        if msg.get("Channel"):
            chan = self._channel(msg)
            if chan is None:
                return
        if name.endswith(")") and "(" in name:
            func, _, args = name.partition("(")
            write_function(self.core, chan, func, args[:-1], value)
        elif chan is not None:
            chan.set_var(name, value)
        else:
            self.core.set_global(name, value)
        self.respond(msg, "Success", message="Variable Set")

    async def action_redirect(self, msg: AmiMessage) -> None:
        if not msg.get("Channel"):
            self.error(msg, "Channel not specified")
            return
        chan = self._channel(msg)
        if chan is None:
            return
        extra: Channel | None = None
        if msg.get("ExtraChannel"):
            extra = self._channel(msg, "ExtraChannel")
            if extra is None:
                return
        context = msg.get("Context") or chan.context
        exten = msg.get("Exten") or chan.exten
        prio_text = msg.get("Priority") or "1"
        if prio_text.strip().isdigit():
            priority = int(prio_text)
        else:
            found = self.core.dialplan.find_label(context, exten, prio_text.strip())
            if found is None:
                self.error(msg, "Invalid priority")
                return
            priority = found
        self.core.async_goto(chan, context, exten, priority)
        if extra is not None:
            self.core.async_goto(
                extra,
                msg.get("ExtraContext") or context,
                msg.get("ExtraExten") or exten,
                int(msg.get("ExtraPriority") or priority),
            )
        self.respond(msg, "Success", message="Redirect successful")

    async def action_hangup(self, msg: AmiMessage) -> None:
        name = msg.get("Channel")
        if not name:
            self.error(msg, "No channel specified")
            return
        cause = parse_cause(msg.get("Cause"))
        if len(name) > 2 and name.startswith("/") and name.endswith("/"):
            try:
                regex = re.compile(name[1:-1])
            except re.error:
                self.error(msg, "Invalid regex")
                return
            self.list_start(msg, "Channels hung up will follow")
            matched = 0
            for chan in list(self.core.channels.values()):
                if not regex.search(chan.name):
                    continue
                self.core.request_hangup(chan, cause or None, event=None)
                matched += 1
                self.item(msg, "ChannelHungup", [("Channel", chan.name)])
            self.list_complete(msg, "ChannelsHungupListComplete", matched)
            return
        target = self._channel(msg)
        if target is None:
            return
        self.core.request_hangup(target, cause or None, event=None)
        self.respond(msg, "Success", message="Channel Hungup")

    async def action_originate(self, msg: AmiMessage) -> None:
        channel = msg.get("Channel")
        if not channel:
            self.error(msg, "Channel not specified")
            return
        application = msg.get("Application")
        exten = msg.get("Exten")
        context = msg.get("Context")
        if not application and exten and not context:
            self.error(msg, "Context not specified")
            return
        variables: list[tuple[str, str]] = []
        for item in msg.get_all("Variable"):
            for part in item.split(","):
                name, sep, value = part.partition("=")
                if sep and name.strip():
                    variables.append((name.strip(), value))
        timeout_ms = msg.get("Timeout")
        try:
            timeout = int(timeout_ms) / 1000 if timeout_ms.strip() else None
        except ValueError:
            self.error(msg, "Invalid timeout")
            return
        req = OriginateRequest(
            channel=channel,
            context=context or None,
            exten=exten or None,
            priority=msg.get("Priority") or None,
            application=application or None,
            data=msg.get("Data"),
            callerid=msg.get("CallerID") or None,
            variables=variables,
            timeout=timeout,
            action_id=msg.action_id,
            channel_id=msg.get("ChannelId") or None,
            other_channel_id=msg.get("OtherChannelId") or None,
        )
        self.respond(msg, "Success", message="Originate successfully queued")
        start_originate(self.core, req)

    async def action_playdtmf(self, msg: AmiMessage) -> None:
        chan = self._channel(msg)
        if chan is None:
            return
        digit = msg.get("Digit")
        if not digit:
            self.error(msg, "No digit specified")
            return
        self.respond(msg, "Success", message="DTMF successfully queued")
        target = chan.local_peer if chan.local_peer is not None else chan
        target.queue_dtmf(digit[0])

    async def action_mixmonitor(self, msg: AmiMessage) -> None:
        chan = self._channel(msg)
        if chan is None:
            return
        filename = msg.get("File") or f"{chan.uniqueid}.wav"
        self.respond(msg, "Success")
        start_mixmonitor(self.core, chan, filename, msg.get("Options"))

    async def action_stopmixmonitor(self, msg: AmiMessage) -> None:
        chan = self._channel(msg)
        if chan is None:
            return
        self.respond(msg, "Success")
        stop_mixmonitor(self.core, chan)

    # ----- devices, hints, contacts

    async def action_devicestatelist(self, msg: AmiMessage) -> None:
        self.list_start(msg, "Device State Changes will follow")
        devices = dict.fromkeys(self.core.devices.states)
        for phone in self.core.phones.values():
            devices.setdefault(phone.device)
        for device in devices:
            self.item(
                msg,
                "DeviceStateChange",
                [("Device", device), ("State", self.core.devices.state(device))],
            )
        self.list_complete(msg, "DeviceStateListComplete", len(devices))

    def _hint_headers(self, exten: str, context: str) -> Headers:
        hint = self.core.dialplan.hint_for(context, exten)
        if hint is None:
            return [
                ("Exten", exten),
                ("Context", context),
                ("Hint", ""),
                ("Status", "-1"),
                ("StatusText", "Unknown"),
            ]
        code, text = self.core.devices.hint_state(hint)
        return [
            ("Exten", exten),
            ("Context", context),
            ("Hint", hint.text),
            ("Status", str(code)),
            ("StatusText", text),
        ]

    async def action_extensionstate(self, msg: AmiMessage) -> None:
        exten = msg.get("Exten")
        context = msg.get("Context") or "default"
        self.respond(msg, "Success", self._hint_headers(exten, context), "Extension Status")

    async def action_extensionstatelist(self, msg: AmiMessage) -> None:
        self.list_start(msg, "Extension Statuses will follow")
        hints = self.core.dialplan.hints()
        for hint in hints:
            self.item(msg, "ExtensionStatus", self._hint_headers(hint.exten, hint.context))
        self.list_complete(msg, "ExtensionStateListComplete", len(hints))

    async def action_pjsipshowcontacts(self, msg: AmiMessage) -> None:
        self.list_start(msg, "A listing of Contacts follows, presented as ContactList events")
        phones = [p for p in self.core.phones.values() if p.registered]
        for phone in phones:
            host_port = phone.contact_uri.rsplit("@", 1)[1]
            host, _, port = host_port.partition(":")
            expires = int((phone.registered_at or time.time()) + 3600)
            self.item(
                msg,
                "ContactList",
                [
                    ("ObjectType", "contact"),
                    ("ObjectName", f"{phone.endpoint};@{abs(hash(phone.contact_uri)):032x}"[:40]),
                    ("ViaAddr", host),
                    ("QualifyTimeout", "3.000000"),
                    ("Qualify2xxOnly", "false"),
                    ("CallId", f"{abs(hash(phone.endpoint)):016x}"[:16]),
                    ("RegServer", ""),
                    ("PruneOnBoot", "no"),
                    ("Path", ""),
                    ("Endpoint", phone.endpoint),
                    ("ViaPort", port),
                    ("AuthenticateQualify", "no"),
                    ("Uri", phone.contact_uri),
                    ("QualifyFrequency", "30"),
                    ("UserAgent", "acd-sim-phone 1.0"),
                    ("ExpirationTime", str(expires)),
                    ("OutboundProxy", ""),
                    ("Status", "Reachable"),
                    ("RoundtripUsec", "1137"),
                ],
            )
        self.list_complete(msg, "ContactListComplete", len(phones))

    # ----- CLI

    async def action_command(self, msg: AmiMessage) -> None:
        command = msg.get("Command").strip()
        output = self.server.cli(command)
        if output is None:
            words = command.split()
            best = " ".join(words[:2]) if len(words) > 1 else command
            self.respond(
                msg,
                "Error",
                [
                    (
                        "Output",
                        f"No such command '{command}' (type 'core show help {best}' "
                        "for other possible commands)",
                    )
                ],
                "Command output follows",
            )
            return
        lines = output.split("\n") if output else [""]
        self.respond(msg, "Success", [("Output", line) for line in lines], "Command output follows")


class AmiServer:
    """Listens for AMI clients; ``port=0`` picks a free port (see :attr:`port`)."""

    def __init__(
        self,
        core: PbxCore,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        users: dict[str, str] | None = None,
    ) -> None:
        self.core = core
        self.host = host
        self.port = port
        self.users = dict(users or {"acd": "acdsecret"})
        self.sessions: set[AmiSession] = set()
        self._server: asyncio.base_events.Server | None = None
        self.connections_accepted = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        sock = self._server.sockets[0]
        self.port = sock.getsockname()[1]

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def stop_listening(self) -> None:
        """Refuse new connections (established sessions are left alone)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def start_listening(self) -> None:
        """Listen again, on the same port."""
        if self._server is None:
            self._server = await asyncio.start_server(
                self._accept, self.host, self.port, reuse_address=True
            )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for session in list(self.sessions):
            session.abort()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        tasks = [s.task for s in self.sessions if s.task is not None and not s.task.done()]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=1.0)
            for task in pending:
                task.cancel()
        self.sessions.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = AmiSession(self, reader, writer)
        self.sessions.add(session)
        self.connections_accepted += 1
        session.task = asyncio.current_task()
        try:
            await session.run()
        except asyncio.CancelledError:
            # a cancelled connection task upsets asyncio's stream callback; end quietly
            session.abort()

    def drop_connections(self, *, half_open: bool = False) -> int:
        """Cut every AMI session: abruptly, or half-open (silent, socket left open)."""
        count = 0
        for session in list(self.sessions):
            if session.frozen:
                continue
            if half_open:
                session.freeze()
            else:
                session.abort()
            count += 1
        return count

    # ----- CLI commands

    def cli(self, command: str) -> str | None:
        words = command.lower().split()
        core = self.core
        if words == ["core", "show", "version"]:
            return (
                f"Asterisk {core.config.asterisk_version} built by acd @ sim on a x86_64 "
                "running Linux (simulated PBX)"
            )
        if words[:3] == ["core", "show", "channels"]:
            if words[3:] == ["concise"]:
                return "\n".join(
                    "!".join(
                        [
                            c.name,
                            c.context,
                            c.exten,
                            str(c.priority),
                            c.state.desc,
                            c.appl,
                            c.data,
                            c.caller_num or "",
                            c.accountcode,
                            "",
                            "3",
                            str(c.duration()),
                            c.bridge.uniqueid if c.bridge else "",
                            c.uniqueid,
                        ]
                    )
                    for c in core.channels.values()
                )
            n = len(core.channels)
            return (
                f"{n} active channel{'s' if n != 1 else ''}\n{n} active call{'s' if n != 1 else ''}"
            )
        if words == ["core", "show", "hints"]:
            out = ["", "    -= Registered Asterisk Dial Plan Hints =-"]
            hints = core.dialplan.hints()
            for hint in hints:
                _code, text = core.devices.hint_state(hint)
                out.append(f"{hint.exten}@{hint.context:<20}: {hint.text:<40} State:{text}")
            out += ["----------------", f"- {len(hints)} hints registered"]
            return "\n".join(out)
        if words == ["dialplan", "reload"]:
            from .dialplan import Dialplan

            if core.dialplan.source and core.dialplan.source != "<string>":
                core.reload_dialplan(Dialplan.from_file(core.dialplan.source))
            return "Dialplan reloaded."
        return None
