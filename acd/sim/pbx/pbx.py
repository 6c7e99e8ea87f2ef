"""The simulated PBX as one object: dialplan + AMI server + phones + callers + control hooks.

>>> async with SimulatedPBX(spool_dir=tmp_path) as pbx:          # doctest: +SKIP
...     pbx.point_agi_at("127.0.0.1", daemon_agi_port)
...     phone = pbx.add_phone("1001", answer_after=0.1)
...     call = await pbx.place_call("79001234567", "Ivan")
...     await call.wait_moh()
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .ami_server import AmiServer
from .callers import Call
from .channels import Channel, ChannelState
from .core import PbxConfig, PbxCore
from .dialplan import Dialplan
from .events import AmiEvent
from .originate import OriginateOutcome, OriginateRequest, start_originate
from .phones import Phone
from .recordings import Recording, Voicemail

__all__ = ["DEFAULT_DIALPLAN", "SimulatedPBX", "run_pbx", "start_pbx"]

log = logging.getLogger(__name__)

#: the dialplan the project ships
DEFAULT_DIALPLAN = Path(__file__).resolve().parents[3] / "asterisk_conf" / "extensions.conf"


class SimulatedPBX:
    """A running simulated Asterisk. Start with ``await pbx.start()`` or ``async with``."""

    def __init__(
        self,
        dialplan: str | Path | Dialplan | None = None,
        *,
        ami_host: str = "127.0.0.1",
        ami_port: int = 0,
        username: str = "acd",
        secret: str = "acdsecret",
        users: dict[str, str] | None = None,
        global_overrides: dict[str, str] | None = None,
        config: PbxConfig | None = None,
        **config_fields: Any,
    ) -> None:
        if isinstance(dialplan, Dialplan):
            plan = dialplan
        else:
            plan = Dialplan.from_file(dialplan or DEFAULT_DIALPLAN)
        if config is None:
            config = PbxConfig(**config_fields)
        elif config_fields:
            raise TypeError("pass either config= or config fields, not both")
        self.core = PbxCore(plan, config, global_overrides)
        accounts = dict(users or {})
        accounts.setdefault(username, secret)
        self.ami = AmiServer(self.core, host=ami_host, port=ami_port, users=accounts)
        self._started = False

    # ------------------------------------------------------------------ life cycle

    async def start(self) -> SimulatedPBX:
        if not self._started:
            await self.ami.start()
            self._started = True
        return self

    async def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        await self.core.close()
        await self.ami.stop()

    async def __aenter__(self) -> SimulatedPBX:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def ami_port(self) -> int:
        return self.ami.port

    @property
    def ami_host(self) -> str:
        return self.ami.host

    @property
    def config(self) -> PbxConfig:
        return self.core.config

    @property
    def spool_dir(self) -> Path:
        return self.core.spool_dir

    # ------------------------------------------------------------------ configuration hooks

    def set_global(self, name: str, value: str) -> None:
        self.core.set_global(name, value)

    def point_agi_at(self, host: str, port: int, *, original: str = "127.0.0.1:4573") -> None:
        """Send FastAGI connections meant for ``original`` to ``host:port`` (the dialplan and
        ``agi_request`` keep showing the original address)."""
        self.core.config.agi_rewrite[original] = f"{host}:{port}"

    def reload_dialplan(self, dialplan: str | Path | Dialplan | None = None) -> None:
        if isinstance(dialplan, Dialplan):
            plan = dialplan
        else:
            plan = Dialplan.from_file(dialplan or self.core.dialplan.source)
        self.core.reload_dialplan(plan)

    # ------------------------------------------------------------------ phones and callers

    def add_phone(
        self,
        endpoint: str,
        *,
        answer_after: float | None = None,
        refuse: bool = False,
        talk_time: float | None = None,
        name: str | None = None,
        context: str = "acd-phones",
        register: bool = True,
        busy_when_in_use: bool = True,
    ) -> Phone:
        """A PJSIP endpoint with a phone on it (registered unless ``register=False``).

        ``answer_after``: seconds after which a ringing call is answered automatically
        (None: answer with ``phone.answer()``); ``refuse``: reject every call as busy;
        ``talk_time``: hang up answered calls after this many seconds.
        """
        if endpoint in self.core.phones:
            raise ValueError(f"phone {endpoint} already exists")
        phone = Phone(
            self.core,
            endpoint,
            answer_after=answer_after,
            refuse=refuse,
            talk_time=talk_time,
            name=name,
            context=context,
            busy_when_in_use=busy_when_in_use,
            contact_port=5070 + len(self.core.phones),
        )
        self.core.phones[endpoint] = phone
        if register:
            phone.register()
        return phone

    def phone(self, endpoint: str) -> Phone:
        return self.core.phones[endpoint]

    @property
    def phones(self) -> dict[str, Phone]:
        return dict(self.core.phones)

    async def place_call(
        self,
        caller_num: str,
        caller_name: str = "",
        dnid: str = "88005553535",
        context: str = "acd-inbound",
        exten: str | None = None,
    ) -> Call:
        """An inbound PSTN call (``PJSIP/pstn-0000000N``) entering ``context`` at the dialled
        number (at ``s`` when there is none); the dialplan starts at once."""
        core = self.core
        trunk = core.config.trunk_endpoint
        chan = core.new_channel(
            name=core.pjsip_channel_name(trunk),
            tech="PJSIP",
            state=ChannelState.RING,
            context=context,
            exten=exten if exten is not None else (dnid or "s"),
            caller_num=caller_num or None,
            caller_name=caller_name or None,
            endpoint=trunk,
        )
        chan.dnid = dnid or None
        core.start_dialplan(chan)
        return Call(core, chan)

    def call_for(self, channel: str | Channel) -> Call:
        """A :class:`Call` handle on any live channel (e.g. an agent leg)."""
        chan = channel if isinstance(channel, Channel) else self.core.find_channel(channel)
        if chan is None:
            raise KeyError(channel)
        return Call(self.core, chan)

    # ------------------------------------------------------------------ PBX-side actions

    async def originate(
        self,
        channel: str,
        *,
        context: str | None = None,
        exten: str | None = None,
        priority: str | int | None = None,
        application: str | None = None,
        data: str = "",
        callerid: str | None = None,
        variables: dict[str, str] | Iterable[tuple[str, str]] = (),
        timeout: float | None = None,
    ) -> OriginateOutcome:
        """Originate without AMI; returns when the OriginateResponse is known."""
        items = list(variables.items()) if isinstance(variables, dict) else list(variables)
        req = OriginateRequest(
            channel=channel,
            context=context,
            exten=exten,
            priority=None if priority is None else str(priority),
            application=application,
            data=data,
            callerid=callerid,
            variables=items,
            timeout=timeout,
        )
        return await start_originate(self.core, req)

    def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> None:
        chan = self.core.find_channel(channel)
        if chan is None:
            raise KeyError(channel)
        self.core.async_goto(chan, context, exten, priority)

    def hangup(self, channel: str, cause: int = 16) -> None:
        chan = self.core.find_channel(channel)
        if chan is None:
            raise KeyError(channel)
        self.core.request_hangup(chan, cause, event=None)

    # ------------------------------------------------------------------ AMI connection hooks

    def drop_ami_connections(self, *, half_open: bool = False) -> int:
        """Cut every AMI client connection (``half_open``: stop reading/writing silently)."""
        return self.ami.drop_connections(half_open=half_open)

    async def stop_ami_listener(self) -> None:
        await self.ami.stop_listening()

    async def start_ami_listener(self) -> None:
        await self.ami.start_listening()

    # ------------------------------------------------------------------ observation

    @property
    def channels(self) -> dict[str, Channel]:
        """Live channels by name (a snapshot of the registry)."""
        return dict(self.core.channels)

    @property
    def recordings(self) -> list[Recording]:
        return list(self.core.recordings)

    @property
    def voicemails(self) -> list[Voicemail]:
        return list(self.core.voicemails)

    @property
    def event_log(self) -> list[AmiEvent]:
        """Every AMI event emitted, in order (what an ``Events: on`` client receives)."""
        return list(self.core.bus.log)

    def events(self, *names: str, since: int = 0) -> list[AmiEvent]:
        wanted = set(names)
        return [e for e in self.core.bus.log if e.seq > since and (not names or e.name in wanted)]

    @property
    def event_seq(self) -> int:
        """The sequence number of the last event (to look only at later ones)."""
        return self.core.bus.last_seq

    async def wait_for_event(
        self,
        name: str,
        predicate: Callable[[AmiEvent], bool] | None = None,
        *,
        since: int = 0,
        timeout: float = 5.0,
    ) -> AmiEvent:
        """The first event called ``name`` (after ``since``) that satisfies ``predicate``."""
        found: list[AmiEvent] = []

        def check() -> bool:
            for event in self.core.bus.log:
                if (
                    event.seq > since
                    and event.name == name
                    and (predicate is None or predicate(event))
                ):
                    found.append(event)
                    return True
            return False

        if not await self.core.changed.wait_for(check, timeout):
            raise TimeoutError(f"no {name} event within {timeout}s")
        return found[0]

    async def wait_until(
        self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition"
    ) -> None:
        if not await self.core.changed.wait_for(predicate, timeout):
            raise TimeoutError(f"{what} not met within {timeout}s")

    async def wait_idle(self, timeout: float = 5.0) -> None:
        """Wait until no channel is left."""
        await self.wait_until(lambda: not self.core.channels, timeout, "no channels left")


async def start_pbx(
    ami_port: int = 0,
    username: str = "acd",
    secret: str = "acdsecret",
    dialplan_path: str | Path | None = None,
    *,
    ami_host: str = "127.0.0.1",
    phones: Iterable[str] = (),
    answer_after: float | None = None,
    talk_time: float | None = None,
    agi_target: tuple[str, int] | None = None,
    **config_fields: Any,
) -> SimulatedPBX:
    """Create and start a simulated PBX (phones registered, FastAGI redirected if asked)."""
    pbx = SimulatedPBX(
        dialplan_path,
        ami_host=ami_host,
        ami_port=ami_port,
        username=username,
        secret=secret,
        **config_fields,
    )
    await pbx.start()
    for endpoint in phones:
        pbx.add_phone(endpoint, answer_after=answer_after, talk_time=talk_time)
    if agi_target is not None:
        pbx.point_agi_at(*agi_target)
    return pbx


async def run_pbx(
    ami_port: int,
    username: str,
    secret: str,
    dialplan_path: str | Path | None = None,
    *,
    started: Callable[[SimulatedPBX], None] | None = None,
    stop: asyncio.Event | None = None,
    **options: Any,
) -> None:
    """Run a simulated PBX in-process until cancelled (or until ``stop`` is set).

    ``started(pbx)`` is called once it listens, with the :class:`SimulatedPBX` whose control
    hooks (``add_phone``, ``place_call``...) drive the simulation. ``options`` are those of
    :func:`start_pbx` and :class:`~acd.sim.pbx.core.PbxConfig`.
    """
    pbx = await start_pbx(ami_port, username, secret, dialplan_path, **options)
    try:
        if started is not None:
            started(pbx)
        if stop is None:
            await asyncio.Event().wait()
        else:
            await stop.wait()
    finally:
        await pbx.stop()
