#!/usr/bin/env python3
"""The firmware's delivery queue under QEMU, over its semihosted flash file.

    queue_case.py --case sinkdown|kill|ramleft|resume12|resume13 --machine mps2-an385 \\
        --kernel alert_poster.elf --pki DIR --workdir DIR \\
        [--count 5] [--qemu qemu-system-arm] [--timeout 150]

Every guest connection goes through connector.py (a "cmd:" guestfwd rule),
so a sink that is not up refuses each connection, and one that comes up is
reached by the next attempt. The sink is tests/integration/sink.py; it
records every request with its headers.

  sinkdown  The firmware enqueues --count alerts while no sink listens.
            Once it has failed at least two attempts (the connector logged
            them as refused), the sink is started. Every alert must then
            arrive exactly once, counted by Idempotency-Key, in enqueue
            order, byte for byte as enqueued, and the firmware exit 0 with
            nothing pending.
  kill      The sink answers slowly (slow-head). QEMU is killed with SIGKILL
            once the firmware has reported its first delivery and the
            second alert's request has reached the sink, before its answer
            is complete. A second boot over the same flash file, enqueuing
            nothing, must find the rest there (the second alert included:
            its outcome was unknown), deliver them oldest first and exit 0.
            Nothing may be lost: every key arrives with its own body, and
            exactly one key arrives twice, the one in flight at the kill,
            with the same key both times, so a server can drop the copy.
  ramleft   For an image whose queue is in RAM (AP_MPS2_STORE=ram, the lean
            profile's), in place of kill: it enqueues --count alerts (at
            most 3) while no sink listens, with an 8 s flush window. It must
            fail at least one attempt, exit 6 (network) with all of them
            pending, and say that the rest is not delivered and how many
            alerts were left in RAM, lost as the run ends. A second boot,
            enqueuing nothing, with the sink up, must find an empty RAM
            queue and send nothing: no alert of the first run arrives
            later, unseen.
  resume12  Two alerts, so two connections (the firmware closes after
  resume13  each), to a TLS 1.2 (1.3) sink, from an image built with
            AP_MPS2_RESUMPTION: both arrive, in order, and the second
            connection resumes the first one's session (a TLS 1.2 session
            ticket or ID; a TLS 1.3 ticket, with a fresh ECDHE share): the
            sink's handshake says it reused the session, and the firmware's
            delivered line says "resumed", for the second only.

Exit status 0 when the case held, 1 otherwise.
"""

import argparse
import base64
import collections
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SINK = os.path.join(REPO, "tests", "integration", "sink.py")
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from run_qemu import anchors_loader, stop  # noqa: E402  (same folder)

QUEUED = re.compile(r'^alert_poster: queued seq=(\d+) key=("[0-9a-f-]+") body (.*)$', re.M)
DELIVERED = re.compile(r'^alert_poster: delivered key=("[0-9a-f-]+") attempt=\d+ status=200 ', re.M)
ATTEMPT = re.compile(r'^alert_poster: (?:attempt|re-send) \d+ key=("[0-9a-f-]+")$', re.M)
HOLDS = re.compile(r"^alert_poster: flash log \S+ holds (\d+) alert\(s\)", re.M)
HOLDS_RAM = re.compile(r"^alert_poster: RAM queue of \d+ bytes holds (\d+) alert\(s\)", re.M)
EXIT_NETWORK = 6


class Fail(Exception):
    pass


def say(msg):
    print("queue_case: " + msg, flush=True)


class Qemu:
    """One QEMU run; its UART is kept in a log and in memory for waiting."""

    def __init__(self, args, stem, semihost, uart_log):
        words = ["alert_poster"] + semihost
        conn = ("cmd:%s %s --ready-file %s --log %s"
                % (sys.executable, os.path.join(HERE, "connector.py"),
                   stem + ".ready", stem + ".conn"))
        nic = "user,model=lan9118,restrict=on,guestfwd=tcp:10.0.2.100:4433-" + conn
        cmd = [args.qemu, "-M", args.machine, "-display", "none", "-monitor", "none",
               "-serial", "stdio", "-semihosting-config",
               "enable=on,target=native," + ",".join("arg=" + w for w in words),
               "-kernel", args.kernel, "-nic", nic]
        loader = anchors_loader(os.path.join(args.pki, "root.pem"), args.kernel, args.nm,
                                stem + ".anchors.der")
        if loader is None:
            raise Fail("no __ap_anchors_start in %s" % args.kernel)
        cmd += loader
        say(" ".join(cmd))
        self.text = ""
        self.cond = threading.Condition()
        self.log = open(uart_log, "w", encoding="utf-8")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self):
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            self.log.write(line)
            self.log.flush()
            sys.stdout.write(line)
            sys.stdout.flush()
            with self.cond:
                self.text += line
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, pattern, deadline, count=1):
        """Waits until pattern matched count lines; False at the deadline or exit."""
        rx = re.compile(pattern, re.M)
        with self.cond:
            while len(rx.findall(self.text)) < count:
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.thread.is_alive()):
                    return False
                self.cond.wait(min(left, 0.5))
            return True

    def kill(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def finish(self, deadline):
        try:
            rc = self.proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            stop(self.proc)
            rc = None
        self.thread.join(timeout=5)
        self.log.close()
        return rc


def start_sink(args, stem, extra):
    cmd = [sys.executable, SINK, "--cert", os.path.join(args.pki, "ecdsa-chain.pem"),
           "--key", os.path.join(args.pki, "ecdsa.key"), "--port", "0",
           "--ready-file", stem + ".ready", "--record", stem + ".jsonl",
           "--max-seconds", str(args.timeout)] + extra
    log = open(stem + ".sink", "ab")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                            start_new_session=True)
    deadline = time.monotonic() + 15
    while not os.path.exists(stem + ".ready"):
        if time.monotonic() > deadline or proc.poll() is not None:
            stop(proc)
            raise Fail("the sink did not come up (see %s.sink)" % stem)
        time.sleep(0.05)
    return proc


def sink_requests(stem):
    """(key, body) of every request the sink recorded, in arrival order."""
    out = []
    if not os.path.exists(stem + ".jsonl"):
        return out
    with open(stem + ".jsonl", encoding="utf-8") as f:
        for line in f:
            e = json.loads(line) if line.strip() else {}
            if e.get("event") != "request":
                continue
            if e["method"] != "POST" or e["path"] != "/v1/alerts":
                raise Fail("the sink got %s %s" % (e["method"], e["path"]))
            keys = [v for k, v in e["headers"] if k.lower() == "idempotency-key"]
            if len(keys) != 1:
                raise Fail("a request carried %d Idempotency-Key headers" % len(keys))
            out.append((keys[0], base64.b64decode(e["body_b64"]).decode()))
    return out


def queued(uart, count):
    alerts = [(m.group(2), m.group(3)) for m in QUEUED.finditer(uart)]
    if len(alerts) != count or len({k for k, _ in alerts}) != count:
        raise Fail("the firmware queued %d alert(s) with %d distinct key(s), expected %d"
                   % (len(alerts), len({k for k, _ in alerts}), count))
    return alerts


def check_bodies(alerts, requests):
    bodies = dict(alerts)
    for key, body in requests:
        if key not in bodies:
            raise Fail("the sink got key %s, which the firmware never queued" % key)
        if body != bodies[key]:
            raise Fail("key %s arrived with body %r, queued as %r" % (key, body, bodies[key]))


def case_sinkdown(args, stem, seq, deadline):
    qemu = Qemu(args, stem, ["seq=%d" % seq, "count=%d" % args.count,
                             "flash=" + stem + ".flash", "window=%d" % int(args.timeout * 0.6)], stem + ".log")
    sink = None
    try:
        if not qemu.wait_for(r"^alert_poster: attempt 2 failed", deadline):
            raise Fail("no two failed attempts while the sink was down")
        with open(stem + ".conn", encoding="utf-8") as f:
            refused = f.read().count(" refused")
        if refused < 2:
            raise Fail("the connector refused %d connection(s): the sink-down phase "
                       "tested nothing" % refused)
        say("%d connection(s) refused; starting the sink" % refused)
        sink = start_sink(args, stem, [])
        rc = qemu.finish(deadline)
    finally:
        stop(qemu.proc)
        stop(sink)
    if rc != 0:
        raise Fail("firmware exit %s, expected 0" % rc)
    alerts = queued(qemu.text, args.count)
    requests = sink_requests(stem)
    check_bodies(alerts, requests)
    counts = collections.Counter(k for k, _ in requests)
    if sorted(counts.values()) != [1] * args.count:
        raise Fail("counted by Idempotency-Key the sink got %s, expected each of %d once"
                   % (dict(counts), args.count))
    if [k for k, _ in requests] != [k for k, _ in alerts]:
        raise Fail("delivery order %s is not enqueue order" % [k for k, _ in requests])
    if not re.search(r"^alert_poster: summary queued=%d delivered=%d .* pending=0 "
                     % (args.count, args.count), qemu.text, re.M):
        raise Fail("the summary line does not say %d queued, %d delivered, none pending"
                   % (args.count, args.count))
    say("%d alerts queued while the sink was down arrived once each, in order"
        % args.count)


def case_kill(args, stem, seq, deadline):
    flash = "flash=" + stem + ".flash"
    sink = start_sink(args, stem, ["--mode", "slow-head", "--slow-delay", "0.02"])
    try:
        first = Qemu(args, stem, ["seq=%d" % seq, "count=%d" % args.count, flash],
                     stem + ".log")
        try:
            if not first.wait_for(DELIVERED.pattern, deadline):
                raise Fail("the first boot delivered nothing before the deadline")
            # The second alert's request has reached the sink, whose answer
            # comes a byte at a time: killed now, its outcome is unknown.
            while len(sink_requests(stem)) < 2:
                if time.monotonic() > deadline or first.proc.poll() is not None:
                    raise Fail("the second request never reached the sink")
                time.sleep(0.01)
            first.kill()
        finally:
            stop(first.proc)
        first.finish(deadline)
        say("first boot killed after its first delivery")
        alerts = queued(first.text, args.count)
        done_first = DELIVERED.findall(first.text)
        started = ATTEMPT.findall(first.text)
        in_flight = [k for k in started if k not in done_first][-1:]
        second = Qemu(args, stem, ["count=0", flash],
                      stem + ".log2")
        rc = second.finish(deadline)
    finally:
        stop(sink)
    if rc != 0:
        raise Fail("second boot exit %s, expected 0" % rc)
    m = HOLDS.search(second.text)
    if m is None or int(m.group(1)) < 1:
        raise Fail("the second boot found %s alert(s) in flash: the kill came too late to "
                   "test anything" % (m.group(1) if m else "no count of"))
    done_second = DELIVERED.findall(second.text)
    expect_left = [k for k, _ in alerts if k not in done_first]
    if done_second != expect_left:
        raise Fail("the second boot delivered %s, expected %s (the rest, oldest first)"
                   % (done_second, expect_left))
    requests = sink_requests(stem)
    check_bodies(alerts, requests)
    counts = collections.Counter(k for k, _ in requests)
    missing = [k for k, _ in alerts if counts[k] == 0]
    if missing:
        raise Fail("lost: the sink never got %s" % missing)
    dups = sorted(k for k, n in counts.items() if n > 1)
    if len(in_flight) != 1 or dups != in_flight or counts[in_flight[0]] != 2:
        raise Fail("duplicates %s (counts %s): the alert in flight at the kill %s, and only "
                   "it, must arrive twice, with its own key" % (dups, dict(counts), in_flight))
    say("killed after %d delivery(ies); the second boot found %s and delivered %d; "
        "duplicates by key: %s" % (len(done_first), m.group(1), len(done_second),
                                   dups or "none"))


def case_ramleft(args, stem, seq, deadline):
    count = min(args.count, 3)
    first = Qemu(args, stem, ["seq=%d" % seq, "count=%d" % count, "window=8"], stem + ".log")
    try:
        rc = first.finish(deadline)
    finally:
        stop(first.proc)
    if rc != EXIT_NETWORK:
        raise Fail("firmware exit %s with the sink down, expected %d" % (rc, EXIT_NETWORK))
    m = HOLDS_RAM.search(first.text)
    if m is None or m.group(1) != "0":
        raise Fail("the first boot did not report an empty RAM queue")
    queued(first.text, count)
    with open(stem + ".conn", encoding="utf-8") as f:
        refused = f.read().count(" refused")
    if refused < 1 or DELIVERED.search(first.text):
        raise Fail("%d connection(s) refused and a delivery: the sink-down phase tested "
                   "nothing" % refused)
    for line in (r"^alert_poster: flush window of \d+ ms over; the rest is not delivered$",
                 r"^alert_poster: summary queued=%d delivered=0 .* pending=%d " % (count, count),
                 r"^alert_poster: NOT delivered: %d alert\(s\) left in RAM, lost as this "
                 r"run ends$" % count):
        if not re.search(line, first.text, re.M):
            raise Fail("no line %r: the firmware did not say what was not delivered" % line)
    say("%d alerts reported as not delivered after %d refused connection(s)"
        % (count, refused))
    sink = start_sink(args, stem, [])
    try:
        second = Qemu(args, stem, ["count=0"], stem + ".log2")
        rc = second.finish(deadline)
    finally:
        stop(second.proc)
        stop(sink)
    m = HOLDS_RAM.search(second.text)
    if rc != 0 or m is None or m.group(1) != "0":
        raise Fail("second boot exit %s, RAM queue %s: expected 0 and an empty queue"
                   % (rc, m.group(1) if m else "not reported"))
    if sink_requests(stem):
        raise Fail("the sink got %s from a boot that queued nothing" % sink_requests(stem))
    say("the second boot found an empty RAM queue and sent nothing")


def case_resume(args, stem, seq, deadline):
    version = "1.2" if args.case == "resume12" else "1.3"
    sink = start_sink(args, stem, ["--tls-min", version, "--tls-max", version])
    qemu = None
    try:
        qemu = Qemu(args, stem, ["seq=%d" % seq, "count=2", "flash=" + stem + ".flash"],
                    stem + ".log")
        rc = qemu.finish(deadline)
    finally:
        if qemu is not None:
            stop(qemu.proc)
        stop(sink)
    if rc != 0:
        raise Fail("firmware exit %s, expected 0" % rc)
    alerts = queued(qemu.text, 2)
    requests = sink_requests(stem)
    check_bodies(alerts, requests)
    if [k for k, _ in requests] != [k for k, _ in alerts]:
        raise Fail("the sink got %s, the firmware queued %s" % (requests, alerts))
    with open(stem + ".jsonl", encoding="utf-8") as f:
        oks = [e for e in (json.loads(line) for line in f if line.strip())
               if e.get("event") == "handshake_ok"]
    if len(oks) != 2 or len({e["conn"] for e in oks}) != 2:
        raise Fail("expected two handshakes on two connections, the sink saw %r" % oks)
    if [e.get("version") for e in oks] != ["TLSv" + version] * 2:
        raise Fail("handshakes %r, expected TLS %s" % (oks, version))
    if [e.get("resumed") for e in oks] != [False, True]:
        raise Fail("the sink's handshakes resumed %r, expected [False, True]"
                   % [e.get("resumed") for e in oks])
    said = re.findall(r"^alert_poster: delivered key=\S+ attempt=1 status=200 .* ms(, resumed)?$",
                      qemu.text, re.M)
    if said != ["", ", resumed"]:
        raise Fail("the firmware reported resumption %r, expected the second only" % said)
    say("two alerts over two TLS %s connections, the second resumed" % version)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", required=True, choices=("sinkdown", "kill", "ramleft", "resume12",
                                                     "resume13"))
    ap.add_argument("--machine", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--pki", required=True, help="directory made by pki.py")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--count", type=int, default=5)
    ap.add_argument("--qemu", default="qemu-system-arm")
    ap.add_argument("--nm", default="arm-none-eabi-nm",
                    help="to find the image's trust-anchor region")
    ap.add_argument("--timeout", type=float, default=150.0)
    args = ap.parse_args()
    args.pki = os.path.abspath(args.pki)
    os.makedirs(args.workdir, exist_ok=True)
    stem = os.path.abspath(os.path.join(args.workdir, "queue_%s_%s" % (args.case, args.machine)))
    for ext in (".flash", ".ready", ".jsonl", ".conn", ".log", ".log2", ".sink"):
        if os.path.exists(stem + ext):
            os.remove(stem + ext)
    deadline = time.monotonic() + args.timeout
    try:
        case = {"sinkdown": case_sinkdown, "kill": case_kill,
                "ramleft": case_ramleft}.get(args.case, case_resume)
        case(args, stem, random.randint(1, 10**9), deadline)
    except Fail as e:
        say("FAIL: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
