#!/usr/bin/env python3
"""Certificates for the X.509 rule tests: `x509_pki.py DIR` fills DIR.

Each certificate is one case of tests/unit/tls/test_x509_rules.c, made with
the `openssl` command so that the DER under test comes from an independent
encoder. All are valid from now for 30 days; every certificate is <name>.pem
and <name>.der.

CAs:   root, root-v1 (a version-1 anchor), root-nc (an anchor whose CRITICAL
       nameConstraints permit .allowed.example.test and 10.0.0.0/8),
       inter (under root), inter-nc (non-critical: permits allowed.example.test),
       inter-excl (non-critical: excludes bad.example.test and 127.0.0.0/8),
       inter-nc-crit (critical nameConstraints, sent by a server: Mbed TLS
       cannot parse it).
Leaves: see LEAVES below; the key is ec.key unless the entry says otherwise.
A file "done" is written last: its presence means the set is complete.
"""

import os
import shutil
import subprocess
import sys
import tempfile

CA_EXT = ("basicConstraints = critical, CA:true\n"
          "keyUsage = critical, keyCertSign, cRLSign\n"
          "subjectKeyIdentifier = hash\n")
LEAF_BASE = ("basicConstraints = critical, CA:false\n"
             "subjectKeyIdentifier = hash\n")
KU = "keyUsage = critical, digitalSignature\n"
EKU = "extendedKeyUsage = serverAuth\n"

CAS = [
    # name, issuer (None: self-signed), extensions (None: version 1)
    ("root", None, CA_EXT),
    ("root-v1", None, None),
    ("root-nc", None, CA_EXT + "nameConstraints = critical, permitted;DNS:.allowed.example.test,"
                      " permitted;IP:10.0.0.0/255.0.0.0\n"),
    ("inter", "root", CA_EXT),
    ("inter-nc", "root", CA_EXT + "nameConstraints = permitted;DNS:allowed.example.test\n"),
    ("inter-excl", "root", CA_EXT + "nameConstraints = excluded;DNS:bad.example.test,"
                           " excluded;IP:127.0.0.0/255.0.0.0\n"),
    ("inter-nc-crit", "root", CA_EXT + "nameConstraints = critical, permitted;DNS:example.test\n"),
]

GOOD_SAN = "subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1\n"

LEAVES = [
    # name, issuer, extensions (None: version 1), options
    ("good", "inter", LEAF_BASE + KU + EKU + GOOD_SAN, {}),
    ("good-v1-root", "root-v1", LEAF_BASE + KU + EKU + GOOD_SAN, {}),
    ("nosan", "inter", LEAF_BASE + KU + EKU, {}),
    ("dns-for-ip", "inter", LEAF_BASE + KU + EKU + "subjectAltName = DNS:127.0.0.1\n",
     {"cn": "127.0.0.1"}),
    ("ca-leaf", "inter", "basicConstraints = critical, CA:true\n" + KU + EKU + GOOD_SAN, {}),
    ("keycertsign", "inter", LEAF_BASE + "keyUsage = critical, keyCertSign\n" + EKU + GOOD_SAN,
     {}),
    ("eku-client", "inter", LEAF_BASE + KU + "extendedKeyUsage = clientAuth\n" + GOOD_SAN, {}),
    ("eku-any", "inter", LEAF_BASE + KU + "extendedKeyUsage = anyExtendedKeyUsage\n" + GOOD_SAN,
     {}),
    ("no-eku", "inter", LEAF_BASE + KU + GOOD_SAN, {}),
    ("crit-unknown", "inter", LEAF_BASE + KU + EKU + GOOD_SAN +
     "1.3.6.1.4.1.55555.1 = critical, ASN1:UTF8String:unknown\n", {}),
    ("wild", "inter", LEAF_BASE + KU + EKU + "subjectAltName = DNS:*.example.test\n", {}),
    ("wild-couk", "inter", LEAF_BASE + KU + EKU + "subjectAltName = DNS:*.co.uk\n", {}),
    ("wild-com", "inter", LEAF_BASE + KU + EKU + "subjectAltName = DNS:*.com\n", {}),
    ("wild-partial", "inter", LEAF_BASE + KU + EKU + "subjectAltName = DNS:f*.example.test\n", {}),
    ("nc-ok", "inter-nc", LEAF_BASE + KU + EKU +
     "subjectAltName = DNS:host.allowed.example.test\n", {}),
    ("nc-bad", "inter-nc", LEAF_BASE + KU + EKU + "subjectAltName = DNS:localhost\n", {}),
    ("excl-ip", "inter-excl", LEAF_BASE + KU + EKU + GOOD_SAN, {}),
    ("excl-wild", "inter-excl", LEAF_BASE + KU + EKU + "subjectAltName = DNS:*.example.test\n",
     {}),
    ("anchor-nc-ok", "root-nc", LEAF_BASE + KU + EKU +
     "subjectAltName = DNS:x.allowed.example.test, IP:10.1.2.3\n", {}),
    ("anchor-nc-bad", "root-nc", LEAF_BASE + KU + EKU + "subjectAltName = DNS:localhost\n", {}),
    ("anchor-nc-ip", "root-nc", LEAF_BASE + KU + EKU +
     "subjectAltName = DNS:x.allowed.example.test, IP:127.0.0.1\n", {}),
    ("v1-leaf", "inter", None, {"cn": "localhost"}),
    ("rsa-good", "inter", LEAF_BASE + "keyUsage = critical, digitalSignature, keyEncipherment\n" +
     EKU + GOOD_SAN, {"key": "rsa2048.key"}),
    ("rsa1024", "inter", LEAF_BASE + KU + EKU + GOOD_SAN, {"key": "rsa1024.key"}),
    ("sha1", "inter", LEAF_BASE + KU + EKU + GOOD_SAN, {"md": "sha1"}),
    ("p384", "inter", LEAF_BASE + KU + EKU + GOOD_SAN, {"key": "p384.key"}),
]

KEYS = {
    "ec.key": ["ecparam", "-name", "prime256v1", "-genkey", "-noout"],
    "p384.key": ["ecparam", "-name", "secp384r1", "-genkey", "-noout"],
    "rsa2048.key": ["genrsa", "2048"],
    "rsa1024.key": ["genrsa", "1024"],
}


def openssl(*args):
    proc = subprocess.run(["openssl", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60, check=False)
    if proc.returncode != 0:
        sys.stderr.write("x509_pki.py: openssl %s failed:\n%s" %
                         (" ".join(args), proc.stderr.decode(errors="replace")))
        raise SystemExit(1)
    return proc.stdout


def make(work, name, issuer, ext, key, cn, md):
    csr = os.path.join(work, name + ".csr")
    out = os.path.join(work, name + ".pem")
    openssl("req", "-new", "-key", os.path.join(work, key), "-subj", "/CN=" + cn, "-out", csr)
    args = ["x509", "-req", "-in", csr, "-out", out, "-" + md, "-days", "30",
            "-set_serial", str(int.from_bytes(os.urandom(8), "big"))]
    if issuer is None:
        args += ["-key", os.path.join(work, key)]
    else:
        args += ["-CA", os.path.join(work, issuer + ".pem"), "-CAkey", os.path.join(work, "ec.key")]
    if ext is not None:
        cnf = os.path.join(work, name + ".cnf")
        with open(cnf, "w", encoding="ascii") as f:
            f.write("[ext]\n" + ext)
        args += ["-extfile", cnf, "-extensions", "ext"]
    openssl(*args)
    openssl("x509", "-in", out, "-outform", "DER", "-out", os.path.join(work, name + ".der"))


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: x509_pki.py DIR\n")
        return 2
    final = sys.argv[1]
    if os.path.exists(os.path.join(final, "done")):
        return 0
    parent = os.path.dirname(os.path.abspath(final))
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(dir=parent, prefix=".x509pki-")
    for key, argv in KEYS.items():
        with open(os.path.join(work, key), "wb") as f:
            f.write(openssl(*argv))
    for name, issuer, ext in CAS:
        make(work, name, issuer, ext, "ec.key", name, "sha256")
    for name, issuer, ext, opts in LEAVES:
        make(work, name, issuer, ext, opts.get("key", "ec.key"), opts.get("cn", "localhost"),
             opts.get("md", "sha256"))
    with open(os.path.join(work, "done"), "w", encoding="ascii") as f:
        f.write("complete\n")
    shutil.rmtree(final, ignore_errors=True)
    os.rename(work, final)
    return 0


if __name__ == "__main__":
    sys.exit(main())
