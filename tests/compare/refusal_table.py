#!/usr/bin/env python3
"""What alertpost refuses, next to curl and Python requests, as a Markdown table.

  refusal_table.py --it-pki DIR --x509-pki DIR --alertpost BIN --alertpost2 BIN
                   --work DIR [--out FILE]

Each case is one weak or wrong TLS server on loopback (the sink of
tests/integration, or openssl s_server where the sink cannot act the part),
with certificates from the existing generators (tests/integration/pki.py,
tests/unit/tls/x509_pki.py). Against the same server, in turn: alertpost on
Mbed TLS 3.6, alertpost on 2.28, Debian's curl and Debian's python3-requests
(run with /usr/bin/python3). A cell says "delivered" when the server recorded
the request, else "refused" with the exit code or exception class.

Asserted: both alertpost lines refuse every case (exit 1 otherwise). The
peers' cells are measurements; a peer that cannot be run at all is a skip
(exit 77), or a failure in CI (CI=true), where cmake/setup.sh installs it.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from peers import OpenSSLServer, PeerError, PySink  # noqa: E402
from run_case import in_ci  # noqa: E402

SKIP = 77
CLIENT_TIMEOUT = 15
SYSTEM_PYTHON = "/usr/bin/python3"
COLUMNS = ("ap3", "ap2", "curl", "requests")
HEADERS = ("alertpost 3.6", "alertpost 2.28", "curl", "requests")
LOW_SECLEVEL = ["--ciphers", "DEFAULT@SECLEVEL=0"]  # lets the sink load SHA-1/RSA-1024

# Run by the system python: requests as Debian ships it. The host is mapped to
# loopback in this process only (requests has no --resolve).
REQUESTS_DRIVER = r"""
import socket, sys
import requests
url, root, host = sys.argv[1:4]
real = socket.getaddrinfo
def lookup(name, *a, **kw):
    return real("127.0.0.1" if name == host else name, *a, **kw)
socket.getaddrinfo = lookup
try:
    r = requests.post(url, data=b"x", verify=root, timeout=10)
    print("HTTP %d" % r.status_code)
except Exception as e:
    print(type(e).__name__)
    sys.exit(1)
"""


class Case:
    """name: the row; sink: PySink keyword arguments, or s_server: OpenSSLServer ones;
    pki: 'it' or 'x509' (which root the clients trust); host: the URL's host."""

    def __init__(self, name, pki="it", host="localhost", sink=None, s_server=None, pin=False,
                 notes=None):
        self.name, self.pki, self.host = name, pki, host
        self.sink, self.s_server, self.pin = sink, s_server, pin
        self.notes = notes or {}  # column -> why that cell does not test the client


def x509(leaf, inter="inter", key="ec.key", extra=()):
    """PySink arguments for an x509_pki.py leaf, sent with its intermediate."""
    return {"cert": "{x509}/%s.pem" % leaf, "key": "{x509}/%s" % key,
            "extra": ["--chain", "{x509}/%s.pem" % inter] + list(extra)}


CASES = [
    Case("TLS 1.0 only", sink={"tls_min": "1.0", "tls_max": "1.0"}),
    Case("TLS 1.1 only", sink={"tls_min": "1.1", "tls_max": "1.1"}),
    Case("CBC suites only (TLS 1.2)", sink={"tls_max": "1.2", "extra": [
        "--ciphers", "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA"]}),
    Case("static RSA suites only (TLS 1.2)", sink={
        "cert": "rsa-chain.pem", "key": "rsa.key", "tls_max": "1.2",
        "extra": ["--ciphers", "AES128-GCM-SHA256:AES256-GCM-SHA384"]}),
    Case("expired", sink={"cert": "expired-chain.pem"}),
    Case("not yet valid", sink={"cert": "notyet-chain.pem"}),
    Case("wrong host", sink={"cert": "wronghost-chain.pem"}),
    Case("self-signed", sink={"cert": "selfsigned.pem"}),
    Case("unknown root", sink={"cert": "unknownroot-chain.pem"}),
    Case("missing intermediate", sink={"cert": "missing-intermediate.pem"}),
    Case("CN only, no SAN", "x509", sink=x509("nosan")),
    Case("`https://127.0.0.1`, SAN DNS:127.0.0.1 and CN=127.0.0.1", "x509", "127.0.0.1",
         sink=x509("dns-for-ip")),
    Case("nameConstraints of the intermediate exclude the host (127.0.0.0/8)", "x509",
         "127.0.0.1", sink=x509("excl-ip", inter="inter-excl")),
    Case("server certificate is a CA", "x509", sink=x509("ca-leaf")),
    Case("leaf EKU clientAuth only", "x509", sink=x509("eku-client")),
    # In TLS 1.2 the sink's OpenSSL will not sign with such a leaf: no shared cipher.
    Case("leaf keyUsage keyCertSign only", "x509", sink=x509("keycertsign"), notes={
        "ap2": "in TLS 1.2 the server's OpenSSL itself refuses to use this leaf "
               "(no shared cipher): the certificate never reaches the 2.28 build"}),
    Case("leaf with a critical unknown extension", "x509", sink=x509("crit-unknown")),
    Case("wildcard over a public suffix (`*.co.uk`)", "x509", "alerts.co.uk",
         sink=x509("wild-couk")),
    Case("SHA-1 signed leaf", "x509", sink=x509("sha1", extra=LOW_SECLEVEL)),
    Case("RSA-1024 leaf", "x509", sink=x509("rsa1024", key="rsa1024.key", extra=LOW_SECLEVEL)),
    Case("key exchange on secp192r1 only (TLS 1.2)", s_server={
        "version": "1.2", "extra": ["-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256@SECLEVEL=0",
                                    "-groups", "prime192v1"]}),
    Case("SPKI pin mismatch (requests: no pinning)", pin=True, sink={}),
]


def fill(value, opts):
    if isinstance(value, list):
        return [fill(v, opts) for v in value]
    return value.replace("{x509}", opts.x509_pki) if isinstance(value, str) else value


def client_argv(col, case, opts, port, root, pin):
    url = "https://%s:%d/alerts" % (case.host, port)
    resolve = "%s:%d:127.0.0.1" % (case.host, port)
    if col in ("ap3", "ap2"):
        argv = [opts.alertpost if col == "ap3" else opts.alertpost2, "--cacert", root,
                "--max-time", "8", "-d", "x"]
        if case.host != "127.0.0.1":
            argv += ["--resolve", resolve]
        return argv + (["--pinnedpubkey", pin] if case.pin else []) + [url]
    if col == "curl":
        argv = ["curl", "-sS", "--max-time", "8", "--cacert", root, "-d", "x", "-o", os.devnull]
        if case.host != "127.0.0.1":
            argv += ["--resolve", resolve]
        return argv + (["--pinnedpubkey", pin] if case.pin else []) + [url]
    return [SYSTEM_PYTHON, "-c", REQUESTS_DRIVER, url, root, case.host]


def run_client(argv, work):
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=CLIENT_TIMEOUT, cwd=work,
                              check=False)
    except subprocess.TimeoutExpired:
        return None, "", "timed out"
    return (proc.returncode, proc.stdout.decode("utf-8", "replace").strip(),
            proc.stderr.decode("utf-8", "replace").strip())


def verdict(col, code, out, delivered):
    if delivered:
        return "delivered"
    if code is None:
        return "refused (timeout)"
    if col == "requests":
        return "refused (%s)" % (out.splitlines()[-1] if out else "exit %d" % code)
    return "refused (exit %d)" % code


def start_peer(case, opts, work):
    if case.s_server is not None:
        peer = OpenSSLServer(**case.s_server)
    else:
        peer = PySink(**{k: fill(v, opts) for k, v in case.sink.items()})
    pki = opts.it_pki
    peer.start(work, pki)
    return peer


def measure_case(case, opts, cols, pin):
    """One row: {column: cell}, and the alertpost columns' (code, stderr) for failures."""
    root = os.path.join(opts.x509_pki if case.pki == "x509" else opts.it_pki, "root.pem")
    row, detail = {}, {}
    work = os.path.join(opts.work, "case%02d" % CASES.index(case))
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    peer = None
    try:
        for col in cols:
            # s_server accepts one connection: a fresh one for each client.
            if peer is None or case.s_server is not None:
                if peer is not None:
                    peer.stop()
                peer = start_peer(case, opts, work)
                before = 0
            code, out, err = run_client(client_argv(col, case, opts, peer.port, root, pin), work)
            peer.settle()
            seen = len(peer.received().requests)
            row[col] = verdict(col, code, out, seen > before)
            if col in case.notes:
                row[col] += " [%d]" % (list(CASES).index(case) + 1)
            detail[col] = (code, err or out)
            before = seen
    finally:
        if peer is not None:
            peer.stop()
    return row, detail


def peers_available(opts):
    """The columns that can run here, and why any other cannot."""
    cols, missing = ["ap3"], []
    if opts.alertpost2 and os.path.exists(opts.alertpost2):
        cols.append("ap2")
    else:
        missing.append("alertpost-mbedtls2 (not built)")
    if shutil.which("curl"):
        cols.append("curl")
    else:
        missing.append("curl (Debian package curl)")
    probe = run_client([SYSTEM_PYTHON, "-c", "import requests"], opts.work) \
        if os.path.exists(SYSTEM_PYTHON) else (1, "", "")
    if probe[0] == 0:
        cols.append("requests")
    else:
        missing.append("requests (Debian package python3-requests, for /usr/bin/python3)")
    return cols, missing


def versions(opts, cols):
    parts = []
    for col, binary in (("ap3", opts.alertpost), ("ap2", opts.alertpost2)):
        if col in cols:
            out = run_client([binary, "--version"], opts.work)[1]
            parts.append(out[out.find("(") + 1:out.rfind(")")] if "(" in out else out)
    if "curl" in cols:
        parts.append(run_client(["curl", "--version"], opts.work)[1].splitlines()[0])
    if "requests" in cols:
        code, out, _ = run_client([SYSTEM_PYTHON, "-c", "import requests, ssl; print("
                                   "'requests ' + requests.__version__ + ' (' + "
                                   "ssl.OPENSSL_VERSION + ')')"], opts.work)
        parts.append(out if code == 0 else "requests: unknown version")
    return parts


def table(rows, cols):
    lines = ["| case | " + " | ".join(HEADERS) + " |",
             "|---|" + "---|" * len(HEADERS)]
    notes = []
    for case, row in rows:
        lines.append("| %s | %s |" % (case.name,
                                      " | ".join(row.get(c, "not run") for c in COLUMNS)))
        notes += ["[%d] %s" % (CASES.index(case) + 1, n) for c, n in case.notes.items()
                  if c in row]
    return "\n".join(lines) + "\n" + "".join("\n" + n + "\n" for n in notes)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--it-pki", required=True, help="tests/integration/pki.py's directory")
    ap.add_argument("--x509-pki", required=True, help="tests/unit/tls/x509_pki.py's directory")
    ap.add_argument("--alertpost", required=True)
    ap.add_argument("--alertpost2")
    ap.add_argument("--work", required=True)
    ap.add_argument("--out")
    opts = ap.parse_args()
    os.makedirs(opts.work, exist_ok=True)
    with open(os.path.join(opts.it_pki, "pins.json"), encoding="ascii") as f:
        pin = json.load(f)["other"]
    cols, missing = peers_available(opts)
    started = time.monotonic()
    rows, bugs = [], []
    for case in CASES:
        try:
            row, detail = measure_case(case, opts, cols, pin)
        except PeerError as e:
            sys.stderr.write("FAIL: %s: the server did not start: %s\n" % (case.name, e))
            return 1
        rows.append((case, row))
        for col in ("ap3", "ap2"):
            if col in row and not row[col].startswith("refused"):
                bugs.append("%s: %s %s (exit %s): %s" % (case.name, col, row[col],
                                                         detail[col][0], detail[col][1]))
    text = table(rows, cols)
    measured = "Measured with " + ", ".join(versions(opts, cols)) + ".\n"
    sys.stdout.write(text + "\n" + measured)
    sys.stderr.write("%d cases in %.1f s\n" % (len(rows), time.monotonic() - started))
    if opts.out:
        with open(opts.out, "w", encoding="utf-8") as f:
            f.write(text + "\n" + measured)
    for bug in bugs:
        sys.stderr.write("FAIL: alertpost delivered: %s\n" % bug)
    if bugs:
        return 1
    if missing:
        what = "; ".join(missing)
        if in_ci():
            sys.stderr.write("FAIL: in CI every peer must run; missing: %s\n" % what)
            return 1
        sys.stderr.write("SKIP: missing: %s (run cmake/setup.sh)\n" % what)
        return SKIP
    return 0


if __name__ == "__main__":
    sys.exit(main())
