/*
 * The core built as a device builds it (device_profile/ap_test_device_config.h:
 * AP_CLIENT_KEY_BYTES 0, AP_ANCHORS_PEM 0, the MPS2 firmware's choice),
 * against a forked Mbed TLS 3.6 server on loopback (tls_test_harness.h).
 *
 * - Trust anchors as DER, one certificate or several back to back, verify
 *   the server; PEM text, which this build cannot read, is refused at
 *   ap_client_init() with one line that says so.
 * - A client key as bytes is refused at ap_client_init(), naming the
 *   option; the same key imported into PSA, given by its key id, signs the
 *   handshake of a server that requires a client certificate.
 * - With max_fragment_length asked (AP_TLS_MAX_FRAGMENT_LEN 1024), an
 *   OpenSSL server (tests/integration/sink.py, given by AP_TEST_SINK and run
 *   by AP_TEST_PYTHON) answers it in TLS 1.3's EncryptedExtensions, which
 *   Mbed TLS 3.6.6 takes for unsolicited unless the build's fix
 *   (ap_mbedtls_fix_tls13_mfl) is applied: the post of a 12,000-byte
 *   response must succeed over TLS 1.3, the ClientHello having asked for
 *   1 KiB and every record of the answer being that small.
 */
#define _POSIX_C_SOURCE 200809L /* fork, kill, mkdtemp, nanosleep */

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "alertpost/alertpost.h"
#include "mbedtls/x509_crt.h"
#include "psa/crypto.h"
#include "tls_test_harness.h"

#if AP_CLIENT_KEY_BYTES || AP_ANCHORS_PEM
#error "test_tls_device_profile is built with ap_test_device_config.h"
#endif

#define DEVICE_CN "CN=device-0001"

/* The certificates of a PEM file of the PKI, DER back to back (malloc'd). */
static unsigned char *pem_file_as_der(const char *name, size_t *len)
{
    mbedtls_x509_crt chain;
    const mbedtls_x509_crt *crt;
    unsigned char *out;
    size_t pem_len = 0;
    unsigned char *pem = tls_test_read(name, &pem_len);
    size_t n = 0;

    mbedtls_x509_crt_init(&chain);
    assert_int_equal(mbedtls_x509_crt_parse(&chain, pem, pem_len), 0);
    for (crt = &chain; crt != NULL; crt = crt->next) {
        n += crt->raw.len;
    }
    out = malloc(n);
    assert_non_null(out);
    *len = 0;
    for (crt = &chain; crt != NULL; crt = crt->next) {
        memcpy(out + *len, crt->raw.p, crt->raw.len);
        *len += crt->raw.len;
    }
    mbedtls_x509_crt_free(&chain);
    free(pem);
    return out;
}

/* The harness's client, with anchors the test chose in place of root.pem. */
static void client_with_anchors(tls_test_client_t *cl, uint16_t port, unsigned char *anchors,
                                size_t len)
{
    memset(cl, 0, sizeof *cl);
    tls_test_client_config(cl, port);
    free(cl->anchors);
    cl->anchors = anchors; /* tls_test_client_done() frees it */
    cl->cfg.ca_pem = anchors;
    cl->cfg.ca_pem_len = len;
}

/* The harness's client with root.pem as DER, as this build needs. */
static void client_with_der_root(tls_test_client_t *cl, uint16_t port)
{
    size_t len = 0;
    unsigned char *der = pem_file_as_der("root.pem", &len);

    client_with_anchors(cl, port, der, len);
}

static void test_der_anchors_verify_the_server(void **state)
{
    static const char *const stores[] = {"root.pem", "other-root.pem"};
    tls_test_server_opts_t o;
    tls_test_server_t s;
    tls_test_seen_t seen;
    tls_test_client_t cl;
    unsigned char *der;
    size_t len = 0;
    size_t i;

    (void)state;
    memset(&o, 0, sizeof o);
    for (i = 0; i < 2; i++) {
        if (i == 0) {
            der = pem_file_as_der(stores[0], &len);
        } else { /* a store of two, the server's root second */
            size_t a_len = 0;
            size_t b_len = 0;
            unsigned char *a = pem_file_as_der(stores[1], &a_len);
            unsigned char *b = pem_file_as_der(stores[0], &b_len);

            der = realloc(a, a_len + b_len);
            assert_non_null(der);
            memcpy(der + a_len, b, b_len);
            len = a_len + b_len;
            free(b);
        }
        tls_test_server_start(&s, &o);
        client_with_anchors(&cl, s.port, der, len);
        assert_int_equal(tls_test_client_post(&cl), AP_OK);
        tls_test_server_finish(&s, &seen);
        assert_int_equal(seen.handshake, 0);
        assert_non_null(strstr(seen.request, "POST /glue HTTP/1.1\r\n"));
        tls_test_client_done(&cl);
    }
}

/* PEM text is not a store this build reads: refused before any connection. */
static void test_pem_anchors_refused_in_one_line(void **state)
{
    tls_test_client_t cl;
    size_t len = 0;
    unsigned char *pem = tls_test_read("root.pem", &len);
    ap_status_t st;
    const char *why;

    (void)state;
    client_with_anchors(&cl, 9, pem, len); /* port 9: never connected to */
    st = ap_client_init(&cl.c, &cl.cfg);
    why = ap_client_error(&cl.c);
    print_message("init: %d %s\n", st, why);
    assert_int_equal(st, AP_ERR_TLS_SETUP);
    assert_non_null(strstr(why, "trust anchors"));
    assert_non_null(strstr(why, "are PEM; this build reads DER only (AP_ANCHORS_PEM 0)"));
    assert_null(strchr(why, '\n'));
    tls_test_client_done(&cl);
}

static void test_key_bytes_refused_psa_key_signs(void **state)
{
    tls_test_server_opts_t o = {0x0303, NULL, NULL, "client-root.pem", 0, 0};
    tls_test_server_t s;
    tls_test_seen_t seen;
    tls_test_client_t cl;
    ap_identity_t id;
    size_t len = 0;
    unsigned char *cert = tls_test_read("device-chain.pem", &len);
    unsigned char *key;
    size_t key_len = 0;
    uint16_t version;

    (void)state;
    memset(&id, 0, sizeof id);
    id.cert = cert;
    id.cert_len = len;
    key = tls_test_read("device.key", &key_len);
    id.key = key;
    id.key_len = key_len;
    client_with_der_root(&cl, 9); /* port 9: never connected to */
    cl.cfg.identity = &id;
    assert_int_equal(ap_client_init(&cl.c, &cl.cfg), AP_ERR_TLS_SETUP);
    print_message("init: %s\n", ap_client_error(&cl.c));
    assert_non_null(strstr(ap_client_error(&cl.c), "AP_CLIENT_KEY_BYTES 0"));
    tls_test_client_done(&cl);
    free(key);

    id.key = NULL;
    id.key_len = 0;
    id.psa_key_id = tls_test_psa_sign_key("device.key", 0);
    for (version = 0x0303; version <= 0x0304; version++) {
        o.max_version = version;
        tls_test_server_start(&s, &o);
        client_with_der_root(&cl, s.port);
        cl.cfg.identity = &id;
        assert_int_equal(tls_test_client_post(&cl), AP_OK);
        tls_test_server_finish(&s, &seen);
        assert_int_equal(seen.handshake, 0);
        assert_non_null(strstr(seen.peer, DEVICE_CN));
        assert_true(ap_client_info(&cl.c)->client_cert_sent);
        tls_test_client_done(&cl);
    }
    assert_int_equal(psa_destroy_key(mbedtls_svc_key_id_make(0, id.psa_key_id)), PSA_SUCCESS);
    free(cert);
}

/* The OpenSSL sink on a free port, TLS 1.3 only, answering a 12,000-byte
 * body; 0 (and a SKIPPED case) when the test was given no sink. */
static pid_t start_openssl_sink(const char *dir, uint16_t *port)
{
    const char *python = getenv("AP_TEST_PYTHON");
    const char *sink = getenv("AP_TEST_SINK");
    char cert[512];
    char key[512];
    char ready[600];
    char record[600];
    FILE *f = NULL;
    unsigned p = 0;
    pid_t pid;
    int i;

    if (python == NULL || sink == NULL) {
        return 0;
    }
    tls_test_path(cert, sizeof cert, "ecdsa-chain.pem");
    tls_test_path(key, sizeof key, "ecdsa.key");
    (void)snprintf(ready, sizeof ready, "%s/sink.ready", dir);
    (void)snprintf(record, sizeof record, "%s/sink.jsonl", dir);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(python, python, sink, "--cert", cert, "--key", key, "--port", "0",
              "--ready-file", ready, "--record", record, "--tls-min", "1.3", "--tls-max",
              "1.3", "--mode", "big-body", "--body-size", "12000", "--max-seconds", "30",
              (char *)NULL);
        _exit(127);
    }
    for (i = 0; i < 300 && f == NULL; i++) { /* at most 15 s */
        f = fopen(ready, "r");
        if (f == NULL) {
            const struct timespec pause = {0, 50000000L};

            (void)nanosleep(&pause, NULL);
        }
    }
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%u", &p), 1);
    (void)fclose(f);
    *port = (uint16_t)p;
    return pid;
}

/* What crossed the wire, seen through the harness's transport: the start
 * of the first flight (the ClientHello), and the TLS records that came
 * back, followed across recv() calls by their 5-byte headers. */
typedef struct wire {
    ap_transport_t inner;
    uint8_t hello[2048];
    size_t hello_len;
    uint8_t head[5];
    size_t head_len;
    size_t body_left;
    size_t records;
    size_t largest; /* the longest record body the server sent */
} wire_t;

static ap_status_t wire_connect(void *ctx, const char *host, uint16_t port, uint32_t ms)
{
    wire_t *w = ctx;

    return w->inner.connect(w->inner.ctx, host, port, ms);
}

static int32_t wire_send(void *ctx, const uint8_t *buf, size_t len, uint32_t ms)
{
    wire_t *w = ctx;
    int32_t n = w->inner.send(w->inner.ctx, buf, len, ms);
    size_t room = sizeof w->hello - w->hello_len;

    if (n > 0) {
        memcpy(w->hello + w->hello_len, buf, (size_t)n < room ? (size_t)n : room);
        w->hello_len += (size_t)n < room ? (size_t)n : room;
    }
    return n;
}

static int32_t wire_recv(void *ctx, uint8_t *buf, size_t size, uint32_t ms)
{
    wire_t *w = ctx;
    int32_t n = w->inner.recv(w->inner.ctx, buf, size, ms);
    size_t i = 0;

    while (n > 0 && i < (size_t)n) {
        if (w->body_left > 0) {
            size_t take = (size_t)n - i < w->body_left ? (size_t)n - i : w->body_left;

            w->body_left -= take;
            i += take;
            continue;
        }
        w->head[w->head_len++] = buf[i++];
        if (w->head_len == sizeof w->head) {
            w->body_left = ((size_t)w->head[3] << 8) | w->head[4];
            w->largest = w->body_left > w->largest ? w->body_left : w->largest;
            w->records++;
            w->head_len = 0;
        }
    }
    return n;
}

static void wire_close(void *ctx)
{
    wire_t *w = ctx;

    w->inner.close(w->inner.ctx);
}

/* The max_fragment_length code (RFC 6066) of the ClientHello in hello, or
 * -1 without the extension. */
static int hello_mfl_code(const uint8_t *h, size_t len)
{
    size_t p = 5 + 4 + 2 + 32; /* record and handshake headers, version, random */
    size_t end;

    if (len < p + 1) {
        return -1;
    }
    p += 1 + h[p];                                   /* session id */
    p += len >= p + 2 ? 2 + ((size_t)h[p] << 8 | h[p + 1]) : len; /* suites */
    p += len >= p + 1 ? 1 + (size_t)h[p] : len;      /* compression */
    if (len < p + 2) {
        return -1;
    }
    end = p + 2 + ((size_t)h[p] << 8 | h[p + 1]);
    for (p += 2; p + 4 <= end && p + 4 <= len;) {
        size_t type = (size_t)h[p] << 8 | h[p + 1];
        size_t ext_len = (size_t)h[p + 2] << 8 | h[p + 3];

        if (type == 1 && ext_len == 1 && p + 5 <= len) {
            return h[p + 4];
        }
        p += 4 + ext_len;
    }
    return -1;
}

static void test_tls13_max_fragment_answer_accepted(void **state)
{
    char dir[] = "/tmp/ap-mfl-XXXXXX";
    char path[600];
    char line[2048];
    tls_test_client_t cl;
    static wire_t wire;
    ap_transport_t wire_transport;
    uint16_t port = 0;
    pid_t pid;
    FILE *f;
    bool tls13 = false;
    bool request = false;
    ap_status_t st;

    (void)state;
    assert_non_null(mkdtemp(dir));
    pid = start_openssl_sink(dir, &port);
    if (pid == 0) {
        (void)rmdir(dir);
        skip();
    }
    client_with_der_root(&cl, port);
    memset(&wire, 0, sizeof wire);
    wire.inner = cl.transport;
    wire_transport.ctx = &wire;
    wire_transport.connect = wire_connect;
    wire_transport.send = wire_send;
    wire_transport.recv = wire_recv;
    wire_transport.close = wire_close;
    cl.cfg.transport = &wire_transport;
    st = tls_test_client_post(&cl);
    if (st != AP_OK) {
        print_message("post: %s\n", ap_client_error(&cl.c));
    }
    assert_int_equal(st, AP_OK);
    assert_int_equal(ap_client_info(&cl.c)->tls_version, AP_TLS_1_3);
    tls_test_client_done(&cl);
    /* Asked for 1 KiB (code 2), and answered: the 12,000-byte body came in
     * a dozen records or more, none over 1 KiB plus TLS 1.3's expansion
     * (its content type and the AEAD tag; RFC 8446 allows 256). */
    assert_int_equal(hello_mfl_code(wire.hello, wire.hello_len), 2);
    print_message("server records: %u, the longest %u bytes\n", (unsigned)wire.records,
                  (unsigned)wire.largest);
    assert_true(wire.records >= 12);
    assert_true(wire.largest <= 1024 + 256);
    (void)kill(pid, SIGTERM);
    (void)waitpid(pid, NULL, 0);
    (void)snprintf(path, sizeof path, "%s/sink.jsonl", dir);
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f) != NULL) {
        tls13 = tls13 || (strstr(line, "\"handshake_ok\"") != NULL &&
                          strstr(line, "\"TLSv1.3\"") != NULL);
        request = request || strstr(line, "\"request\"") != NULL;
    }
    (void)fclose(f);
    assert_true(tls13);
    assert_true(request);
    (void)unlink(path);
    (void)snprintf(path, sizeof path, "%s/sink.ready", dir);
    (void)unlink(path);
    (void)rmdir(dir);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_der_anchors_verify_the_server),
        cmocka_unit_test(test_pem_anchors_refused_in_one_line),
        cmocka_unit_test(test_key_bytes_refused_psa_key_signs),
        cmocka_unit_test(test_tls13_max_fragment_answer_accepted),
    };

    tls_test_main_setup(argc, argv, "test_tls_device_profile");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
