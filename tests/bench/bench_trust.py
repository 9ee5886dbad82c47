#!/usr/bin/env python3
"""What the trust store costs a cold post, in instructions (callgrind).

  bench_trust.py --alertpost BIN --pki DIR --work DIR [--bundle FILE] [--curl]

Starts the integration tests' Python sink (tests/integration/sink.py) on
loopback with the test PKI's ECDSA chain (tests/integration/pki.py), and
runs one process posting one ~100-byte alert under callgrind, for each of:

  single   --cacert root.pem: the test root alone
  bundle   --cacert BUNDLE+root.pem: the system bundle (default
           /etc/ssl/certs/ca-certificates.crt) with the test root appended
           last, so an anchor store that scans in order meets it last
  der      the same bundle as one concatenation of DER certificates (only
           when the client takes DER anchors: --der)
  curl     curl --cacert BUNDLE+root.pem, the same post (with --curl)

Each figure is the instruction count (Ir) of the whole process, dynamic
loading, the handshake's cryptography and the server's answer included.
Prints them, bundle / single (the trust store's own cost: one extra file
read and what the client does with the anchors) and alertpost / curl.
Not a test: nothing is asserted, and the figures depend on the builds.
"""

import base64
import os
import re
import subprocess
import sys
import time

from benchlib import callgrind, parse_args

HERE = os.path.dirname(os.path.abspath(__file__))
SINK = os.path.join(HERE, "..", "integration", "sink.py")
BODY = '{"device":"pump-7","level":"critical","text":"pressure high","seq":12345678}'


def start_sink(work, pki):
    ready = os.path.join(work, "sink.port")
    p = subprocess.Popen([sys.executable, SINK, "--cert", os.path.join(pki, "ecdsa-chain.pem"),
                          "--key", os.path.join(pki, "ecdsa.key"), "--ready-file", ready,
                          "--max-seconds", "300", "--max-connections", "64",
                          "--io-timeout", "60"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(ready):
            with open(ready) as f:
                text = f.read().strip()
            if text:
                return p, int(text.split()[-1])
        time.sleep(0.05)
    p.kill()
    raise SystemExit("bench_trust: the sink did not start")


def pem_to_der(pem_text):
    """Every certificate of a PEM bundle, as one concatenation of DER."""
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----",
                        pem_text, re.S)
    return b"".join(base64.b64decode("".join(b.split())) for b in blocks), len(blocks)


def instructions(work, name, argv):
    return callgrind(argv, os.path.join(work, "callgrind.%s" % name))


def main():
    def extra(ap):
        ap.add_argument("--bundle", default="/etc/ssl/certs/ca-certificates.crt")
        ap.add_argument("--der", action="store_true", help="also post with DER anchors")
        ap.add_argument("--curl", action="store_true", help="also measure curl")
    o = parse_args(__doc__, extra)
    pki = o.pki
    work = os.path.abspath(o.work)
    root = os.path.join(pki, "root.pem")
    with open(o.bundle) as f:
        system = f.read()
    with open(root) as f:
        root_text = f.read()
    bundle = os.path.join(work, "bundle.pem")
    with open(bundle, "w") as f:
        f.write(system.rstrip("\n") + "\n" + root_text)
    der, count = pem_to_der(system + root_text)
    bundle_der = os.path.join(work, "bundle.der")
    with open(bundle_der, "wb") as f:
        f.write(der)

    sink, port = start_sink(work, pki)
    url = "https://localhost:%d/alerts" % port
    resolve = ["--resolve", "localhost:%d:127.0.0.1" % port]
    bin_ = os.path.abspath(o.alertpost)
    runs = [("single", [bin_, "--cacert", root] + resolve + ["-d", BODY, url]),
            ("bundle", [bin_, "--cacert", bundle] + resolve + ["-d", BODY, url])]
    if o.der:
        runs.append(("der", [bin_, "--cacert", bundle_der] + resolve + ["-d", BODY, url]))
    if o.curl:
        runs.append(("curl", ["curl", "-sS", "-o", "/dev/null", "--cacert", bundle] + resolve +
                     ["-H", "Content-Type: application/json", "-d", BODY, url]))
    got = {}
    try:
        for name, argv in runs:
            got[name] = instructions(work, name, argv)
    finally:
        sink.kill()
        sink.wait()
    print("cold post, one process each, instructions (callgrind Ir); bundle: %d "
          "certificates, %d bytes PEM" % (count, len(system) + len(root_text)))
    for name, _ in runs:
        print("  %-7s %12d" % (name, got[name]))
    print("  bundle / single: %.3fx" % (got["bundle"] / got["single"]))
    if "der" in got:
        print("  der / single:    %.3fx" % (got["der"] / got["single"]))
    if "curl" in got:
        print("  alertpost (bundle) / curl: %.3fx" % (got["bundle"] / got["curl"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
