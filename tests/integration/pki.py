#!/usr/bin/env python3
"""Test PKI for the integration tests: `pki.py DIR` fills DIR.

Only the Python standard library and the `openssl` command are used, so the
suite needs nothing a Debian machine with openssl does not already have.

What DIR holds afterwards (PEM unless the name ends in .der):

  root.pem                 trust anchor the client is given (--cacert)
  intermediate.pem         CA under root that signs the leaves
  ecdsa.key ecdsa.pem      leaf "localhost" (P-256), SAN DNS:localhost,
                           IP:127.0.0.1, IP:::1; ecdsa-chain.pem = leaf + intermediate
  rsa.key rsa.pem          the same as an RSA-2048 leaf (ECDHE-RSA suites);
                           rsa-chain.pem
  expired-chain.pem        leaf whose validity ended in the past
  notyet-chain.pem         leaf whose validity starts in the future
  wronghost-chain.pem      leaf for "wrong.example" only
  wild-suffix-chain.pem    leaf for "*.github.io" and "*.alerts.test": wildcards
                           directly above a suffix of the Public Suffix List's
                           private section, and of a test list, none of them
                           among the built-in public suffixes
  selfsigned.pem           self-signed leaf for localhost
  unknownroot-chain.pem    leaf (+ its CA) under a second root the client never sees
  missing-intermediate.pem the valid ECDSA leaf alone, without the intermediate
  other-root.pem           that second root (the client is never given it)
  pins.json                sha256//BASE64 SPKI pins: "ecdsa", "rsa", "other"

The client side (mutual TLS), a PKI of its own so that no server certificate
could ever pass for a device's:

  client-root.pem          the device root the servers trust (client_ca_file)
  client-intermediate.pem  CA under it that signs the devices (servers are not
                           given it: the device sends it in its chain)
  device.key device.pem    device "CN=device-0001, O=alertpost test fleet"
                           (P-256, extendedKeyUsage clientAuth);
                           device-chain.pem = device.pem + client-intermediate
  device-rsa.key device-rsa.pem device-rsa-chain.pem   the same as RSA-2048
  device-expired-chain.pem a device leaf (device.key) whose validity ended
  device-unknown-chain.pem a device leaf (device.key) + its own root, a CA no
                           server is given
  device-combined.pem      device-chain.pem followed by device.key, one file
  device-enc-trad.key      device.key, traditional PEM, DEK-Info AES-256-CBC
  device-enc-pkcs8.key     device.key, PKCS#8 encrypted, PBES2 AES-256-CBC
                           (both with the passphrase KEY_PASSPHRASE below)
  device-pkcs8.der         device.key, unencrypted PKCS#8 DER
  device-sec1.der          device.key, SEC1 DER (ECPrivateKey)
  device-rsa-pkcs1.der     device-rsa.key, PKCS#1 DER (RSAPrivateKey)
  device-other.key         a P-256 key that does not match device.pem
  manifest.json            written last: its presence means the set is complete

Every leaf key is ecdsa.key except rsa.key, so any "*-chain.pem" pairs with
ecdsa.key unless its name says rsa. Running the script again on a complete
directory does nothing, so it is safe as a test fixture that several runs share.
"""

import base64
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

MANIFEST_VERSION = 4

# The passphrase of the encrypted device keys; also recorded in manifest.json.
KEY_PASSPHRASE = "fleet-passphrase-0001"
DEVICE_CN = "device-0001"
DEVICE_SUBJECT = "/CN=%s/O=alertpost test fleet" % DEVICE_CN

CA_CNF = """\
[ ca ]
default_ca = this_ca

[ this_ca ]
dir           = {dir}
database      = $dir/index.txt
new_certs_dir = $dir/issued
serial        = $dir/serial
default_md    = sha256
policy        = any_policy
unique_subject = no
copy_extensions = none
default_days  = 365

[ any_policy ]
commonName = supplied

# Devices: CN first, then O, kept in that order (-preserveDN), so Mbed TLS prints
# the subject as "CN=device-0001, O=alertpost test fleet".
[ device_policy ]
commonName = supplied
organizationName = optional

[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused

[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ v3_intermediate ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ v3_leaf_localhost ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1

[ v3_device ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ v3_leaf_wrong ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:wrong.example

[ v3_leaf_wild_private_suffix ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:*.github.io, DNS:*.alerts.test
"""

SELF_SIGNED_CNF = """\
[ req ]
distinguished_name = dn
prompt = no
x509_extensions = v3_self
[ dn ]
CN = localhost
[ v3_self ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
"""


def openssl(*args, cwd=None):
    """Runs openssl; a failure shows its stderr, since that is the only clue."""
    proc = subprocess.run(["openssl", *args], cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60, check=False)
    if proc.returncode != 0:
        sys.stderr.write("pki.py: openssl %s failed:\n%s" %
                         (" ".join(args), proc.stderr.decode(errors="replace")))
        raise SystemExit(1)
    return proc.stdout


def asn1_time(when):
    # openssl ca takes YYYYMMDDHHMMSSZ; the 4-digit year keeps dates past 2049 exact.
    return when.strftime("%Y%m%d%H%M%SZ")


class Ca:
    """A CA directory that `openssl ca` can sign with, with explicit dates."""

    def __init__(self, work, name):
        self.dir = os.path.join(work, "ca-" + name)
        os.makedirs(os.path.join(self.dir, "issued"))
        with open(os.path.join(self.dir, "index.txt"), "w", encoding="ascii"):
            pass
        with open(os.path.join(self.dir, "serial"), "w", encoding="ascii") as f:
            # A random start keeps serials distinct between PKIs made at different times.
            f.write(os.urandom(8).hex() + "\n")
        self.cnf = os.path.join(self.dir, "ca.cnf")
        with open(self.cnf, "w", encoding="ascii") as f:
            f.write(CA_CNF.format(dir=self.dir))
        self.key = os.path.join(self.dir, "ca.key")
        self.cert = os.path.join(self.dir, "ca.pem")

    def sign(self, csr, out, ext, start, end, selfsign=False, extra=()):
        args = ["ca", "-batch", "-config", self.cnf, "-notext", "-in", csr, "-out", out,
                "-extensions", ext, "-keyfile", self.key,
                "-startdate", asn1_time(start), "-enddate", asn1_time(end), *extra]
        if selfsign:
            args.append("-selfsign")
        else:
            args += ["-cert", self.cert]
        openssl(*args)


def new_ec_key(path):
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-out", path)


def new_rsa_key(path):
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path)


def new_csr(key, cn, out, cnf, subject=None):
    openssl("req", "-new", "-config", cnf, "-key", key, "-subj", subject or "/CN=" + cn,
            "-out", out)


def make_root(work, name, cn, now):
    ca = Ca(work, name)
    new_ec_key(ca.key)
    csr = os.path.join(ca.dir, "ca.csr")
    new_csr(ca.key, cn, csr, ca.cnf)
    ca.sign(csr, ca.cert, "v3_ca", now - datetime.timedelta(days=1),
            now + datetime.timedelta(days=3650), selfsign=True)
    return ca


def make_intermediate(work, parent, name, cn, now):
    ca = Ca(work, name)
    new_ec_key(ca.key)
    csr = os.path.join(ca.dir, "ca.csr")
    new_csr(ca.key, cn, csr, ca.cnf)
    parent.sign(csr, ca.cert, "v3_intermediate", now - datetime.timedelta(days=1),
                now + datetime.timedelta(days=3650))
    return ca


def spki_pin(cert_path):
    """sha256//BASE64 of the DER SubjectPublicKeyInfo, as --pinnedpubkey takes it."""
    pem = openssl("x509", "-in", cert_path, "-noout", "-pubkey").decode("ascii")
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    der = base64.b64decode(body)
    return "sha256//" + base64.b64encode(hashlib.sha256(der).digest()).decode("ascii")


def cat(out, *parts):
    with open(out, "wb") as f:
        for p in parts:
            with open(p, "rb") as src:
                f.write(src.read())


def build(work, now):
    day = datetime.timedelta(days=1)
    root = make_root(work, "root", "alertpost test root", now)
    inter = make_intermediate(work, root, "intermediate", "alertpost test intermediate", now)
    other = make_root(work, "other", "alertpost unknown root", now)

    out = {}

    def path(name):
        p = os.path.join(work, name)
        out[name] = p
        return p

    shutil.copy(root.cert, path("root.pem"))
    shutil.copy(inter.cert, path("intermediate.pem"))
    shutil.copy(other.cert, path("other-root.pem"))

    new_ec_key(path("ecdsa.key"))
    new_rsa_key(path("rsa.key"))
    ec_csr = os.path.join(work, "ecdsa.csr")
    new_csr(out["ecdsa.key"], "localhost", ec_csr, inter.cnf)
    rsa_csr = os.path.join(work, "rsa.csr")
    new_csr(out["rsa.key"], "localhost", rsa_csr, inter.cnf)
    wrong_csr = os.path.join(work, "wrong.csr")
    new_csr(out["ecdsa.key"], "wrong.example", wrong_csr, inter.cnf)

    valid = (now - day, now + 365 * day)
    inter.sign(ec_csr, path("ecdsa.pem"), "v3_leaf_localhost", *valid)
    cat(path("ecdsa-chain.pem"), out["ecdsa.pem"], inter.cert)
    inter.sign(rsa_csr, path("rsa.pem"), "v3_leaf_localhost", *valid)
    cat(path("rsa-chain.pem"), out["rsa.pem"], inter.cert)

    # Past and future windows well clear of any clock skew between peers.
    expired = os.path.join(work, "expired.pem")
    inter.sign(ec_csr, expired, "v3_leaf_localhost", now - 400 * day, now - 30 * day)
    cat(path("expired-chain.pem"), expired, inter.cert)
    notyet = os.path.join(work, "notyet.pem")
    inter.sign(ec_csr, notyet, "v3_leaf_localhost", now + 30 * day, now + 400 * day)
    cat(path("notyet-chain.pem"), notyet, inter.cert)

    wrong = os.path.join(work, "wronghost.pem")
    inter.sign(wrong_csr, wrong, "v3_leaf_wrong", *valid)
    cat(path("wronghost-chain.pem"), wrong, inter.cert)
    wild = os.path.join(work, "wild-suffix.pem")
    inter.sign(wrong_csr, wild, "v3_leaf_wild_private_suffix", *valid)
    cat(path("wild-suffix-chain.pem"), wild, inter.cert)

    self_cnf = os.path.join(work, "selfsigned.cnf")
    with open(self_cnf, "w", encoding="ascii") as f:
        f.write(SELF_SIGNED_CNF)
    openssl("req", "-x509", "-new", "-config", self_cnf, "-key", out["ecdsa.key"],
            "-days", "365", "-out", path("selfsigned.pem"))

    unknown = os.path.join(work, "unknownroot.pem")
    other.sign(ec_csr, unknown, "v3_leaf_localhost", *valid)
    cat(path("unknownroot-chain.pem"), unknown, other.cert)

    shutil.copy(out["ecdsa.pem"], path("missing-intermediate.pem"))

    pins = {"ecdsa": spki_pin(out["ecdsa.pem"]), "rsa": spki_pin(out["rsa.pem"]),
            "other": spki_pin(other.cert)}
    with open(path("pins.json"), "w", encoding="ascii") as f:
        json.dump(pins, f, indent=1)
    build_devices(work, now, path)
    return sorted(out)


def build_devices(work, now, path):
    """The client PKI: device root, device CA, and the device files (module doc)."""
    day = datetime.timedelta(days=1)
    valid = (now - day, now + 365 * day)
    device_dn = ["-policy", "device_policy", "-preserveDN"]
    root = make_root(work, "client-root", "alertpost test device root", now)
    inter = make_intermediate(work, root, "client-intermediate", "alertpost test device CA",
                              now)
    unknown = make_root(work, "device-unknown", "alertpost unknown device root", now)
    shutil.copy(root.cert, path("client-root.pem"))
    shutil.copy(inter.cert, path("client-intermediate.pem"))

    key, rsa_key = path("device.key"), path("device-rsa.key")
    new_ec_key(key)
    new_rsa_key(rsa_key)
    csr, rsa_csr = os.path.join(work, "device.csr"), os.path.join(work, "device-rsa.csr")
    new_csr(key, None, csr, inter.cnf, subject=DEVICE_SUBJECT)
    new_csr(rsa_key, None, rsa_csr, inter.cnf, subject=DEVICE_SUBJECT)

    inter.sign(csr, path("device.pem"), "v3_device", *valid, extra=device_dn)
    cat(path("device-chain.pem"), path("device.pem"), inter.cert)
    inter.sign(rsa_csr, path("device-rsa.pem"), "v3_device", *valid, extra=device_dn)
    cat(path("device-rsa-chain.pem"), path("device-rsa.pem"), inter.cert)
    expired = os.path.join(work, "device-expired.pem")
    inter.sign(csr, expired, "v3_device", now - 400 * day, now - 30 * day, extra=device_dn)
    cat(path("device-expired-chain.pem"), expired, inter.cert)
    stranger = os.path.join(work, "device-unknown.pem")
    unknown.sign(csr, stranger, "v3_device", *valid, extra=device_dn)
    cat(path("device-unknown-chain.pem"), stranger, unknown.cert)
    cat(path("device-combined.pem"), path("device-chain.pem"), key)
    build_device_keys(key, rsa_key, path)


def not_after(cert):
    """The certificate's notAfter as "YYYY-MM-DD HH:MM:SS UTC" (what alertpost -v shows)."""
    text = openssl("x509", "-in", cert, "-noout", "-enddate").decode("ascii").strip()
    when = datetime.datetime.strptime(text.split("=", 1)[1], "%b %d %H:%M:%S %Y GMT")
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def build_device_keys(key, rsa_key, path):
    """The device key in each encoding the CLI reads, and one that matches nothing."""
    secret = "pass:" + KEY_PASSPHRASE
    openssl("pkey", "-in", key, "-traditional", "-aes-256-cbc", "-passout", secret,
            "-out", path("device-enc-trad.key"))
    openssl("pkcs8", "-topk8", "-in", key, "-v2", "aes-256-cbc", "-passout", secret,
            "-out", path("device-enc-pkcs8.key"))
    openssl("pkcs8", "-topk8", "-nocrypt", "-in", key, "-outform", "DER",
            "-out", path("device-pkcs8.der"))
    openssl("ec", "-in", key, "-outform", "DER", "-out", path("device-sec1.der"))
    openssl("rsa", "-in", rsa_key, "-traditional", "-outform", "DER",
            "-out", path("device-rsa-pkcs1.der"))
    new_ec_key(path("device-other.key"))
    # The encodings are what the cases claim: say so here, not in a failing case.
    for name, marker in (("device-enc-trad.key", b"DEK-Info: AES-256-CBC,"),
                         ("device-enc-pkcs8.key", b"BEGIN ENCRYPTED PRIVATE KEY")):
        with open(path(name), "rb") as f:
            if marker not in f.read():
                sys.stderr.write("pki.py: %s lacks %r\n" % (name, marker))
                raise SystemExit(1)


def complete(target):
    try:
        with open(os.path.join(target, "manifest.json"), encoding="ascii") as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return False
    if manifest.get("version") != MANIFEST_VERSION:
        return False
    # Leaves made for "now" stop being valid one day; remake them well before.
    if manifest.get("made", 0) + 200 * 86400 < datetime.datetime.now().timestamp():
        return False
    return all(os.path.exists(os.path.join(target, n)) for n in manifest.get("files", []))


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: pki.py DIR\n")
        return 2
    target = os.path.abspath(sys.argv[1])
    if complete(target):
        return 0
    os.makedirs(target, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    # Built aside, then moved in, so a half-made set is never taken for a whole one.
    work = tempfile.mkdtemp(prefix=".pki-", dir=target)
    try:
        names = build(work, now)
        expires = not_after(os.path.join(work, "device.pem"))
        for name in names:
            os.replace(os.path.join(work, name), os.path.join(target, name))
        with open(os.path.join(target, "manifest.json.tmp"), "w", encoding="ascii") as f:
            json.dump({"version": MANIFEST_VERSION, "made": now.timestamp(), "files": names,
                       "key_passphrase": KEY_PASSPHRASE, "device_cn": DEVICE_CN,
                       "device_expires": expires}, f, indent=1)
        os.replace(os.path.join(target, "manifest.json.tmp"),
                   os.path.join(target, "manifest.json"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("pki.py: test PKI in %s" % target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
