"""The resume.ssl_sessions.* cases: TLS sessions kept between two CLI processes
(--ssl-sessions FILE).

run_case.py calls register(itself) once its case vocabulary is defined. For each
CLI and each TLS version it has, against nginx (which logs $ssl_session_reused)
and the Python sink (which records SSLSocket.session_reused), offering only that
version:

  resumes        two runs with the same file: the first makes a full handshake and
                 saves its session, the second resumes it (the server says so, and
                 the -v TLS line); the file is mode 0600 and holds one entry; also
                 against nginx without tickets (TLS 1.2 session IDs, its cache)
  other_pins     a session saved with --pinnedpubkey is not resumed without it
                 (-v: "ignored (... other public key pins ...)"), and still is by a
                 third run with the pin: the file keeps one entry per policy
  other_anchors  the same for other trust anchors (root.pem plus another root,
                 which still verify the server)
  corrupt        entries that are not base64, or not a saved session: ignored with
                 a -v note, the alert delivered over a full handshake, the file
                 rewritten with this run's session only
  open_to_others a file of mode 0644: ignored unread, replaced by a 0600 one
  symlink        a symbolic link in the file's place: not followed (its target is
                 unchanged), replaced by a regular 0600 file
  umask          run under umask 277 (which would leave a new file 0400): the file
                 is 0600 all the same
"""

import base64
import os
import stat

from peers import NginxResume, PySink  # noqa: E402  (run_case.py set sys.path)

SESSIONS = "{work}/sessions"
NOTE = "* SSL session file "
RESUMED = ", resumed; handshake"


def versions(cli):
    return ("1.2", "1.3") if cli == "ap3" else ("1.2",)  # 2.28 has no TLS 1.3


class NginxSessionIds(NginxResume):
    """NginxResume without tickets: TLS 1.2 resumes by session ID from its cache."""

    def _config(self, pki):
        return super()._config(pki).replace("ssl_session_tickets on;",
                                            "ssl_session_tickets off;")


class WithFiles:
    """A peer whose start() also writes files into the work directory once its port
    is known (an entry must name it): name -> (function(port, pki) -> bytes, mode),
    or (None, target) for a symbolic link. Everything else is the peer's."""

    def __init__(self, peer, files, umask=None):
        self._peer = peer
        self._files = files
        self._umask = umask   # for the CLI runs that follow (run_case.py runs one case)

    def start(self, work, pki):
        port = self._peer.start(work, pki)
        if self._umask is not None:
            os.umask(self._umask)
        for name, (make, mode) in self._files.items():
            path = os.path.join(work, name)
            if make is None:
                os.symlink(os.path.join(work, mode), path)
                continue
            with open(path, "wb") as f:
                f.write(make(port, pki))
            os.chmod(path, mode)
        return port

    def __getattr__(self, name):
        return getattr(self._peer, name)


def run(rc, cli, tag, extra=(), stderr=(), lacks=()):
    """One CLI run posting alert(tag) with -v and the sessions file."""
    return rc.Step(cli, ["-v", "--ssl-sessions", SESSIONS] + list(extra) +
                   ["-d", rc.alert(tag).decode()], rc.EXIT_OK, stderr=list(stderr),
                   stderr_lacks=list(lacks))


# ------------------------------------------------------------------ checks

def reused(pattern):
    """The server resumed exactly these connections, in order (nginx or the sink)."""
    def check(got, ctx):
        if any("reused" in r for r in got.requests):   # nginx: its access log
            have = [r.get("reused") for r in got.requests]
        else:                                           # the sink: per handshake
            have = got.resumed
        if have != pattern:
            return ["the server resumed %r, expected %r" % (have, pattern)]
        return []
    return check


def answered_204(count):
    """nginx (which keeps no bodies) answered `count` POSTs 204."""
    def check(got, ctx):
        codes = [(r["method"], r["status"]) for r in got.requests]
        return [] if codes == [("POST", 204)] * count else [
            "nginx answered %r, expected %d POSTs 204" % (codes, count)]
    return check


def delivered_all(rc, tags):
    def check(got, ctx):
        bodies = [r["body"] for r in got.requests]
        want = [rc.alert(t) for t in tags]
        return [] if bodies == want else ["bodies %r, expected %r" % (bodies, want)]
    return check


def file_private(entries, extra_check=None):
    """The sessions file is a regular file of mode 0600 holding `entries` entries for
    this host and port."""
    def check(got, ctx):
        path = os.path.join(ctx["work"], "sessions")
        st = os.lstat(path)
        errs = []
        if not stat.S_ISREG(st.st_mode):
            errs.append("%s is not a regular file" % path)
        if stat.S_IMODE(st.st_mode) != 0o600:
            errs.append("%s has mode %o, expected 600" % (path, stat.S_IMODE(st.st_mode)))
        with open(path, encoding="ascii") as f:
            lines = [l for l in f.read().splitlines() if l and not l.startswith("#")]
        mine = [l for l in lines if l.startswith("localhost %d " % ctx["port"])]
        if len(mine) != entries or len(lines) != entries:
            errs.append("the file holds %r, expected %d entr%s for localhost:%d" % (
                [l[:40] for l in lines], entries, "y" if entries == 1 else "ies",
                ctx["port"]))
        if extra_check:
            errs += extra_check(ctx)
        return errs
    return check


# ------------------------------------------------------------------ cases

def _peer(server, version, files=None, umask=None):
    if server.startswith("nginx"):
        kind = NginxSessionIds if server == "nginx_ids" else NginxResume

        def make():
            p = kind(keepalive_requests=1, tls=(version, version))
            return WithFiles(p, files) if files else p
    else:
        def make():
            p = PySink(tls_min=version, tls_max=version)
            return WithFiles(p, files or {}, umask) if files or umask else p
    return make


def _resume_cases(rc, cli, n, version):
    for server in ("nginx", "sink") + (("nginx_ids",) if version == "1.2" else ()):
        name = "resume.ssl_sessions.%s_tls%s.%s" % (server, version, n)
        tls = "* TLS %s, " % version
        steps = [run(rc, cli, name + ".1", stderr=[NOTE, "none yet", tls,
                                                   "saved this run's session"],
                     lacks=[RESUMED]),
                 run(rc, cli, name + ".2",
                     stderr=["a session for this host, port and policy is offered",
                             tls + "", RESUMED])]
        rc.add(rc.Case(name, _peer(server, version), steps,
                       [reused([False, True]), file_private(1),
                        answered_204(2) if server.startswith("nginx")
                        else delivered_all(rc, [name + ".1", name + ".2"])],
                       labels=["resume", server.split("_")[0]],
                       skip_if=rc.no_nginx if server.startswith("nginx") else None))


def _two_roots(port, pki):
    out = b""
    for name in ("root.pem", "other-root.pem"):
        with open(os.path.join(pki, name), "rb") as f:
            out += f.read()
    return out


def _policy_cases(rc, cli, n):
    for what, opts, words in (
            ("other_pins", ["--pinnedpubkey", "{pin_ecdsa}"], "other public key pins"),
            ("other_anchors", ["--cacert", "{work}/two-roots.pem"],
             "other trust anchors")):
        name = "resume.ssl_sessions.%s.%s" % (what, n)
        files = {"two-roots.pem": (_two_roots, 0o644)} if what == "other_anchors" else None
        steps = [run(rc, cli, name + ".1", extra=opts, lacks=[RESUMED]),
                 run(rc, cli, name + ".2", stderr=["ignored (", words], lacks=[RESUMED]),
                 run(rc, cli, name + ".3", extra=opts, stderr=[RESUMED])]
        rc.add(rc.Case(name, _peer("sink", "1.2", files), steps,
                       [reused([False, False, True]),
                        delivered_all(rc, [name + ".1", name + ".2", name + ".3"]),
                        file_private(2)], labels=["resume", "sink"]))


def _corrupt(port, pki):
    junk = base64.b64encode(b"APS\x01 not a session at all, only bytes").decode()
    return ("# a damaged file\nlocalhost %d @@not-base64@@\nlocalhost %d %s\nno entry\n"
            % (port, port, junk)).encode()


def _entry(port, pki):
    return ("localhost %d %s\n" % (port, base64.b64encode(b"APS\x01" + b"\0" * 200)
                                  .decode())).encode()


def _file_cases(rc, cli, n):
    name = "resume.ssl_sessions.corrupt.%s" % n
    rc.add(rc.Case(name, _peer("sink", "1.2", {"sessions": (_corrupt, 0o600)}),
                   [run(rc, cli, name, stderr=[
                       NOTE + "{work}/sessions: ignored (an entry that is not base64",
                       "ignored (saved session refused for localhost: not a saved session",
                       "saved this run's session"], lacks=[RESUMED])],
                   [reused([False]), delivered_all(rc, [name]), file_private(1)],
                   labels=["resume", "sink"]))

    name = "resume.ssl_sessions.open_to_others.%s" % n
    rc.add(rc.Case(name, _peer("sink", "1.2", {"sessions": (_entry, 0o644)}),
                   [run(rc, cli, name, stderr=[
                       "ignored (open to group or others; it must be 0600)",
                       "saved this run's session"], lacks=[RESUMED, "not a saved session"])],
                   [reused([False]), delivered_all(rc, [name]), file_private(1)],
                   labels=["resume", "sink"]))

    name = "resume.ssl_sessions.symlink.%s" % n
    target = b"# the link's target, which must stay as it is\n"

    def target_unchanged(ctx):
        with open(os.path.join(ctx["work"], "elsewhere"), "rb") as f:
            have = f.read()
        return [] if have == target else ["the link's target changed: %r" % have[:60]]

    rc.add(rc.Case(name, _peer("sink", "1.2", {"elsewhere": (lambda p, k: target, 0o600),
                                               "sessions": (None, "elsewhere")}),
                   [run(rc, cli, name, stderr=["ignored (cannot read it: ",
                                               "saved this run's session"])],
                   [reused([False]), delivered_all(rc, [name]),
                    file_private(1, target_unchanged)], labels=["resume", "sink"]))


def _umask_case(rc, cli, n):
    name = "resume.ssl_sessions.umask.%s" % n
    rc.add(rc.Case(name, _peer("sink", "1.2", umask=0o277),
                   [run(rc, cli, name, stderr=["saved this run's session"])],
                   [reused([False]), delivered_all(rc, [name]), file_private(1)],
                   labels=["resume", "sink"]))


def register(rc):
    """Adds every resume.ssl_sessions.* case through run_case.py's add()."""
    for cli, n in rc.CLIS.items():
        for v in versions(cli):
            _resume_cases(rc, cli, n, v)
        _policy_cases(rc, cli, n)
        _file_cases(rc, cli, n)
        _umask_case(rc, cli, n)
