#!/usr/bin/env python3
"""One guest connection to a host server that may not be up (loopback only).

    connector.py --ready-file FILE [--log FILE]

QEMU runs this once per guest TCP connection when the guestfwd rule is
"cmd:" (run_qemu.py --connector): stdin and stdout are the guest's stream.
Unlike a chardev rule, which QEMU connects once at startup and which passes
no close through, this gives every guest connection its own host
connection, and a close on either side reaches the other.

The server's port is read from --ready-file (sink.py --ready-file writes it
atomically once it listens). While that file is absent, or the port refuses
the connection, the server is down: the connector exits at once without a
byte, so the guest's connection is closed before any answer, the nearest a
guestfwd rule comes to a refused connection.

Each connection appends one line to --log: "refused" or "connected <port>",
then "closed <bytes from guest> <bytes to guest>". QEMU gives the command
the guest's socket as stderr too, so nothing may be written there: errors
go to --log.
"""

import argparse
import os
import select
import socket
import struct
import sys
import time

# A connection that moves nothing for this long is given up (bounded run).
IDLE_SECONDS = 60.0


def note(path, text):
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write("%.3f %d %s\n" % (time.time(), os.getpid(), text))


def read_port(path):
    try:
        with open(path, encoding="utf-8") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def pump(sock, log):
    into, out = 0, 1  # the guest's socket, as QEMU hands it over
    sent = received = 0
    guest_open = True
    while True:
        fds = [sock] + ([into] if guest_open else [])
        ready, _, _ = select.select(fds, [], [], IDLE_SECONDS)
        if not ready:
            break
        if into in ready:
            data = os.read(into, 16384)
            if not data:
                guest_open = False
                sock.shutdown(socket.SHUT_WR)
            else:
                sent += len(data)
                sock.sendall(data)
        if sock in ready:
            try:
                data = sock.recv(16384)
            except OSError:
                data = b""
            if not data:
                break
            received += len(data)
            view = memoryview(data)
            while view:
                view = view[os.write(out, view):]
    note(log, "closed %d %d" % (sent, received))


def refuse(log):
    """Ends the guest's connection with a reset, as a refused connection
    would: QEMU hands the command a TCP socket, and a zero linger time makes
    its close a reset, which QEMU passes to the guest. A plain exit would end
    it with a FIN, or a reset, by whether the guest had written first: a race
    the sink-down cases could lose (a close during the handshake is not
    retried)."""
    note(log, "refused")
    try:
        guest = socket.socket(fileno=os.dup(0))
        guest.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        guest.close()
    except OSError as e:
        note(log, "no reset (%s): the connection ends as the exit closes it" % e)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--log", default="")
    args = ap.parse_args()
    port = read_port(args.ready_file)
    if port is None:
        return refuse(args.log)
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5.0)
    except OSError:
        return refuse(args.log)
    sock.settimeout(None)
    note(args.log, "connected %d" % port)
    try:
        pump(sock, args.log)
    except OSError as e:
        note(args.log, "error %s" % e)
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # pylint: disable=broad-except
        # stderr is the guest's stream: a traceback there would be data.
        import traceback
        note(sys.argv[sys.argv.index("--log") + 1] if "--log" in sys.argv else "",
             "error " + traceback.format_exc().replace("\n", " | "))
        sys.exit(1)
