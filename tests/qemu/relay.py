#!/usr/bin/env python3
"""A late server behind an early listener, for QEMU's guestfwd (loopback only).

    relay.py --delay 3 [--lifetime 90] -- python3 sink.py ... --port 0

QEMU connects a guestfwd rule's host side once, when it starts, and refuses
to start if nothing listens. To test firmware against a server that comes
up after the firmware boots, this relay listens at once (printing
"PORT <n>"), accepts QEMU's connection, and starts the real server (the
command after "--", which must print "PORT <n>") only after --delay
seconds. Until that server is up, whatever the guest sends is read and
thrown away, as if no server were there: the guest's first attempt gets no
answer and must time out and retry. Once the server is up, the relay
connects to it and copies bytes both ways. The server's own output goes to
this relay's stdout after the relay's PORT line.

Ends when QEMU's side closes, or after --lifetime seconds; stops the
server it started.

--strip-mfl: the relay also takes the max_fragment_length extension (RFC
6066) out of the guest's TLS ClientHello before the server sees it, as a
server that ignores the request would: the server then sends records of
its own size. It prints "relay: stripped max_fragment_length ..." when it
did, "relay: no max_fragment_length ..." when there was none. The handshake
cannot complete (the server's transcript differs from the guest's), so this
is for cases that fail at the server's first flight.
"""

import argparse
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time


def say(msg):
    print("relay: " + msg, flush=True)


def start_server(cmd, timeout):
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=None, start_new_session=True)
    deadline = time.monotonic() + timeout
    line = b""
    fd = proc.stdout.fileno()
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        # os.read, not the buffered file: select() cannot see Python's buffer.
        ch = os.read(fd, 1)
        if not ch:
            break
        if ch == b"\n":
            m = re.match(rb"^PORT (\d+)\s*$", line)
            if m:
                return proc, int(m.group(1))
            sys.stdout.buffer.write(line + b"\n")
            line = b""
        else:
            line += ch
    return proc, None


def strip_mfl(record):
    """record (one TLS record holding a ClientHello) without extension 1.

    Returns (record, MFL code or None). The record, handshake and extension
    lengths are rewritten; anything not laid out as a ClientHello is
    returned unchanged."""
    if len(record) < 9 or record[0] != 0x16 or record[5] != 0x01:
        return record, None
    body = bytearray(record[9:])
    at = 2 + 32
    at += 1 + body[at]                                  # session id
    at += 2 + int.from_bytes(body[at:at + 2], "big")    # cipher suites
    at += 1 + body[at]                                  # compression methods
    ext_len_at = at
    exts_end = at + 2 + int.from_bytes(body[at:at + 2], "big")
    at += 2
    while at + 4 <= exts_end:
        etype = int.from_bytes(body[at:at + 2], "big")
        elen = int.from_bytes(body[at + 2:at + 4], "big")
        if etype == 1:
            code = body[at + 4] if elen == 1 else None
            del body[at:at + 4 + elen]
            cut = 4 + elen
            body[ext_len_at:ext_len_at + 2] = (exts_end - ext_len_at - 2 - cut).to_bytes(2, "big")
            hs = bytes([0x01]) + len(body).to_bytes(3, "big") + bytes(body)
            return record[:3] + len(hs).to_bytes(2, "big") + hs, code
        at += 4 + elen
    return record, None


def take_client_hello(buf):
    """The first whole TLS record of buf and the rest, or (None, buf)."""
    if len(buf) < 5:
        return None, buf
    n = 5 + int.from_bytes(buf[3:5], "big")
    return (buf[:n], buf[n:]) if len(buf) >= n else (None, buf)


def stop(proc):
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=3)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--delay", type=float, default=3.0,
                    help="seconds after QEMU connects before the server starts")
    ap.add_argument("--lifetime", type=float, default=90.0)
    ap.add_argument("--strip-mfl", action="store_true",
                    help="remove max_fragment_length from the guest's ClientHello")
    ap.add_argument("server", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.server[1:] if args.server[:1] == ["--"] else args.server
    if not cmd:
        ap.error("give the server command after --")

    end = time.monotonic() + args.lifetime
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    print("PORT %d" % lsock.getsockname()[1], flush=True)

    lsock.settimeout(max(end - time.monotonic(), 0.1))
    try:
        guest, _ = lsock.accept()
    except socket.timeout:
        say("nobody connected")
        return 1
    lsock.close()
    start_at = time.monotonic() + args.delay
    say("QEMU connected; server starts in %.1f s" % args.delay)

    server = None
    upstream = None
    dropped = 0
    hello = b"" if args.strip_mfl else None  # the ClientHello, until whole
    try:
        while time.monotonic() < end:
            if upstream is None and time.monotonic() >= start_at:
                server, port = start_server(cmd, 10.0)
                if port is None:
                    say("server did not announce its port")
                    return 1
                upstream = socket.create_connection(("127.0.0.1", port), timeout=5)
                say("server up on port %d after %.1f s; %d guest bytes dropped before"
                    % (port, args.delay, dropped))
            socks = [guest] + ([upstream] if upstream is not None else [])
            ready, _, _ = select.select(socks, [], [], 0.2)
            for s in ready:
                data = s.recv(65536)
                if not data:
                    say("%s closed" % ("QEMU" if s is guest else "server"))
                    return 0
                if s is guest:
                    if upstream is None:
                        dropped += len(data)
                    elif hello is not None:
                        record, rest = take_client_hello(hello + data)
                        if record is None:
                            hello = rest
                            continue
                        record, code = strip_mfl(record)
                        say("stripped max_fragment_length (code %d) from the ClientHello"
                            % code if code is not None else
                            "no max_fragment_length in the ClientHello")
                        upstream.sendall(record + rest)
                        hello = None
                    else:
                        upstream.sendall(data)
                else:
                    guest.sendall(data)
        say("lifetime over")
        return 0
    finally:
        for s in (guest, upstream):
            if s is not None:
                s.close()
        stop(server)


if __name__ == "__main__":
    sys.exit(main())
