#!/usr/bin/env python3
"""Trust stores for tests/unit/tls/test_tls_anchors.c: `anchors_pki.py IT_PKI DIR`.

IT_PKI is the integration tests' PKI (tests/integration/pki.py): its
ecdsa.key is the server key here too, and its selfsigned.pem (a self-signed
leaf for localhost under that key) is copied. DIR receives, all PEM, valid
from now for 30 days:

  root.pem       "O=alertpost anchors, CN=anchors root" (UTF8String), P-256
  chain.pem      leaf "localhost" (ecdsa.key) + intermediate, under root.pem
  twin.pem       a root with root.pem's subject, byte for byte, and another key
  casefold.pem   root.pem's key under "O=ALERTPOST ANCHORS, CN=ANCHORS ROOT" in
                 PrintableString: the same name by Mbed TLS's rules, not the
                 same bytes
  critical.pem   root.pem's key and subject with a critical extension Mbed TLS
                 does not know: it frames, and does not parse
  decoys.pem     DECOYS self-signed roots "O=alertpost anchors, CN=decoy NN"
                 (the first RDN is root.pem's, so names differ only in the second)
  ecdsa.key selfsigned.pem   copied from IT_PKI

A file "done" is written last: its presence means the set is complete.
Only the `openssl` command and the standard library are used.
"""

import os
import shutil
import subprocess
import sys
import tempfile

DECOYS = 40
CA_EXT = ["-addext", "basicConstraints=critical,CA:true",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign"]


def openssl(*args):
    proc = subprocess.run(["openssl", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60, check=False)
    if proc.returncode != 0:
        sys.stderr.write("anchors_pki.py: openssl %s failed:\n%s"
                         % (" ".join(args), proc.stderr.decode(errors="replace")))
        raise SystemExit(1)


def ec_key(path):
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)


def root(key, subject, out, work, printable=False, extra=()):
    """A self-signed CA; printable: PrintableString where the text allows it."""
    mask = ["-utf8"] if not printable else []
    cnf = os.path.join(work, "req.cnf")
    with open(cnf, "w", encoding="ascii") as f:
        f.write("[req]\ndistinguished_name = dn\nstring_mask = %s\n[dn]\n"
                % ("default" if printable else "utf8only"))
    openssl("req", "-x509", "-new", "-config", cnf, "-key", key, "-subj", subject, "-days", "30",
            "-sha256", "-out", out, *mask, *CA_EXT, *extra)


def sign(csr_key, subject, ca_cert, ca_key, ext, out, work):
    csr = os.path.join(work, "x.csr")
    extfile = os.path.join(work, "x.ext")
    with open(extfile, "w", encoding="ascii") as f:
        f.write(ext)
    openssl("req", "-new", "-key", csr_key, "-subj", subject, "-out", csr)
    openssl("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key,
            "-CAserial", os.path.join(work, "ca.srl"), "-CAcreateserial",
            "-days", "30", "-sha256", "-extfile", extfile, "-out", out)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    it_pki, out = sys.argv[1], sys.argv[2]
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    with tempfile.TemporaryDirectory() as work:
        def w(name):
            return os.path.join(work, name)

        subject = "/O=alertpost anchors/CN=anchors root"
        ec_key(w("root.key"))
        root(w("root.key"), subject, os.path.join(out, "root.pem"), work)
        ec_key(w("twin.key"))
        root(w("twin.key"), subject, os.path.join(out, "twin.pem"), work)
        root(w("root.key"), subject, os.path.join(out, "critical.pem"), work,
             extra=("-addext", "1.3.6.1.4.1.55555.1=critical,ASN1:NULL"))
        root(w("root.key"), "/O=ALERTPOST ANCHORS/CN=ANCHORS ROOT",
             os.path.join(out, "casefold.pem"), work, printable=True)

        ec_key(w("inter.key"))
        sign(w("inter.key"), "/O=alertpost anchors/CN=anchors intermediate",
             os.path.join(out, "root.pem"), w("root.key"),
             "basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n",
             w("inter.pem"), work)
        sign(os.path.join(it_pki, "ecdsa.key"), "/CN=localhost", w("inter.pem"),
             w("inter.key"),
             "basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\n"
             "extendedKeyUsage=serverAuth\n"
             "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n", w("leaf.pem"), work)
        with open(os.path.join(out, "chain.pem"), "wb") as f:
            for part in ("leaf.pem", "inter.pem"):
                with open(w(part), "rb") as src:
                    f.write(src.read())

        with open(os.path.join(out, "decoys.pem"), "wb") as f:
            for i in range(DECOYS):
                ec_key(w("d.key"))
                root(w("d.key"), "/O=alertpost anchors/CN=decoy %02d" % i, w("d.pem"), work)
                with open(w("d.pem"), "rb") as src:
                    f.write(src.read())
    for name in ("ecdsa.key", "selfsigned.pem"):
        shutil.copy(os.path.join(it_pki, name), os.path.join(out, name))
    with open(os.path.join(out, "done"), "w", encoding="ascii") as f:
        f.write("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
