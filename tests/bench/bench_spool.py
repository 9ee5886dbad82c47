#!/usr/bin/env python3
"""Flush rate of a spool against a local nginx, as a ratio of --lines without one.

  bench_spool.py --alertpost BIN --pki DIR --work DIR [--count N]

Starts Debian's nginx on loopback (tests/integration/peers.py NginxServer,
`return 204`), then measures, in one run:
  plain    N alerts with --lines over one kept-alive connection, no spool;
  enqueue  the same N alerts into a spool with the sink down (each one a
           fsynced file: temporary file, fsync, rename, fsync of the folder);
  flush    --flush of that spool to nginx (each delivery also removes a file
           and fsyncs the folder);
  spooled  N alerts with --spool --lines to nginx (enqueue and deliver).
Prints alerts per second for each and the ratios to plain. Not a test: the
figures depend on the disk and the machine, and nothing is asserted.
"""

import os
import socket
import sys

from benchlib import parse_args, run
from peers import NginxServer  # noqa: E402


def timed(argv, stdin):
    r = run(argv, stdin)
    return r.wall, r.rc, r.stderr


def main():
    o = parse_args(__doc__, lambda ap: ap.add_argument("--count", type=int, default=10000))
    lines = b"".join(b'{"seq":%d,"alert":"disk full","host":"db-1"}\n' % i
                     for i in range(o.count))
    nginx = NginxServer(keepalive_requests=o.count * 4)
    port = nginx.start(o.work, o.pki)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    def cli(p, *args):
        return [o.alertpost, "--cacert", os.path.join(o.pki, "root.pem"), "--resolve",
                "localhost:%d:127.0.0.1" % p, "--connect-timeout", "1" if p == dead else "10"
                ] + list(args) + [
                    "https://localhost:%d/alerts" % p]
    spool = os.path.join(o.work, "spool")
    try:
        res = {}
        res["plain"] = timed(cli(port, "--lines"), lines)
        res["enqueue"] = timed(cli(dead, "--spool", spool, "--lines"), lines)
        res["flush"] = timed(cli(port, "--spool", spool, "--flush"), b"")
        res["spooled"] = timed(cli(port, "--spool", spool + "2", "--lines"), lines)
    finally:
        nginx.stop()
    base = o.count / res["plain"][0]
    print("%-8s %10s %12s %8s %s" % ("run", "seconds", "alerts/s", "ratio", "exit"))
    for k, (sec, rc, err) in res.items():
        rate = o.count / sec
        print("%-8s %10.2f %12.0f %8.3f %d" % (k, sec, rate, rate / base, rc))
        if rc not in (0, 8) or (rc == 8 and k != "enqueue"):
            print("  %s" % err.strip().splitlines()[-1] if err.strip() else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
