/*
 * alert_poster: posts one alert over HTTPS from an MPS2 board under QEMU,
 * with the alertpost core, the lwIP port (lwIP 2.2 or 2.1) and Mbed TLS 3.6
 * (TLS 1.2 and 1.3) or 2.28 (TLS 1.2 only; see ALERTPOST_FIRMWARE_MBEDTLS).
 *
 * Run-time settings come from the QEMU command line through semihosting
 * (-semihosting-config enable=on,target=native,arg=alert_poster,arg=ca=PATH):
 *   ca=PATH       trust anchors (PEM) to read from the host; default
 *                 "alertpost-ca.pem" in QEMU's working directory. They are
 *                 read at boot, not compiled in, so a test can make a fresh
 *                 PKI for every run.
 *   seq=N         the alert's sequence number (default 1).
 *   entropy=none  run with no entropy source, to show TLS is then refused.
 *
 * QEMU's restricted user network has no DNS and no router: the firmware
 * posts to https://localhost:4433/v1/alerts but connects to the guestfwd
 * address 10.0.2.100, and the certificate is verified for "localhost".
 *
 * The program's exit status (QEMU's, through semihosting) is the verdict:
 * 0 only when the alert was delivered (2xx, whole response); the other
 * values, one per failure class, are listed in ALERT_EXIT_* below and in
 * boards/mps2/README.md.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertpost/alertpost.h"
#include "alertpost/ap_lwip.h"
#include "lan9118.h"
#include "mps2.h"
#include "platform.h"

#include "lwip/dhcp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "mbedtls/memory_buffer_alloc.h"

#define ALERT_URL          "https://localhost:4433/v1/alerts"
#define ALERT_CONNECT_HOST "10.0.2.100"
#define ALERT_DEFAULT_CA   "alertpost-ca.pem"

/* QEMU's DHCP answers at once; 15 s leaves room for a slow, loaded host. */
#define ALERT_DHCP_MS 15000u
/*
 * The guestfwd channel accepts the guest's TCP connection even when no
 * server is behind it yet; a sink that is not up shows as a handshake that
 * gets no answer. The I/O timeout therefore decides how soon such an
 * attempt is given up, and the retry window how long the firmware keeps
 * trying: no new attempt starts ALERT_RETRY_WINDOW_MS after the first.
 */
#define ALERT_CONNECT_TIMEOUT_MS 5000u
#define ALERT_IO_TIMEOUT_MS      6000u
#define ALERT_DEADLINE_MS        30000u
#define ALERT_RETRY_WINDOW_MS    20000u
#define ALERT_BACKOFF_FIRST_MS   500u
#define ALERT_BACKOFF_MAX_MS     4000u
/* After the post, keep the stack running briefly so the FIN goes out. */
#define ALERT_LINGER_MS 300u

/*
 * Mbed TLS's heap. One TLS 1.2 or 1.3 session with a 16 KiB input and a
 * 4 KiB output record buffer, the parsed trust anchors and the server's
 * chain, and PSA's key slots; the firmware prints the high-water mark so the
 * size can be cut to measure on a real device.
 */
#define ALERT_TLS_POOL_SIZE (32u * 1024u)
/* Largest trust-anchor file accepted (a few PEM certificates). */
#define ALERT_CA_MAX 4096u

/* Exit statuses: one per failure class. */
enum {
    ALERT_EXIT_DELIVERED = 0,
    ALERT_EXIT_NIC = 2,          /* the LAN9118 did not come up */
    ALERT_EXIT_DHCP = 3,         /* no lease */
    ALERT_EXIT_VERSION = 4,      /* AP_ERR_TLS_VERSION: server below the floor */
    ALERT_EXIT_CERT = 5,         /* AP_ERR_TLS_CERT / AP_ERR_TLS_PIN */
    ALERT_EXIT_NETWORK = 6,      /* connect, timeout, reset or close, after retries */
    ALERT_EXIT_ENTROPY = 7,      /* AP_ERR_ENTROPY: TLS refused to start */
    ALERT_EXIT_ANCHORS = 8,      /* trust anchors unreadable or unusable */
    ALERT_EXIT_HTTP = 9,         /* non-2xx, bad or truncated response */
    ALERT_EXIT_TLS = 10,         /* any other TLS failure */
    ALERT_EXIT_CONFIG = 11       /* bad settings (URL, arguments, buffers) */
};

/* Zero-initialised (in .bss, not .data: its frame buffer would otherwise
 * cost 1.5 KiB of flash); main() sets base and mac. */
static ap_mps2_lan9118_t g_eth;
static struct netif g_netif;
static uint32_t g_start_ms;

/* 8-byte alignment: the pool allocator hands out aligned blocks from it. */
static unsigned char g_tls_pool[ALERT_TLS_POOL_SIZE] __attribute__((aligned(8)));
static uint8_t g_ca[ALERT_CA_MAX + 1u];
static char g_cmdline[256];
static uint8_t g_work[1024];
static uint8_t g_resp_body[256];
static char g_body[256];

static ap_client_t g_client;
static ap_lwip_conn_t g_conn;
static ap_transport_t g_transport;
static ap_platform_t g_platform;

static void net_step(void *ctx)
{
    (void)ctx;
    (void)ap_mps2_lan9118_poll(&g_netif);
    sys_check_timeouts();
}

/* Runs the network for ms milliseconds (a backoff, or a linger). */
static void net_run_for(uint32_t ms)
{
    uint32_t t0 = ap_mps2_now_ms();

    while (ap_mps2_now_ms() - t0 < ms) {
        net_step(NULL);
    }
}

/* The LAN9118 up and a DHCP lease, as net_probe brings them up. */
static bool net_up(void)
{
    uint32_t t0;
    char addr[IP4ADDR_STRLEN_MAX];

    lwip_init();
    if (netif_add(&g_netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, &g_eth,
                  ap_mps2_lan9118_init, ethernet_input) == NULL) {
        return false;
    }
    netif_set_default(&g_netif);
    netif_set_up(&g_netif);
    if (dhcp_start(&g_netif) != ERR_OK) {
        return false;
    }
    t0 = ap_mps2_now_ms();
    while (!dhcp_supplied_address(&g_netif)) {
        if (ap_mps2_now_ms() - t0 >= ALERT_DHCP_MS) {
            return false;
        }
        net_step(NULL);
    }
    printf("alert_poster: dhcp address %s after %" PRIu32 " ms\n",
           ip4addr_ntoa_r(netif_ip4_addr(&g_netif), addr, (int)sizeof addr),
           ap_mps2_now_ms() - g_start_ms);
    return true;
}

/* The value of "key=" among the command line's words, copied into out. */
static bool cmdline_value(const char *key, char *out, size_t out_size)
{
    size_t key_len = strlen(key);
    const char *p = g_cmdline;

    while (*p != '\0') {
        const char *end = strchr(p, ' ');
        size_t word_len = end != NULL ? (size_t)(end - p) : strlen(p);

        if (word_len > key_len && strncmp(p, key, key_len) == 0 && p[key_len] == '=') {
            size_t n = word_len - key_len - 1u;

            if (n >= out_size) {
                return false;
            }
            memcpy(out, p + key_len + 1u, n);
            out[n] = '\0';
            return true;
        }
        p += word_len;
        while (*p == ' ') {
            p++;
        }
    }
    return false;
}

static int exit_class(ap_status_t st)
{
    switch (st) {
    case AP_OK:
        return ALERT_EXIT_DELIVERED;
    case AP_ERR_TLS_VERSION:
        return ALERT_EXIT_VERSION;
    case AP_ERR_TLS_CERT:
    case AP_ERR_TLS_PIN:
        return ALERT_EXIT_CERT;
    case AP_ERR_DNS:
    case AP_ERR_CONNECT:
    case AP_ERR_TIMEOUT:
    case AP_ERR_IO:
    case AP_ERR_CLOSED:
        return ALERT_EXIT_NETWORK;
    case AP_ERR_ENTROPY:
        return ALERT_EXIT_ENTROPY;
    case AP_ERR_TLS_SETUP:
        return ALERT_EXIT_ANCHORS;
    case AP_ERR_HTTP_STATUS:
    case AP_ERR_HTTP_RESPONSE:
    case AP_ERR_TRUNCATED:
    case AP_ERR_OUTCOME_UNKNOWN: /* sent, unanswered: never re-sent without a key */
        return ALERT_EXIT_HTTP;
    case AP_ERR_TLS:
        return ALERT_EXIT_TLS;
    default:
        return ALERT_EXIT_CONFIG;
    }
}

/* Failures a later attempt may not meet: the sink not up yet, a lost
 * connection before any byte of the alert left (ap_post() reports a loss
 * after that as AP_ERR_OUTCOME_UNKNOWN, which is final here: this one-shot
 * poster sends no Idempotency-Key). Everything else is final. */
static bool worth_retrying(ap_status_t st)
{
    return st == AP_ERR_CONNECT || st == AP_ERR_TIMEOUT || st == AP_ERR_IO ||
           st == AP_ERR_CLOSED;
}

static void report_resources(void)
{
    size_t pool_max_used = 0;
    size_t pool_max_blocks = 0;

    mbedtls_memory_buffer_alloc_max_get(&pool_max_used, &pool_max_blocks);
    printf("alert_poster: tls pool high water %u of %u bytes (%u blocks)\n",
           (unsigned)pool_max_used, (unsigned)sizeof g_tls_pool,
           (unsigned)pool_max_blocks);
    printf("alert_poster: stack high water %u of %u bytes\n",
           (unsigned)ap_mps2_stack_high_water(), (unsigned)ap_mps2_stack_size());
    printf("alert_poster: ran %" PRIu32 " ms\n", ap_mps2_now_ms() - g_start_ms);
}

static int finish_failed(ap_status_t st, const char *why)
{
    int code = exit_class(st);

    printf("alert_poster: FAILED status=%s %s\n", ap_status_str(st), why);
    report_resources();
    printf("alert_poster: exit %d\n", code);
    return code;
}

static ap_status_t post_with_retries(const ap_request_t *req, ap_response_t *resp)
{
    uint32_t first = ap_mps2_now_ms();
    uint32_t backoff = ALERT_BACKOFF_FIRST_MS;
    unsigned attempt;

    for (attempt = 1u;; attempt++) {
        ap_status_t st;

        resp->status_code = 0;
        resp->body_len = 0;
        st = ap_post(&g_client, req, resp);
        if (st == AP_OK || !worth_retrying(st)) {
            return st;
        }
        if (ap_mps2_now_ms() - first + backoff >= ALERT_RETRY_WINDOW_MS) {
            printf("alert_poster: attempt %u failed (%s), retry window over\n",
                   attempt, ap_status_str(st));
            return st;
        }
        printf("alert_poster: attempt %u failed (%s: %s), retrying in %" PRIu32 " ms\n",
               attempt, ap_status_str(st), ap_client_error(&g_client), backoff);
        ap_client_close(&g_client);
        net_run_for(backoff);
        backoff = backoff * 2u > ALERT_BACKOFF_MAX_MS ? ALERT_BACKOFF_MAX_MS : backoff * 2u;
    }
}

int main(void)
{
    ap_client_config_t cfg;
    ap_request_t req;
    ap_response_t resp;
    ap_status_t st;
    char ca_path[160] = ALERT_DEFAULT_CA;
    char value[24];
    char device[32];
    unsigned long seq = 1;
    size_t ca_len = 0;
    int body_len;
    int rc;

    g_start_ms = ap_mps2_now_ms();
    {
        static const uint8_t mac[6] = AP_MPS2_LAN9118_DEFAULT_MAC;

        memcpy(g_eth.mac, mac, sizeof mac);
    }
    g_eth.base = ap_mps2_board.lan9118_base;
    printf("alert_poster: board %s (%s), %s\n", ap_mps2_board.name,
           ap_mps2_board.cpu, ap_tls_library_version());

    /* No command line is fine: the defaults apply. */
    (void)ap_mps2_semihost_cmdline(g_cmdline, sizeof g_cmdline);
    (void)cmdline_value("ca", ca_path, sizeof ca_path);
    if (cmdline_value("seq", value, sizeof value)) {
        char *end = NULL;

        seq = strtoul(value, &end, 10);
        if (end == value || *end != '\0') {
            return finish_failed(AP_ERR_BAD_ARG, "seq= is not a number");
        }
    }

    rc = ap_mps2_semihost_read_file(ca_path, g_ca, ALERT_CA_MAX, &ca_len);
    if (rc != 0) {
        printf("alert_poster: cannot read trust anchors from host file %s (%s)\n",
               ca_path, rc == -2 ? "too large" : "not readable");
        return finish_failed(AP_ERR_TLS_SETUP, "no trust anchors");
    }
    g_ca[ca_len] = '\0'; /* PEM is passed with its NUL */
    printf("alert_poster: trust anchors %u bytes from %s\n", (unsigned)ca_len, ca_path);

    /* Before anything of Mbed TLS runs: every allocation comes from here. */
    mbedtls_memory_buffer_alloc_init(g_tls_pool, sizeof g_tls_pool);

    g_platform = ap_mps2_platform();
    if (cmdline_value("entropy", value, sizeof value) && strcmp(value, "none") == 0) {
        printf("alert_poster: running without an entropy source\n");
        g_platform.entropy = NULL;
    }

    ap_lwip_transport_init(&g_transport, &g_conn, net_step, NULL);
    ap_client_config_defaults(&cfg);
    cfg.url = ALERT_URL;
    cfg.connect_host = ALERT_CONNECT_HOST;
    cfg.transport = &g_transport;
    cfg.platform = &g_platform;
    cfg.ca_pem = g_ca;
    cfg.ca_pem_len = ca_len + 1u;
    cfg.connect_timeout_ms = ALERT_CONNECT_TIMEOUT_MS;
    cfg.io_timeout_ms = ALERT_IO_TIMEOUT_MS;
    cfg.deadline_ms = ALERT_DEADLINE_MS;
    cfg.keep_alive = false;
    cfg.work_buf = g_work;
    cfg.work_buf_size = sizeof g_work;
    /* Set up TLS before the network: a board that cannot (no entropy, bad
     * anchors) says so at once. */
    st = ap_client_init(&g_client, &cfg);
    if (st != AP_OK) {
        return finish_failed(st, ap_client_error(&g_client));
    }

    if (!net_up()) {
        printf("alert_poster: no network (LAN9118 or DHCP)\n");
        ap_client_free(&g_client);
        report_resources();
        return netif_is_up(&g_netif) ? ALERT_EXIT_DHCP : ALERT_EXIT_NIC;
    }

    (void)snprintf(device, sizeof device, "mps2-%02x%02x%02x%02x%02x%02x",
                   g_netif.hwaddr[0], g_netif.hwaddr[1], g_netif.hwaddr[2],
                   g_netif.hwaddr[3], g_netif.hwaddr[4], g_netif.hwaddr[5]);
    body_len = snprintf(g_body, sizeof g_body,
                        "{\"device\":\"%s\",\"board\":\"%s\",\"seq\":%lu,"
                        "\"severity\":\"warning\",\"message\":\"alert from %s\"}",
                        device, ap_mps2_board.name, seq, ap_mps2_board.cpu);
    if (body_len < 0 || (size_t)body_len >= sizeof g_body) {
        ap_client_free(&g_client);
        return finish_failed(AP_ERR_NO_SPACE, "alert body does not fit");
    }
    printf("alert_poster: body %s\n", g_body);

    memset(&req, 0, sizeof req);
    req.body = (const uint8_t *)g_body;
    req.body_len = (size_t)body_len;
    memset(&resp, 0, sizeof resp);
    resp.body = g_resp_body;
    resp.body_size = sizeof g_resp_body;

    st = post_with_retries(&req, &resp);
    if (st == AP_OK) {
        const ap_client_info_t *info = ap_client_info(&g_client);

        printf("alert_poster: delivered seq=%lu status=%d tls=%s suite=%s "
               "handshake %" PRIu32 " ms, total %" PRIu32 " ms\n",
               seq, resp.status_code, ap_tls_version_str(info->tls_version),
               info->ciphersuite, info->handshake_ms, info->total_ms);
        ap_client_close(&g_client);
        net_run_for(ALERT_LINGER_MS);
        ap_client_free(&g_client);
        report_resources();
        printf("alert_poster: exit 0\n");
        return ALERT_EXIT_DELIVERED;
    }
    {
        static char why[AP_ERROR_TEXT_SIZE];

        (void)snprintf(why, sizeof why, "%s", ap_client_error(&g_client));
        ap_client_free(&g_client);
        net_run_for(ALERT_LINGER_MS);
        return finish_failed(st, why);
    }
}
