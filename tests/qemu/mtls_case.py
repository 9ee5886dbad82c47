#!/usr/bin/env python3
"""alert_poster with mutual TLS under QEMU, against a sink that requires a
client certificate (mtls_sink.py).

    mtls_case.py --case mtls --machine mps2-an385 --kernel alert_poster.elf \\
        --pki DIR --workdir DIR --nm arm-none-eabi-nm [--mbedtls-major 3] \\
        [--qemu qemu-system-arm] [--timeout 75]

Each run makes its own device PKI with the openssl command under its work
directory: a P-256 client CA and a P-256 device certificate (CN chosen at
random, extendedKeyUsage clientAuth) for a P-256 key. It writes the device
certificate and key (both DER) as an identity record (the layout of
boards/mps2/common/identity.h) into a file, which QEMU loads into the
firmware's identity region (the ELF's __ap_identity_start) as a programming
station writes a flash sector: the image is the same for every run.

Cases (the sink serves pki.py's ECDSA chain and trusts only the client CA):
  mtls       sink TLS 1.2-1.3 -> exit 0, delivered (TLS 1.3 on 3.6, 1.2 on
             2.28); the sink saw the device's CN and exactly its certificate
  mtls12     sink TLS 1.2 only (3.6 only: TLS 1.2's CertificateVerify with the
             PSA key), the key as SEC1 rather than PKCS#8 -> exit 0,
             delivered over TLS 1.2, as mtls
  nocert     nothing loaded into the identity region -> exit 13 (client
             certificate), the sink's handshake failed, no request; with
             --built-without-identity (an image without mutual TLS, the
             lean profile's) the same, and the firmware must say it has
             no mutual TLS
  untrusted  a device certificate from another CA -> exit 13, no request
  corrupt    the record's CRC does not check -> exit 14 (identity), before any
             connection: the sink saw nothing at all
  wrongkey   the certificate with another device's key -> exit 8 (TLS setup:
             the core's pair check, on 3.6 against the PSA key), before any
             connection
On 3.6 the firmware must say the key was sealed into PSA (sign-hash only,
not exportable); on 2.28 that the TLS library parses the key.

Exit status 0 when the case held, 1 otherwise, 77 (skipped) without openssl.
"""

import argparse
import base64
import hashlib
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77

# Firmware exit statuses (boards/mps2/apps/alert_poster.c).
EXIT_DELIVERED, EXIT_SETUP, EXIT_CLIENT_CERT, EXIT_IDENTITY = 0, 8, 13, 14

CASES = {
    #             sink TLS range, identity,  exit
    "mtls":      (("1.2", "1.3"), "good",      EXIT_DELIVERED),
    "mtls12":    (("1.2", "1.2"), "good",      EXIT_DELIVERED),
    "nocert":    (("1.2", "1.3"), None,        EXIT_CLIENT_CERT),
    "untrusted": (("1.2", "1.3"), "untrusted", EXIT_CLIENT_CERT),
    "corrupt":   (("1.2", "1.3"), "corrupt",   EXIT_IDENTITY),
    "wrongkey":  (("1.2", "1.3"), "wrongkey",  EXIT_SETUP),
}


def fail(msg):
    print("mtls_case: FAIL: " + msg, flush=True)
    return 1


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def make_ca(d, name, cn):
    key, pem = os.path.join(d, name + ".key"), os.path.join(d, name + ".pem")
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
    openssl("req", "-x509", "-new", "-key", key, "-sha256", "-days", "2", "-subj", "/CN=" + cn,
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", pem)
    return key, pem


def make_device(d, ca_key, ca_pem, cn, key_form):
    """The device's P-256 key (DER, PKCS#8 or SEC1) and certificate (DER)."""
    key, csr = os.path.join(d, "device.key"), os.path.join(d, "device.csr")
    pem, ext = os.path.join(d, "device.pem"), os.path.join(d, "device.ext")
    with open(ext, "w", encoding="ascii") as f:
        f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=clientAuth\n")
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
    openssl("req", "-new", "-key", key, "-subj", "/CN=" + cn, "-out", csr)
    openssl("x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-sha256",
            "-set_serial", str(random.randint(1, 2**62)), "-days", "2", "-extfile", ext,
            "-out", pem)
    openssl("x509", "-in", pem, "-outform", "DER", "-out", pem + ".der")
    if key_form == "pkcs8":
        openssl("pkcs8", "-topk8", "-nocrypt", "-in", key, "-outform", "DER", "-out", key + ".der")
    else:
        openssl("ec", "-in", key, "-outform", "DER", "-out", key + ".der")
    with open(pem + ".der", "rb") as f:
        cert = f.read()
    with open(key + ".der", "rb") as f:
        return cert, f.read()


def identity_record(cert, key):
    """The record of boards/mps2/common/identity.h."""
    body = b"APID" + struct.pack("<HHII", 1, 0, len(cert), len(key)) + cert + key
    return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


def identity_address(nm, elf):
    out = subprocess.run([nm, elf], capture_output=True, text=True, check=True).stdout
    m = re.search(r"^([0-9a-fA-F]+) \w __ap_identity_start$", out, re.M)
    return None if m is None else int(m.group(1), 16)


def read_events(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def check_delivery(uart, events, cn, cert, want_tls):
    """A delivered alert, over want_tls, by a client with exactly cert."""
    m = re.search(r"^alert_poster: queued seq=\d+ key=(\S+) body (.*)$", uart, re.M)
    v = re.search(r"^alert_poster: delivered key=(\S+) attempt=\d+ status=200 "
                  r"tls=(TLS 1\.[23]) ", uart, re.M)
    if m is None or v is None or v.group(1) != m.group(1):
        return fail("no queued and delivered lines for one key")
    if v.group(2) != want_tls:
        return fail("negotiated %s, expected %s" % (v.group(2), want_tls))
    oks = [e for e in events if e.get("event") == "handshake_ok"]
    requests = [e for e in events if e.get("event") == "request"]
    if len(oks) != 1 or len(requests) != 1:
        return fail("the sink recorded %d handshake(s) and %d request(s), expected 1 and 1"
                    % (len(oks), len(requests)))
    if oks[0]["client_subject"] != "CN=" + cn:
        return fail("the sink saw client %r, the device is CN=%s" % (oks[0]["client_subject"], cn))
    if oks[0]["client_sha256"] != hashlib.sha256(cert).hexdigest():
        return fail("the client certificate the sink saw is not the provisioned one")
    if oks[0]["version"] != want_tls.replace("TLS ", "TLSv"):
        return fail("sink handshake %s, expected %s" % (oks[0]["version"], want_tls))
    req = requests[0]
    if req["method"] != "POST" or req["path"] != "/v1/alerts":
        return fail("request was %s %s" % (req["method"], req["path"]))
    if base64.b64decode(req["body_b64"]) != m.group(2).encode():
        return fail("the sink received a body other than the one the firmware queued")
    keys = [val for k, val in req["headers"] if k.lower() == "idempotency-key"]
    if keys != [m.group(1)]:
        return fail("Idempotency-Key %r, queued as %s" % (keys, m.group(1)))
    return 0


def check_refusal(case, rc, uart, events, without_identity=False):
    if [e for e in events if e.get("event") == "request"]:
        return fail("the sink received a request although the firmware was refused")
    verdict = re.search(r"^alert_poster: FAILED status=.*$", uart, re.M)
    if verdict is None:
        return fail("no FAILED verdict line on the UART")
    oks = [e for e in events if e.get("event") == "handshake_ok"]
    fails = [e.get("error", "") for e in events if e.get("event") == "handshake_fail"]
    if case in ("corrupt", "wrongkey"):
        # QEMU opens the guestfwd connection at start and closes it at exit:
        # the sink sees at most that, an end of stream before any ClientHello.
        why = "CRC" if case == "corrupt" else "client key does not match the client certificate"
        if oks or why not in verdict.group(0) or "dhcp address" in uart or \
                any("EOF" not in e for e in fails):
            return fail("a corrupt record must stop the firmware before the network: %s, "
                        "sink events %r" % (verdict.group(0), events))
        return 0
    if not re.search(r"^alert_poster: stopped key=\S+ attempt 1 \(client certificate", uart, re.M):
        return fail("the queue did not stop on the client-certificate status")
    want = "PEER_DID_NOT_RETURN_A_CERTIFICATE" if case == "nocert" else "CERTIFICATE_VERIFY_FAILED"
    if oks or len(fails) != 1 or want not in fails[0]:
        return fail("the sink should have failed the handshake with %s: %r" % (want, events))
    said = ("identity: this firmware is built without mutual TLS" if without_identity
            else "identity: none provisioned")
    if case == "nocert" and said not in uart:
        return fail("the firmware did not say %r" % said)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--machine", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--pki", required=True, help="directory made by pki.py (server side)")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--nm", required=True, help="nm for the image (to find the region)")
    ap.add_argument("--mbedtls-major", type=int, choices=(2, 3), default=3)
    ap.add_argument("--qemu", default="qemu-system-arm")
    ap.add_argument("--timeout", type=float, default=75.0)
    ap.add_argument("--built-without-identity", action="store_true",
                    help="the image has no mutual TLS (AP_MPS2_CLIENT_IDENTITY OFF): "
                         "only nocert, which it must say")
    args = ap.parse_args()
    if args.built_without_identity and CASES[args.case][1] is not None:
        ap.error("an image without mutual TLS has only the case nocert")

    if shutil.which("openssl") is None:
        print("mtls_case: SKIP: no openssl command to make the device PKI", flush=True)
        return SKIP
    (tls_min, tls_max), identity, want_exit = CASES[args.case]
    want_tls = "TLS 1.3" if args.mbedtls_major == 3 and tls_max == "1.3" else "TLS 1.2"
    stem = os.path.join(args.workdir, "mtls_%s_%s" % (args.case, args.machine))
    shutil.rmtree(stem, ignore_errors=True)
    os.makedirs(stem)
    region = identity_address(args.nm, args.kernel)
    if region is None:
        return fail("no __ap_identity_start in %s" % args.kernel)

    cn = "alertpost-device-%08x" % random.getrandbits(32)
    ca_key, ca_pem = make_ca(stem, "client-ca", "alertpost QEMU client CA")
    issuer = (ca_key, ca_pem) if identity != "untrusted" else make_ca(stem, "other-ca", "other CA")
    # Both key forms a provisioning tool may write: SEC1 (with its curve and
    # public key) for mtls12, PKCS#8 for the rest.
    cert, key = make_device(stem, issuer[0], issuer[1], cn,
                            "sec1" if args.case == "mtls12" else "pkcs8")
    record = bytearray(identity_record(cert, key))
    if identity == "corrupt":
        record[40] ^= 0x01  # inside the certificate, after the CRC was taken
    if identity == "wrongkey":
        other = os.path.join(stem, "other")
        os.makedirs(other)
        record = bytearray(identity_record(cert, make_device(other, ca_key, ca_pem, cn,
                                                             "pkcs8")[1]))
    id_file = os.path.join(stem, "identity.bin")
    with open(id_file, "wb") as f:
        f.write(record)

    events_path, uart_log = os.path.join(stem, "sink.jsonl"), os.path.join(stem, "uart.log")
    sink = [sys.executable, os.path.join(HERE, "mtls_sink.py"),
            "--cert", os.path.join(args.pki, "ecdsa-chain.pem"),
            "--key", os.path.join(args.pki, "ecdsa.key"), "--client-ca", ca_pem,
            "--record", events_path, "--tls-min", tls_min, "--tls-max", tls_max,
            "--max-seconds", str(args.timeout)]
    cmd = [sys.executable, os.path.join(HERE, "run_qemu.py"), "--qemu", args.qemu,
           "--machine", args.machine, "--kernel", args.kernel, "--log", uart_log,
           "--timeout", str(args.timeout),
           "--anchors", os.path.join(args.pki, "root.pem"), "--nm", args.nm,
           "--semihost-arg", "seq=%d" % random.randint(1, 10**9),
           "--semihost-arg", "flash=" + os.path.join(stem, "flash.bin")]
    if identity is not None:
        cmd += ["--load", "%s@0x%x" % (id_file, region)]
    rc = subprocess.call(cmd + ["--"] + sink)

    with open(uart_log, encoding="utf-8", errors="replace") as f:
        uart = f.read()
    events = read_events(events_path)
    print("mtls_case: firmware exit %d (want %d); sink recorded %s"
          % (rc, want_exit, [e.get("event") for e in events]), flush=True)
    for m in re.finditer(r"^alert_poster: (tls pool|stack) high water.*$", uart, re.M):
        print("mtls_case: " + m.group(0), flush=True)
    if rc != want_exit:
        return fail("exit status %d, expected %d" % (rc, want_exit))
    if identity in ("good", "untrusted", "wrongkey"):
        sealed = re.search(r"^alert_poster: identity: certificate %d bytes .*key sealed into "
                           r"PSA as volatile key 0x[0-9a-f]+ \(sign-hash only, ECDSA, not "
                           r"exportable\)$" % len(cert), uart, re.M)
        parsed = re.search(r"^alert_poster: identity: certificate %d bytes and key %d bytes "
                           r".*no PSA" % (len(cert), len(key)), uart, re.M)
        if (sealed if args.mbedtls_major == 3 else parsed) is None:
            return fail("the firmware did not report its identity as this Mbed TLS line should")
    if want_exit == EXIT_DELIVERED:
        return check_delivery(uart, events, cn, cert, want_tls)
    return check_refusal(args.case, rc, uart, events, args.built_without_identity)


if __name__ == "__main__":
    sys.exit(main())
