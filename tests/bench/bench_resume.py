#!/usr/bin/env python3
"""Bytes per connection, full handshake against resumed, alertpost against curl.

  bench_resume.py --alertpost BIN --pki DIR --work DIR [--runs N] [--tls 1.2|1.3]

Starts Debian's nginx on loopback with its session cache and tickets, closing
every connection after one request (tests/integration/peers.py NginxResume,
which logs $ssl_session_reused), and counts the bytes of each whole
connection (handshake included) each way through a relay. N times each:

  alertpost  two processes sharing --ssl-sessions FILE (a fresh FILE each
             time): the first connection is a full handshake, the second
             resumes the session the first saved
  curl       one process given the URL twice (-d applies to both): curl
             resumes its first connection's session on the second

Prints the medians of uplink and downlink bytes of the full and the resumed
connection of each client, what resumption saves, and alertpost's ratio to
curl. nginx's log must say the second connection resumed and the first did
not, or the run stops: a figure for a handshake that did not resume would
mean nothing. Not a test: nothing else is asserted.
"""

import os
import sys
import time

from benchlib import CountingRelay, median, parse_args, run
from peers import NginxResume  # noqa: E402


def run_client(relay, argvs):
    for argv in argvs:
        run(argv, timeout=60).check(argv[0])
    counts = relay.take()
    if len(counts) != 2:
        raise SystemExit("bench_resume: %d connections relayed, expected 2" % len(counts))
    return counts


def check_resumed(nginx, before):
    # nginx logs a request as its connection ends: wait (3 s at most) for both
    for _ in range(30):
        reused = [r["reused"] for r in nginx.received().requests][before:]
        if len(reused) >= 2:
            break
        time.sleep(0.1)
    if reused != [False, True]:
        raise SystemExit("bench_resume: nginx resumed %r, expected [False, True]" % reused)
    return before + 2


def main():
    def extra(ap):
        ap.add_argument("--runs", type=int, default=9)
        ap.add_argument("--tls", default="1.3", choices=["1.2", "1.3"])
    o = parse_args(__doc__, extra)
    nginx = NginxResume(keepalive_requests=1, tls=(o.tls, o.tls))
    port = nginx.start(o.work, o.pki)
    relay = CountingRelay(port)
    url = "https://localhost:%d/alerts" % relay.port
    body = '{"device":"pump-7","level":"critical","text":"pressure high","seq":12345678}'
    common = ["--cacert", os.path.join(o.pki, "root.pem"),
              "--resolve", "localhost:%d:127.0.0.1" % relay.port]
    sessions = os.path.join(o.work, "sessions")
    ap_argv = [o.alertpost] + common + ["--ssl-sessions", sessions,
                                                         "-d", body, url]
    curl_argv = ["curl", "-sS"] + common + ["-H", "Content-Type: application/json",
                                            "-d", body, url, url]
    got = {"alertpost": [], "curl": []}
    seen = 0
    try:
        for _ in range(o.runs):
            if os.path.exists(sessions):
                os.unlink(sessions)
            got["alertpost"].append(run_client(relay, [ap_argv, ap_argv]))
            seen = check_resumed(nginx, seen)
            got["curl"].append(run_client(relay, [curl_argv]))
            seen = check_resumed(nginx, seen)
    finally:
        nginx.stop()
    print("TLS %s against nginx, %d pairs of connections each, median bytes:" % (o.tls, o.runs))
    med = {}
    for name, runs in got.items():
        full = [median([r[0][i] for r in runs]) for i in range(2)]
        resumed = [median([r[1][i] for r in runs]) for i in range(2)]
        med[name] = (full, resumed)
        print("  %-9s full    uplink %5d  downlink %5d  total %5d" % (
            name, full[0], full[1], sum(full)))
        print("  %-9s resumed uplink %5d  downlink %5d  total %5d  (%.0f%% of full)" % (
            name, resumed[0], resumed[1], sum(resumed), 100.0 * sum(resumed) / sum(full)))
    a, c = med["alertpost"], med["curl"]
    print("  alertpost / curl: full %.2fx, resumed %.2fx (total bytes)"
          % (sum(a[0]) / sum(c[0]), sum(a[1]) / sum(c[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
