/*
 * Saved sessions (ap_session.h) against a real Mbed TLS server serving two
 * connections with one set of ticket keys (tls_test_harness.c): a first
 * client posts and saves its session, a second, new client loads it and
 * posts. The server says whether it accepted the ticket; the second client
 * says so in info.resumed.
 *
 * Asserted: the round trip resumes (TLS 1.2 and, where built, 1.3); a blob
 * loaded under another suffix list resumes when its server was listed by
 * name, and is refused when it matched by a wildcard (a wildcard session
 * resumes under the same list); a blob
 * loaded under other anchors, pins, TLS range, identity or host is refused with
 * AP_ERR_SESSION_FOREIGN and the handshake is a full one; another port is
 * refused too; damaged, truncated and other-build blobs are
 * AP_ERR_SESSION_CORRUPT; a blob past its ticket's lifetime (300 s here) or
 * read without a wall clock is AP_ERR_SESSION_EXPIRED, and a TLS 1.2
 * session ID is offered for AP_SESSION_ID_LIFETIME_S; a running client
 * stops offering a session past its lifetime; a resumed handshake still
 * holds the version range.
 *
 * usage: test_tls_session_store_mbedtlsN PKI_DIR
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alertpost/alertpost.h"
#include "alertpost/ap_crc32.h"
#include "alertpost/ap_session.h"

#include "tls_test_harness.h"

#include "mbedtls/pk.h"
#include "mbedtls/sha256.h"
#include "mbedtls/version.h"
#include "mbedtls/ssl.h" /* its configuration: is TLS 1.3 built? */
#include "mbedtls/x509_crt.h"

/* The harness server's ticket lifetime (mbedtls_ssl_ticket_setup). */
#define TICKET_LIFETIME_S 300

/* The clients' wall clock: the real one, moved by the test. */
static int64_t g_clock_offset;
static int g_clock_unknown;

static int64_t test_wall_time(void *ctx)
{
    (void)ctx;
    return g_clock_unknown ? AP_WALL_TIME_UNKNOWN : (int64_t)time(NULL) + g_clock_offset;
}

/* How the second client differs from the first. */
typedef struct variant {
    const char *host;           /* URL host; NULL: localhost */
    int port_delta;             /* added to the server's port (then no post) */
    bool other_anchors;         /* root.pem and other-root.pem */
    bool pinned;                /* the server's SPKI pin */
    ap_tls_version_t tls_min, tls_max; /* 0: as the first client */
    int64_t clock_offset;
    bool clock_unknown;         /* then no post (nothing could verify) */
    int damage;                 /* 1 flip a byte, 2 cut the last, 3 Mbed TLS part,
                                 * 4 start time, 5 lifetime (CRC made anew) */
    bool session_ids;           /* the server resumes by session ID, no tickets */
    bool identity;              /* the device's certificate and key (unasked for) */
    const char *chain;          /* the server's chain; NULL: ecdsa-chain.pem */
    bool first_host_too;        /* the first client's URL has host as well */
    const char *suffixes;       /* the second client's public suffix list; NULL: none */
} variant_t;

typedef struct outcome {
    ap_status_t load;
    ap_status_t post;           /* AP_OK when no post was made */
    bool resumed;               /* the second client's info.resumed */
    tls_test_seen_t seen;
    char error[AP_ERROR_TEXT_SIZE];
} outcome_t;

static uint8_t g_anchors[16384];
static ap_spki_pin_t g_pin;
static ap_identity_t g_device;
static unsigned char *g_device_bytes[2]; /* its certificate and key, freed at the end */

static void config_client(tls_test_client_t *cl, uint16_t port, ap_tls_version_t max)
{
    memset(cl, 0, sizeof *cl);
    tls_test_client_config(cl, port);
    cl->cfg.keep_alive = false;
    cl->cfg.tls_max = max;
    cl->platform.wall_time = test_wall_time;
}

static void post_ok(tls_test_client_t *cl)
{
    ap_request_t req;
    ap_response_t resp;

    memset(&req, 0, sizeof req);
    memset(&resp, 0, sizeof resp);
    if (ap_post(&cl->c, &req, &resp) != AP_OK) {
        print_message("post: %s\n", ap_client_error(&cl->c));
        fail();
    }
}

/* The first client: one post, its session saved into blob. */
static size_t first_client(uint16_t port, ap_tls_version_t max, const variant_t *v,
                           uint8_t *blob, size_t size)
{
    tls_test_client_t cl;
    size_t len = 0;

    config_client(&cl, port, max);
    if (v->first_host_too) {
        (void)snprintf(cl.url, sizeof cl.url, "https://%s:%u/glue", v->host, (unsigned)port);
    }
    assert_int_equal(ap_client_init(&cl.c, &cl.cfg), AP_OK);
    post_ok(&cl);
    assert_false(ap_client_info(&cl.c)->resumed);
    assert_int_equal(ap_client_session_save(&cl.c, blob, size, &len), AP_OK);
    assert_true(len > 0 && len <= size);
    tls_test_client_done(&cl);
    return len;
}

/* A blob whose frame stays intact: its CRC-32 made anew. */
static void fix_crc(uint8_t *blob, size_t len)
{
    uint32_t crc = ap_crc32(0, blob, len - 4);

    blob[len - 4] = (uint8_t)(crc >> 24);
    blob[len - 3] = (uint8_t)(crc >> 16);
    blob[len - 2] = (uint8_t)(crc >> 8);
    blob[len - 1] = (uint8_t)crc;
}

static void damage(uint8_t *blob, size_t *len, int how)
{
    /* "APS\1", the host's length and "localhost", port, range, digests */
    const size_t start_at = 4 + 1 + 9 + 2 + 4 + 96;
    const size_t session_at = start_at + 8 + 4 + 2;

    if (how == 1) {
        blob[40] ^= 0x01;                 /* inside the anchors' digest */
    } else if (how == 2) {
        *len -= 1;
    } else if (how == 3) {
        blob[session_at] ^= 0x40;         /* Mbed TLS's version header */
        fix_crc(blob, *len);
    } else if (how == 4) {
        blob[start_at] = 0x80;            /* a start time far before 1970 */
        fix_crc(blob, *len);
    } else if (how == 5) {
        blob[start_at + 8] = 0xFF;        /* a lifetime of over 136 years */
        fix_crc(blob, *len);
    }
}

static void apply(tls_test_client_t *cl, const variant_t *v, uint16_t port)
{
    if (v->host != NULL || v->port_delta != 0) {
        (void)snprintf(cl->url, sizeof cl->url, "https://%s:%u/glue",
                       v->host != NULL ? v->host : "localhost",
                       (unsigned)(port + v->port_delta));
    }
    if (v->other_anchors) {
        cl->cfg.ca_pem = g_anchors;
        cl->cfg.ca_pem_len = strlen((const char *)g_anchors) + 1;
    }
    if (v->identity) {
        cl->cfg.identity = &g_device;
    }
    if (v->suffixes != NULL) {
        cl->cfg.public_suffixes = v->suffixes;
        cl->cfg.public_suffixes_len = strlen(v->suffixes);
    }
    if (v->pinned) {
        cl->cfg.pins = &g_pin;
        cl->cfg.pin_count = 1;
    }
    if (v->tls_min != 0) {
        cl->cfg.tls_min = v->tls_min;
    }
    if (v->tls_max != 0) {
        cl->cfg.tls_max = v->tls_max;
    }
    g_clock_offset = v->clock_offset;
    g_clock_unknown = v->clock_unknown;
}

/* A plain client posts the second connection the server waits for. */
static void second_connection_plain(uint16_t port, ap_tls_version_t max)
{
    tls_test_client_t cl;

    config_client(&cl, port, max);
    assert_int_equal(ap_client_init(&cl.c, &cl.cfg), AP_OK);
    post_ok(&cl);
    tls_test_client_done(&cl);
}

static void run(uint16_t version, const variant_t *v, outcome_t *out)
{
    tls_test_server_opts_t o;
    tls_test_server_t s;
    tls_test_client_t cl;
    uint8_t blob[AP_SESSION_BLOB_SIZE];
    size_t len;
    size_t none = 1;
    bool posts = v->port_delta == 0 && !v->clock_unknown;
    ap_request_t req;
    ap_response_t resp;

    memset(&o, 0, sizeof o);
    memset(out, 0, sizeof *out);
    o.max_version = version;
    o.connections = 2;
    o.chain = v->chain;
    g_clock_offset = 0;
    g_clock_unknown = 0;
    if (v->session_ids) {
        tls_test_server_session_ids();
    }
    tls_test_server_start(&s, &o);
    len = first_client(s.port, (ap_tls_version_t)version, v, blob, sizeof blob);
    damage(blob, &len, v->damage);

    config_client(&cl, s.port, (ap_tls_version_t)version);
    apply(&cl, v, s.port);
    assert_int_equal(ap_client_init(&cl.c, &cl.cfg), AP_OK);
    out->load = ap_client_session_load(&cl.c, blob, len);
    (void)snprintf(out->error, sizeof out->error, "%s", ap_client_error(&cl.c));
    if (out->load != AP_OK) { /* a refused blob leaves no session behind */
        assert_int_equal(ap_client_session_save(&cl.c, NULL, 0, &none), AP_ERR_SESSION_NONE);
        assert_int_equal(none, 0);
    }
    if (posts) {
        memset(&req, 0, sizeof req);
        memset(&resp, 0, sizeof resp);
        out->post = ap_post(&cl.c, &req, &resp);
        out->resumed = ap_client_info(&cl.c)->resumed;
    }
    tls_test_client_done(&cl);
    g_clock_offset = 0;
    g_clock_unknown = 0;
    if (!posts) {
        second_connection_plain(s.port, (ap_tls_version_t)version);
    }
    tls_test_server_finish(&s, &out->seen);
    assert_int_equal(out->seen.conn[0].handshake, 0);
}

/* The second connection ran a full handshake and delivered. */
static void expect_full(const outcome_t *out)
{
    assert_int_equal(out->post, AP_OK);
    assert_false(out->resumed);
    assert_int_equal(out->seen.conn[1].handshake, 0);
    assert_int_equal(out->seen.conn[1].resumed, 0);
    assert_int_equal(out->seen.conn[1].posted, 1);
}

static void expect_refused(const variant_t *v, ap_status_t status, const char *why)
{
    outcome_t out;

    run(AP_TLS_1_2, v, &out);
    assert_int_equal(out.load, status);
    if (strstr(out.error, why) == NULL) {
        print_message("error text: %s\n", out.error);
        fail();
    }
    expect_full(&out);
}

static void expect_resumed(uint16_t version, const variant_t *v)
{
    outcome_t out;

    run(version, v, &out);
    assert_int_equal(out.load, AP_OK);
    assert_int_equal(out.post, AP_OK);
    assert_true(out.resumed);                  /* the new client resumed ... */
    assert_int_equal(out.seen.conn[1].resumed, 1); /* ... and the server agrees */
    assert_int_equal(out.seen.conn[1].posted, 1);
}

static void expect_round_trip(uint16_t version)
{
    variant_t v;

    memset(&v, 0, sizeof v);
    expect_resumed(version, &v);
}

static void test_tls12_saved_session_resumes_in_new_client(void **state)
{
    (void)state;
    expect_round_trip(AP_TLS_1_2);
}

#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
static void test_tls13_saved_session_resumes_in_new_client(void **state)
{
    (void)state;
    expect_round_trip(AP_TLS_1_3);
}

/* A client of range [1.3, 1.3] that saved its ticket; the server's second
 * connection offers at most 1.2: the ticket changes nothing, a new client
 * that loaded it is refused for the version and nothing is posted. */
static uint8_t g_blob[AP_SESSION_BLOB_SIZE]; /* the saved ticket */
static size_t g_blob_len;

static ap_status_t post_with_ticket(uint16_t port, const uint8_t *blob, size_t len,
                                    bool *resumed)
{
    tls_test_client_t cl;
    ap_request_t req;
    ap_response_t resp;
    ap_status_t st;

    config_client(&cl, port, AP_TLS_1_3);
    cl.cfg.tls_min = AP_TLS_1_3;
    assert_int_equal(ap_client_init(&cl.c, &cl.cfg), AP_OK);
    if (blob != NULL) {
        assert_int_equal(ap_client_session_load(&cl.c, blob, len), AP_OK);
    }
    memset(&req, 0, sizeof req);
    memset(&resp, 0, sizeof resp);
    st = ap_post(&cl.c, &req, &resp);
    *resumed = ap_client_info(&cl.c)->resumed;
    if (blob == NULL) {
        assert_int_equal(ap_client_session_save(&cl.c, g_blob,
                                                sizeof g_blob, &g_blob_len), AP_OK);
    }
    tls_test_client_done(&cl);
    return st;
}

static void test_resumed_handshake_keeps_the_floor(void **state)
{
    tls_test_server_opts_t o;
    tls_test_server_t s;
    tls_test_seen_t seen;
    bool resumed = true;

    (void)state;
    memset(&o, 0, sizeof o);
    o.max_version = AP_TLS_1_3;
    o.connections = 2;
    tls_test_server_lower_second(AP_TLS_1_2);
    g_clock_offset = 0;
    tls_test_server_start(&s, &o);
    assert_int_equal(post_with_ticket(s.port, NULL, 0, &resumed), AP_OK);
    assert_int_equal(post_with_ticket(s.port, g_blob, g_blob_len, &resumed), AP_ERR_TLS_VERSION);
    assert_false(resumed);
    tls_test_server_finish(&s, &seen);
    assert_int_not_equal(seen.conn[1].handshake, 0);
    assert_int_equal(seen.conn[1].posted, 0);
}

static void test_other_tls_range_is_refused(void **state)
{
    variant_t v;

    (void)state;
    memset(&v, 0, sizeof v);
    v.tls_max = AP_TLS_1_3; /* the blob was saved under [1.2, 1.2] */
    expect_refused(&v, AP_ERR_SESSION_FOREIGN, "another TLS version range");
}
#endif

static void test_other_anchors_are_refused(void **state)
{
    variant_t v;

    (void)state;
    memset(&v, 0, sizeof v);
    v.other_anchors = true; /* they still verify the server */
    expect_refused(&v, AP_ERR_SESSION_FOREIGN, "other trust anchors");
}

/* A list that names neither localhost's nor alerts.test's parent. */
static const char k_other_suffixes[] = "// ===BEGIN PRIVATE DOMAINS===\nother.test\n";

/* The server is listed by name: the suffix list took no part in its
 * verification, so a session survives a new list. */
static void test_new_suffix_list_keeps_exact_session(void **state)
{
    variant_t v;

    (void)state;
    memset(&v, 0, sizeof v);
    v.suffixes = k_other_suffixes;
    expect_resumed(AP_TLS_1_2, &v);
}

/* Both clients reach the server as pump.alerts.test, which its leaf names
 * only by *.alerts.test: the suffix list decides that match. */
static void wildcard_variant(variant_t *v)
{
    memset(v, 0, sizeof *v);
    v->chain = "wild-suffix-chain.pem";
    v->host = "pump.alerts.test";
    v->first_host_too = true;
}

/* A wildcard session made without a list resumes only without one ... */
static void test_wildcard_session_resumes_under_same_list(void **state)
{
    variant_t v;

    (void)state;
    wildcard_variant(&v);
    expect_resumed(AP_TLS_1_2, &v);
}

/* ... and is refused under another list (which still admits the server). */
static void test_wildcard_session_refused_under_new_list(void **state)
{
    variant_t v;

    (void)state;
    wildcard_variant(&v);
    v.suffixes = k_other_suffixes;
    expect_refused(&v, AP_ERR_SESSION_FOREIGN, "public suffix list");
}

static void test_other_pins_are_refused(void **state)
{
    variant_t v;

    (void)state;
    memset(&v, 0, sizeof v);
    v.pinned = true; /* the server's own key: the full handshake passes */
    expect_refused(&v, AP_ERR_SESSION_FOREIGN, "other public key pins");
}

static void test_other_identity_is_refused(void **state)
{
    variant_t v;

    (void)state;
    memset(&v, 0, sizeof v);
    v.identity = true; /* the server asks for none: the full handshake passes */
    expect_refused(&v, AP_ERR_SESSION_FOREIGN, "another client identity");
}

static void test_other_host_is_refused(void **state)
{
    variant_t v;

    (void)state;
    memset(&v, 0, sizeof v);
    v.host = "127.0.0.1"; /* the same server, named by its address */
    expect_refused(&v, AP_ERR_SESSION_FOREIGN, "another host");
}

static void test_other_port_is_refused(void **state)
{
    variant_t v;
    outcome_t out;

    (void)state;
    memset(&v, 0, sizeof v);
    v.port_delta = 1;
    run(AP_TLS_1_2, &v, &out);
    assert_int_equal(out.load, AP_ERR_SESSION_FOREIGN);
    assert_non_null(strstr(out.error, "another port"));
}

static void test_damaged_blobs_are_refused(void **state)
{
    variant_t v;

    (void)state;
    memset(&v, 0, sizeof v);
    v.damage = 1;
    expect_refused(&v, AP_ERR_SESSION_CORRUPT, "truncated or damaged");
    v.damage = 2;
    expect_refused(&v, AP_ERR_SESSION_CORRUPT, "truncated or damaged");
    v.damage = 3;
    expect_refused(&v, AP_ERR_SESSION_CORRUPT, "another Mbed TLS version or build");
}

static void test_expired_session_is_refused(void **state)
{
    variant_t v;
    outcome_t out;

    (void)state;
    memset(&v, 0, sizeof v);
    v.clock_offset = TICKET_LIFETIME_S + 5;
    expect_refused(&v, AP_ERR_SESSION_EXPIRED, "past its lifetime of 300 s");
    /* the same blob, well within its lifetime, resumes */
    v.clock_offset = TICKET_LIFETIME_S / 2;
    run(AP_TLS_1_2, &v, &out);
    assert_int_equal(out.load, AP_OK);
    assert_true(out.resumed);
    assert_int_equal(out.seen.conn[1].resumed, 1);
    /* a clock set back past the skew allowed: the age is unknown */
    v.clock_offset = -(int64_t)AP_SESSION_CLOCK_SKEW_S - 120;
    expect_refused(&v, AP_ERR_SESSION_EXPIRED, "age is unknown");
    /* a start time no clock gives, with a valid CRC: no age, not a crash */
    v.clock_offset = 0;
    v.damage = 4;
    expect_refused(&v, AP_ERR_SESSION_EXPIRED, "age is unknown");
    /* a lifetime this format never writes */
    v.damage = 5;
    expect_refused(&v, AP_ERR_SESSION_CORRUPT, "truncated or damaged");
}

/* A TLS 1.2 session ID carries no lifetime: it is offered for
 * AP_SESSION_ID_LIFETIME_S (a day), past the 300 s a ticket here would. */
static void test_session_id_lives_its_bound(void **state)
{
    variant_t v;
    outcome_t out;

    (void)state;
    memset(&v, 0, sizeof v);
    v.session_ids = true;
    v.clock_offset = 3600;
    run(AP_TLS_1_2, &v, &out);
    assert_int_equal(out.load, AP_OK);
    assert_true(out.resumed);
    assert_int_equal(out.seen.conn[1].resumed, 1);
    v.clock_offset = (int64_t)AP_SESSION_ID_LIFETIME_S + 5;
    run(AP_TLS_1_2, &v, &out);
    assert_int_equal(out.load, AP_ERR_SESSION_EXPIRED);
    assert_non_null(strstr(out.error, "past its lifetime of 86400 s"));
    expect_full(&out);
}

static void test_unknown_clock_is_refused(void **state)
{
    variant_t v;
    outcome_t out;

    (void)state;
    memset(&v, 0, sizeof v);
    v.clock_unknown = true;
    run(AP_TLS_1_2, &v, &out);
    assert_int_equal(out.load, AP_ERR_SESSION_EXPIRED);
}

/* One client, two posts; the clock passes the ticket's lifetime between
 * them: the kept session is not offered again. */
static void test_running_client_drops_expired_session(void **state)
{
    tls_test_server_opts_t o;
    tls_test_server_t s;
    tls_test_client_t cl;
    tls_test_seen_t seen;

    (void)state;
    memset(&o, 0, sizeof o);
    o.max_version = AP_TLS_1_2;
    o.connections = 2;
    g_clock_offset = 0;
    tls_test_server_start(&s, &o);
    config_client(&cl, s.port, AP_TLS_1_2);
    assert_int_equal(ap_client_init(&cl.c, &cl.cfg), AP_OK);
    post_ok(&cl);
    g_clock_offset = TICKET_LIFETIME_S + 5;
    post_ok(&cl);
    assert_false(ap_client_info(&cl.c)->resumed);
    tls_test_client_done(&cl);
    g_clock_offset = 0;
    tls_test_server_finish(&s, &seen);
    assert_int_equal(seen.conn[1].resumed, 0);
    assert_int_equal(seen.conn[1].posted, 1);
}

static void test_save_without_session(void **state)
{
    tls_test_client_t cl;
    uint8_t blob[64];
    size_t len = 1;

    (void)state;
    config_client(&cl, 443, AP_TLS_1_2);
    assert_int_equal(ap_client_init(&cl.c, &cl.cfg), AP_OK);
    assert_int_equal(ap_client_session_save(&cl.c, blob, sizeof blob, &len), AP_ERR_SESSION_NONE);
    assert_int_equal(ap_client_session_save(&cl.c, NULL, 4, &len), AP_ERR_BAD_ARG);
    assert_int_equal(ap_client_session_load(&cl.c, NULL, 4), AP_ERR_BAD_ARG);
    memset(blob, 0, sizeof blob);
    assert_int_equal(ap_client_session_load(&cl.c, blob, sizeof blob), AP_ERR_SESSION_CORRUPT);
    tls_test_client_done(&cl);
}

/* The anchors that also verify the server: root.pem, then other-root.pem;
 * and the server leaf's SPKI pin. */
static void prepare(void)
{
    size_t a_len = 0;
    size_t b_len = 0;
    unsigned char *a = tls_test_read("root.pem", &a_len);
    unsigned char *b = tls_test_read("other-root.pem", &b_len);
    char path[512];
    mbedtls_x509_crt crt;
    unsigned char der[512];
    int n;

    assert_true(a_len + b_len < sizeof g_anchors);
    memcpy(g_anchors, a, a_len - 1);
    memcpy(g_anchors + a_len - 1, b, b_len);
    free(a);
    free(b);
    g_device_bytes[0] = tls_test_read("device-chain.pem", &g_device.cert_len);
    g_device_bytes[1] = tls_test_read("device.key", &g_device.key_len);
    g_device.cert = g_device_bytes[0];
    g_device.key = g_device_bytes[1];
    mbedtls_x509_crt_init(&crt);
    tls_test_path(path, sizeof path, "ecdsa.pem");
    assert_int_equal(mbedtls_x509_crt_parse_file(&crt, path), 0);
    n = mbedtls_pk_write_pubkey_der(&crt.pk, der, sizeof der);
    assert_true(n > 0);
#if MBEDTLS_VERSION_MAJOR >= 3
    assert_int_equal(mbedtls_sha256(der + sizeof der - n, (size_t)n, g_pin.sha256, 0), 0);
#else
    assert_int_equal(mbedtls_sha256_ret(der + sizeof der - n, (size_t)n, g_pin.sha256, 0), 0);
#endif
    mbedtls_x509_crt_free(&crt);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls12_saved_session_resumes_in_new_client),
#if defined(MBEDTLS_SSL_PROTO_TLS1_3) /* 2.28: TLS 1.2 only, one range */
        cmocka_unit_test(test_tls13_saved_session_resumes_in_new_client),
        cmocka_unit_test(test_resumed_handshake_keeps_the_floor),
        cmocka_unit_test(test_other_tls_range_is_refused),
#endif
        cmocka_unit_test(test_other_anchors_are_refused),
        cmocka_unit_test(test_new_suffix_list_keeps_exact_session),
        cmocka_unit_test(test_wildcard_session_resumes_under_same_list),
        cmocka_unit_test(test_wildcard_session_refused_under_new_list),
        cmocka_unit_test(test_other_pins_are_refused),
        cmocka_unit_test(test_other_identity_is_refused),
        cmocka_unit_test(test_other_host_is_refused),
        cmocka_unit_test(test_other_port_is_refused),
        cmocka_unit_test(test_damaged_blobs_are_refused),
        cmocka_unit_test(test_expired_session_is_refused),
        cmocka_unit_test(test_session_id_lives_its_bound),
        cmocka_unit_test(test_unknown_clock_is_refused),
        cmocka_unit_test(test_running_client_drops_expired_session),
        cmocka_unit_test(test_save_without_session),
    };
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: test_tls_session_store PKI_DIR\n");
        return 2;
    }
    tls_test_server_pki(argv[1]);
    prepare();
    (void)signal(SIGPIPE, SIG_IGN);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(g_device_bytes[0]);
    free(g_device_bytes[1]);
    return rc;
}
