/*
 * A program of a project that uses alertpost, built by the consumer tests
 * (tests/consumers/CMakeLists.txt) against an install and against a clone.
 *
 * It runs the part of the API that needs no server: ap_client_init() over
 * the POSIX port with a real trust anchor (a CA certificate made by the
 * test) must succeed, and the same anchor with its base64 broken must be
 * refused. That proves the headers, the libraries and Mbed TLS link and
 * work together, not only that they link. Then it prints the versions the
 * test checks against the package's.
 *
 *   consumer_main ANCHOR.pem
 * Exit 0: all as expected; 1: something was not (said on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertpost/alertpost.h"
#include "alertpost/ap_posix.h"

/* Room for one CA certificate in PEM; the test's is under 1 KiB. */
#define CONSUMER_PEM_SIZE 8192u

static size_t read_pem(const char *path, uint8_t *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (f == NULL) {
        return 0;
    }
    n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = 0; /* Mbed TLS wants the NUL counted in a PEM's length */
    return n + 1;
}

static ap_status_t init_with(const uint8_t *pem, size_t pem_len, ap_client_t *client)
{
    static uint8_t work[1024];
    static ap_posix_conn_t conn;
    static ap_transport_t transport;
    static ap_platform_t platform;
    ap_client_config_t cfg;

    ap_posix_transport_init(&transport, &conn);
    ap_posix_platform_init(&platform);
    ap_client_config_defaults(&cfg);
    cfg.url = "https://alerts.example.net/v1/alerts";
    cfg.transport = &transport;
    cfg.platform = &platform;
    cfg.ca_pem = pem;
    cfg.ca_pem_len = pem_len;
    cfg.work_buf = work;
    cfg.work_buf_size = sizeof(work);
    return ap_client_init(client, &cfg);
}

int main(int argc, char **argv)
{
    static uint8_t pem[CONSUMER_PEM_SIZE];
    ap_client_t client;
    size_t pem_len;
    char *body;
    ap_status_t st;

    if (argc != 2 || (pem_len = read_pem(argv[1], pem, sizeof(pem))) <= 1) {
        fprintf(stderr, "usage: consumer_main ANCHOR.pem (a readable PEM certificate)\n");
        return 1;
    }
    st = init_with(pem, pem_len, &client);
    if (st != AP_OK) {
        fprintf(stderr, "ap_client_init with %s: %s: %s\n", argv[1], ap_status_str(st),
                ap_client_error(&client));
        return 1;
    }
    ap_client_free(&client);

    /* Break the base64 after the BEGIN line: the anchor no longer parses. */
    body = strstr((char *)pem, "-----\n");
    if (body == NULL || strlen(body) < 16) {
        fprintf(stderr, "%s is not a PEM certificate\n", argv[1]);
        return 1;
    }
    memset(body + 6, '!', 8);
    st = init_with(pem, pem_len, &client);
    ap_client_free(&client);
    if (st != AP_ERR_TLS_SETUP) {
        fprintf(stderr, "a broken anchor gave %s, expected AP_ERR_TLS_SETUP\n", ap_status_str(st));
        return 1;
    }
    printf("alertpost %s on %s: ap_client_init accepted the anchor, refused it broken\n",
           AP_VERSION_STRING, ap_tls_library_version());
    return 0;
}
