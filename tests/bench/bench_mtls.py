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

import os
import sys

from benchlib import CountingRelay, median, parse_args, run
from peers_mtls import NginxMtls  # noqa: E402


def one_post(argv, relay):
    r = run(argv, timeout=60).check(argv[0])
    (up, down), = relay.take()
    return r.wall, up, down


def main():
    def extra(ap):
        ap.add_argument("--runs", type=int, default=15)
        ap.add_argument("--tls", default="1.3", choices=["1.2", "1.3"])
    o = parse_args(__doc__, extra)
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
        "alertpost": [o.alertpost, "--cacert", root, "--cert", cert,
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
    med = {name: [median([x[i] for x in runs]) for i in range(3)]
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
