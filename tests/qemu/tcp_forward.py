#!/usr/bin/env python3
"""Forwards TCP connections from one address to a port on loopback.

    tcp_forward.py --listen 10.0.2.100:4433 --to 4711 [--lifetime 60]

The test sink (tests/integration/sink.py) listens on loopback only; a
guest on a TAP device reaches the host at the TAP's address. This accepts
there and copies bytes both ways to 127.0.0.1:--to, closing each side when
the other closes. Prints "READY" once listening. Ends after --lifetime.
"""

import argparse
import socket
import sys
import threading
import time


def pipe(src, dst):
    try:
        while True:
            data = src.recv(16384)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (dst, src):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listen", required=True, help="address:port")
    ap.add_argument("--to", type=int, required=True, help="port on 127.0.0.1")
    ap.add_argument("--lifetime", type=float, default=60.0)
    args = ap.parse_args()

    host, port = args.listen.rsplit(":", 1)
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((host, int(port)))
    lsock.listen(4)
    print("READY", flush=True)
    deadline = time.monotonic() + args.lifetime
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return 0
        lsock.settimeout(min(left, 1.0))
        try:
            guest, peer = lsock.accept()
        except socket.timeout:
            continue
        try:
            sink = socket.create_connection(("127.0.0.1", args.to), timeout=5)
        except OSError as e:
            print("cannot reach 127.0.0.1:%d: %s" % (args.to, e), flush=True)
            guest.close()
            continue
        print("connection from %s:%d" % peer, flush=True)
        for a, b in ((guest, sink), (sink, guest)):
            threading.Thread(target=pipe, args=(a, b), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
