"""The PBX core: configuration, channel registry, identifiers, events and the primitive
operations every other part uses (create, hang up, redirect, destroy a channel).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from .channels import Channel, ChannelState, SoftHangup, cause_text, channel_headers
from .devices import DeviceStates
from .dialplan import Dialplan
from .events import PRIV_CALL, AmiEvent, EventBus
from .notify import Notifier
from .recordings import Recording, Voicemail

if TYPE_CHECKING:
    from .phones import Phone

__all__ = ["PbxConfig", "PbxCore"]

log = logging.getLogger(__name__)


@dataclass
class PbxConfig:
    """Knobs of the simulated PBX (all have working defaults)."""

    #: what ``core show version``, ``agi_version`` and CoreSettings report
    asterisk_version: str = "22.10.1"
    ami_version: str = "11.0.0"
    #: where recordings and voicemail are written; a fresh temporary directory when None
    spool_dir: Path | None = None
    #: write absolute dialplan paths (``/var/spool/...``) under ``spool_dir`` instead of
    #: at the real place; relative MixMonitor names go under ``monitor_dir`` either way
    reroot_absolute_paths: bool = True
    monitor_dir: str = "/var/spool/asterisk/monitor"
    voicemail_dir: str = "/var/spool/asterisk/voicemail"
    #: how long one prompt (file, or one SAY word) plays, in seconds of real time
    prompt_seconds: float = 0.0
    #: prompts that "do not exist" (STREAM FILE fails, Playback sets FAILED)
    missing_prompts: frozenset[str] = frozenset({"no-such-file", "nosuchfile"})
    #: how long a caller "speaks" into VoiceMail() before the message is saved
    voicemail_seconds: float = 0.2
    agi_connect_timeout: float = 2.0
    #: FastAGI address rewrites, "host:port" -> "host:port" (point 4573 at a test server)
    agi_rewrite: dict[str, str] = field(default_factory=dict)
    #: the PJSIP endpoint inbound PSTN callers arrive on (``PJSIP/pstn-00000001``)
    trunk_endpoint: str = "pstn"
    default_originate_timeout: float = 30.0
    language: str = "en"
    event_log_limit: int = 200_000


class PbxCore:
    """State shared by every part of the simulated PBX."""

    def __init__(
        self,
        dialplan: Dialplan,
        config: PbxConfig | None = None,
        global_overrides: dict[str, str] | None = None,
    ) -> None:
        self.dialplan = dialplan
        self.config = config or PbxConfig()
        self.global_overrides = dict(global_overrides or {})
        self.globals: dict[str, str] = {**dialplan.globals, **self.global_overrides}
        self.bus = EventBus(self.config.event_log_limit)
        self.changed = Notifier()
        # every event is a state change somebody may be waiting for
        self.bus.subscribe(lambda _event: self.changed.notify())
        self.channels: dict[str, Channel] = {}
        self.astdb: dict[str, str] = {}
        self.recordings: list[Recording] = []
        self.voicemails: list[Voicemail] = []
        self.phones: dict[str, Phone] = {}
        self.devices = DeviceStates(self)
        self.processed_calls = 0
        self.started_wall = time.time()
        self.reloaded_wall = self.started_wall
        self._uid_seq = -1
        self._pjsip_seq = -1
        self._local_seq = -1
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        if self.config.spool_dir is None:
            self.spool_dir = Path(tempfile.mkdtemp(prefix="acd-sim-pbx-"))
        else:
            self.spool_dir = Path(self.config.spool_dir)
        self.devices.prime()

    # ------------------------------------------------------------------ identifiers

    def new_uniqueid(self) -> str:
        self._uid_seq += 1
        return f"{int(time.time())}.{self._uid_seq}"

    def pjsip_channel_name(self, endpoint: str) -> str:
        self._pjsip_seq += 1
        return f"PJSIP/{endpoint}-{self._pjsip_seq:08x}"

    def local_channel_base(self, exten: str, context: str) -> str:
        self._local_seq += 1
        return f"Local/{exten}@{context}-{self._local_seq:08x}"

    # ------------------------------------------------------------------ events

    def emit(
        self,
        name: str,
        chan: Channel,
        extra: Iterable[tuple[str, str]] = (),
        privilege: str = PRIV_CALL,
    ) -> AmiEvent:
        """An event about one channel: its snapshot block, then ``extra`` headers."""
        return self.bus.emit(name, privilege, [*channel_headers(chan), *extra])

    def emit_plain(self, name: str, privilege: str, headers: Iterable[tuple[str, str]]) -> AmiEvent:
        return self.bus.emit(name, privilege, headers)

    def device_changed(self, chan: Channel) -> None:
        self.devices.channel_changed(chan)

    # ------------------------------------------------------------------ channels

    def new_channel(
        self,
        *,
        name: str,
        tech: str,
        state: ChannelState,
        context: str,
        exten: str,
        priority: int = 1,
        caller_num: str | None = None,
        caller_name: str | None = None,
        uniqueid: str | None = None,
        linkedid: str | None = None,
        endpoint: str | None = None,
        event: bool = True,
    ) -> Channel:
        uid = uniqueid or self.new_uniqueid()
        chan = Channel(
            self,
            name=name,
            tech=tech,
            uniqueid=uid,
            linkedid=linkedid or uid,
            state=state,
            context=context,
            exten=exten,
            priority=priority,
            caller_num=caller_num,
            caller_name=caller_name,
            language=self.config.language,
            endpoint=endpoint,
        )
        self.channels[name] = chan
        self.processed_calls += 1
        if event:
            self.emit("Newchannel", chan)
        self.device_changed(chan)
        return chan

    def find_channel(self, name: str) -> Channel | None:
        """By name (case-insensitive), then by uniqueid, like ``ast_channel_get_by_name``."""
        if not name:
            return None
        found = self.channels.get(name)
        if found is not None:
            return found
        low = name.lower()
        for chan in self.channels.values():
            if chan.name.lower() == low or chan.uniqueid == name:
                return chan
        return None

    def request_hangup(
        self,
        chan: Channel,
        cause: int | None = None,
        *,
        event: str | None = "HangupRequest",
        flag: SoftHangup = SoftHangup.DEV,
    ) -> None:
        """Ask a channel to hang up; its owner notices and destroys it."""
        if chan.dead:
            return
        if cause is not None and not chan.hangup_cause:
            chan.hangup_cause = cause
        if event == "HangupRequest":
            self.emit("HangupRequest", chan, [("Cause", str(cause or 0))])
        elif event == "SoftHangupRequest":
            self.emit("SoftHangupRequest", chan, [("Cause", str(int(flag)))])
        chan.softhangup |= flag
        chan.notify()

    def async_goto(self, chan: Channel, context: str, exten: str, priority: int) -> None:
        """``ast_async_goto``: send a channel elsewhere in the dialplan, now."""
        chan.context, chan.exten, chan.priority = context, exten, priority
        chan.softhangup |= SoftHangup.ASYNCGOTO
        chan.notify()

    def destroy(self, chan: Channel) -> None:
        """``ast_hangup``: the Local peer is told, recordings are written, ``Hangup`` goes out."""
        if chan.dead:
            return
        peer = chan.local_peer
        if peer is not None and not peer.dead:
            self.emit("HangupRequest", peer, [("Cause", str(chan.hangup_cause))])
            if not peer.hangup_cause:
                peer.hangup_cause = chan.hangup_cause
            peer.softhangup |= SoftHangup.DEV
            peer.notify()
        if chan.bridge is not None:
            chan.bridge.leave(chan, hangup=True)
        for rec in chan.mixmonitors:
            rec.finish(chan)
        chan.dead = True
        chan.publish()
        self.emit(
            "Hangup",
            chan,
            [("Cause", str(chan.hangup_cause)), ("Cause-txt", cause_text(chan.hangup_cause))],
        )
        self.channels.pop(chan.name, None)
        self.device_changed(chan)
        chan.notify()

    # ------------------------------------------------------------------ tasks

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("simulated PBX task %s failed", task.get_name(), exc_info=exc)

    def own(self, chan: Channel, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` as the owner of ``chan``: the channel is destroyed when it ends."""

        async def owner() -> None:
            try:
                await coro
            finally:
                if not chan.dead:
                    self.destroy(chan)

        return self.spawn(owner(), name=f"owner {chan.name}")

    def start_dialplan(self, chan: Channel) -> asyncio.Task[Any]:
        from .runner import pbx_run

        return self.own(chan, pbx_run(self, chan))

    async def close(self) -> None:
        """Hang up every channel and stop every task."""
        self._closing = True
        for chan in list(self.channels.values()):
            self.request_hangup(chan, 16, event=None)
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=0.5)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for chan in list(self.channels.values()):
            self.destroy(chan)

    # ------------------------------------------------------------------ files & vars

    def host_path(self, dialplan_path: str, base_dir: str) -> tuple[str, Path]:
        """(the path the dialplan sees, where the file really goes) for a file name."""
        shown = dialplan_path if dialplan_path.startswith("/") else f"{base_dir}/{dialplan_path}"
        if self.config.reroot_absolute_paths:
            real = self.spool_dir.joinpath(*PurePosixPath(shown).parts[1:])
        else:
            real = Path(shown)
        return shown, real

    def set_global(self, name: str, value: str) -> None:
        self.globals[name] = value

    def reload_dialplan(self, dialplan: Dialplan) -> None:
        self.dialplan = dialplan
        self.globals.update(dialplan.globals)
        self.globals.update(self.global_overrides)
        self.reloaded_wall = time.time()
        self.devices.prime()
