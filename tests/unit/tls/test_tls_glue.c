/*
 * The TLS glue (core/src/tls/) against a real Mbed TLS server on loopback,
 * with the client's wall clock under the test's control.
 *
 * It checks what only the glue decides: certificate dates judged by the
 * platform's clock (an unknown time refuses, it never skips the check), SPKI
 * pins, the version floor naming the version the server chose, and the
 * cipher-suite allowlist. For every refusal it asserts that the server
 * received no request. The server runs in a child process (fork), one
 * connection per case, with the test PKI that tests/integration/pki.py made.
 *
 * usage: test_tls_glue PKI_DIR
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alertpost/alertpost.h"
#include "alertpost/ap_posix.h"

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/sha256.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "psa/crypto.h"

static const char *g_pki;

/* ---- the server: a child process serving one connection ---- */

typedef struct server_opts {
    mbedtls_ssl_protocol_version max_version; /* 0: the library's */
    const int *suites;                        /* NULL: the library's */
    const char *chain;                        /* NULL: ecdsa-chain.pem */
    bool require_client_cert;
} server_opts_t;

typedef struct server {
    pid_t pid;
    uint16_t port;
    int result_fd; /* the child writes what it received, then exits */
} server_t;

static int srv_send(void *ctx, const unsigned char *buf, size_t len)
{
    ssize_t n = send(*(int *)ctx, buf, len, MSG_NOSIGNAL);

    return n < 0 ? MBEDTLS_ERR_SSL_INTERNAL_ERROR : (int)n;
}

static int srv_recv(void *ctx, unsigned char *buf, size_t len)
{
    ssize_t n = recv(*(int *)ctx, buf, len, 0);

    return n < 0 ? MBEDTLS_ERR_SSL_INTERNAL_ERROR : (int)n;
}

static void path_in_pki(char *out, size_t size, const char *name)
{
    (void)snprintf(out, size, "%s/%s", g_pki, name);
}

/* Child: one TLS connection; writes "H<ret>\n" then the request bytes. */
static int serve_one(int listen_fd, int out_fd, const server_opts_t *o)
{
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt chain;
    mbedtls_pk_context key;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    struct pollfd pfd = {listen_fd, POLLIN, 0};
    struct timeval tv = {10, 0};
    unsigned char req[8192];
    size_t req_len = 0;
    char path[512];
    char line[32];
    int fd;
    int ret;

    (void)psa_crypto_init();
    mbedtls_ssl_init(&ssl);
    mbedtls_ssl_config_init(&conf);
    mbedtls_x509_crt_init(&chain);
    mbedtls_pk_init(&key);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0) != 0) {
        return 2;
    }
    path_in_pki(path, sizeof path, o->chain != NULL ? o->chain : "ecdsa-chain.pem");
    if (mbedtls_x509_crt_parse_file(&chain, path) != 0) {
        return 3;
    }
    path_in_pki(path, sizeof path, "ecdsa.key");
    if (mbedtls_pk_parse_keyfile(&key, path, NULL, mbedtls_ctr_drbg_random, &drbg) != 0) {
        return 4;
    }
    if (mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
        return 5;
    }
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
    if (mbedtls_ssl_conf_own_cert(&conf, &chain, &key) != 0) {
        return 6;
    }
    if (o->max_version != 0) {
        mbedtls_ssl_conf_max_tls_version(&conf, o->max_version);
    }
    if (o->suites != NULL) {
        mbedtls_ssl_conf_ciphersuites(&conf, o->suites);
    }
    if (o->require_client_cert) {
        /* Any CA will do: the client sends no certificate at all. */
        mbedtls_ssl_conf_ca_chain(&conf, &chain, NULL);
        mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    }
    if (mbedtls_ssl_setup(&ssl, &conf) != 0) {
        return 7;
    }
    if (poll(&pfd, 1, 10000) != 1 || (fd = accept(listen_fd, NULL, NULL)) < 0) {
        return 8;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    mbedtls_ssl_set_bio(&ssl, &fd, srv_send, srv_recv, NULL);
    do {
        ret = mbedtls_ssl_handshake(&ssl);
    } while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
    (void)snprintf(line, sizeof line, "H%d\n", ret);
    if (write(out_fd, line, strlen(line)) < 0) {
        return 9;
    }
    if (ret == 0) {
        static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

        /* The client's requests here have no body: the head is the request. */
        while (req_len < sizeof req && (req_len < 4 || memcmp(req + req_len - 4, "\r\n\r\n", 4))) {
            ret = mbedtls_ssl_read(&ssl, req + req_len, sizeof req - req_len);
            if (ret <= 0) {
                break;
            }
            req_len += (size_t)ret;
        }
        if (req_len > 0 && write(out_fd, req, req_len) < 0) {
            return 10;
        }
        (void)mbedtls_ssl_write(&ssl, (const unsigned char *)ok, sizeof ok - 1);
        (void)mbedtls_ssl_close_notify(&ssl);
    }
    (void)close(fd);
    return 0;
}

static void server_start(server_t *s, const server_opts_t *o)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int pipefd[2];

    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(lfd >= 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(lfd, 4), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
    assert_int_equal(pipe(pipefd), 0);
    s->port = ntohs(sa.sin_port);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        (void)close(pipefd[0]);
        _exit(serve_one(lfd, pipefd[1], o));
    }
    (void)close(pipefd[1]);
    (void)close(lfd);
    s->result_fd = pipefd[0];
}

/* Wait for the child; *handshake is its handshake result, req what it read. */
static void server_finish(server_t *s, int *handshake, char *req, size_t req_size)
{
    char buf[8192 + 32];
    size_t len = 0;
    ssize_t n;
    int status = 0;
    char *nl;

    while (len < sizeof buf - 1 && (n = read(s->result_fd, buf + len, sizeof buf - 1 - len)) > 0) {
        len += (size_t)n;
    }
    buf[len] = '\0';
    (void)close(s->result_fd);
    assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    *handshake = 1; /* "never reached the handshake" unless told otherwise */
    req[0] = '\0';
    if (len > 0 && buf[0] == 'H' && (nl = strchr(buf, '\n')) != NULL) {
        *handshake = atoi(buf + 1);
        (void)snprintf(req, req_size, "%s", nl + 1);
    }
}

/* ---- the client: the real core over the POSIX port, a settable clock ---- */

static int64_t g_wall;
static bool g_wall_is_real;

static int64_t test_wall_time(void *ctx)
{
    (void)ctx;
    return g_wall_is_real ? (int64_t)time(NULL) : g_wall;
}

typedef struct client {
    ap_posix_conn_t conn;
    ap_transport_t transport;
    ap_platform_t platform;
    ap_client_config_t cfg;
    ap_client_t c;
    uint8_t work[1024];
    unsigned char *anchors;
    ap_spki_pin_t pins[2];
} client_t;

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = malloc(65536);
    size_t n;

    assert_non_null(f);
    assert_non_null(buf);
    n = fread(buf, 1, 65535, f);
    (void)fclose(f);
    buf[n] = '\0';
    *len = n + 1;
    return buf;
}

static ap_status_t client_post(client_t *cl, uint16_t port, ap_tls_version_t tls_min,
                               size_t pin_count)
{
    char url[64];
    char path[512];
    size_t len = 0;
    ap_request_t req;
    ap_response_t resp;
    ap_status_t st;

    (void)snprintf(url, sizeof url, "https://localhost:%u/glue", (unsigned)port);
    path_in_pki(path, sizeof path, "root.pem");
    cl->anchors = read_file(path, &len);
    ap_posix_transport_init(&cl->transport, &cl->conn);
    ap_posix_platform_init(&cl->platform);
    cl->platform.wall_time = test_wall_time;
    ap_client_config_defaults(&cl->cfg);
    cl->cfg.url = url;
    cl->cfg.connect_host = "127.0.0.1";
    cl->cfg.transport = &cl->transport;
    cl->cfg.platform = &cl->platform;
    cl->cfg.ca_pem = cl->anchors;
    cl->cfg.ca_pem_len = len;
    cl->cfg.work_buf = cl->work;
    cl->cfg.work_buf_size = sizeof cl->work;
    cl->cfg.tls_min = tls_min;
    cl->cfg.deadline_ms = 10000;
    cl->cfg.pins = pin_count ? cl->pins : NULL;
    cl->cfg.pin_count = pin_count;
    st = ap_client_init(&cl->c, &cl->cfg);
    assert_int_equal(st, AP_OK);
    memset(&req, 0, sizeof req);
    memset(&resp, 0, sizeof resp);
    return ap_post(&cl->c, &req, &resp);
}

static void client_done(client_t *cl)
{
    ap_client_free(&cl->c);
    free(cl->anchors);
}

/* Run one case: a server with opts, the client, and what each side saw. */
static ap_status_t run_case(client_t *cl, const server_opts_t *o, ap_tls_version_t tls_min,
                            size_t pin_count, int *handshake, char *req, size_t req_size)
{
    server_t s;
    ap_status_t st;

    server_start(&s, o);
    st = client_post(cl, s.port, tls_min, pin_count);
    ap_client_close(&cl->c);
    server_finish(&s, handshake, req, req_size);
    return st;
}

static const server_opts_t k_default_server = {0, NULL, NULL, false};

static void test_real_clock_delivers(void **state)
{
    client_t cl;
    char req[8192];
    int hs;

    (void)state;
    memset(&cl, 0, sizeof cl);
    g_wall_is_real = true;
    assert_int_equal(run_case(&cl, &k_default_server, 0, 0, &hs, req, sizeof req), AP_OK);
    assert_int_equal(hs, 0);
    assert_non_null(strstr(req, "POST /glue HTTP/1.1\r\n"));
    assert_non_null(strstr(req, "Host: localhost:"));
    assert_int_equal(ap_client_info(&cl.c)->tls_version, AP_TLS_1_3);
    client_done(&cl);
}

/* cl may carry pins (its first pin_count); it is reset afterwards. */
static void expect_refused_with(client_t *cl, size_t pin_count, const server_opts_t *o,
                                ap_tls_version_t tls_min, ap_status_t want, const char *words)
{
    char req[8192];
    int hs;

    ap_status_t got = run_case(cl, o, tls_min, pin_count, &hs, req, sizeof req);

    if (got != want) {
        print_message("unexpected: %s\n", ap_client_error(&cl->c));
    }
    assert_int_equal(got, want);
    assert_non_null(strstr(ap_client_error(&cl->c), words));
    assert_int_not_equal(hs, 0);        /* the server's handshake failed */
    assert_string_equal(req, "");       /* and it received nothing */
    client_done(cl);
}

static void expect_refused(const server_opts_t *o, ap_tls_version_t tls_min,
                           ap_status_t want, const char *words)
{
    client_t cl;

    memset(&cl, 0, sizeof cl);
    expect_refused_with(&cl, 0, o, tls_min, want, words);
}

static void test_unknown_time_refuses(void **state)
{
    (void)state;
    g_wall_is_real = false;
    g_wall = AP_WALL_TIME_UNKNOWN;
    expect_refused(&k_default_server, 0, AP_ERR_TLS_CERT, "does not know the time");
}

static void test_clock_after_expiry_refuses(void **state)
{
    (void)state;
    /* Mbed TLS's own check uses the host's clock, for which the leaf is
     * valid: only the glue's check against the platform clock refuses. */
    g_wall_is_real = false;
    g_wall = (int64_t)time(NULL) + (int64_t)40 * 365 * 86400;
    expect_refused(&k_default_server, 0, AP_ERR_TLS_CERT, "has expired");
}

static void test_clock_before_validity_refuses(void **state)
{
    (void)state;
    g_wall_is_real = false;
    g_wall = 946684800; /* 2000-01-01 */
    expect_refused(&k_default_server, 0, AP_ERR_TLS_CERT, "not valid yet");
}

static void leaf_pin(ap_spki_pin_t *pin)
{
    mbedtls_x509_crt crt;
    char path[512];

    mbedtls_x509_crt_init(&crt);
    path_in_pki(path, sizeof path, "ecdsa.pem");
    assert_int_equal(mbedtls_x509_crt_parse_file(&crt, path), 0);
    assert_int_equal(mbedtls_sha256(crt.pk_raw.p, crt.pk_raw.len, pin->sha256, 0), 0);
    mbedtls_x509_crt_free(&crt);
}

static void test_pins(void **state)
{
    client_t cl;
    char req[8192];
    int hs;

    (void)state;
    g_wall_is_real = true;

    /* One pin for some other key, one for the leaf's: delivered. */
    memset(&cl, 0, sizeof cl);
    memset(&cl.pins[0], 0xA5, sizeof cl.pins[0]);
    leaf_pin(&cl.pins[1]);
    assert_int_equal(run_case(&cl, &k_default_server, 0, 2, &hs, req, sizeof req), AP_OK);
    assert_int_equal(hs, 0);
    assert_non_null(strstr(req, "POST /glue"));
    client_done(&cl);

    /* Only the other key's pin: refused, nothing sent. */
    memset(&cl, 0, sizeof cl);
    memset(&cl.pins[0], 0xA5, sizeof cl.pins[0]);
    expect_refused_with(&cl, 1, &k_default_server, 0, AP_ERR_TLS_PIN, "pinned");
}

static void test_tls13_only_client_refuses_a_tls12_server(void **state)
{
    static const server_opts_t tls12_only = {MBEDTLS_SSL_VERSION_TLS1_2, NULL, NULL, false};

    (void)state;
    g_wall_is_real = true;
    /* The client asks for TLS 1.3 at least; the server can only do 1.2 and
     * answers the TLS 1.3-only hello with handshake_failure. */
    expect_refused(&tls12_only, AP_TLS_1_3, AP_ERR_TLS_VERSION, "(TLS 1.3 only; floor TLS 1.2)");
}

static void test_cbc_only_server_is_refused(void **state)
{
    static const int cbc_only[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, 0};
    static const server_opts_t server = {MBEDTLS_SSL_VERSION_TLS1_2, cbc_only, NULL, false};

    (void)state;
    g_wall_is_real = true;
    /* CBC is not on the allowlist: no shared suite, nothing sent. */
    expect_refused(&server, 0, AP_ERR_TLS, "handshake_failure");
}

static void test_client_certificate_required_tls12(void **state)
{
    static const server_opts_t server = {MBEDTLS_SSL_VERSION_TLS1_2, NULL, NULL, true};

    (void)state;
    g_wall_is_real = true;
    /* The server asks for a certificate, gets an empty one and ends the
     * handshake: one status, whatever the server's alert or close. */
    expect_refused(&server, 0, AP_ERR_TLS_CLIENT_CERT, "requires a client certificate");
}

static void test_host_matched_by_alertpost(void **state)
{
    static const server_opts_t wrong = {0, NULL, "wronghost-chain.pem", false};

    (void)state;
    g_wall_is_real = true;
    /* The glue's own name check (SAN only), with the reason in words. */
    expect_refused(&wrong, 0, AP_ERR_TLS_CERT, "is not for localhost: it has no DNS SAN");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_clock_delivers),
        cmocka_unit_test(test_unknown_time_refuses),
        cmocka_unit_test(test_clock_after_expiry_refuses),
        cmocka_unit_test(test_clock_before_validity_refuses),
        cmocka_unit_test(test_pins),
        cmocka_unit_test(test_tls13_only_client_refuses_a_tls12_server),
        cmocka_unit_test(test_cbc_only_server_is_refused),
        cmocka_unit_test(test_client_certificate_required_tls12),
        cmocka_unit_test(test_host_matched_by_alertpost),
    };

    if (argc != 2) {
        fprintf(stderr, "usage: test_tls_glue PKI_DIR\n");
        return 2;
    }
    g_pki = argv[1];
    (void)signal(SIGPIPE, SIG_IGN); /* the server child may write to a gone client */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
