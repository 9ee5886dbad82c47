/*
 * The TLS-glue tests' two ends.
 *
 * A real Mbed TLS server: a forked child on loopback
 * serving one connection, built against the same Mbed TLS line as the test
 * (3.6 or 2.28), with the test PKI that tests/integration/pki.py made.
 *
 * The child reports what it saw through a pipe: its handshake result, the
 * client certificate it verified (its subject, or nothing), and the request
 * head it read. A failed handshake leaves the last two empty, which is how
 * the tests assert that nothing reached the server.
 */
#ifndef AP_TLS_TEST_HARNESS_H
#define AP_TLS_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "alertpost/alertpost.h"
#include "alertpost/ap_posix.h"

typedef struct tls_test_server_opts {
    uint16_t max_version;       /* wire value (0x0303 = TLS 1.2); 0: the library's */
    const int *suites;          /* NULL: the library's */
    const char *chain;          /* NULL: ecdsa-chain.pem (key ecdsa.key) */
    /* Ask for a client certificate and require it: verified against this
     * CA file of the PKI; "" accepts none (any CA will do: the test sends
     * no certificate). NULL: no client certificate asked for. */
    const char *client_ca;
    /* 2: serve two connections, one after the other, with ticket keys
     * (TLS 1.2 and 1.3), so the second may resume the first's session.
     * 0 or 1: one connection, no tickets. */
    int connections;
    /* With connections 2 (Mbed TLS builds with TLS 1.3 early data): 1, its
     * tickets grant early data and both connections accept it; 2, tickets
     * grant it but the second connection refuses it; 3, the second reads
     * the early data and then ends the handshake (closes); 4, the second
     * reads the client's first flight and closes without answering (its
     * "early" then says whether that flight had a protected record). */
    int early_data;
} tls_test_server_opts_t;

typedef struct tls_test_server {
    pid_t pid;
    uint16_t port;
    int result_fd; /* the child writes what it received, then exits */
} tls_test_server_t;

typedef struct tls_test_seen {
    int handshake;        /* the server's mbedtls_ssl_handshake() result; 1: none */
    char peer[256];       /* subject of the verified client certificate, "" if none */
    char request[8192];   /* the request head, "" if none */
    /* With connections 2, per connection: its handshake result, whether
     * the server accepted the client's ticket or session ID (resumed), how
     * many "POST /glue" requests arrived (early data and after the handshake
     * together), whether the request arrived as early data, and whether
     * the ClientHello announced early data (its early_data extension). */
    struct {
        int handshake;
        int resumed;
        int posted;
        int early;
        int offered;
    } conn[2];
} tls_test_seen_t;

/* A test program's start: "NAME PKI_DIR" (else usage, exit 2); the PKI
 * directory set, SIGPIPE ignored (a server that closes is a result). */
void tls_test_main_setup(int argc, char **argv, const char *name);

/* The PKI directory every path of the options is relative to. */
void tls_test_server_pki(const char *dir);
void tls_test_path(char *out, size_t size, const char *name);

void tls_test_server_start(tls_test_server_t *s, const tls_test_server_opts_t *o);

/* The next server started with connections 2 offers at most version (a
 * wire value) on its second connection, max_version on its first. */
void tls_test_server_lower_second(uint16_t version);

/* The next server started with connections 2 issues no tickets: it keeps
 * TLS 1.2 sessions in a cache, by session ID (conn[].resumed then says
 * that the cache had the client's session). */
void tls_test_server_session_ids(void);
void tls_test_server_finish(tls_test_server_t *s, tls_test_seen_t *seen);

/*
 * The client: the real core over the POSIX port, posting to
 * https://localhost:PORT/glue (connecting to 127.0.0.1) with root.pem as
 * its anchors. tls_test_client_config() fills cfg with that; the test
 * changes what it needs, then tls_test_client_post() initialises the client
 * (asserting AP_OK) and posts one empty request.
 */
typedef struct tls_test_client {
    ap_posix_conn_t conn;
    ap_transport_t transport;
    ap_platform_t platform;
    ap_client_config_t cfg;
    ap_client_t c;
    uint8_t work[1024];
    unsigned char *anchors;
    char url[64];
} tls_test_client_t;

void tls_test_client_config(tls_test_client_t *cl, uint16_t port);
ap_status_t tls_test_client_post(tls_test_client_t *cl);

/* A server of two connections (with ticket keys, up to TLS version
 * `version`, early_data as in tls_test_server_opts_t) started, and cl
 * configured for it: connections not kept alive, the same tls_max. The
 * test changes what it needs, then initialises the client. */
void tls_test_two_connections(tls_test_server_t *s, tls_test_client_t *cl, uint16_t version,
                              int early_data);
void tls_test_client_done(tls_test_client_t *cl);

/* A file of the PKI, NUL-terminated (the NUL counted in *len, as PEM is
 * given to the core); the caller frees it. */
unsigned char *tls_test_read(const char *name, size_t *len);

/* Mbed TLS 3.6: the EC key of a PEM file of the PKI imported into PSA, to
 * sign (ECDSA, any hash) and never be exported: volatile, or persistent
 * under persistent_id if that is not 0. PSA is initialised and left so.
 * Returns its key id. */
uint32_t tls_test_psa_sign_key(const char *name, uint32_t persistent_id);

#endif /* AP_TLS_TEST_HARNESS_H */
