#!/usr/bin/env python3
"""The delivery queue end to end: the CLI with --spool and --retry against
sinks on loopback that flap, go away, or are killed mid-flush.

  test_queue_delivery.py --case NAME --alertpost BIN --pki DIR --work DIR
  test_queue_delivery.py --list

Cases:
  flapping      200 alerts through a sink that drops connections, answers 503
                (Retry-After in seconds), 429 (Retry-After as a date), 500,
                resets, cuts bodies and sends idle 408s. Every alert arrives;
                counted by Idempotency-Key exactly 200; the re-sends the
                client reports equal the requests the sink saw again after it
                had left one unanswered.
  sigkill       600 spooled alerts; the CLI flushing them (to a sink that
                takes 10 ms an answer) is killed with SIGKILL at random
                moments, 20 times, and started again until it is done. Nothing is lost and the spool ends
                empty.
  retry_ram     --retry without --spool: a 503 sink gets every attempt with
                the same key, and the exit code is the HTTP failure's.
  bad_inputs    an unusable spool path, a full spool, an alert larger than
                the spool, a busy spool and a corrupt record: each a clear
                one-line message, and nothing that was kept is lost.
Exit 0 pass, 1 fail, 77 skipped.
"""

import argparse
import fcntl
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import PySink, RefusedPort  # noqa: E402

EXIT_OK, EXIT_USAGE, EXIT_HTTP, EXIT_KEPT = 0, 2, 7, 8
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        sys.stderr.write("FAIL: %s\n" % what)
    return cond


class Cli:
    def __init__(self, binary, pki, port):
        self.binary, self.pki, self.port = binary, pki, port

    def argv(self, *args, url=True):
        base = [self.binary, "--cacert", os.path.join(self.pki, "root.pem"),
                "--resolve", "localhost:%d:127.0.0.1" % self.port, "--max-time", "5"]
        return base + list(args) + (["https://localhost:%d/alerts" % self.port] if url else [])

    def run(self, *args, stdin=b"", timeout=120, url=True):
        argv = self.argv(*args, url=url)
        sys.stderr.write("run: %s\n" % " ".join(argv))
        p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, check=False)
        err = p.stderr.decode("utf-8", "replace")
        for line in err.splitlines()[-12:]:
            sys.stderr.write("  stderr| %s\n" % line)
        return p.returncode, p.stdout.decode("utf-8", "replace"), err


def events(sink):
    out = []
    path = sink.record
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            out = [json.loads(line) for line in f if line.strip()]
    return out


def requests_by_body(sink):
    """body -> list of Idempotency-Key values, one per request the sink read."""
    got = {}
    for ev in events(sink):
        if ev["event"] != "request":
            continue
        import base64
        body = base64.b64decode(ev["body_b64"]).decode()
        key = next((v for k, v in ev["headers"] if k.lower() == "idempotency-key"), None)
        got.setdefault(body, []).append(key)
    return got


def spool_files(spool):
    return sorted(n for n in os.listdir(spool) if not n.startswith("."))


def summary_counts(err):
    m = re.search(r"(\d+) delivered, (\d+) retried \((\d+) re-sent after an unknown outcome\), "
                  r"(\d+) dead-lettered; (\d+) waiting", err)
    return tuple(int(x) for x in m.groups()) if m else None


def case_flapping(opts):
    sink = PySink(mode="flapping", extra=["--max-connections", "2000", "--max-seconds", "170"])
    port = sink.start(opts.work, opts.pki)
    try:
        cli = Cli(opts.alertpost, opts.pki, port)
        bodies = ["alert %03d" % i for i in range(200)]
        spool = os.path.join(opts.work, "spool")
        rc, _, err = cli.run("--spool", spool, "--lines", "--retry", "60", "--retry-delay", "0.02",
                             stdin="".join(b + "\n" for b in bodies).encode(), timeout=170)
        sink.settle()
        check(rc == EXIT_OK, "flapping: exit %d, expected 0" % rc)
        got = requests_by_body(sink)
        check(sorted(got) == bodies, "flapping: %d distinct bodies arrived, expected 200"
              % len(got))
        keys = set()
        for body, ks in got.items():
            check(len(set(ks)) == 1 and ks[0] is not None,
                  "flapping: %r came with keys %r, expected one key on every attempt" % (body, ks))
            keys.add(ks[0])
        check(len(keys) == 200, "flapping: %d distinct Idempotency-Keys, expected 200"
              % len(keys))
        fates = [ev["fate"] for ev in events(sink) if ev["event"] == "fate"]
        cut = sum(1 for f in fates if f in ("unanswered", "cut", "reset"))
        counts = summary_counts(err)
        check(counts is not None, "flapping: no summary line")
        if counts:
            check(counts[0] == 200 and counts[4] == 0,
                  "flapping: summary says %d delivered, %d waiting" % (counts[0], counts[4]))
            check(counts[2] == cut, "flapping: client reports %d re-sends, the sink left %d "
                  "requests unanswered" % (counts[2], cut))
        named = len(re.findall(r"re-sending alert", err))
        check(named == cut, "flapping: %d re-sends named on stderr, expected %d" % (named, cut))
        check(cut > 10 and len(fates) > 300, "flapping: only %d requests, %d cut: the sink did "
              "not flap" % (len(fates), cut))
        check(spool_files(spool) == [], "flapping: the spool is not empty: %r"
              % spool_files(spool))
    finally:
        sink.stop()


def case_sigkill(opts):
    spool = os.path.join(opts.work, "spool")
    down = RefusedPort()
    port = down.start(opts.work, opts.pki)
    bodies = ["kill %03d" % i for i in range(600)]
    try:
        rc, _, err = Cli(opts.alertpost, opts.pki, port).run(
            "--spool", spool, "--lines", "--connect-timeout", "1",
            stdin="".join(b + "\n" for b in bodies).encode())
        check(rc == EXIT_KEPT, "sigkill: spooling with the sink down: exit %d, expected 8" % rc)
        check("600 waiting" in err, "sigkill: the message does not say 600 waiting")
    finally:
        down.stop()
    check(len(spool_files(spool)) == 600, "sigkill: %d files spooled, expected 600"
          % len(spool_files(spool)))
    # A sink that takes 10 ms an answer: a flush of 600 lasts seconds, and
    # every kill lands in the middle of one.
    sink = PySink(mode="slow-ok", extra=["--slow-delay", "0.01", "--max-connections", "500",
                                         "--max-seconds", "170"])
    port = sink.start(opts.work, opts.pki)
    rng = random.Random(20261202)
    kills = 0
    rounds = 0
    try:
        cli = Cli(opts.alertpost, opts.pki, port)
        deadline = time.monotonic() + 150
        while spool_files(spool) and time.monotonic() < deadline and rounds < 200:
            rounds += 1
            proc = subprocess.Popen(cli.argv("--spool", spool, "--flush"),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if kills < 20:
                time.sleep(rng.uniform(0.05, 0.3))
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    kills += 1
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if kills < 20 and not spool_files(spool):
                break
        sink.settle()
        check(kills >= 20, "sigkill: only %d kills landed mid-flush before the spool emptied"
              % kills)
        check(proc.returncode == 0, "sigkill: the last flush exited %d" % proc.returncode)
        got = requests_by_body(sink)
        check(sorted(got) == bodies, "sigkill: %d of 600 alerts arrived" % len(got))
        for body, ks in got.items():
            check(len(set(ks)) == 1, "sigkill: %r came with keys %r" % (body, ks))
        check(spool_files(spool) == [], "sigkill: spool not empty: %d files"
              % len(spool_files(spool)))
        check(os.listdir(os.path.join(spool, ".corrupt")) == [],
              "sigkill: records were set aside as corrupt: %r"
              % os.listdir(os.path.join(spool, ".corrupt")))
        sys.stderr.write("sigkill: %d kills in %d runs, %d requests for 600 alerts\n"
                         % (kills, rounds, sum(len(v) for v in got.values())))
    finally:
        sink.stop()


def case_retry_ram(opts):
    sink = PySink(status=503)
    port = sink.start(opts.work, opts.pki)
    try:
        rc, _, err = Cli(opts.alertpost, opts.pki, port).run(
            "--retry", "2", "--retry-delay", "0.01", "-d", "busy test")
        sink.settle()
        check(rc == EXIT_HTTP, "retry_ram: exit %d, expected 7" % rc)
        keys = requests_by_body(sink).get("busy test", [])
        check(len(keys) == 3 and len(set(keys)) == 1 and keys[0],
              "retry_ram: keys %r, expected 3 attempts with one key" % keys)
        check(summary_counts(err) == (0, 2, 0, 0, 1), "retry_ram: summary %r"
              % (summary_counts(err),))
    finally:
        sink.stop()


def case_bad_inputs(opts):
    down = RefusedPort()
    port = down.start(opts.work, opts.pki)
    cli = Cli(opts.alertpost, opts.pki, port)
    try:
        afile = os.path.join(opts.work, "a-file")
        open(afile, "w").close()
        rc, _, err = cli.run("--spool", os.path.join(afile, "spool"), "-d", "x")
        check(rc == EXIT_USAGE and "cannot use the spool" in err and "a-file" in err
              and len(err.strip().splitlines()) == 1,
              "bad_inputs: a spool under a file: exit %d, %r" % (rc, err))

        spool = os.path.join(opts.work, "small")
        for i in range(12):
            rc, _, err = cli.run("--spool", spool, "--spool-max-bytes", "400",
                                 "--connect-timeout", "1", "-d", "kept %d" % i)
            if "full" in err:
                break
        check(rc == EXIT_KEPT and "spool is full (nothing was evicted)" in err,
              "bad_inputs: full spool: exit %d, %r" % (rc, err))
        kept = len(spool_files(spool))
        check(kept >= 1, "bad_inputs: nothing was kept before the spool was full")
        rc, _, err = cli.run("--spool", spool, "--spool-max-bytes", "400", "-d", "y" * 2000)
        check(rc == EXIT_KEPT and "larger than the store can ever hold" in err,
              "bad_inputs: alert larger than the spool: exit %d, %r" % (rc, err))
        check(len(spool_files(spool)) == kept, "bad_inputs: a refusal changed the spool")

        rc, out, _ = cli.run("--spool", spool, "--spool-list", url=False)
        check(rc == EXIT_OK and ("%d waiting" % kept) in out and "key \"" in out,
              "bad_inputs: --spool-list: exit %d, %r" % (rc, out))

        with open(os.path.join(spool, ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            rc, _, err = cli.run("--spool", spool, "--flush")
            check(rc == EXIT_USAGE and "busy" in err, "bad_inputs: busy spool: exit %d, %r"
                  % (rc, err))
        first = os.path.join(spool, spool_files(spool)[0])
        with open(first, "r+b") as f:
            f.seek(20)
            f.write(b"\xff\xfe")
        rc, _, err = cli.run("--spool", spool, "--flush", "--connect-timeout", "1")
        check("set aside" in err and ".corrupt" in err,
              "bad_inputs: the corrupt record was not named: %r" % err)
        check(len(os.listdir(os.path.join(spool, ".corrupt"))) == 1,
              "bad_inputs: the corrupt record is not in .corrupt")
        check(len(spool_files(spool)) == kept - 1, "bad_inputs: the other records were lost")
    finally:
        down.stop()


CASES = {"flapping": case_flapping, "sigkill": case_sigkill, "retry_ram": case_retry_ram,
         "bad_inputs": case_bad_inputs}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--case")
    ap.add_argument("--alertpost")
    ap.add_argument("--pki")
    ap.add_argument("--work")
    opts = ap.parse_args()
    if opts.list:
        print("\n".join(CASES))
        return 0
    shutil.rmtree(opts.work, ignore_errors=True)
    os.makedirs(opts.work)
    opts.alertpost = os.path.abspath(opts.alertpost)
    CASES[opts.case](opts)
    if FAILURES:
        return 1
    sys.stderr.write("PASS %s\n" % opts.case)
    return 0


if __name__ == "__main__":
    sys.exit(main())
