#!/usr/bin/env python3
"""A small HTTPS sink that requires a client certificate (mutual TLS).

    mtls_sink.py --cert CHAIN --key KEY --client-ca CA --record FILE
                 [--port 0] [--tls-min 1.2] [--tls-max 1.3] [--max-seconds 90]

Python's ssl with CERT_REQUIRED: a client without a certificate, or with one
the client CA did not issue, fails the handshake (TLS 1.3: the
certificate_required or unknown_ca alert; TLS 1.2: handshake_failure or
unknown_ca), and no request is read. Each connection's events are appended
to --record as JSON lines, so a test can assert who connected and what
arrived:

  {"event": "handshake_ok", "conn": N, "version": "TLSv1.3", "cipher": "...",
   "client_subject": "CN=...", "client_sha256": "<hex of the DER>"}
  {"event": "handshake_fail", "conn": N, "error": "..."}
  {"event": "request", "conn": N, "method", "path", "headers": [[k, v]...],
   "body_b64": "..."}

Every request is answered 200 with a short body and Content-Length, then the
connection is closed. The port is printed as "PORT n" on stdout (the
run_qemu.py convention). The process ends by itself after --max-seconds.

Why not tests/integration/sink.py: this is the QEMU firmware's mTLS peer
only, with the client certificate's subject and digest recorded, and it
keeps the firmware's tests apart from the integration sink's options.
"""

import argparse
import base64
import hashlib
import json
import socket
import ssl
import sys
import threading
import time

VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
MAX_HEAD = 16 * 1024
MAX_BODY = 64 * 1024


class Recorder:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def write(self, event):
        with self.lock, open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(event) + "\n")
            f.flush()


def subject_text(cert):
    """"CN=..., O=..." from getpeercert()'s nested tuples."""
    parts = []
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            parts.append("%s=%s" % ({"commonName": "CN", "organizationName": "O"}.get(key, key),
                                    value))
    return ", ".join(parts)


def read_request(conn):
    """(method, path, headers, body) of one HTTP/1.1 request, or None."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > MAX_HEAD:
            return None
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
    headers = [[k.strip(), v.strip()] for k, _, v in (line.partition(":") for line in lines[1:])]
    length = 0
    for k, v in headers:
        if k.lower() == "content-length":
            length = int(v)
    if length > MAX_BODY:
        return None
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            return None
        body += chunk
    return method, path, headers, body[:length]


def serve(ctx, raw, conn_id, rec, timeout):
    raw.settimeout(timeout)
    try:
        conn = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError) as e:
        rec.write({"event": "handshake_fail", "conn": conn_id, "error": str(e)})
        raw.close()
        return
    cert = conn.getpeercert() or {}
    der = conn.getpeercert(binary_form=True) or b""
    rec.write({"event": "handshake_ok", "conn": conn_id, "version": conn.version(),
               "cipher": conn.cipher()[0], "client_subject": subject_text(cert),
               "client_sha256": hashlib.sha256(der).hexdigest()})
    try:
        req = read_request(conn)
        if req is not None:
            method, path, headers, body = req
            rec.write({"event": "request", "conn": conn_id, "method": method, "path": path,
                       "headers": headers, "body_b64": base64.b64encode(body).decode()})
            reply = b'{"accepted":true}'
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(reply) + reply)
    except (ssl.SSLError, OSError, ValueError) as e:
        rec.write({"event": "error", "conn": conn_id, "error": str(e)})
    finally:
        try:
            conn.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cert", required=True, help="server chain (PEM)")
    ap.add_argument("--key", required=True, help="server key (PEM)")
    ap.add_argument("--client-ca", required=True, help="CA that issues client certificates")
    ap.add_argument("--record", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls-min", choices=sorted(VERSIONS), default="1.2")
    ap.add_argument("--tls-max", choices=sorted(VERSIONS), default="1.3")
    ap.add_argument("--max-seconds", type=float, default=90.0)
    args = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = VERSIONS[args.tls_min]
    ctx.maximum_version = VERSIONS[args.tls_max]
    ctx.load_cert_chain(args.cert, args.key)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cafile=args.client_ca)
    rec = Recorder(args.record)

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.port))
    srv.listen(4)
    srv.settimeout(0.5)
    print("PORT %d" % srv.getsockname()[1], flush=True)

    deadline = time.monotonic() + args.max_seconds
    conn_id = 0
    while time.monotonic() < deadline:
        try:
            raw, _ = srv.accept()
        except socket.timeout:
            continue
        conn_id += 1
        left = max(deadline - time.monotonic(), 1.0)
        threading.Thread(target=serve, args=(ctx, raw, conn_id, rec, left), daemon=True).start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
