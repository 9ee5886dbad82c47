/*
 * ports/lwip against a real lwIP, in one process: the transport is the
 * client, a raw-API server listens on the loopback netif (127.0.0.1, ::1),
 * and a UDP responder on port 53 plays the DNS server. The poll hook drives
 * the stack and advances a fake clock by a fixed step, so every timeout is
 * checked to the millisecond. After each test the lwIP pool and heap
 * counters must be back where they started.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "alertpost/ap_lwip.h"

#include "lwip/dns.h"
#include "lwip/init.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"

#define SRV_PORT 8443u
#define CLOSED_PORT 8444u
#define BIG_LEN (100u * 1024u)
#define DNS_PORT 53u

/* ---- the fake clock, which is lwIP's clock too ------------------------- */

/* Starts just before the 32-bit wrap: deadlines must survive it. */
static u32_t fake_now = 0xFFFF0000u;
static u32_t poll_step_ms = 1u;
static unsigned long poll_count;

u32_t sys_now(void)
{
    return fake_now;
}

/* ---- the scripted server ----------------------------------------------- */

typedef struct test_server {
    struct tcp_pcb *listen;
    struct tcp_pcb *pcb;
    int accepted;
    int got_fin;
    int got_err;
    err_t err;
    int hold;          /* keep the window shut: do not tcp_recved */
    size_t held;
    uint8_t rx[BIG_LEN + 64u];
    size_t rx_len;
    const uint8_t *tx;
    size_t tx_len;
    size_t tx_off;
} test_server_t;

static test_server_t srv;
static uint8_t big_a[BIG_LEN];
static uint8_t big_b[BIG_LEN];
static uint8_t sink[BIG_LEN];

static void srv_pump(void)
{
    while (srv.pcb != NULL && srv.tx_off < srv.tx_len) {
        size_t n = srv.tx_len - srv.tx_off;
        size_t space = tcp_sndbuf(srv.pcb);

        if (n > space) {
            n = space;
        }
        if (n > 0xFFFFu) {
            n = 0xFFFFu;
        }
        if (n == 0u || tcp_write(srv.pcb, srv.tx + srv.tx_off, (u16_t)n,
                                 TCP_WRITE_FLAG_COPY) != ERR_OK) {
            break;
        }
        srv.tx_off += n;
        tcp_output(srv.pcb);
    }
}

static void test_poll(void *ctx)
{
    (void)ctx;
    ++poll_count;
    netif_poll_all();
    sys_check_timeouts();
    srv_pump();
    fake_now += poll_step_ms;
}

static void run(unsigned n)
{
    while (n-- > 0u) {
        test_poll(NULL);
    }
}

static err_t srv_on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)err;
    if (p == NULL) {
        srv.got_fin = 1;
        return ERR_OK;
    }
    assert_true(srv.rx_len + p->tot_len <= sizeof srv.rx);
    pbuf_copy_partial(p, srv.rx + srv.rx_len, p->tot_len, 0);
    srv.rx_len += p->tot_len;
    if (srv.hold) {
        srv.held += p->tot_len;
    } else {
        tcp_recved(pcb, p->tot_len);
    }
    pbuf_free(p);
    return ERR_OK;
}

static void srv_on_err(void *arg, err_t err)
{
    (void)arg;
    srv.pcb = NULL;
    srv.got_err = 1;
    srv.err = err;
}

static void srv_detach(struct tcp_pcb *pcb);

static err_t srv_on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || pcb == NULL) {
        return ERR_VAL;
    }
    if (srv.pcb != NULL) {
        /* One connection at a time: a new one ends the old. */
        struct tcp_pcb *old = srv.pcb;

        srv_detach(old);
        if (tcp_close(old) != ERR_OK) {
            tcp_abort(old);
        }
    }
    srv.pcb = pcb;
    srv.accepted++;
    tcp_arg(pcb, &srv);
    tcp_recv(pcb, srv_on_recv);
    tcp_err(pcb, srv_on_err);
    return ERR_OK;
}

static void srv_detach(struct tcp_pcb *pcb)
{
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_err(pcb, NULL);
}

static void srv_send(const void *data, size_t len)
{
    srv.tx = (const uint8_t *)data;
    srv.tx_len = len;
    srv.tx_off = 0;
    srv_pump();
}

/* Sends FIN after whatever is queued. */
static void srv_close(void)
{
    struct tcp_pcb *pcb = srv.pcb;

    assert_non_null(pcb);
    srv.pcb = NULL;
    srv_detach(pcb);
    assert_int_equal(tcp_close(pcb), ERR_OK);
}

/* Sends RST. */
static void srv_abort(void)
{
    struct tcp_pcb *pcb = srv.pcb;

    assert_non_null(pcb);
    srv.pcb = NULL;
    srv_detach(pcb);
    tcp_abort(pcb);
}

static void srv_release(void)
{
    srv.hold = 0;
    while (srv.held > 0u && srv.pcb != NULL) {
        u16_t n = (u16_t)(srv.held > 0xFFFFu ? 0xFFFFu : srv.held);

        tcp_recved(srv.pcb, n);
        srv.held -= n;
    }
}

/* ---- the scripted DNS server -------------------------------------------- */

typedef enum { DNS_ANSWER, DNS_NXDOMAIN, DNS_SILENT } dns_mode_t;

static struct {
    struct udp_pcb *pcb;
    dns_mode_t mode;
    int queries;
    char last_name[256];
} dns_srv;

/* Reads the query's name as dotted text; returns the offset after QTYPE and
 * QCLASS, or 0 if the query is malformed. */
static size_t dns_parse_question(const uint8_t *q, size_t len, char *name,
                                 size_t name_size)
{
    size_t at = 12u;
    size_t out = 0;

    while (at < len && q[at] != 0u) {
        size_t label = q[at++];

        if (label > 63u || at + label > len || out + label + 2u > name_size) {
            return 0;
        }
        if (out > 0u) {
            name[out++] = '.';
        }
        memcpy(name + out, q + at, label);
        out += label;
        at += label;
    }
    name[out] = '\0';
    at += 1u + 4u;
    return at <= len ? at : 0u;
}

static void dns_on_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p,
                        const ip_addr_t *addr, u16_t port)
{
    uint8_t q[512];
    uint8_t r[600];
    size_t qlen;
    size_t end;
    struct pbuf *out;
    static const uint8_t answer[] = {
        0xC0, 0x0C,             /* the name: pointer to the question */
        0x00, 0x01, 0x00, 0x01, /* A, IN */
        0x00, 0x00, 0x00, 0x3C, /* TTL 60 s */
        0x00, 0x04, 127, 0, 0, 1
    };
    size_t rlen;

    (void)arg;
    qlen = pbuf_copy_partial(p, q, (u16_t)sizeof q, 0);
    pbuf_free(p);
    dns_srv.queries++;
    end = dns_parse_question(q, qlen, dns_srv.last_name, sizeof dns_srv.last_name);
    if (end == 0u || dns_srv.mode == DNS_SILENT) {
        return;
    }
    memcpy(r, q, end);
    r[2] = 0x81; /* response, recursion desired */
    r[3] = dns_srv.mode == DNS_NXDOMAIN ? 0x83 : 0x80;
    r[6] = 0;
    r[7] = dns_srv.mode == DNS_ANSWER ? 1 : 0;
    memset(r + 8, 0, 4);
    rlen = end;
    if (dns_srv.mode == DNS_ANSWER) {
        memcpy(r + rlen, answer, sizeof answer);
        rlen += sizeof answer;
    }
    out = pbuf_alloc(PBUF_TRANSPORT, (u16_t)rlen, PBUF_RAM);
    assert_non_null(out);
    pbuf_take(out, r, (u16_t)rlen);
    udp_sendto(pcb, out, addr, port);
    pbuf_free(out);
}

static void dns_srv_start(dns_mode_t mode)
{
    ip_addr_t server;

    dns_srv.mode = mode;
    dns_srv.queries = 0;
    dns_srv.last_name[0] = '\0';
    dns_srv.pcb = udp_new_ip_type(IPADDR_TYPE_ANY);
    assert_non_null(dns_srv.pcb);
    assert_int_equal(udp_bind(dns_srv.pcb, IP_ANY_TYPE, DNS_PORT), ERR_OK);
    udp_recv(dns_srv.pcb, dns_on_recv, NULL);
    IP_ADDR4(&server, 127, 0, 0, 1);
    dns_setserver(0, &server);
}

/* ---- leak accounting ---------------------------------------------------- */

static struct {
    mem_size_t mem_used;
    u16_t memp_used[MEMP_MAX];
} baseline;

static void take_baseline(void)
{
    int i;

    baseline.mem_used = lwip_stats.mem.used;
    for (i = 0; i < MEMP_MAX; ++i) {
        baseline.memp_used[i] = lwip_stats.memp[i]->used;
    }
}

static int at_baseline(void)
{
    int i;

    if (lwip_stats.mem.used != baseline.mem_used) {
        return 0;
    }
    for (i = 0; i < MEMP_MAX; ++i) {
        if (lwip_stats.memp[i]->used != baseline.memp_used[i]) {
            return 0;
        }
    }
    return 1;
}

/* ---- fixtures ----------------------------------------------------------- */

static ap_transport_t tr;
static ap_lwip_conn_t conn;

static int group_setup(void **state)
{
    (void)state;
    lwip_init();
    return 0;
}

static int setup(void **state)
{
    struct tcp_pcb *pcb;
    size_t i;

    (void)state;
    take_baseline();
    memset(&srv, 0, sizeof srv);
    for (i = 0; i < BIG_LEN; ++i) {
        big_a[i] = (uint8_t)(i * 7u + i / 251u);
        big_b[i] = (uint8_t)(i * 13u + 5u + i / 509u);
    }
    pcb = tcp_new_ip_type(IPADDR_TYPE_ANY);
    assert_non_null(pcb);
    assert_int_equal(tcp_bind(pcb, IP_ANY_TYPE, SRV_PORT), ERR_OK);
    srv.listen = tcp_listen(pcb);
    assert_non_null(srv.listen);
    tcp_accept(srv.listen, srv_on_accept);
    poll_step_ms = 1u;
    ap_lwip_transport_init(&tr, &conn, test_poll, NULL);
    return 0;
}

static int teardown(void **state)
{
    unsigned i;

    (void)state;
    tr.close(tr.ctx);
    if (srv.pcb != NULL) {
        srv_close();
    }
    tcp_close(srv.listen);
    if (dns_srv.pcb != NULL) {
        udp_remove(dns_srv.pcb);
        dns_srv.pcb = NULL;
        dns_setserver(0, NULL);
    }
    /* Closed PCBs pass through FIN_WAIT and TIME_WAIT (2 MSL) first. */
    poll_step_ms = 100u;
    for (i = 0; i < 4000u && !at_baseline(); ++i) {
        test_poll(NULL);
    }
    assert_true(at_baseline());
    return 0;
}

/* ---- helpers -------------------------------------------------------------- */

static void connect_ok(const char *host)
{
    assert_int_equal(tr.connect(tr.ctx, host, SRV_PORT, 5000u), AP_OK);
    assert_string_equal(tr.describe(tr.ctx), "");
    /* The server sees the handshake end one round later. */
    run(3);
    assert_int_equal(srv.accepted, 1);
    assert_non_null(srv.pcb);
}

/* Sends all of data, however short the writes; returns the call count and
 * the shortest write. */
static unsigned send_all(const uint8_t *data, size_t len, size_t *max_write)
{
    size_t off = 0;
    unsigned calls = 0;

    *max_write = 0;
    while (off < len) {
        int32_t n = tr.send(tr.ctx, data + off, len - off, 1000u);

        assert_true(n > 0);
        assert_true((size_t)n <= len - off);
        if ((size_t)n > *max_write) {
            *max_write = (size_t)n;
        }
        off += (size_t)n;
        ++calls;
        assert_true(calls < 100000u);
    }
    return calls;
}

static void wait_server_rx(size_t len)
{
    unsigned i;

    for (i = 0; i < 10000u && srv.rx_len < len; ++i) {
        test_poll(NULL);
    }
    assert_int_equal(srv.rx_len, len);
}

/* ---- tests ------------------------------------------------------------- */

static void test_round_trip_ipv4(void **state)
{
    uint8_t buf[64];
    int32_t n;

    (void)state;
    connect_ok("127.0.0.1");
    n = tr.send(tr.ctx, (const uint8_t *)"hello, server", 13u, 1000u);
    assert_int_equal(n, 13);
    wait_server_rx(13u);
    assert_memory_equal(srv.rx, "hello, server", 13u);

    srv_send("hello, client!", 14u);
    n = tr.recv(tr.ctx, buf, sizeof buf, 1000u);
    assert_int_equal(n, 14);
    assert_memory_equal(buf, "hello, client!", 14u);

    /* Zero-length calls move nothing and say so with 0, not an error. */
    assert_int_equal(tr.send(tr.ctx, buf, 0u, 10u), 0);
    assert_int_equal(tr.recv(tr.ctx, buf, 0u, 10u), 0);
    assert_int_equal(tr.send(tr.ctx, NULL, 5u, 10u), AP_ERR_BAD_ARG);
    assert_int_equal(tr.recv(tr.ctx, NULL, 5u, 10u), AP_ERR_BAD_ARG);
}

static void test_round_trip_ipv6(void **state)
{
    uint8_t buf[8];

    (void)state;
    connect_ok("::1");
    assert_true(IP_IS_V6(&conn.addr));
    assert_int_equal(tr.send(tr.ctx, (const uint8_t *)"v6", 2u, 1000u), 2);
    wait_server_rx(2u);
    assert_memory_equal(srv.rx, "v6", 2u);
    srv_send("six", 3u);
    assert_int_equal(tr.recv(tr.ctx, buf, sizeof buf, 1000u), 3);
    assert_memory_equal(buf, "six", 3u);
}

static void test_connect_refused(void **state)
{
    uint8_t buf[4];

    (void)state;
    assert_int_equal(tr.connect(tr.ctx, "127.0.0.1", CLOSED_PORT, 5000u),
                     AP_ERR_CONNECT);
    assert_string_equal(tr.describe(tr.ctx), "connection refused");
    assert_null(conn.pcb);
    assert_int_equal(srv.accepted, 0);
    assert_int_equal(tr.recv(tr.ctx, buf, sizeof buf, 10u), AP_ERR_IO);
    assert_string_equal(tr.describe(tr.ctx), "not connected");
    assert_int_equal(tr.send(tr.ctx, buf, sizeof buf, 10u), AP_ERR_IO);
}

static void test_connect_timeout_exact(void **state)
{
    u32_t before;

    (void)state;
    /* In the loopback net, but not this host's address: SYNs go unanswered. */
    before = sys_now();
    assert_int_equal(tr.connect(tr.ctx, "127.0.0.2", SRV_PORT, 3000u),
                     AP_ERR_TIMEOUT);
    assert_int_equal((u32_t)(sys_now() - before), 3000u);
    assert_string_equal(tr.describe(tr.ctx), "connect timed out after 3000 ms");
    assert_null(conn.pcb);
}

static void test_dns_no_server(void **state)
{
    unsigned long polls_before = poll_count;

    (void)state;
    assert_int_equal(tr.connect(tr.ctx, "nowhere.alertpost.test", SRV_PORT, 5000u),
                     AP_ERR_DNS);
    assert_int_equal(poll_count, polls_before);
    assert_string_equal(tr.describe(tr.ctx),
                        "cannot look up 'nowhere.alertpost.test': no DNS server set");
    assert_int_equal(srv.accepted, 0);
}

static void test_dns_local_hostlist(void **state)
{
    (void)state;
    connect_ok("local.alertpost.test");
}

static void test_dns_answered(void **state)
{
    (void)state;
    dns_srv_start(DNS_ANSWER);
    connect_ok("srv.alertpost.test");
    assert_int_equal(dns_srv.queries, 1);
    assert_string_equal(dns_srv.last_name, "srv.alertpost.test");
    assert_true(IP_IS_V4(&conn.addr));
    assert_int_equal(ip4_addr_get_u32(ip_2_ip4(&conn.addr)), PP_HTONL(0x7F000001ul));
}

static void test_dns_nxdomain(void **state)
{
    (void)state;
    dns_srv_start(DNS_NXDOMAIN);
    assert_int_equal(tr.connect(tr.ctx, "missing.alertpost.test", SRV_PORT, 5000u),
                     AP_ERR_DNS);
    assert_int_equal(dns_srv.queries, 1);
    assert_string_equal(tr.describe(tr.ctx),
                        "no DNS answer for 'missing.alertpost.test'");
    assert_int_equal(srv.accepted, 0);
}

static void test_dns_timeout_then_late_answer(void **state)
{
    u32_t before;

    (void)state;
    dns_srv_start(DNS_SILENT);
    before = sys_now();
    assert_int_equal(tr.connect(tr.ctx, "slow.alertpost.test", SRV_PORT, 500u),
                     AP_ERR_TIMEOUT);
    assert_int_equal((u32_t)(sys_now() - before), 500u);
    assert_string_equal(tr.describe(tr.ctx), "DNS lookup timed out after 500 ms");
    /* lwIP keeps asking, then gives up and calls back: the conn has moved
     * on by then and must not be touched. */
    poll_step_ms = 100u;
    run(600u);
    assert_true(dns_srv.queries > 1);
    assert_string_equal(tr.describe(tr.ctx), "DNS lookup timed out after 500 ms");
    assert_null(conn.pcb);
    poll_step_ms = 1u;
    dns_srv.mode = DNS_ANSWER;
    connect_ok("127.0.0.1");
}

static void test_send_larger_than_buffer(void **state)
{
    size_t max_write;
    unsigned calls;

    (void)state;
    connect_ok("127.0.0.1");
    calls = send_all(big_a, BIG_LEN, &max_write);
    /* TCP_SND_BUF is 4 MSS: one call can never take all 100 kB. */
    assert_true(calls > 1u);
    assert_true(max_write <= TCP_SND_BUF);
    wait_server_rx(BIG_LEN);
    assert_memory_equal(srv.rx, big_a, BIG_LEN);
}

static void test_recv_larger_than_window(void **state)
{
    size_t got = 0;
    unsigned calls = 0;

    (void)state;
    connect_ok("127.0.0.1");
    srv_send(big_b, BIG_LEN);
    while (got < BIG_LEN) {
        size_t want = BIG_LEN - got < 777u ? BIG_LEN - got : 777u;
        int32_t n = tr.recv(tr.ctx, sink + got, want, 1000u);

        assert_true(n > 0);
        assert_true((size_t)n <= want);
        got += (size_t)n;
        assert_true(++calls < 100000u);
    }
    assert_memory_equal(sink, big_b, BIG_LEN);
    assert_int_equal(srv.tx_off, BIG_LEN);
}

static void test_both_ways_interleaved(void **state)
{
    size_t sent = 0;
    size_t got = 0;
    unsigned rounds = 0;

    (void)state;
    connect_ok("127.0.0.1");
    srv_send(big_b, BIG_LEN);
    while (sent < BIG_LEN || got < BIG_LEN) {
        if (sent < BIG_LEN) {
            int32_t n = tr.send(tr.ctx, big_a + sent, BIG_LEN - sent, 1000u);

            assert_true(n > 0);
            sent += (size_t)n;
        }
        if (got < BIG_LEN) {
            int32_t n = tr.recv(tr.ctx, sink + got, BIG_LEN - got, 1000u);

            assert_true(n > 0);
            got += (size_t)n;
        }
        assert_true(++rounds < 100000u);
    }
    wait_server_rx(BIG_LEN);
    assert_memory_equal(srv.rx, big_a, BIG_LEN);
    assert_memory_equal(sink, big_b, BIG_LEN);
}

static void test_recv_timeout_exact(void **state)
{
    uint8_t buf[16];
    u32_t before;

    (void)state;
    connect_ok("127.0.0.1");
    before = sys_now();
    assert_int_equal(tr.recv(tr.ctx, buf, sizeof buf, 250u), AP_ERR_TIMEOUT);
    assert_int_equal((u32_t)(sys_now() - before), 250u);
    assert_string_equal(tr.describe(tr.ctx), "receive timed out after 250 ms");

    /* A zero timeout is a poll: it drives the stack once and does not wait. */
    before = sys_now();
    assert_int_equal(tr.recv(tr.ctx, buf, sizeof buf, 0u), AP_ERR_TIMEOUT);
    assert_true((u32_t)(sys_now() - before) <= poll_step_ms);

    /* A timeout does not break the stream, and a poll sees what has reached
     * the interface without a wait of its own. */
    srv_send("late", 4u);
    before = sys_now();
    assert_int_equal(tr.recv(tr.ctx, buf, sizeof buf, 0u), 4);
    assert_true((u32_t)(sys_now() - before) <= poll_step_ms);
    assert_memory_equal(buf, "late", 4u);
}

static void test_send_timeout_when_peer_stops_reading(void **state)
{
    size_t sent = 0;
    int32_t n = 1;
    unsigned calls = 0;
    u32_t before = 0;
    size_t max_write;

    (void)state;
    connect_ok("127.0.0.1");
    srv.hold = 1;
    while (n > 0) {
        before = sys_now();
        n = tr.send(tr.ctx, big_a + sent, BIG_LEN - sent, 100u);
        if (n > 0) {
            sent += (size_t)n;
        }
        assert_true(++calls < 10000u);
    }
    assert_int_equal(n, AP_ERR_TIMEOUT);
    assert_int_equal((u32_t)(sys_now() - before), 100u);
    assert_string_equal(tr.describe(tr.ctx), "send timed out after 100 ms");
    /* The peer's window and our send buffer are full, no more. */
    assert_true(sent >= TCP_SND_BUF);
    assert_true(sent <= TCP_WND + TCP_SND_BUF);

    srv_release();
    (void)send_all(big_a + sent, BIG_LEN - sent, &max_write);
    wait_server_rx(BIG_LEN);
    assert_memory_equal(srv.rx, big_a, BIG_LEN);
}

static void test_peer_close_after_data(void **state)
{
    uint8_t buf[64];
    size_t got = 0;
    int32_t n;
    unsigned calls = 0;

    (void)state;
    connect_ok("127.0.0.1");
    srv_send("last words", 10u);
    srv_close();
    /* Data first, however it is split, then the end, and the end again. */
    while ((n = tr.recv(tr.ctx, buf + got, 3u, 1000u)) > 0) {
        got += (size_t)n;
        assert_true(++calls < 100u);
    }
    assert_int_equal(n, AP_ERR_CLOSED);
    assert_int_equal(got, 10u);
    assert_memory_equal(buf, "last words", 10u);
    assert_string_equal(tr.describe(tr.ctx), "connection closed by peer");
    assert_int_equal(tr.recv(tr.ctx, buf, sizeof buf, 1000u), AP_ERR_CLOSED);

    /* The half-closed stream still carries what the client says. */
    assert_int_equal(tr.send(tr.ctx, (const uint8_t *)"ack", 3u, 1000u), 3);
}

static void test_peer_abort_after_data(void **state)
{
    uint8_t buf[64];
    unsigned i;

    (void)state;
    connect_ok("127.0.0.1");
    srv_send("partial", 7u);
    for (i = 0; i < 100u && conn.rx == NULL; ++i) {
        test_poll(NULL);
    }
    assert_non_null(conn.rx);
    srv_abort();
    run(3);
    assert_null(conn.pcb);
    /* What arrived before the reset is still handed out. */
    assert_int_equal(tr.recv(tr.ctx, buf, sizeof buf, 1000u), 7);
    assert_memory_equal(buf, "partial", 7u);
    assert_int_equal(tr.recv(tr.ctx, buf, sizeof buf, 1000u), AP_ERR_IO);
    assert_string_equal(tr.describe(tr.ctx), "connection reset by peer");
    assert_int_equal(tr.send(tr.ctx, buf, 4u, 1000u), AP_ERR_IO);
    assert_string_equal(tr.describe(tr.ctx), "connection reset by peer");
}

static void test_peer_abort_while_waiting(void **state)
{
    uint8_t buf[8];

    (void)state;
    connect_ok("127.0.0.1");
    srv_abort();
    assert_int_equal(tr.recv(tr.ctx, buf, sizeof buf, 1000u), AP_ERR_IO);
    assert_string_equal(tr.describe(tr.ctx), "connection reset by peer");
}

static void test_close_idempotent_frees_queue(void **state)
{
    ap_transport_t fresh_tr;
    ap_lwip_conn_t fresh;
    uint8_t buf[4];
    unsigned i;

    (void)state;
    /* Never connected: close does nothing, twice. */
    ap_lwip_transport_init(&fresh_tr, &fresh, test_poll, NULL);
    fresh_tr.close(fresh_tr.ctx);
    fresh_tr.close(fresh_tr.ctx);
    assert_string_equal(fresh_tr.describe(fresh_tr.ctx), "");

    connect_ok("127.0.0.1");
    srv_send(big_b, 3000u);
    for (i = 0; i < 100u && srv.tx_off < 3000u; ++i) {
        test_poll(NULL);
    }
    run(5);
    assert_non_null(conn.rx);
    /* Unread data is discarded with a reset, as sockets do; the pbufs go
     * back to lwIP (the teardown checks the counters). */
    tr.close(tr.ctx);
    assert_null(conn.pcb);
    assert_null(conn.rx);
    tr.close(tr.ctx);
    run(5);
    assert_int_equal(srv.got_err, 1);
    assert_int_equal(srv.err, ERR_RST);
    assert_int_equal(tr.recv(tr.ctx, buf, sizeof buf, 10u), AP_ERR_IO);
    assert_string_equal(tr.describe(tr.ctx), "not connected");
}

static void test_close_sends_fin(void **state)
{
    (void)state;
    connect_ok("127.0.0.1");
    tr.close(tr.ctx);
    run(5);
    assert_int_equal(srv.got_fin, 1);
    assert_int_equal(srv.got_err, 0);
}

static void test_reconnect_closes_previous(void **state)
{
    (void)state;
    connect_ok("127.0.0.1");
    assert_int_equal(tr.connect(tr.ctx, "127.0.0.1", SRV_PORT, 5000u), AP_OK);
    run(5);
    /* The first connection ended in order, the second carries data. */
    assert_int_equal(srv.got_fin, 1);
    assert_int_equal(srv.accepted, 2);
    assert_int_equal(tr.send(tr.ctx, (const uint8_t *)"again", 5u, 1000u), 5);
    wait_server_rx(5u);
    assert_memory_equal(srv.rx, "again", 5u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_ipv4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_ipv6, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_timeout_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dns_no_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dns_local_hostlist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dns_answered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dns_nxdomain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dns_timeout_then_late_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_larger_than_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_larger_than_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_both_ways_interleaved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_timeout_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_timeout_when_peer_stops_reading, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_close_after_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_abort_after_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_abort_while_waiting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_idempotent_frees_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_sends_fin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect_closes_previous, setup, teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, NULL);
}
