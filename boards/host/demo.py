#!/usr/bin/env python3
"""The alertpost demo: what `cmake --workflow --preset demo` shows.

1. Makes a throw-away PKI (tests/integration/pki.py) and starts a local HTTPS
   alert sink on 127.0.0.1 that speaks TLS 1.2 and 1.3.
2. Posts an alert with the alertpost CLI and shows what the sink received.
3. Starts a sink that speaks only TLS 1.0 and shows, side by side:
   - a naive client on Mbed TLS 2.28 with the library's defaults (no minimum
     version set, as the original alert client had) completing TLS 1.0;
   - alertpost, on the same Mbed TLS 2.28 build, refusing it (exit 4), and
     the sink receiving nothing.
Everything stays on loopback; every process is bounded in time.

4. Boots the Cortex-M firmware (mps2-an385) under QEMU, with user-mode
   networking restricted to a forward of the sink on the host's loopback, and
   shows its alert arriving over lwIP and TLS; then the same firmware refusing
   a TLS 1.0-only sink.

usage: demo.py ALERTPOST ALERTPOST_MBEDTLS2 LEGACY_CLIENT WORKDIR [FIRMWARE_ELF]
"""

import base64
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.join(HERE, "..", "..", "tests", "integration")


def say(text=""):
    print(text, flush=True)


def start_sink(work, pki, name, tls_min, tls_max):
    ready = os.path.join(work, name + ".port")
    record = os.path.join(work, name + ".jsonl")
    for path in (ready, record):
        if os.path.exists(path):
            os.remove(path)
    argv = [sys.executable, os.path.join(TESTS, "sink.py"),
            "--cert", os.path.join(pki, "ecdsa-chain.pem"),
            "--key", os.path.join(pki, "ecdsa.key"),
            "--tls-min", tls_min, "--tls-max", tls_max,
            "--port", "0", "--ready-file", ready, "--record", record,
            "--max-seconds", "30"]
    if tls_min in ("1.0", "1.1"):
        argv += ["--ciphers", "DEFAULT@SECLEVEL=0"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not os.path.exists(ready):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise SystemExit("demo: the sink did not start")
        time.sleep(0.05)
    with open(ready) as f:
        port = int(f.read().split()[-1])
    return proc, port, record


def pin(port):
    """--resolve for the sink: the certificate is for "localhost", the sink
    listens on 127.0.0.1, and the demo must not depend on /etc/hosts."""
    return "localhost:%d:127.0.0.1" % port


def events(record):
    if not os.path.exists(record):
        return []
    with open(record) as f:
        return [json.loads(line) for line in f if line.strip()]


LAST_ERROR = {}


def run(argv, stdin=None):
    shown = " ".join(a if " " not in a else "'" + a + "'" for a in argv)
    say("$ " + shown.replace(os.path.dirname(argv[0]) + "/", ""))
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=30)
    for line in (p.stdout + p.stderr).splitlines():
        say("  " + line)
    say("  (exit %d)" % p.returncode)
    errs = [l for l in p.stderr.splitlines() if l.startswith("alertpost: ")]
    LAST_ERROR["text"] = errs[-1][len("alertpost: "):] if errs else ""
    return p.returncode


def main():
    alertpost, alertpost2, legacy, work = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    pki = os.path.join(work, "pki")
    subprocess.run([sys.executable, os.path.join(TESTS, "pki.py"), pki], check=True,
                   stdout=subprocess.DEVNULL, timeout=120)
    ca = os.path.join(pki, "root.pem")
    failures = []
    story = []  # the recap printed last, where a person reads it

    say("== 1. An alert, posted to a local HTTPS sink that speaks TLS 1.2 and 1.3")
    sink, port, record = start_sink(work, pki, "modern", "1.2", "1.3")
    try:
        alert = '{"device":"demo-host","seq":1,"level":"critical","text":"disk 97% full"}'
        rc = run([alertpost, "-v", "--cacert", ca, "--resolve", pin(port), "-d", alert,
                  "https://localhost:%d/v1/alerts" % port])
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    got = [e for e in events(record) if e["event"] == "request"]
    if rc == 0 and len(got) == 1:
        body = base64.b64decode(got[0]["body_b64"]).decode()
        say("  the sink received: %s %s %s" % (got[0]["method"], got[0]["path"], body))
        story.append("DELIVERED  the alert reached the TLS 1.2/1.3 sink over %s (exit 0)"
                     % next((e["version"] for e in events(record)
                             if e["event"] == "handshake_ok"), "TLS"))
        if body != alert:
            failures.append("the sink received a different body")
    else:
        failures.append("the alert was not delivered (exit %d)" % rc)

    say()
    say("== 2. A server that offers only TLS 1.0")
    sink, port, record = start_sink(work, pki, "tls10", "1.0", "1.0")
    try:
        say("-- the original failure: a client on Mbed TLS 2.28 with the library's")
        say("   defaults (it never sets a minimum version) is talked down to TLS 1.0:")
        legacy_rc = run([legacy, ca, str(port), "localhost"])
        say("-- alertpost on the same Mbed TLS 2.28 build refuses it:")
        rc2 = run([alertpost2, "--cacert", ca, "--resolve", pin(port), "-d", '{"seq":2}',
                   "https://localhost:%d/v1/alerts" % port])
        why2 = LAST_ERROR["text"]
        say("-- and so does alertpost on Mbed TLS 3.6:")
        rc3 = run([alertpost, "--cacert", ca, "--resolve", pin(port), "-d", '{"seq":3}',
                   "https://localhost:%d/v1/alerts" % port])
        story.append("TALKED DOWN  the naive Mbed TLS 2.28 client accepted TLS 1.0 (exit %d)"
                     % legacy_rc)
        story.append("REFUSED    alertpost (2.28: exit %d, 3.6: exit %d): %s" % (rc2, rc3, why2))
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    got = [e for e in events(record) if e["event"] == "request"]
    say("  requests the TLS 1.0 sink received from alertpost: %d" % len(got))
    if legacy_rc != 0:
        failures.append("the naive 2.28 client did not complete TLS 1.0 (exit %d)" % legacy_rc)
    if rc2 != 4 or rc3 != 4:
        failures.append("alertpost did not refuse TLS 1.0 with exit 4 (%d, %d)" % (rc2, rc3))
    if got:
        failures.append("the TLS 1.0 sink received a request")

    if len(sys.argv) > 5:
        say()
        say("== 3. The same poster on a Cortex-M3 (QEMU mps2-an385, lwIP, LAN9118)")
        elf = sys.argv[5]
        if not os.path.exists(elf):
            say("  no firmware at %s (needs arm-none-eabi-gcc and qemu-system-arm)" % elf)
            if os.environ.get("CI", "").lower() == "true":
                failures.append("no firmware to boot (cmake/setup.sh installs the toolchain)")
            else:
                story.append("SKIPPED    the firmware part: no firmware was built")
        else:
            for case, want in (("tls12", "delivered"), ("tls10", "refused")):
                say("-- %s sink:" % ("a TLS 1.2" if case == "tls12" else "a TLS 1.0-only"))
                p = subprocess.run(
                    [sys.executable, os.path.join(HERE, "..", "..", "tests", "qemu", "alert_case.py"),
                     "--case", case, "--machine", "mps2-an385", "--kernel", elf,
                     "--pki", pki, "--workdir", os.path.join(work, "qemu")],
                    capture_output=True, text=True, timeout=180)
                for line in (p.stdout + p.stderr).splitlines():
                    if line.startswith("alert_poster:") or line.startswith("alert_case:"):
                        say("  " + line)
                if p.returncode != 0:
                    failures.append("the firmware case %s did not hold" % case)
                else:
                    say("  (%s, as expected)" % want)
                    story.append("%-10s the Cortex-M3 firmware under QEMU, %s sink" % (
                        want.upper(), "TLS 1.2" if case == "tls12" else "TLS 1.0-only"))

    say()
    say("== What happened")
    for line in story:
        say("  " + line)
    say()
    if failures:
        for f in failures:
            say("demo: FAILED: " + f)
        return 1
    say("demo: the alert was delivered over TLS 1.2+, and TLS 1.0 was refused with nothing sent.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
