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
  noanchors  nothing loaded into the anchor region -> exit 8 before the
             network ("no trust anchors"), nothing sent
  mfl12      sink TLS 1.2 only, answering with a 12,000-byte body -> exit 0:
             a lean firmware (4 KiB input records) asked for
             max_fragment_length 1024, which the sink (OpenSSL) honours,
             so the body comes in records it can read
  bigchain   sink TLS 1.2 only whose chain (padded with unrelated
             certificates) makes a Certificate message over 4 KiB -> a
             lean firmware refuses it although every record fits: exit 10,
             "Nothing was sent", Mbed TLS error -0x7100 (a handshake
             message over its buffer)
  ignoremfl  the same sink behind relay.py --strip-mfl, which removes
             max_fragment_length from the ClientHello, as a server that
             ignores it: its first flight comes as one record over 4 KiB,
             which the lean firmware refuses (exit 10, the same -0x7100 and
             "Nothing was sent"), reading nothing past its buffer; the
             relay must report that it stripped the request

The trust anchor (pki.py's root) is loaded, DER, into the image's anchor
region (boards/mps2/common/anchors.h; run_qemu.py --anchors), found with
--nm. The cases mfl12, bigchain and ignoremfl are for the lean
profile (AP_MPS2_PROFILE=lean, 4 KiB input records); the build registers
them for it only.

--profile lean (the build passes the image's AP_MPS2_PROFILE) is the lean
image, which speaks TLS 1.2 only and verifies ECDSA P-256 chains only: rsa12
must be refused with exit 10 before any request and before any handshake
completes, the FAILED line naming the sink's handshake_failure alert; the
TLS 1.3-only sinks (tls13, rsa) with exit 4 (version), the FAILED
line naming TLS 1.2 as this build's ceiling; each time with a line saying
what the image leaves out.

--mbedtls-major says which Mbed TLS line the firmware was built with (the
build passes it). A 2.28 firmware has no TLS 1.3, nor has a lean one:
against a TLS 1.3-only sink (tls13, rsa) its policy offers nothing the sink
accepts, so those cases expect exit 4 (version) and no request, and every
delivery must be over TLS 1.2.

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
EXIT_DELIVERED, EXIT_VERSION, EXIT_CERT, EXIT_ENTROPY, EXIT_ANCHORS = 0, 4, 5, 7, 8
EXIT_TLS = 10
# More than two 4 KiB records, less than one 16 KiB record.
BIG_BODY = ["--mode", "big-body", "--body-size", "12000"]

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
    "noanchors": ("ecdsa-chain.pem", [],                                        EXIT_ANCHORS,   None),
    "mfl12":     ("ecdsa-chain.pem", ["--tls-min", "1.2", "--tls-max", "1.2"] + BIG_BODY,
                  EXIT_DELIVERED, "TLS 1.2"),
    "bigchain":  ("big-chain.pem",   ["--tls-min", "1.2", "--tls-max", "1.2"], EXIT_TLS, None),
    "ignoremfl": ("big-chain.pem",   ["--tls-min", "1.2", "--tls-max", "1.2"], EXIT_TLS, None),
}
# The FAILED line of a lean firmware refusing what exceeds its 4 KiB buffer:
# Mbed TLS's MBEDTLS_ERR_SSL_BAD_INPUT_DATA (-0x7100), which its record
# layer returns for a record or handshake message that would not fit
# ("requesting more data than fits"), before it reads any of it.
BUFFER_VERDICT = (r"^alert_poster: FAILED status=TLS failure TLS handshake with localhost "
                  r"failed: Mbed TLS error -0x7100\. Nothing was sent\.$")
VERDICTS = {"bigchain": BUFFER_VERDICT, "ignoremfl": BUFFER_VERDICT,
            "noanchors": r"^alert_poster: FAILED status=\S.* no trust anchors$"}
# The lean profile (TLS 1.2 only, ECDSA P-256 chains only): a TLS 1.2 sink
# with an RSA certificate is refused before any request (it answers the
# hello, which offers no RSA signature, with a handshake_failure alert); a
# TLS 1.3-only sink with a version refusal that names this build's ceiling;
# and the firmware says what it leaves out.
LEAN_REFUSED = ("rsa12",)
LEAN_VERDICT = (r"^alert_poster: FAILED status=TLS failure TLS handshake with localhost "
                r"failed: the server sent a handshake_failure alert \(40\)\. Nothing was sent\.$")
LEAN_VERSION_VERDICT = (r"^alert_poster: FAILED status=\S.* TLS version refused: localhost "
                        r"offers no version in the policy .*this build's ceiling, TLS 1\.2")
LEAN_SCOPE = (r"^alert_poster: lean image: TLS 1\.2 and ECDSA P-256 certificates only "
              r"\(no TLS 1\.3, no RSA\)$")


# Certificates of the PKI that pad big-chain.pem past 4 KiB; the sink sends
# them after its real chain, and the firmware must not get that far.
PADDING = ["rsa.pem", "device-rsa.pem", "other-root.pem", "client-root.pem",
           "client-intermediate.pem", "selfsigned.pem", "rsa.pem", "device-rsa.pem"]


def big_chain(pki, stem):
    """ecdsa-chain.pem followed by PADDING: a Certificate message over 4 KiB."""
    path = stem + ".big-chain.pem"
    with open(path, "w", encoding="ascii") as out:
        for name in ["ecdsa-chain.pem"] + PADDING:
            with open(os.path.join(pki, name), encoding="ascii") as f:
                out.write(f.read())
    return path


def expectation(case, mbedtls_major, profile="full"):
    """(chain, sink options, exit status, TLS version or None) for a case."""
    chain, sink_opts, want_exit, want_tls = CASES[case]
    tls12_only = mbedtls_major == 2 or profile == "lean"
    if tls12_only and sink_opts[:2] == ["--tls-min", "1.3"]:
        return chain, sink_opts, EXIT_VERSION, None
    if profile == "lean" and case in LEAN_REFUSED:
        return chain, sink_opts, EXIT_TLS, None
    if tls12_only and want_exit == EXIT_DELIVERED:
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
    ap.add_argument("--profile", choices=("full", "lean"), default="full",
                    help="the image's AP_MPS2_PROFILE (lean: ECDSA P-256 chains only)")
    ap.add_argument("--qemu", default="qemu-system-arm")
    ap.add_argument("--timeout", type=float, default=90.0)
    ap.add_argument("--nm", default="arm-none-eabi-nm",
                    help="to find the image's trust-anchor region")
    args = ap.parse_args()

    chain, sink_opts, want_exit, want_tls = expectation(args.case, args.mbedtls_major,
                                                        args.profile)
    os.makedirs(args.workdir, exist_ok=True)
    stem = os.path.join(args.workdir, "alert_%s_%s" % (args.case, args.machine))
    record = stem + ".jsonl"
    uart_log = stem + ".log"
    flash = stem + ".flash"
    for p in (record, uart_log, flash):
        if os.path.exists(p):
            os.remove(p)
    seq = random.randint(1, 10**9)

    chain_path = (big_chain(args.pki, stem) if chain == "big-chain.pem"
                  else os.path.join(args.pki, chain))
    sink = [sys.executable, SINK, "--cert", chain_path,
            "--key", os.path.join(args.pki, "rsa.key" if chain.startswith("rsa") else "ecdsa.key"),
            "--port", "0", "--record", record, "--max-seconds", str(args.timeout)] + sink_opts
    if args.case == "late":
        server = [sys.executable, os.path.join(HERE, "relay.py"), "--delay", "3",
                  "--lifetime", str(args.timeout), "--"] + sink
    elif args.case == "ignoremfl":
        server = [sys.executable, os.path.join(HERE, "relay.py"), "--delay", "0",
                  "--strip-mfl", "--lifetime", str(args.timeout), "--"] + sink
    else:
        server = sink

    semi = ["seq=%d" % seq, "flash=" + os.path.abspath(flash)]
    if args.case == "noentropy":
        semi.append("entropy=none")
    cmd = [sys.executable, os.path.join(HERE, "run_qemu.py"), "--qemu", args.qemu,
           "--machine", args.machine, "--kernel", args.kernel, "--log", uart_log,
           "--timeout", str(args.timeout)]
    if args.case != "noanchors":
        cmd += ["--anchors", os.path.join(args.pki, "root.pem"), "--nm", args.nm]
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
        if args.case in ("noentropy", "noanchors") and "dhcp address" in uart:
            return fail("the firmware went on to the network without its %s"
                        % ("entropy" if args.case == "noentropy" else "trust anchors"))
        if args.case in VERDICTS and not re.search(VERDICTS[args.case], uart, re.M):
            return fail("the FAILED line is not %r: %s" % (VERDICTS[args.case], verdict.group(0)))
        lean_verdict = None
        if args.profile == "lean" and args.case in LEAN_REFUSED:
            lean_verdict = LEAN_VERDICT
        elif args.profile == "lean" and want_exit == EXIT_VERSION and args.case != "tls10":
            lean_verdict = LEAN_VERSION_VERDICT
        if lean_verdict is not None:
            if not re.search(lean_verdict, uart, re.M):
                return fail("the FAILED line is not %r: %s" % (lean_verdict, verdict.group(0)))
            if not re.search(LEAN_SCOPE, uart, re.M):
                return fail("the lean firmware did not say what it leaves out")
            if any(e.get("event") == "handshake_ok" for e in events):
                return fail("the sink completed a handshake the lean firmware cannot make")
        if args.case == "ignoremfl":
            with open(uart_log + ".server", encoding="utf-8", errors="replace") as f:
                if not re.search(r"^relay: stripped max_fragment_length \(code \d\)",
                                 f.read(), re.M):
                    return fail("the relay did not strip max_fragment_length: the firmware "
                                "did not ask for it, and the case tested nothing")
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
