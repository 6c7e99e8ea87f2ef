"""Dialplan applications of the simulated PBX.

An application is ``async def app(core, chan, data) -> int``: ``0`` goes on to the next
priority, ``-1`` ends the dialplan (hangup, or an interrupt the runner resolves). Names are
case-insensitive; :func:`find_app` gives the canonical name shown in ``Newexten``. An unknown
application makes the runner log ``No application 'X' for extension (...)`` and hang up, as
Asterisk's ``pbx_extension_helper`` does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from .appargs import GotoTarget, parse_goto, parse_options, separate_args
from .bridges import Bridge, participate
from .channels import ChannelState, channel_headers, parse_cause
from .events import PRIV_CALL, PRIV_USER
from .expressions import is_true
from .functions import write_function
from .media import PlayResult, play_prompt, prompt_exists, start_moh, stop_moh
from .recordings import Recording, Voicemail, write_silent_wav

if TYPE_CHECKING:
    from .channels import Channel
    from .core import PbxCore

__all__ = ["APPS", "AppFunc", "explicit_goto", "find_app"]

log = logging.getLogger(__name__)

AppFunc = Callable[["PbxCore", "Channel", str], Awaitable[int]]
APPS: dict[str, tuple[str, AppFunc]] = {}


def app(name: str) -> Callable[[AppFunc], AppFunc]:
    def register(func: AppFunc) -> AppFunc:
        APPS[name.lower()] = (name, func)
        return func

    return register


def find_app(name: str) -> tuple[str, AppFunc] | None:
    return APPS.get(name.strip().lower())


def _float(text: str, default: float = 0.0) -> float:
    try:
        return float(text.strip())
    except ValueError:
        return default


# --------------------------------------------------------------------------- basics


@app("NoOp")
async def noop(core: PbxCore, chan: Channel, data: str) -> int:
    return 0


@app("Verbose")
async def verbose(core: PbxCore, chan: Channel, data: str) -> int:
    log.debug("Verbose(%s) on %s", data, chan.name)
    return 0


@app("Log")
async def log_app(core: PbxCore, chan: Channel, data: str) -> int:
    log.info("Log(%s) on %s", data, chan.name)
    return 0


@app("Answer")
async def answer(core: PbxCore, chan: Channel, data: str) -> int:
    if chan.hung_up:
        return -1
    chan.answer()
    return 0


@app("Ringing")
async def ringing(core: PbxCore, chan: Channel, data: str) -> int:
    return 0


@app("Progress")
async def progress(core: PbxCore, chan: Channel, data: str) -> int:
    return 0


@app("Hangup")
async def hangup(core: PbxCore, chan: Channel, data: str) -> int:
    cause = parse_cause(data) if data.strip() else 0
    if cause <= 0:
        cause = chan.hangup_cause or 16
    chan.hangup_cause = cause
    chan.hangup_source = "dialplan/builtin"
    return -1


@app("Set")
async def set_app(core: PbxCore, chan: Channel, data: str) -> int:
    name, sep, value = data.partition("=")
    name = name.strip()
    if not sep or not name:
        log.warning("Set requires an argument (0=value)")
        return 0
    if name.endswith(")") and "(" in name:
        func, _, args = name.partition("(")
        if not write_function(core, chan, func, args[:-1], value):
            log.warning("Set: unknown function %s", func)
        return 0
    chan.set_var(name, value)
    return 0


# --------------------------------------------------------------------------- flow


def explicit_goto(core: PbxCore, chan: Channel, target: GotoTarget) -> int:
    """``ast_explicit_goto``: inside the dialplan the runner adds one, so land on target-1."""
    context = target.context or chan.context
    exten = target.exten or chan.exten
    text = target.priority
    if text.lstrip("+-").isdigit():
        priority = int(text)
    else:
        found = core.dialplan.find_label(context, exten, text)
        if found is None:
            log.warning("Priority '%s' must be a number > 0, or valid label", text)
            return -1
        priority = found
    chan.context, chan.exten = context, exten
    chan.priority = priority - 1 if chan.in_pbx else priority
    chan.notify()
    return 0


@app("Goto")
async def goto(core: PbxCore, chan: Channel, data: str) -> int:
    target = parse_goto(data)
    if target is None:
        log.warning("Goto requires an argument ([[context,]extension,]priority)")
        return -1
    return explicit_goto(core, chan, target)


@app("GotoIf")
async def gotoif(core: PbxCore, chan: Channel, data: str) -> int:
    condition, sep, branches = data.partition("?")
    if not sep:
        log.warning("GotoIf requires an argument (condition?label1[:label2])")
        return 0
    branch1, _, branch2 = branches.partition(":")
    branch = branch1 if is_true(condition) else branch2
    if not branch.strip():
        return 0
    return await goto(core, chan, branch)


@app("Wait")
async def wait(core: PbxCore, chan: Channel, data: str) -> int:
    return 0 if await chan.sleep(_float(data)) else -1


RESPONSE_TIMEOUT = 10.0
"""``TIMEOUT(response)`` default: WaitExten with no (or a zero) timeout waits this long."""
DIGIT_TIMEOUT = 5.0
"""``TIMEOUT(digit)`` default: how long the PBX waits for the next digit of an extension."""


@app("WaitExten")
async def wait_exten(core: PbxCore, chan: Channel, data: str) -> int:
    """WaitExten([seconds[,options]]): wait for the caller to dial an extension of the
    current context; option ``m(class)`` plays music on hold meanwhile (``m`` without a
    class only logs a warning, as in Asterisk). A key starts an
    extension: digits are collected while a longer extension could still match (waiting
    ``TIMEOUT(digit)`` for each), then the channel goes to that extension at priority 1,
    to ``i`` (with ``INVALID_EXTEN``) when there is none, or hangs up when there is no ``i``
    either. With no key before the timeout: ``t``, else a warning and hang-up — as
    ``pbx_builtin_waitexten`` and ``__ast_pbx_run`` do."""
    args = separate_args(data)
    seconds = _float(args[0]) if args[0].strip() else 0.0
    opts = parse_options(args[1]) if len(args) > 1 else {}
    timeout = seconds if seconds > 0 else RESPONSE_TIMEOUT
    music_class = (opts.get("m") or "").strip()
    if "m" in opts and not music_class:
        log.warning("The 'm' option has been specified for WaitExten without a class.")
    music = bool(music_class)
    if music:
        start_moh(core, chan, music_class)
    try:
        await chan.wait_until(lambda: bool(chan.dtmf), timeout)
    finally:
        if music:
            stop_moh(core, chan)
    if chan.interrupted:
        return -1
    plan = core.dialplan
    if chan.dtmf:
        exten = chan.take_digit() or ""
        while plan.can_match_more(chan.context, exten):
            if not await chan.wait_until(lambda: bool(chan.dtmf), DIGIT_TIMEOUT) or not chan.dtmf:
                break
            exten += chan.take_digit() or ""
        if chan.interrupted:
            return -1
        if plan.exists(chan.context, exten, 1):
            return explicit_goto(core, chan, GotoTarget(chan.context, exten, "1"))
        if plan.exists(chan.context, "i", 1):
            chan.set_var("INVALID_EXTEN", exten)
            return explicit_goto(core, chan, GotoTarget(chan.context, "i", "1"))
        log.warning(
            "Invalid extension '%s', but no rule 'i' or 'e' in context '%s'", exten, chan.context
        )
        return -1
    if plan.exists(chan.context, "t", 1):
        return explicit_goto(core, chan, GotoTarget(chan.context, "t", "1"))
    log.warning("Timeout but no rule 't' or 'e' in context '%s'", chan.context)
    return -1


# --------------------------------------------------------------------------- media


@app("Playback")
async def playback(core: PbxCore, chan: Channel, data: str) -> int:
    args = separate_args(data)
    files = [f for f in args[0].split("&") if f]
    options = args[1] if len(args) > 1 else ""
    if chan.state != ChannelState.UP and "noanswer" not in options:
        chan.answer()
    status = "SUCCESS"
    for name in files:
        if not prompt_exists(core, name):
            log.warning("Playback failed on %s (%s)", chan.name, name)
            status = "FAILED"
            break
        result, _ = await play_prompt(core, chan, name)
        if result is PlayResult.INTERRUPTED:
            return -1
    chan.set_var("PLAYBACKSTATUS", status)
    return 0


@app("MusicOnHold")
async def music_on_hold(core: PbxCore, chan: Channel, data: str) -> int:
    args = separate_args(data)
    music_class = args[0].strip() or "default"
    duration = _float(args[1]) if len(args) > 1 and args[1].strip() else 0.0
    start_moh(core, chan, music_class)
    completed = await chan.sleep(duration if duration > 0 else None)
    stop_moh(core, chan)
    return 0 if completed else -1


@app("StartMusicOnHold")
async def start_music_on_hold(core: PbxCore, chan: Channel, data: str) -> int:
    start_moh(core, chan, data.strip() or "default")
    return 0


@app("StopMusicOnHold")
async def stop_music_on_hold(core: PbxCore, chan: Channel, data: str) -> int:
    stop_moh(core, chan)
    return 0


# --------------------------------------------------------------------------- recording


def start_mixmonitor(core: PbxCore, chan: Channel, filename: str, options: str) -> Recording:
    shown, real = core.host_path(filename, core.config.monitor_dir)
    rec = Recording(chan.name, chan.uniqueid, real, shown, options)
    rec.begin(chan)
    if "a" not in options or not real.exists():  # a: append to what the file has
        write_silent_wav(real, 0.0)
    chan.mixmonitors.append(rec)
    core.recordings.append(rec)
    chan.set_var("MIXMONITOR_FILENAME", shown)
    core.emit("MixMonitorStart", chan, privilege=PRIV_CALL)
    return rec


def stop_mixmonitor(core: PbxCore, chan: Channel) -> bool:
    active = [r for r in chan.mixmonitors if not r.finished]
    for rec in active:
        rec.finish(chan)
    if active:
        core.emit("MixMonitorStop", chan, privilege=PRIV_CALL)
    return bool(active)


@app("MixMonitor")
async def mixmonitor(core: PbxCore, chan: Channel, data: str) -> int:
    args = separate_args(data)
    if not args[0].strip():
        log.warning("MixMonitor requires an argument (filename or ,t(filename) and/or r(filename)")
        return -1
    start_mixmonitor(core, chan, args[0].strip(), args[1] if len(args) > 1 else "")
    return 0


@app("StopMixMonitor")
async def stop_mixmonitor_app(core: PbxCore, chan: Channel, data: str) -> int:
    stop_mixmonitor(core, chan)
    return 0


@app("VoiceMail")
async def voicemail(core: PbxCore, chan: Channel, data: str) -> int:
    args = separate_args(data)
    boxes = [b for b in args[0].split("&") if b.strip()]
    options = args[1] if len(args) > 1 else ""
    if not boxes:
        log.warning("VoiceMail requires an argument (mailbox)")
        return -1
    mailbox, _, vm_context = boxes[0].strip().partition("@")
    vm_context = vm_context or "default"
    if chan.state != ChannelState.UP:
        chan.answer()
    greeting = "vm-busy" if "b" in options else "vm-unavail"
    prompts = [greeting] if "s" in options else [greeting, "vm-intro"]
    for name in [*prompts, "beep"]:
        result, _ = await play_prompt(core, chan, name)
        if result is PlayResult.INTERRUPTED:
            chan.set_var("VMSTATUS", "FAILED")
            return -1
    loop = asyncio.get_running_loop()
    started = loop.time()
    await chan.wait_until(lambda: "#" in chan.dtmf, core.config.voicemail_seconds)
    seconds = loop.time() - started
    if "#" in chan.dtmf:
        while chan.dtmf and chan.take_digit() != "#":
            pass
    _shown, folder = core.host_path(f"{vm_context}/{mailbox}/INBOX", core.config.voicemail_dir)
    folder.mkdir(parents=True, exist_ok=True)
    number = len(list(folder.glob("msg*.txt")))
    wav = folder / f"msg{number:04d}.wav"
    write_silent_wav(wav, seconds)
    (folder / f"msg{number:04d}.txt").write_text(
        "[message]\n"
        f"origmailbox={mailbox}\ncontext={chan.context}\nexten={chan.exten}\n"
        f"callerchan={chan.name}\ncallerid={chan.callerid_all}\n"
        f"duration={round(seconds)}\n",
        encoding="utf-8",
    )
    core.voicemails.append(
        Voicemail(
            mailbox,
            vm_context,
            wav,
            chan.caller_num or "",
            chan.caller_name or "",
            chan.name,
            seconds,
        )
    )
    core.changed.notify()
    chan.set_var("VMSTATUS", "SUCCESS")
    return -1 if chan.hung_up else 0


# --------------------------------------------------------------------------- events, bridge


@app("UserEvent")
async def user_event(core: PbxCore, chan: Channel, data: str) -> int:
    args = separate_args(data)
    name = args[0].strip()
    if not name:
        log.warning("UserEvent requires an argument (eventname,optional event body)")
        return -1
    body: list[tuple[str, str]] = []
    for item in args[1:]:
        key, _, value = item.partition(":")
        if key.strip():
            body.append((key.strip(), value.strip()))
    core.emit("UserEvent", chan, [("UserEvent", name), *body], privilege=PRIV_USER)
    return 0


def _after_bridge_target(
    opts: dict[str, str | None], target: Channel
) -> tuple[str, str, int] | None:
    if "F" not in opts:
        return None
    where = opts["F"]
    if not where:
        return (target.context, target.exten, target.priority + 1)
    parts = where.split("^")
    if len(parts) == 1:
        return (target.context, target.exten, int(parts[0]))
    if len(parts) == 2:
        return (target.context, parts[0], int(parts[1]))
    return (parts[0], parts[1], int(parts[2]))


@app("Bridge")
async def bridge_app(core: PbxCore, chan: Channel, data: str) -> int:
    """Bridge(channel[,options]): pull ``channel`` out of what it is doing into a bridge with
    this channel. When the bridged channel hangs up, this one goes on in the dialplan; when
    this one hangs up, the bridged one is hung up too, unless ``F`` says where it continues."""
    args = separate_args(data)
    target = core.find_channel(args[0].strip())
    opts = parse_options(args[1]) if len(args) > 1 else {}
    if target is None or target.dead or target.hung_up:
        log.warning("Bridge: channel %s not found", args[0])
        chan.set_var("BRIDGERESULT", "NONEXISTENT")
        return 0
    if target is chan:
        chan.set_var("BRIDGERESULT", "LOOP")
        return 0
    if chan.state != ChannelState.UP:
        chan.answer()
    target.after_bridge_goto = _after_bridge_target(opts, target)
    if target.bridge is not None:
        target.bridge.leave(target, hangup=False)
    bridge = Bridge(core)
    chan.set_var("BRIDGERESULT", "SUCCESS")
    bridge.add(chan)
    target.pending_bridge = bridge
    target.notify()
    outcome = await participate(chan, bridge)
    return -1 if outcome == "hangup" else 0


# --------------------------------------------------------------------------- Dial


@app("Dial")
async def dial(core: PbxCore, chan: Channel, data: str) -> int:
    """Dial(PJSIP/[user@]endpoint[&...][,timeout[,options]]): ring a simulated phone and,
    when it answers, bridge it with this channel. Only the first destination is dialled and
    only PJSIP endpoints with a phone exist. Sets ``DIALSTATUS`` (ANSWER, BUSY, NOANSWER,
    CANCEL, CHANUNAVAIL). After an answered call the dialplan goes on only with option
    ``g`` (when the callee hung up); a caller who hangs up ends it."""
    args = separate_args(data)
    targets = [t.strip() for t in args[0].split("&") if t.strip()]
    if not targets:
        log.warning("Dial requires an argument (technology/resource)")
        return -1
    if len(targets) > 1:
        log.warning("Dial: only the first of %d destinations is simulated", len(targets))
    timeout = _float(args[1]) if len(args) > 1 and args[1].strip() else 0.0
    opts = parse_options(args[2]) if len(args) > 2 else {}
    tech, _, resource = targets[0].partition("/")
    user, at, endpoint = resource.partition("@")
    if not at:
        endpoint, user = user, ""
    phone = core.phones.get(endpoint) if tech.upper() == "PJSIP" else None
    if phone is None or not phone.registered:
        log.warning("Unable to create channel of type '%s' (cause 20 - Subscriber absent)", tech)
        chan.set_var("DIALSTATUS", "CHANUNAVAIL")
        return 0
    callee = core.new_channel(
        name=core.pjsip_channel_name(endpoint),
        tech="PJSIP",
        state=ChannelState.DOWN,
        context=phone.context,
        exten=user or "s",
        caller_num=chan.caller_num,
        caller_name=chan.caller_name,
        linkedid=chan.linkedid,
        endpoint=endpoint,
    )
    callee.dnid = user or None
    callee.set_connected(chan.caller_num, chan.caller_name)

    def dial_event(name: str, extra: list[tuple[str, str]]) -> None:
        core.emit_plain(
            name, PRIV_CALL, [*channel_headers(chan), *channel_headers(callee, "Dest"), *extra]
        )

    dial_event("DialBegin", [("DialString", resource)])
    offer = asyncio.ensure_future(phone.offer(callee, timeout if timeout > 0 else 86400.0))
    caller_gone = asyncio.ensure_future(chan.wait_until(lambda: False, None))
    try:
        await asyncio.wait({offer, caller_gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        caller_gone.cancel()
    if not offer.done():
        offer.cancel()
        await asyncio.gather(offer, return_exceptions=True)
        decision = "cancel"
    else:
        decision = offer.result()
    if decision != "answer" or callee.state != ChannelState.UP:
        status, cause = {
            "busy": ("BUSY", 17),
            "timeout": ("NOANSWER", 19),
        }.get(decision, ("CANCEL", 16))
        dial_event("DialEnd", [("DialStatus", status)])
        callee.hangup_cause = callee.hangup_cause or cause
        core.destroy(callee)
        chan.set_var("DIALSTATUS", status)
        return -1 if chan.interrupted else 0
    dial_event("DialEnd", [("DialStatus", "ANSWER")])
    chan.set_var("DIALSTATUS", "ANSWER")
    bridge = Bridge(core)
    bridge.add(chan)
    bridge.add(callee)
    core.own(callee, participate(callee, bridge))
    outcome = await participate(chan, bridge)
    if outcome == "kicked" and "g" in opts and not chan.hung_up:
        return 0
    return -1


def _register_agi() -> None:
    from .agi_client import agi_app

    APPS["agi"] = ("AGI", agi_app)


_register_agi()
