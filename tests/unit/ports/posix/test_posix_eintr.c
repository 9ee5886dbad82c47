/*
 * The POSIX transport while signals keep arriving.
 *
 * A process that installs a handler without SA_RESTART (a daemon's SIGALRM,
 * SIGCHLD or SIGUSR1, say) makes every blocking call it is in return EINTR.
 * Here an interval timer fires every millisecond into such a handler while
 * the transport connects, sends and receives megabytes through a slow peer
 * on loopback, so its waits are interrupted hundreds of times. The bytes
 * must arrive intact and in order, each call must return what the
 * ap_transport.h contract says, and a timeout must still end at its deadline
 * (an EINTR loop that restarts the full wait would never end; one that gives
 * up would fail early).
 *
 * The peer is a forked child: interval timers are not inherited, so only
 * this process, which has no other thread, takes the signals.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alertpost/ap_posix.h"

/* Enough data, through small socket buffers and a peer that pauses, that
 * the transport waits in poll() for hundreds of milliseconds each way. */
#define T_BULK_LEN (4u * 1024u * 1024u)
#define T_SMALL_BUF 16384
/* The peer reads (or writes) this much, then sleeps T_PEER_PAUSE_MS. */
#define T_PEER_BURST 16384u
#define T_PEER_PAUSE_MS 1u
/* Bound on any wait in the peer, so a broken transport fails the test. */
#define T_PEER_WAIT_MS 20000
#define T_IO_TIMEOUT_MS 10000u
#define T_SHORT_TIMEOUT_MS 300u
/* Slack allowed above a timeout: a loaded machine under ASan. */
#define T_TIMEOUT_SLACK_MS 3000u
/* Fewer signals than this during a timed wait means the timer was not
 * really firing, and the test would prove nothing. */
#define T_MIN_SIGNALS 50

/* Exit codes of the peer child. */
#define PEER_OK 0
#define PEER_SHORT 3
#define PEER_CORRUPT 4
#define PEER_SETUP 5

static volatile sig_atomic_t g_signals;
/* The running peer, so that teardown ends it after a failed assertion. */
static pid_t g_peer = -1;

static void on_alarm(int sig)
{
    (void)sig;
    g_signals++;
}

/* ---- helpers ---------------------------------------------------------- */

static uint64_t t_now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Sleeps the whole time even when a signal interrupts (the test's own
 * code must not be what EINTR breaks). */
static void t_sleep_ms(unsigned ms)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(ms / 1000u);
    ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* The byte at offset i of a stream: not periodic in any small power of
 * two, so a lost, repeated or reordered piece shows. */
static uint8_t t_pattern(size_t i, uint8_t salt)
{
    uint32_t x = (uint32_t)i;

    x ^= x >> 9;
    x *= 0x9E3779B1u;
    return (uint8_t)((x >> 24) ^ salt);
}

static void timer_start(void)
{
    struct sigaction sa;
    struct itimerval it;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = 0; /* no SA_RESTART: blocking calls return EINTR */
    (void)sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
    it.it_interval.tv_sec = 0;
    it.it_interval.tv_usec = 1000;
    it.it_value = it.it_interval;
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
}

static void timer_stop(void)
{
    struct itimerval it;

    memset(&it, 0, sizeof it);
    (void)setitimer(ITIMER_REAL, &it, NULL);
    (void)signal(SIGALRM, SIG_DFL);
}

static int t_listen(int rcvbuf, int backlog, uint16_t *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (rcvbuf > 0) {
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, backlog), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* ---- the peer: a forked child ----------------------------------------- */

typedef enum {
    PEER_HOLD,         /* accept, stay silent until the client closes */
    PEER_SINK_SOURCE,  /* read T_BULK_LEN slowly and check it, then send
                          T_BULK_LEN slowly and close */
    PEER_NEVER_READ    /* accept, never read, until killed (peer_stop) */
} t_peer_mode_t;

static int peer_accept(int lfd)
{
    struct pollfd pfd;
    int small = T_SMALL_BUF;
    int fd;

    pfd.fd = lfd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (poll(&pfd, 1, T_PEER_WAIT_MS) != 1) {
        return -1;
    }
    fd = accept(lfd, NULL, NULL);
    if (fd >= 0) {
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    }
    return fd;
}

/* Waits (bounded) until the client closes or resets. */
static void peer_wait_for_close(int fd)
{
    uint8_t buf[256];
    uint64_t until = t_now_ms() + T_PEER_WAIT_MS;
    struct pollfd pfd;

    pfd.fd = fd;
    pfd.events = POLLIN;
    while (t_now_ms() < until) {
        pfd.revents = 0;
        if (poll(&pfd, 1, 100) == 1 && recv(fd, buf, sizeof buf, 0) <= 0) {
            return;
        }
    }
}

static int peer_sink(int fd)
{
    static uint8_t buf[T_PEER_BURST];
    size_t got = 0;

    while (got < T_BULK_LEN) {
        size_t burst = 0;

        while (burst < T_PEER_BURST && got < T_BULK_LEN) {
            ssize_t n = recv(fd, buf, T_PEER_BURST - burst, 0);
            ssize_t i;

            if (n <= 0) {
                return PEER_SHORT;
            }
            for (i = 0; i < n; i++) {
                if (buf[i] != t_pattern(got + (size_t)i, 0x5a)) {
                    return PEER_CORRUPT;
                }
            }
            got += (size_t)n;
            burst += (size_t)n;
        }
        t_sleep_ms(T_PEER_PAUSE_MS);
    }
    return PEER_OK;
}

static int peer_source(int fd)
{
    static uint8_t buf[T_PEER_BURST];
    size_t sent = 0;

    while (sent < T_BULK_LEN) {
        size_t n = T_BULK_LEN - sent < T_PEER_BURST ? T_BULK_LEN - sent : T_PEER_BURST;
        size_t off = 0;
        size_t i;

        for (i = 0; i < n; i++) {
            buf[i] = t_pattern(sent + i, 0xa5);
        }
        while (off < n) {
            ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL);

            if (w <= 0) {
                return PEER_SHORT;
            }
            off += (size_t)w;
        }
        sent += n;
        t_sleep_ms(T_PEER_PAUSE_MS);
    }
    return PEER_OK;
}

static void peer_main(int lfd, t_peer_mode_t mode)
{
    int fd = peer_accept(lfd);
    int rc = PEER_OK;

    if (fd < 0) {
        _exit(PEER_SETUP);
    }
    switch (mode) {
    case PEER_HOLD:
        peer_wait_for_close(fd);
        break;
    case PEER_NEVER_READ:
        t_sleep_ms(T_PEER_WAIT_MS);
        break;
    case PEER_SINK_SOURCE:
        rc = peer_sink(fd);
        if (rc == PEER_OK) {
            rc = peer_source(fd);
        }
        break;
    }
    (void)close(fd);
    _exit(rc);
}

static pid_t peer_start(t_peer_mode_t mode, uint16_t *port)
{
    int lfd = t_listen(T_SMALL_BUF, 4, port);
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        peer_main(lfd, mode);
    }
    (void)close(lfd);
    g_peer = pid;
    return pid;
}

/* Ends a peer that never returns by itself. */
static void peer_stop(pid_t pid)
{
    int status = 0;

    (void)kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    g_peer = -1;
}

/* The peer's exit status, or -1 if it did not exit normally. */
static int peer_wait(pid_t pid)
{
    int status = 0;
    pid_t r;

    do {
        r = waitpid(pid, &status, 0);
    } while (r < 0 && errno == EINTR);
    g_peer = -1;
    assert_int_equal(r, pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void connect_under_signals(ap_transport_t *t, ap_posix_conn_t *conn, uint16_t port)
{
    int small = T_SMALL_BUF;

    assert_int_equal(t->connect(t->ctx, "127.0.0.1", port, T_IO_TIMEOUT_MS), AP_OK);
    assert_true(conn->fd >= 0);
    /* Small buffers on our side too, so sends wait for the peer. */
    (void)setsockopt(conn->fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    (void)setsockopt(conn->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
}

/* ---- tests ------------------------------------------------------------ */

static void test_bulk_both_ways_arrives_intact(void **state)
{
    static uint8_t out[T_BULK_LEN];
    uint8_t in[3001]; /* odd, so reads do not line up with the peer's bursts */
    ap_transport_t t;
    ap_posix_conn_t conn;
    uint16_t port = 0;
    pid_t pid;
    size_t sent = 0;
    size_t got = 0;
    size_t i;
    int32_t n;
    sig_atomic_t signals_before;

    (void)state;
    for (i = 0; i < T_BULK_LEN; i++) {
        out[i] = t_pattern(i, 0x5a);
    }
    pid = peer_start(PEER_SINK_SOURCE, &port);
    ap_posix_transport_init(&t, &conn);
    timer_start();
    signals_before = g_signals;
    connect_under_signals(&t, &conn, port);

    while (sent < T_BULK_LEN) {
        n = t.send(t.ctx, out + sent, T_BULK_LEN - sent, T_IO_TIMEOUT_MS);
        if (n <= 0) {
            fail_msg("send at offset %zu returned %d (%s)", sent, (int)n, t.describe(t.ctx));
        }
        assert_true((size_t)n <= T_BULK_LEN - sent);
        sent += (size_t)n;
    }
    for (;;) {
        n = t.recv(t.ctx, in, sizeof in, T_IO_TIMEOUT_MS);
        if (n == AP_ERR_CLOSED) {
            break;
        }
        if (n <= 0) {
            fail_msg("recv at offset %zu returned %d (%s)", got, (int)n, t.describe(t.ctx));
        }
        assert_true(got + (size_t)n <= T_BULK_LEN);
        for (i = 0; i < (size_t)n; i++) {
            if (in[i] != t_pattern(got + i, 0xa5)) {
                fail_msg("byte %zu received as 0x%02x", got + i, in[i]);
            }
        }
        got += (size_t)n;
    }
    timer_stop();
    print_message("%d signals during %u bytes each way\n",
                  (int)(g_signals - signals_before), T_BULK_LEN);
    assert_true(g_signals - signals_before >= T_MIN_SIGNALS);
    assert_int_equal(got, T_BULK_LEN);
    assert_string_equal(t.describe(t.ctx), "connection closed by peer");
    t.close(t.ctx);
    /* The peer checked every byte it was sent. */
    assert_int_equal(peer_wait(pid), PEER_OK);
}

static void test_recv_timeout_holds(void **state)
{
    ap_transport_t t;
    ap_posix_conn_t conn;
    uint8_t buf[64];
    uint16_t port = 0;
    pid_t pid = peer_start(PEER_HOLD, &port);
    uint64_t t0;
    uint64_t elapsed;
    sig_atomic_t signals_before;
    int32_t n;

    (void)state;
    ap_posix_transport_init(&t, &conn);
    timer_start();
    connect_under_signals(&t, &conn, port);
    signals_before = g_signals;
    t0 = t_now_ms();
    n = t.recv(t.ctx, buf, sizeof buf, T_SHORT_TIMEOUT_MS);
    elapsed = t_now_ms() - t0;
    timer_stop();
    assert_int_equal(n, AP_ERR_TIMEOUT);
    assert_true(elapsed >= T_SHORT_TIMEOUT_MS);
    assert_true(elapsed < T_SHORT_TIMEOUT_MS + T_TIMEOUT_SLACK_MS);
    assert_true(g_signals - signals_before >= T_MIN_SIGNALS);
    assert_string_equal(t.describe(t.ctx), "receive timed out after 300 ms");
    t.close(t.ctx);
    assert_int_equal(peer_wait(pid), PEER_OK);
}

static void test_send_timeout_holds(void **state)
{
    static uint8_t junk[65536];
    ap_transport_t t;
    ap_posix_conn_t conn;
    uint16_t port = 0;
    pid_t pid = peer_start(PEER_NEVER_READ, &port);
    uint64_t t0 = 0;
    uint64_t elapsed = 0;
    sig_atomic_t signals_before = 0;
    int32_t n = 1;
    int calls;

    (void)state;
    ap_posix_transport_init(&t, &conn);
    timer_start();
    connect_under_signals(&t, &conn, port);
    /* Fill both sides' buffers; the call that finds them full must wait
     * out its whole timeout and no more. Bounded: the buffers are small. */
    for (calls = 0; calls < 10000 && n > 0; calls++) {
        signals_before = g_signals;
        t0 = t_now_ms();
        n = t.send(t.ctx, junk, sizeof junk, T_SHORT_TIMEOUT_MS);
        elapsed = t_now_ms() - t0;
    }
    timer_stop();
    assert_int_equal(n, AP_ERR_TIMEOUT);
    assert_true(elapsed >= T_SHORT_TIMEOUT_MS);
    assert_true(elapsed < T_SHORT_TIMEOUT_MS + T_TIMEOUT_SLACK_MS);
    assert_true(g_signals - signals_before >= T_MIN_SIGNALS);
    t.close(t.ctx);
    peer_stop(pid);
    assert_string_equal(t.describe(t.ctx), "send timed out after 300 ms");
}

/* A name goes through the resolver thread (the signal may land on either
 * thread) and a timed condition wait; /etc/hosts only, no DNS query. */
static void test_connect_by_name(void **state)
{
    ap_transport_t t;
    ap_posix_conn_t conn;
    uint16_t port = 0;
    pid_t pid;
    FILE *f = fopen("/etc/hosts", "r");
    char line[256];
    int listed = 0;

    (void)state;
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "127.0.0.1", 9) == 0 && strstr(line, "localhost") != NULL) {
            listed = 1;
        }
    }
    if (f != NULL) {
        (void)fclose(f);
    }
    if (!listed) {
        print_message("SKIPPED: /etc/hosts does not map localhost to 127.0.0.1; "
                      "resolving it could leave the machine\n");
        skip();
    }
    pid = peer_start(PEER_HOLD, &port);
    ap_posix_transport_init(&t, &conn);
    timer_start();
    assert_int_equal(t.connect(t.ctx, "localhost", port, T_IO_TIMEOUT_MS), AP_OK);
    timer_stop();
    assert_true(conn.fd >= 0);
    t.close(t.ctx);
    /* The peer accepted, then saw the close. */
    assert_int_equal(peer_wait(pid), PEER_OK);
}

/*
 * A connect that can neither complete nor be refused: a listener with
 * backlog 0 whose queue is full of connections nobody accepts, so further
 * SYNs are dropped. The wait must end at the deadline, not before.
 */
static void test_connect_timeout_holds(void **state)
{
    enum { FILLERS = 16 };
    ap_transport_t t;
    ap_posix_conn_t conn;
    uint16_t port = 0;
    int lfd = t_listen(0, 0, &port);
    int fillers[FILLERS];
    int n_fillers = 0;
    int stalled = 0;
    int i;
    ap_status_t st;
    uint64_t t0;
    uint64_t elapsed;
    sig_atomic_t signals_before;

    (void)state;
    while (n_fillers < FILLERS && !stalled) {
        struct sockaddr_in sa;
        struct pollfd pfd;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

        assert_true(fd >= 0);
        fillers[n_fillers++] = fd;
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa.sin_port = htons(port);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
            continue;
        }
        assert_int_equal(errno, EINPROGRESS);
        pfd.fd = fd;
        pfd.events = POLLOUT;
        pfd.revents = 0;
        if (poll(&pfd, 1, 300) == 0) {
            stalled = 1;
        }
    }
    if (!stalled) {
        for (i = 0; i < n_fillers; i++) {
            (void)close(fillers[i]);
        }
        (void)close(lfd);
        print_message("SKIPPED: this TCP stack accepted %d connections into a "
                      "backlog of 0, so no loopback connect can be made to stall\n",
                      n_fillers);
        skip();
    }

    ap_posix_transport_init(&t, &conn);
    timer_start();
    signals_before = g_signals;
    t0 = t_now_ms();
    st = t.connect(t.ctx, "127.0.0.1", port, T_SHORT_TIMEOUT_MS);
    elapsed = t_now_ms() - t0;
    timer_stop();
    for (i = 0; i < n_fillers; i++) {
        (void)close(fillers[i]);
    }
    (void)close(lfd);
    assert_int_equal(st, AP_ERR_TIMEOUT);
    assert_int_equal(conn.fd, -1);
    assert_true(elapsed >= T_SHORT_TIMEOUT_MS);
    assert_true(elapsed < T_SHORT_TIMEOUT_MS + T_TIMEOUT_SLACK_MS);
    assert_true(g_signals - signals_before >= T_MIN_SIGNALS);
    assert_non_null(strstr(t.describe(t.ctx), "timed out after 300 ms"));
}

static int teardown(void **state)
{
    (void)state;
    /* Also after a failed assertion: no timer into the next case, and no
     * peer left holding ctest's output open. */
    timer_stop();
    if (g_peer > 0) {
        peer_stop(g_peer);
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_bulk_both_ways_arrives_intact, teardown),
        cmocka_unit_test_teardown(test_recv_timeout_holds, teardown),
        cmocka_unit_test_teardown(test_send_timeout_holds, teardown),
        cmocka_unit_test_teardown(test_connect_by_name, teardown),
        cmocka_unit_test_teardown(test_connect_timeout_holds, teardown),
    };

    /* A peer that dies must not kill the test with SIGPIPE. */
    (void)signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
