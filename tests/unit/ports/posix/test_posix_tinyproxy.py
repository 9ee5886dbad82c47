#!/usr/bin/env python3
"""The CONNECT tunnel against a real tinyproxy, started here on loopback.

  test_posix_tinyproxy.py --case NAME --proxy-post BIN --integration DIR --work DIR
  test_posix_tinyproxy.py --case NAME --cli ALERTPOST ...     the same through the CLI

Each case writes its own tinyproxy configuration (Listen and Allow 127.0.0.1,
ConnectPort, BasicAuth where the case needs it) on a free port, starts the
test sink (tests/integration/sink.py, Python's ssl) as the origin, posts one
alert with proxy_post (the library: core client over the tunnel over TCP) and
asserts what the sink received, what tinyproxy logged and the client's
message. Nothing but 127.0.0.1 is contacted.

Without tinyproxy the case reports SKIPPED (exit 77), except under CI=true,
where a missing proxy is a failure: CI must not lose the test silently.
"""

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time

SKIP = 77
BODY = '{"device":"pump-7","seq":42,"via":"tinyproxy"}'
USER, PASSWORD = "alice", "s3cret-pw"
# ap_status_t values (core/include/alertpost/ap_status.h)
OK, CONNECT, TLS_CERT = 0, -5, -10


class Failure(Exception):
    pass


def free_port():
    # tinyproxy cannot listen on port 0; a port just released by the kernel is
    # free unless something takes it in between, which start() retries.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, seconds=5.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Tinyproxy:
    def __init__(self, exe, work, connect_port, auth):
        self.exe, self.work = exe, work
        self.connect_port, self.auth = connect_port, auth
        self.log = os.path.join(work, "tinyproxy.log")
        self.proc = None
        self.port = None

    def _config(self, port):
        lines = [
            "Port %d" % port,
            "Listen 127.0.0.1",
            "Timeout 10",
            "Allow 127.0.0.1",
            "ConnectPort %d" % self.connect_port,
            "MaxClients 8",
            "LogLevel Connect",
            'LogFile "%s"' % self.log,
            'PidFile "%s"' % os.path.join(self.work, "tinyproxy.pid"),
        ]
        if self.auth:
            lines.append("BasicAuth %s %s" % (USER, PASSWORD))
        path = os.path.join(self.work, "tinyproxy.conf")
        with open(path, "w", encoding="ascii") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def start(self):
        for _ in range(3):
            port = free_port()
            conf = self._config(port)
            if os.path.exists(self.log):
                os.unlink(self.log)
            self.proc = subprocess.Popen([self.exe, "-d", "-c", conf],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if wait_listening(port, self.proc):
                self.port = port
                return
            self.stop()
        raise Failure("tinyproxy did not start listening on 127.0.0.1 (see %s)" % self.log)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def logged(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""


class Sink:
    def __init__(self, integration, pki, work, chain):
        self.record = os.path.join(work, "sink.jsonl")
        ready = os.path.join(work, "sink.ready")
        for p in (self.record, ready):
            if os.path.exists(p):
                os.unlink(p)
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(integration, "sink.py"), "--port", "0",
             "--ready-file", ready, "--cert", os.path.join(pki, chain),
             "--key", os.path.join(pki, "ecdsa.key"), "--record", self.record,
             "--max-seconds", "30"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + 10
        while not os.path.exists(ready):
            if time.monotonic() > end or self.proc.poll() is not None:
                raise Failure("the TLS sink did not start")
            time.sleep(0.05)
        with open(ready, encoding="ascii") as f:
            self.port = int(f.read())

    def events(self):
        try:
            with open(self.record, encoding="utf-8") as f:
                return [json.loads(line) for line in f if line.strip()]
        except OSError:
            return []

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)


# name: (BasicAuth on the proxy, credentials the client sends, certificate
#        chain of the origin, ConnectPort is the origin's, proxy running,
#        expected status, phrases the message must hold)
CASES = {
    "tunnel": (False, None, "ecdsa-chain.pem", True, True, OK, []),
    "auth_ok": (True, "%s:%s" % (USER, PASSWORD), "ecdsa-chain.pem", True, True, OK, []),
    "auth_missing": (True, None, "ecdsa-chain.pem", True, True, CONNECT,
                     ["requires authentication (407); use --proxy-user"]),
    "auth_wrong": (True, "%s:wrong-pw" % USER, "ecdsa-chain.pem", True, True, CONNECT,
                   ["rejected the credentials", "check --proxy-user"]),
    "forbidden": (False, None, "ecdsa-chain.pem", False, True, CONNECT,
                  ["refused the tunnel to 127.0.0.1:", "(403 Forbidden)"]),
    "down": (False, None, "ecdsa-chain.pem", True, False, CONNECT,
             ["cannot reach proxy 127.0.0.1:", "connection refused"]),
    # TLS runs end to end through the tunnel and is verified against the
    # origin's name, whatever the proxy does.
    "origin_name": (False, None, "wronghost-chain.pem", True, True, TLS_CERT, []),
    # CLI only: the proxy from $https_proxy, and $no_proxy sending the alert
    # around a proxy that is down.
    "env": (False, None, "ecdsa-chain.pem", True, True, OK, []),
    "bypass": (False, None, "ecdsa-chain.pem", True, False, OK, []),
}
CLI_EXIT = {OK: 0, CONNECT: 3, TLS_CERT: 5}


def cli_run(name, opts, sink_port, proxy_port, creds):
    """The alertpost CLI instead of proxy_post; answers in proxy_post's shape."""
    url = "https://127.0.0.1:%d/alerts" % sink_port
    proxy = "http://127.0.0.1:%d" % proxy_port
    cmd = [opts.cli, "--cacert", os.path.join(opts.pki, "root.pem"), "-d", BODY, url]
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("https_proxy", "all_proxy", "no_proxy")}
    if name == "env":
        env["https_proxy"] = proxy
    elif name == "bypass":
        env["HTTPS_PROXY"] = proxy
        env["no_proxy"] = "example.test, 127.0.0.1"
    else:
        cmd[1:1] = ["--proxy", proxy]
    if creds:
        cmd[1:1] = ["--proxy-user", creds]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=20, env=env)
    code = next((k for k, v in CLI_EXIT.items() if v == res.returncode), 1)
    print("cli exit %d: %s" % (res.returncode, res.stderr.strip()))
    lines = res.stderr.strip().splitlines()
    if res.returncode != 0 and len(lines) != 1:
        raise Failure("the CLI's error is %d lines, expected one" % len(lines))
    return res, "code %d\nerror %s\n" % (code, res.stderr.strip())


def run_case(name, opts):
    auth, creds, chain, port_allowed, running, want, phrases = CASES[name]
    os.makedirs(opts.work, exist_ok=True)
    sink = Sink(opts.integration, opts.pki, opts.work, chain)
    # A refused tunnel: tinyproxy allows CONNECT to another port only.
    allowed = sink.port if port_allowed else (sink.port - 1 if sink.port > 1024 else 1024)
    proxy = Tinyproxy(opts.tinyproxy, opts.work, allowed, auth)
    try:
        if running:
            proxy.start()
            proxy_port = proxy.port
        else:
            proxy_port = free_port()
        if opts.cli:
            res, out = cli_run(name, opts, sink.port, proxy_port, creds)
        else:
            cmd = [opts.proxy_post, "--url", "https://localhost:%d/alerts" % sink.port,
                   "--connect", "127.0.0.1", "--proxy", "http://127.0.0.1:%d" % proxy_port,
                   "--cacert", os.path.join(opts.pki, "root.pem"), "--body", BODY]
            if creds:
                cmd += ["--proxy-user", creds]
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
            out = res.stdout
        print(out, end="")
        time.sleep(0.2)  # let the sink write its record
        events = sink.events()
        log = proxy.logged()
    finally:
        proxy.stop()
        sink.stop()

    lines = dict(l.split(" ", 1) for l in out.splitlines() if " " in l)
    code = int(lines.get("code", "1"))
    status = lines.get("status", "")
    error = lines.get("error", "")
    requests = [e for e in events if e.get("event") == "request"]
    if code != want:
        raise Failure("expected status %d, got %d '%s' (%s)" % (want, code, status, error))
    for p in phrases:
        if p not in error:
            raise Failure("the message lacks '%s': %s" % (p, error))
    if creds and creds.split(":", 1)[1] in out:
        raise Failure("the password appears in the output")
    if want == OK:
        if res.returncode != 0:
            raise Failure("delivered but exit %d" % res.returncode)
        if len(requests) != 1:
            raise Failure("the sink saw %d requests, not 1: %s" % (len(requests), events))
        got = base64.b64decode(requests[0]["body_b64"]).decode("utf-8", "replace")
        if got != BODY:
            raise Failure("the sink received body %r, not %r" % (got, BODY))
        if name == "bypass":
            if "CONNECT" in log:
                raise Failure("no_proxy named the origin, yet the proxy saw: " + log)
        elif "CONNECT 127.0.0.1:%d" % sink.port not in log:
            raise Failure("tinyproxy logged no CONNECT to the origin:\n" + log)
        print("delivered through tinyproxy: %r; the sink's TLS: %s" %
              (got, [e.get("version") for e in events if e["event"] == "handshake_ok"]))
    else:
        if requests:
            raise Failure("the sink received a request although the post failed")
        if name in ("auth_missing", "auth_wrong", "forbidden") and any(
                e.get("event", "").startswith("handshake") for e in events):
            raise Failure("the origin saw a TLS connection through a refused tunnel")
        if name == "origin_name" and not any(e["event"] == "handshake_fail" for e in events):
            raise Failure("the origin saw no failed handshake: %s" % events)
        print("refused as expected: %s" % error)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--proxy-post")
    ap.add_argument("--cli", help="run the alertpost CLI instead of proxy_post")
    ap.add_argument("--integration", required=True, help="tests/integration (sink.py, pki.py)")
    ap.add_argument("--pki", required=True, help="made by pki.py (a ctest fixture)")
    ap.add_argument("--work", required=True)
    opts = ap.parse_args()

    opts.tinyproxy = shutil.which("tinyproxy") or next(
        (p for p in ("/usr/bin/tinyproxy", "/usr/sbin/tinyproxy") if os.access(p, os.X_OK)),
        None)
    if opts.tinyproxy is None:
        if os.environ.get("CI", "").lower() == "true":
            print("FAIL: tinyproxy is not installed, and CI must run this test "
                  "(cmake/setup.sh installs it)")
            return 1
        print("SKIPPED: tinyproxy is not installed (cmake/setup.sh installs it)")
        return SKIP

    try:
        run_case(opts.case, opts)
    except Failure as e:
        print("FAIL: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
