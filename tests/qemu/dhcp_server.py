#!/usr/bin/env python3
"""A DHCP server for one guest on one interface, naming an NTP server.

    dhcp_server.py --iface tap0 --server 10.0.2.100 --client 10.0.2.15 \\
        [--ntp 10.0.2.100] [--lifetime 60]

QEMU's user network answers DHCP without option 42 (NTP servers), so the
SNTP tests, which put the guest on a TAP device, answer it themselves:
DISCOVER gets an OFFER and REQUEST an ACK of --client/24, with the server
identifier, router and (unless --ntp is '') NTP server --server/--ntp and
a one-hour lease. Replies are broadcast on --iface (the guest has no
address yet). Prints "READY" once bound, then one line per message. Ends
after --lifetime seconds. Needs root (port 67, SO_BINDTODEVICE).
"""

import argparse
import socket
import sys
import time

MAGIC = b"\x63\x82\x53\x63"
DISCOVER, OFFER, REQUEST, ACK = 1, 2, 3, 5
NAMES = {DISCOVER: "DISCOVER", OFFER: "OFFER", REQUEST: "REQUEST", ACK: "ACK"}


def say(msg):
    print(msg, flush=True)


def options_of(packet):
    """The options of a BOOTP packet as {code: bytes}; {} if malformed."""
    if len(packet) < 240 or packet[236:240] != MAGIC:
        return {}
    opts, i = {}, 240
    while i < len(packet):
        code = packet[i]
        if code == 255:
            break
        if code == 0:
            i += 1
            continue
        if i + 1 >= len(packet) or i + 2 + packet[i + 1] > len(packet):
            return {}
        opts[code] = packet[i + 2:i + 2 + packet[i + 1]]
        i += 2 + packet[i + 1]
    return opts


def reply(request, kind, args):
    server = socket.inet_aton(args.server)
    head = bytes([2, 1, 6, 0]) + request[4:8] + b"\x00\x00" + request[10:12]
    head += b"\x00" * 4 + socket.inet_aton(args.client) + server + b"\x00" * 4
    head += request[28:44] + b"\x00" * 192
    opts = bytes([53, 1, kind]) + bytes([54, 4]) + server
    opts += bytes([51, 4]) + (3600).to_bytes(4, "big")
    opts += bytes([1, 4]) + socket.inet_aton("255.255.255.0") + bytes([3, 4]) + server
    if args.ntp:
        opts += bytes([42, 4]) + socket.inet_aton(args.ntp)
    return head + MAGIC + opts + b"\xff"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iface", required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--client", required=True)
    ap.add_argument("--ntp", default="")
    ap.add_argument("--lifetime", type=float, default=60.0)
    args = ap.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, args.iface.encode())
    sock.bind(("0.0.0.0", 67))
    say("READY")
    deadline = time.monotonic() + args.lifetime
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return 0
        sock.settimeout(min(left, 1.0))
        try:
            packet, _ = sock.recvfrom(1500)
        except socket.timeout:
            continue
        kind = options_of(packet).get(53, b"\x00")[0]
        if packet[0] != 1 or kind not in (DISCOVER, REQUEST):
            say("ignored a message of type %d" % kind)
            continue
        answer = OFFER if kind == DISCOVER else ACK
        sock.sendto(reply(packet, answer, args), ("255.255.255.255", 68))
        say("%s -> %s %s (ntp %s)" % (NAMES[kind], NAMES[answer], args.client,
                                      args.ntp or "none"))


if __name__ == "__main__":
    sys.exit(main())
