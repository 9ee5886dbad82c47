#!/usr/bin/env python3
"""alertpost against curl, Python requests and openssl s_client: every figure
as a ratio between clients measured in the same, interleaved run.

  bench.py --alertpost BIN --pki DIR --work DIR [--runs N] [--out DIR] [--quick]

The server is Debian's nginx on loopback: TLS 1.2 and 1.3, a P-256 leaf
with its intermediate (a chain of two), `return 204`, a session cache and
tickets, `ssl_early_data on`; its access log records per request whether
the session was resumed and whether the request came as early data.

What is measured (medians of --runs interleaved repetitions where a run is
short, one run where it is long):

  cold     one process, one ~100-byte alert: wall, CPU, peak RSS (straight
           to nginx), and the bytes of the whole connection each way (once
           more, through a counting relay: it would add latency to timings);
  stream   1,000 alerts over one kept-alive connection (alertpost --lines,
           one curl process with 1,000 --next groups, a requests Session);
  reconnect 100 one-alert processes, alertpost with and without
           --ssl-sessions, against 100 curl processes and one curl process
           sending `Connection: close` 100 times (curl resumes inside it);
           wall time, resumed connections, bytes of a full and a resumed
           connection, and of a 0-RTT one (alertpost with an Idempotency-Key);
  pipeline 10,000 alerts: --lines with one request in flight, --pipeline 16,
           and openssl s_client writing all of them at once as the ceiling;
  instructions  callgrind's count for a cold post with one root and with the
           system bundle (plus the test root), alertpost against curl.

Bytes are counted at the relay and checked once against tshark's capture of
the same connection. Results go to DIR/bench.csv and, with gnuplot, to
DIR/bench.png; a Markdown table of the ratios is printed. Not a test:
nothing is asserted, and the figures depend on the machine.
"""

import os
import platform
import shutil
import subprocess
import sys
import time

from benchlib import CountingRelay, callgrind, median, parse_args, run, run_timed
from peers import NginxResume  # noqa: E402

BODY = '{"device":"pump-7","level":"critical","text":"pressure high","seq":12345678}'
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


class BenchNginx(NginxResume):
    """NginxResume that also accepts early data and logs, per request,
    $ssl_early_data ("1" for a request that came as 0-RTT data)."""

    def _config(self, pki):
        conf = super()._config(pki)
        conf = conf.replace("$ssl_session_reused'", "$ssl_session_reused $ssl_early_data'")
        return conf.replace("        ssl_session_tickets on;\n",
                            "        ssl_session_tickets on;\n        ssl_early_data on;\n")

    def log_lines(self):
        with open(os.path.join(self.work, "access.log"), encoding="utf-8") as f:
            return f.read().splitlines()


class Bench:
    def __init__(self, o):
        self.o = o
        self.rows = []     # (section, client, metric, value, unit)
        self.ratios = []   # (measure, alertpost value, peer, peer value, unit)
        self.root = os.path.join(o.pki, "root.pem")
        self.nginx = BenchNginx(keepalive_requests=100000)
        os.makedirs(os.path.join(o.work, "nginx"))
        self.port = self.nginx.start(os.path.join(o.work, "nginx"), o.pki)
        self.relay = CountingRelay(self.port)
        self.features = self._features()

    def _features(self):
        out = subprocess.run([self.o.alertpost, "--help"], capture_output=True, check=False)
        text = (out.stdout + out.stderr).decode(errors="replace")
        return {f: f in text for f in ("--ssl-sessions", "--pipeline")}

    # ---- client command lines -------------------------------------------------------

    def url(self, port):
        return "https://localhost:%d/alerts" % port

    def alertpost(self, port, *args):
        return [self.o.alertpost, "--cacert", self.root, "--resolve",
                "localhost:%d:127.0.0.1" % port] + list(args) + [self.url(port)]

    def curl(self, port, *args):
        return ["curl", "-sS", "-o", "/dev/null", "--cacert", self.root, "--resolve",
                "localhost:%d:127.0.0.1" % port, "-H", "Content-Type: application/json"] + \
            list(args) + [self.url(port)]

    def curl_config(self, port, count, extra=""):
        """A curl -K file: `count` POSTs in --next groups (options reset at each)."""
        path = os.path.join(self.o.work, "curl-%d-%d.cfg" % (count, len(extra)))
        group = ('cacert = "%s"\nresolve = "localhost:%d:127.0.0.1"\n'
                 'header = "Content-Type: application/json"\n%s'
                 'data = "%s"\noutput = "/dev/null"\nurl = "%s"\n'
                 % (self.root, port, extra, BODY.replace('"', '\\"'), self.url(port)))
        with open(path, "w", encoding="ascii") as f:
            f.write("next\n".join([group] * count))
        return ["curl", "-sS", "-K", path]

    def requests_loop(self, port, count):
        code = ("import requests,sys\ns=requests.Session()\n"
                "for i in range(%d):\n"
                "    r=s.post(%r,data=%r,headers={'Content-Type':'application/json'},"
                "verify=%r)\n"
                "    r.raise_for_status()\n" % (count, self.url(port), BODY, self.root))
        return [sys.executable, "-c", code]

    def record(self, section, client, metric, value, unit):
        self.rows.append((section, client, metric, value, unit))

    def ratio(self, measure, a, peer, p, unit):
        self.ratios.append((measure, a, peer, p, unit))

    # ---- sections -------------------------------------------------------------------

    def cold(self):
        """Wall, CPU and RSS straight to nginx (interleaved); the bytes of each
        client's connection once more through the relay, which would add its
        own latency to the timed runs."""
        def clients(port):
            return {"alertpost": self.alertpost(port, "-d", BODY),
                    "curl": self.curl(port, "-d", BODY),
                    "requests": self.requests_loop(port, 1)}
        got = {c: [] for c in clients(self.port)}
        for _ in range(self.o.runs):
            for name, argv in clients(self.port).items():
                r = run(argv, timeout=60).check("cold " + name)
                got[name].append((r.wall, r.cpu, r.rss_kib))
        med = {}
        for name, argv in clients(self.relay.port).items():
            run(argv, timeout=60).check("cold bytes " + name)
            conns = self.relay.take()
            med[name] = [median([x[i] for x in got[name]]) for i in range(3)] + \
                [sum(u for u, _ in conns), sum(d for _, d in conns)]
            for i, (metric, unit) in enumerate((("wall", "s"), ("cpu", "s"), ("rss", "KiB"),
                                                ("uplink", "B"), ("downlink", "B"))):
                self.record("cold", name, metric, med[name][i], unit)
        for peer in ("curl", "requests"):
            for i, (metric, unit) in enumerate((("cold post wall time", "s"),
                                                ("cold post CPU time", "s"),
                                                ("cold post peak RSS", "KiB"),
                                                ("cold post uplink", "B"),
                                                ("cold post downlink", "B"))):
                self.ratio(metric, med["alertpost"][i], peer, med[peer][i], unit)

    def stream(self, count=1000):
        lines = b"".join(b'{"seq":%d,"alert":"disk full","host":"db-1"}\n' % i
                         for i in range(count))
        clients = {"alertpost": (self.alertpost(self.port, "--lines"), lines),
                   "curl": (self.curl_config(self.port, count), b""),
                   "requests": (self.requests_loop(self.port, count), b"")}
        got = {c: [] for c in clients}
        for _ in range(max(1, self.o.runs // 2)):
            for name, (argv, stdin) in clients.items():
                r = run(argv, stdin).check("stream " + name)
                got[name].append((r.wall, r.cpu, r.rss_kib))
        med = {n: [median([x[i] for x in runs]) for i in range(3)] for n, runs in got.items()}
        # bytes: once each, through the relay (it would slow the timed runs)
        up = {}
        relay_clients = {"alertpost": (self.alertpost(self.relay.port, "--lines"), lines),
                         "curl": (self.curl_config(self.relay.port, count), b"")}
        for name, (argv, stdin) in relay_clients.items():
            run(argv, stdin).check("stream bytes " + name)
            conns = self.relay.take()
            up[name] = sum(u for u, _ in conns) / count
            self.record("stream", name, "uplink per alert", up[name], "B")
        for name in med:
            for i, (metric, unit) in enumerate((("wall", "s"), ("cpu", "s"), ("rss", "KiB"))):
                self.record("stream", name, metric, med[name][i], unit)
        for peer in ("curl", "requests"):
            for i, (metric, unit) in enumerate((("1,000-alert stream wall time", "s"),
                                                ("1,000-alert stream CPU time", "s"),
                                                ("1,000-alert stream peak RSS", "KiB"))):
                self.ratio(metric, med["alertpost"][i], peer, med[peer][i], unit)
        self.ratio("streamed alert uplink (TLS 1.3)", up["alertpost"], "curl", up["curl"], "B")

    def _reused(self, before):
        lines = self.nginx.log_lines()[before:]
        return (sum(1 for l in lines if l.split()[8] == "r"),
                sum(1 for l in lines if l.split()[9] == "1"), len(lines))

    def _reconnect_variants(self, port, tag):
        sessions = os.path.join(self.o.work, "sessions-" + tag)
        variants = [("alertpost", lambda i: self.alertpost(port, "-d", BODY))]
        if self.features["--ssl-sessions"]:
            variants.append(("alertpost --ssl-sessions", lambda i: self.alertpost(
                port, "--ssl-sessions", sessions, "-d", BODY)))
            variants.append(("alertpost --ssl-sessions, keyed", lambda i: self.alertpost(
                port, "--ssl-sessions", sessions + "-0rtt", "-H",
                "Idempotency-Key: bench-%s-%d" % (tag, i), "-d", BODY)))
        variants.append(("curl", lambda i: self.curl(port, "-d", BODY)))
        return variants

    def reconnect(self, count=100):
        """`count` one-alert processes of each variant, interleaved, straight
        to nginx: the summed wall time. Then 10 of each through the relay, one
        variant after another: bytes of the first (full) and later
        connections, and how many nginx resumed or took as early data."""
        walls = {}
        variants = self._reconnect_variants(self.port, "timed")
        for i in range(count):
            for name, argv_of in variants:
                walls[name] = walls.get(name, 0.0) + run_timed(argv_of(i))
        result = {}
        for name, argv_of in self._reconnect_variants(self.relay.port, "bytes"):
            before = len(self.nginx.log_lines())
            for i in range(10):
                run(argv_of(i), timeout=60).check("reconnect bytes " + name)
            conns = self.relay.take()
            time.sleep(0.3)
            result[name] = (walls[name], conns) + self._reused(before)
        before = len(self.nginx.log_lines())
        t0 = time.monotonic()
        run(self.curl_config(self.relay.port, 10, 'header = "Connection: close"\n')
            ).check("curl Connection: close")
        result["curl, one process"] = (time.monotonic() - t0, self.relay.take()) + \
            self._reused(before)
        for name, (wall, conns, reused, early, n) in result.items():
            if name != "curl, one process":
                self.record("reconnect", name, "wall for %d" % count, wall, "s")
            self.record("reconnect", name, "resumed", reused, "of %d" % n)
            self.record("reconnect", name, "early data", early, "of %d" % n)
            if conns:
                first = conns[0][0] + conns[0][1]
                rest = median([u + d for u, d in conns[1:]]) if len(conns) > 1 else first
                self.record("reconnect", name, "bytes, first connection", first, "B")
                self.record("reconnect", name, "bytes, later connection (median)", rest, "B")
        curl_wall = result["curl"][0]
        self.ratio("%d one-alert processes" % count, result["alertpost"][0], "curl", curl_wall,
                   "s")
        if "alertpost --ssl-sessions" in result:
            s = result["alertpost --ssl-sessions"]
            self.ratio("%d one-alert processes, --ssl-sessions" % count, s[0], "curl",
                       curl_wall, "s")
            c = result["curl, one process"]
            self.ratio("resumed one-alert connection, bytes",
                       median([u + d for u, d in s[1][1:]]), "curl",
                       median([u + d for u, d in c[1][1:]]), "B")
            k = result["alertpost --ssl-sessions, keyed"]
            self.ratio("0-RTT one-alert connection, bytes", median([u + d for u, d in k[1][1:]]),
                       "curl", median([u + d for u, d in c[1][1:]]), "B")

    def s_client_pipeline(self, count):
        reqs = b"".join(b"POST /alerts HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                        b"application/json\r\nContent-Length: %d\r\n%s\r\n%s"
                        % (len(BODY), b"Connection: close\r\n" if i == count - 1 else b"",
                           BODY.encode()) for i in range(count))
        # -quiet keeps reading after the end of stdin, until nginx closes after
        # the last request (Connection: close)
        argv = ["openssl", "s_client", "-quiet", "-connect", "127.0.0.1:%d" % self.port,
                "-servername", "localhost", "-CAfile", self.root, "-verify_return_error"]
        return run(argv, reqs, timeout=300)

    def pipeline(self, count=10000):
        """Interleaved repetitions of each run; the median rates."""
        lines = b"".join(b'{"seq":%d,"alert":"disk full","host":"db-1"}\n' % i
                         for i in range(count))
        runs = {"alertpost, 1 in flight": lambda: run(self.alertpost(self.port, "--lines"),
                                                       lines),
                "openssl s_client, all at once": lambda: self.s_client_pipeline(count)}
        if self.features["--pipeline"]:
            runs["alertpost --pipeline 16"] = lambda: run(
                self.alertpost(self.port, "--lines", "--pipeline", "16"), lines)
        got = {name: [] for name in runs}
        for _ in range(max(3, self.o.runs // 2)):
            for name, go in runs.items():
                got[name].append(count / go().check("pipeline " + name).wall)
        rates = {name: median(r) for name, r in got.items()}
        for name, rate in rates.items():
            self.record("pipeline", name, "alerts/s (median)", rate, "1/s")
        base = rates["alertpost, 1 in flight"]
        self.ratio("%d alerts, 1 in flight (rate)" % count, base, "openssl s_client",
                   rates["openssl s_client, all at once"], "1/s")
        if "alertpost --pipeline 16" in rates:
            self.ratio("%d alerts, --pipeline 16 (rate)" % count, rates["alertpost --pipeline 16"],
                       "alertpost, 1 in flight", base, "1/s")
            self.ratio("%d alerts, --pipeline 16 (rate)" % count, rates["alertpost --pipeline 16"],
                       "openssl s_client", rates["openssl s_client, all at once"], "1/s")

    def instructions(self):
        if shutil.which("valgrind") is None:
            print("bench: valgrind missing: no instruction counts", file=sys.stderr)
            return
        bundle = os.path.join(self.o.work, "bundle.pem")
        with open(bundle, "wb") as f, open(SYSTEM_BUNDLE, "rb") as s, open(self.root, "rb") as r:
            f.write(s.read() + b"\n" + r.read())
        counts = {}
        for anchors, label in ((self.root, "one root"), (bundle, "system bundle")):
            for name in ("alertpost", "curl"):
                base = self.alertpost(self.port, "-d", BODY) if name == "alertpost" else \
                    self.curl(self.port, "-d", BODY)
                base[base.index(self.root)] = anchors
                out = os.path.join(self.o.work, "callgrind.%s.%d" % (name, len(counts)))
                counts[(name, label)] = callgrind(base, out)
                self.record("instructions", name, "cold post, " + label, counts[(name, label)],
                            "Ir")
        self.ratio("cold post instructions, system bundle", counts[("alertpost", "system bundle")],
                   "curl", counts[("curl", "system bundle")], "Ir")
        self.ratio("cold post instructions, system bundle", counts[("alertpost", "system bundle")],
                   "alertpost, one root", counts[("alertpost", "one root")], "Ir")

    def tshark_check(self):
        """One cold alertpost connection, counted by the relay and by tshark."""
        if shutil.which("tshark") is None or os.geteuid() != 0:
            print("bench: tshark check skipped (needs tshark and root)", file=sys.stderr)
            return
        cap = os.path.join(self.o.work, "cold.pcapng")
        t = subprocess.Popen(["tshark", "-q", "-i", "lo", "-f", "tcp port %d" % self.relay.port,
                              "-w", cap], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.5)
        run(self.alertpost(self.relay.port, "-d", BODY)).check("tshark post")
        (up, down), = self.relay.take()
        time.sleep(0.5)
        t.terminate()
        t.wait(10)
        out = subprocess.run(["tshark", "-r", cap, "-T", "fields", "-e", "tcp.dstport",
                              "-e", "tcp.len"], capture_output=True, check=False, text=True)
        cu = cd = 0
        for line in out.stdout.splitlines():
            port, _, length = line.partition("\t")
            if port.strip() == str(self.relay.port):
                cu += int(length or 0)
            elif length:
                cd += int(length)
        self.record("tshark", "alertpost", "relay uplink/downlink", "%d/%d" % (up, down), "B")
        self.record("tshark", "alertpost", "tshark uplink/downlink", "%d/%d" % (cu, cd), "B")
        print("bench: cold connection bytes, relay %d/%d, tshark %d/%d (%s)"
              % (up, down, cu, cd, "agree" if (up, down) == (cu, cd) else "DIFFER"))

    # ---- output ---------------------------------------------------------------------

    def write(self, out):
        os.makedirs(out, exist_ok=True)
        csv = os.path.join(out, "bench.csv")
        with open(csv, "w", encoding="utf-8") as f:
            f.write("section,client,metric,value,unit\n")
            for row in self.rows:
                f.write(",".join('"%s"' % v if isinstance(v, str) else
                                 ("%.6g" % v) for v in row) + "\n")
            f.write("\nmeasure,alertpost,peer,peer value,unit,ratio\n")
            for m, a, peer, p, unit in self.ratios:
                f.write('"%s",%.6g,"%s",%.6g,"%s",%.3f\n' % (m, a, peer, p, unit, a / p))
        print("bench: wrote " + csv)
        self._plot(out)
        print()
        print(machine())
        print()
        print("| measure | against | alertpost | peer | ratio |")
        print("|---|---|---|---|---|")
        for m, a, peer, p, unit in self.ratios:
            print("| %s | %s | %s | %s | %.2fx |" % (m, peer, fmt(a, unit), fmt(p, unit), a / p))

    def _plot(self, out):
        if shutil.which("gnuplot") is None:
            print("bench: gnuplot missing: no PNG", file=sys.stderr)
            return
        dat = os.path.join(out, "ratios.dat")
        with open(dat, "w", encoding="utf-8") as f:
            for i, (m, a, peer, p, _) in enumerate(self.ratios):
                f.write('%d "%s vs %s" %.4f\n' % (i, m.replace('"', "'"), peer, a / p))
        script = """set terminal pngcairo size 1200,%d font ',9' noenhanced
set output '%s'
set title 'alertpost as a ratio of each peer (below 1: alertpost uses less)'
set style fill solid 0.6
set yrange [-1:%d]
set xrange [0:*]
set ytics nomirror
set grid xtics
set arrow from 1,-1 to 1,%d nohead dt 2
unset key
plot '%s' using 3:1:(0):3:($1-0.35):($1+0.35):ytic(2) with boxxyerror
""" % (120 + 28 * len(self.ratios), os.path.join(out, "bench.png"), len(self.ratios),
            len(self.ratios), dat)
        p = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True, check=False)
        if p.returncode != 0:
            print("bench: gnuplot failed: " + p.stderr.strip(), file=sys.stderr)
        else:
            print("bench: wrote " + os.path.join(out, "bench.png"))

    def close(self):
        self.nginx.stop()


def fmt(v, unit):
    if unit == "s":
        return "%.1f ms" % (v * 1000) if v < 1 else "%.2f s" % v
    if unit == "1/s":
        return "%.0f/s" % v
    if unit == "Ir":
        return "%.1f M" % (v / 1e6)
    return "%.0f %s" % (v, unit)


def machine():
    def version(argv):
        try:
            p = subprocess.run(argv, capture_output=True, text=True, check=False)
            return (p.stdout + p.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    cpu = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return ("Machine: %s, %d cores, Linux %s; %s; %s; %s; requests %s"
            % (cpu, os.cpu_count(), platform.release(), version(["nginx", "-v"]),
               version(["curl", "--version"]).split(" (")[0],
               version(["openssl", "version"]),
               version([sys.executable, "-c", "import requests;print(requests.__version__)"])))


def main():
    def extra(ap):
        ap.add_argument("--runs", type=int, default=7, help="repetitions of short runs")
        ap.add_argument("--out", help="where bench.csv and bench.png go (default: --work)")
        ap.add_argument("--quick", action="store_true", help="fewer alerts everywhere")
    o = parse_args(__doc__, extra)
    b = Bench(o)
    scale = 10 if o.quick else 1
    try:
        b.tshark_check()
        b.cold()
        b.stream(1000 // scale)
        b.reconnect(100 // scale)
        b.pipeline(10000 // scale)
        b.instructions()
    finally:
        b.close()
    b.write(o.out or o.work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
