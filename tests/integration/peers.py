"""TLS peers for the integration tests, each behind one small interface.

A peer is started, tells the port it listens on (127.0.0.1 or ::1 only),
and afterwards reports what it received as a `Received`: the handshakes it
completed or saw fail, the HTTP requests, and any bytes that were not a whole
request. Every wait here is bounded, and `stop()` always ends the process.

To add a hostile server to the refusal matrix: a new mode in sink.py (MODES),
or a new Peer subclass here whose `received()` fills the same fields.
"""

import base64
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sink  # noqa: E402  (the request parser is shared with the sink)

START_TIMEOUT = 10.0


class PeerError(Exception):
    """The peer itself failed: a broken test set-up, not a client verdict."""


class Received:
    """What a peer saw. `known_handshakes` is False where the peer cannot tell."""

    def __init__(self):
        self.handshakes_ok = []     # negotiated versions as the peer names them
        self.handshakes_failed = []  # error texts
        self.requests = []          # dicts: method, path, version, headers, body, conn
        self.raw = b""              # bytes that were not a whole request
        self.known_handshakes = True
        self.connections = None     # TCP connections the peer accepted, None if unknown
        self.log = ""               # the peer's own output, for failure messages
        self.bodies = None          # [(conn, body)] in arrival order, where recorded
        self.client_cns = []        # per completed handshake: the client certificate's CN
        self.resumed = []           # per completed handshake: it resumed a session (sink)

    def http_bytes_seen(self):
        return bool(self.requests) or bool(self.raw)

    def describe(self):
        lines = ["handshakes ok: %r" % self.handshakes_ok if self.known_handshakes
                 else "handshakes: not reported by this peer",
                 "handshakes failed: %r" % self.handshakes_failed,
                 "requests: %d" % len(self.requests)]
        for r in self.requests:
            lines.append("  conn %s %s %s body %d bytes %r" % (
                r.get("conn"), r["method"], r["path"], len(r["body"]), r["body"][:80]))
        if self.raw:
            lines.append("raw bytes: %r" % self.raw[:200])
        if self.log:
            lines.append("peer output:\n" + self.log[-2000:])
        return "\n".join(lines)


class _BytesReader(sink.Reader):
    """sink.Reader over bytes already captured, so one parser serves every peer."""

    def __init__(self, data):
        super().__init__(None)
        self.buf = data

    def fill(self):
        raise sink.Closed("end of captured data")


def parse_requests(data):
    """Splits captured application bytes into requests; the unparsed tail is raw."""
    reader = _BytesReader(data)
    requests = []
    while reader.buf:
        saved = reader.buf
        try:
            req = sink.read_request(reader)
        except (sink.Closed, ValueError):
            return requests, saved
        if req is None:
            break
        requests.append(req)
    return requests, b""


def free_port(host="127.0.0.1"):
    """A port that was free a moment ago, for peers that cannot listen on port 0."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


class Peer:
    host = "127.0.0.1"

    def __init__(self):
        self.proc = None
        self.port = None
        self.work = None

    def start(self, work):
        raise NotImplementedError

    def received(self):
        raise NotImplementedError

    def _spawn(self, argv, stdin=subprocess.DEVNULL, stdout=None, stderr=None):
        # A session of its own, so stop() ends the peer and anything it started.
        self.proc = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr,
                                     start_new_session=True)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def _wait_for(self, predicate, what):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if predicate():
                return
            if self.proc.poll() is not None:
                raise PeerError("%s exited (%d) before %s" % (
                    type(self).__name__, self.proc.returncode, what))
            time.sleep(0.05)
        raise PeerError("%s: no %s within %.0f s" % (type(self).__name__, what, START_TIMEOUT))


class PySink(Peer):
    """sink.py: records every handshake and request; any mode of sink.MODES."""

    def __init__(self, cert="ecdsa-chain.pem", key="ecdsa.key", tls_min="1.2", tls_max="1.3",
                 mode="normal", status=200, host="127.0.0.1", extra=(), client_ca=None):
        super().__init__()
        self.cert, self.key = cert, key
        self.client_ca = client_ca   # a PKI file name: require client certificates under it
        self.tls_min, self.tls_max = tls_min, tls_max
        self.mode, self.status, self.host = mode, status, host
        self.extra = list(extra)

    def start(self, work, pki):
        self.work = work
        self.ready = os.path.join(work, "sink.ready")
        self.record = os.path.join(work, "sink.jsonl")
        self.logfile = os.path.join(work, "sink.log")
        for p in (self.ready, self.record):
            if os.path.exists(p):
                os.unlink(p)
        argv = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                             "sink.py"),
                "--host", self.host, "--port", "0", "--ready-file", self.ready,
                "--cert", os.path.join(pki, self.cert), "--key", os.path.join(pki, self.key),
                "--tls-min", self.tls_min, "--tls-max", self.tls_max,
                "--mode", self.mode, "--status", str(self.status),
                "--record", self.record, "--max-seconds", "45"] + self.extra
        if self.client_ca:
            argv += ["--client-ca", os.path.join(pki, self.client_ca)]
        self.log_fh = open(self.logfile, "wb")
        self._spawn(argv, stdout=self.log_fh, stderr=subprocess.STDOUT)
        self._wait_for(lambda: os.path.exists(self.ready), "ready file")
        with open(self.ready, encoding="ascii") as f:
            self.port = int(f.read().strip())
        return self.port

    def settle(self):
        # The client may exit before the sink's thread has written the request down.
        time.sleep(0.3)

    def received(self):
        got = Received()
        conns = set()
        for line in _read_text(self.record).decode("utf-8").splitlines():
            ev = json.loads(line)
            kind = ev["event"]
            conns.add(ev["conn"])
            if kind == "handshake_ok":
                got.handshakes_ok.append(ev["version"])
                got.client_cns.append(ev.get("client_cn"))
                got.resumed.append(ev.get("resumed"))
            elif kind == "handshake_fail":
                got.handshakes_failed.append(ev["error"])
            elif kind == "request":
                got.requests.append({"conn": ev["conn"], "method": ev["method"],
                                     "path": ev["path"], "version": ev["version"],
                                     "headers": ev["headers"],
                                     "body": base64.b64decode(ev["body_b64"]),
                                     "client_cn": ev.get("client_cn")})
            elif kind == "raw":
                got.raw += base64.b64decode(ev["data_b64"])
        got.connections = len(conns)
        self.log_fh.flush()
        got.log = _read_text(self.logfile).decode("utf-8", "replace")
        return got

    def stop(self):
        super().stop()
        if getattr(self, "log_fh", None):
            self.log_fh.close()


OPENSSL_VERSION_FLAGS = {"1.0": "-tls1", "1.1": "-tls1_1", "1.2": "-tls1_2", "1.3": "-tls1_3"}


class NginxServer(Peer):
    """Debian's nginx on loopback, TLS 1.2 and 1.3, answering every POST to /alerts 204.

    keepalive_requests makes nginx itself close a kept-alive connection after
    that many requests (a server-initiated close). Its access log gives each
    request's connection number and length; its error log, at info level, says
    whether a client left bytes unread (nginx logs "Connection reset by peer"),
    and each failed handshake ("SSL_do_handshake() failed"). `tls` is the pair of
    versions it offers, as for the servers of the real-servers matrix below.
    """

    needs_nginx = True
    program = "nginx"

    def __init__(self, keepalive_requests=100, cert="ecdsa-chain.pem", key="ecdsa.key",
                 tls=("1.2", "1.3")):
        super().__init__()
        self.keepalive_requests = keepalive_requests
        self.cert, self.key = cert, key
        self.tls = tls

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
    log_format alerts '$connection $connection_requests $request_method $uri $status '
                      '$ssl_protocol $content_length $request_length';
    access_log %(w)s/access.log alerts;
    server {
        listen 127.0.0.1:%(port)d ssl;
        ssl_certificate %(pki)s/%(cert)s;
        ssl_certificate_key %(pki)s/%(key)s;
        ssl_protocols %(protocols)s;%(ciphers)s
        keepalive_requests %(kr)d;
        location /alerts { return 204; }
    }
}
""" % {"w": w, "port": self.port, "pki": pki, "cert": self.cert, "key": self.key,
       "kr": self.keepalive_requests, "protocols": self._protocols(),
       "ciphers": "\n        ssl_ciphers %s;" % OPENSSL_LEGACY_CIPHERS if self.tls[0] < "1.2"
       else ""}

    def _protocols(self):
        lo, hi = self.tls
        return " ".join(SERVER_VERSION_NAMES[v] for v in sorted(SERVER_VERSION_NAMES)
                        if lo <= v <= hi)

    def start(self, work, pki):
        self.work = work
        for attempt in range(3):
            self.port = self._pick_port(attempt)
            conf = os.path.join(work, "nginx.conf")
            with open(conf, "w", encoding="ascii") as f:
                f.write(self._config(pki))
            self.log_fh = open(os.path.join(work, "nginx.out"), "wb")
            self._spawn(["nginx", "-p", work, "-c", conf], stdout=self.log_fh,
                        stderr=subprocess.STDOUT)
            try:
                self._wait_for(self._listening, "listening socket")
                return self.port
            except PeerError:
                self.stop()
                if attempt == 2:
                    raise
        return self.port

    def _pick_port(self, attempt):
        """The port of start-up attempt `attempt` (0, 1, 2): a free one each time."""
        return free_port()

    def _listening(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def settle(self):
        time.sleep(0.5)  # nginx writes its logs as connections end

    def received(self):
        got = Received()
        lines = _read_text(os.path.join(self.work, "access.log")).decode().splitlines()
        conns = _access_requests(lines, got)
        for line, req in zip(lines, got.requests):
            req["request_length"] = int(line.split()[7])   # head and body, as received
        got.log = _read_text(os.path.join(self.work, "error.log")).decode("utf-8", "replace")
        # Not the start-up probe's "closed connection while SSL handshaking".
        got.handshakes_failed = [l for l in got.log.splitlines()
                                 if "SSL_do_handshake() failed" in l]
        got.connections = len(conns)
        return got


class NginxResume(NginxServer):
    """NginxServer whose access log also says, per request, whether its connection's
    TLS session was resumed (nginx's $ssl_session_reused: "r" or "."), with
    `tls` = (v, v) to pin one version; nginx's own session cache and tickets."""

    def _config(self, pki):
        conf = super()._config(pki)
        conf = conf.replace("$request_length'", "$request_length $ssl_session_reused'")
        return conf.replace("        keepalive_requests",
                            "        ssl_session_cache shared:resume:1m;\n"
                            "        ssl_session_tickets on;\n        keepalive_requests")

    def received(self):
        got = super().received()
        lines = _read_text(os.path.join(self.work, "access.log")).decode().splitlines()
        for line, req in zip(lines, got.requests):
            req["reused"] = line.split()[8] == "r"
        return got


class NginxPipeline(NginxServer):
    """NginxServer whose access log also gives each request's Idempotency-Key
    ($http_idempotency_key, quotes logged as \\x22): with $connection and
    $connection_requests it shows which requests shared a connection, in what order."""

    def _config(self, pki):
        conf = super()._config(pki)
        return conf.replace("$request_length'", "$request_length $http_idempotency_key'")

    def received(self):
        got = super().received()
        lines = _read_text(os.path.join(self.work, "access.log")).decode().splitlines()
        for line, req in zip(lines, got.requests):
            req["key"] = line.split()[8].replace("\\x22", "")
        return got


class _Acceptor:
    """A loopback listener that gives each connection, numbered from 1, a thread of its
    own (self._serve), for 60 s at most."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        deadline = time.monotonic() + 60
        n = 0
        while not self.stopping and time.monotonic() < deadline:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            n += 1
            threading.Thread(target=self._serve, args=(conn, n), daemon=True).start()

    def _serve(self, conn, n):
        raise NotImplementedError

    def stop(self):
        self.stopping = True
        self.thread.join(timeout=2)
        self.sock.close()


def _record_types(state, data):
    """Feeds bytes of one direction of a TLS stream to `state` (a dict with "buf"), and
    returns the content types of the records completed by them."""
    state["buf"] += data
    types = []
    while len(state["buf"]) >= 5:
        n = 5 + int.from_bytes(state["buf"][3:5], "big")
        if len(state["buf"]) < n:
            break
        types.append(state["buf"][0])
        state["buf"] = state["buf"][n:]
    return types


class FlightGate(_Acceptor):
    """A TCP relay in front of a TLS server that stands in for a network's round trip.

    It passes the client's first flight (its bytes before the server's first one) at
    once, noting the record types in it, and when that flight carried early data (a
    protected record, type 23), holds the client's next flight until the server has
    sent `release` protected records, or RELEASE_S has passed. A resumed TLS 1.3
    server sends two (EncryptedExtensions, Finished) before the client's Finished; a
    third is data the server wrote before the handshake completed: its answer to a
    request it took from the early data. So a server that processes early data is
    seen to do so before the handshake completes, however fast loopback is."""

    RELEASE_S = 5.0

    def __init__(self, target_port, release=3):
        self.target_port, self.release = target_port, release
        self.flights = {}            # connection number: the record types of its first flight
        super().__init__()

    @property
    def first_flights(self):
        return [self.flights[n] for n in sorted(self.flights)]

    def _serve(self, conn, n):
        self.flights[n] = []
        self._relay(conn, self.flights[n])

    def _relay(self, client, first):
        server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
        up, down = {"buf": b""}, {"buf": b""}
        held, answered, protected, opened = b"", False, 0, time.monotonic()
        with client, server:
            while True:
                gate_open = 23 not in first or protected >= self.release or \
                    time.monotonic() - opened > self.RELEASE_S
                if held and gate_open:
                    server.sendall(held)
                    held = b""
                ready, _, _ = select.select([client, server], [], [], 0.1)
                try:
                    if client in ready:
                        data = client.recv(65536)
                        if not data:
                            return
                        if not answered:
                            first.extend(_record_types(up, data))
                            server.sendall(data)
                        else:
                            held += data
                    if server in ready:
                        data = server.recv(65536)
                        if not data:
                            return
                        answered = True
                        protected += _record_types(down, data).count(23)
                        client.sendall(data)
                except OSError:
                    return


class NginxEarlyData(NginxResume):
    """NginxResume with TLS 1.3 early data (`early`: nginx's ssl_early_data on or off),
    whose access log also says per request whether it arrived as early data (nginx's
    $ssl_early_data as the request was processed: "1" while the handshake was not
    complete, "" otherwise) and its
    Idempotency-Key ("-" if none). `curve` limits the groups nginx accepts (its
    ssl_ecdh_curve): one the client does not send a share for first makes nginx answer
    with a HelloRetryRequest, which refuses the early data of that connection. With
    `gate`, the client reaches nginx through a FlightGate, which records each
    connection's first flight. With `too_early`, nginx answers a request that came as
    early data 425 Too Early (RFC 8470), as a server unwilling to risk a replay does."""

    def __init__(self, early=True, curve=None, gate=False, too_early=False, **kw):
        super().__init__(**kw)
        self.early, self.curve, self.too_early = early, curve, too_early
        self.gate = None if not gate else True   # a FlightGate in front, once started

    def start(self, work, pki):
        port = super().start(work, pki)
        if self.gate:
            self.gate = FlightGate(port)
            return self.gate.port
        return port

    def stop(self):
        if isinstance(self.gate, FlightGate):
            self.gate.stop()
        super().stop()

    def _config(self, pki):
        conf = super()._config(pki)
        # $ssl_early_data is read when the request is processed (set, prefixed so that
        # the value is never empty): by the time the log is written the client's
        # Finished may have completed the handshake.
        conf = conf.replace("$ssl_session_reused'",
                            "$ssl_session_reused $early $http_idempotency_key'")
        # too_early: RFC 8470's pattern, 425 to a request that came as early data
        refuse = "if ($early = e1) { return 425; } " if self.too_early else ""
        conf = conf.replace("location /alerts { return 204; }",
                            "location /alerts { set $early \"e$ssl_early_data\"; %s"
                            "return 204; }" % refuse)
        extra = "        ssl_early_data %s;\n" % ("on" if self.early else "off")
        if self.curve:
            extra += "        ssl_ecdh_curve %s;\n" % self.curve
        return conf.replace("        keepalive_requests", extra + "        keepalive_requests")

    def received(self):
        got = super().received()
        lines = _read_text(os.path.join(self.work, "access.log")).decode().splitlines()
        for line, req in zip(lines, got.requests):
            fields = line.split()
            req["early"] = fields[9] == "e1"
            req["key"] = fields[10] if fields[10] != "-" else None
        if isinstance(self.gate, FlightGate):
            got.first_flights = list(self.gate.first_flights)
        return got


# ------------------------------------------------ Debian servers: the real-servers matrix
#
# Each is the Debian package's own binary, started in the foreground by the test with a
# config file written into the case's work directory, listening on 127.0.0.1 only, and
# never the system service. Each offers the TLS versions it is asked for (`tls`, a pair
# like ("1.2", "1.3")), closes a kept-alive connection after `keepalive` requests, and
# logs one access-log line per request: the client's port (the connection's identity),
# the request's number on its connection, method, path, status, the TLS version it
# negotiated and the request's Content-Length. Where the server can record the body
# cheaply it does (Apache through mod_lua, lighttpd through a CGI script, HAProxy's
# backend here in Python), and `Received.bodies` holds them; otherwise it is None and
# the checks fall back to the logged Content-Length.

# OpenSSL 3 allows TLS 1.0 only at security level 0, so a TLS 1.0-only server needs it.
OPENSSL_LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"
# The versions as OpenSSL names them: in the servers' logs and in their configuration.
SERVER_VERSION_NAMES = {"1.0": "TLSv1", "1.1": "TLSv1.1", "1.2": "TLSv1.2", "1.3": "TLSv1.3"}
GNUTLS_VERSION_NAMES = {"TLS1.%d" % i: SERVER_VERSION_NAMES["1.%d" % i] for i in range(4)}


def _access_requests(lines, got):
    """Fills `got` from access-log lines 'PORT NUMBER METHOD PATH STATUS TLS LENGTH'."""
    # A log names the version of handshakes that carried a request, not every handshake.
    got.known_handshakes = False
    conns = []
    for line in lines:
        fields = line.split()
        if len(fields) < 7:
            raise PeerError("access-log line %r is not 'port number method path status tls "
                            "length'" % line)
        port, number, method, path, status, tls, length = fields[:7]
        tls = GNUTLS_VERSION_NAMES.get(tls, tls)
        if port not in conns:
            conns.append(port)
            got.handshakes_ok.append(tls)
        got.requests.append({"conn": port, "number": int(number), "method": method,
                             "path": path, "version": "", "headers": [], "body": b"",
                             "status": int(status), "tls": tls,
                             "length": int(length) if length.isdigit() else None})
    return conns


class _ConfiguredServer(Peer):
    """A server driven by a config file of the test's own; the subclass writes it."""

    program = None          # run_case.py skips (or fails in CI) when it is not installed
    needs_program = True
    logs_handshake_failures = True

    def __init__(self, tls=("1.2", "1.3"), keepalive=1000, cert="ecdsa-chain.pem",
                 key="ecdsa.key"):
        super().__init__()
        self.tls = tls
        self.keepalive = keepalive
        self.cert, self.key = cert, key

    def _config(self, pki):
        raise NotImplementedError

    modules = ()   # files the config loads, each with the Debian package that has it

    def missing_part(self):
        """What is not installed (the program, or a module and its package), or None."""
        if shutil.which(self.program) is None:
            return self.program
        for path, package in self.modules:
            if not os.path.exists(path):
                return "%s (%s)" % (package, path)
        return None

    def _argv(self, conf):
        raise NotImplementedError

    def _prepare(self, pki):
        """Files the config refers to, written before the first start."""

    def start(self, work, pki):
        self.work = work
        self._prepare(pki)
        # free_port() can race with another test: try a fresh port if the bind fails.
        for attempt in range(3):
            self.port = free_port()
            conf = os.path.join(work, self.conf_name)
            with open(conf, "w", encoding="ascii") as f:
                f.write(self._config(pki))
            self.log_fh = open(os.path.join(work, self.program + ".out"), "wb")
            self._spawn(self._argv(conf), stdout=self.log_fh, stderr=subprocess.STDOUT)
            try:
                self._wait_for(self._listening, "listening socket")
                return self.port
            except PeerError:
                self.stop()
                if attempt == 2:
                    raise PeerError("%s did not start: %s" % (
                        self.program, _read_text(os.path.join(work, self.program + ".out"))
                        .decode("utf-8", "replace")[-1500:]))
        return self.port

    def _listening(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def settle(self):
        # The access logs are complete only once the server has shut down (lighttpd
        # buffers its log until then; the others write as connections end).
        time.sleep(0.3)
        self.stop()

    def stop(self):
        super().stop()
        if getattr(self, "log_fh", None):
            self.log_fh.close()
            self.log_fh = None

    def _text(self, name):
        return _read_text(os.path.join(self.work, name)).decode("utf-8", "replace")


def _hex_bodies(text):
    """'PORT HEX' lines, as the Apache and lighttpd body recorders write them."""
    out = []
    for line in text.splitlines():
        port, _, data = line.partition(" ")
        out.append((port, bytes.fromhex(data.strip())))
    return out


class ApacheServer(_ConfiguredServer):
    """Debian's Apache httpd with mod_ssl, one process (`apache2 -X`), event MPM.

    A mod_lua handler reads each body and passes it, hex-encoded, to the access log as
    a request note, so one log line holds the connection, the request's number on it
    (%k counts from 0), the TLS version and the body. Failed handshakes are logged by
    mod_ssl at level info. MaxKeepAliveRequests N lets a connection carry N + 1
    requests (it counts the requests after the first), so it is set one below.
    """

    program = "apache2"
    conf_name = "httpd.conf"
    modules = tuple(("/usr/lib/apache2/modules/mod_%s.so" % m, "apache2-bin")
                    for m in ("mpm_event", "authz_core", "ssl", "lua"))

    def _prepare(self, pki):
        with open(os.path.join(self.work, "alerts.lua"), "w", encoding="ascii") as f:
            f.write('function handle(r)\n'
                    '  local body = r:requestbody() or ""\n'
                    '  r.notes["alert_hex"] = (body:gsub(".", function(c)\n'
                    '    return string.format("%02x", c:byte()) end))\n'
                    '  r.status = 204\n'
                    '  return apache2.OK\n'
                    'end\n')

    def _config(self, pki):
        lo, hi = self.tls
        protocols = " ".join("+" + SERVER_VERSION_NAMES[v] for v in sorted(SERVER_VERSION_NAMES)
                             if lo <= v <= hi)
        ciphers = "SSLCipherSuite %s\n" % OPENSSL_LEGACY_CIPHERS if lo < "1.2" else ""
        loads = "".join("LoadModule %s_module %s\n" % (os.path.basename(path)[4:-3], path)
                        for path, _ in self.modules)
        return ("ServerRoot %(w)s\nDefaultRuntimeDir %(w)s\nPidFile %(w)s/httpd.pid\n"
                "ErrorLog %(w)s/error.log\nLogLevel info\nMutex file:%(w)s default\n"
                "%(loads)sServerName localhost\nListen 127.0.0.1:%(port)d\n"
                "StartServers 1\nServerLimit 1\nThreadsPerChild 4\nMaxRequestWorkers 4\n"
                "KeepAlive On\nMaxKeepAliveRequests %(ka)d\nKeepAliveTimeout 10\n"
                "SSLEngine on\nSSLSessionCache none\n"
                "SSLCertificateFile %(pki)s/%(cert)s\nSSLCertificateKeyFile %(pki)s/%(key)s\n"
                "SSLProtocol -all %(protocols)s\n%(ciphers)s"
                'LogFormat "%%{remote}p %%k %%m %%U %%s %%{SSL_PROTOCOL}x %%{Content-Length}i '
                '%%{alert_hex}n" alerts\n'
                "CustomLog %(w)s/access.log alerts\n"
                "LuaMapHandler ^/alerts$ %(w)s/alerts.lua handle\n") % {
                    "w": self.work, "loads": loads, "port": self.port, "ka": self.keepalive - 1,
                    "pki": pki, "cert": self.cert, "key": self.key, "protocols": protocols,
                    "ciphers": ciphers}

    def _argv(self, conf):
        return ["apache2", "-X", "-f", conf]

    def received(self):
        got = Received()
        lines = self._text("access.log").splitlines()
        conns = _access_requests(lines, got)
        got.bodies = []
        for line, req in zip(lines, got.requests):
            # %k is the number of requests before this one on the connection.
            req["number"] += 1
            note = line.split()[7] if len(line.split()) > 7 else ""
            got.bodies.append((req["conn"], bytes.fromhex(note) if note != "-" else b""))
        errors = self._text("error.log")
        got.handshakes_failed = [l for l in errors.splitlines()
                                 if "AH02008" in l]  # "SSL library error in handshake"
        got.connections = len(conns) + len(got.handshakes_failed)
        got.log = errors
        return got


LIGHTTPD_BACKENDS = {"openssl": "mod_openssl", "gnutls": "mod_gnutls", "mbedtls": "mod_mbedtls"}
LIGHTTPD_EOF_WORDS = ("unexpected eof", "PREMATURE_TERMINATION", "indicated an EOF")


class LighttpdServer(_ConfiguredServer):
    """Debian's lighttpd (`-D`) with one of its TLS backends: openssl, gnutls, mbedtls.

    A CGI script (/bin/sh, od) appends each body, hex-encoded, with the client's port to
    bodies.txt; the access log gives the request's number on its connection (%k) and the
    TLS version from the backend's SSL_PROTOCOL variable. lighttpd writes its access log
    out when it stops, which settle() does.
    """

    program = "lighttpd"
    conf_name = "lighttpd.conf"

    def __init__(self, backend="openssl", **kw):
        super().__init__(**kw)
        self.backend = backend
        self.modules = (("/usr/lib/lighttpd/%s.so" % LIGHTTPD_BACKENDS[backend],
                         "lighttpd-" + LIGHTTPD_BACKENDS[backend].replace("_", "-")),)

    def _prepare(self, pki):
        os.makedirs(os.path.join(self.work, "www"), exist_ok=True)
        with open(os.path.join(self.work, "www", "alerts"), "w", encoding="ascii") as f:
            f.write('{ printf "%%s " "$REMOTE_PORT"; od -An -v -tx1 | tr -d " \\n"; echo; } '
                    '>> %s/bodies.txt\nprintf "Status: 204 No Content\\r\\n\\r\\n"\n'
                    % self.work)

    def _config(self, pki):
        lo, hi = self.tls
        # lighttpd reads the same MinProtocol/MaxProtocol keys for all three backends.
        # OpenSSL's own parser wants "TLSv1"; lighttpd's for the others, "TLSv1.0".
        names = SERVER_VERSION_NAMES if self.backend == "openssl" else {
            v: "TLSv" + v for v in SERVER_VERSION_NAMES}
        conf_cmd = '"MinProtocol" => "%s", "MaxProtocol" => "%s"' % (names[lo], names[hi])
        if lo < "1.2" and self.backend == "openssl":
            conf_cmd += ', "CipherString" => "%s"' % OPENSSL_LEGACY_CIPHERS
        elif lo < "1.2" and self.backend == "mbedtls":
            # lighttpd's default list for Mbed TLS has no suite that TLS 1.0 can use.
            conf_cmd += ', "CipherString" => "TLS-ECDHE-ECDSA-WITH-AES-256-CBC-SHA"'
        return """server.modules = ("%(mod)s", "mod_cgi", "mod_accesslog")
server.document-root = "%(w)s/www"
server.bind = "127.0.0.1"
server.port = %(port)d
server.pid-file = "%(w)s/lighttpd.pid"
server.errorlog = "%(w)s/error.log"
# Like Apache's, this limit counts the requests after the first.
server.max-keep-alive-requests = %(ka)d
ssl.engine = "enable"
ssl.pemfile = "%(pki)s/%(cert)s"
ssl.privkey = "%(pki)s/%(key)s"
ssl.openssl.ssl-conf-cmd = (%(cmd)s)
debug.log-ssl-noise = "enable"
accesslog.filename = "%(w)s/access.log"
accesslog.format = "%%{remote}p %%k %%m %%U %%s %%{SSL_PROTOCOL}e %%{Content-Length}i"
$HTTP["url"] == "/alerts" { cgi.assign = ("" => "/bin/sh") }
""" % {"mod": LIGHTTPD_BACKENDS[self.backend], "w": self.work, "port": self.port,
       "ka": self.keepalive - 1, "pki": pki, "cert": self.cert, "key": self.key,
       "cmd": conf_cmd}

    def _argv(self, conf):
        return ["lighttpd", "-D", "-f", conf]

    def received(self):
        got = Received()
        conns = _access_requests(self._text("access.log").splitlines(), got)
        for req in got.requests:
            req["number"] += 1   # %k counts the requests before this one
        got.bodies = _hex_bodies(self._text("bodies.txt"))
        errors = self._text("error.log")
        # The start-up probe and the witness leave end-of-file lines: not refusals.
        got.handshakes_failed = [l for l in errors.splitlines()
                                 if "(%s.c" % LIGHTTPD_BACKENDS[self.backend] in l
                                 and not any(w in l for w in LIGHTTPD_EOF_WORDS)]
        got.connections = len(conns) + len(got.handshakes_failed)
        got.log = errors
        return got


class _BodyRecorder(_Acceptor):
    """The plain-HTTP backend behind HAProxy: records every request, answers 204."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        super().__init__()

    def _serve(self, conn, n):
        conn.settimeout(15)
        reader = sink.Reader(conn)
        with conn:
            while True:
                try:
                    req = sink.read_request(reader)
                except sink.Closed:
                    return
                if req is None:
                    return
                req["conn"] = n
                with self.lock:
                    self.requests.append(req)
                try:
                    conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
                except OSError:
                    return


class HAProxyServer(_ConfiguredServer):
    """Debian's HAProxy (`-db`) terminating TLS in front of _BodyRecorder.

    HAProxy logs each request to stdout: client port, the request's number on its
    connection (a session variable), method, path, status, TLS version and the captured
    Content-Length; after `keepalive` requests it answers with Connection: close and
    closes. The backend holds the bodies as they arrived. Failed handshakes are logged
    as "SSL handshake failure".
    """

    program = "haproxy"
    conf_name = "haproxy.cfg"

    def _prepare(self, pki):
        # HAProxy takes the certificate chain and its key from one file.
        with open(os.path.join(self.work, "server.pem"), "wb") as f:
            f.write(_read_text(os.path.join(pki, self.cert))
                    + _read_text(os.path.join(pki, self.key)))
        self.backend = _BodyRecorder()

    def _config(self, pki):
        lo, hi = self.tls
        ciphers = " ciphers %s" % OPENSSL_LEGACY_CIPHERS if lo < "1.2" else ""
        return """global
    log stdout format raw local0 info
    pidfile %(w)s/haproxy.pid
defaults
    mode http
    log global
    timeout connect 5s
    timeout client 10s
    timeout server 10s
    timeout http-keep-alive 10s
frontend alerts
    bind 127.0.0.1:%(port)d ssl crt %(w)s/server.pem %(versions)s%(ciphers)s
    http-request set-var(sess.n) var(sess.n,0),add(1)
    http-request capture req.hdr(content-length) len 12
    http-after-response set-header Connection close if { var(sess.n) -m int ge %(ka)d }
    log-format "req %%cp %%[var(sess.n)] %%HM %%HP %%ST %%sslv %%[capture.req.hdr(0)]"
    default_backend recorder
backend recorder
    server recorder 127.0.0.1:%(be)d
""" % {"w": self.work, "port": self.port, "lo": lo, "hi": hi, "ciphers": ciphers,
       "ka": self.keepalive, "be": self.backend.port,
       "versions": "ssl-min-ver TLSv%s ssl-max-ver TLSv%s" % (lo, hi)}

    def _argv(self, conf):
        return ["haproxy", "-db", "-f", conf]

    def stop(self):
        super().stop()
        if getattr(self, "backend", None):
            self.backend.stop()

    def received(self):
        got = Received()
        out = self._text(self.program + ".out")
        # <BADREQ>: a connection that ended without a request (the TLS 1.0 witness).
        lines = [l[4:] for l in out.splitlines()
                 if l.startswith("req ") and "<BADREQ>" not in l]
        _access_requests(lines, got)
        got.bodies = [(r["conn"], r["body"]) for r in self.backend.requests]
        got.handshakes_failed = [l for l in out.splitlines() if "SSL handshake failure" in l]
        got.connections = len(set(r["conn"] for r in got.requests)) + len(got.handshakes_failed)
        got.log = out
        return got


class OpenSSLServer(Peer):
    """`openssl s_server -brief`: what it prints on stdout is exactly what it received.

    It cannot parse HTTP, so the answer is written to its stdin up front; it is
    sent once the TLS session is up, and the client reads it after posting.
    version=None offers everything this OpenSSL can (1.0 to 1.3 at SECLEVEL 0).
    """

    def __init__(self, version=None, cert="ecdsa.pem", chain="intermediate.pem", key="ecdsa.key",
                 response=b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", extra=()):
        super().__init__()
        self.version, self.cert, self.chain, self.key = version, cert, chain, key
        self.response = response
        self.extra = list(extra)

    def start(self, work, pki):
        self.work = work
        self.out = os.path.join(work, "s_server.out")
        self.err = os.path.join(work, "s_server.err")
        for attempt in range(3):
            self.port = free_port()
            argv = ["openssl", "s_server", "-brief", "-naccept", "1",
                    "-accept", "127.0.0.1:%d" % self.port,
                    "-cert", os.path.join(pki, self.cert), "-key", os.path.join(pki, self.key)]
            if self.chain:
                argv += ["-cert_chain", os.path.join(pki, self.chain)]
            if self.version:
                argv.append(OPENSSL_VERSION_FLAGS[self.version])
            if self.version in (None, "1.0", "1.1"):
                # OpenSSL 3 needs security level 0 for the SHA-1 signatures of TLS 1.0/1.1.
                argv += ["-cipher", "DEFAULT@SECLEVEL=0"]
            argv += self.extra
            self.out_fh = open(self.out, "wb")
            self.err_fh = open(self.err, "wb")
            self._spawn(argv, stdin=subprocess.PIPE, stdout=self.out_fh, stderr=self.err_fh)
            # Kept open (never EOF): at EOF on stdin s_server would end the session.
            self.proc.stdin.write(self.response)
            self.proc.stdin.flush()
            try:
                self._wait_for(self._listening, "listening socket")
                return self.port
            except PeerError:
                self.stop()
                if attempt == 2:
                    raise
        return None

    def _listening(self):
        # s_server -brief prints nothing when ready; poll the kernel's table instead of
        # connecting, because a probe connection would use up its only accept.
        hexport = ":%04X" % self.port
        try:
            with open("/proc/net/tcp", encoding="ascii") as f:
                return any(line.split()[1].endswith(hexport) and line.split()[3] == "0A"
                           for line in f.readlines()[1:])
        except OSError:
            return False

    def settle(self):
        time.sleep(0.3)

    def received(self):
        got = Received()
        got.known_handshakes = False
        data = _read_text(self.out)
        got.requests, got.raw = parse_requests(data)
        got.log = _read_text(self.err).decode("utf-8", "replace")
        # -brief prints one OpenSSL error line per failed handshake (the reason in it).
        got.handshakes_failed = [line for line in got.log.splitlines() if ":error:" in line]
        got.connections = len(got.handshakes_failed) + (1 if data else 0)
        return got

    def stop(self):
        super().stop()
        for fh in (getattr(self, "out_fh", None), getattr(self, "err_fh", None)):
            if fh:
                fh.close()
        if self.proc is not None and self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass


GNUTLS_PRIORITY = {
    "1.0": "NORMAL:-VERS-ALL:+VERS-TLS1.0:+SHA1:+SIGN-ALL",
    "1.1": "NORMAL:-VERS-ALL:+VERS-TLS1.1:+SHA1:+SIGN-ALL",
    "1.2": "NORMAL:-VERS-ALL:+VERS-TLS1.2",
    "1.3": "NORMAL:-VERS-ALL:+VERS-TLS1.3",
}


class GnuTLSServer(Peer):
    """gnutls-serv in echo mode: a second, independent TLS implementation.

    It echoes what it receives, which is not an HTTP response, so a client that
    completed the handshake and posted sees an invalid response. gnutls-serv
    cannot be told to listen on loopback only, so cases with it run in a
    network namespace of their own (see run_case.py), where loopback is all there is.
    """

    needs_netns = True
    program = "gnutls-serv"  # run_case.py skips (fails in CI) without it

    def __init__(self, version="1.3", cert="ecdsa-chain.pem", key="ecdsa.key"):
        super().__init__()
        self.version, self.cert, self.key = version, cert, key

    def start(self, work, pki):
        if shutil.which("gnutls-serv") is None:
            raise PeerError("gnutls-serv is not installed (Debian package gnutls-bin)")
        self.work = work
        self.out = os.path.join(work, "gnutls-serv.out")
        self.port = free_port()
        argv = ["gnutls-serv", "--echo", "-p", str(self.port),
                "--x509certfile", os.path.join(pki, self.cert),
                "--x509keyfile", os.path.join(pki, self.key),
                "--priority", GNUTLS_PRIORITY[self.version]]
        self.out_fh = open(self.out, "wb")
        self._spawn(argv, stdout=self.out_fh, stderr=subprocess.STDOUT)
        self._wait_for(lambda: b"listening on IPv4" in _read_text(self.out), "listening line")
        return self.port

    def settle(self):
        time.sleep(0.3)

    def received(self):
        got = Received()
        text = _read_text(self.out).decode("utf-8", "replace")
        got.log = text
        # gnutls-serv prints the session's description once a handshake completes.
        for line in text.splitlines():
            if line.startswith("- Version: "):
                got.handshakes_ok.append(line[len("- Version: "):].strip())
            elif "Error in handshake" in line or "error in handshake" in line.lower():
                got.handshakes_failed.append(line.strip())
        # It reports "Accepted connection" only for handshakes that completed.
        got.connections = len(got.handshakes_ok) + len(got.handshakes_failed)
        return got

    def stop(self):
        super().stop()
        if getattr(self, "out_fh", None):
            self.out_fh.close()


class RefusedPort(Peer):
    """A bound port with no listener: connecting to it is refused.

    The socket stays bound for the whole case, so no other process can take the port.
    """

    def start(self, work, pki):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        return self.port

    def settle(self):
        pass

    def received(self):
        return Received()

    def stop(self):
        if getattr(self, "sock", None):
            self.sock.close()


class SilentPort(RefusedPort):
    """A listening port that never accepts: TCP connects (the kernel's backlog), and then
    not one byte comes back, so a TLS handshake stalls until the client gives up."""

    def start(self, work, pki):
        port = super().start(work, pki)
        self.sock.listen(8)
        return port


class LyingServerHello(Peer):
    """Answers the ClientHello with a ServerHello for an old version, whatever was offered.

    It picks the first TLS 1.2-style suite the client listed, even where that suite
    cannot exist in the version it claims, so the client's version check, and not
    a missing suite, is what must stop the handshake. Whatever the client sends
    afterwards is recorded: alerts are allowed, anything else counts as received.
    """

    VERSIONS = {"1.0": b"\x03\x01", "1.1": b"\x03\x02"}

    def __init__(self, version="1.0"):
        super().__init__()
        self.version = version
        self.after = []        # (content type, payload) records the client sent back
        self.error = None
        self.answered = False

    def start(self, work, pki):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(20)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self.port

    @staticmethod
    def _read_record(conn, buf):
        while len(buf) < 5 or len(buf) < 5 + int.from_bytes(buf[3:5], "big"):
            data = conn.recv(65536)
            if not data:
                raise EOFError
            buf += data
        n = 5 + int.from_bytes(buf[3:5], "big")
        return buf[0], buf[5:n], buf[n:]

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError as exc:
            self.error = "no connection: %s" % exc
            return
        with conn:
            conn.settimeout(5)
            try:
                ctype, body, rest = self._read_record(conn, b"")
                if ctype != 22 or body[0] != 1:
                    self.error = "first record is not a ClientHello"
                    return
                p = 4 + 2 + 32
                p += 1 + body[p]
                n = int.from_bytes(body[p:p + 2], "big")
                suites = [body[i:i + 2] for i in range(p + 2, p + 2 + n, 2)]
                # Not a TLS 1.3 suite (0x13xx), not a signalling value (0x00FF, 0x5600).
                pick = next(s for s in suites
                            if s[0] != 0x13 and s not in (b"\x00\xff", b"\x56\x00"))
                hello = (self.VERSIONS[self.version] + os.urandom(32) + b"\x00" + pick + b"\x00")
                msg = b"\x02" + len(hello).to_bytes(3, "big") + hello
                conn.sendall(b"\x16" + self.VERSIONS[self.version] +
                             len(msg).to_bytes(2, "big") + msg)
                self.answered = True
                while True:
                    ctype, payload, rest = self._read_record(conn, rest)
                    self.after.append((ctype, payload))
            except (EOFError, OSError, StopIteration, IndexError):
                pass

    def settle(self):
        self.thread.join(timeout=6)

    def received(self):
        got = Received()
        got.connections = 1 if self.answered else 0
        if self.error:
            got.handshakes_failed.append(self.error)
        if not self.answered:
            got.handshakes_failed.append("the ServerHello was never sent")
        got.raw = b"".join(payload for ctype, payload in self.after if ctype != 21)
        got.log = "records from the client after the ServerHello: %r" % [
            (ctype, len(payload)) for ctype, payload in self.after]
        return got

    def stop(self):
        if getattr(self, "sock", None):
            self.sock.close()
