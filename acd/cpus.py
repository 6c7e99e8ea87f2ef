"""CPU placement: which CPUs a process runs on (Linux ``sched_setaffinity``).

On a host with few cores the daemon, the call-record writer process and PostgreSQL take
turns on the same CPUs, and the daemon's routing latency shows every turn it waits
(``docs/benchmarks.md``, ``acd bench persist``). Giving the daemon a CPU of its own and the
writer and the database the others keeps routing off their run queues. The ``cpus``
section of the configuration (:class:`acd.config.CpusSettings`) says where each one runs.

``sched_setaffinity`` applies to one thread: :func:`set_affinity` applies it to every
thread of a process, so threads started before the call (a thread pool, a database
driver's) move too; threads started afterwards inherit it.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "allowed_cpus",
    "children",
    "command_name",
    "format_cpus",
    "get_affinity",
    "parent",
    "parse_cpu_list",
    "set_affinity",
    "supported",
]

_PROC = Path("/proc")


def supported() -> bool:
    """Whether this platform can pin a process to CPUs (Linux can; macOS cannot)."""
    return hasattr(os, "sched_setaffinity") and hasattr(os, "sched_getaffinity")


def allowed_cpus() -> frozenset[int]:
    """The CPUs this process may run on now (its affinity, within its cgroup's cpuset)."""
    if hasattr(os, "sched_getaffinity"):
        return frozenset(os.sched_getaffinity(0))
    return frozenset(range(os.cpu_count() or 1))


def format_cpus(cpus: Iterable[int]) -> str:
    """``0, 1`` / ``0-3, 6``: runs of three or more CPUs as a range, the way ``taskset``
    and systemd's ``CPUAffinity=`` write them."""
    values = sorted(set(cpus))
    parts: list[str] = []
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and values[end + 1] == values[end] + 1:
            end += 1
        if end - start >= 2:
            parts.append(f"{values[start]}-{values[end]}")
        else:
            parts.extend(str(value) for value in values[start : end + 1])
        start = end + 1
    return ", ".join(parts)


def parse_cpu_list(text: str) -> list[int]:
    """``"0"``, ``"0,2"``, ``"0-3,6"`` (``taskset -c`` syntax; brackets and spaces allowed)
    as CPU numbers in the order given, duplicates kept (the caller refuses them).

    Raises ValueError for anything else.
    """
    body = text.strip()
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1]
    if not body.strip():
        return []
    cpus: list[int] = []
    for part in body.split(","):
        low, dash, high = part.strip().partition("-")
        if not low.strip().isdigit() or (dash and not high.strip().isdigit()):
            raise ValueError(part.strip())
        first = int(low)
        last = int(high) if dash else first
        if last < first:
            raise ValueError(part.strip())
        cpus.extend(range(first, last + 1))
    return cpus


def _threads(pid: int) -> list[int]:
    """The thread IDs of process ``pid`` (0: this process), the process's own first."""
    pid = pid or os.getpid()
    try:
        tids = [int(entry.name) for entry in (_PROC / str(pid) / "task").iterdir()]
    except (OSError, ValueError):
        return [pid]
    return [pid, *sorted(tid for tid in tids if tid != pid)]


def get_affinity(pid: int = 0) -> frozenset[int]:
    """The CPUs process ``pid`` (0: this one) may run on. Raises OSError."""
    if not supported():
        raise OSError(errno.ENOSYS, "CPU affinity is not supported on this platform")
    return frozenset(os.sched_getaffinity(pid))


def set_affinity(pid: int, cpus: Iterable[int]) -> None:
    """Let every thread of process ``pid`` (0: this one) run only on ``cpus``.

    Raises OSError (ProcessLookupError: no such process; PermissionError: not ours;
    EINVAL: none of ``cpus`` is usable) or ValueError/OverflowError (a bad CPU number).
    A thread that ends meanwhile is no error.
    """
    if not supported():
        raise OSError(errno.ENOSYS, "CPU affinity is not supported on this platform")
    mask = set(cpus)
    first, *others = _threads(pid)
    os.sched_setaffinity(first, mask)
    for tid in others:
        try:
            os.sched_setaffinity(tid, mask)
        except ProcessLookupError:
            continue


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (which may hold spaces)."""
    try:
        text = (_PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def parent(pid: int) -> int | None:
    """The parent process of ``pid``; None when it is not known (no such process, no /proc)."""
    fields = _stat_fields(pid)
    try:
        return int(fields[1]) if fields else None  # state, ppid, ...
    except (IndexError, ValueError):
        return None


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux ``/proc``; empty elsewhere)."""
    found: list[int] = []
    try:
        entries = list(_PROC.iterdir())
    except OSError:
        return found
    for entry in entries:
        if entry.name.isdigit() and parent(int(entry.name)) == pid:
            found.append(int(entry.name))
    return sorted(found)


def command_name(pid: int) -> str | None:
    """The process's command name (``/proc/PID/comm``), None if there is no such process."""
    try:
        return (_PROC / str(pid) / "comm").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
