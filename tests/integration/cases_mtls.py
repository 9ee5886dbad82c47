"""The mtls.* cases: alertpost presenting a device certificate (mutual TLS).

run_case.py calls register(itself) once its case vocabulary (Case, Step, the
checks) is defined; every case here is named mtls.* (`ctest -R mtls`).

The servers (peers_mtls.py, and the Python sink with --client-ca) trust only
the device root of the test PKI (pki.py). For each CLI and each TLS version it
has (1.2 and 1.3 for alertpost, 1.2 for alertpost-mbedtls2), against a server
offering only that version:

  delivered   the ECDSA device (sink, nginx, IoT Core-shaped nginx, Alertmanager),
              the RSA device, the combined cert+key file, each encrypted key with
              --pass, the DER keys: the server saw CN=device-0001, verified
  no cert     exit 6 "requires a client certificate" (sink, nginx's 400, Alertmanager)
  refused     exit 6 "refused this device's certificate" and the server's alert:
              unknown_ca / certificate_expired (OpenSSL), bad_certificate (Go)
  bad input   exit 2, one line, and no connection at all
  -v          "Client certificate requested by the server: yes|no" and the subject sent

The mtls.witness.* cases run the same servers with Python's ssl as the client
(mtls_witness.py): they pass without alertpost and show that each server accepts
the device and refuses the others with the alerts named above.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pki  # noqa: E402  (the passphrase and device name the PKI was made with)
from peers import PySink  # noqa: E402
from peers_mtls import (Alertmanager, IotCoreNginx, NginxMtls,  # noqa: E402
                        TLS_NAMES, alert_labels)

DEVICE = ["--cert", "{pki}/device-chain.pem", "--key", "{pki}/device.key"]
DEVICE_SUBJECT = "CN=%s, O=alertpost test fleet" % pki.DEVICE_CN   # as Mbed TLS prints it
SENT = "* Client certificate sent: subject %s; expires {device_expires}" % DEVICE_SUBJECT
ASKED = "* Client certificate requested by the server: yes"
NOT_ASKED = "* Client certificate requested by the server: no"
NEEDS_CERT = "requires a client certificate"
REFUSED = "refused this device's certificate"
PASS = pki.KEY_PASSPHRASE

# --cert/--key as given for each way of holding the device's identity: (tag, args).
KEY_FORMS = [
    ("rsa", ["--cert", "{pki}/device-rsa-chain.pem", "--key", "{pki}/device-rsa.key"]),
    ("combined_file", ["--cert", "{pki}/device-combined.pem"]),
    ("key_encrypted_pem", ["--cert", "{pki}/device-chain.pem",
                           "--key", "{pki}/device-enc-trad.key", "--pass", PASS]),
    ("key_encrypted_pkcs8", ["--cert", "{pki}/device-chain.pem",
                             "--key", "{pki}/device-enc-pkcs8.key", "--pass", PASS]),
    ("key_der_pkcs8", ["--cert", "{pki}/device-chain.pem", "--key", "{pki}/device-pkcs8.der"]),
    ("key_der_sec1", ["--cert", "{pki}/device-chain.pem", "--key", "{pki}/device-sec1.der"]),
    ("key_der_pkcs1_rsa", ["--cert", "{pki}/device-rsa-chain.pem",
                           "--key", "{pki}/device-rsa-pkcs1.der"]),
]
# Mbed TLS 2.28's PKCS#5 knows DES and 3DES only as PBES2 ciphers (its OID table has
# no AES-CBC), so it cannot read a PBES2 AES-256-CBC key: a start-up error there.
UNREADABLE_ON_2_28 = {"key_encrypted_pkcs8"}

# Inputs refused before any connection: (tag, args, words in the one-line error; a
# tuple is a set of alternatives). The error names the file at fault, so these also
# fail on a CLI that refuses for some other reason (an unknown option, say).
PASS_WORDS = ("passphrase", "--pass")
BAD_INPUTS = [
    ("missing_key_file", ["--cert", "{pki}/device-chain.pem", "--key", "{work}/no-such.key"],
     ["no-such.key"]),
    ("missing_cert_file", ["--cert", "{work}/no-such.pem", "--key", "{pki}/device.key"],
     ["no-such.pem"]),
    ("key_not_a_key", ["--cert", "{pki}/device-chain.pem", "--key", "{pki}/client-root.pem"],
     ["client-root.pem"]),
    ("cert_not_a_cert", ["--cert", "{pki}/device.key", "--key", "{pki}/device.key"],
     ["device.key"]),
    ("wrong_passphrase", ["--cert", "{pki}/device-chain.pem", "--key",
                          "{pki}/device-enc-trad.key", "--pass", "not-" + PASS],
     ["device-enc-trad.key", PASS_WORDS]),
    ("wrong_passphrase_pkcs8", ["--cert", "{pki}/device-chain.pem", "--key",
                                "{pki}/device-enc-pkcs8.key", "--pass", "not-" + PASS],
     ["device-enc-pkcs8.key"]),
    ("no_passphrase", ["--cert", "{pki}/device-chain.pem", "--key",
                       "{pki}/device-enc-trad.key"], ["device-enc-trad.key", PASS_WORDS]),
    ("key_does_not_match", ["--cert", "{pki}/device-chain.pem", "--key",
                            "{pki}/device-other.key"], ["does not match"]),
]

# What each server logs when it refuses, so a refusal is known to be for that reason.
SINK_REASONS = {"no_cert": "peer did not return a certificate",
                "unknown_ca": "certificate verify failed",
                "expired": "certificate has expired"}
AM_REASONS = {"no_cert": "didn't provide a certificate",
              "unknown_ca": "certificate signed by unknown authority"}


def versions(cli):
    return ("1.2", "1.3") if cli == "ap3" else ("1.2",)


def tag(version):
    return "tls" + version.replace(".", "_")


def am_alert(case):
    """A real Alertmanager alert (a JSON array of objects with labels and annotations)."""
    return ('[{"labels":{"alertname":"DiskFull","instance":"db-1","severity":"page",'
            '"case":"%s"},"annotations":{"summary":"disk full on db-1",'
            '"description":"posted by %s over mutual TLS"}}]' % (case, pki.DEVICE_CN))


def register(rc):
    """Adds every mtls.* case through run_case.py's add()."""
    for cli, n in rc.CLIS.items():
        for v in versions(cli):
            _sink_cases(rc, cli, n, v)
            _nginx_cases(rc, cli, n, v)
            _alertmanager_cases(rc, cli, n, v)
        _bad_input_cases(rc, cli, n)
        _verbose_cases(rc, cli, n)
    for v in ("1.2", "1.3"):
        _witness_cases(rc, v)


# ------------------------------------------------------------------ checks

def device_delivered(rc, body, version):
    """The Python sink: one POST of `body` over `version`, on a connection whose client
    certificate (verified against the device root) was the device's."""
    base = rc.delivered(body, rc.PY_VERSION[version])

    def check(got, ctx):
        errs = base(got, ctx)
        cns = [r.get("client_cn") for r in got.requests]
        if cns != [pki.DEVICE_CN]:
            errs.append("the request came with client certificate CN(s) %r, expected [%r]"
                        % (cns, pki.DEVICE_CN))
        return errs
    return check


def sink_refused(rc, reason):
    """Nothing reached the sink's HTTP layer, and it failed the handshake for `reason`."""
    base = rc.nothing()

    def check(got, ctx):
        errs = base(got, ctx)
        if not any(reason in e for e in got.handshakes_failed):
            errs.append("the sink did not refuse for %r; its handshake errors: %r"
                        % (reason, got.handshakes_failed))
        return errs
    return check


def nginx_verified(path, body, version, args=""):
    """nginx logged one request for `path`, answered 2xx, over `version`, with a
    client certificate it verified whose subject is the device's."""
    def check(got, ctx):
        if len(got.requests) != 1:
            return ["expected exactly 1 request in nginx's log, it has %d"
                    % len(got.requests)]
        r = got.requests[0]
        errs = []
        if (r["method"], r["path"], r["args"]) != ("POST", path, args):
            errs.append("logged %s %s ?%s, expected POST %s ?%s" % (
                r["method"], r["path"], r["args"], path, args))
        if not 200 <= r["status"] < 300:
            errs.append("nginx answered %d, expected 2xx" % r["status"])
        if r["tls"] != TLS_NAMES[version]:
            errs.append("nginx logged %s, expected %s" % (r["tls"], TLS_NAMES[version]))
        if r["client_verify"] != "SUCCESS":
            errs.append("nginx's client verification: %s, expected SUCCESS"
                        % r["client_verify"])
        if "CN=%s" % pki.DEVICE_CN not in r["client_dn"].split(","):
            errs.append("client certificate subject %r, expected CN=%s"
                        % (r["client_dn"], pki.DEVICE_CN))
        if r["length"] != len(body):
            errs.append("Content-Length %r, expected %d" % (r["length"], len(body)))
        return errs
    return check


def nginx_no_cert_400():
    """nginx completed the handshake, got the request without a certificate and
    answered 400: it processed nothing."""
    def check(got, ctx):
        seen = [(r["status"], r["client_verify"]) for r in got.requests]
        if seen != [(400, "NONE")]:
            return ["nginx logged (status, client verification) %r, expected [(400, 'NONE')]"
                    % seen]
        return []
    return check


def am_holds(case):
    """Alertmanager's own API lists exactly one alert, with the labels posted."""
    want = {"alertname": "DiskFull", "instance": "db-1", "severity": "page", "case": case}

    def check(got, ctx):
        labels = alert_labels(got.alerts)
        if labels != [want]:
            return ["Alertmanager lists alerts with labels %r, expected [%r]" % (labels, want)]
        return []
    return check


def am_refused(reason):
    """Alertmanager holds no alert and logged the handshake it refused, for `reason`."""
    def check(got, ctx):
        errs = []
        if got.alerts:
            errs.append("Alertmanager holds %d alert(s), expected none" % len(got.alerts))
        if not any(reason in l for l in got.handshakes_failed):
            errs.append("Alertmanager logged no handshake refused for %r: %r"
                        % (reason, got.handshakes_failed[-3:]))
        return errs
    return check


# ------------------------------------------------------------------ the cases

def _sink_cases(rc, cli, n, v):
    Case, Step = rc.Case, rc.Step

    def sink(v=v):
        return PySink(client_ca="client-root.pem", tls_min=v, tls_max=v)
    base = "mtls.sink.%%s.%s.%s" % (tag(v), n)
    body = rc.alert("mtls ecdsa %s %s" % (v, n))
    rc.add(Case(base % "delivered_ecdsa", sink,
                [Step(cli, ["-v"] + DEVICE + ["-d", body.decode()], rc.EXIT_OK,
                      stderr=[ASKED, SENT, "TLS " + v])],
                [device_delivered(rc, body, v)], labels=["mtls", "sink"]))
    for form, args in KEY_FORMS:
        body = rc.alert("mtls %s %s %s" % (form, v, n))
        if cli == "ap2" and form in UNREADABLE_ON_2_28:
            rc.add(Case(base % (form + "_unsupported"), sink,
                        [Step(cli, args + ["-d", body.decode()], rc.EXIT_USAGE,
                              stderr=["device-enc-pkcs8.key"])],
                        [rc.never_connected()], labels=["mtls", "sink", "usage"]))
            continue
        rc.add(Case(base % ("delivered_" + form), sink,
                    [Step(cli, args + ["-d", body.decode()], rc.EXIT_OK)],
                    [device_delivered(rc, body, v)], labels=["mtls", "sink"]))
    rc.add(Case(base % "no_cert", sink,
                [Step(cli, ["-d", "x"], rc.EXIT_TLS, stderr=[NEEDS_CERT])],
                [sink_refused(rc, SINK_REASONS["no_cert"])], labels=["mtls", "sink"]))
    for what, chain, alert in (("unknown_ca", "device-unknown-chain.pem", "unknown_ca"),
                               ("expired", "device-expired-chain.pem", "certificate_expired"),
                               ("leaf_without_chain", "device.pem", "unknown_ca")):
        rc.add(Case(base % ("refused_" + what), sink,
                    [Step(cli, ["--cert", "{pki}/" + chain, "--key", "{pki}/device.key",
                                "-d", "x"], rc.EXIT_TLS, stderr=[REFUSED, alert])],
                    [sink_refused(rc, SINK_REASONS.get(what, "certificate verify failed"))],
                    labels=["mtls", "sink"]))


def _nginx_cases(rc, cli, n, v):
    Case, Step = rc.Case, rc.Step
    skip = rc.no_nginx
    body = rc.alert("mtls nginx %s %s" % (v, n))
    rc.add(Case("mtls.nginx.delivered_ecdsa.%s.%s" % (tag(v), n),
                lambda v=v: NginxMtls(tls=(v, v)),
                [Step(cli, ["-v"] + DEVICE + ["-d", body.decode()], rc.EXIT_OK,
                      stderr=[ASKED, SENT, "TLS " + v])],
                [nginx_verified("/alerts", body, v)], labels=["mtls", "nginx"], skip_if=skip))
    rc.add(Case("mtls.nginx.no_cert_400.%s.%s" % (tag(v), n),
                lambda v=v: NginxMtls(tls=(v, v)),
                [Step(cli, ["-d", body.decode()], rc.EXIT_TLS, stderr=[NEEDS_CERT])],
                [nginx_no_cert_400()], labels=["mtls", "nginx"], skip_if=skip))
    # AWS IoT Core's HTTPS publish: POST /topics/TOPIC?qos=1 with the device certificate.
    topic = "fleet/%s/alerts" % pki.DEVICE_CN
    body = ('{"alert":"disk full","device":"%s","tls":"%s"}' % (pki.DEVICE_CN, v)).encode()
    rc.add(Case("mtls.iot_core.publish.%s.%s" % (tag(v), n),
                lambda v=v: IotCoreNginx(tls=(v, v)),
                [Step(cli, ["--cacert", "{pki}/root.pem", "--resolve",
                            "localhost:{port}:127.0.0.1", "--max-time", rc.CLI_MAX_TIME]
                      + DEVICE + ["-d", body.decode(),
                                  "https://localhost:{port}/topics/%s?qos=1" % topic],
                      rc.EXIT_OK, standard=False,
                      stdout=['{"message":"OK","traceId":"'])],
                [nginx_verified("/topics/" + topic, body, v, args="qos=1")],
                labels=["mtls", "nginx", "iot_core"], skip_if=skip))


def _alertmanager_cases(rc, cli, n, v):
    Case, Step = rc.Case, rc.Step
    name = "mtls.alertmanager.%%s.%s.%s" % (tag(v), n)
    url = "https://localhost:{port}/api/v2/alerts"
    std = ["--cacert", "{pki}/root.pem", "--resolve", "localhost:{port}:127.0.0.1",
           "--max-time", rc.CLI_MAX_TIME]
    case = name % "post_alert"
    rc.add(Case(case, lambda v=v: Alertmanager(tls=(v, v)),
                [Step(cli, ["-v"] + std + DEVICE + ["-d", am_alert(case), url], rc.EXIT_OK,
                      standard=False, stderr=[ASKED, SENT, "TLS " + v])],
                [am_holds(case)], labels=["mtls", "alertmanager"]))
    rc.add(Case(name % "no_cert", lambda v=v: Alertmanager(tls=(v, v)),
                [Step(cli, std + ["-d", am_alert("no cert"), url], rc.EXIT_TLS,
                      standard=False, stderr=[NEEDS_CERT])],
                [am_refused(AM_REASONS["no_cert"])], labels=["mtls", "alertmanager"]))
    # Go's crypto/tls sends bad_certificate for any client certificate it cannot verify.
    # In TLS 1.3 it then closes at once, often before the client's request is written:
    # the client's write fails (broken pipe, reset) with the alert already received,
    # so the refusal is told only by a client that still reads after a failed write
    # (mtls_witness.py does; the sink, unlike Go, closes with a FIN and so never
    # races). A client that does not can fail these cases now and then.
    rc.add(Case(name % "refused_unknown_ca", lambda v=v: Alertmanager(tls=(v, v)),
                [Step(cli, std + ["--cert", "{pki}/device-unknown-chain.pem",
                                  "--key", "{pki}/device.key",
                                  "-d", am_alert("unknown ca"), url], rc.EXIT_TLS,
                      standard=False, stderr=[REFUSED, "bad_certificate"])],
                [am_refused(AM_REASONS["unknown_ca"])], labels=["mtls", "alertmanager"]))


def _bad_input_cases(rc, cli, n):
    for what, args, words in BAD_INPUTS:
        rc.add(rc.Case("mtls.bad_input.%s.%s" % (what, n),
                       lambda: PySink(client_ca="client-root.pem"),
                       [rc.Step(cli, args + ["-d", "x"], rc.EXIT_USAGE, stderr=words,
                                stderr_lacks=["unknown option"])],
                       [rc.never_connected()], labels=["mtls", "usage"]))


def _verbose_cases(rc, cli, n):
    # A server that does not ask: the certificate is configured, and not sent.
    body = rc.alert("mtls not asked " + n)
    rc.add(rc.Case("mtls.verbose_not_requested.%s" % n, lambda: PySink(),
                   [rc.Step(cli, ["-v"] + DEVICE + ["-d", body.decode()], rc.EXIT_OK,
                            stderr=[NOT_ASKED], stderr_lacks=["Client certificate sent"])],
                   [rc.delivered(body), _no_client_cert()], labels=["mtls", "sink"]))


def _no_client_cert():
    def check(got, ctx):
        if got.client_cns != [None]:
            return ["client certificate CN(s) %r on the handshakes, expected none" %
                    got.client_cns]
        return []
    return check


# ------------------------------------------------------------------ the witness

def _witness_cases(rc, v):
    """Python's ssl as the client: the server set-ups themselves, without alertpost."""
    Case, Step = rc.Case, rc.Step
    dev = ["--cert", "{pki}/device-chain.pem", "--key", "{pki}/device.key"]

    def witness(extra, code, out):
        return Step("witness", ["--cacert", "{pki}/root.pem", "--port", "{port}",
                                "--tls", v] + extra, code, stdout=out)
    name = "mtls.witness.%%s.%s" % tag(v)

    def sink(v=v):
        return PySink(client_ca="client-root.pem", tls_min=v, tls_max=v)
    body = rc.alert("witness " + v)
    rc.add(Case(name % "sink_delivered", sink,
                [witness(dev + ["--data", body.decode()], 0, ["status 200"])],
                [device_delivered(rc, body, v)], labels=["mtls", "mtls_witness"]))
    rc.add(Case(name % "sink_encrypted_pkcs8", sink,
                [witness(["--cert", "{pki}/device-chain.pem", "--key",
                          "{pki}/device-enc-pkcs8.key", "--pass", PASS,
                          "--data", body.decode()], 0, ["status 200"])],
                [device_delivered(rc, body, v)], labels=["mtls", "mtls_witness"]))
    for what, chain, alert in (("unknown_ca", "device-unknown-chain.pem", "unknown_ca"),
                               ("expired", "device-expired-chain.pem", "certificate_expired"),
                               ("leaf_without_chain", "device.pem", "unknown_ca")):
        rc.add(Case(name % ("sink_refused_" + what), sink,
                    [witness(["--cert", "{pki}/" + chain, "--key", "{pki}/device.key"], 6,
                             ["alert " + alert])],
                    [sink_refused(rc, SINK_REASONS.get(what, "certificate verify failed"))],
                    labels=["mtls", "mtls_witness"]))
    rc.add(Case(name % "nginx_no_cert_400", lambda v=v: NginxMtls(tls=(v, v)),
                [witness(["--data", "x"], 7, ["status 400"])],
                [nginx_no_cert_400()], labels=["mtls", "mtls_witness", "nginx"],
                skip_if=rc.no_nginx))
    topic = "fleet/%s/alerts" % pki.DEVICE_CN
    rc.add(Case(name % "iot_core_publish", lambda v=v: IotCoreNginx(tls=(v, v)),
                [witness(dev + ["--path", "/topics/%s?qos=1" % topic, "--data", body.decode()],
                         0, ["status 200", '{"message":"OK","traceId":"'])],
                [nginx_verified("/topics/" + topic, body, v, args="qos=1")],
                labels=["mtls", "mtls_witness", "nginx", "iot_core"], skip_if=rc.no_nginx))
    case = name % "alertmanager_post_alert"
    rc.add(Case(case, lambda v=v: Alertmanager(tls=(v, v)),
                [witness(dev + ["--path", "/api/v2/alerts", "--data", am_alert(case)], 0,
                         ["status 200"])],
                [am_holds(case)], labels=["mtls", "mtls_witness", "alertmanager"]))
    rc.add(Case(name % "alertmanager_refused_unknown_ca", lambda v=v: Alertmanager(tls=(v, v)),
                [witness(["--cert", "{pki}/device-unknown-chain.pem", "--key",
                          "{pki}/device.key", "--path", "/api/v2/alerts",
                          "--data", am_alert("unknown")], 6, ["alert bad_certificate"])],
                [am_refused(AM_REASONS["unknown_ca"])],
                labels=["mtls", "mtls_witness", "alertmanager"]))
    rc.add(Case(name % "alertmanager_no_cert", lambda v=v: Alertmanager(tls=(v, v)),
                [witness(["--path", "/api/v2/alerts", "--data", am_alert("none")], 6,
                         ["alert "])],
                [am_refused(AM_REASONS["no_cert"])],
                labels=["mtls", "mtls_witness", "alertmanager"]))
