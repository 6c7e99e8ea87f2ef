"""A timing tap on an AMI link: a TCP relay, in its own process, that notes when frames pass.

``python -m acd.bench.ami_tap --upstream HOST:PORT --out FILE`` listens on a free port of
127.0.0.1 (printed as ``listening PORT`` on stdout once it accepts), relays every connection
to the AMI server at ``upstream`` byte for byte, and writes to ``FILE`` (JSON) when the last
connection closes or on SIGTERM:

* ``hangups``: Uniqueid -> monotonic time at which a ``Hangup`` event of a ``PJSIP/...``
  channel (the trunk's ``PJSIP/pstn-`` excepted) was handed to the client's socket;
* ``originates``: ChannelId -> monotonic time at which an ``Originate`` action arrived from
  the client's socket.

The end-to-end benchmark (:mod:`acd.bench.e2e`) puts it between the daemon and the simulated
PBX, so that the dispatch latency is timed on the wire, free of the simulator's own event
loop delays. One thread per direction, blocking sockets: a frame is timed as soon as the
kernel hands it over, whatever the other direction is doing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

CHUNK = 65536
_END = b"\r\n\r\n"


class FrameScanner:
    """Cuts a byte stream into AMI frames and passes each complete one on, with a time."""

    def __init__(self, on_frame: Callable[[bytes, float], None]) -> None:
        self.on_frame = on_frame
        self._tail = b""

    def feed(self, data: bytes, at: float) -> None:
        buffer = self._tail + data if self._tail else data
        frames = buffer.split(_END)
        self._tail = frames.pop()
        for frame in frames:
            if frame:
                self.on_frame(frame.lstrip(b"\r\n"), at)


def _header(frame: bytes, name: bytes) -> bytes | None:
    """The value of the first ``name: value`` line (case-sensitive name, as Asterisk's)."""
    key = name + b": "
    for line in frame.split(b"\r\n"):
        if line.startswith(key):
            return line[len(key) :]
    return None


class Tap:
    def __init__(self, upstream: tuple[str, int], out: Path) -> None:
        self.upstream = upstream
        self.out = out
        self.hangups: dict[str, float] = {}
        self.originates: dict[str, float] = {}
        self._lock = threading.Lock()
        self._written = False
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])

    # ----- what is noted

    def _from_server(self, frame: bytes, at: float) -> None:
        if not frame.startswith(b"Event: Hangup\r\n"):
            return
        channel = _header(frame, b"Channel") or b""
        if not channel.startswith(b"PJSIP/") or channel.startswith(b"PJSIP/pstn-"):
            return
        uniqueid = _header(frame, b"Uniqueid")
        if uniqueid is not None:
            self.hangups[uniqueid.decode("utf-8", "replace")] = at

    def _from_client(self, frame: bytes, at: float) -> None:
        if not frame.lower().startswith(b"action: originate\r\n"):
            return
        channel_id = _header(frame, b"ChannelId")
        if channel_id is not None:
            self.originates[channel_id.decode("utf-8", "replace")] = at

    # ----- relaying

    def _pump_to_client(self, server: socket.socket, client: socket.socket) -> None:
        scanner = FrameScanner(self._from_server)
        try:
            while data := server.recv(CHUNK):
                client.sendall(data)
                scanner.feed(data, time.monotonic())  # handed to the client's socket
        except OSError:
            pass
        finally:
            _shut(client)

    def _pump_to_server(self, client: socket.socket, server: socket.socket) -> None:
        scanner = FrameScanner(self._from_client)
        try:
            while data := client.recv(CHUNK):
                at = time.monotonic()  # arrived from the client's socket
                server.sendall(data)
                scanner.feed(data, at)
        except OSError:
            pass
        finally:
            _shut(server)

    def serve(self) -> None:
        """Relay connections until one has come and gone with no other open; then write."""
        open_links = 0
        done = threading.Condition()
        self.listener.settimeout(None)
        print(f"listening {self.port}", flush=True)

        def link(client: socket.socket) -> None:
            nonlocal open_links
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                with done:
                    open_links -= 1
                    done.notify_all()
                return
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            up = threading.Thread(target=self._pump_to_server, args=(client, server), daemon=True)
            up.start()
            self._pump_to_client(server, client)
            up.join()
            client.close()
            server.close()
            with done:
                open_links -= 1
                done.notify_all()

        def accept() -> None:
            nonlocal open_links
            while True:
                try:
                    client, _ = self.listener.accept()
                except OSError:
                    return
                with done:
                    open_links += 1
                    done.notify_all()
                threading.Thread(target=link, args=(client,), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        with done:
            done.wait_for(lambda: open_links > 0)
            done.wait_for(lambda: open_links == 0)
        self.write()

    def write(self) -> None:
        with self._lock:
            if self._written:
                return
            self._written = True
            data = {"hangups": dict(self.hangups), "originates": dict(self.originates)}
            tmp = self.out.with_name(self.out.name + ".tmp")
            tmp.write_text(json.dumps(data), encoding="utf-8")
            tmp.replace(self.out)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m acd.bench.ami_tap")
    parser.add_argument("--upstream", required=True, help="HOST:PORT of the AMI server")
    parser.add_argument("--out", required=True, type=Path, help="where to write the times")
    args = parser.parse_args(argv)
    host, _, port = args.upstream.rpartition(":")
    tap = Tap((host, int(port)), args.out)

    def stop(signum: int, frame: FrameType | None) -> None:
        tap.write()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    tap.serve()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
