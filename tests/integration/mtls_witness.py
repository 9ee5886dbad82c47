#!/usr/bin/env python3
"""A second mutual-TLS client (Python's ssl on OpenSSL) for the mtls.witness.* cases.

It posts one body with a client certificate the way any client would, so each
server set-up is shown to accept the device and to refuse the others, with the
TLS alert the alertpost cases expect, independently of alertpost:

  mtls_witness.py --cacert FILE --port N [--cert FILE --key FILE [--pass P]]
                  [--tls 1.2|1.3] [--path /alerts] [--data BODY]

stdout: "status NNN" and the response body, or "alert NAME" (the TLS alert the
server sent, as the RFC names it: unknown_ca, bad_certificate, ...), or what
failed when no alert came.
Exit: 0 a 2xx answer, 6 a TLS failure, 7 another status, 3 no connection.
"""

import argparse
import socket
import ssl
import sys

VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def alert_name(exc):
    """OpenSSL's reason for a received alert (SSLV3_ALERT_BAD_CERTIFICATE) as the RFC
    names the alert (bad_certificate); None when the error was not an alert."""
    reason = getattr(exc, "reason", None) or ""
    if "ALERT_" in reason:
        return reason.split("ALERT_", 1)[1].lower()
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cacert", required=True)
    ap.add_argument("--host", default="localhost")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--pass", dest="passphrase")
    ap.add_argument("--tls", choices=sorted(VERSIONS))
    ap.add_argument("--path", default="/alerts")
    ap.add_argument("--data", default="x")
    opts = ap.parse_args()

    ctx = ssl.create_default_context(cafile=opts.cacert)
    if opts.tls:
        ctx.minimum_version = ctx.maximum_version = VERSIONS[opts.tls]
    if opts.cert:
        ctx.load_cert_chain(opts.cert, opts.key, password=opts.passphrase)
    try:
        raw = socket.create_connection((opts.host, opts.port), timeout=10)
    except OSError as exc:
        print("connection failed: %s" % exc)
        return 3
    try:
        conn = ctx.wrap_socket(raw, server_hostname=opts.host)
    except (ssl.SSLError, OSError) as exc:
        raw.close()
        name = alert_name(exc)
        print("alert %s" % name if name else "handshake failed: %s" % exc)
        return 6
    with conn:
        return exchange(conn, opts)


def exchange(conn, opts):
    body = opts.data.encode("utf-8")
    request = ("POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\nConnection: close\r\n\r\n" % (
                   opts.path, opts.host, opts.port, len(body))).encode("ascii") + body
    try:
        conn.sendall(request)
    except (ssl.SSLError, OSError) as exc:
        # In TLS 1.3 the server judges the certificate after the client's Finished,
        # and may have sent its alert and closed before the request went out: the
        # write fails, and the alert is still there to read. A client that stops at
        # the write error never learns why it was refused.
        alert = read_alert(conn)
        print("alert %s" % alert if alert else "write failed: %s" % exc)
        return 6
    data = b""
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ssl.SSLError, OSError) as exc:
        if not data:
            name = alert_name(exc)
            print("alert %s" % name if name else "read failed: %s" % exc)
            return 6
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 0
    print("status %d" % status)
    sys.stdout.write(rest.decode("utf-8", "replace") + "\n")
    return 0 if 200 <= status < 300 else 7


def read_alert(conn):
    """The alert the server sent, read after a failed write; None if none came."""
    try:
        conn.recv(4096)
    except (ssl.SSLError, OSError) as exc:
        return alert_name(exc)
    return None

if __name__ == "__main__":
    sys.exit(main())
