#!/usr/bin/env python3
"""Integration cases: the alertpost CLI against real TLS peers on loopback.

  run_case.py --list
      one line per case: NAME|LABELS|NEEDS  (NEEDS: ap3, ap2, legacy, witness, netns)
  run_case.py --case NAME --pki DIR --work DIR --alertpost BIN
              [--alertpost2 BIN] [--legacy BIN]
      starts the case's peer, runs its steps (the CLI, or the legacy witness),
      and checks each step's exit code and stderr, then what the peer received:
      the exact body for a delivery, no HTTP byte at all for a refusal.
      Exit 0 pass, 1 fail, 77 skipped (ctest SKIP_RETURN_CODE).

Every case is one entry of CASES below; a hostile-server "refusal matrix" is
more entries with a peer mode from sink.py. Placeholders in arguments:
{url} https://localhost:PORT/alerts, {port}, {pki}, {work}, {pin_ecdsa},
{pin_rsa}, {pin_other}, {device_expires} (device.pem's notAfter, as alertpost -v
shows it), in arguments and in the stderr a step expects.
"""

import argparse
import json
import os
import re
import socket
import shutil
import subprocess
import sys
import time

# The helpers are imported from the source tree, which must stay free of build output.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import (SERVER_VERSION_NAMES, ApacheServer, GnuTLSServer,  # noqa: E402
                   HAProxyServer, LighttpdServer, LyingServerHello, NginxEarlyData,
                   NginxPipeline, NginxResume, NginxServer, OpenSSLServer, PeerError, PySink,
                   RefusedPort, SilentPort)
import cases_mtls  # noqa: E402
import cases_sessions  # noqa: E402
import cases_pipeline  # noqa: E402

SKIP = 77
WITNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mtls_witness.py")
STEP_TIMEOUT = 15.0   # per CLI run; the CLI's own --max-time is below it
CLI_MAX_TIME = "8"

# Exit codes of the CLI contract.
EXIT_OK, EXIT_USAGE, EXIT_CONNECT, EXIT_VERSION, EXIT_CERT, EXIT_TLS, EXIT_HTTP = 0, 2, 3, 4, 5, 6, 7

# Version names as Python's ssl module reports them on the server side.
PY_VERSION = {"1.0": "TLSv1", "1.1": "TLSv1.1", "1.2": "TLSv1.2", "1.3": "TLSv1.3"}


class Step:
    """One program run. cli: 'ap3' (alertpost), 'ap2' (alertpost-mbedtls2), 'legacy',
    'witness' (mtls_witness.py, Python's ssl as a mutual-TLS client)."""

    def __init__(self, cli, args, exit, stderr=(), stdout=(), stdin=None, standard=True,
                 max_seconds=None, min_seconds=None, env=None, stdout_bytes=None,
                 close_stdout=False, stderr_lacks=(), files_after=None):
        # env: variables set (value) or removed (None) for this run; stdout_bytes: the
        # exact stdout expected; close_stdout: stdout is a pipe nobody reads (closed);
        # stderr_lacks: texts that must not appear; files_after: name -> exact bytes
        self.env = env or {}
        self.stdout_bytes = stdout_bytes
        self.close_stdout = close_stdout
        self.stderr_lacks = list(stderr_lacks)
        self.files_after = files_after or {}
        self.cli = cli
        self.args = list(args)
        self.exit = exit if isinstance(exit, (set, frozenset, tuple)) else (exit,)
        self.stderr = list(stderr)
        self.stdout = list(stdout)
        self.stdin = stdin
        # standard: prepend --cacert, --resolve and --max-time, and append {url}.
        self.standard = standard and cli in ("ap3", "ap2")
        self.max_seconds = max_seconds
        self.min_seconds = min_seconds  # a timeout that ends early is wrong too


class Case:
    def __init__(self, name, peer, steps, checks=(), labels=(), files=None, skip_if=None):
        self.name = name
        # skip_if: None, or a function giving the reason this case cannot run
        # on this machine (None when it can)
        self.skip_if = skip_if
        self.peer = peer          # a callable making a fresh peers.Peer
        self.steps = steps
        self.checks = list(checks)
        self.labels = ["integration"] + list(labels)
        self.files = files or {}  # name -> bytes, written into the work dir first

    def needs(self):
        out = {s.cli for s in self.steps}
        if getattr(self.peer(), "needs_netns", False):
            out.add("netns")
        return sorted(out)


def localhost_unresolvable():
    """Why "localhost" cannot be looked up here (no /etc/hosts, say), or None."""
    try:
        socket.getaddrinfo("localhost", 443, proto=socket.IPPROTO_TCP)
    except OSError as e:
        return "the system resolver does not know 'localhost' here (%s)" % e
    return None


# ---------------------------------------------------------------- checks on the peer

def nothing(handshake_may_complete=False):
    """A refusal: not one HTTP byte reached the server."""
    def check(got, ctx):
        errs = []
        if got.connections == 0:
            # A client that gives up without trying must not pass for one that refused.
            errs.append("the server saw no connection from the client, expected a refused "
                        "handshake")
        if got.http_bytes_seen():
            errs.append("the server received HTTP data, expected nothing")
        if not handshake_may_complete and got.known_handshakes and got.handshakes_ok:
            errs.append("a TLS session was established (%r), expected the handshake refused"
                        % got.handshakes_ok)
        return errs
    return check


def never_connected():
    """A usage error: the CLI must refuse before opening any connection."""
    def check(got, ctx):
        if (got.http_bytes_seen() or got.handshakes_ok or got.handshakes_failed
                or got.connections):
            return ["the CLI reached the server, expected it to stop at the usage check"]
        return []
    return check


def delivered(body, version=None, content_type="application/json"):
    """Exactly one POST whose body is byte-for-byte `body`."""
    def check(got, ctx):
        errs = []
        if len(got.requests) != 1:
            return ["expected exactly 1 request, the server received %d" % len(got.requests)]
        req = got.requests[0]
        if req["method"] != "POST":
            errs.append("method %r, expected POST" % req["method"])
        if req["path"] != "/alerts":
            errs.append("path %r, expected /alerts" % req["path"])
        if req["body"] != body:
            errs.append("body differs: got %d bytes %r..., expected %d bytes %r..." % (
                len(req["body"]), req["body"][:60], len(body), body[:60]))
        if content_type:
            types = [v for k, v in req["headers"] if k.lower() == "content-type"]
            if types != [content_type]:
                errs.append("Content-Type header(s) %r, expected exactly [%r]" % (
                    types, content_type))
        if version and got.known_handshakes and got.handshakes_ok != [version]:
            errs.append("server negotiated %r, expected [%r]" % (got.handshakes_ok, version))
        if got.raw:
            errs.append("trailing bytes after the request: %r" % got.raw[:80])
        return errs
    return check


def requests_on_one_connection(bodies):
    def check(got, ctx):
        errs = []
        seen = [r["body"] for r in got.requests]
        if seen != bodies:
            errs.append("request bodies %r, expected %r" % (seen, bodies))
        conns = {r["conn"] for r in got.requests}
        if len(conns) != 1:
            errs.append("requests came on %d connections, expected 1 (keep-alive)" % len(conns))
        if got.known_handshakes and len(got.handshakes_ok) != 1:
            errs.append("%d TLS handshakes, expected 1" % len(got.handshakes_ok))
        return errs
    return check


def bodies_once_each(bodies, connections):
    """Each body reached the server exactly once, in order, over that many connections."""
    def check(got, ctx):
        errs = []
        seen = [r["body"] for r in got.requests]
        if seen != bodies:
            errs.append("request bodies %r, expected each of %r once" % (seen, bodies))
        conns = {r["conn"] for r in got.requests}
        if len(conns) != connections:
            errs.append("requests came on %d connections, expected %d" % (len(conns),
                                                                          connections))
        return errs
    return check


def closed_cleanly(count, connections):
    """nginx answered `count` requests 204 on that many connections, and never logged
    a connection reset: the client read the server's close before closing."""
    def check(got, ctx):
        errs = []
        codes = [r["status"] for r in got.requests]
        if codes != [204] * count:
            errs.append("nginx answered %r, expected %d times 204" % (codes, count))
        if got.connections != connections:
            errs.append("nginx saw %d connections, expected %d" % (got.connections, connections))
        resets = [l for l in got.log.splitlines() if "reset by peer" in l.lower()]
        if resets:
            errs.append("nginx logged a reset: %s" % resets[0])
        return errs
    return check


def resumed_after_first(count, version):
    """nginx answered `count` requests 204 on `count` connections of TLS `version`, and
    resumed the session of every connection after the first (its $ssl_session_reused)."""
    def check(got, ctx):
        errs = []
        codes = [r["status"] for r in got.requests]
        if codes != [204] * count:
            errs.append("nginx answered %r, expected %d times 204" % (codes, count))
        if got.connections != count:
            errs.append("nginx saw %d connections, expected %d" % (got.connections, count))
        reused = [r.get("reused") for r in got.requests]
        if reused != [False] + [True] * (count - 1):
            errs.append("nginx resumed %r, expected every connection after the first" % reused)
        return errs
    return check


QUEUE_KEYS = "the queue's own"


def early_data_as(lines, early, key, first_flights=None):
    """nginx answered one request 204 per line, in order and each once (its
    Content-Length is the line's length), on one connection each, every one after the
    first resumed; `early` lists which arrived as 0-RTT early data ($ssl_early_data),
    and each carried the Idempotency-Key `key` (None: none; QUEUE_KEYS: one of its
    own, made by the queue). `first_flights`: the
    record types each connection's first flight had (NginxEarlyData's gate)."""
    def check(got, ctx):
        errs = []
        if first_flights is not None and got.first_flights != first_flights:
            errs.append("the client's first flights had records %r, expected %r"
                        % (got.first_flights, first_flights))
        count = len(lines)
        codes = [r["status"] for r in got.requests]
        if codes != [204] * count:
            errs.append("nginx answered %r, expected %d times 204" % (codes, count))
        if got.connections != count:
            errs.append("nginx saw %d connections, expected %d" % (got.connections, count))
        lengths = [r["length"] for r in got.requests]
        if lengths != [len(l) for l in lines]:
            errs.append("nginx got bodies of %r bytes, expected %r (each line once)"
                        % (lengths, [len(l) for l in lines]))
        reused = [r.get("reused") for r in got.requests]
        if reused != [False] + [True] * (count - 1):
            errs.append("nginx resumed %r, expected every connection after the first" % reused)
        got_early = [r.get("early") for r in got.requests]
        if got_early != list(early):
            errs.append("nginx took early data %r, expected %r" % (got_early, list(early)))
        keys = [r.get("key") for r in got.requests]
        if key == QUEUE_KEYS:
            if None in keys or len(set(keys)) != count:
                errs.append("nginx logged Idempotency-Keys %r, expected one per alert" % keys)
        elif keys != [key] * count:
            errs.append("nginx logged Idempotency-Keys %r, expected %r" % (keys, key))
        return errs
    return check


def too_early_retried(lines, key):
    """nginx answered the first line 204, then each later one first 425 Too Early as
    early data and then 204 on a new resumed connection without early data: each
    alert processed once (a 425 is not processed), in order."""
    def check(got, ctx):
        want = [(204, len(lines[0]), False, False)]
        for line in lines[1:]:
            want += [(425, len(line), True, True), (204, len(line), True, False)]
        seen = [(r["status"], r["length"], r.get("reused"), r.get("early"))
                for r in got.requests]
        errs = []
        if seen != want:
            errs.append("nginx logged (status, length, resumed, early data) %r, expected %r"
                        % (seen, want))
        if got.connections != len(want):
            errs.append("nginx saw %d connections, expected %d" % (got.connections, len(want)))
        if [r.get("key") for r in got.requests] != [key] * len(want):
            errs.append("an attempt without the Idempotency-Key %r" % key)
        return errs
    return check


def no_nginx():
    return None if shutil.which("nginx") else "nginx is not installed (cmake/setup.sh installs it)"


def has_header(name, value):
    def check(got, ctx):
        if not got.requests:
            return ["no request received"]
        want = fill(value, ctx)
        have = header_value(got.requests[0], name)
        if have != want:
            return ["header %s: %r, expected %r" % (name, have, want)]
        return []
    return check


def handshakes(versions):
    def check(got, ctx):
        if got.handshakes_ok != versions:
            return ["server completed handshakes %r, expected %r" % (got.handshakes_ok, versions)]
        return []
    return check


def fill(text, ctx):
    """Substitutes {name} placeholders known to ctx; other braces (JSON) stay as they are."""
    return re.sub(r"\{(\w+)\}", lambda m: str(ctx.get(m.group(1), m.group(0))), text)


def header_value(req, name):
    for k, v in req["headers"]:
        if k.lower() == name.lower():
            return v
    return None


# ---------------------------------------------------------------- the cases

def alert(tag):
    return ('{"alert":"disk full","host":"db-1","case":"%s"}' % tag).encode()


CASES = []


def add(case):
    assert case.name not in {c.name for c in CASES}, case.name
    CASES.append(case)


CLIS = {"ap3": "alertpost", "ap2": "alertpost-mbedtls2"}

# The protocol-version matrix: servers offering exactly one version, or all of them,
# from two TLS stacks (Python's ssl and openssl s_server), against both builds.
SERVER_RANGES = {"1.0": ("1.0", "1.0"), "1.1": ("1.1", "1.1"), "1.2": ("1.2", "1.2"),
                 "1.3": ("1.3", "1.3"), "1.0-1.3": ("1.0", "1.3")}

for peer_kind in ("sink", "s_server"):
    for srv, (lo, hi) in SERVER_RANGES.items():
        for cli in ("ap3", "ap2"):
            name = "tls_version.%s_%s.%s" % (peer_kind, srv, CLIS[cli])
            if peer_kind == "sink":
                def peer(lo=lo, hi=hi):
                    return PySink(tls_min=lo, tls_max=hi)
            else:
                def peer(lo=lo, hi=hi):
                    return OpenSSLServer(version=None if lo != hi else lo)
            body = alert(name)
            client_top = "1.3" if cli == "ap3" else "1.2"  # 2.28 has no TLS 1.3
            top = min(hi, client_top)
            if hi < "1.2" or lo > client_top:
                # Nothing in common above the floor (or TLS 1.3 only, which 2.28 lacks).
                want = []
                if srv in ("1.0", "1.1"):
                    # The refusal names the floor; 2.28 also reads the server's version
                    # from its ServerHello, so it can name that too (3.6 only sees an alert).
                    want = ["TLS " + srv, "1.2"] if cli == "ap2" else ["1.2"]
                if srv in ("1.0", "1.1"):
                    want.append("The limit is the server's")
                elif cli == "ap2":
                    want.append("this build's ceiling, TLS 1.2 (Mbed TLS 2.28")
                step = Step(cli, ["-d", body.decode()], EXIT_VERSION, stderr=want)
                checks = [nothing()]
            else:
                step = Step(cli, ["-v", "-d", body.decode()], EXIT_OK, stderr=["TLS " + top])
                checks = [delivered(body, PY_VERSION[top])]
            add(Case(name, peer, [step], checks, labels=["tls_version"]))

add(Case("tls_version.min13_vs_server12.alertpost",
         lambda: PySink(tls_min="1.2", tls_max="1.2"),
         [Step("ap3", ["--tls-min", "1.3", "-d", "x"], EXIT_VERSION,
               stderr=["this client's minimum, TLS 1.3 (tls_min, the CLI's --tls-min)"])],
         [nothing()], labels=["tls_version"]))
add(Case("tls_version.max12_vs_server13.alertpost",
         lambda: PySink(tls_min="1.2", tls_max="1.3"),
         [Step("ap3", ["-v", "--tls-max", "1.2", "-d", alert("max12").decode()], EXIT_OK,
               stderr=["TLS 1.2"])],
         [delivered(alert("max12"), "TLSv1.2")], labels=["tls_version"]))
add(Case("tls_version.max12_vs_server13_only.alertpost",
         lambda: PySink(tls_min="1.3", tls_max="1.3"),
         [Step("ap3", ["--tls-max", "1.2", "-d", "x"], EXIT_VERSION,
               stderr=["this client's maximum, TLS 1.2 (tls_max, the CLI's --tls-max)"])],
         [nothing()], labels=["tls_version"]))
for cli in ("ap3", "ap2"):
    for opt, ver in (("--tls-min", "1.0"), ("--tls-min", "1.1"), ("--tls-max", "1.1"),
                     ("--tls-max", "1.0")):
        add(Case("tls_version.usage_%s_%s.%s" % (opt.strip("-").replace("-", "_"), ver,
                                                 CLIS[cli]),
                 lambda: PySink(tls_min="1.0", tls_max="1.3"),
                 [Step(cli, [opt, ver, "-d", "x"], EXIT_USAGE, stderr=[ver])],
                 [never_connected()], labels=["tls_version", "usage"]))

# A server that claims TLS 1.0/1.1 in its ServerHello even though only TLS 1.2 suites
# were offered: the client's own version check is what must refuse, before any byte
# of HTTP, whatever the suite.
for cli in ("ap3", "ap2"):
    for ver in ("1.0", "1.1"):
        add(Case("tls_version.lying_serverhello_%s.%s" % (ver, CLIS[cli]),
                 lambda ver=ver: LyingServerHello(version=ver),
                 [Step(cli, ["-d", "x"], EXIT_VERSION, stderr=["TLS " + ver, "1.2"])],
                 [nothing()], labels=["tls_version", "hostile"]))

# A second, independent TLS implementation (GnuTLS). Its echo server is not HTTP, so a
# completed post ends in "invalid response": the handshake is what these cases show.
add(Case("gnutls.tls13.alertpost", lambda: GnuTLSServer(version="1.3"),
         [Step("ap3", ["-v", "-d", "x"], EXIT_HTTP, stderr=["TLS 1.3"])],
         [handshakes(["TLS1.3"])], labels=["tls_version", "gnutls"]))
add(Case("gnutls.tls12.alertpost-mbedtls2", lambda: GnuTLSServer(version="1.2"),
         [Step("ap2", ["-v", "-d", "x"], EXIT_HTTP, stderr=["TLS 1.2"])],
         [handshakes(["TLS1.2"])], labels=["tls_version", "gnutls"]))
for cli in ("ap3", "ap2"):
    for ver in ("1.0", "1.1"):
        add(Case("gnutls.tls%s_only.%s" % (ver.replace(".", ""), CLIS[cli]),
                 lambda ver=ver: GnuTLSServer(version=ver),
                 [Step(cli, ["-d", "x"], EXIT_VERSION)],
                 [handshakes([]), nothing()], labels=["tls_version", "gnutls"]))

# The original failure, side by side on one Mbed TLS 2.28 build and one server:
# the naive client settles for TLS 1.0/1.1 (with a verified certificate), alertpost refuses.
for ver in ("1.0", "1.1"):
    add(Case("witness.legacy_vs_alertpost_tls%s" % ver.replace(".", ""),
             lambda ver=ver: PySink(tls_min=ver, tls_max=ver),
             [Step("legacy", ["{pki}/root.pem", "{port}", "localhost"], EXIT_OK,
                   stdout=["negotiated TLSv%s" % ver]),
              Step("ap2", ["-d", alert("witness").decode()], EXIT_VERSION,
                   stderr=["TLS " + ver, "1.2"])],
             [handshakes([PY_VERSION[ver]]), nothing(handshake_may_complete=True)],
             labels=["witness", "tls_version"]))

# Certificates: only a valid chain to the given root, for the name in the URL, passes.
# name: (server chain, key, words one of which the refusal must use for its reason)
UNTRUSTED = ("trusted", "issuer", "unknown")
BAD_CERTS = {
    "expired": ("expired-chain.pem", "ecdsa.key", ("expired",)),
    "not_yet_valid": ("notyet-chain.pem", "ecdsa.key", ("not valid yet", "not yet valid")),
    "wrong_host": ("wronghost-chain.pem", "ecdsa.key", ("mismatch", "not for")),
    "self_signed": ("selfsigned.pem", "ecdsa.key", UNTRUSTED),
    "unknown_root": ("unknownroot-chain.pem", "ecdsa.key", UNTRUSTED),
    "missing_intermediate": ("missing-intermediate.pem", "ecdsa.key", UNTRUSTED),
}
for cli in ("ap3", "ap2"):
    for label, (cert, key) in (("valid_ecdsa", ("ecdsa-chain.pem", "ecdsa.key")),
                               ("valid_rsa", ("rsa-chain.pem", "rsa.key"))):
        body = alert(label + cli)
        add(Case("cert.%s.%s" % (label, CLIS[cli]),
                 lambda cert=cert, key=key: PySink(cert=cert, key=key),
                 [Step(cli, ["-d", body.decode()], EXIT_OK)],
                 [delivered(body)], labels=["cert"]))
    for label, (cert, key, reason) in BAD_CERTS.items():
        add(Case("cert.%s.%s" % (label, CLIS[cli]),
                 lambda cert=cert, key=key: PySink(cert=cert, key=key),
                 [Step(cli, ["-d", "x"], EXIT_CERT, stderr=[reason])],
                 [nothing()], labels=["cert"]))
    # The same refusals by an OpenSSL peer (expired, and a chain the client cannot build).
    add(Case("cert.s_server_expired.%s" % CLIS[cli],
             lambda: OpenSSLServer(cert="expired-chain.pem", chain=None),
             [Step(cli, ["-d", "x"], EXIT_CERT)], [nothing()], labels=["cert"]))
    add(Case("cert.s_server_missing_intermediate.%s" % CLIS[cli],
             lambda: OpenSSLServer(cert="ecdsa.pem", chain=None),
             [Step(cli, ["-d", "x"], EXIT_CERT)], [nothing()], labels=["cert"]))
    # ECDHE-RSA suites specifically (TLS 1.2, RSA leaf), against Python's ssl, which
    # imposes its own preference and signs with RSA-PSS when the client offers it (the
    # 3.6 build offers it, for TLS 1.3). Mbed TLS 3.6.0 to 3.6.6 refuse that in TLS 1.2
    # (Mbed-TLS/mbedtls#10668); the build's fix (cmake/ApMbedTLSFixes.cmake) verifies
    # it, so both builds deliver.
    body = alert("ecdhe_rsa" + cli)
    rsa_steps = [Step(cli, ["-v", "-d", body.decode()], EXIT_OK, stderr=["TLS 1.2"])]
    rsa_checks = [delivered(body, "TLSv1.2")]
    add(Case("cert.ecdhe_rsa_tls12.%s" % CLIS[cli],
             lambda: PySink(cert="rsa-chain.pem", key="rsa.key", tls_max="1.2",
                            extra=["--ciphers", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"]),
             rsa_steps, rsa_checks, labels=["cert"]))
    # A client limited to TLS 1.2 offers no RSA-PSS, so such a server must sign PKCS#1.
    body = alert("ecdhe_rsa_max12" + cli)
    add(Case("cert.ecdhe_rsa_tls12_client_max12.%s" % CLIS[cli],
             lambda: PySink(cert="rsa-chain.pem", key="rsa.key", tls_max="1.2",
                            extra=["--ciphers", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"]),
             [Step(cli, ["-v", "--tls-max", "1.2", "-d", body.decode()], EXIT_OK,
                   stderr=["TLS 1.2"])],
             [delivered(body, "TLSv1.2")], labels=["cert"]))
    # The same suites with the server signing PKCS#1 v1.5 (OpenSSL prefers RSA-PSS in
    # TLS 1.2 when the client offers it, which exercises a different path).
    body = alert("ecdhe_rsa_pkcs1" + cli)
    add(Case("cert.ecdhe_rsa_tls12_pkcs1.%s" % CLIS[cli],
             lambda: OpenSSLServer(version="1.2", cert="rsa.pem", key="rsa.key",
                                   extra=["-sigalgs", "RSA+SHA256:RSA+SHA384"]),
             [Step(cli, ["-v", "-d", body.decode()], EXIT_OK,
                   stderr=["TLS 1.2", "ECDHE-RSA"])],
             [delivered(body)], labels=["cert"]))
    # Pins: the SPKI of the leaf, checked on top of (never instead of) the chain.
    for label, pins, code in (("pin_correct", "{pin_ecdsa}", EXIT_OK),
                              ("pin_one_of_several", "{pin_other};{pin_ecdsa}", EXIT_OK),
                              ("pin_wrong", "{pin_other}", EXIT_CERT),
                              ("pin_rsa_wrong", "{pin_ecdsa}", EXIT_CERT)):
        rsa = label.startswith("pin_rsa")
        body = alert(label + cli)
        add(Case("cert.%s.%s" % (label, CLIS[cli]),
                 lambda rsa=rsa: PySink(cert="rsa-chain.pem" if rsa else "ecdsa-chain.pem",
                                        key="rsa.key" if rsa else "ecdsa.key"),
                 [Step(cli, ["--pinnedpubkey", pins, "-d", body.decode()], code,
                       stderr=[("pin",)] if code else [])],
                 [delivered(body) if code == EXIT_OK else nothing(handshake_may_complete=True)],
                 labels=["cert", "pin"]))
    # A --resolve'd name is still the one verified: the certificate does not name it.
    add(Case("cert.resolve_other_name.%s" % CLIS[cli], lambda: PySink(),
             [Step(cli, ["--cacert", "{pki}/root.pem", "--max-time", CLI_MAX_TIME,
                         "--resolve", "alerts.invalid:{port}:127.0.0.1", "-d", "x",
                         "https://alerts.invalid:{port}/alerts"], EXIT_CERT, standard=False)],
             [nothing()], labels=["cert"]))
    # A pin is no way around the chain: right pin, unknown root, still refused.
    add(Case("cert.pin_does_not_bypass_chain.%s" % CLIS[cli],
             lambda: PySink(cert="selfsigned.pem"),
             [Step(cli, ["--pinnedpubkey", "{pin_ecdsa}", "-d", "x"], EXIT_CERT)],
             [nothing()], labels=["cert", "pin"]))

body = alert("resolve")
add(Case("cert.resolve_localhost.alertpost", lambda: PySink(),
         [Step("ap3", ["--cacert", "{pki}/root.pem", "--max-time", CLI_MAX_TIME,
                       "--resolve", "localhost:{port}:127.0.0.1", "-d", body.decode(),
                       "https://localhost:{port}/alerts"], EXIT_OK, standard=False)],
         [delivered(body)], labels=["cert"]))
body = alert("system-resolver")
add(Case("cert.system_resolver_localhost.alertpost", lambda: PySink(),
         [Step("ap3", ["--cacert", "{pki}/root.pem", "--max-time", CLI_MAX_TIME,
                       "-d", body.decode(), "https://localhost:{port}/alerts"], EXIT_OK,
               standard=False)],
         [delivered(body)], labels=["cert"], skip_if=localhost_unresolvable))
body = alert("ip-san")
add(Case("cert.ip_san_127.alertpost", lambda: PySink(),
         [Step("ap3", ["--cacert", "{pki}/root.pem", "--max-time", CLI_MAX_TIME,
                       "-d", body.decode(), "https://127.0.0.1:{port}/alerts"], EXIT_OK,
               standard=False)],
         [delivered(body), has_header("Host", "127.0.0.1:{port}")], labels=["cert"]))
body = alert("ip-san-v6")
add(Case("cert.ip_san_ipv6.alertpost", lambda: PySink(host="::1"),
         [Step("ap3", ["--cacert", "{pki}/root.pem", "--max-time", CLI_MAX_TIME,
                       "-d", body.decode(), "https://[::1]:{port}/alerts"], EXIT_OK,
               standard=False)],
         [delivered(body), has_header("Host", "[::1]:{port}")], labels=["cert"]))
add(Case("cert.system_ca_bundle_rejects_test_pki.alertpost", lambda: PySink(),
         [Step("ap3", ["--max-time", CLI_MAX_TIME, "--resolve", "localhost:{port}:127.0.0.1",
                       "-d", "x", "{url}"], EXIT_CERT, standard=False)],
         [nothing()], labels=["cert"]))

# HTTP: what counts as delivered, and what a hostile server cannot pass off as such.
FILE_BODY = ("{\"alert\":\"r\u00e9sum\u00e9 \u2013 caf\u00e9\",\r\n\t\"detail\":\"" +
             "".join(chr(0x20 + (i * 7) % 95) for i in range(17000)) + "\"}").encode("utf-8")
for cli in ("ap3", "ap2"):
    n = CLIS[cli]
    for status, code in ((200, EXIT_OK), (201, EXIT_OK), (204, EXIT_OK), (404, EXIT_HTTP),
                         (503, EXIT_HTTP)):
        body = alert("status%d%s" % (status, cli))
        add(Case("http.status_%d.%s" % (status, n), lambda status=status: PySink(status=status),
                 [Step(cli, ["-d", body.decode()], code,
                       stderr=[str(status)] if code else [])],
                 [delivered(body)], labels=["http"]))
    for mode in ("truncate-body", "close-notify-truncate", "garbage"):
        body = alert(mode + cli)
        add(Case("http.%s.%s" % (mode.replace("-", "_"), n), lambda mode=mode: PySink(mode=mode),
                 [Step(cli, ["-d", body.decode()], EXIT_HTTP)],
                 [delivered(body)], labels=["http", "hostile"]))
    body = alert("chunked" + cli)
    add(Case("http.chunked_200.%s" % n, lambda: PySink(mode="chunked"),
             [Step(cli, ["-d", body.decode()], EXIT_OK)], [delivered(body)], labels=["http"]))
    for mode in ("slow-head", "no-response"):
        # Whatever the verdict, it must be a failure, and come by --max-time.
        add(Case("http.%s_max_time.%s" % (mode.replace("-", "_"), n),
                 lambda mode=mode: PySink(mode=mode, extra=["--slow-delay", "1.0"]),
                 [Step(cli, ["--cacert", "{pki}/root.pem", "--resolve",
                             "localhost:{port}:127.0.0.1", "--max-time", "3", "-d", "x",
                             "{url}"], {EXIT_CONNECT, EXIT_TLS, EXIT_HTTP}, standard=False,
                       max_seconds=6.0)],
                 [delivered(b"x")], labels=["http", "hostile"]))
    add(Case("http.connection_refused.%s" % n, lambda: RefusedPort(),
             [Step(cli, ["--connect-timeout", "3", "-d", "x"], EXIT_CONNECT,
                   max_seconds=6.0)], [], labels=["http"]))
    lines = b"first alert\nsecond alert\n\nthird alert\n"
    add(Case("http.lines_keep_alive.%s" % n, lambda: PySink(),
             [Step(cli, ["--lines"], EXIT_OK, stdin=lines)],
             [requests_on_one_connection([b"first alert", b"second alert", b"third alert"])],
             labels=["http"]))
    # Connection reuse: an idle 408 is not an answer, and a request read but
    # never answered is reported as such, never silently sent again.
    add(Case("http.idle_408_not_an_answer.%s" % n, lambda: PySink(mode="idle-408"),
             [Step(cli, ["-v", "--lines"], EXIT_OK, stdin=b"one\ntwo\nthree\n",
                   stderr=["replaced before the alert was processed"])],
             [bodies_once_each([b"one", b"two", b"three"], connections=3)],
             labels=["http", "hostile", "reuse"]))
    add(Case("http.unanswered_is_not_resent.%s" % n,
             lambda: PySink(mode="close-unanswered", extra=["--answer-first", "1"]),
             [Step(cli, ["--lines"], EXIT_HTTP, stdin=b"one\ntwo\nthree\n",
                   stderr=["may or may not have arrived", "line 2 was sent, outcome unknown"])],
             [bodies_once_each([b"one", b"two"], connections=1)],
             labels=["http", "hostile", "reuse"]))
    # Server-initiated closes (keepalive_requests) and the client's own close
    # at exit: both read the other side's close, so nginx logs no reset.
    add(Case("http.nginx_closes_without_reset.%s" % n,
             lambda: NginxServer(keepalive_requests=3),
             [Step(cli, ["--lines"], EXIT_OK,
                   stdin=b"".join(b"alert %d\n" % i for i in range(7)))],
             [closed_cleanly(7, 3)], labels=["http", "nginx", "reuse"], skip_if=no_nginx))
    add(Case("http.nginx_client_close_without_reset.%s" % n,
             lambda: NginxServer(keepalive_requests=100),
             [Step(cli, ["--lines"], EXIT_OK, stdin=b"a\nb\n")],
             [closed_cleanly(2, 1)], labels=["http", "nginx", "reuse"], skip_if=no_nginx))
    body = alert("header" + cli)
    add(Case("http.extra_header.%s" % n, lambda: PySink(),
             [Step(cli, ["-H", "X-Alert-Source: integration test", "-d", body.decode()],
                   EXIT_OK)],
             [delivered(body), has_header("X-Alert-Source", "integration test"),
              has_header("Host", "localhost:{port}")], labels=["http"]))
    add(Case("http.content_type_override.%s" % n, lambda: PySink(),
             [Step(cli, ["-H", "Content-Type: text/plain", "-d", "plain words"], EXIT_OK)],
             [delivered(b"plain words", content_type="text/plain")], labels=["http"]))
    add(Case("http.data_file_exact.%s" % n, lambda: PySink(),
             [Step(cli, ["-d", "@{work}/body.bin"], EXIT_OK)],
             [delivered(FILE_BODY)], labels=["http"], files={"body.bin": FILE_BODY}))
    add(Case("http.data_stdin_exact.%s" % n, lambda: PySink(),
             [Step(cli, ["-d", "@-"], EXIT_OK, stdin=FILE_BODY[:3000])],
             [delivered(FILE_BODY[:3000])], labels=["http"]))
    add(Case("http.data_file_missing.%s" % n, lambda: PySink(),
             [Step(cli, ["-d", "@{work}/no-such-file"], EXIT_USAGE)],
             [never_connected()], labels=["http", "usage"]))
    add(Case("http.s_server_delivery.%s" % n, lambda: OpenSSLServer(version="1.2"),
             [Step(cli, ["-d", alert("s_server" + cli).decode()], EXIT_OK)],
             [delivered(alert("s_server" + cli))], labels=["http"]))


# The real-servers matrix: Debian's nginx, Apache httpd (mod_ssl), lighttpd on its three
# TLS backends and HAProxy, each started by the case on loopback with its own config file.
# Each serves both CLIs: delivery over TLS 1.2 and 1.3 with the version as both sides
# name it, refusal of a TLS 1.0-only configuration, and 100 --lines alerts on one
# connection and on a server that closes after 30 requests. The servers' own records
# (access logs, and bodies where they keep them) are what the checks read.
SERVERS = {
    "nginx": lambda keepalive=1000, **kw: NginxServer(keepalive_requests=keepalive, **kw),
    "apache": lambda **kw: ApacheServer(**kw),
    "lighttpd_openssl": lambda **kw: LighttpdServer(backend="openssl", **kw),
    "lighttpd_gnutls": lambda **kw: LighttpdServer(backend="gnutls", **kw),
    "lighttpd_mbedtls": lambda **kw: LighttpdServer(backend="mbedtls", **kw),
    "haproxy": lambda **kw: HAProxyServer(**kw),
}
# Debian's lighttpd-mod-mbedtls is built on Mbed TLS 2.28, which has no TLS 1.3 server.
SERVERS_WITHOUT_TLS13 = {"lighttpd_mbedtls"}
# Debian builds that can no longer be configured to offer TLS 1.0 alone (none so far).
SERVERS_WITHOUT_TLS10 = set()
# How each CLI refuses a TLS 1.0-only server, where it is not the version refusal (exit 4
# naming the floor). lighttpd's GnuTLS backend settles on TLS 1.0, finds none of the
# client's suites usable with it and drops the connection without an alert, so the
# client cannot tell that the version was the cause: it reports the close (exit 6).
# Asserted as it is today; nothing is sent either way.
TLS10_REFUSALS = {
    "lighttpd_gnutls": (EXIT_TLS, ["closed the connection during the TLS handshake",
                                   "Nothing was sent"]),
}
LINES_COUNT, KEEPALIVE_LIMIT = 100, 30


def server_delivered(body, version):
    """One POST /alerts, answered 2xx, carrying `body`, over `version` as the server
    logged it."""
    def check(got, ctx):
        errs = []
        if len(got.requests) != 1:
            return ["expected exactly 1 request in the server's log, it has %d"
                    % len(got.requests)]
        req = got.requests[0]
        if (req["method"], req["path"]) != ("POST", "/alerts"):
            errs.append("logged %s %s, expected POST /alerts" % (req["method"], req["path"]))
        if not 200 <= req["status"] < 300:
            errs.append("the server answered %d, expected 2xx" % req["status"])
        if req["tls"] != version:
            errs.append("the server logged %s, expected %s" % (req["tls"], version))
        errs += _bodies_as_sent(got, [body])
        return errs
    return check


def _bodies_as_sent(got, bodies):
    """The bodies as recorded where the server records them, else their logged lengths."""
    if got.bodies is not None:
        seen = [b for _, b in got.bodies]
        if seen != bodies:
            dup = len(seen) - len(set(seen))
            at = next((i for i, (a, b) in enumerate(zip(seen, bodies)) if a != b),
                      min(len(seen), len(bodies)))
            return ["the server recorded %d bodies (%d repeated), expected each of %d once, "
                    "in order; first difference at alert %d: got %r, expected %r" % (
                        len(seen), dup, len(bodies), at,
                        seen[at] if at < len(seen) else "nothing",
                        bodies[at] if at < len(bodies) else "nothing")]
        return []
    lengths = [r["length"] for r in got.requests]
    if lengths != [len(b) for b in bodies]:
        return ["logged Content-Lengths %r, expected %r" % (lengths, [len(b) for b in bodies])]
    return []


def server_refused():
    """Nothing in the access log, and the server logged the failed handshake: the client
    reached it and refused, rather than never trying."""
    def check(got, ctx):
        errs = []
        if got.requests or (got.bodies or []):
            errs.append("the server logged %d request(s), expected none" % len(got.requests))
        if not got.handshakes_failed:
            errs.append("the server logged no failed handshake: did the client connect?")
        return errs
    return check


def server_lines(bodies, per_connection):
    """Every body exactly once, in order; the log shows the connections and the number
    of requests on each (the server's keep-alive limit)."""
    def check(got, ctx):
        errs = _bodies_as_sent(got, bodies)
        conns = []
        for r in got.requests:
            if r["conn"] not in conns:
                conns.append(r["conn"])
        counts = [sum(1 for r in got.requests if r["conn"] == c) for c in conns]
        if counts != per_connection:
            errs.append("requests per connection %r, expected %r" % (counts, per_connection))
        numbers = [r["number"] for r in got.requests]
        want = [i for n in per_connection for i in range(1, n + 1)]
        if numbers != want:
            errs.append("the server numbered the requests on their connections %r..., "
                        "expected %r..." % (numbers[:40], want[:40]))
        bad = [r["status"] for r in got.requests if not 200 <= r["status"] < 300]
        if bad:
            errs.append("the server answered %d request(s) with %r" % (len(bad), bad[:5]))
        return errs
    return check


def _lines_split(count, limit):
    return [min(limit, count - i) for i in range(0, count, limit)]


for srv, make in SERVERS.items():
    for cli, n in CLIS.items():
        top = "1.3" if cli == "ap3" and srv not in SERVERS_WITHOUT_TLS13 else "1.2"
        offers = [("tls1_2_only", ("1.2", "1.2"), "1.2")]
        if srv not in SERVERS_WITHOUT_TLS13:
            offers.append(("tls1_2_and_1_3", ("1.2", "1.3"), top))
        for tag, tls, want in offers:
            body = alert("%s %s %s" % (srv, tag, n))
            add(Case("servers.%s.%s.%s" % (srv, tag, n), lambda make=make, tls=tls: make(tls=tls),
                     [Step(cli, ["-v", "-d", body.decode()], EXIT_OK, stderr=["TLS " + want])],
                     [server_delivered(body, SERVER_VERSION_NAMES[want])],
                     labels=["servers", srv, "tls_version"]))
        if srv not in SERVERS_WITHOUT_TLS10:
            refusal = TLS10_REFUSALS.get(srv, (EXIT_VERSION, ["TLS 1.0", "1.2"] if cli == "ap2"
                                               else ["1.2"]))
            # The legacy witness first: the server really does complete TLS 1.0
            # handshakes, so the refusal is alertpost's floor, not a broken server.
            add(Case("servers.%s.tls1_0_only.%s" % (srv, n),
                     lambda make=make: make(tls=("1.0", "1.0")),
                     [Step("legacy", ["{pki}/root.pem", "{port}", "localhost"], EXIT_OK,
                           stdout=["negotiated TLSv1.0"]),
                      Step(cli, ["-d", alert("tls10").decode()], refusal[0],
                           stderr=refusal[1])],
                     [server_refused()], labels=["servers", srv, "tls_version"]))
        lines = [b"alert %03d from %s" % (i, n.encode()) for i in range(LINES_COUNT)]
        for tag, limit in (("lines100_one_connection", 1000),
                           ("lines100_keepalive30", KEEPALIVE_LIMIT)):
            add(Case("servers.%s.%s.%s" % (srv, tag, n),
                     lambda make=make, limit=limit: make(keepalive=limit),
                     [Step(cli, ["--lines"], EXIT_OK, stdin=b"\n".join(lines) + b"\n")],
                     [server_lines(lines, _lines_split(LINES_COUNT, limit))],
                     labels=["servers", srv, "reuse"]))


# Network faults, end to end: a scripted TLS server (sink.py's fault modes)
# breaks the exchange in one way each, and the CLI must say so in words a
# person understands, with the right exit code, on time. One row per fault:
#   name, sink mode, after_request, exit code, stderr words, timing
# stderr words: each entry must appear; a tuple is a set of alternatives.
# timing: "prompt", the client can see the fault at once and must not wait
# for the deadline; "deadline", it ends at FAULT_DEADLINE, not before it and
# at most FAULT_MARGIN after.
# after_request: the fault came after the request was written, so the server
# may have acted on the alert. The client is to report those with a status
# of their own (AP_ERR_OUTCOME_UNKNOWN); when the CLI maps it to an exit
# code, FAULT_EXIT_AFTER_REQUEST is the one value to change.
FAULT_DEADLINE = 4     # the CLI's --max-time, in seconds
FAULT_MARGIN = 1.5     # past the deadline and still on time (ASan, a loaded machine)
FAULT_PROMPT = 2.0     # a fault seen at once is reported within this
FAULT_EXIT_AFTER_REQUEST = EXIT_HTTP
# What the CLI says after any failure that came once the request was out.
UNKNOWN = "it may or may not have arrived, and it was not re-sent"
# The parser's reason (which limit, which header) does not reach the message
# yet: these rows assert the words the CLI has today.
INVALID = "sent an invalid HTTP/1.1 response"
FAULTS = [
    ("rst_after_request", "rst-after-request", True, FAULT_EXIT_AFTER_REQUEST,
     ["connection reset by peer", UNKNOWN], "prompt"),
    ("rst_mid_body", "rst-mid-body", True, FAULT_EXIT_AFTER_REQUEST,
     ["connection reset by peer", UNKNOWN], "prompt"),
    ("close_notify_mid_body", "close-notify-truncate", True, FAULT_EXIT_AFTER_REQUEST,
     ["cut short (after 10 body bytes", UNKNOWN], "prompt"),
    ("fin_mid_body", "truncate-body", True, FAULT_EXIT_AFTER_REQUEST,
     ["cut short (after 10 body bytes", UNKNOWN], "prompt"),
    ("complete_then_half_close", "complete-half-close", True, EXIT_OK, [], "prompt"),
    ("interim_1xx", "interim-1xx", True, EXIT_OK, [], "prompt"),
    ("head_over_limit", "head-over-limit", True, FAULT_EXIT_AFTER_REQUEST,
     [INVALID, "bounds", UNKNOWN], "prompt"),
    ("bad_chunk_size", "bad-chunk-size", True, FAULT_EXIT_AFTER_REQUEST,
     [INVALID, UNKNOWN], "prompt"),
    ("chunked_no_terminator", "chunked-no-terminator", True, FAULT_EXIT_AFTER_REQUEST,
     ["cut short (after 5 body bytes", UNKNOWN], "prompt"),
    ("two_content_length", "two-content-length", True, FAULT_EXIT_AFTER_REQUEST,
     [INVALID, UNKNOWN], "prompt"),
    ("garbage_status_line", "garbage", True, FAULT_EXIT_AFTER_REQUEST,
     [INVALID, UNKNOWN], "prompt"),
    ("handshake_stall", "stall-handshake", False, EXIT_CONNECT,
     ["timed out during the TLS handshake"], "deadline"),
    ("drip_head", "slow-head", True, FAULT_EXIT_AFTER_REQUEST,
     ["timed out waiting for localhost", UNKNOWN], "deadline"),
    ("drip_body", "drip-body", True, FAULT_EXIT_AFTER_REQUEST,
     ["timed out waiting for localhost", UNKNOWN], "deadline"),
]


def fault_step(cli, body, code, words, timing):
    if timing == "deadline":
        lo, hi = FAULT_DEADLINE - 0.05, FAULT_DEADLINE + FAULT_MARGIN
    else:
        lo, hi = None, FAULT_PROMPT
    return Step(cli, ["--cacert", "{pki}/root.pem", "--resolve", "localhost:{port}:127.0.0.1",
                      "--max-time", str(FAULT_DEADLINE), "-d", body.decode(), "{url}"],
                code, stderr=words, standard=False, max_seconds=hi, min_seconds=lo)


for cli in ("ap3", "ap2"):
    for name, mode, after_request, code, words, timing in FAULTS:
        body = alert("fault_%s_%s" % (name, cli))
        add(Case("fault.%s.%s" % (name, CLIS[cli]),
                 lambda mode=mode: PySink(mode=mode, extra=["--slow-delay", "1.0"]),
                 [fault_step(cli, body, code, words, timing)],
                 [delivered(body) if after_request else nothing()],
                 labels=["fault", "hostile"]))


# Mutual TLS (client certificates) against the Python sink, nginx, an AWS IoT
# Core-shaped nginx and Prometheus Alertmanager: cases_mtls.py, group "mtls".
# Session resumption: nginx closes after each request (keepalive_requests 1), so three
# lines take three connections; every one after the first resumes the session the
# client kept (nginx logs it resumed, the client's -v says so), on each version.
for cli in ("ap3", "ap2"):
    for version in ("1.2", "1.3"):
        if cli == "ap2" and version == "1.3":
            continue  # 2.28 has no TLS 1.3
        add(Case("resume.nginx_tls%s.%s" % (version, CLIS[cli]),
                 lambda version=version: NginxResume(keepalive_requests=1,
                                                     tls=(version, version)),
                 [Step(cli, ["-v", "--lines"], EXIT_OK, stdin=b"one\ntwo\nthree\n",
                       stderr=["* TLS %s, " % version, ", resumed; handshake"])],
                 [resumed_after_first(3, version)], labels=["resume", "nginx"],
                 skip_if=no_nginx))

# TLS 1.3 0-RTT early data: three lines to nginx closing after each request, each
# carrying an Idempotency-Key. The first connection is a full handshake (never early
# data); the next two resume, and send their alert in the first flight, which nginx
# processes before the handshake completes ($ssl_early_data "1"). With early data off
# in nginx its tickets allow none: never offered. With a group the client sends no
# share for first, nginx answers each hello with a HelloRetryRequest, refusing the
# early data: the alert then goes once after the handshake. Without a key, with
# --no-early-data, or over TLS 1.2: never offered; 2.28 (no TLS 1.3) has none built.
EARLY_LINES = [b"one", b"two", b"three"]
EARLY_KEY = "7d4c9e1a-early"
# The accepted case goes through a gate that holds the client's second flight until
# nginx has answered (peers.FlightGate): nginx's $ssl_early_data says "1" only while
# the handshake is incomplete, which loopback could otherwise end first. The gate also
# shows each resumed alert leaving in the first flight: ClientHello (22), the
# compatibility-mode ChangeCipherSpec (20) and the early data (23), where the full
# handshake's first flight is the ClientHello alone.
EARLY_FIRST_FLIGHTS = [[22], [22, 20, 23], [22, 20, 23]]
for name, cli, tls, peer_kw, early, words, key in (
        ("accepted", "ap3", "1.3", {"gate": True}, [False, True, True],
         "* Early data: accepted", EARLY_KEY),
        ("refused_hrr", "ap3", "1.3", {"curve": "secp384r1"}, [False, False, False],
         "* Early data: rejected by the server", EARLY_KEY),
        ("off", "ap3", "1.3", {"early": False}, [False, False, False],
         "* Early data: not offered (the server's ticket allows none)", EARLY_KEY),
        ("no_key", "ap3", "1.3", {}, [False, False, False], None, None),
        ("opted_out", "ap3", "1.3", {}, [False, False, False], None, EARLY_KEY),
        ("tls1.2", "ap3", "1.2", {}, [False, False, False],
         "* Early data: not offered (no TLS 1.3 ticket kept)", EARLY_KEY),
        ("tls1.2", "ap2", "1.2", {}, [False, False, False],
         "* Early data: not offered (this Mbed TLS has no TLS 1.3 early data)", EARLY_KEY)):
    add(Case("early_data.nginx_%s.%s" % (name, CLIS[cli]),
             lambda peer_kw=peer_kw, tls=tls: NginxEarlyData(keepalive_requests=1,
                                                             tls=(tls, tls), **peer_kw),
             [Step(cli, ["-v", "--lines"] + (["-H", "Idempotency-Key: " + key] if key else []) +
                   (["--no-early-data"] if name == "opted_out" else []),
                   EXIT_OK, stdin=b"\n".join(EARLY_LINES) + b"\n",
                   stderr=[", resumed; handshake"] + ([words] if words else []),
                   stderr_lacks=[] if words else ["* Early data"])],
             [early_data_as(EARLY_LINES, early, key,
                            EARLY_FIRST_FLIGHTS if peer_kw.get("gate") else None)],
             labels=["early_data", "nginx"],
             skip_if=no_nginx))

# Through the queue (--retry): each alert has a key of its own, made by the queue.
add(Case("early_data.nginx_queue.alertpost",
         lambda: NginxEarlyData(keepalive_requests=1, tls=("1.3", "1.3"), gate=True),
         [Step("ap3", ["-v", "--retry", "2", "--lines"], EXIT_OK,
               stdin=b"\n".join(EARLY_LINES) + b"\n",
               stderr=["* Early data: accepted", ", resumed; handshake",
                       "3 delivered, 0 retried"])],
         [early_data_as(EARLY_LINES, [False, True, True], QUEUE_KEYS, EARLY_FIRST_FLIGHTS)],
         labels=["early_data", "nginx", "queue"], skip_if=no_nginx))

# A server that answers early data with 425 Too Early (RFC 8470) did not process it:
# the client sends the alert once more on a new connection, without early data.
add(Case("early_data.nginx_too_early.alertpost",
         lambda: NginxEarlyData(keepalive_requests=1, tls=("1.3", "1.3"), gate=True,
                                too_early=True),
         [Step("ap3", ["-v", "--lines", "-H", "Idempotency-Key: " + EARLY_KEY], EXIT_OK,
               stdin=b"\n".join(EARLY_LINES) + b"\n",
               stderr=["* Early data: accepted", "< HTTP/1.1 425",
                       "* Early data: not offered (the server answered 425 Too Early to it)",
                       "* 3 alert(s) delivered"])],
         [too_early_retried(EARLY_LINES, EARLY_KEY)], labels=["early_data", "nginx"],
         skip_if=no_nginx))

cases_mtls.register(sys.modules[__name__])
cases_sessions.register(sys.modules[__name__])
# HTTP/1.1 pipelining (--lines --pipeline N): cases_pipeline.py, group "pipeline".
cases_pipeline.register(sys.modules[__name__])


# ---------------------------------------------------------------- running one case

def fail(msg):
    sys.stderr.write("FAIL: %s\n" % msg)
    return 1


# ---------------------------------------------------------------- curl's habits (the CLI)

def header_once(name, value):
    """The first request carries exactly one `name` header, with exactly `value`."""
    def check(got, ctx):
        if not got.requests:
            return ["no request received"]
        have = [v for k, v in got.requests[0]["headers"] if k.lower() == name.lower()]
        want = fill(value, ctx)
        if have != [want]:
            return ["%s header(s) %r, expected exactly [%r]" % (name, have, want)]
        return []
    return check


BIG = bytes(i % 256 for i in range(200000))
LONG_HOST = ".".join(["h" * 62] * 4)  # 251 characters: near the 253 limit
for cli in ("ap3", "ap2"):
    n = CLIS[cli]
    add(Case("cli.user_agent_replaced.%s" % n, lambda: PySink(),
             [Step(cli, ["-H", "User-Agent: probe/9", "-d", "x"], EXIT_OK)],
             [header_once("User-Agent", "probe/9")], labels=["cli"]))
    add(Case("cli.user_agent_option.%s" % n, lambda: PySink(),
             [Step(cli, ["-A", "fleet-agent/2", "-d", "x"], EXIT_OK)],
             [header_once("User-Agent", "fleet-agent/2")], labels=["cli"]))
    add(Case("cli.body_whole_unchanged.%s" % n,
             lambda: PySink(mode="big-body", extra=["--body-size", str(len(BIG))]),
             [Step(cli, ["-d", "x"], EXIT_OK, stdout_bytes=BIG)], [delivered(b"x")],
             labels=["cli"]))
    add(Case("cli.output_file_and_write_out.%s" % n,
             lambda: PySink(mode="big-body", extra=["--body-size", "70000"]),
             [Step(cli, ["-o", "{work}/body.out", "-w", "%{http_code} %{size_download}\\n",
                         "-d", "x"], EXIT_OK, stdout_bytes=b"200 70000\n",
                   files_after={"body.out": bytes(i % 256 for i in range(70000))})],
             [delivered(b"x")], labels=["cli"]))
    add(Case("cli.json.%s" % n, lambda: PySink(),
             [Step(cli, ["--json", '{"a":1}'], EXIT_OK)],
             [delivered(b'{"a":1}'), header_once("Accept", "application/json")],
             labels=["cli"]))
    add(Case("cli.basic_auth_masked.%s" % n, lambda: PySink(),
             [Step(cli, ["-v", "-u", "ops:s3cret", "-d", "x"], EXIT_OK,
                   stderr=["Authorization <masked>"],
                   stderr_lacks=["s3cret", "b3BzOnMzY3JldA=="])],
             [header_once("Authorization", "Basic b3BzOnMzY3JldA==")], labels=["cli"]))
    add(Case("cli.bearer.%s" % n, lambda: PySink(),
             [Step(cli, ["--oauth2-bearer", "tok.en", "-d", "x"], EXIT_OK)],
             [header_once("Authorization", "Bearer tok.en")], labels=["cli"]))
    add(Case("cli.verbose_lines.%s" % n, lambda: PySink(),
             [Step(cli, ["-v", "-d", "x"], EXIT_OK,
                   stderr=["* Connected to localhost (127.0.0.1) port", "> POST /alerts HTTP/1.1",
                           "< HTTP/1.1 200 OK", "* Trust anchors: ",
                           "* Server certificate: subject ", "; issuer ", "; expires 20"])],
             [delivered(b"x")], labels=["cli"]))
    add(Case("cli.broken_stdout_keeps_status.%s" % n,
             lambda: PySink(mode="big-body", extra=["--body-size", "300000"]),
             [Step(cli, ["-d", "x"], EXIT_OK, close_stdout=True,
                   stderr=["the reader closed the pipe", "the exit status is the delivery's"])],
             [delivered(b"x")], labels=["cli"]))
    add(Case("cli.ssl_cert_file.%s" % n, lambda: PySink(),
             [Step(cli, ["-v", "--resolve", "localhost:{port}:127.0.0.1", "-d", "x", "{url}"],
                   EXIT_OK, standard=False, stderr=["(from SSL_CERT_FILE)"],
                   env={"SSL_CERT_FILE": "{pki}/root.pem", "CURL_CA_BUNDLE": None})],
             [delivered(b"x")], labels=["cli"]))
    add(Case("cli.curl_ca_bundle_first.%s" % n, lambda: PySink(),
             [Step(cli, ["--resolve", "localhost:{port}:127.0.0.1", "-d", "x", "{url}"],
                   EXIT_OK, standard=False,
                   env={"CURL_CA_BUNDLE": "{pki}/root.pem", "SSL_CERT_FILE": "/nonexistent"})],
             [delivered(b"x")], labels=["cli"]))
    add(Case("cli.several_resolve.%s" % n, lambda: PySink(),
             [Step(cli, ["--cacert", "{pki}/root.pem", "--resolve", "other.test:1:127.0.0.9",
                         "--resolve", "localhost:{port}:127.0.0.1", "-d", "x", "{url}"],
                   EXIT_OK, standard=False)],
             [delivered(b"x")], labels=["cli"]))
    add(Case("cli.connect_timeout_bounds_handshake.%s" % n, lambda: SilentPort(),
             [Step(cli, ["--cacert", "{pki}/root.pem", "--resolve", "localhost:{port}:127.0.0.1",
                         "--connect-timeout", "1", "-d", "x", "{url}"], EXIT_CONNECT,
                   standard=False, max_seconds=3.0, stderr=["handshake"])],
             [], labels=["cli"]))
    add(Case("cli.long_host_message_whole.%s" % n, lambda: PySink(),
             [Step(cli, ["--cacert", "{pki}/root.pem", "--resolve",
                         LONG_HOST + ":{port}:127.0.0.1", "-d", "x",
                         "https://%s:{port}/alerts" % LONG_HOST], EXIT_CERT, standard=False,
                   stderr=[LONG_HOST + ": it has no DNS SAN for it. Nothing was sent."])],
             [nothing()], labels=["cli"]))
    # Refused before any connection: one line each, exit 2, nothing reaches the server.
    for tag, args, words in (
            ("insecure", ["-k", "-d", "x"], "verification cannot be turned off"),
            ("insecure_long", ["--insecure", "-d", "x"], "verification cannot be turned off"),
            ("method", ["-X", "PUT", "-d", "x"], "always sends POST"),
            ("tlsv1", ["--tlsv1.0", "-d", "x"], "floor is TLS 1.2"),
            ("unknown_option", ["--frobnicate", "-d", "x"], "unknown option '--frobnicate'"),
            ("no_body", [], "no alert body given"),
            ("bad_header_name", ["-H", "X Bad: 1", "-d", "x"], "'X Bad: 1': the header name "
                                                               "is not an HTTP token"),
            ("bad_header_reserved", ["-H", "Host: evil", "-d", "x"], "writes Host itself"),
            ("bad_header_colon", ["-H", "NoColon", "-d", "x"], "has no ':'"),
            ("user_without_password", ["-u", "ops", "-d", "x"], "USER:PASSWORD")):
        add(Case("cli.refused_%s.%s" % (tag, n), lambda: PySink(),
                 [Step(cli, args, EXIT_USAGE, stderr=[words])], [never_connected()],
                 labels=["cli", "usage"]))
    for tag, url, words in (
            ("http", "http://localhost:{port}/alerts", "https:// only"),
            ("userinfo", "https://u:p@localhost:{port}/alerts", "user info"),
            ("port_range", "https://localhost:70000/alerts", "out of range"),
            ("no_host", "https:///alerts", "no host"),
            ("control", "https://local\x1bhost:{port}/alerts", "local\\x1Bhost")):
        add(Case("cli.bad_url_%s.%s" % (tag, n), lambda: PySink(),
                 [Step(cli, ["--cacert", "{pki}/root.pem", "-d", "x", url], EXIT_USAGE,
                       standard=False, stderr=[words], stderr_lacks=["\x1b"])],
                 [never_connected()], labels=["cli", "usage"]))
    add(Case("cli.refused_missing_value.%s" % n, lambda: PySink(),
             [Step(cli, ["{url}", "-d"], EXIT_USAGE, standard=False, stderr=["-d needs a value"])],
             [never_connected()], labels=["cli", "usage"]))
    # An invalid header is named even when the server is down: no connection is tried.
    add(Case("cli.bad_header_before_connect.%s" % n, lambda: RefusedPort(),
             [Step(cli, ["-H", "X-Ok: 1\x01", "-d", "x"], EXIT_USAGE,
                   stderr=["control character", "X-Ok: 1\\x01"])], [], labels=["cli", "usage"]))

# ---------------------------------------------------------------- the offline chain checker

# A Public Suffix List of the test's own, in the list's format.
TEST_PSL = b"// alertpost test suffixes\n// ===BEGIN PRIVATE DOMAINS===\nalerts.test\n"
DEBIAN_PSL = "/usr/share/publicsuffix/public_suffix_list.dat"


def no_debian_psl():
    """Why the default list cannot be used here (in CI, setup installs it: fail)."""
    if os.path.exists(DEBIAN_PSL) or in_ci():
        return None
    return "%s is missing (cmake/setup.sh installs publicsuffix)" % DEBIAN_PSL


for cli in ("ap3", "ap2"):
    n = CLIS[cli]
    for tag, chain, url, extra, code, words in (
            ("accepted", "ecdsa-chain.pem", "https://localhost/alerts", [], EXIT_OK, []),
            ("accepted_ip", "ecdsa-chain.pem", "https://127.0.0.1:8443/a", [], EXIT_OK, []),
            ("wrong_host", "ecdsa-chain.pem", "https://other.example/a", [], EXIT_CERT,
             ["is not for other.example"]),
            ("expired", "expired-chain.pem", "https://localhost/", [], EXIT_CERT, ["expired"]),
            ("at_future", "ecdsa-chain.pem", "https://localhost/",
             ["--at", "2099-01-01T00:00:00Z"], EXIT_CERT, ["expired"]),
            ("at_past", "ecdsa-chain.pem", "https://localhost/",
             ["--at", "2000-01-01T00:00:00Z"], EXIT_CERT, ["not valid yet"]),
            ("unknown_root", "unknownroot-chain.pem", "https://localhost/", [], EXIT_CERT,
             ["does not lead to a trusted root"]),
            ("missing_intermediate", "missing-intermediate.pem", "https://localhost/", [],
             EXIT_CERT, ["does not lead to a trusted root"]),
            ("pin_mismatch", "ecdsa-chain.pem", "https://localhost/",
             ["--pinnedpubkey", "{pin_other}"], EXIT_CERT, ["matches none of the 1 pinned"]),
            ("pin_match", "ecdsa-chain.pem", "https://localhost/",
             ["--pinnedpubkey", "{pin_ecdsa}"], EXIT_OK, []),
            ("not_a_chain", "ecdsa.key", "https://localhost/", [], EXIT_USAGE,
             ["the chain could not be read"]),
            ("bad_at", "ecdsa-chain.pem", "https://localhost/", ["--at", "yesterday"],
             EXIT_USAGE, ["--at takes a UTC time"]),
            # The Public Suffix List: Debian's by default (github.io is in its private
            # section), a file of the operator's, or none (the built-in rules, which do
            # not know github.io or alerts.test).
            ("psl_default", "wild-suffix-chain.pem", "https://alerts.github.io/", [],
             EXIT_CERT, ["public suffix"]),
            ("psl_none", "wild-suffix-chain.pem", "https://alerts.github.io/",
             ["--public-suffix-list", ""], EXIT_OK, []),
            ("psl_file", "wild-suffix-chain.pem", "https://pump.alerts.test/",
             ["--public-suffix-list", "{work}/test.psl"], EXIT_CERT, ["public suffix"]),
            ("psl_file_other_host", "wild-suffix-chain.pem", "https://alerts.github.io/",
             ["--public-suffix-list", "{work}/test.psl"], EXIT_OK, []),
            ("psl_unreadable", "wild-suffix-chain.pem", "https://alerts.github.io/",
             ["--public-suffix-list", "{work}/absent.psl"], EXIT_USAGE,
             ["cannot read the public suffix list"])):
        add(Case("check_chain.%s.%s" % (tag, n), lambda: RefusedPort(),
                 [Step(cli, ["--cacert", "{pki}/root.pem", "--check-chain", "{pki}/" + chain]
                       + extra + [url], code, standard=False, stderr=words,
                       stdout=["would accept this chain"] if code == EXIT_OK else [])],
                 [never_connected()], labels=["cert", "check_chain"],
                 files={"test.psl": TEST_PSL},
                 skip_if=no_debian_psl if tag == "psl_default" else None))

def run_step(step, binary, ctx, work, index):
    args = [fill(a, ctx) for a in step.args]
    if step.standard:
        args = ["--cacert", ctx["pki"] + "/root.pem",
                "--resolve", "localhost:%d:127.0.0.1" % ctx["port"],
                "--max-time", CLI_MAX_TIME] + args + [ctx["url"]]
    argv = ([sys.executable] if binary.endswith(".py") else []) + [binary] + args
    sys.stderr.write("step %d: %s\n" % (index, " ".join(repr(a) if " " in a else a
                                                        for a in argv)))
    env = dict(os.environ)
    for k, v in step.env.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = fill(v, ctx)
    stdout = subprocess.PIPE
    if step.close_stdout:
        rfd, stdout = os.pipe()
        os.close(rfd)  # a reader that went away: writes get EPIPE
    started = time.monotonic()
    try:
        proc = subprocess.run(argv, input=step.stdin if step.stdin is not None else b"",
                              stdout=stdout, stderr=subprocess.PIPE, env=env,
                              timeout=STEP_TIMEOUT, cwd=work, check=False)
    except subprocess.TimeoutExpired:
        return ["did not finish within %.0f s" % STEP_TIMEOUT]
    finally:
        if step.close_stdout:
            os.close(stdout)
    elapsed = time.monotonic() - started
    raw_out = proc.stdout or b""
    out = raw_out.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace")
    ctx.setdefault("stderr", []).append(err)   # for checks that compare both sides
    sys.stderr.write("  exit %d after %.2f s\n" % (proc.returncode, elapsed))
    for line in err.splitlines():
        sys.stderr.write("  stderr| %s\n" % line)
    for line in out.splitlines()[:20]:
        sys.stderr.write("  stdout| %s\n" % line)

    errs = []
    if proc.returncode not in step.exit:
        errs.append("exit %d, expected %s" % (proc.returncode,
                                              " or ".join(str(e) for e in sorted(step.exit))))
    for want in step.stderr:
        # A tuple is a set of alternatives: the reason may be worded more than one way.
        options = want if isinstance(want, tuple) else (want,)
        options = tuple(fill(o, ctx) for o in options)
        if not any(o in err for o in options):
            errs.append("stderr lacks %s" % " or ".join(repr(o) for o in options))
    for want in step.stdout:
        if want not in out:
            errs.append("stdout lacks %r" % want)
    if step.stdout_bytes is not None and raw_out != step.stdout_bytes:
        errs.append("stdout is %d bytes %r..., expected exactly %d bytes %r..." % (
            len(raw_out), raw_out[:40], len(step.stdout_bytes), step.stdout_bytes[:40]))
    for bad in step.stderr_lacks:
        if fill(bad, ctx) in err:
            errs.append("stderr shows %r, which it must not" % bad)
    for fname, want in step.files_after.items():
        try:
            with open(os.path.join(work, fname), "rb") as f:
                have = f.read()
        except OSError as exc:
            have = ("unreadable: %s" % exc).encode()
        if have != want:
            errs.append("%s is %d bytes, expected exactly %d" % (fname, len(have), len(want)))
    if step.cli in ("ap3", "ap2") and proc.returncode != 0:
        lines = [line for line in err.splitlines() if line.strip()]
        if not any(line.startswith("alertpost: ") for line in lines):
            errs.append("no stderr line starts with 'alertpost: '")
        verbose = "-v" in args or "--verbose" in args
        if not verbose and len(lines) != 1:
            errs.append("the error is %d stderr lines, expected one" % len(lines))
    if step.max_seconds is not None and elapsed > step.max_seconds:
        errs.append("took %.1f s, expected at most %.1f s" % (elapsed, step.max_seconds))
    if step.min_seconds is not None and elapsed < step.min_seconds:
        errs.append("took %.1f s, expected at least %.1f s" % (elapsed, step.min_seconds))
    return errs


def enter_netns():
    """Re-runs this script in a new user+network namespace with only loopback up."""
    if os.environ.get("AP_IT_NETNS") == "1":
        ip = shutil.which("ip")
        if ip is None or subprocess.run([ip, "link", "set", "lo", "up"],
                                        timeout=10, check=False).returncode != 0:
            sys.stderr.write("SKIP: cannot bring up loopback in the namespace\n")
            sys.exit(SKIP)
        return
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-rn", "true"], timeout=10,
                                         check=False).returncode != 0:
        sys.stderr.write("SKIP: this peer binds every address, and no network namespace "
                         "(unshare -rn) is available to confine it to loopback\n")
        sys.exit(SKIP)
    env = dict(os.environ, AP_IT_NETNS="1")
    proc = subprocess.run([unshare, "-rn", sys.executable] + sys.argv, env=env,
                          timeout=60, check=False)
    sys.exit(proc.returncode)


def in_ci():
    return os.environ.get("CI", "").lower() in ("true", "1", "yes", "on")


def missing_program(program):
    """A peer's program is not installed: skipped here, a failure in CI,
    where cmake/setup.sh installs it."""
    if in_ci():
        return fail("%s is not installed, and in CI (CI=%s) cmake/setup.sh installs it: "
                    "check that setup ran" % (program, os.environ["CI"]))
    sys.stderr.write("SKIP: %s is not installed; run cmake/setup.sh to run this case\n"
                     % program)
    return SKIP


def run_case(case, opts):
    reason = case.skip_if() if case.skip_if else None
    if reason:
        sys.stderr.write("SKIP: %s\n" % reason)
        return SKIP
    peer = case.peer()
    program = getattr(peer, "program", None)
    if hasattr(peer, "missing_part"):
        program = peer.missing_part()   # a server whose modules are packaged apart
        if program:
            return missing_program(program)
    elif program and shutil.which(program) is None:
        return missing_program(program)
    if getattr(peer, "needs_netns", False):
        enter_netns()
    # Absolute: the programs run with the case's work directory as their cwd.
    binaries = {k: os.path.abspath(v) if v else None for k, v in
                (("ap3", opts.alertpost), ("ap2", opts.alertpost2), ("legacy", opts.legacy),
                 ("witness", WITNESS))}
    for step in case.steps:
        b = binaries[step.cli]
        if not b:
            sys.stderr.write("SKIP: no binary given for %s\n" % step.cli)
            return SKIP
        if not os.access(b, os.X_OK if not b.endswith(".py") else os.R_OK):
            return fail("%s is not an executable" % b)

    work = os.path.abspath(opts.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    for fname, data in case.files.items():
        with open(os.path.join(work, fname), "wb") as f:
            f.write(data)
    with open(os.path.join(opts.pki, "pins.json"), encoding="ascii") as f:
        pins = json.load(f)
    with open(os.path.join(opts.pki, "manifest.json"), encoding="ascii") as f:
        manifest = json.load(f)

    errs = []
    try:
        port = peer.start(work, opts.pki)
        ctx = {"port": port, "pki": opts.pki, "work": work,
               "url": "https://localhost:%d/alerts" % port,
               "pin_ecdsa": pins["ecdsa"], "pin_rsa": pins["rsa"], "pin_other": pins["other"],
               "device_expires": manifest.get("device_expires", "?")}
        for i, step in enumerate(case.steps, 1):
            errs += ["step %d (%s): %s" % (i, step.cli, e)
                     for e in run_step(step, binaries[step.cli], ctx, work, i)]
        peer.settle()
        got = peer.received()
        for check in case.checks:
            errs += ["server side: " + e for e in check(got, ctx)]
    except PeerError as exc:
        errs.append("peer: %s" % exc)
        got = None
    finally:
        peer.stop()

    if got is not None:
        sys.stderr.write("--- what the server saw\n%s\n" % got.describe())
    if errs:
        for e in errs:
            fail(e)
        return 1
    sys.stderr.write("PASS %s\n" % case.name)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--case")
    ap.add_argument("--pki")
    ap.add_argument("--work")
    ap.add_argument("--alertpost")
    ap.add_argument("--alertpost2")
    ap.add_argument("--legacy")
    opts = ap.parse_args()
    if opts.list:
        for c in CASES:
            print("%s|%s|%s" % (c.name, ",".join(c.labels), ",".join(c.needs())))
        return 0
    if not (opts.case and opts.pki and opts.work):
        ap.error("--case, --pki and --work are required")
    opts.pki = os.path.abspath(opts.pki)
    by_name = {c.name: c for c in CASES}
    if opts.case not in by_name:
        ap.error("no case named %r (see --list)" % opts.case)
    return run_case(by_name[opts.case], opts)


if __name__ == "__main__":
    sys.exit(main())
