#!/usr/bin/env python3
"""Mutual TLS posts: alertpost against curl, as ratios from one interleaved run.

  bench_mtls.py --alertpost BIN --pki DIR --work DIR [--runs N] [--tls 1.2|1.3]

Starts Debian's nginx on loopback requiring a client certificate
(tests/integration/peers_mtls.py NginxMtls, `ssl_verify_client on`), then
alternates, N times each, one process posting one ~100-byte alert with the
device certificate of the test PKI (tests/integration/pki.py):

  alertpost --cert device-chain.pem --key device.key -d BODY URL
  curl -sS --cert device-chain.pem --key device.key -d BODY URL

Every connection goes through a byte-counting relay on loopback, so the
uplink and downlink bytes of each whole connection (handshake included) are
what the two clients put on the wire. Prints the medians of wall time,
uplink and downlink bytes for each, and alertpost's ratio to curl. Not a
test: the figures depend on the machine, and nothing is asserted.
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from peers_mtls import NginxMtls  # noqa: E402


class CountingRelay:
    """Forwards one connection at a time to the server, counting each way."""

    def __init__(self, target_port):
        self.target = target_port
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(4)
        self.port = self.lsock.getsockname()[1]
        self.up = 0
        self.down = 0

    def _pump(self, src, dst, attr):
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            setattr(self, attr, getattr(self, attr) + len(data))
            dst.sendall(data)

    def serve_one(self):
        """Relays the next connection in a thread; returns the thread to join."""
        def run():
            self.lsock.settimeout(20)
            client, _ = self.lsock.accept()
            server = socket.create_connection(("127.0.0.1", self.target))
            t = threading.Thread(target=self._pump, args=(server, client, "down"))
            t.start()
            self._pump(client, server, "up")
            t.join(20)
            client.close()
            server.close()
        self.up = self.down = 0
        th = threading.Thread(target=run)
        th.start()
        return th


def one_post(argv, relay):
    th = relay.serve_one()
    t0 = time.monotonic()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
                       timeout=60)
    wall = time.monotonic() - t0
    th.join(20)
    if p.returncode != 0:
        raise SystemExit("bench_mtls: %s failed (%d): %s" % (argv[0], p.returncode,
                                                              p.stderr.decode(errors="replace")))
    return wall, relay.up, relay.down


def bench_options(doc, runs):
    """The options the nginx benchmarks share, parsed; the work directory made anew."""
    ap = argparse.ArgumentParser(description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alertpost", required=True)
    ap.add_argument("--pki", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--runs", type=int, default=runs)
    ap.add_argument("--tls", default="1.3", choices=["1.2", "1.3"])
    o = ap.parse_args()
    o.pki = os.path.abspath(o.pki)
    shutil.rmtree(o.work, ignore_errors=True)
    os.makedirs(o.work)
    return o


def main():
    o = bench_options(__doc__, 15)
    nginx = NginxMtls(tls=(o.tls, o.tls))
    port = nginx.start(o.work, o.pki)
    relay = CountingRelay(port)
    url = "https://localhost:%d/alerts" % relay.port
    body = '{"device":"pump-7","level":"critical","text":"pressure high","seq":12345678}'
    cert = os.path.join(o.pki, "device-chain.pem")
    key = os.path.join(o.pki, "device.key")
    root = os.path.join(o.pki, "root.pem")
    resolve = ["--resolve", "localhost:%d:127.0.0.1" % relay.port]
    clients = {
        "alertpost": [os.path.abspath(o.alertpost), "--cacert", root, "--cert", cert,
                      "--key", key] + resolve + ["-d", body, url],
        "curl": ["curl", "-sS", "--cacert", root, "--cert", cert, "--key", key] + resolve +
                ["-H", "Content-Type: application/json", "-d", body, url],
    }
    got = {name: [] for name in clients}
    try:
        for _ in range(o.runs):
            for name, argv in clients.items():
                got[name].append(one_post(argv, relay))
    finally:
        nginx.stop()
    med = {name: [statistics.median(x[i] for x in runs) for i in range(3)]
           for name, runs in got.items()}
    print("mutual TLS %s, %d one-alert processes each, medians:" % (o.tls, o.runs))
    for name, (wall, up, down) in med.items():
        print("  %-9s wall %6.1f ms  uplink %5d B  downlink %5d B" % (name, wall * 1000, up, down))
    a, c = med["alertpost"], med["curl"]
    print("  alertpost / curl: wall %.2fx, uplink %.2fx, downlink %.2fx"
          % (a[0] / c[0], a[1] / c[1], a[2] / c[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
