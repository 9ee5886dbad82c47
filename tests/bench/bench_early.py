#!/usr/bin/env python3
"""0-RTT against 1-RTT resumed posts: bytes, round trips and the time until the alert
leaves, through a relay that adds a round trip of its own.

  bench_early.py --alertpost BIN --pki DIR --work DIR [--runs N] [--rtt-ms MS]

Starts Debian's nginx on loopback with TLS 1.3 early data on, closing after each
request (tests/integration/peers.py NginxEarlyData), and a second one with early
data off, and runs against each, N times, one process posting two 51-byte alerts
with --lines and -H 'Idempotency-Key: ...' (so the second connection resumes the
first's ticket):

  early data on    the second alert goes as 0-RTT early data
  early data off   its tickets allow none: the second alert goes after a 1-RTT
                   resumption, the request otherwise byte for byte the same

Every connection goes through a relay that delays each direction by half of
--rtt-ms and records, per connection, the client's flights (its bytes between two
answers of the server) and their TLS record types. For the resumed connection it
prints the medians of: uplink and downlink bytes, the round trips before the alert's
flight left (0: with the ClientHello), the time from the TCP accept at the relay to
the arrival of the alert's flight there (the client side of the simulated link),
and the whole post as the client's -v reports it. Not a test: the figures depend on
the machine and the simulated link, and nothing is asserted.
"""

import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
from benchlib import parse_args
from peers import NginxEarlyData  # noqa: E402


ALERTS = [b'{"level":"critical","text":"pressure high","seq":1}',
          b'{"level":"critical","text":"pressure high","seq":2}']
KEY = "0c5e3f4a-9d21-4b7e-8f3c-2a6d1e5b7c90"


class Conn:
    """What the relay saw of one connection."""

    def __init__(self):
        self.t0 = time.monotonic()
        self.up = self.down = 0
        self.flights = []        # client flights: [arrival time, [record types]]
        self.turn = True         # the server spoke since the client's last flight
        self.buf = b""
        self.down_buf = b""
        self.down_records = []   # the server's record types and lengths, in order
        self.lock = threading.Lock()

    def client_bytes(self, data):
        with self.lock:
            self.up += len(data)
            if self.turn:
                self.flights.append([time.monotonic() - self.t0, []])
                self.turn = False
            self.buf += data
            while len(self.buf) >= 5 and len(self.buf) >= 5 + int.from_bytes(self.buf[3:5], "big"):
                self.flights[-1][1].append(self.buf[0])
                self.buf = self.buf[5 + int.from_bytes(self.buf[3:5], "big"):]

    def server_bytes(self, data):
        with self.lock:
            self.down += len(data)
            self.turn = True
            self.down_buf += data
            while len(self.down_buf) >= 5 and \
                    len(self.down_buf) >= 5 + int.from_bytes(self.down_buf[3:5], "big"):
                n = int.from_bytes(self.down_buf[3:5], "big")
                self.down_records.append((self.down_buf[0], n))
                self.down_buf = self.down_buf[5 + n:]

    def alert_flight(self):
        """The index of the first client flight with a protected record (23): the
        early data, or the Finished the alert follows in the same flight."""
        for i, (_, types) in enumerate(self.flights):
            if 23 in types:
                return i
        return None


class DelayRelay:
    """Relays each connection to the server, delaying every chunk by `delay` s."""

    def __init__(self, target_port, delay):
        self.target, self.delay = target_port, delay
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.lsock.settimeout(0.2)
        self.port = self.lsock.getsockname()[1]
        self.conns = []
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                client, _ = self.lsock.accept()
            except OSError:
                continue
            conn = Conn()
            self.conns.append(conn)
            server = socket.create_connection(("127.0.0.1", self.target))
            for src, dst, note in ((client, server, conn.client_bytes),
                                   (server, client, conn.server_bytes)):
                threading.Thread(target=self._pump, args=(src, dst, note), daemon=True).start()

    def _pump(self, src, dst, note):
        """Reads src; each chunk is written to dst `delay` after it arrived."""
        queue, cond, done = [], threading.Condition(), []

        def deliver():
            while True:
                with cond:
                    while not queue and not done:
                        cond.wait()
                    if not queue:
                        break
                    due, data = queue.pop(0)
                time.sleep(max(0.0, due - time.monotonic()))
                try:
                    dst.sendall(data) if data else dst.shutdown(socket.SHUT_WR)
                except OSError:
                    return
        th = threading.Thread(target=deliver, daemon=True)
        th.start()
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if data:
                note(data)
            with cond:
                queue.append((time.monotonic() + self.delay, data))
                if not data:
                    done.append(True)
                cond.notify()
            if not data:
                break
        th.join(10)

    def stop(self):
        self.stopping = True
        self.lsock.close()


def one_run(argv, relay):
    before = len(relay.conns)
    p = subprocess.run(argv, input=b"".join(a + b"\n" for a in ALERTS),
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
                       timeout=60)
    err = p.stderr.decode(errors="replace")
    if p.returncode != 0:
        raise SystemExit("bench_early: %s failed (%d): %s" % (argv[0], p.returncode, err))
    time.sleep(0.2 + relay.delay * 2)     # the relay's last chunks
    conns = relay.conns[before:]
    if len(conns) != 2:
        raise SystemExit("bench_early: %d connections, expected 2" % len(conns))
    early = re.findall(r"\* Early data: (.*)", err)
    totals = [int(x) for x in re.findall(r"HTTP 204, 0 body bytes, (\d+) ms in all", err)]
    c = conns[1]
    flight = c.alert_flight()
    return {"up": c.up, "down": c.down, "rtts": flight,
            "leaves_ms": c.flights[flight][0] * 1000 if flight is not None else float("nan"),
            "post_ms": totals[1] if len(totals) == 2 else float("nan"),
            "early": early[1] if len(early) == 2 else "(no -v line)",
            "first_flight": c.flights[0][1], "down_records": c.down_records,
            "flights": [types for _, types in c.flights]}


def main():
    def extra(ap):
        ap.add_argument("--runs", type=int, default=9)
        ap.add_argument("--rtt-ms", type=float, default=50.0)
    o = parse_args(__doc__, extra)
    servers, relays, modes = [], {}, {}
    try:
        for m, early in (("0-RTT", True), ("1-RTT", False)):
            nginx = NginxEarlyData(keepalive_requests=1, tls=("1.3", "1.3"), early=early)
            servers.append(nginx)
            work = os.path.join(o.work, m)
            os.makedirs(work)
            relays[m] = DelayRelay(nginx.start(work, o.pki), o.rtt_ms / 2000.0)
            port = relays[m].port
            modes[m] = [o.alertpost, "-v", "--lines", "--cacert",
                        os.path.join(o.pki, "root.pem"), "--resolve",
                        "localhost:%d:127.0.0.1" % port, "-H", "Idempotency-Key: " + KEY,
                        "https://localhost:%d/alerts" % port]
        got = {m: [] for m in modes}
        for _ in range(o.runs):
            for m, argv in modes.items():
                got[m].append(one_run(argv, relays[m]))
    finally:
        for relay in relays.values():
            relay.stop()
        for nginx in servers:
            nginx.stop()
    print("resumed TLS 1.3 post of a %d-byte alert with an Idempotency-Key, simulated RTT "
          "%.0f ms, %d runs, medians:" % (len(ALERTS[1]), o.rtt_ms, o.runs))
    for m, runs in got.items():
        med = {k: statistics.median(r[k] for r in runs)
               for k in ("up", "down", "rtts", "leaves_ms", "post_ms")}
        print("  %s  uplink %5d B  downlink %5d B  round trips before the alert left %d  "
              "alert left after %6.1f ms  post %4.0f ms  (-v: %s; first flight %r)"
              % (m, med["up"], med["down"], med["rtts"], med["leaves_ms"], med["post_ms"],
                 runs[0]["early"], runs[0]["first_flight"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
