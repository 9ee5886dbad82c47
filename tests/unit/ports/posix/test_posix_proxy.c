/*
 * The CONNECT tunnel over the real POSIX transport, against a scripted fake
 * proxy on loopback: a thread that accepts one connection, records the
 * request head, answers with scripted bytes (whole, dripped, or not at all)
 * and, for a tunnel, records what comes through it. Each test asserts what
 * was sent, what came back through the tunnel and what describe() said.
 * Only 127.0.0.1 and ::1 are contacted; every wait is bounded.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "alertpost/ap_posix.h"
#include "alertpost/ap_posix_proxy.h"

#define T_PEER_WAIT_MS 10000
#define T_TIMEOUT_SLACK_MS 5000u /* a loaded CI machine under ASan */
#define T_CONNECT_MS 5000u

/* ---- the fake proxy ------------------------------------------------------ */

typedef struct {
    int listen_fd;
    uint16_t port;
    pthread_t thread;
    /* script */
    const uint8_t *reply;
    size_t reply_len;
    unsigned drip_ms;           /* > 0: one byte of reply at a time */
    bool answer;                /* false: read the request, say nothing */
    bool close_after_reply;     /* true: close at once, not when the client does */
    size_t tunnel_expect;       /* bytes to read through the tunnel after reply */
    /* record */
    char request[4096];
    size_t request_len;
    uint8_t tunnel[64];
    size_t tunnel_len;
} fake_proxy_t;

static uint64_t t_now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void t_sleep_ms(unsigned ms)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(ms / 1000u);
    ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int t_listen(int family, uint16_t *port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int one = 1;
    int fd = socket(family, SOCK_STREAM, 0);

    memset(&ss, 0, sizeof ss);
    if (family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

        s6->sin6_family = AF_INET6;
        s6->sin6_addr = in6addr_loopback;
        len = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

        s4->sin_family = AF_INET;
        s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *s4;
    }
    if (fd < 0) {
        return -1;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        (void)close(fd);
        return -1;
    }
    *port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                     : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* A loopback port with nothing listening: bound, then released. */
static uint16_t t_free_port(void)
{
    uint16_t port = 0;
    int fd = t_listen(AF_INET, &port);

    assert_true(fd >= 0);
    (void)close(fd);
    return port;
}

static bool wait_in(int fd, int ms)
{
    struct pollfd pfd;

    pfd.fd = fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    return poll(&pfd, 1, ms) == 1;
}

static void read_request(fake_proxy_t *fp, int fd)
{
    while (fp->request_len + 1u < sizeof fp->request &&
           strstr(fp->request, "\r\n\r\n") == NULL && wait_in(fd, T_PEER_WAIT_MS)) {
        ssize_t n = recv(fd, fp->request + fp->request_len,
                         sizeof fp->request - 1u - fp->request_len, 0);

        if (n <= 0) {
            break;
        }
        fp->request_len += (size_t)n;
        fp->request[fp->request_len] = '\0';
    }
}

static void send_reply(const fake_proxy_t *fp, int fd)
{
    size_t i;

    if (fp->drip_ms == 0) {
        (void)send(fd, fp->reply, fp->reply_len, MSG_NOSIGNAL);
        return;
    }
    for (i = 0; i < fp->reply_len; i++) {
        if (send(fd, fp->reply + i, 1, MSG_NOSIGNAL) != 1) {
            return; /* the client gave up: that is what the test looks at */
        }
        t_sleep_ms(fp->drip_ms);
    }
}

static void *fake_proxy_main(void *arg)
{
    fake_proxy_t *fp = arg;
    int fd;

    if (!wait_in(fp->listen_fd, T_PEER_WAIT_MS)) {
        return NULL;
    }
    fd = accept(fp->listen_fd, NULL, NULL);
    if (fd < 0) {
        return NULL;
    }
    read_request(fp, fd);
    if (fp->answer) {
        send_reply(fp, fd);
    }
    while (fp->tunnel_len < fp->tunnel_expect && wait_in(fd, T_PEER_WAIT_MS)) {
        ssize_t n = recv(fd, fp->tunnel + fp->tunnel_len, fp->tunnel_expect - fp->tunnel_len, 0);

        if (n <= 0) {
            break;
        }
        fp->tunnel_len += (size_t)n;
    }
    /* Hold the connection until the client closes it (or the bound passes),
     * so that what the client sees is the answer, not an early close. */
    if (!fp->close_after_reply) {
        uint8_t sink[256];

        while (wait_in(fd, T_PEER_WAIT_MS) && recv(fd, sink, sizeof sink, 0) > 0) {
        }
    }
    (void)close(fd);
    return NULL;
}

static void fake_proxy_start(fake_proxy_t *fp, const char *reply, size_t reply_len)
{
    fp->reply = (const uint8_t *)reply;
    fp->reply_len = reply_len;
    fp->request_len = 0;
    fp->request[0] = '\0';
    fp->tunnel_len = 0;
    assert_int_equal(pthread_create(&fp->thread, NULL, fake_proxy_main, fp), 0);
}

static void fake_proxy_join(fake_proxy_t *fp)
{
    assert_int_equal(pthread_join(fp->thread, NULL), 0);
}

/* ---- the client side ------------------------------------------------------ */

typedef struct {
    fake_proxy_t fp;
    ap_posix_conn_t conn;
    ap_transport_t inner;
    ap_posix_proxy_t proxy;
    ap_transport_t t;
    char proxy_name[64];
} fixture_t;

static fixture_t fx;

static void setup_family(int family, const char *host, const char *credentials)
{
    memset(&fx, 0, sizeof fx);
    fx.fp.listen_fd = t_listen(family, &fx.fp.port);
    if (fx.fp.listen_fd < 0 && family == AF_INET6) {
        skip(); /* no IPv6 loopback here */
    }
    assert_true(fx.fp.listen_fd >= 0);
    fx.fp.answer = true;
    ap_posix_transport_init(&fx.inner, &fx.conn);
    assert_int_equal(ap_posix_proxy_init(&fx.t, &fx.proxy, &fx.inner, host, fx.fp.port,
                                         credentials),
                     AP_OK);
    (void)snprintf(fx.proxy_name, sizeof fx.proxy_name,
                   family == AF_INET6 ? "proxy [%s]:%u" : "proxy %s:%u", host,
                   (unsigned)fx.fp.port);
}

static void setup(const char *credentials)
{
    setup_family(AF_INET, "127.0.0.1", credentials);
}

static void teardown(void)
{
    fx.t.close(fx.t.ctx);
    ap_posix_proxy_clear(&fx.proxy);
    if (fx.fp.listen_fd >= 0) {
        (void)close(fx.fp.listen_fd);
    }
}

static const char *describe(void)
{
    return fx.t.describe(fx.t.ctx);
}

static void assert_describe_has(const char *part)
{
    if (strstr(describe(), part) == NULL) {
        print_error("describe() is \"%s\"; expected it to contain \"%s\"\n", describe(), part);
    }
    assert_non_null(strstr(describe(), part));
}

/* Connect through a proxy that answers reply; return the status. */
static ap_status_t connect_with_reply(const char *reply, size_t reply_len)
{
    ap_status_t st;

    fake_proxy_start(&fx.fp, reply, reply_len);
    st = fx.t.connect(fx.t.ctx, "origin.test", 443, T_CONNECT_MS);
    fx.t.close(fx.t.ctx);
    fake_proxy_join(&fx.fp);
    return st;
}

#define REPLY(s) (s), sizeof(s) - 1u

/* ---- tunnels ------------------------------------------------------------ */

static void test_tunnel_keeps_bytes_after_the_head(void **state)
{
    /* The head and the first bytes of the tunnel in one write, hence one
     * segment: none of the tunnel's bytes may be lost to the head reader. */
    static const char reply[] = "HTTP/1.1 200 Connection established\r\n"
                                "Proxy-Agent: fake\r\n\r\n"
                                "\x16\x03\x03\x00\x02hi";
    uint8_t buf[64];
    size_t got = 0;

    (void)state;
    setup(NULL);
    fx.fp.tunnel_expect = 4;
    fake_proxy_start(&fx.fp, REPLY(reply));
    assert_int_equal(fx.t.connect(fx.t.ctx, "origin.test", 443, T_CONNECT_MS), AP_OK);
    while (got < 7u) {
        int32_t n = fx.t.recv(fx.t.ctx, buf + got, sizeof buf - got, 2000);

        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_int_equal(got, 7);
    assert_memory_equal(buf, "\x16\x03\x03\x00\x02hi", 7);
    assert_int_equal(fx.t.send(fx.t.ctx, (const uint8_t *)"ping", 4, 2000), 4);
    fx.t.close(fx.t.ctx);
    fake_proxy_join(&fx.fp);

    assert_string_equal(fx.fp.request,
                        "CONNECT origin.test:443 HTTP/1.1\r\nHost: origin.test:443\r\n\r\n");
    assert_int_equal(fx.fp.tunnel_len, 4);
    assert_memory_equal(fx.fp.tunnel, "ping", 4);
    teardown();
}

static void test_tunnel_end_and_failures_are_the_inner_transports(void **state)
{
    static const char reply[] = "HTTP/1.1 200 OK\r\n\r\n";
    uint8_t buf[8];

    (void)state;
    setup(NULL);
    fake_proxy_start(&fx.fp, REPLY(reply));
    assert_int_equal(fx.t.connect(fx.t.ctx, "origin.test", 443, T_CONNECT_MS), AP_OK);
    assert_string_equal(describe(), "");
    /* The fake proxy holds the tunnel until it sees our end; shut our write
     * side so it closes, and the tunnel reports the peer's close. */
    assert_int_equal(shutdown(fx.conn.fd, SHUT_WR), 0);
    assert_int_equal(fx.t.recv(fx.t.ctx, buf, sizeof buf, T_PEER_WAIT_MS), AP_ERR_CLOSED);
    assert_describe_has("connection closed by peer");
    fake_proxy_join(&fx.fp);
    teardown();
}

static void test_tunnel_sends_basic_credentials(void **state)
{
    static const struct {
        const char *credentials;
        const char *encoded;
    } cases[] = {
        { "Aladdin:open sesame", "QWxhZGRpbjpvcGVuIHNlc2FtZQ==" }, /* RFC 7617 */
        { "a:b", "YTpi" },
        { "abcd:", "YWJjZDo=" },
        { "abc:", "YWJjOg==" },
        { "user:p@ss:w\xc3\xa9", "dXNlcjpwQHNzOnfDqQ==" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[256];

        setup(cases[i].credentials);
        assert_int_equal(connect_with_reply(REPLY("HTTP/1.1 200 OK\r\n\r\n")), AP_OK);
        (void)snprintf(want, sizeof want,
                       "CONNECT origin.test:443 HTTP/1.1\r\nHost: origin.test:443\r\n"
                       "Proxy-Authorization: Basic %s\r\n\r\n",
                       cases[i].encoded);
        assert_string_equal(fx.fp.request, want);
        teardown();
    }
}

static void test_ipv6_target_is_bracketed(void **state)
{
    (void)state;
    setup(NULL);
    fake_proxy_start(&fx.fp, REPLY("HTTP/1.1 200 OK\r\n\r\n"));
    assert_int_equal(fx.t.connect(fx.t.ctx, "::1", 8443, T_CONNECT_MS), AP_OK);
    fx.t.close(fx.t.ctx);
    fake_proxy_join(&fx.fp);
    assert_string_equal(fx.fp.request, "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n");
    teardown();
}

static void test_proxy_on_ipv6_loopback(void **state)
{
    (void)state;
    setup_family(AF_INET6, "::1", NULL);
    assert_int_equal(connect_with_reply(REPLY("HTTP/1.1 403 Forbidden\r\n\r\n")),
                     AP_ERR_CONNECT);
    assert_describe_has(fx.proxy_name);
    assert_int_equal(connect_with_reply(REPLY("HTTP/1.1 200 OK\r\n\r\n")), AP_OK);
    assert_string_equal(fx.fp.request,
                        "CONNECT origin.test:443 HTTP/1.1\r\nHost: origin.test:443\r\n\r\n");
    teardown();
}

static void test_split_head_bare_lf_and_http10(void **state)
{
    (void)state;
    setup(NULL);
    fx.fp.drip_ms = 5;
    assert_int_equal(connect_with_reply(REPLY("HTTP/1.0 200 Connection established\n"
                                              "Proxy-agent: x\n\n")),
                     AP_OK);
    teardown();
}

static void test_reconnect_after_a_refusal(void **state)
{
    (void)state;
    setup(NULL);
    assert_int_equal(connect_with_reply(REPLY("HTTP/1.1 403 Forbidden\r\n\r\n")),
                     AP_ERR_CONNECT);
    assert_int_equal(connect_with_reply(REPLY("HTTP/1.1 204 No Content\r\n\r\n")), AP_OK);
    assert_string_equal(describe(), "");
    teardown();
}

/* ---- refusals ------------------------------------------------------------ */

static void test_403_refused_the_tunnel(void **state)
{
    (void)state;
    setup(NULL);
    assert_int_equal(connect_with_reply(REPLY("HTTP/1.1 403 Access violation\r\n"
                                              "Content-Length: 0\r\n\r\n")),
                     AP_ERR_CONNECT);
    assert_describe_has(fx.proxy_name);
    assert_describe_has("refused the tunnel to origin.test:443 (403 Forbidden)");
    teardown();
}

static void test_407_asks_for_credentials(void **state)
{
    (void)state;
    setup(NULL);
    assert_int_equal(connect_with_reply(REPLY("HTTP/1.1 407 Proxy Authentication Required\r\n"
                                              "Proxy-Authenticate: Basic realm=\"p\"\r\n\r\n")),
                     AP_ERR_CONNECT);
    assert_describe_has(fx.proxy_name);
    assert_describe_has("requires authentication (407); use --proxy-user");
    assert_int_equal(connect_with_reply(REPLY("HTTP/1.1 401 Unauthorized\r\n\r\n")),
                     AP_ERR_CONNECT);
    assert_describe_has("requires authentication (401); use --proxy-user");
    teardown();
}

static void test_407_rejects_credentials_without_showing_them(void **state)
{
    (void)state;
    setup("alice:hunter2");
    assert_int_equal(connect_with_reply(REPLY("HTTP/1.1 407 Proxy Authentication Required\r\n"
                                              "\r\n")),
                     AP_ERR_CONNECT);
    assert_describe_has("rejected the credentials (407); check --proxy-user");
    assert_null(strstr(describe(), "hunter2"));
    assert_null(strstr(describe(), "alice"));
    assert_null(strstr(describe(), "YWxpY2U6aHVudGVyMg=="));
    /* tinyproxy says 401 to wrong credentials. */
    assert_int_equal(connect_with_reply(REPLY("HTTP/1.0 401 Unauthorized\r\n\r\n")),
                     AP_ERR_CONNECT);
    assert_describe_has("rejected the credentials (401); check --proxy-user");
    teardown();
}

static void test_other_statuses_are_named(void **state)
{
    (void)state;
    setup(NULL);
    assert_int_equal(connect_with_reply(REPLY("HTTP/1.1 502 Bad Gateway\r\n\r\n")),
                     AP_ERR_CONNECT);
    assert_describe_has("could not open the tunnel to origin.test:443 (502 Bad Gateway)");
    assert_int_equal(connect_with_reply(REPLY("HTTP/1.1 301 Moved\x01 Permanently\r\n\r\n")),
                     AP_ERR_CONNECT);
    /* A control byte in the reason is not HTTP. */
    assert_describe_has("not HTTP");
    assert_int_equal(connect_with_reply(REPLY("HTTP/1.1 301 Moved Permanently\r\n\r\n")),
                     AP_ERR_CONNECT);
    assert_describe_has("answered the CONNECT to origin.test:443 with 301 Moved Permanently; "
                        "a tunnel needs 2xx");
    assert_int_equal(connect_with_reply(REPLY("HTTP/1.1 100\r\n\r\n")), AP_ERR_CONNECT);
    assert_describe_has("with 100; a tunnel needs 2xx");
    teardown();
}

static void test_garbage_is_not_http(void **state)
{
    static const struct {
        const char *bytes;
        size_t len;
    } garbage[] = {
        { REPLY("SSH-2.0-OpenSSH_9.2\r\n") },
        { REPLY("\x15\x03\x01\x00\x02\x02\x28") },  /* a TLS alert */
        { REPLY("http/1.1 200 OK\r\n\r\n") },
        { REPLY("HTTP/2 200\r\n\r\n") },
        { REPLY("HTTP/1.1 2x0 OK\r\n\r\n") },
        { REPLY("HTTP/1.1 200OK\r\n\r\n") },
        { REPLY("HTTP/1.1 20\r\n\r\n") },
        { REPLY("HTTP/1.1 200 OK\r\nX: a\x01" "b\r\n\r\n") },
        { REPLY("HTTP/1.1 200 OK\rX\r\n\r\n") },
        { REPLY("HTTP/1.1 200 OK\r\n\0\r\n\r\n") },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        setup(NULL);
        assert_int_equal(connect_with_reply(garbage[i].bytes, garbage[i].len), AP_ERR_CONNECT);
        assert_describe_has(fx.proxy_name);
        assert_describe_has("something that is not HTTP");
        teardown();
    }
}

static void test_head_longer_than_the_bound(void **state)
{
    static char reply[AP_POSIX_PROXY_HEAD_MAX + 64u];
    size_t len;

    (void)state;
    len = (size_t)snprintf(reply, sizeof reply, "HTTP/1.1 200 OK\r\n");
    while (len + 16u < sizeof reply) {
        memcpy(reply + len, "X-Pad: aaaaaaa\r\n", 16);
        len += 16u;
    }
    setup(NULL);
    assert_int_equal(connect_with_reply(reply, len), AP_ERR_CONNECT);
    assert_describe_has("longer than 8192 bytes");

    /* One byte under the bound is still a head. */
    len = AP_POSIX_PROXY_HEAD_MAX - 4u;
    memset(reply, 0, sizeof reply);
    len = (size_t)snprintf(reply, sizeof reply, "HTTP/1.1 200 OK\r\nX: ");
    memset(reply + len, 'a', AP_POSIX_PROXY_HEAD_MAX - len - 4u);
    memcpy(reply + AP_POSIX_PROXY_HEAD_MAX - 4u, "\r\n\r\n", 4);
    assert_int_equal(connect_with_reply(reply, AP_POSIX_PROXY_HEAD_MAX), AP_OK);
    teardown();
}

static void test_proxy_closes_before_or_while_answering(void **state)
{
    (void)state;
    setup(NULL);
    fx.fp.close_after_reply = true;
    assert_int_equal(connect_with_reply("", 0), AP_ERR_CONNECT);
    assert_describe_has("closed the connection without answering the CONNECT");
    assert_int_equal(connect_with_reply(REPLY("HTTP/1.1 200 OK\r\n")), AP_ERR_CONNECT);
    assert_describe_has("closed the connection in the middle of its answer");
    teardown();
}

static void test_proxy_down(void **state)
{
    ap_posix_conn_t conn;
    ap_transport_t inner;
    ap_posix_proxy_t proxy;
    ap_transport_t t;
    uint16_t port = t_free_port();
    char want[96];

    (void)state;
    ap_posix_transport_init(&inner, &conn);
    assert_int_equal(ap_posix_proxy_init(&t, &proxy, &inner, "127.0.0.1", port, NULL), AP_OK);
    assert_int_equal(t.connect(t.ctx, "origin.test", 443, T_CONNECT_MS), AP_ERR_CONNECT);
    (void)snprintf(want, sizeof want, "cannot reach proxy 127.0.0.1:%u: connection refused",
                   (unsigned)port);
    assert_non_null(strstr(t.describe(t.ctx), want));
    t.close(t.ctx);
    /* What the core reads after close() is still the cause. */
    assert_non_null(strstr(t.describe(t.ctx), want));
    ap_posix_proxy_clear(&proxy);
}

/* ---- time bounds --------------------------------------------------------- */

static void test_silent_proxy_times_out(void **state)
{
    uint64_t t0;
    uint64_t took;

    (void)state;
    setup(NULL);
    fx.fp.answer = false;
    fake_proxy_start(&fx.fp, NULL, 0);
    t0 = t_now_ms();
    assert_int_equal(fx.t.connect(fx.t.ctx, "origin.test", 443, 300), AP_ERR_TIMEOUT);
    took = t_now_ms() - t0;
    assert_describe_has("did not answer the CONNECT within 300 ms");
    fx.t.close(fx.t.ctx);
    fake_proxy_join(&fx.fp);
    assert_true(took >= 290u);
    assert_true(took < 300u + T_TIMEOUT_SLACK_MS);
    /* The request went out in full before the wait. */
    assert_string_equal(fx.fp.request,
                        "CONNECT origin.test:443 HTTP/1.1\r\nHost: origin.test:443\r\n\r\n");
    teardown();
}

static void test_dripping_proxy_bounded_by_connect_timeout(void **state)
{
    /* Each byte arrives well within the timeout; the whole head never does.
     * A per-read timeout would wait for ever; the shared deadline ends it. */
    static char reply[400];
    uint64_t t0;
    uint64_t took;
    ap_status_t st;

    (void)state;
    memset(reply, 'a', sizeof reply);
    memcpy(reply, "HTTP/1.1 200 OK\r\nX: ", 20);
    setup(NULL);
    fx.fp.drip_ms = 20;
    fake_proxy_start(&fx.fp, reply, sizeof reply);
    t0 = t_now_ms();
    st = fx.t.connect(fx.t.ctx, "origin.test", 443, 500);
    took = t_now_ms() - t0;
    fx.t.close(fx.t.ctx);
    fake_proxy_join(&fx.fp);
    assert_int_equal(st, AP_ERR_TIMEOUT);
    assert_describe_has("did not answer the CONNECT within 500 ms");
    assert_true(took >= 490u);
    assert_true(took < 500u + T_TIMEOUT_SLACK_MS);
    teardown();
}

/* ---- arguments ----------------------------------------------------------- */

static void test_io_before_a_tunnel_fails(void **state)
{
    uint8_t buf[4];

    (void)state;
    setup(NULL);
    assert_int_equal(fx.t.send(fx.t.ctx, (const uint8_t *)"x", 1, 100), AP_ERR_IO);
    assert_describe_has("before the tunnel");
    assert_int_equal(fx.t.recv(fx.t.ctx, buf, sizeof buf, 100), AP_ERR_IO);
    assert_int_equal(connect_with_reply(REPLY("HTTP/1.1 403 Forbidden\r\n\r\n")),
                     AP_ERR_CONNECT);
    assert_int_equal(fx.t.recv(fx.t.ctx, buf, sizeof buf, 100), AP_ERR_IO);
    fx.t.close(fx.t.ctx);
    fx.t.close(fx.t.ctx);
    teardown();
}

static void test_bad_targets_send_nothing(void **state)
{
    static const char *const targets[] = { "", "origin.test\r\nX-Evil: 1", "a b", "a@b",
                                           "a/b" };
    char longest[AP_POSIX_PROXY_HOST_SIZE + 1u];
    size_t i;

    (void)state;
    setup(NULL);
    for (i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        assert_int_equal(fx.t.connect(fx.t.ctx, targets[i], 443, 200), AP_ERR_BAD_ARG);
        assert_describe_has("no valid host to ask");
    }
    assert_int_equal(fx.t.connect(fx.t.ctx, NULL, 443, 200), AP_ERR_BAD_ARG);
    assert_int_equal(fx.t.connect(fx.t.ctx, "origin.test", 0, 200), AP_ERR_BAD_ARG);
    memset(longest, 'a', sizeof longest - 1u);
    longest[sizeof longest - 1u] = '\0';
    assert_int_equal(fx.t.connect(fx.t.ctx, longest, 443, 200), AP_ERR_BAD_ARG);
    /* Nothing reached the proxy: no connection is waiting to be accepted. */
    assert_false(wait_in(fx.fp.listen_fd, 0));
    teardown();
}

static void test_init_refusals(void **state)
{
    ap_posix_conn_t conn;
    ap_transport_t inner;
    ap_transport_t broken;
    ap_posix_proxy_t proxy;
    ap_transport_t t;
    char long_host[AP_POSIX_PROXY_HOST_SIZE + 1u];
    char long_cred[AP_POSIX_PROXY_CREDENTIALS_SIZE + 1u];
    size_t i;

    (void)state;
    ap_posix_transport_init(&inner, &conn);
    broken = inner;
    broken.recv = NULL;
    memset(long_host, 'h', sizeof long_host - 1u);
    long_host[sizeof long_host - 1u] = '\0';
    memset(long_cred, 'c', sizeof long_cred - 1u);
    long_cred[1] = ':';
    long_cred[sizeof long_cred - 1u] = '\0';

    assert_int_equal(ap_posix_proxy_init(NULL, &proxy, &inner, "p", 1, NULL), AP_ERR_BAD_ARG);
    assert_int_equal(ap_posix_proxy_init(&t, NULL, &inner, "p", 1, NULL), AP_ERR_BAD_ARG);
    assert_int_equal(ap_posix_proxy_init(&t, &proxy, NULL, "p", 1, NULL), AP_ERR_BAD_ARG);
    assert_int_equal(ap_posix_proxy_init(&t, &proxy, &broken, "p", 1, NULL), AP_ERR_BAD_ARG);
    assert_int_equal(ap_posix_proxy_init(&t, &proxy, &inner, NULL, 1, NULL), AP_ERR_BAD_ARG);
    assert_int_equal(ap_posix_proxy_init(&t, &proxy, &inner, "", 1, NULL), AP_ERR_BAD_ARG);
    assert_int_equal(ap_posix_proxy_init(&t, &proxy, &inner, "p", 0, NULL), AP_ERR_BAD_ARG);
    assert_int_equal(ap_posix_proxy_init(&t, &proxy, &inner, long_host, 1, NULL),
                     AP_ERR_NO_SPACE);
    assert_int_equal(ap_posix_proxy_init(&t, &proxy, &inner, "p", 1, "nocolon"),
                     AP_ERR_BAD_ARG);
    assert_int_equal(ap_posix_proxy_init(&t, &proxy, &inner, "p", 1, ":pass"), AP_ERR_BAD_ARG);
    assert_int_equal(ap_posix_proxy_init(&t, &proxy, &inner, "p", 1, "u:p\r\nX: y"),
                     AP_ERR_BAD_ARG);
    assert_int_equal(ap_posix_proxy_init(&t, &proxy, &inner, "p", 1, long_cred),
                     AP_ERR_NO_SPACE);
    long_cred[AP_POSIX_PROXY_CREDENTIALS_SIZE - 1u] = '\0';
    assert_int_equal(ap_posix_proxy_init(&t, &proxy, &inner, "p", 1, long_cred), AP_OK);
    assert_int_equal(strlen(proxy.auth), AP_POSIX_PROXY_AUTH_SIZE - 1u);

    /* clear() leaves nothing of the credentials behind. */
    ap_posix_proxy_clear(&proxy);
    for (i = 0; i < sizeof proxy.auth; i++) {
        assert_int_equal(proxy.auth[i], 0);
    }
    ap_posix_proxy_clear(&proxy);
    ap_posix_proxy_clear(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tunnel_keeps_bytes_after_the_head),
        cmocka_unit_test(test_tunnel_end_and_failures_are_the_inner_transports),
        cmocka_unit_test(test_tunnel_sends_basic_credentials),
        cmocka_unit_test(test_ipv6_target_is_bracketed),
        cmocka_unit_test(test_proxy_on_ipv6_loopback),
        cmocka_unit_test(test_split_head_bare_lf_and_http10),
        cmocka_unit_test(test_reconnect_after_a_refusal),
        cmocka_unit_test(test_403_refused_the_tunnel),
        cmocka_unit_test(test_407_asks_for_credentials),
        cmocka_unit_test(test_407_rejects_credentials_without_showing_them),
        cmocka_unit_test(test_other_statuses_are_named),
        cmocka_unit_test(test_garbage_is_not_http),
        cmocka_unit_test(test_head_longer_than_the_bound),
        cmocka_unit_test(test_proxy_closes_before_or_while_answering),
        cmocka_unit_test(test_proxy_down),
        cmocka_unit_test(test_silent_proxy_times_out),
        cmocka_unit_test(test_dripping_proxy_bounded_by_connect_timeout),
        cmocka_unit_test(test_io_before_a_tunnel_fails),
        cmocka_unit_test(test_bad_targets_send_nothing),
        cmocka_unit_test(test_init_refusals),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
