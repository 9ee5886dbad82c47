#!/usr/bin/env python3
"""One alert_poster scenario of the SNTP wall clock under QEMU, sealed in a
network namespace.

    sntp_case.py --case accept --machine mps2-an385 --kernel alert_poster.elf \\
        --build-time SECONDS --pki DIR --workdir DIR [--qemu qemu-system-arm] \\
        [--timeout 60]

The firmware is an AP_MPS2_TIME=sntp image; --build-time is its build time
(the earliest time it accepts), which the build passes. QEMU's user network
carries no UDP to the host, so each case makes its own network namespace
with a TAP device (10.0.2.100/24 on the host side), runs QEMU on that TAP
inside it, and answers the guest itself: dhcp_server.py (10.0.2.15, NTP
server 10.0.2.100 as option 42, so the firmware finds its server the way a
board on a LAN does), sntp_server.py (a fixed time this script chooses),
and the HTTPS sink (tests/integration/sink.py, on the namespace's loopback,
reached through tcp_forward.py at 10.0.2.100:4433). Nothing leaves the
namespace; it is deleted at the end.

Cases:
  accept       SNTP answers host time + 2 days (inside the leaf's validity,
               and not the host's clock) -> the firmware logs that time as
               accepted, exit 0, the alert delivered over TLS
  early        SNTP answers the build time - 1 day -> refused as earlier
               than the build time; TLS refused (time unknown), exit 5,
               no request reaches the sink
  future       SNTP answers the build time + 21 years -> refused as past
               the 20-year horizon; exit 5, no request
  certexpired  SNTP answers the leaf's notAfter + 2 days -> accepted, and
               the handshake refuses the leaf as expired: the certificate
               dates are checked against the SNTP time; exit 5, no request
  configured   as accept, but DHCP names no NTP server (as QEMU's own DHCP)
               and the firmware is given one (ntp=10.0.2.100)

Exit status 0 when the case held, 1 when it did not, 77 (skipped) when this
host cannot make the namespace or the TAP device (not root, no
/dev/net/tun, no `ip`, a QEMU without TAP networking).
"""

import argparse
import base64
import datetime
import os
import random
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from alert_case import SINK, read_events  # noqa: E402  (same folder)
from run_qemu import anchors_loader, stop  # noqa: E402

EXIT_SKIP = 77
EXIT_DELIVERED, EXIT_CERT = 0, 5
HOST_ADDR, GUEST_ADDR, TAP = "10.0.2.100", "10.0.2.15", "aptap0"
DAY = 86400
YEAR = 31557600  # 365.25 days

CASES = ("accept", "early", "future", "certexpired", "configured")


def say(msg):
    print("sntp_case: " + msg, flush=True)


def fail(msg):
    say("FAIL: " + msg)
    return 1


def skip(msg):
    say("SKIP: " + msg)
    return EXIT_SKIP


def leaf_not_after(pem):
    """The leaf's notAfter, seconds since 1970 (openssl, as pki.py uses)."""
    out = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", pem],
                         check=True, capture_output=True, text=True).stdout
    when = out.strip().split("=", 1)[1]
    dt = datetime.datetime.strptime(when, "%b %d %H:%M:%S %Y GMT")
    return int(dt.replace(tzinfo=datetime.timezone.utc).timestamp())


class Namespace:
    """A network namespace with one TAP device, deleted on close()."""

    def __init__(self):
        self.name = "apsntp%d" % os.getpid()
        self.procs = []

    def ip(self, *words):
        return subprocess.run(["ip", "netns", "exec", self.name, "ip"] + list(words),
                              capture_output=True, text=True)

    @staticmethod
    def remove_stale():
        """Deletes namespaces of earlier runs that were killed before their
        cleanup (named after a process that no longer exists)."""
        r = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
        for m in re.finditer(r"^apsntp(\d+)\b", r.stdout, re.M):
            if not os.path.exists("/proc/" + m.group(1)):
                subprocess.run(["ip", "netns", "del", "apsntp" + m.group(1)],
                               capture_output=True)

    def open(self):
        self.remove_stale()
        r = subprocess.run(["ip", "netns", "add", self.name], capture_output=True, text=True)
        if r.returncode != 0:
            return "ip netns add failed: " + r.stderr.strip()
        for words in (("link", "set", "lo", "up"),
                      ("tuntap", "add", "dev", TAP, "mode", "tap"),
                      ("addr", "add", HOST_ADDR + "/24", "dev", TAP),
                      ("link", "set", TAP, "up")):
            r = self.ip(*words)
            if r.returncode != 0:
                return "ip %s failed: %s" % (" ".join(words), r.stderr.strip())
        return None

    def start(self, cmd, log_path):
        """Starts cmd inside the namespace, its output to log_path."""
        log = open(log_path, "wb")
        proc = subprocess.Popen(["ip", "netns", "exec", self.name] + cmd,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        log.close()
        self.procs.append(proc)
        return proc

    def close(self):
        for proc in reversed(self.procs):
            stop(proc)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


def wait_line(proc, log_path, pattern, timeout):
    """The first match of pattern in log_path, waiting (bounded) for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            m = re.search(pattern, f.read(), re.M)
        if m:
            return m
        if proc.poll() is not None:
            return None
        time.sleep(0.1)
    return None


def choose_time(case, build_time, pki):
    now = int(time.time())
    if case in ("accept", "configured"):
        return now - now % 60 + 2 * DAY
    if case == "early":
        return build_time - DAY
    if case == "future":
        return build_time + 21 * YEAR
    return leaf_not_after(os.path.join(pki, "ecdsa.pem")) + 2 * DAY


def check_refused(case, rc, uart, requests, answer):
    if rc != EXIT_CERT:
        return fail("exit status %d, expected %d (certificate)" % (rc, EXIT_CERT))
    if requests:
        return fail("the sink received %d request(s) although TLS was refused" % len(requests))
    verdict = re.search(r"^alert_poster: FAILED status=\S+ (.*)$", uart, re.M)
    if verdict is None:
        return fail("no FAILED verdict line on the UART")
    line = re.search(r"^time: sntp answer %d \(\S+\) (.*)$" % answer, uart, re.M)
    if line is None:
        return fail("the firmware did not log the SNTP answer %d" % answer)
    why = {"early": "refused: earlier than the firmware's build time",
           "future": "refused: later than ",
           "certexpired": "accepted: the clock is set"}[case]
    if not line.group(1).startswith(why):
        return fail("the answer's verdict was %r, expected %r" % (line.group(1), why))
    cause = "has expired" if case == "certexpired" else "does not know the time"
    if cause not in verdict.group(1):
        return fail("the TLS refusal does not say %r: %s" % (cause, verdict.group(1)))
    say("refused as expected: %s / %s" % (line.group(1), verdict.group(1)))
    return 0


def check_delivered(rc, uart, requests, seq):
    if rc != EXIT_DELIVERED:
        return fail("exit status %d, expected 0" % rc)
    m = re.search(r"^alert_poster: queued seq=(\d+) key=(\S+) body (.*)$", uart, re.M)
    if m is None or int(m.group(1)) != seq:
        return fail("the firmware did not queue the alert seq=%d" % seq)
    key, printed = m.group(2), m.group(3).encode()
    if not re.search(r"^alert_poster: delivered key=%s attempt=\d+ status=200 tls=TLS 1\.[23] "
                     % re.escape(key), uart, re.M):
        return fail("no delivered verdict line for key %s" % key)
    if len(requests) != 1:
        return fail("the sink recorded %d requests, expected exactly 1" % len(requests))
    req = requests[0]
    if req["method"] != "POST" or req["path"] != "/v1/alerts":
        return fail("request was %s %s" % (req["method"], req["path"]))
    if base64.b64decode(req["body_b64"]) != printed:
        return fail("the sink received another body than the firmware queued")
    return 0


def run(args, ns, stem, answer, seq):
    configured = args.case == "configured"
    record, uart_log = stem + ".jsonl", stem + ".log"
    sink_log = stem + ".sink.log"
    sink = ns.start([sys.executable, SINK, "--cert", os.path.join(args.pki, "ecdsa-chain.pem"),
                     "--key", os.path.join(args.pki, "ecdsa.key"), "--port", "0",
                     "--record", record, "--max-seconds", str(args.timeout)], sink_log)
    port = wait_line(sink, sink_log, r"^PORT (\d+)\s*$", 10)
    if port is None:
        return fail("the sink did not start (see %s)" % sink_log)
    helpers = (
        ([os.path.join(HERE, "tcp_forward.py"), "--listen", HOST_ADDR + ":4433",
          "--to", port.group(1)], "forward"),
        ([os.path.join(HERE, "dhcp_server.py"), "--iface", TAP, "--server", HOST_ADDR,
          "--client", GUEST_ADDR, "--ntp", "" if configured else HOST_ADDR], "dhcp"),
        ([os.path.join(HERE, "sntp_server.py"), "--bind", HOST_ADDR, "--time", str(answer)],
         "sntp"))
    for cmd, name in helpers:
        path = "%s.%s.log" % (stem, name)
        proc = ns.start([sys.executable] + cmd + ["--lifetime", str(args.timeout)], path)
        if wait_line(proc, path, r"^READY$", 10) is None:
            return fail("%s did not start (see %s)" % (name, path))

    semi = "enable=on,target=native,arg=alert_poster"
    for w in ("seq=%d" % seq, "flash=" + os.path.abspath(stem + ".flash")) + (
                  ("ntp=" + HOST_ADDR,) if configured else ()):
        semi += ",arg=" + w.replace(",", ",,")
    # timeout(1): should this script be killed, QEMU still ends.
    qemu_cmd = ["timeout", "-s", "KILL", "%d" % (args.timeout + 10),
                args.qemu, "-M", args.machine, "-display", "none", "-monitor", "none",
                "-serial", "stdio", "-semihosting-config", semi, "-kernel", args.kernel,
                "-nic", "tap,model=lan9118,ifname=%s,script=no,downscript=no" % TAP]
    loader = anchors_loader(os.path.join(args.pki, "root.pem"), args.kernel, args.nm,
                            stem + ".anchors.der")
    if loader is None:
        return fail("no __ap_anchors_start in %s" % args.kernel)
    qemu_cmd += loader
    say(" ".join(qemu_cmd[4:]))
    qemu = ns.start(qemu_cmd, uart_log)
    try:
        rc = qemu.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return fail("QEMU did not exit in %.0f s" % args.timeout)
    with open(uart_log, encoding="utf-8", errors="replace") as f:
        uart = f.read()
    sys.stdout.write(uart)
    with open(stem + ".sntp.log", encoding="utf-8") as f:
        served = f.read()
    requests = [e for e in read_events(record) if e.get("event") == "request"]
    say("firmware exit %d; sink requests %d; sntp server: %s"
        % (rc, len(requests), served.strip().replace("\n", " | ")))

    if not re.search(r"^answered %s:\d+ with %d$" % (re.escape(GUEST_ADDR), answer), served, re.M):
        return fail("the SNTP server never answered the guest")
    source = "configured" if configured else "from DHCP"
    if not re.search(r"^time: asking NTP server %s \(%s\)$" % (re.escape(HOST_ADDR), source),
                     uart, re.M):
        return fail("the firmware did not take its NTP server %s" % source)
    if args.case not in ("accept", "configured"):
        return check_refused(args.case, rc, uart, requests, answer)
    if not re.search(r"^time: sntp answer %d \(\S+\) accepted: the clock is set$" % answer,
                     uart, re.M):
        return fail("the firmware did not log the SNTP time %d as accepted" % answer)
    return check_delivered(rc, uart, requests, seq)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", required=True, choices=CASES)
    ap.add_argument("--machine", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--build-time", type=int, required=True,
                    help="the image's build time, seconds since 1970")
    ap.add_argument("--pki", required=True, help="directory made by pki.py")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--qemu", default="qemu-system-arm")
    ap.add_argument("--nm", default="arm-none-eabi-nm",
                    help="to find the image's trust-anchor region")
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args()

    if os.geteuid() != 0:
        return skip("network namespaces and TAP devices need root")
    if not os.path.exists("/dev/net/tun") or shutil.which("ip") is None:
        return skip("no /dev/net/tun or no ip(8)")
    helps = subprocess.run([args.qemu, "-M", "none", "-display", "none", "-netdev", "help"],
                           capture_output=True, text=True)
    if "tap" not in helps.stdout.split():
        return skip("%s has no TAP networking" % args.qemu)

    os.makedirs(args.workdir, exist_ok=True)
    stem = os.path.join(args.workdir, "sntp_%s_%s" % (args.case, args.machine))
    for suffix in (".jsonl", ".log", ".flash"):
        if os.path.exists(stem + suffix):
            os.remove(stem + suffix)
    answer = choose_time(args.case, args.build_time, args.pki)
    say("case %s: the SNTP server answers %d (%s); build time %d"
        % (args.case, answer, datetime.datetime.fromtimestamp(answer, datetime.timezone.utc)
           .isoformat(), args.build_time))
    ns = Namespace()
    try:
        why = ns.open()
        if why is not None:
            return skip(why)
        return run(args, ns, stem, answer, random.randint(1, 10**9))
    finally:
        ns.close()


if __name__ == "__main__":
    sys.exit(main())
