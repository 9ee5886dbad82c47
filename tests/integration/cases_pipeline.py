"""The pipeline.* cases: --lines --pipeline N, several alerts in flight on one connection.

run_case.py calls register(itself) once its case vocabulary is defined.

  nginx        every line delivered once, in order, on ONE connection (nginx's
               $connection and $connection_requests), each with its own
               Idempotency-Key ($http_idempotency_key), in the order the CLI's -v
               says it delivered them
  nginx close  nginx closing after 3 requests (keepalive_requests, Connection: close)
               with 8 in flight: all delivered once each over 3 connections, and the
               CLI counts the 7 it had to send again
  sink close   the Python sink reads all 8 pipelined requests, answers 3 and closes
               (announced with Connection: close, or a bare close): every alert arrives,
               8 distinct keys, and the alerts the sink saw twice are exactly the ones
               the CLI counted and named as re-sent
  spool        a spool of 10 alerts (kept while the server was down) flushed with
               --pipeline 4 to nginx: each once, in the order kept, on one connection;
               and to the sink closing after 2 of 4: the queue re-sends the other two,
               counts them, and names exactly the keys the sink saw twice
  answers none the sink reads 3 pipelined requests and closes without an answer:
               the run ends there (no connection after one that delivered nothing),
               nothing is re-sent, exit 7
  503          every answer 503: the run stops at line 1 and says, in one line, what
               became of the two lines already in flight behind it (exit 7)
  bad input    --pipeline 0 or over the maximum, without --lines or --spool, or with
               an -H Idempotency-Key: exit 2, nothing connects
"""

import re

LINES = [b"pipelined alert %d" % i for i in range(1, 13)]
CLOSE_LINES = [b"closing alert %d" % i for i in range(1, 9)]
MAX = 16  # AP_PIPELINE_MAX's default

DELIVERED = re.compile(r'^\* alert "([0-9a-f-]+)" \(line (\d+)\): delivered', re.M)
RESENT = re.compile(r'^\* alert "([0-9a-f-]+)" \(line (\d+)\): re-sent', re.M)


def versions(cli):
    return ("1.2", "1.3") if cli == "ap3" else ("1.2",)


def _stdin(lines):
    return b"".join(l + b"\n" for l in lines)


def _cli_keys(ctx, pattern):
    """Keys the CLI's -v named with `pattern`, in its order."""
    err = ctx.get("stderr", [""])[-1]
    return [m.group(1) for m in pattern.finditer(err)]


def _all_204(got, count):
    codes = [r["status"] for r in got.requests]
    if codes != [204] * count:
        return ["nginx answered %r, expected %d times 204" % (codes, count)]
    return []


def nginx_one_connection(count):
    def check(got, ctx):
        errs = []
        errs += _all_204(got, count)
        conns = {r["conn"] for r in got.requests}
        if len(conns) != 1:
            errs.append("requests came on %d connections, expected one" % len(conns))
        numbers = [r["number"] for r in got.requests]
        if numbers != list(range(1, count + 1)):
            errs.append("$connection_requests %r, expected 1..%d" % (numbers, count))
        keys = [r["key"] for r in got.requests]
        if len(set(keys)) != count or "-" in keys:
            errs.append("Idempotency-Keys %r: expected %d distinct ones" % (keys, count))
        said = _cli_keys(ctx, DELIVERED)
        if keys != said:
            errs.append("nginx logged the keys in the order %r, the CLI delivered %r"
                        % (keys, said))
        return errs
    return check


def nginx_each_once(count, connections):
    def check(got, ctx):
        errs = []
        errs += _all_204(got, count)
        if got.connections != connections:
            errs.append("nginx saw %d connections, expected %d" % (got.connections, connections))
        keys = [r["key"] for r in got.requests]
        if len(set(keys)) != count:
            errs.append("Idempotency-Keys %r: expected %d distinct ones, each once"
                        % (keys, count))
        said = _cli_keys(ctx, DELIVERED)
        if keys != said:
            errs.append("nginx answered the keys %r, the CLI delivered %r" % (keys, said))
        return errs
    return check


def sink_saw_resends(rc, bodies, answered):
    """Every body arrived at least once, with len(bodies) distinct keys; the keys seen
    twice are those of the lines after the first `answered`, and the CLI named exactly
    those as re-sent."""
    def check(got, ctx):
        errs = []
        seen = {}
        for r in got.requests:
            key = rc.header_value(r, "Idempotency-Key") or ""
            seen.setdefault(key.strip('"'), []).append(r["body"])
        if sorted({b for bs in seen.values() for b in bs}) != sorted(bodies):
            errs.append("bodies %r, expected each of %r" % (seen, bodies))
        if len(seen) != len(bodies):
            errs.append("%d distinct keys, expected %d" % (len(seen), len(bodies)))
        twice = sorted(k for k, bs in seen.items() if len(bs) == 2)
        more = [k for k, bs in seen.items() if len(bs) > 2 or len(set(bs)) != 1]
        if more:
            errs.append("keys seen more than twice, or with two bodies: %r" % more)
        if len(twice) != len(bodies) - answered:
            errs.append("%d keys seen twice, expected %d" % (len(twice),
                                                            len(bodies) - answered))
        named = sorted(_cli_keys(ctx, RESENT))
        if named != twice:
            errs.append("the CLI named %r as re-sent; the sink saw %r twice" % (named, twice))
        order = [r["body"] for r in got.requests if r["conn"] != got.requests[0]["conn"]]
        if order != bodies[answered:]:
            errs.append("re-sent in the order %r, expected %r" % (order, bodies[answered:]))
        return errs
    return check


KEPT = re.compile(r'^\* alert "([0-9a-f-]+)": kept in the spool', re.M)
RESENDING = re.compile(r're-sending alert "([0-9a-f-]+)"', re.M)


def _kept_keys(ctx):
    err = ctx.get("stderr", [""])[0]
    return [m.group(1) for m in KEPT.finditer(err)]


def nginx_spool_in_order(count):
    def check(got, ctx):
        errs = []
        errs += _all_204(got, count)
        if got.connections != 1:
            errs.append("nginx saw %d connections, expected one" % got.connections)
        keys = [r["key"] for r in got.requests]
        kept = _kept_keys(ctx)
        if keys != kept or len(set(keys)) != count:
            errs.append("nginx got the keys %r, the spool kept %r" % (keys, kept))
        return errs
    return check


def sink_saw_queue_resends(rc, count, answered):
    def check(got, ctx):
        errs = []
        seen = {}
        for r in got.requests:
            seen.setdefault((rc.header_value(r, "Idempotency-Key") or "").strip('"'),
                            []).append(r["body"])
        if sorted(seen) != sorted(_kept_keys(ctx)):
            errs.append("keys %r, the spool kept %r" % (sorted(seen), sorted(_kept_keys(ctx))))
        twice = sorted(k for k, bs in seen.items() if len(bs) == 2)
        if len(twice) != count - answered or any(len(bs) > 2 for bs in seen.values()):
            errs.append("seen twice: %r, expected %d keys" % (twice, count - answered))
        err = ctx.get("stderr", ["", ""])[-1]
        named = sorted(m.group(1) for m in RESENDING.finditer(err))
        if named != twice:
            errs.append("the CLI named %r as re-sent; the sink saw %r twice" % (named, twice))
        return errs
    return check


def _spool_steps(rc, cli, count, flush_args, stderr):
    """Keep `count` alerts with the server down (port 1 refuses), then flush them."""
    down = ["--cacert", "{pki}/root.pem", "--resolve", "localhost:1:127.0.0.1",
            "--connect-timeout", "2", "-v", "--spool", "{work}/spool", "--lines",
            "https://localhost:1/alerts"]
    lines = b"".join(b"spooled alert %d\n" % i for i in range(1, count + 1))
    return [rc.Step(cli, down, 8, stdin=lines, standard=False),
            rc.Step(cli, ["-v", "--spool", "{work}/spool", "--flush"] + flush_args, rc.EXIT_OK,
                    stderr=stderr)]


def register(rc):
    for cli, n in rc.CLIS.items():
        for v in versions(cli):
            tag = "tls%s.%s" % (v, n)
            rc.add(rc.Case(
                "pipeline.nginx_one_connection.%s" % tag,
                lambda v=v: rc.NginxPipeline(keepalive_requests=100, tls=(v, v)),
                [rc.Step(cli, ["-v", "--lines", "--pipeline", "4"], rc.EXIT_OK,
                         stdin=_stdin(LINES),
                         stderr=["* TLS %s, " % v,
                                 "* %d alert(s) delivered over 1 connection(s), up to 4 in "
                                 "flight" % len(LINES)],
                         stderr_lacks=["re-sent"])],
                [nginx_one_connection(len(LINES))], labels=["pipeline", "nginx"],
                skip_if=rc.no_nginx))
            for close, extra in (("announced", []), ("bare", ["--bare-close"])):
                rc.add(rc.Case(
                    "pipeline.sink_close_after_3.%s.%s" % (close, tag),
                    lambda v=v, extra=extra: rc.PySink(
                        mode="pipeline-close", tls_min=v, tls_max=v,
                        extra=["--pipeline-expect", "8", "--answer-first", "3"] + extra),
                    [rc.Step(cli, ["-v", "--lines", "--pipeline", "8"], rc.EXIT_OK,
                             stdin=_stdin(CLOSE_LINES),
                             stderr=["alertpost: 5 re-sent after the server closed the "
                                     "connection early",
                                     "* 8 alert(s) delivered over 2 connection(s)"])],
                    [sink_saw_resends(rc, CLOSE_LINES, 3)], labels=["pipeline", "hostile"]))
        rc.add(rc.Case(
            "pipeline.nginx_closes_after_3.%s" % n,
            lambda: rc.NginxPipeline(keepalive_requests=3),
            [rc.Step(cli, ["-v", "--lines", "--pipeline", "8"], rc.EXIT_OK,
                     stdin=_stdin(CLOSE_LINES),
                     stderr=["alertpost: 7 re-sent after the server closed the connection "
                             "early", "* 8 alert(s) delivered over 3 connection(s)"])],
            [nginx_each_once(len(CLOSE_LINES), 3)], labels=["pipeline", "nginx"],
            skip_if=rc.no_nginx))
        rc.add(rc.Case(
            "pipeline.spool_flush_nginx.%s" % n,
            lambda: rc.NginxPipeline(keepalive_requests=100),
            _spool_steps(rc, cli, 10, ["--pipeline", "4"], ["10 delivered"]),
            [nginx_spool_in_order(10)], labels=["pipeline", "nginx", "queue"],
            skip_if=rc.no_nginx))
        rc.add(rc.Case(
            "pipeline.spool_flush_sink_close_after_2.%s" % n,
            lambda: rc.PySink(mode="pipeline-close",
                              extra=["--pipeline-expect", "4", "--answer-first", "2"]),
            _spool_steps(rc, cli, 4, ["--pipeline", "4"],
                         ["4 delivered, 2 retried (2 re-sent after an unknown outcome)"]),
            [sink_saw_queue_resends(rc, 4, 2)], labels=["pipeline", "hostile", "queue"]))
        rc.add(rc.Case(
            "pipeline.503_stops_the_run.%s" % n, lambda: rc.PySink(status=503),
            [rc.Step(cli, ["--lines", "--pipeline", "4"], rc.EXIT_HTTP,
                     stdin=b"one\ntwo\nthree\n",
                     stderr=["line 1 not delivered", "answered 503",
                             "of the 2 later line(s) already in flight, 0 delivered and 2 not",
                             "later lines not sent"])],
            [rc.bodies_once_each([b"one", b"two", b"three"], connections=1)],
            labels=["pipeline", "http"]))
        rc.add(rc.Case(
            "pipeline.sink_answers_none.%s" % n,
            lambda: rc.PySink(mode="pipeline-close",
                              extra=["--pipeline-expect", "3", "--answer-first", "0"]),
            [rc.Step(cli, ["--lines", "--pipeline", "3"], rc.EXIT_HTTP,
                     stdin=b"one\ntwo\nthree\n",
                     stderr=["line 1 not delivered", "closed the connection before answering",
                             "of the 2 later line(s) already in flight, 0 delivered and 2 not"],
                     stderr_lacks=["re-sent"])],
            [rc.bodies_once_each([b"one", b"two", b"three"], connections=1)],
            labels=["pipeline", "hostile"]))
        bad = [
            (["--lines", "--pipeline", "0"], "--pipeline"),
            (["--lines", "--pipeline", str(MAX + 1)], "--pipeline"),
            (["-d", "x", "--pipeline", "2"], "--pipeline goes with --lines"),
            (["-d", "x", "--retry", "2", "--pipeline", "2"], "--pipeline goes with --lines"),
            (["--lines", "-H", "Idempotency-Key: \"k\"", "--pipeline", "2"],
             "each alert gets a key of its own"),
        ]
        rc.add(rc.Case(
            "pipeline.bad_input.%s" % n, lambda: rc.PySink(),
            [rc.Step(cli, args, rc.EXIT_USAGE, stdin=b"one\n", stderr=[words])
             for args, words in bad],
            [rc.never_connected()], labels=["pipeline"]))
