"""Files the PBX writes: MixMonitor recordings and voicemail messages.

Recordings are silent 8 kHz 8-bit mono WAV files as long as what was recorded (the bridged
time with MixMonitor's ``b`` option; with ``a`` added to what the file already had), so they
open with any WAV reader and their length can be checked; voicemail messages are the same
plus Asterisk's ``msgNNNN.txt`` metadata.
"""

from __future__ import annotations

import asyncio
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .channels import Channel

__all__ = ["SAMPLE_RATE", "Recording", "Voicemail", "write_silent_wav"]

SAMPLE_RATE = 8000


def write_silent_wav(path: Path, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = max(round(seconds * SAMPLE_RATE), 0)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(b"\x80" * frames)


@dataclass
class Recording:
    """A MixMonitor on a channel. ``path`` is where the file is written, ``dialplan_path``
    the name the dialplan asked for (what ``MIXMONITOR_FILENAME`` shows)."""

    channel: str
    uniqueid: str
    path: Path
    dialplan_path: str
    options: str = ""
    started: float = field(default_factory=time.time)
    stopped: float | None = None
    seconds: float = 0.0
    _start_loop: float = 0.0
    _bridged_at_start: float = 0.0

    @property
    def bridged_only(self) -> bool:
        return "b" in self.options

    @property
    def finished(self) -> bool:
        return self.stopped is not None

    def begin(self, chan: Channel) -> None:
        self._start_loop = asyncio.get_running_loop().time()
        self._bridged_at_start = _bridged_seconds(chan)

    def finish(self, chan: Channel) -> None:
        """Stop recording and write the file."""
        if self.stopped is not None:
            return
        self.stopped = time.time()
        if self.bridged_only:
            self.seconds = max(_bridged_seconds(chan) - self._bridged_at_start, 0.0)
        else:
            self.seconds = asyncio.get_running_loop().time() - self._start_loop
        earlier = _wav_seconds(self.path) if "a" in self.options else 0.0  # a: append
        write_silent_wav(self.path, earlier + self.seconds)


def _wav_seconds(path: Path) -> float:
    """The length of a recording already written (0 when there is none)."""
    try:
        with wave.open(str(path), "rb") as existing:
            return existing.getnframes() / existing.getframerate()
    except (OSError, EOFError, wave.Error):
        return 0.0


def _bridged_seconds(chan: Channel) -> float:
    total = chan.bridged_total
    if chan.bridged_since is not None:
        total += asyncio.get_running_loop().time() - chan.bridged_since
    return total


@dataclass
class Voicemail:
    """A message left with VoiceMail()."""

    mailbox: str
    context: str
    path: Path
    caller_num: str
    caller_name: str
    channel: str
    seconds: float
    created: float = field(default_factory=time.time)
