#!/usr/bin/env python3
"""One alert_poster scenario under QEMU against the HTTPS test sink.

    alert_case.py --case tls12 --machine mps2-an385 --kernel alert_poster.elf \\
        --pki DIR --workdir DIR [--mbedtls-major 3] [--qemu qemu-system-arm] \\
        [--timeout 90]

Cases (the sink is tests/integration/sink.py; certificates from pki.py DIR):
  tls12      sink TLS 1.2 only          -> exit 0, delivered over TLS 1.2
  tls13      sink TLS 1.3 only          -> exit 0, delivered over TLS 1.3
  rsa        RSA leaf, sink TLS 1.3 only -> exit 0, delivered over TLS 1.3
             (RSA-PSS CertificateVerify)
  rsa12      RSA leaf, sink TLS 1.2 only -> exit 0, delivered over TLS 1.2:
             the sink (OpenSSL) signs its ServerKeyExchange with RSA-PSS,
             which Mbed TLS 3.6.0 to 3.6.6 refuse in TLS 1.2
             (Mbed-TLS/mbedtls#10668) unless built with alertpost's fix
             (cmake/ApMbedTLSFixes.cmake), as this firmware is. A 2.28
             firmware offers no PSS, gets PKCS#1 v1.5.
  tls10      sink TLS 1.0 only          -> exit 4 (version), no request
  expired    expired leaf               -> exit 5 (certificate), no request
  wronghost  leaf for wrong.example     -> exit 5 (certificate), no request
  late       sink starts 3 s after QEMU (relay.py) -> exit 0 after a retry
  noentropy  firmware without an entropy source -> exit 7, nothing sent

--mbedtls-major says which Mbed TLS line the firmware was built with (the
build passes it). A 2.28 firmware has no TLS 1.3: against a TLS 1.3-only
sink (tls13, rsa) its policy offers nothing the sink accepts, so those cases
expect exit 4 (version) and no request, and every delivery must be over
TLS 1.2.

For a delivery it asserts that the sink recorded exactly one request, a
POST to /v1/alerts, whose body is byte for byte the body the firmware
queued, carrying the sequence number this script chose and the
Idempotency-Key the firmware printed when it queued the alert; for a
refusal, that the sink recorded no request at all. Each run has its own
flash file (flash=), removed first, so no alert of an earlier run is sent. Exit status 0 when the case
held, 1 otherwise.
"""

import argparse
import base64
import json
import os
import random
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SINK = os.path.join(REPO, "tests", "integration", "sink.py")

# Firmware exit statuses (boards/mps2/apps/alert_poster.c).
EXIT_DELIVERED, EXIT_VERSION, EXIT_CERT, EXIT_ENTROPY, EXIT_TLS = 0, 4, 5, 7, 10

CASES = {
    #            cert chain,              sink options,                         exit,            tls
    "tls12":     ("ecdsa-chain.pem", ["--tls-min", "1.2", "--tls-max", "1.2"], EXIT_DELIVERED, "TLS 1.2"),
    "tls13":     ("ecdsa-chain.pem", ["--tls-min", "1.3", "--tls-max", "1.3"], EXIT_DELIVERED, "TLS 1.3"),
    "rsa":       ("rsa-chain.pem",   ["--tls-min", "1.3", "--tls-max", "1.3"], EXIT_DELIVERED, "TLS 1.3"),
    "rsa12":     ("rsa-chain.pem",   ["--tls-min", "1.2", "--tls-max", "1.2"], EXIT_DELIVERED, "TLS 1.2"),
    "tls10":     ("ecdsa-chain.pem", ["--tls-min", "1.0", "--tls-max", "1.0",
                                      "--ciphers", "DEFAULT@SECLEVEL=0"],       EXIT_VERSION,   None),
    "expired":   ("expired-chain.pem", [],                                      EXIT_CERT,      None),
    "wronghost": ("wronghost-chain.pem", [],                                    EXIT_CERT,      None),
    "late":      ("ecdsa-chain.pem", [],                                        EXIT_DELIVERED, None),
    "noentropy": ("ecdsa-chain.pem", [],                                        EXIT_ENTROPY,   None),
}


def expectation(case, mbedtls_major):
    """(chain, sink options, exit status, TLS version or None) for a case."""
    chain, sink_opts, want_exit, want_tls = CASES[case]
    if mbedtls_major == 2:
        if sink_opts[:2] == ["--tls-min", "1.3"]:
            return chain, sink_opts, EXIT_VERSION, None
        if want_exit == EXIT_DELIVERED:
            return chain, sink_opts, want_exit, "TLS 1.2"
    return chain, sink_opts, want_exit, want_tls


def fail(msg):
    print("alert_case: FAIL: " + msg, flush=True)
    return 1


def read_events(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--machine", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--pki", required=True, help="directory made by pki.py")
    ap.add_argument("--workdir", required=True, help="for logs and the sink's record")
    ap.add_argument("--mbedtls-major", type=int, choices=(2, 3), default=3,
                    help="Mbed TLS line of the firmware (2 = 2.28, TLS 1.2 only)")
    ap.add_argument("--qemu", default="qemu-system-arm")
    ap.add_argument("--timeout", type=float, default=90.0)
    args = ap.parse_args()

    chain, sink_opts, want_exit, want_tls = expectation(args.case, args.mbedtls_major)
    os.makedirs(args.workdir, exist_ok=True)
    stem = os.path.join(args.workdir, "alert_%s_%s" % (args.case, args.machine))
    record = stem + ".jsonl"
    uart_log = stem + ".log"
    flash = stem + ".flash"
    for p in (record, uart_log, flash):
        if os.path.exists(p):
            os.remove(p)
    seq = random.randint(1, 10**9)

    sink = [sys.executable, SINK, "--cert", os.path.join(args.pki, chain),
            "--key", os.path.join(args.pki, "rsa.key" if chain.startswith("rsa") else "ecdsa.key"),
            "--port", "0", "--record", record, "--max-seconds", str(args.timeout)] + sink_opts
    if args.case == "late":
        server = [sys.executable, os.path.join(HERE, "relay.py"), "--delay", "3",
                  "--lifetime", str(args.timeout), "--"] + sink
    else:
        server = sink

    semi = ["ca=" + os.path.join(os.path.abspath(args.pki), "root.pem"), "seq=%d" % seq,
            "flash=" + os.path.abspath(flash)]
    if args.case == "noentropy":
        semi.append("entropy=none")
    cmd = [sys.executable, os.path.join(HERE, "run_qemu.py"), "--qemu", args.qemu,
           "--machine", args.machine, "--kernel", args.kernel, "--log", uart_log,
           "--timeout", str(args.timeout)]
    for w in semi:
        cmd += ["--semihost-arg", w]
    cmd += ["--"] + server
    rc = subprocess.call(cmd)

    with open(uart_log, encoding="utf-8", errors="replace") as f:
        uart = f.read()
    events = read_events(record)
    requests = [e for e in events if e.get("event") == "request"]
    print("alert_case: firmware exit %d (want %d); sink recorded %s"
          % (rc, want_exit, [e.get("event") for e in events]), flush=True)
    for m in re.finditer(r"^alert_poster: ((tls pool|stack) high water|heap ).*$", uart, re.M):
        print("alert_case: " + m.group(0), flush=True)

    if rc != want_exit:
        return fail("exit status %d, expected %d" % (rc, want_exit))
    # The firmware links no heap: nothing may have asked for one.
    heap = re.search(r"^alert_poster: heap (\d+) of (\d+) bytes, (\d+) requests refused$",
                     uart, re.M)
    if heap is None:
        return fail("the firmware did not report its heap")
    if heap.group(1) != "0" or heap.group(3) != "0":
        return fail("something allocated from the heap: " + heap.group(0))

    if want_exit != EXIT_DELIVERED:
        if requests:
            return fail("the sink received %d request(s) although the firmware refused"
                        % len(requests))
        verdict = re.search(r"^alert_poster: FAILED status=\S.*$", uart, re.M)
        if verdict is None:
            return fail("no FAILED verdict line on the UART")
        if args.case == "noentropy" and "dhcp address" in uart:
            return fail("the firmware went on to the network without entropy")
        return 0

    m = re.search(r"^alert_poster: queued seq=(\d+) key=(\S+) body (.*)$", uart, re.M)
    if m is None:
        return fail("the firmware did not print the alert it queued")
    key, printed = m.group(2), m.group(3).encode()
    v = re.search(r"^alert_poster: delivered key=(\S+) attempt=\d+ status=200 "
                  r"tls=(TLS 1\.[23]) ", uart, re.M)
    if v is None:
        return fail("no delivered verdict line")
    if v.group(1) != key:
        return fail("delivered key %s, queued key %s" % (v.group(1), key))
    if int(m.group(1)) != seq or ('"seq":%d,' % seq).encode() not in printed:
        return fail("sequence number %d not in the queued line or the body" % seq)
    if want_tls is not None and v.group(2) != want_tls:
        return fail("negotiated %s, expected %s" % (v.group(2), want_tls))
    if len(requests) != 1:
        return fail("the sink recorded %d requests, expected exactly 1" % len(requests))
    req = requests[0]
    body = base64.b64decode(req["body_b64"])
    if req["method"] != "POST" or req["path"] != "/v1/alerts":
        return fail("request was %s %s" % (req["method"], req["path"]))
    if body != printed:
        return fail("the sink received %r, the firmware printed %r" % (body, printed))
    sent_keys = [v for k, v in req["headers"] if k.lower() == "idempotency-key"]
    if sent_keys != [key]:
        return fail("the request carried Idempotency-Key %r, queued as %s" % (sent_keys, key))
    oks = [e for e in events if e.get("event") == "handshake_ok"]
    if want_tls is not None and (not oks or oks[0]["version"] != want_tls.replace("TLS ", "TLSv")):
        return fail("sink handshake %r, expected %s" % (oks, want_tls))
    if args.case == "late" and not re.search(r"^alert_poster: attempt 1 failed", uart, re.M):
        return fail("the late sink was reached without a retry: the case tested nothing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
