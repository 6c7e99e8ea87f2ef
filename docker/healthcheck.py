#!/usr/bin/env python3
"""Container health check: is the acd daemon's FastAGI server listening?

Reads the effective settings the way ``acd serve`` does (the file named by ``ACD_CONFIG``,
then ``ACD_*`` variables) and looks for a listening TCP socket on ``fastagi.port`` in
``/proc/net/tcp`` and ``/proc/net/tcp6``. Nothing connects to the server, so the check
leaves no trace in the daemon's log. Exit 0 when the port listens, 1 when it does not or
the configuration cannot be read. Installed in the image as ``acd-healthcheck``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

TCP_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))
_LISTEN = "0A"  # st column of a socket in the LISTEN state


def listening_ports(tables: Iterable[Path] = TCP_TABLES) -> set[int]:
    """TCP ports with a socket in LISTEN state, from /proc/net/tcp-style tables."""
    ports: set[int] = set()
    for table in tables:
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:  # no IPv6, or not Linux
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == _LISTEN:
                ports.add(int(fields[1].rpartition(":")[2], 16))
    return ports


def main(tables: Iterable[Path] = TCP_TABLES) -> int:
    from acd.config import ConfigError, load_settings

    try:
        port = load_settings().fastagi.port
    except ConfigError as exc:
        print(f"acd-healthcheck: {exc}", file=sys.stderr)
        return 1
    if port in listening_ports(tables):
        return 0
    print(f"acd-healthcheck: nothing listens on TCP port {port} (FastAGI)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
