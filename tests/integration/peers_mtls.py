"""Servers that require a client certificate (mutual TLS), for the mtls.* cases.

Each trusts only the device root of the test PKI (client-root.pem, see pki.py)
and records enough to say which certificate arrived and whether it verified:

  NginxMtls        Debian's nginx, `ssl_verify_client on`; its access log carries
                   $ssl_client_verify and $ssl_client_s_dn for every request.
  IotCoreNginx     the same nginx shaped like AWS IoT Core's HTTPS publish API:
                   POST /topics/TOPIC?qos=1 answered 200 {"message":"OK","traceId":...},
                   on port 8443 where that port is free.
  Alertmanager     Debian's Prometheus Alertmanager with a --web.config.file that
                   requires and verifies client certificates; what it accepted is
                   read back through its own API (GET /api/v2/alerts).

Python's sink (sink.py --client-ca) is the fourth: PySink(client_ca=...).

nginx verifies a client certificate only after the handshake: with no certificate,
or one it cannot verify, it still completes the handshake and answers the request
400. Alertmanager (Go's crypto/tls) refuses in the handshake itself.
"""

import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import (SERVER_VERSION_NAMES, NginxServer, Peer, PeerError,  # noqa: E402
                   Received, _read_text, free_port)

CLIENT_CA = "client-root.pem"
# nginx's default depth (1) stops at the device CA: leaf, device CA, device root.
VERIFY_DEPTH = 2
IOT_PORT = 8443
ALERTMANAGER = "prometheus-alertmanager"   # the Debian package's name for the binary
ALERTMANAGER_LIFETIME = 60                 # seconds; the case ends it well before


class NginxMtls(NginxServer):
    """nginx requiring a client certificate under the device root; /alerts answers 204.

    Access-log line: connection, its request number, method, path, status, TLS version,
    Content-Length, request length, $ssl_client_verify (SUCCESS, NONE, FAILED:why),
    the query string in quotes, then the client's subject DN (RFC 2253) to the end.
    """

    def __init__(self, tls=("1.2", "1.3"), verify="on", **kw):
        super().__init__(tls=tls, **kw)
        self.verify = verify

    def _locations(self):
        return "location /alerts { return 204; }"

    def _config(self, pki):
        w = self.work
        return """daemon off;
master_process off;
worker_processes 1;
pid %(w)s/nginx.pid;
error_log %(w)s/error.log info;
events { worker_connections 64; }
http {
    client_body_temp_path %(w)s/body;
    proxy_temp_path %(w)s/proxy;
    fastcgi_temp_path %(w)s/fastcgi;
    uwsgi_temp_path %(w)s/uwsgi;
    scgi_temp_path %(w)s/scgi;
    log_format mtls '$connection $connection_requests $request_method $uri $status '
                    '$ssl_protocol $content_length $request_length $ssl_client_verify '
                    '"$args" $ssl_client_s_dn';
    access_log %(w)s/access.log mtls;
    server {
        listen 127.0.0.1:%(port)d ssl;
        ssl_certificate %(pki)s/%(cert)s;
        ssl_certificate_key %(pki)s/%(key)s;
        ssl_protocols %(protocols)s;
        ssl_verify_client %(verify)s;
        ssl_client_certificate %(pki)s/%(ca)s;
        ssl_verify_depth %(depth)d;
        keepalive_requests %(kr)d;
        %(locations)s
    }
}
""" % {"w": w, "port": self.port, "pki": pki, "cert": self.cert, "key": self.key,
       "protocols": self._protocols(), "verify": self.verify, "ca": CLIENT_CA,
       "depth": VERIFY_DEPTH, "kr": self.keepalive_requests, "locations": self._locations()}

    def received(self):
        got = super().received()
        lines = _read_text(os.path.join(self.work, "access.log")).decode().splitlines()
        for line, req in zip(lines, got.requests):
            fields = line.split(" ", 10)
            if len(fields) < 11:
                raise PeerError("access-log line %r lacks the client-certificate fields"
                                % line)
            req["client_verify"] = fields[8]
            req["args"] = fields[9].strip('"')
            if req["args"] == "-":
                req["args"] = ""  # nginx writes "-" for an empty $args
            req["client_dn"] = fields[10] if fields[10] != "-" else ""
        return got


class IotCoreNginx(NginxMtls):
    """An AWS IoT Core-shaped HTTPS endpoint: POST /topics/TOPIC?qos=0|1 with a device
    certificate, answered 200 with a small JSON body; anything else 400/404/405."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.port_note = None

    def _locations(self):
        return """default_type application/json;
        location /topics/ {
            if ($request_method != POST) { return 405 '{"message":"POST only"}'; }
            if ($arg_qos !~ "^[01]$") { return 400 '{"message":"qos must be 0 or 1"}'; }
            return 200 '{"message":"OK","traceId":"$request_id"}';
        }
        location / { return 404 '{"message":"Not Found"}'; }"""

    def _pick_port(self, attempt):
        # IoT Core's HTTPS port where it is free; a shared machine may have 8443 in use
        # (or an earlier attempt failed to bind it), and any port shows the same thing.
        if attempt == 0:
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                    s.bind(("127.0.0.1", IOT_PORT))
                return IOT_PORT
            except OSError as exc:
                self.port_note = "port %d cannot be bound here (%s)" % (IOT_PORT, exc)
        port = free_port()
        sys.stderr.write("IotCoreNginx: %s; listening on %d instead\n" % (
            self.port_note or "port %d did not work" % IOT_PORT, port))
        return port


# ------------------------------------------------------------------ Alertmanager

AM_CONFIG = """route:
  receiver: nowhere
receivers:
  - name: nowhere
"""

AM_WEB_CONFIG = """tls_server_config:
  cert_file: %(pki)s/%(cert)s
  key_file: %(pki)s/%(key)s
  client_auth_type: %(auth)s
  client_ca_file: %(pki)s/%(ca)s
  min_version: TLS%(lo)s
  max_version: TLS%(hi)s
"""


def device_context(pki, tls=None):
    """A Python client context with the ECDSA device certificate, trusting the server
    root: how the test itself talks to a server that requires a client certificate."""
    ctx = ssl.create_default_context(cafile=os.path.join(pki, "root.pem"))
    ctx.load_cert_chain(os.path.join(pki, "device-chain.pem"), os.path.join(pki, "device.key"))
    if tls:
        ctx.minimum_version = ctx.maximum_version = {
            "1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}[tls]
    return ctx


class Alertmanager(Peer):
    """prometheus-alertmanager on 127.0.0.1 with TLS and client_auth_type (by default
    RequireAndVerifyClientCert) under the device root; its own storage directory,
    clustering off, and a bounded lifetime (coreutils `timeout`).

    received(): `alerts`, the alerts it holds, as its API lists them to the test
    (with the device certificate); `handshakes_failed`, its "TLS handshake error"
    log lines (Go's reason, e.g. "client didn't provide a certificate"). It logs no
    requests, so connections and handshakes are unknown.
    """

    program = ALERTMANAGER

    def __init__(self, tls=("1.2", "1.3"), auth="RequireAndVerifyClientCert",
                 cert="ecdsa-chain.pem", key="ecdsa.key"):
        super().__init__()
        self.tls, self.auth, self.cert, self.key = tls, auth, cert, key
        self.pki = None
        self.alerts = None

    def start(self, work, pki):
        self.work, self.pki = work, pki
        with open(os.path.join(work, "alertmanager.yml"), "w", encoding="ascii") as f:
            f.write(AM_CONFIG)
        with open(os.path.join(work, "web.yml"), "w", encoding="ascii") as f:
            f.write(AM_WEB_CONFIG % {"pki": pki, "cert": self.cert, "key": self.key,
                                     "auth": self.auth, "ca": CLIENT_CA,
                                     "lo": self.tls[0].replace(".", ""),
                                     "hi": self.tls[1].replace(".", "")})
        self.logfile = os.path.join(work, "alertmanager.out")
        for attempt in range(3):
            self.port = free_port()
            self.log_fh = open(self.logfile, "wb")
            self._spawn(["timeout", str(ALERTMANAGER_LIFETIME), ALERTMANAGER,
                         "--config.file=" + os.path.join(work, "alertmanager.yml"),
                         "--web.config.file=" + os.path.join(work, "web.yml"),
                         "--storage.path=" + os.path.join(work, "am-data"),
                         "--web.listen-address=127.0.0.1:%d" % self.port,
                         "--cluster.listen-address=", "--log.level=debug"],
                        stdout=self.log_fh, stderr=subprocess.STDOUT)
            want = ('msg="Listening on" address=127.0.0.1:%d' % self.port).encode()
            try:
                self._wait_for(lambda: want in _read_text(self.logfile), "listening line")
                return self.port
            except PeerError:
                self.stop()
                if attempt == 2:
                    raise PeerError("Alertmanager did not start: %s" % _read_text(
                        self.logfile).decode("utf-8", "replace")[-1500:])
        return self.port

    def settle(self):
        time.sleep(0.3)

    def list_alerts(self):
        """GET /api/v2/alerts over mutual TLS, as any client of Alertmanager would."""
        conn = http.client.HTTPSConnection("localhost", self.port, timeout=10,
                                           context=device_context(self.pki))
        try:
            conn.request("GET", "/api/v2/alerts")
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        if resp.status != 200:
            raise PeerError("GET /api/v2/alerts answered %d: %r" % (resp.status, body[:200]))
        return json.loads(body)

    def received(self):
        got = Received()
        got.known_handshakes = False
        try:
            got.alerts = self.list_alerts()
        except (OSError, ValueError) as exc:
            raise PeerError("could not list Alertmanager's alerts: %s" % exc) from exc
        log = _read_text(self.logfile).decode("utf-8", "replace")
        got.handshakes_failed = [l for l in log.splitlines() if "TLS handshake error" in l]
        # Its debug lines are many: what a failure message needs is the alerts it holds
        # and the handshakes it refused.
        got.log = "alerts listed: %s\n%s" % (json.dumps(alert_labels(got.alerts)),
                                             "\n".join(got.handshakes_failed))
        return got

    def stop(self):
        super().stop()
        if getattr(self, "log_fh", None):
            self.log_fh.close()
            self.log_fh = None


def alert_labels(alerts):
    """The label sets of the alerts Alertmanager listed."""
    return [a.get("labels", {}) for a in alerts or []]


# The versions as the servers log them, for the checks.
TLS_NAMES = SERVER_VERSION_NAMES
