#!/usr/bin/env python3
"""Line echo server on loopback for the QEMU network tests.

Listens on 127.0.0.1 (never any other address), on the given port or on a
free one, and announces it as the first line of stdout: "PORT <n>". Then it
serves connections one after another: every line received is logged to
stdout as "received: <line>" and sent back unchanged.

Everything is bounded: at most --connections connections, each closed after
--idle seconds without data, and the whole server stops after --lifetime
seconds.
"""

import argparse
import socket
import sys
import time


def serve(conn, idle, deadline):
    conn.settimeout(idle)
    pending = b""
    while time.monotonic() < deadline:
        try:
            data = conn.recv(4096)
        except socket.timeout:
            print("idle: closing", flush=True)
            return
        if not data:
            print("peer closed", flush=True)
            return
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            print("received: " + line.decode("utf-8", "replace"), flush=True)
            conn.sendall(line + b"\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=0, help="0: any free port")
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--idle", type=float, default=30.0)
    ap.add_argument("--lifetime", type=float, default=120.0)
    args = ap.parse_args()

    deadline = time.monotonic() + args.lifetime
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", args.port))
        srv.listen(1)
        print("PORT %d" % srv.getsockname()[1], flush=True)
        for _ in range(args.connections):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            srv.settimeout(remaining)
            try:
                conn, peer = srv.accept()
            except socket.timeout:
                print("no connection before the deadline", flush=True)
                return 1
            with conn:
                print("connection from %s:%d" % peer, flush=True)
                serve(conn, args.idle, deadline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
