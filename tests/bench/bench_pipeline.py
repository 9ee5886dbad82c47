#!/usr/bin/env python3
"""Alerts per second with HTTP/1.1 pipelining against a local nginx, next to one in flight.

  bench_pipeline.py --alertpost BIN --pki DIR --work DIR [--count N] [--window W]
                    [--tls 1.2|1.3] [--repeat R] [--rtt-ms MS] [--baseline BIN]

Starts Debian's nginx on loopback (tests/integration/peers.py NginxPipeline,
`return 204`, logging each request's connection and Idempotency-Key), then, for
N alerts on stdin each time:
  lines     --lines: one alert in flight (ap_post(), one kept-alive connection,
            no Idempotency-Key);
  pipe1     --lines --pipeline 1: the pipeline code with a window of one;
  pipeW     --lines --pipeline W (default 16);
  baseline  with --baseline BIN: `--lines` of another build (e.g. the CLI as it
            was before pipelining and the one-record requests, to check a
            gain against it in the same run);
  s_client  the ceiling: the same N requests (each with a key) written by
            `openssl s_client` as fast as it can, no window at all, the last one
            with Connection: close so that nginx ends the run; one TLS session.
With --rtt-ms, every run goes through a relay on loopback that holds each
chunk of bytes MS/2 milliseconds in each direction (a round trip of MS ms, as
on a real network; the kernel here has no netem), in order.
Each alertpost run is checked from nginx's access log: N requests answered 204
on one connection, N distinct keys. Prints the median and the best of R
interleaved runs (default 3) in alerts per second, and the medians' ratios to
`lines` and to `baseline`. Not a test: the figures depend on
the machine, and on loopback they leave out every network round trip, which
is where pipelining gains most.
"""

import argparse
import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from peers import NginxPipeline  # noqa: E402


def timed(argv, stdin):
    t0 = time.monotonic()
    p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       check=False)
    return time.monotonic() - t0, p.returncode, p.stdout, p.stderr.decode(errors="replace")


def access_lines(nginx):
    with open(os.path.join(nginx.work, "access.log"), encoding="utf-8") as f:
        return f.read().splitlines()


def check_log(lines, count, keyed):
    """The run's requests: all 204, on one connection, with distinct keys if keyed."""
    conns = {l.split()[0] for l in lines}
    keys = {l.split()[8] for l in lines}
    codes = {l.split()[4] for l in lines}
    problems = []
    if len(lines) != count:
        problems.append("%d requests logged, expected %d" % (len(lines), count))
    if codes != {"204"}:
        problems.append("statuses %r" % sorted(codes))
    if len(conns) != 1:
        problems.append("%d connections" % len(conns))
    if keyed and len(keys) != count:
        problems.append("%d distinct keys" % len(keys))
    return problems


class DelayRelay:
    """Loopback TCP relay to `port` that delivers each chunk `delay` seconds after it
    arrived, in order, in both directions."""

    def __init__(self, port, delay):
        self.port, self.delay = port, delay
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listen_port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.port))
            for a, b in ((client, server), (server, client)):
                q = queue.Queue()
                threading.Thread(target=self._read, args=(a, q), daemon=True).start()
                threading.Thread(target=self._write, args=(b, q), daemon=True).start()

    def _read(self, sock, q):
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            q.put((time.monotonic() + self.delay, data))
            if not data:
                return

    @staticmethod
    def _write(sock, q):
        while True:
            due, data = q.get()
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            try:
                if not data:
                    sock.shutdown(socket.SHUT_WR)
                    return
                sock.sendall(data)
            except OSError:
                return


def raw_requests(count, body):
    out = []
    for i in range(count):
        last = i == count - 1
        out.append(b"POST /alerts HTTP/1.1\r\nHost: localhost\r\nUser-Agent: s_client\r\n"
                   b"Content-Type: application/json\r\nIdempotency-Key: \"%s\"\r\n"
                   b"%sContent-Length: %d\r\n\r\n%s" % (
                       str(uuid.uuid4()).encode(), b"Connection: close\r\n" if last else b"",
                       len(body), body))
    return b"".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alertpost", required=True)
    ap.add_argument("--pki", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--window", type=int, default=16)
    ap.add_argument("--tls", default="1.3", choices=["1.2", "1.3"])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rtt-ms", type=float, default=0.0)
    ap.add_argument("--baseline", help="another alertpost build, run as `lines`")
    o = ap.parse_args()
    o.pki = os.path.abspath(o.pki)
    o.alertpost = os.path.abspath(o.alertpost)
    shutil.rmtree(o.work, ignore_errors=True)
    os.makedirs(o.work)
    body = b'{"alert":"disk full","host":"db-1"}'
    lines = b"".join(body + b"\n" for _ in range(o.count))
    nginx = NginxPipeline(keepalive_requests=o.count * 4, tls=(o.tls, o.tls))
    port = nginx.start(o.work, o.pki)
    if o.rtt_ms > 0:
        port = DelayRelay(port, o.rtt_ms / 2000.0).listen_port
    url = "https://localhost:%d/alerts" % port
    cli = [o.alertpost, "--cacert", os.path.join(o.pki, "root.pem"), "--resolve",
           "localhost:%d:127.0.0.1" % port, "--lines"]
    runs = [("lines", cli + [url]), ("pipe1", cli + ["--pipeline", "1", url]),
            ("pipe%d" % o.window, cli + ["--pipeline", str(o.window), url])]
    if o.baseline:
        runs.append(("baseline", [os.path.abspath(o.baseline)] + cli[1:] + [url]))
    s_client = ["openssl", "s_client", "-quiet", "-ign_eof", "-connect", "127.0.0.1:%d" % port,
                "-servername", "localhost", "-CAfile", os.path.join(o.pki, "root.pem"),
                "-tls" + o.tls.replace(".", "_")]
    times = {}
    try:
        for _ in range(o.repeat):
            for name, argv in runs:
                seen = len(access_lines(nginx))
                sec, rc, _, err = timed(argv, lines)
                time.sleep(0.3)  # nginx logs as it answers; let it finish
                problems = check_log(access_lines(nginx)[seen:], o.count,
                                     name not in ("lines", "baseline"))
                if rc != 0 or problems:
                    print("%s: exit %d %s %s" % (name, rc, problems, err.strip()[-200:]))
                    return 1
                times.setdefault(name, []).append(sec)
            if shutil.which("openssl"):
                raw = raw_requests(o.count, body)
                sec, rc, out, err = timed(s_client, raw)
                time.sleep(0.3)  # its last request's log line too, before the next run
                answered = out.count(b"HTTP/1.1 204")
                if answered != o.count:
                    print("s_client: %d answers of %d (exit %d)" % (answered, o.count, rc))
                else:
                    times.setdefault("s_client", []).append(sec)
    finally:
        nginx.stop()
    med = {name: sorted(t)[len(t) // 2] for name, t in times.items()}
    print("%d alerts, TLS %s, nginx on loopback%s, median (best) of %d" % (
        o.count, o.tls, ", %.1f ms round trip through a relay" % o.rtt_ms if o.rtt_ms else "",
        o.repeat))
    print("%-10s %10s %12s %12s %9s %11s" % ("run", "seconds", "alerts/s", "best/s",
                                             "vs lines", "vs baseline"))
    for name, sec in med.items():
        vs_base = "%11.2f" % (med["baseline"] / sec) if "baseline" in med else ""
        print("%-10s %10.3f %12.0f %12.0f %9.2f %s" % (name, sec, o.count / sec,
                                                     o.count / min(times[name]),
                                                     med["lines"] / sec, vs_base))
    return 0


if __name__ == "__main__":
    sys.exit(main())
