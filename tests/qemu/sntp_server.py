#!/usr/bin/env python3
"""An SNTP server that answers one fixed, test-chosen time (RFC 4330).

    sntp_server.py --bind 10.0.2.100 --time 1767225600 [--port 123] [--lifetime 60]

Answers every client request (mode 3) with a server reply (mode 4, stratum
1) whose receive and transmit timestamps are --time (seconds since 1970,
no fraction) and whose originate timestamp is the request's transmit
timestamp, as a client that checks the echo (lwIP's SNTP_CHECK_RESPONSE 2)
requires. Prints "READY" once bound, then one line per request:
"answered <addr>:<port> with <time>". Anything that is not a 48-byte client
request is logged and dropped. Ends after --lifetime seconds.
"""

import argparse
import socket
import struct
import sys
import time

NTP_FROM_UNIX = 2208988800  # seconds from 1900-01-01 to 1970-01-01
MODE_CLIENT, MODE_SERVER = 3, 4


def say(msg):
    print(msg, flush=True)


def answer(request, unix_time):
    """The reply to one request, or None if it is not a client request."""
    if len(request) != 48:
        return None
    li_vn_mode = request[0]
    if li_vn_mode & 0x07 != MODE_CLIENT:
        return None
    version = (li_vn_mode >> 3) & 0x07
    ntp = (unix_time + NTP_FROM_UNIX) & 0xFFFFFFFF
    head = struct.pack("!BBbb", (version << 3) | MODE_SERVER, 1, 6, -20)
    root = struct.pack("!II", 0, 0) + b"TEST"          # delay, dispersion, refid
    reference = struct.pack("!II", ntp, 0)
    originate = request[40:48]                          # the client's transmit time
    receive = struct.pack("!II", ntp, 0)
    transmit = struct.pack("!II", ntp, 0)
    return head + root + reference + originate + receive + transmit


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port", type=int, default=123)
    ap.add_argument("--time", type=int, required=True, help="seconds since 1970 to answer")
    ap.add_argument("--lifetime", type=float, default=60.0)
    args = ap.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((args.bind, args.port))
    say("READY")
    deadline = time.monotonic() + args.lifetime
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return 0
        sock.settimeout(min(left, 1.0))
        try:
            request, peer = sock.recvfrom(512)
        except socket.timeout:
            continue
        reply = answer(request, args.time)
        if reply is None:
            say("dropped %d bytes from %s:%d" % (len(request), peer[0], peer[1]))
            continue
        sock.sendto(reply, peer)
        say("answered %s:%d with %d" % (peer[0], peer[1], args.time))


if __name__ == "__main__":
    sys.exit(main())
