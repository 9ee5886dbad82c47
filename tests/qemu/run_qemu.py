#!/usr/bin/env python3
"""Boot a firmware image under qemu-system-arm with a host-side peer.

    run_qemu.py --machine mps2-an385 --kernel net_probe.elf \\
        --guestfwd 10.0.2.100:4433 --log uart.log \\
        [--expect-uart REGEX]... [--expect-server REGEX]... \\
        [--semihost-arg WORD]... \\
        -- python3 echo_server.py

1. Starts the server command (everything after "--"). It must listen on
   127.0.0.1 on a port of its choice and print "PORT <n>" as a line on
   stdout; the rest of its stdout and stderr go to <log>.server.
2. Boots the image with QEMU's user-mode network in restrict=on mode (the
   guest reaches nothing but what is forwarded) and one guestfwd rule that
   sends the guest's connections to --guestfwd to 127.0.0.1:<n>. The UART
   goes to <log> (and, live, to this script's stdout); semihosting is on.
3. Enforces --timeout on the whole run.

--semihost-arg words become the program's semihosting command line
(SYS_GET_CMDLINE), after the image's name; how the firmware takes its
run-time settings (alert_poster: seq=N, flash=PATH).

--load FILE@ADDR copies FILE's bytes into the guest's memory at ADDR before
it starts (QEMU's generic loader, raw), as a programming station writes a
flash sector apart from the image: how alert_poster gets its device
identity (boards/mps2/common/identity.h).

--anchors PEM (with --nm) loads PEM's certificates, as DER back to back, at
the image's __ap_anchors_start: alert_poster's trust-anchor region
(boards/mps2/common/anchors.h). The other QEMU cases import
anchors_loader() for the same.

Exit status: QEMU's, which is the firmware's semihosting exit code; 124 on
timeout; 125 if the server or QEMU could not be started; 1 if QEMU exited 0
but an --expect-uart/--expect-server pattern matched no line of its log.
"""

import argparse
import os
import re
import select
import shutil
import ssl
import signal
import subprocess
import sys
import threading
import time

EXIT_TIMEOUT = 124
EXIT_SETUP = 125


def log(msg):
    print("run_qemu: " + msg, flush=True)


def stop(proc, grace=3.0):
    """Ends a process group we started: TERM, then KILL after grace seconds."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=grace)


def read_port(proc, timeout):
    """Reads the server's stdout until its "PORT <n>" line (bounded)."""
    deadline = time.monotonic() + timeout
    buf = b""
    fd = proc.stdout.fileno()
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            if proc.poll() is not None:
                return None, buf
            continue
        chunk = os.read(fd, 1)
        if not chunk:
            return None, buf
        buf += chunk
        if chunk == b"\n":
            m = re.match(rb"^PORT (\d+)\s*$", buf.splitlines()[-1])
            if m:
                return int(m.group(1)), buf
    return None, buf


def pump(src, dst, echo=None):
    """Copies a pipe to a file (and optionally to our stdout) until EOF."""
    for line in iter(src.readline, b""):
        dst.write(line)
        dst.flush()
        if echo is not None:
            echo.write(line.decode("utf-8", "replace"))
            echo.flush()


def check(patterns, path, what):
    with open(path, "r", encoding="utf-8", errors="replace") as f:
        text = f.read()
    ok = True
    for pat in patterns:
        if re.search(pat, text, re.MULTILINE) is None:
            log("%s log %s has no line matching %r" % (what, path, pat))
            ok = False
    return ok


def anchors_loader(pem_path, kernel, nm, out_path):
    """QEMU arguments that load pem_path's certificates, DER, into the
    image's trust-anchor region; None if the image has no such region."""
    with open(pem_path, encoding="ascii") as f:
        pems = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?",
                          f.read(), re.S)
    with open(out_path, "wb") as f:
        for pem in pems:
            f.write(ssl.PEM_cert_to_DER_cert(pem))
    out = subprocess.run([nm, kernel], capture_output=True, text=True, check=True).stdout
    m = re.search(r"^([0-9a-fA-F]+) \w __ap_anchors_start$", out, re.M)
    if m is None or not pems:
        return None
    return ["-device", "loader,file=%s,addr=0x%x,force-raw=on" % (out_path, int(m.group(1), 16))]


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qemu", default=shutil.which("qemu-system-arm") or "qemu-system-arm")
    ap.add_argument("--machine", required=True, help="e.g. mps2-an385")
    ap.add_argument("--kernel", required=True, help="the firmware ELF")
    ap.add_argument("--guestfwd", default="10.0.2.100:4433",
                    help="guest address:port forwarded to the server")
    ap.add_argument("--log", required=True, help="UART log file")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds for the whole run")
    ap.add_argument("--expect-uart", action="append", default=[], metavar="REGEX")
    ap.add_argument("--expect-server", action="append", default=[], metavar="REGEX")
    ap.add_argument("--quiet", action="store_true", help="do not echo the UART")
    ap.add_argument("--semihost-arg", action="append", default=[], metavar="WORD",
                    help="a word of the program's semihosting command line")
    ap.add_argument("--load", action="append", default=[], metavar="FILE@ADDR",
                    help="raw bytes of FILE loaded at guest address ADDR")
    ap.add_argument("--anchors", metavar="PEM",
                    help="trust anchors for the image's anchor region (needs --nm)")
    ap.add_argument("--nm", default="arm-none-eabi-nm", help="to find the anchor region")
    ap.add_argument("server", nargs=argparse.REMAINDER,
                    help="-- then the server command")
    args = ap.parse_args()

    server_cmd = args.server[1:] if args.server[:1] == ["--"] else args.server
    if not server_cmd:
        ap.error("give the server command after --")
    if not os.path.isfile(args.kernel):
        log("no firmware image at %s" % args.kernel)
        return EXIT_SETUP

    start = time.monotonic()
    server_log_path = args.log + ".server"
    os.makedirs(os.path.dirname(os.path.abspath(args.log)), exist_ok=True)
    server = qemu = None
    threads = []
    with open(args.log, "wb") as uart_log, open(server_log_path, "wb") as server_log:
        try:
            server = subprocess.Popen(server_cmd, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=server_log,
                                      start_new_session=True)
            port, head = read_port(server, min(10.0, args.timeout))
            server_log.write(head)
            server_log.flush()
            if port is None:
                log("server did not announce its port: %r" % server_cmd)
                return EXIT_SETUP
            t = threading.Thread(target=pump, args=(server.stdout, server_log), daemon=True)
            t.start()
            threads.append(t)

            nic = ("user,model=lan9118,restrict=on,"
                   "guestfwd=tcp:%s-tcp:127.0.0.1:%d" % (args.guestfwd, port))
            semi = "enable=on,target=native"
            if args.semihost_arg:
                words = [os.path.splitext(os.path.basename(args.kernel))[0]] + args.semihost_arg
                for w in words:
                    if " " in w:
                        log("semihosting argument %r has a space" % w)
                        return EXIT_SETUP
                    # QEMU's option syntax: a comma inside a value is doubled.
                    semi += ",arg=" + w.replace(",", ",,")
            qemu_cmd = [args.qemu, "-M", args.machine,
                        "-display", "none", "-monitor", "none", "-serial", "stdio",
                        "-semihosting-config", semi,
                        "-kernel", args.kernel, "-nic", nic]
            for load in args.load:
                path, _, addr = load.rpartition("@")
                if not path or "," in path or not os.path.isfile(path):
                    log("--load %r: not FILE@ADDR with a readable FILE (and no comma)" % load)
                    return EXIT_SETUP
                qemu_cmd += ["-device", "loader,file=%s,addr=%s,force-raw=on" % (path, addr)]
            if args.anchors:
                loader = anchors_loader(args.anchors, args.kernel, args.nm,
                                        args.log + ".anchors.der")
                if loader is None:
                    log("--anchors: no certificate in %s, or no __ap_anchors_start in %s"
                        % (args.anchors, args.kernel))
                    return EXIT_SETUP
                qemu_cmd += loader
            log(" ".join(qemu_cmd))
            try:
                qemu = subprocess.Popen(qemu_cmd, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        start_new_session=True)
            except OSError as e:
                log("cannot start %s: %s" % (args.qemu, e))
                return EXIT_SETUP
            t = threading.Thread(target=pump,
                                 args=(qemu.stdout, uart_log, None if args.quiet else sys.stdout),
                                 daemon=True)
            t.start()
            threads.append(t)

            remaining = args.timeout - (time.monotonic() - start)
            try:
                rc = qemu.wait(timeout=max(remaining, 0.1))
            except subprocess.TimeoutExpired:
                log("timeout after %.0f s: stopping QEMU" % args.timeout)
                stop(qemu)
                return EXIT_TIMEOUT
        finally:
            stop(qemu)
            stop(server)
            for t in threads:
                t.join(timeout=2.0)

    log("QEMU exited with %d after %.1f s" % (rc, time.monotonic() - start))
    if rc != 0:
        return rc
    ok = check(args.expect_uart, args.log, "UART")
    ok = check(args.expect_server, server_log_path, "server") and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
