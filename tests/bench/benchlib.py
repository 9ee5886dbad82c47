"""What the benchmark scripts share: their common arguments, a byte-counting
relay, and a process runner that reports CPU time and peak RSS.

Nothing here asserts anything: the scripts print figures that depend on the
machine, as ratios between clients measured in the same run.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))


def parse_args(doc, extra=None):
    """--alertpost BIN --pki DIR --work DIR, plus what `extra(parser)` adds.
    The paths come back absolute, and the work directory empty."""
    ap = argparse.ArgumentParser(description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alertpost", required=True, help="the CLI to measure")
    ap.add_argument("--pki", required=True, help="a directory filled by tests/integration/pki.py")
    ap.add_argument("--work", required=True, help="scratch directory (emptied first)")
    if extra:
        extra(ap)
    o = ap.parse_args()
    o.alertpost = os.path.abspath(o.alertpost)
    o.pki = os.path.abspath(o.pki)
    o.work = os.path.abspath(o.work)
    shutil.rmtree(o.work, ignore_errors=True)
    os.makedirs(o.work)
    return o


class Run:
    """One finished process: wall seconds, CPU seconds (user + system), peak
    RSS in KiB, exit status, and its stderr."""

    def __init__(self, wall, cpu, rss_kib, rc, stderr):
        self.wall, self.cpu, self.rss_kib, self.rc, self.stderr = wall, cpu, rss_kib, rc, stderr

    def check(self, what):
        if self.rc != 0:
            raise SystemExit("bench: %s failed (exit %d): %s"
                             % (what, self.rc, self.stderr.strip()[-400:]))
        return self


GNU_TIME = "/usr/bin/time"


def run(argv, stdin=b"", timeout=300):
    """Runs argv to its end. Its peak RSS and CPU time come from GNU time,
    which forks it from a small process: a child forked from this Python
    interpreter would inherit the interpreter's RSS as its high-water mark.
    CPU time comes from os.wait4() on GNU time, which counts the child it
    waited for, in microseconds (GNU time prints hundredths)."""
    report = os.path.join(os.environ.get("TMPDIR", "/tmp"), "bench-time.%d" % os.getpid())
    if os.path.exists(GNU_TIME):
        argv = [GNU_TIME, "-f", "%M", "-o", report] + list(argv)
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    err = []
    reader = threading.Thread(target=lambda: err.append(p.stderr.read()))
    reader.start()
    try:
        p.stdin.write(stdin)
        p.stdin.close()
    except BrokenPipeError:
        pass
    deadline = t0 + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            p.kill()
            pid, status, ru = os.wait4(p.pid, 0)
            break
        time.sleep(0.0005)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    reader.join(10)
    cpu, rss = ru.ru_utime + ru.ru_stime, ru.ru_maxrss
    if argv[0] == GNU_TIME:
        try:
            with open(report, encoding="ascii") as f:
                rss = int(f.read().split()[-1])   # after any "Command exited..." line
        except (OSError, ValueError, IndexError):
            pass
        if os.path.exists(report):
            os.unlink(report)
    return Run(wall, cpu, rss, p.returncode, (err[0] if err else b"").decode(errors="replace"))


def run_timed(argv, timeout=60):
    """Runs argv and returns its wall time alone, with nothing between this
    script and the process (no GNU time, no polling): for many short runs
    whose sum is the figure. SystemExit if it fails."""
    t0 = time.monotonic()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
                       timeout=timeout)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        raise SystemExit("bench: %s failed (exit %d): %s"
                         % (argv[0], p.returncode, p.stderr.decode(errors="replace")[-400:]))
    return wall


class CountingRelay:
    """A loopback relay to `target_port` that counts, per connection, the
    bytes each way: what a client put on the wire, handshake included.
    Connections are served in threads; `conns` holds (up, down) of each
    finished one, in the order they ended."""

    def __init__(self, target_port):
        self.target = target_port
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.conns = []
        self.lock = threading.Lock()
        self.active = []
        threading.Thread(target=self._accept, daemon=True).start()

    @staticmethod
    def _pump(src, dst, count):
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
            count[0] += len(data)
            try:
                dst.sendall(data)
            except OSError:
                return

    def _serve(self, client):
        up, down = [0], [0]
        server = socket.create_connection(("127.0.0.1", self.target))
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t = threading.Thread(target=self._pump, args=(server, client, down))
        t.start()
        self._pump(client, server, up)
        t.join(60)
        client.close()
        server.close()
        with self.lock:
            self.conns.append((up[0], down[0]))

    def _accept(self):
        while True:
            try:
                client, _ = self.lsock.accept()
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(client,), daemon=True)
            with self.lock:
                self.active = [a for a in self.active if a.is_alive()] + [t]
            t.start()

    def take(self, timeout=10):
        """Waits for the open connections to end; returns and forgets their counts."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                busy = [a for a in self.active if a.is_alive()]
            if not busy:
                break
            time.sleep(0.01)
        with self.lock:
            got, self.conns = self.conns, []
        return got


def callgrind(argv, out, timeout=600):
    """argv's instruction count under valgrind's callgrind (its profile in
    `out`); SystemExit if it fails."""
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + argv,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
                       timeout=timeout)
    if p.returncode != 0:
        raise SystemExit("bench: %s under callgrind failed (%d): %s"
                         % (argv[0], p.returncode, p.stderr.decode(errors="replace")[-2000:]))
    with open(out, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    raise SystemExit("bench: no instruction total in " + out)


def median(values):
    values = sorted(values)
    n = len(values)
    if n == 0:
        return float("nan")
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2
