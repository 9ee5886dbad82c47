/*
 * The naive client that alertpost replaces, kept as a test witness.
 *
 * It is written the way the original alert poster was: Mbed TLS 2.28 with the
 * library defaults and no call to mbedtls_ssl_conf_min_version(). It does
 * verify the server's certificate against the test CA and the host name, so
 * that when it negotiates TLS 1.0 the protocol version is the only thing wrong.
 * The integration test runs it and alertpost-mbedtls2 (the same Mbed TLS
 * build) against one TLS 1.0-only server: this one completes "TLSv1.0",
 * alertpost refuses.
 *
 * usage: legacy_client CA_PEM PORT [HOST_NAME]
 * Connects to 127.0.0.1:PORT only. Prints "negotiated <version> <suite>" and
 * exits 0 after a complete, verified handshake; exits 1 on any failure.
 */
#define _POSIX_C_SOURCE 200112L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/error.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

static int legacy_send(void *ctx, const unsigned char *buf, size_t len)
{
    int fd = *(int *)ctx;
    ssize_t n = send(fd, buf, len, 0);
    if (n < 0) {
        return (errno == EINTR) ? MBEDTLS_ERR_SSL_WANT_WRITE : MBEDTLS_ERR_NET_SEND_FAILED;
    }
    return (int)n;
}

static int legacy_recv(void *ctx, unsigned char *buf, size_t len)
{
    int fd = *(int *)ctx;
    ssize_t n = recv(fd, buf, len, 0);
    if (n < 0) {
        if (errno == EINTR) {
            return MBEDTLS_ERR_SSL_WANT_READ;
        }
        /* SO_RCVTIMEO expired: give up rather than wait on a silent server. */
        return MBEDTLS_ERR_NET_RECV_FAILED;
    }
    return (int)n;
}

static int connect_loopback(const char *port_text)
{
    char *end = NULL;
    long port = strtol(port_text, &end, 10);
    struct sockaddr_in sa;
    struct timeval tv;
    int fd;

    if (end == port_text || *end != '\0' || port <= 0 || port > 65535) {
        fprintf(stderr, "legacy_client: bad port '%s'\n", port_text);
        return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr) != 1) {
        return -1;
    }
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        perror("legacy_client: socket");
        return -1;
    }
    /* Bounded waits: a test witness must never hang the suite. */
    tv.tv_sec = 10;
    tv.tv_usec = 0;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("legacy_client: connect");
        close(fd);
        return -1;
    }
    return fd;
}

static void print_mbedtls_error(const char *what, int ret)
{
    char text[160];
    mbedtls_strerror(ret, text, sizeof text);
    fprintf(stderr, "legacy_client: %s: -0x%04x %s\n", what, (unsigned)-ret, text);
}

int main(int argc, char **argv)
{
    static const char pers[] = "legacy_client";
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    const char *host = (argc > 3) ? argv[3] : "localhost";
    int fd = -1;
    int status = 1;
    int ret;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: legacy_client CA_PEM PORT [HOST_NAME]\n");
        return 2;
    }

    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_x509_crt_init(&ca);
    mbedtls_ssl_config_init(&conf);
    mbedtls_ssl_init(&ssl);

    ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                                (const unsigned char *)pers, sizeof pers - 1);
    if (ret != 0) {
        print_mbedtls_error("ctr_drbg_seed", ret);
        goto out;
    }
    ret = mbedtls_x509_crt_parse_file(&ca, argv[1]);
    if (ret != 0) {
        print_mbedtls_error("loading the CA", ret);
        goto out;
    }
    ret = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                      MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) {
        print_mbedtls_error("ssl_config_defaults", ret);
        goto out;
    }
    /* The original client's one line of hardening: it did verify the peer.
     * What it never did is mbedtls_ssl_conf_min_version(): that is the point. */
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);

    ret = mbedtls_ssl_setup(&ssl, &conf);
    if (ret != 0) {
        print_mbedtls_error("ssl_setup", ret);
        goto out;
    }
    ret = mbedtls_ssl_set_hostname(&ssl, host);
    if (ret != 0) {
        print_mbedtls_error("set_hostname", ret);
        goto out;
    }

    fd = connect_loopback(argv[2]);
    if (fd < 0) {
        goto out;
    }
    mbedtls_ssl_set_bio(&ssl, &fd, legacy_send, legacy_recv, NULL);

    do {
        ret = mbedtls_ssl_handshake(&ssl);
    } while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
    if (ret != 0) {
        print_mbedtls_error("handshake", ret);
        if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
            fprintf(stderr, "legacy_client: verify flags 0x%08x\n",
                    (unsigned)mbedtls_ssl_get_verify_result(&ssl));
        }
        goto out;
    }

    printf("negotiated %s %s\n", mbedtls_ssl_get_version(&ssl), mbedtls_ssl_get_ciphersuite(&ssl));
    fflush(stdout);
    (void)mbedtls_ssl_close_notify(&ssl);
    status = 0;

out:
    if (fd >= 0) {
        close(fd);
    }
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&ca);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    return status;
}
