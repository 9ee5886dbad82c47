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
                 mode="normal", status=200, host="127.0.0.1", extra=()):
        super().__init__()
        self.cert, self.key = cert, key
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
            elif kind == "handshake_fail":
                got.handshakes_failed.append(ev["error"])
            elif kind == "request":
                got.requests.append({"conn": ev["conn"], "method": ev["method"],
                                     "path": ev["path"], "version": ev["version"],
                                     "headers": ev["headers"],
                                     "body": base64.b64decode(ev["body_b64"])})
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
    whether a client left bytes unread (nginx logs "Connection reset by peer").
    """

    needs_nginx = True

    def __init__(self, keepalive_requests=100, cert="ecdsa-chain.pem", key="ecdsa.key"):
        super().__init__()
        self.keepalive_requests = keepalive_requests
        self.cert, self.key = cert, key

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
                      '$request_length';
    access_log %(w)s/access.log alerts;
    server {
        listen 127.0.0.1:%(port)d ssl;
        ssl_certificate %(pki)s/%(cert)s;
        ssl_certificate_key %(pki)s/%(key)s;
        ssl_protocols TLSv1.2 TLSv1.3;
        keepalive_requests %(kr)d;
        location /alerts { return 204; }
    }
}
""" % {"w": w, "port": self.port, "pki": pki, "cert": self.cert, "key": self.key,
       "kr": self.keepalive_requests}

    def start(self, work, pki):
        self.work = work
        for attempt in range(3):
            self.port = free_port()
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
        got.known_handshakes = False
        conns = set()
        for line in _read_text(os.path.join(self.work, "access.log")).decode().splitlines():
            conn, _, method, uri, status, length = line.split()
            conns.add(conn)
            got.requests.append({"conn": conn, "method": method, "path": uri,
                                 "version": "", "headers": [], "body": b"",
                                 "status": int(status), "length": int(length)})
        got.connections = len(conns)
        got.log = _read_text(os.path.join(self.work, "error.log")).decode("utf-8", "replace")
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
