/*
 * The TLS-glue tests' two ends (tls_test_harness.h). The server serves one
 * connection in a forked child and reports it as
 * "H<handshake result>\nP<client subject>\n<request>".
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
#include <unistd.h>

#include "tls_test_harness.h"

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/ssl_cache.h"
#include "mbedtls/ssl_ticket.h"
#include "mbedtls/version.h"
#include "mbedtls/x509_crt.h"
#if MBEDTLS_VERSION_MAJOR >= 3
#include "psa/crypto.h"
#endif

static const char *g_pki = ".";
static uint16_t g_second_max; /* tls_test_server_lower_second() */
static bool g_session_ids;    /* tls_test_server_session_ids() */

void tls_test_server_lower_second(uint16_t version)
{
    g_second_max = version;
}

void tls_test_server_session_ids(void)
{
    g_session_ids = true;
}

void tls_test_server_pki(const char *dir)
{
    g_pki = dir;
}

void tls_test_main_setup(int argc, char **argv, const char *name)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PKI_DIR\n", name);
        exit(2);
    }
    tls_test_server_pki(argv[1]);
    (void)signal(SIGPIPE, SIG_IGN);
}

void tls_test_path(char *out, size_t size, const char *name)
{
    (void)snprintf(out, size, "%s/%s", g_pki, name);
}

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

typedef struct srv {
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt chain;
    mbedtls_x509_crt client_ca;
    mbedtls_pk_context key;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_ticket_context ticket;
    mbedtls_ssl_cache_context cache;
    int ticket_accepted;  /* the current connection's ticket parsed, or its ID found */
} srv_t;

/* The callbacks share the server: the writer is Mbed TLS's own. */
static int srv_ticket_write(void *p, const mbedtls_ssl_session *session, unsigned char *start,
                            const unsigned char *end, size_t *tlen, uint32_t *lifetime)
{
    return mbedtls_ssl_ticket_write(&((srv_t *)p)->ticket, session, start, end, tlen,
                                    lifetime);
}

/* Mbed TLS's own ticket parser, noting that a ticket was accepted: how the
 * server learns, through public API on both lines, that it resumed. */
static int srv_ticket_parse(void *p, mbedtls_ssl_session *session, unsigned char *buf,
                            size_t len)
{
    srv_t *v = p;
    int ret = mbedtls_ssl_ticket_parse(&v->ticket, session, buf, len);

    if (ret == 0) {
        v->ticket_accepted = 1;
    }
    return ret;
}

/* Mbed TLS's own session cache, noting that a session was found there. */
#if MBEDTLS_VERSION_MAJOR >= 3
static int srv_cache_get(void *p, unsigned char const *id, size_t id_len,
                         mbedtls_ssl_session *session)
{
    srv_t *v = p;
    int ret = mbedtls_ssl_cache_get(&v->cache, id, id_len, session);

    v->ticket_accepted |= ret == 0;
    return ret;
}

static int srv_cache_set(void *p, unsigned char const *id, size_t id_len,
                         const mbedtls_ssl_session *session)
{
    return mbedtls_ssl_cache_set(&((srv_t *)p)->cache, id, id_len, session);
}
#else
static int srv_cache_get(void *p, mbedtls_ssl_session *session)
{
    srv_t *v = p;
    int ret = mbedtls_ssl_cache_get(&v->cache, session);

    v->ticket_accepted |= ret == 0;
    return ret;
}

static int srv_cache_set(void *p, const mbedtls_ssl_session *session)
{
    return mbedtls_ssl_cache_set(&((srv_t *)p)->cache, session);
}
#endif

static int load_credentials(srv_t *v, const tls_test_server_opts_t *o)
{
    char path[512];
    const char *chain = o->chain != NULL ? o->chain : "ecdsa-chain.pem";

    tls_test_path(path, sizeof path, chain);
    if (mbedtls_x509_crt_parse_file(&v->chain, path) != 0) {
        return 3;
    }
    tls_test_path(path, sizeof path, strncmp(chain, "rsa", 3) == 0 ? "rsa.key" : "ecdsa.key");
#if MBEDTLS_VERSION_MAJOR >= 3
    if (mbedtls_pk_parse_keyfile(&v->key, path, NULL, mbedtls_ctr_drbg_random, &v->drbg) != 0) {
#else
    if (mbedtls_pk_parse_keyfile(&v->key, path, NULL) != 0) {
#endif
        return 4;
    }
    if (o->client_ca != NULL) {
        /* "": any CA will do, the client sends no certificate at all */
        tls_test_path(path, sizeof path, o->client_ca[0] ? o->client_ca : chain);
        if (mbedtls_x509_crt_parse_file(&v->client_ca, path) != 0) {
            return 11;
        }
    }
    return 0;
}

static void set_max_version(mbedtls_ssl_config *conf, uint16_t version)
{
#if MBEDTLS_VERSION_MAJOR >= 3
    mbedtls_ssl_conf_max_tls_version(conf, (mbedtls_ssl_protocol_version)version);
#else
    mbedtls_ssl_conf_max_version(conf, 3, version & 0xFF);
#endif
}

static int configure(srv_t *v, const tls_test_server_opts_t *o)
{
    if (mbedtls_ssl_config_defaults(&v->conf, MBEDTLS_SSL_IS_SERVER,
                                    MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
        return 5;
    }
    mbedtls_ssl_conf_rng(&v->conf, mbedtls_ctr_drbg_random, &v->drbg);
    if (mbedtls_ssl_conf_own_cert(&v->conf, &v->chain, &v->key) != 0) {
        return 6;
    }
    if (o->max_version != 0) {
        set_max_version(&v->conf, o->max_version);
    }
    if (o->suites != NULL) {
        mbedtls_ssl_conf_ciphersuites(&v->conf, o->suites);
    }
    if (o->client_ca != NULL) {
        mbedtls_ssl_conf_ca_chain(&v->conf, &v->client_ca, NULL);
        mbedtls_ssl_conf_authmode(&v->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    }
    if (o->connections > 1 && g_session_ids) {
        mbedtls_ssl_conf_session_cache(&v->conf, v, srv_cache_get, srv_cache_set);
    } else if (o->connections > 1) {
        if (mbedtls_ssl_ticket_setup(&v->ticket, mbedtls_ctr_drbg_random, &v->drbg,
                                     MBEDTLS_CIPHER_AES_256_GCM, 300) != 0) {
            return 12;
        }
        mbedtls_ssl_conf_session_tickets_cb(&v->conf, srv_ticket_write,
                                            srv_ticket_parse, v);
    }
    return mbedtls_ssl_setup(&v->ssl, &v->conf) != 0 ? 7 : 0;
}

/* After a handshake: the request head, then a 200 and close_notify. */
static int answer(srv_t *v, int out_fd)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    unsigned char req[8192];
    size_t req_len = 0;
    int ret;

    /* The client's requests here have no body: the head is the request. */
    while (req_len < sizeof req && (req_len < 4 || memcmp(req + req_len - 4, "\r\n\r\n", 4))) {
        ret = mbedtls_ssl_read(&v->ssl, req + req_len, sizeof req - req_len);
        if (ret <= 0) {
            break;
        }
        req_len += (size_t)ret;
    }
    if (req_len > 0 && write(out_fd, req, req_len) < 0) {
        return 10;
    }
    (void)mbedtls_ssl_write(&v->ssl, (const unsigned char *)ok, sizeof ok - 1);
    (void)mbedtls_ssl_close_notify(&v->ssl);
    return 0;
}

/* Close a connection whose handshake failed only once the client has
 * stopped sending (its end of stream, or the 10 s receive timeout). Closing
 * with the rest of its flight unread would make the kernel answer with a
 * reset, which can overtake the alert just sent: the tests assert what the
 * client makes of that alert, so the server lingers, as nginx's lingering
 * close does. */
static void linger_close(int fd)
{
    unsigned char sink[512];
    int rounds = 0;

    (void)shutdown(fd, SHUT_WR);
    while (rounds++ < 64 && read(fd, sink, sizeof sink) > 0) {
    }
    (void)close(fd);
}

/* A connection of serve_again(): its socket, and the client's first bytes,
 * where its ClientHello is read. */
typedef struct srv_conn {
    int fd;
    unsigned char first[4096];
    size_t first_len;
} srv_conn_t;

static int srv_recv_kept(void *ctx, unsigned char *buf, size_t len)
{
    srv_conn_t *k = ctx;
    int n = srv_recv(&k->fd, buf, len);

    if (n > 0) {
        size_t take = sizeof k->first - k->first_len;

        take = (size_t)n < take ? (size_t)n : take;
        memcpy(k->first + k->first_len, buf, take);
        k->first_len += take;
    }
    return n;
}

static size_t be16(const unsigned char *p)
{
    return ((size_t)p[0] << 8) | p[1];
}

/* Does the ClientHello in the record at p carry the early_data extension
 * (type 42)? Past the record and handshake headers, the version and the
 * random: the session id, the suites and the compression methods, then the
 * extensions. */
static int hello_offers_early_data(const unsigned char *p, size_t n)
{
    size_t off = 5 + 4 + 2 + 32;
    size_t end;

    if (n < off + 1 || p[0] != 22 || p[5] != 1) {
        return 0;
    }
    off += 1 + p[off];
    if (off + 2 > n) {
        return 0;
    }
    off += 2 + be16(p + off);
    if (off + 1 > n) {
        return 0;
    }
    off += 1 + p[off];
    if (off + 2 > n) {
        return 0;
    }
    end = off + 2 + be16(p + off);
    for (off += 2; off + 4 <= end && off + 4 <= n; off += 4 + be16(p + off + 2)) {
        if (be16(p + off) == 42) {
            return 1;
        }
    }
    return 0;
}

static int count_posts(const unsigned char *req, size_t len)
{
    int posts = 0;
    size_t i;

    for (i = 0; i + 10 <= len; i++) {
        posts += memcmp(req + i, "POST /glue", 10) == 0;
    }
    return posts;
}

/* The handshake, reading what arrives as early data into req; with
 * abort_after_early, it ends (-1) once early data has been read. */
static int handshake_reading_early(srv_t *v, unsigned char *req, size_t size, size_t *early,
                                   int abort_after_early)
{
    int ret;

    *early = 0;
    do {
        ret = mbedtls_ssl_handshake(&v->ssl);
#if defined(MBEDTLS_SSL_EARLY_DATA) && defined(MBEDTLS_SSL_SRV_C)
        if (ret == MBEDTLS_ERR_SSL_RECEIVED_EARLY_DATA) {
            int m = mbedtls_ssl_read_early_data(&v->ssl, req + *early, size - *early);

            *early += m > 0 ? (size_t)m : 0;
            ret = abort_after_early ? -1 : MBEDTLS_ERR_SSL_WANT_READ;
        }
#else
        (void)req;
        (void)size;
        (void)abort_after_early;
#endif
    } while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
    return ret;
}

/* Reads the client's first flight until a protected record (its early data)
 * is whole, or the client stops; 1 if one came. */
static int read_first_flight(srv_conn_t *k)
{
    unsigned char buf[512];
    size_t off;
    int n;

    while ((n = srv_recv_kept(k, buf, sizeof buf)) > 0) {
        for (off = 0; off + 5 <= k->first_len; off += 5 + be16(k->first + off + 3)) {
            if (k->first[off] == 23 && off + 5 + be16(k->first + off + 3) <= k->first_len) {
                return 1;
            }
        }
    }
    return 0;
}

static void set_early_data(srv_t *v, int on)
{
#if defined(MBEDTLS_SSL_EARLY_DATA) && defined(MBEDTLS_SSL_SRV_C)
    mbedtls_ssl_conf_early_data(&v->conf, on ? MBEDTLS_SSL_EARLY_DATA_ENABLED
                                             : MBEDTLS_SSL_EARLY_DATA_DISABLED);
#else
    (void)v;
    (void)on;
#endif
}

/* One of two connections: "C<handshake> <resumed> <posts> <early> <offered>\n". */
static int serve_again(srv_t *v, int listen_fd, int out_fd, int early_data)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    static srv_conn_t k;
    struct pollfd pfd = {listen_fd, POLLIN, 0};
    struct timeval tv = {10, 0};
    unsigned char req[1024];
    size_t early = 0;
    size_t len;
    char line[64];
    int ret;
    int n = 0;

    if (poll(&pfd, 1, 10000) != 1 || (k.fd = accept(listen_fd, NULL, NULL)) < 0) {
        return 8;
    }
    k.first_len = 0;
    (void)setsockopt(k.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    v->ticket_accepted = 0;
    set_early_data(v, early_data == 1 || early_data >= 3);
    (void)mbedtls_ssl_session_reset(&v->ssl);
    mbedtls_ssl_set_bio(&v->ssl, &k, srv_send, srv_recv_kept, NULL);
    if (early_data == 4) {
        /* the first flight, then a close with no answer at all */
        int protected_record = read_first_flight(&k);

        (void)snprintf(line, sizeof line, "C-1 0 0 %d %d\n", protected_record,
                       hello_offers_early_data(k.first, k.first_len));
        (void)close(k.fd);
        return write(out_fd, line, strlen(line)) < 0 ? 9 : 0;
    }
    ret = handshake_reading_early(v, req, sizeof req - 1, &early, early_data == 3);
    len = early;
    if (ret == 0) {
        /* a request whole in the early data is answered without waiting */
        req[len] = '\0';
        if (strstr((const char *)req, "\r\n\r\n") == NULL) {
            n = mbedtls_ssl_read(&v->ssl, req + len, sizeof req - 1 - len);
            len += n > 0 ? (size_t)n : 0;
        }
        (void)mbedtls_ssl_write(&v->ssl, (const unsigned char *)ok, sizeof ok - 1);
        (void)mbedtls_ssl_close_notify(&v->ssl);
    }
    (void)snprintf(line, sizeof line, "C%d %d %d %d %d\n", ret, v->ticket_accepted,
                   count_posts(req, len), count_posts(req, early) > 0,
                   hello_offers_early_data(k.first, k.first_len));
    (void)close(k.fd);
    return write(out_fd, line, strlen(line)) < 0 ? 9 : 0;
}

/* Child: one TLS connection (or two, see tls_test_server_opts_t). */
static int serve_one(int listen_fd, int out_fd, const tls_test_server_opts_t *o)
{
    static srv_t v;
    struct pollfd pfd = {listen_fd, POLLIN, 0};
    struct timeval tv = {10, 0};
    const mbedtls_x509_crt *peer;
    char line[320];
    int fd;
    int ret;

#if MBEDTLS_VERSION_MAJOR >= 3
    (void)psa_crypto_init();
#endif
    mbedtls_ssl_init(&v.ssl);
    mbedtls_ssl_config_init(&v.conf);
    mbedtls_x509_crt_init(&v.chain);
    mbedtls_x509_crt_init(&v.client_ca);
    mbedtls_pk_init(&v.key);
    mbedtls_entropy_init(&v.entropy);
    mbedtls_ctr_drbg_init(&v.drbg);
    mbedtls_ssl_ticket_init(&v.ticket);
    mbedtls_ssl_cache_init(&v.cache);
    if (mbedtls_ctr_drbg_seed(&v.drbg, mbedtls_entropy_func, &v.entropy, NULL, 0) != 0) {
        return 2;
    }
    if ((ret = load_credentials(&v, o)) != 0 || (ret = configure(&v, o)) != 0) {
        return ret;
    }
    if (o->connections > 1) {
        /* the first connection grants early data whenever the test wants some */
        if ((ret = serve_again(&v, listen_fd, out_fd, o->early_data != 0)) != 0) {
            return ret;
        }
        if (g_second_max != 0) {
            set_max_version(&v.conf, g_second_max);
        }
        return serve_again(&v, listen_fd, out_fd, o->early_data);
    }
    if (poll(&pfd, 1, 10000) != 1 || (fd = accept(listen_fd, NULL, NULL)) < 0) {
        return 8;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    mbedtls_ssl_set_bio(&v.ssl, &fd, srv_send, srv_recv, NULL);
    do {
        ret = mbedtls_ssl_handshake(&v.ssl);
    } while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
    peer = (ret == 0) ? mbedtls_ssl_get_peer_cert(&v.ssl) : NULL;
    (void)snprintf(line, sizeof line, "H%d\nP", ret);
    if (peer != NULL) {
        size_t n = strlen(line);

        (void)mbedtls_x509_dn_gets(line + n, sizeof line - n - 1, &peer->subject);
    }
    (void)strncat(line, "\n", sizeof line - strlen(line) - 1);
    if (write(out_fd, line, strlen(line)) < 0) {
        return 9;
    }
    if (ret != 0) {
        linger_close(fd);
        return 0;
    }
    if ((ret = answer(&v, out_fd)) != 0) {
        return ret;
    }
    (void)close(fd);
    return 0;
}

void tls_test_server_start(tls_test_server_t *s, const tls_test_server_opts_t *o)
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
    g_second_max = 0; /* the child has them; the next server serves as configured */
    g_session_ids = false;
    (void)close(pipefd[1]);
    (void)close(lfd);
    s->result_fd = pipefd[0];
}

void tls_test_server_finish(tls_test_server_t *s, tls_test_seen_t *seen)
{
    char buf[8192 + 512];
    size_t len = 0;
    ssize_t n;
    int status = 0;
    char *nl;
    char *nl2;

    while (len < sizeof buf - 1 && (n = read(s->result_fd, buf + len, sizeof buf - 1 - len)) > 0) {
        len += (size_t)n;
    }
    buf[len] = '\0';
    (void)close(s->result_fd);
    assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    seen->handshake = 1; /* "never reached the handshake" unless told otherwise */
    seen->peer[0] = '\0';
    seen->request[0] = '\0';
    memset(seen->conn, 0, sizeof seen->conn);
    seen->conn[0].handshake = seen->conn[1].handshake = 1;
    if (len > 0 && buf[0] == 'C') {
        (void)sscanf(buf, "C%d %d %d %d %d\nC%d %d %d %d %d", &seen->conn[0].handshake,
                     &seen->conn[0].resumed, &seen->conn[0].posted, &seen->conn[0].early,
                     &seen->conn[0].offered, &seen->conn[1].handshake, &seen->conn[1].resumed,
                     &seen->conn[1].posted, &seen->conn[1].early, &seen->conn[1].offered);
        return;
    }
    if (len > 0 && buf[0] == 'H' && (nl = strchr(buf, '\n')) != NULL && nl[1] == 'P' &&
        (nl2 = strchr(nl + 1, '\n')) != NULL) {
        seen->handshake = atoi(buf + 1);
        *nl2 = '\0';
        (void)snprintf(seen->peer, sizeof seen->peer, "%s", nl + 2);
        (void)snprintf(seen->request, sizeof seen->request, "%s", nl2 + 1);
    }
}

#if MBEDTLS_VERSION_MAJOR >= 3
uint32_t tls_test_psa_sign_key(const char *name, uint32_t persistent_id)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    mbedtls_svc_key_id_t got;
    mbedtls_pk_context pk;
    size_t len = 0;
    unsigned char *pem = tls_test_read(name, &len);

    mbedtls_pk_init(&pk);
    assert_int_equal(psa_crypto_init(), PSA_SUCCESS);
    assert_int_equal(mbedtls_pk_parse_key(&pk, pem, len, NULL, 0, NULL, NULL), 0);
    assert_int_equal(mbedtls_pk_get_psa_attributes(&pk, PSA_KEY_USAGE_SIGN_HASH, &attr), 0);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_HASH); /* no EXPORT, no COPY */
    psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_ANY_HASH));
    if (persistent_id != 0) {
        psa_set_key_lifetime(&attr, PSA_KEY_LIFETIME_PERSISTENT);
        psa_set_key_id(&attr, mbedtls_svc_key_id_make(0, persistent_id));
    }
    assert_int_equal(mbedtls_pk_import_into_psa(&pk, &attr, &got), 0);
    mbedtls_pk_free(&pk);
    free(pem);
    return MBEDTLS_SVC_KEY_ID_GET_KEY_ID(got);
}
#endif

/* ---- the client ---- */

unsigned char *tls_test_read(const char *name, size_t *len)
{
    char path[512];
    FILE *f;
    unsigned char *buf = malloc(65536);
    size_t n;

    tls_test_path(path, sizeof path, name);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_non_null(buf);
    n = fread(buf, 1, 65535, f);
    (void)fclose(f);
    buf[n] = '\0';
    *len = n + 1;
    return buf;
}

void tls_test_client_config(tls_test_client_t *cl, uint16_t port)
{
    size_t len = 0;

    (void)snprintf(cl->url, sizeof cl->url, "https://localhost:%u/glue", (unsigned)port);
    cl->anchors = tls_test_read("root.pem", &len);
    ap_posix_transport_init(&cl->transport, &cl->conn);
    ap_posix_platform_init(&cl->platform);
    ap_client_config_defaults(&cl->cfg);
    cl->cfg.url = cl->url;
    cl->cfg.connect_host = "127.0.0.1";
    cl->cfg.transport = &cl->transport;
    cl->cfg.platform = &cl->platform;
    cl->cfg.ca_pem = cl->anchors;
    cl->cfg.ca_pem_len = len;
    cl->cfg.work_buf = cl->work;
    cl->cfg.work_buf_size = sizeof cl->work;
    cl->cfg.deadline_ms = 10000;
}

ap_status_t tls_test_client_post(tls_test_client_t *cl)
{
    ap_request_t req;
    ap_response_t resp;
    ap_status_t st = ap_client_init(&cl->c, &cl->cfg);

    if (st != AP_OK) {
        print_message("init: %s\n", ap_client_error(&cl->c));
    }
    assert_int_equal(st, AP_OK);
    memset(&req, 0, sizeof req);
    memset(&resp, 0, sizeof resp);
    st = ap_post(&cl->c, &req, &resp);
    ap_client_close(&cl->c);
    return st;
}

void tls_test_two_connections(tls_test_server_t *s, tls_test_client_t *cl, uint16_t version,
                              int early_data)
{
    tls_test_server_opts_t o;

    memset(&o, 0, sizeof o);
    o.max_version = version;
    o.connections = 2;
    o.early_data = early_data;
    memset(cl, 0, sizeof(*cl));
    tls_test_server_start(s, &o);
    tls_test_client_config(cl, s->port);
    cl->cfg.keep_alive = false;
    cl->cfg.tls_max = (ap_tls_version_t)version;
}

void tls_test_client_done(tls_test_client_t *cl)
{
    ap_client_free(&cl->c);
    free(cl->anchors);
    cl->anchors = NULL;
}
