#!/usr/bin/env python3
"""HTTPS alert sink for the integration tests (Python's ssl module, loopback only).

It accepts TLS connections, serves any number of HTTP/1.1 requests on each
(keep-alive), and answers according to --mode. Everything it sees is appended
to --record as JSON lines, one event per line, so a test can assert exactly
what reached the server, and that nothing did when the client had to refuse:

  {"event": "handshake_ok",   "conn": N, "version": "TLSv1.3", "cipher": "...",
   "client_cn": "device-0001" or null,  (the verified client certificate's subject CN)
   "resumed": true or false}            (the client resumed an earlier session)
  {"event": "handshake_fail", "conn": N, "error": "..."}
  {"event": "request", "conn": N, "method", "path", "version", "headers": [[k, v]...],
   "body_b64": "...", "client_cn": ...}  the CN of the connection's client certificate
  {"event": "raw", "conn": N, "data_b64": "..."}   bytes that were not a whole request

With --client-ca FILE the sink requires a client certificate that chains to FILE
(mutual TLS, CERT_REQUIRED): a handshake without one, or with one it cannot
verify, fails in the handshake and is recorded as handshake_fail with OpenSSL's
reason; the alert OpenSSL sends for it is the one the client must name.

The port it listens on is printed as "PORT n" on stdout and written to
--ready-file (atomically), so --port 0 never races with another test.
The process ends by itself after --max-seconds whatever happens.

Modes (the answer to each request):
  normal                 --status with a short body and Content-Length
  truncate-body          Content-Length 100, 10 body bytes, then TCP close, no close_notify
  close-notify-truncate  the same, but closed cleanly with close_notify
  garbage                bytes that are not HTTP, then close
  chunked                a valid chunked 200
  slow-head              the status line and headers one byte at a time, slowly
  no-response            read the request and never answer
  flapping               a fixed cycle of outcomes, request by request: 200, 503 with
                         Retry-After in seconds, close without answering, 429 with
                         Retry-After as an HTTP-date, 200 then an idle 408, a cut body,
                         a reset, 500; each request's fate is recorded ("fate" events)
  slow-ok                wait --slow-delay seconds, then answer as normal
  big-body               200 with a --body-size byte body (bytes 0..255 repeated)
  idle-408               answer normally, then at once send an unsolicited 408 and close,
                         as servers do when they time out an idle kept-alive connection
  close-unanswered       answer the first --answer-first requests of each connection,
                         then read the next one and close without answering
 Network faults (tests/integration/run_case.py, group "fault"):
  rst-after-request      read the request, then reset the TCP connection
  rst-mid-body           Content-Length 100, 10 body bytes, then a reset
  complete-half-close    a complete response, then a bare FIN (no close_notify)
                         while still reading: a delivery
  interim-1xx            100 Continue and 103 Early Hints before the final 200
  head-over-limit        a response head of 16 KiB (one long header line)
  bad-chunk-size         chunked, with a chunk size that is not hex
  chunked-no-terminator  chunked, one chunk, then close_notify with no last chunk
  two-content-length     two Content-Length headers that disagree
  drip-body              Content-Length 100, then the body one byte per --slow-delay
  stall-handshake        accept TCP, read the ClientHello, never answer it
To add a hostile behaviour, add a function to MODES: it gets the connection and
the parsed request and returns False to end the connection.
"""

import argparse
import base64
import email.utils
import json
import os
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time
import warnings

VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}

MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024


class Recorder:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def write(self, event):
        if not self.path:
            return
        line = json.dumps(event, sort_keys=True) + "\n"
        with self.lock:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()


class Closed(Exception):
    """The peer went away (or sent something this sink cannot parse)."""


class Reader:
    """Buffered reads on one connection; whatever is left unparsed is kept as raw."""

    def __init__(self, conn):
        self.conn = conn
        self.buf = b""

    def fill(self):
        try:
            data = self.conn.recv(16384)
        except (ssl.SSLError, OSError) as exc:
            raise Closed(str(exc)) from exc
        if not data:
            raise Closed("eof")
        self.buf += data

    def until(self, marker, limit):
        while marker not in self.buf:
            if len(self.buf) > limit:
                raise Closed("no %r within %d bytes" % (marker, limit))
            self.fill()
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def exactly(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def read_request(reader):
    """One request, or None at a clean end of the connection before any byte of one."""
    if not reader.buf:
        try:
            reader.fill()
        except Closed:
            return None
    head = reader.until(b"\r\n\r\n", MAX_HEAD)
    lines = head[:-4].split(b"\r\n")
    try:
        method, path, version = lines[0].decode("latin-1").split(" ", 2)
    except ValueError as exc:
        raise Closed("bad request line %r" % lines[0]) from exc
    headers = []
    for line in lines[1:]:
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise Closed("bad header line %r" % line)
        headers.append([name.strip(), value.strip()])
    lower = {k.lower(): v for k, v in headers}
    if "chunked" in lower.get("transfer-encoding", "").lower():
        body = b""
        while True:
            size_line = reader.until(b"\r\n", 1024)
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                reader.until(b"\r\n", MAX_HEAD)
                break
            if len(body) + size > MAX_BODY:
                raise Closed("chunked body too large")
            body += reader.exactly(size)
            reader.exactly(2)
    else:
        length = int(lower.get("content-length", "0"))
        if length > MAX_BODY:
            raise Closed("body too large")
        body = reader.exactly(length)
    return {"method": method, "path": path, "version": version, "headers": headers,
            "body": body, "close": lower.get("connection", "").lower() == "close"}


def respond_normal(conn, req, opts):
    body = b"ok\n" if opts.status not in (204, 304) else b""
    reason = "OK" if 200 <= opts.status < 300 else "Status"
    head = "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n" % (
        opts.status, reason, len(body))
    if req["close"]:
        head += "Connection: close\r\n"
    conn.sendall(head.encode("ascii") + b"\r\n" + body)
    return not req["close"]


def respond_truncate_body(conn, req, opts):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"0123456789")
    time.sleep(0.1)
    # SSLSocket.shutdown drops the TLS layer without SSL_shutdown: a bare TCP FIN.
    conn.shutdown(socket.SHUT_RDWR)
    return False


def respond_close_notify_truncate(conn, req, opts):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"0123456789")
    try:
        conn.unwrap()  # sends close_notify, then waits for the client's
    except (ssl.SSLError, OSError):
        pass
    return False


def respond_garbage(conn, req, opts):
    conn.sendall(b"\x00\x01garbage, not HTTP at all\r\n\r\n\xff\xfe")
    try:
        conn.unwrap()
    except (ssl.SSLError, OSError):
        pass
    return False


def respond_chunked(conn, req, opts):
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                 b"Content-Type: text/plain\r\n\r\n"
                 b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n")
    return not req["close"]


def respond_slow_head(conn, req, opts):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n"
    for i in range(len(head)):
        conn.sendall(head[i:i + 1])
        time.sleep(opts.slow_delay)
    return False


def respond_no_response(conn, req, opts):
    # Hold the connection open without a byte; the client's timeout must end it.
    deadline = time.monotonic() + opts.max_seconds
    conn.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            if not conn.recv(4096):
                break
        except socket.timeout:
            continue
        except (ssl.SSLError, OSError):
            break
    return False


FLAP_CYCLE = ["ok", "503", "ok", "unanswered", "429", "ok-then-408", "cut", "reset", "ok",
              "500", "ok", "ok"]


def respond_flapping(conn, req, opts):
    with opts.flap_lock:
        fate = FLAP_CYCLE[opts.flap_count % len(FLAP_CYCLE)]
        opts.flap_count += 1
    key = next((v for k, v in req["headers"] if k.lower() == "idempotency-key"), None)
    opts.rec.write({"event": "fate", "key": key, "fate": fate})
    if fate == "ok":
        return respond_normal(conn, req, opts)
    if fate in ("503", "429", "500"):
        after = b""
        if fate == "503":
            after = b"Retry-After: 0\r\n"
        elif fate == "429":
            after = b"Retry-After: " + email.utils.formatdate(usegmt=True).encode() + b"\r\n"
        conn.sendall(b"HTTP/1.1 " + fate.encode() + b" Busy\r\n" + after +
                     b"Content-Length: 0\r\n\r\n")
        return True
    if fate == "ok-then-408":
        return respond_idle_408(conn, req, opts)
    if fate == "unanswered":
        conn.shutdown(socket.SHUT_RDWR)
    elif fate == "cut":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        conn.shutdown(socket.SHUT_RDWR)
    else:
        reset(conn)
    return False


def respond_slow_ok(conn, req, opts):
    time.sleep(opts.slow_delay)
    return respond_normal(conn, req, opts)


def respond_big_body(conn, req, opts):
    body = bytes(i % 256 for i in range(opts.body_size))
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    return not req["close"]


def respond_idle_408(conn, req, opts):
    respond_normal(conn, req, opts)
    # A record of its own, sent before the client's next request: the client
    # must see it while the connection is idle, not read it as an answer.
    conn.sendall(b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
                 b"Content-Length: 0\r\n\r\n")
    return False


def respond_close_unanswered(conn, req, opts):
    opts.answered[id(conn)] = opts.answered.get(id(conn), 0) + 1
    if opts.answered[id(conn)] <= opts.answer_first:
        return respond_normal(conn, req, opts)
    conn.shutdown(socket.SHUT_RDWR)  # a bare FIN: the request was read, never answered
    return False


def reset(conn):
    """Abort the TCP connection: an RST, with neither close_notify nor FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def respond_rst_after_request(conn, req, opts):
    reset(conn)
    return False


def respond_rst_mid_body(conn, req, opts):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"0123456789")
    time.sleep(0.2)
    reset(conn)
    return False


def respond_complete_half_close(conn, req, opts):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
                 b"\r\nok\n")
    # SSLSocket.shutdown drops the TLS layer: a bare FIN, and this side still reads
    # (raw bytes now) until the client closes.
    conn.shutdown(socket.SHUT_WR)
    conn.settimeout(0.5)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if not conn.recv(4096):
                break
        except socket.timeout:
            continue
        except OSError:
            break
    return False


def respond_interim_1xx(conn, req, opts):
    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n"
                 b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
    return respond_normal(conn, req, opts)


def respond_head_over_limit(conn, req, opts):
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Filler: " + b"a" * 16384 +
                 b"\r\nContent-Length: 0\r\n\r\n")
    return False


def respond_bad_chunk_size(conn, req, opts):
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"zz\r\nhello\r\n0\r\n\r\n")
    return False


def respond_chunked_no_terminator(conn, req, opts):
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
    try:
        conn.unwrap()  # close_notify: a clean end, but before the last chunk
    except (ssl.SSLError, OSError):
        pass
    return False


def respond_two_content_length(conn, req, opts):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nok\n")
    return False


def respond_drip_body(conn, req, opts):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
    deadline = time.monotonic() + opts.max_seconds
    while time.monotonic() < deadline:
        time.sleep(opts.slow_delay)
        conn.sendall(b"x")
    return False


def stall_handshake(raw, opts):
    """Reads what the client sends (its ClientHello) and never answers."""
    deadline = time.monotonic() + opts.max_seconds
    raw.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            if not raw.recv(4096):
                break
        except socket.timeout:
            continue
        except OSError:
            break
    raw.close()


MODES = {
    "normal": respond_normal,
    "truncate-body": respond_truncate_body,
    "close-notify-truncate": respond_close_notify_truncate,
    "garbage": respond_garbage,
    "chunked": respond_chunked,
    "slow-head": respond_slow_head,
    "no-response": respond_no_response,
    "idle-408": respond_idle_408,
    "big-body": respond_big_body,
    "flapping": respond_flapping,
    "slow-ok": respond_slow_ok,
    "close-unanswered": respond_close_unanswered,
    "rst-after-request": respond_rst_after_request,
    "rst-mid-body": respond_rst_mid_body,
    "complete-half-close": respond_complete_half_close,
    "interim-1xx": respond_interim_1xx,
    "head-over-limit": respond_head_over_limit,
    "bad-chunk-size": respond_bad_chunk_size,
    "chunked-no-terminator": respond_chunked_no_terminator,
    "two-content-length": respond_two_content_length,
    "drip-body": respond_drip_body,
    "stall-handshake": None,  # before TLS: see serve_connection
}


def serve_connection(ctx, raw, conn_id, opts, rec):
    raw.settimeout(opts.io_timeout)
    if opts.mode == "stall-handshake":
        rec.write({"event": "handshake_fail", "conn": conn_id, "error": "stalled on purpose"})
        stall_handshake(raw, opts)
        return
    conn = None
    try:
        conn = ctx.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
        conn.do_handshake()
    except (ssl.SSLError, OSError) as exc:
        rec.write({"event": "handshake_fail", "conn": conn_id, "error": str(exc)})
        lingering_close(conn or raw)
        return
    cipher = conn.cipher()
    client_cn = peer_cn(conn)
    rec.write({"event": "handshake_ok", "conn": conn_id, "version": conn.version(),
               "cipher": cipher[0] if cipher else None, "client_cn": client_cn,
               "resumed": conn.session_reused})
    reader = Reader(conn)
    try:
        while True:
            try:
                req = read_request(reader)
            except (Closed, ValueError) as exc:
                if reader.buf:
                    rec.write({"event": "raw", "conn": conn_id,
                               "data_b64": base64.b64encode(reader.buf).decode("ascii"),
                               "error": str(exc)})
                break
            if req is None:
                break
            rec.write({"event": "request", "conn": conn_id, "method": req["method"],
                       "path": req["path"], "version": req["version"],
                       "headers": req["headers"],
                       "body_b64": base64.b64encode(req["body"]).decode("ascii"),
                       "client_cn": client_cn})
            if not MODES[opts.mode](conn, req, opts):
                break
    except (ssl.SSLError, OSError) as exc:
        rec.write({"event": "io_error", "conn": conn_id, "error": str(exc)})
    finally:
        # A server that ends the exchange itself says so with close_notify; a short
        # timeout, because a client that already left will never answer it.
        try:
            conn.settimeout(1.0)
            conn.unwrap().close()
        except (ssl.SSLError, OSError, ValueError):
            conn.close()


def lingering_close(sock):
    """Ends a refused connection with a FIN after the alert, never a reset.

    In TLS 1.3 a client sends its certificate and, at once, its request; the server
    judges the certificate after that. Closing with the request unread would make the
    kernel answer with a reset, which can overtake the alert OpenSSL just wrote, and
    the client would never learn why it was refused. So: FIN, read what is left (for
    a second at most), then close."""
    try:
        sock.shutdown(socket.SHUT_WR)   # on an SSLSocket: a bare FIN, no close_notify
        sock.settimeout(0.2)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and sock.recv(4096):
            pass
    except (OSError, ValueError):
        pass
    sock.close()


def peer_cn(conn):
    """The subject CN of the client's certificate; None when it sent none. Python only
    reports a certificate it verified, so with --client-ca this is the device's name."""
    cert = conn.getpeercert()
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return None


def make_context(opts):
    # TLS 1.0/1.1 are deprecated in Python; offering them is this sink's purpose.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = VERSIONS[opts.tls_min]
    ctx.maximum_version = VERSIONS[opts.tls_max]
    if opts.tls_min in ("1.0", "1.1"):
        # OpenSSL 3 refuses TLS 1.0/1.1 below security level 0 (SHA-1 in the handshake).
        ctx.set_ciphers("DEFAULT@SECLEVEL=0")
    elif opts.ciphers:
        ctx.set_ciphers(opts.ciphers)
    certfile = opts.cert
    if opts.chain:
        # load_cert_chain takes one file: leaf first, then what the server also sends.
        fd, certfile = tempfile.mkstemp(suffix=".pem")
        try:
            with os.fdopen(fd, "wb") as out:
                for p in (opts.cert, opts.chain):
                    with open(p, "rb") as src:
                        out.write(src.read())
            ctx.load_cert_chain(certfile, opts.key)
        finally:
            os.unlink(certfile)
    else:
        ctx.load_cert_chain(certfile, opts.key)
    if opts.client_ca:
        # Mutual TLS: no certificate, or one that does not chain to this CA, ends the
        # handshake with OpenSSL's alert (certificate_required, unknown_ca, ...).
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=opts.client_ca)
    return ctx


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1", "::1"])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ready-file")
    ap.add_argument("--cert", required=True, help="PEM: leaf, optionally followed by its chain")
    ap.add_argument("--key", required=True)
    ap.add_argument("--chain", help="PEM certificates sent after the leaf")
    ap.add_argument("--client-ca", help="PEM CA(s): require a client certificate under them")
    ap.add_argument("--tls-min", default="1.2", choices=sorted(VERSIONS))
    ap.add_argument("--tls-max", default="1.3", choices=sorted(VERSIONS))
    ap.add_argument("--ciphers", help="OpenSSL cipher string for TLS 1.2 and below")
    ap.add_argument("--record")
    ap.add_argument("--status", type=int, default=200)
    ap.add_argument("--mode", default="normal", choices=sorted(MODES))
    ap.add_argument("--slow-delay", type=float, default=1.0,
                    help="seconds between header bytes in slow-head mode")
    ap.add_argument("--body-size", type=int, default=200000,
                    help="response body bytes in big-body mode")
    ap.add_argument("--answer-first", type=int, default=1,
                    help="requests answered per connection in close-unanswered mode")
    ap.add_argument("--io-timeout", type=float, default=20.0)
    ap.add_argument("--max-seconds", type=float, default=60.0)
    ap.add_argument("--max-connections", type=int, default=64)
    opts = ap.parse_args()
    opts.answered = {}
    opts.flap_lock = threading.Lock()
    opts.flap_count = 0
    if VERSIONS[opts.tls_min] > VERSIONS[opts.tls_max]:
        ap.error("--tls-min is above --tls-max")

    rec = Recorder(opts.record)
    opts.rec = rec
    ctx = make_context(opts)
    family = socket.AF_INET6 if ":" in opts.host else socket.AF_INET
    lsock = socket.socket(family, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((opts.host, opts.port))
    lsock.listen(16)
    port = lsock.getsockname()[1]
    if opts.ready_file:
        tmp = opts.ready_file + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write("%d\n" % port)
        os.replace(tmp, opts.ready_file)
    print("PORT %d" % port, flush=True)

    # Bounded lifetime: the accept loop polls the deadline, and connection threads are
    # daemons, so the process ends on time even with a client stuck mid-request.
    deadline = time.monotonic() + opts.max_seconds
    lsock.settimeout(0.2)
    conns = 0
    while time.monotonic() < deadline and conns < opts.max_connections:
        try:
            raw, _ = lsock.accept()
        except socket.timeout:
            continue
        conns += 1
        threading.Thread(target=serve_connection, args=(ctx, raw, conns, opts, rec),
                         daemon=True).start()
    lsock.close()
    # Let the last connection finish its reply, but never past the deadline.
    while time.monotonic() < deadline and threading.active_count() > 1:
        time.sleep(0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
