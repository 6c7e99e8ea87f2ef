"""What a caller hears and presses: prompts, music on hold, DTMF collection.

Nothing is streamed: a prompt is *recorded* in :attr:`Channel.prompts_heard` and lasts
``PbxConfig.prompt_seconds``. Digits the simulated caller presses are buffered on the channel
(type-ahead) until something reads digits: GET DATA, WAIT FOR DIGIT, or a prompt whose escape
digits include the next buffered digit. (Asterisk would drop digits pressed during a prompt
that has no escape digits; keeping them makes tests independent of timing.)
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from .events import PRIV_CALL

if TYPE_CHECKING:
    from .channels import Channel
    from .core import PbxCore

__all__ = [
    "PlayResult",
    "play_prompt",
    "prompt_exists",
    "read_digits",
    "start_moh",
    "stop_moh",
    "wait_for_digit",
]

ALL_DIGITS = "0123456789*#ABCD"


class PlayResult(Enum):
    DONE = "done"
    DIGIT = "digit"
    INTERRUPTED = "interrupted"


def prompt_exists(core: PbxCore, name: str) -> bool:
    missing = core.config.missing_prompts
    return name not in missing and name.rsplit("/", 1)[-1] not in missing


async def play_prompt(
    core: PbxCore, chan: Channel, name: str, escape: str = ""
) -> tuple[PlayResult, str | None]:
    """Play one prompt; stops early on an escape digit or an interrupt."""
    chan.prompts_heard.append(name)
    chan.notify()
    if escape:
        digit = chan.take_digit(escape)
        if digit is not None:
            return PlayResult.DIGIT, digit
    seconds = core.config.prompt_seconds
    if seconds > 0:

        def escape_pressed() -> bool:
            return bool(escape) and bool(chan.dtmf) and chan.dtmf[0] in escape

        await chan.wait_until(escape_pressed, seconds)
        if escape:
            digit = chan.take_digit(escape)
            if digit is not None:
                return PlayResult.DIGIT, digit
    if chan.interrupted:
        return PlayResult.INTERRUPTED, None
    return PlayResult.DONE, None


async def wait_for_digit(chan: Channel, timeout: float | None) -> str | bool | None:
    """A digit, ``None`` on timeout, ``False`` when interrupted (hangup)."""
    got = await chan.wait_until(lambda: bool(chan.dtmf), timeout)
    if chan.dtmf:
        return chan.take_digit()
    if got and chan.interrupted:
        return False
    return None


async def read_digits(
    chan: Channel,
    max_digits: int,
    first_timeout: float | None,
    timeout: float | None,
    terminator: str = "#",
    initial: str = "",
) -> tuple[str, str]:
    """Collect up to ``max_digits`` digits (``ast_readstring``).

    Returns (digits, status) with status ``"complete"``, ``"timeout"`` or ``"hangup"``.
    """
    digits = ""
    if initial:
        if initial in terminator:
            return "", "complete"
        digits = initial
    while len(digits) < max_digits:
        digit = await wait_for_digit(chan, first_timeout if not digits else timeout)
        if digit is False:
            return digits, "hangup"
        if digit is None:
            return digits, "timeout"
        assert isinstance(digit, str)
        if digit in terminator:
            return digits, "complete"
        digits += digit
    return digits, "complete"


def start_moh(core: PbxCore, chan: Channel, music_class: str) -> None:
    if chan.moh_class is not None:
        stop_moh(core, chan)
    chan.moh_class = music_class or "default"
    chan.moh_history.append(chan.moh_class)
    core.emit("MusicOnHoldStart", chan, [("Class", chan.moh_class)], privilege=PRIV_CALL)
    chan.notify()


def stop_moh(core: PbxCore, chan: Channel) -> None:
    if chan.moh_class is None:
        return
    chan.moh_class = None
    core.emit("MusicOnHoldStop", chan, privilege=PRIV_CALL)
    chan.notify()
