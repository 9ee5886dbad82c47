#!/usr/bin/env python3
"""A second mutual-TLS client (Python's ssl on OpenSSL) for the mtls.witness.* cases.

It posts one body with a client certificate the way any client would, so each
server set-up is shown to accept the device and to refuse the others, with the
TLS alert the alertpost cases expect, independently of alertpost:

  mtls_witness.py --cacert FILE --port N [--cert FILE --key FILE [--pass P]]
                  [--tls 1.2|1.3] [--path /alerts] [--data BODY]

stdout: "status NNN" and the response body, or "alert NAME" (the TLS alert the
server sent, as the RFC names it: unknown_ca, bad_certificate, ...).
Exit: 0 a 2xx answer, 6 a TLS failure, 7 another status, 3 no connection.
"""

import argparse
import http.client
import ssl
import sys

VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def alert_name(exc):
    """OpenSSL's reason for a received alert (SSLV3_ALERT_BAD_CERTIFICATE) as the RFC
    names the alert (bad_certificate); other reasons as OpenSSL gives them."""
    reason = getattr(exc, "reason", None) or str(exc)
    if "ALERT_" in reason:
        return reason.split("ALERT_", 1)[1].lower()
    return reason


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
    conn = http.client.HTTPSConnection(opts.host, opts.port, timeout=10, context=ctx)
    try:
        conn.request("POST", opts.path, body=opts.data.encode("utf-8"),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        body = resp.read()
    except ssl.SSLError as exc:
        # In TLS 1.3 the server judges the certificate after the client's Finished,
        # so its alert may only arrive with the first read: either way it is here.
        print("alert %s" % alert_name(exc))
        return 6
    except OSError as exc:
        print("connection failed: %s" % exc)
        return 3
    finally:
        conn.close()
    print("status %d" % resp.status)
    sys.stdout.write(body.decode("utf-8", "replace") + "\n")
    return 0 if 200 <= resp.status < 300 else 7


if __name__ == "__main__":
    sys.exit(main())
