/*
 * alert_poster: queues alerts in a flash log (or RAM) and delivers them over
 * HTTPS from an MPS2 board under QEMU, with the alertpost core (its delivery
 * queue and a store), the lwIP port (lwIP 2.2 or 2.1) and Mbed TLS 3.6 (TLS
 * 1.2 and 1.3; the lean profile TLS 1.2 only) or 2.28 (TLS 1.2 only; see
 * ALERTPOST_FIRMWARE_MBEDTLS).
 *
 * Each boot: the alerts of this boot are enqueued, each with its
 * Idempotency-Key, into the store (alert_store.h): the flash log, which a
 * host file holds through semihosting (common/flash_file.h), so alerts left
 * from an earlier boot (killed, or out of time) are still there; or, in the
 * lean profile, a RAM ring, whose alerts left at the end of the run are
 * reported as not delivered. Then the queue is flushed,
 * oldest first, waiting between attempts as the queue's backoff says, for
 * at most the flush window. One console line per queue event (queued,
 * attempt, re-send, delivered, failed, dead-letter, stopped) lets a test
 * follow every alert by its key.
 *
 * Run-time settings come from the QEMU command line through semihosting
 * (-semihosting-config enable=on,target=native,arg=alert_poster,arg=seq=N):
 *   seq=N         the first alert's sequence number (default 1).
 *   count=N       alerts to enqueue at this boot (default 1; 0 delivers only
 *                 what the flash log holds).
 *   flash=PATH    the host file holding the flash log; default
 *                 "alertpost-flash.bin" in QEMU's working directory (a
 *                 RAM-store image ignores it).
 *   window=S      seconds the flush may take before what is left is kept
 *                 for the next boot (default 20).
 *   entropy=none  run with no entropy source, to show TLS is then refused.
 *   ntp=A.B.C.D   the NTP server, when the build takes its time from SNTP
 *                 (AP_MPS2_TIME=sntp; common/wall_clock.h).
 *
 * The trust anchors are not a setting but provisioned data: DER
 * certificates in the anchor region of flash (common/anchors.h), read in
 * place (no copy in RAM, no PEM parser), so a test makes a fresh PKI for
 * every run without rebuilding the image. So is the device's own
 * certificate and key, for servers that require mutual TLS: a record in
 * the identity flash region (common/identity.h), read at boot; on Mbed TLS
 * 3.6 the key is then sealed into PSA (sign-only, not exportable). A blank
 * identity region: no client certificate.
 *
 * QEMU's restricted user network has no DNS and no router: the firmware
 * posts to https://localhost:4433/v1/alerts but connects to the guestfwd
 * address 10.0.2.100, and the certificate is verified for "localhost".
 *
 * The program's exit status (QEMU's, through semihosting) is the verdict:
 * 0 only when every alert was delivered (2xx, whole response) and the
 * store is empty; the other values, one per failure class, are listed
 * in ALERT_EXIT_* below and in boards/mps2/README.md.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alertpost/alertpost.h"
#include "alertpost/ap_lwip.h"
#include "alertpost/ap_queue.h"
#include "alert_store.h"
#include "anchors.h"
#include "identity.h"
#include "lan9118.h"
#include "mps2.h"
#include "platform.h"
#include "wall_clock.h"

#include "lwip/dhcp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "mbedtls/memory_buffer_alloc.h"

#define ALERT_URL           "https://localhost:4433/v1/alerts"
#define ALERT_CONNECT_HOST  "10.0.2.100"
#define ALERT_DEFAULT_FLASH "alertpost-flash.bin"

/* QEMU's DHCP answers at once; 15 s leaves room for a slow, loaded host. */
#define ALERT_DHCP_MS 15000u
/*
 * A chardev guestfwd rule accepts the guest's TCP connection even when no
 * server is behind it yet; a sink that is not up shows as a handshake that
 * gets no answer. The I/O timeout therefore decides how soon such an
 * attempt is given up, and the flush window how long the firmware keeps
 * trying: no attempt starts once the window would be over before it is due.
 */
#define ALERT_CONNECT_TIMEOUT_MS 5000u
#define ALERT_IO_TIMEOUT_MS      6000u
#define ALERT_DEADLINE_MS        30000u
#define ALERT_WINDOW_DEFAULT_S   20u
#define ALERT_WINDOW_MAX_S       3600u
/* Full-jitter backoff between attempts of one alert: short, because a
 * board under QEMU has little time; the queue's defaults suit a host. */
#define ALERT_BACKOFF_BASE_MS 500u
#define ALERT_BACKOFF_CAP_MS  4000u
/* Most alerts one boot enqueues (a bound on a setting, not on the log). */
#define ALERT_COUNT_MAX 32ul
/* How long the boot waits for the first time answer (AP_MPS2_TIME=sntp);
 * without one the time stays unknown and TLS is refused. */
#define ALERT_TIME_WAIT_MS 10000u
/* After the flush, keep the stack running briefly so the FIN goes out. */
#define ALERT_LINGER_MS 300u

#if defined(AP_MPS2_PROFILE_LEAN) && AP_MPS2_PROFILE_LEAN
#define ALERT_LEAN 1
#else
#define ALERT_LEAN 0
#endif

/*
 * Mbed TLS's heap. One TLS 1.2 or 1.3 session with its input record buffer
 * (16 KiB, or 4 KiB in the lean profile) and a 1 KiB output one, the parsed
 * trust anchors and the server's chain, and PSA's key slots; the firmware
 * prints the high-water mark so the size can be cut to measure on a real
 * device. The deepest QEMU case (TLS 1.3, RSA-2048 leaf) peaks at 27.3 KiB;
 * the lean profile, with no RSA, at 11.1 KiB (TLS 1.3, a 12,000-byte
 * response in 1 KiB records), which leaves its pool room for a longer chain.
 */
#if ALERT_LEAN
#define ALERT_TLS_POOL_SIZE (18u * 1024u)
#else
#define ALERT_TLS_POOL_SIZE (32u * 1024u)
#endif
/* One encoded alert: the body, its key and the record's framing. */
#define ALERT_RECORD_SIZE 384u

/* Exit statuses: one per failure class. */
enum {
    ALERT_EXIT_DELIVERED = 0,
    ALERT_EXIT_NIC = 2,          /* the LAN9118 did not come up */
    ALERT_EXIT_DHCP = 3,         /* no lease */
    ALERT_EXIT_VERSION = 4,      /* AP_ERR_TLS_VERSION: server below the floor */
    ALERT_EXIT_CERT = 5,         /* AP_ERR_TLS_CERT / AP_ERR_TLS_PIN */
    ALERT_EXIT_NETWORK = 6,      /* connect, timeout, reset or close, window over */
    ALERT_EXIT_ENTROPY = 7,      /* AP_ERR_ENTROPY: TLS refused to start */
    ALERT_EXIT_ANCHORS = 8,      /* trust anchors unreadable or unusable */
    ALERT_EXIT_HTTP = 9,         /* non-2xx, bad or truncated response, dead-letter */
    ALERT_EXIT_TLS = 10,         /* any other TLS failure */
    ALERT_EXIT_CONFIG = 11,      /* bad settings (URL, arguments, buffers) */
    ALERT_EXIT_STORE = 12,       /* the store (flash file and log, or RAM) unusable, or full */
    ALERT_EXIT_CLIENT_CERT = 13, /* AP_ERR_TLS_CLIENT_CERT: certificate required or refused */
    ALERT_EXIT_IDENTITY = 14     /* the identity region's record or key unusable */
};

/* Zero-initialised (in .bss, not .data: its frame buffer would otherwise
 * cost 1.5 KiB of flash); main() sets base and mac. */
static ap_mps2_lan9118_t g_eth;
static struct netif g_netif;
static uint32_t g_start_ms;

/* 8-byte alignment: the pool allocator hands out aligned blocks from it. */
static unsigned char g_tls_pool[ALERT_TLS_POOL_SIZE] __attribute__((aligned(8)));
static char g_cmdline[256];
static uint8_t g_work[1024];
static char g_body[256];
static uint8_t g_record[ALERT_RECORD_SIZE];

static ap_client_t g_client;
static ap_lwip_conn_t g_conn;
static ap_transport_t g_transport;
static ap_platform_t g_platform;
static ap_identity_t g_identity;

static ap_store_t g_store;
static ap_queue_t g_queue;
static bool g_queue_open; /* a summary means something only once it is */
/* The last failed attempt's status, for the verdict when the window ends. */
static ap_status_t g_last_failure = AP_ERR_TIMEOUT;

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
    case AP_ERR_OUTCOME_UNKNOWN:
        return ALERT_EXIT_HTTP;
    case AP_ERR_TLS:
        return ALERT_EXIT_TLS;
    case AP_ERR_TLS_CLIENT_CERT:
        return ALERT_EXIT_CLIENT_CERT;
    case AP_ERR_STORE_FULL:
    case AP_ERR_STORE_IO:
    case AP_ERR_STORE_CORRUPT:
    case AP_ERR_TOO_LARGE:
        return ALERT_EXIT_STORE;
    default:
        return ALERT_EXIT_CONFIG;
    }
}

/* One console line per queue event, each naming the alert's key, so that
 * a test (or a person) can follow every alert through attempts, re-sends
 * and restarts. */
static void on_queue_event(void *ctx, const ap_queue_event_t *ev)
{
    const char *key = ev->key != NULL ? ev->key : "-";

    (void)ctx;
    switch (ev->kind) {
    case AP_QUEUE_EV_ATTEMPT:
        printf("alert_poster: attempt %" PRIu32 " key=%s\n", ev->attempt, key);
        break;
    case AP_QUEUE_EV_RESEND:
        /* The last attempt may have arrived: the key lets the server drop it. */
        printf("alert_poster: re-send %" PRIu32 " key=%s\n", ev->attempt, key);
        break;
    case AP_QUEUE_EV_DELIVERED: {
        const ap_client_info_t *info = ap_client_info(&g_client);

        printf("alert_poster: delivered key=%s attempt=%" PRIu32 " status=%d tls=%s "
               "suite=%s handshake %" PRIu32 " ms, total %" PRIu32 " ms%s\n",
               key, ev->attempt, ev->http_status, ap_tls_version_str(info->tls_version),
               info->ciphersuite, info->handshake_ms, info->total_ms,
               info->resumed ? ", resumed" : "");
        break;
    }
    case AP_QUEUE_EV_RETRY:
        g_last_failure = ev->status;
        printf("alert_poster: attempt %" PRIu32 " failed (%s: %s), key=%s, retrying in "
               "%" PRIu32 " ms%s\n", ev->attempt, ap_status_str(ev->status),
               ap_client_error(&g_client), key, ev->delay_ms,
               ev->from_retry_after ? " (Retry-After)" : "");
        break;
    case AP_QUEUE_EV_DEAD_LETTER:
        printf("alert_poster: dead-letter key=%s status=%s http=%d: kept in the dead part\n",
               key, ap_status_str(ev->status), ev->http_status);
        break;
    case AP_QUEUE_EV_STOPPED:
        printf("alert_poster: stopped key=%s attempt %" PRIu32 " (%s: %s); every alert "
               "is kept\n", key, ev->attempt, ap_status_str(ev->status),
               ap_client_error(&g_client));
        break;
    default:
        printf("alert_poster: corrupt record set aside (%s); it is kept in the dead part\n",
               ap_status_str(ev->status));
        break;
    }
}

static void report_resources(void)
{
#if defined(MBEDTLS_MEMORY_DEBUG)
    /* Only with AP_MPS2_POOL_STATS: the allocator's bookkeeping for it. */
    size_t pool_max_used = 0;
    size_t pool_max_blocks = 0;

    mbedtls_memory_buffer_alloc_max_get(&pool_max_used, &pool_max_blocks);
    printf("alert_poster: tls pool high water %u of %u bytes (%u blocks)\n",
           (unsigned)pool_max_used, (unsigned)sizeof g_tls_pool,
           (unsigned)pool_max_blocks);
#endif
    printf("alert_poster: stack high water %u of %u bytes\n",
           (unsigned)ap_mps2_stack_high_water(), (unsigned)ap_mps2_stack_size());
    printf("alert_poster: heap %u of %u bytes, %u requests refused\n",
           (unsigned)ap_mps2_heap_used(), (unsigned)ap_mps2_heap_size(),
           (unsigned)ap_mps2_heap_refused());
    printf("alert_poster: ran %" PRIu32 " ms\n", ap_mps2_now_ms() - g_start_ms);
}

static void report_summary(void)
{
    const ap_queue_counters_t *c = ap_queue_counters(&g_queue);
    size_t live = 0;
    size_t dead = 0;

    if (!g_queue_open || c == NULL) {
        return;
    }
    (void)ap_queue_pending(&g_queue, &live, &dead);
    printf("alert_poster: summary queued=%" PRIu32 " delivered=%" PRIu32
           " retried=%" PRIu32 " resent=%" PRIu32 " dead-lettered=%" PRIu32
           " pending=%u dead=%u\n", c->queued, c->delivered, c->retried, c->resent,
           c->dead_lettered, (unsigned)live, (unsigned)dead);
    if (!alert_store_outlives_run && live != 0u) {
        printf("alert_poster: NOT delivered: %u alert(s) left in RAM, lost as this run "
               "ends\n", (unsigned)live);
    }
}

static int finish_failed(ap_status_t st, const char *why)
{
    int code = exit_class(st);

    printf("alert_poster: FAILED status=%s %s\n", ap_status_str(st), why);
#if ALERT_LEAN
    /* A server with only an RSA certificate answers the lean hello with
     * handshake_failure before any certificate is seen: say what this image
     * leaves out, since the alert cannot say why. */
    if (st == AP_ERR_TLS || st == AP_ERR_TLS_VERSION) {
        printf("alert_poster: lean image: TLS 1.2 and ECDSA P-256 certificates only "
               "(no TLS 1.3, no RSA)\n");
    }
#endif
    report_summary();
    report_resources();
    printf("alert_poster: exit %d\n", code);
    return code;
}

/*
 * A numeric setting within [0, max]; false if present but not a decimal
 * number in range. Parsed here rather than with strtoul(), which brings
 * newlib's locale and ctype tables (0.5 KiB of flash) for three settings.
 */
static bool cmdline_number(const char *key, unsigned long max, unsigned long *out)
{
    char value[24];
    unsigned long v = 0;
    size_t i;

    if (!cmdline_value(key, value, sizeof value)) {
        return true;
    }
    for (i = 0; value[i] >= '0' && value[i] <= '9'; i++) {
        unsigned long digit = (unsigned long)(value[i] - '0');

        if (digit > max || v > (max - digit) / 10u) {
            return false;
        }
        v = v * 10u + digit;
    }
    if (i == 0 || value[i] != '\0') {
        return false;
    }
    *out = v;
    return true;
}

/* The store (the flash log recovered from its file, or a RAM ring) and
 * the queue over it. Alerts an earlier boot left in flash keep their keys. */
static ap_status_t queue_open(const char *path)
{
    ap_queue_config_t qc;
    char name[200];
    size_t live = 0;
    size_t dead = 0;
    ap_status_t st = alert_store_open(path, &g_store, name, sizeof name);

    if (st != AP_OK) {
        return st;
    }
    ap_queue_config_defaults(&qc);
    qc.store = &g_store;
    qc.platform = &g_platform;
    qc.post = ap_queue_post_client;
    qc.post_ctx = &g_client;
    qc.backoff_base_ms = ALERT_BACKOFF_BASE_MS;
    qc.backoff_cap_ms = ALERT_BACKOFF_CAP_MS;
    qc.record_buf = g_record;
    qc.record_buf_size = sizeof g_record;
    qc.on_event = on_queue_event;
    st = ap_queue_init(&g_queue, &qc);
    g_queue_open = st == AP_OK;
    if (st == AP_OK) {
        st = ap_queue_pending(&g_queue, &live, &dead);
    }
    if (st == AP_OK) {
        printf("alert_poster: %s holds %u alert(s), %u dead-lettered\n", name,
               (unsigned)live, (unsigned)dead);
    }
    return st;
}

/* Enqueues count alerts, numbered from seq, each with a new key. */
static ap_status_t enqueue_alerts(unsigned long seq, unsigned long count)
{
    char device[32];
    unsigned long i;

    (void)snprintf(device, sizeof device, "mps2-%02x%02x%02x%02x%02x%02x",
                   g_netif.hwaddr[0], g_netif.hwaddr[1], g_netif.hwaddr[2],
                   g_netif.hwaddr[3], g_netif.hwaddr[4], g_netif.hwaddr[5]);
    for (i = 0; i < count; i++) {
        ap_request_t alert;
        char key[AP_QUEUE_KEY_SIZE];
        ap_status_t st;
        int body_len = snprintf(g_body, sizeof g_body,
                                "{\"device\":\"%s\",\"board\":\"%s\",\"seq\":%lu,"
                                "\"severity\":\"warning\",\"message\":\"alert from %s\"}",
                                device, ap_mps2_board.name, seq + i, ap_mps2_board.cpu);

        if (body_len < 0 || (size_t)body_len >= sizeof g_body) {
            return AP_ERR_NO_SPACE;
        }
        memset(&alert, 0, sizeof alert);
        alert.body = (const uint8_t *)g_body;
        alert.body_len = (size_t)body_len;
        st = ap_queue_enqueue(&g_queue, &alert, key);
        if (st != AP_OK) {
            printf("alert_poster: alert seq=%lu NOT queued (%s), nothing evicted\n", seq + i,
                   ap_status_str(st));
            return st;
        }
        printf("alert_poster: queued seq=%lu key=%s body %s\n", seq + i, key, g_body);
    }
    return AP_OK;
}

/*
 * Delivers the queue oldest first. The queue never sleeps: it says how
 * long the oldest alert must wait, and the board runs the network for that
 * long. The flush ends when the log is empty, when the queue stops (a
 * failure about the configuration or the server), or when the next attempt
 * would start after the window; whatever is left stays in flash (in RAM:
 * it is reported as not delivered).
 */
static ap_status_t flush_queue(uint32_t window_ms)
{
    uint32_t t0 = ap_mps2_now_ms();

    for (;;) {
        uint32_t wait_ms = 0;
        ap_status_t st = ap_queue_step(&g_queue, &wait_ms);

        if (st == AP_OK) {
            continue;
        }
        if (st == AP_ERR_STORE_EMPTY) {
            return AP_OK;
        }
        if (st != AP_ERR_QUEUE_BACKOFF) {
            return st;
        }
        if (ap_mps2_now_ms() - t0 + wait_ms >= window_ms) {
            printf("alert_poster: flush window of %" PRIu32 " ms over; the rest %s\n",
                   window_ms, alert_store_outlives_run ? "stays in flash" : "is not delivered");
            return g_last_failure;
        }
        ap_client_close(&g_client);
        net_run_for(wait_ms);
    }
}

/* The client, with TLS set up before the network: a board that cannot (no
 * entropy, bad anchors) says so at once. */
static ap_status_t client_open(const uint8_t *ca, size_t ca_len, bool no_entropy)
{
    ap_client_config_t cfg;

    g_platform = ap_mps2_platform();
    if (no_entropy) {
        printf("alert_poster: running without an entropy source\n");
        g_platform.entropy = NULL;
    }
    ap_lwip_transport_init(&g_transport, &g_conn, net_step, NULL);
    ap_client_config_defaults(&cfg);
    cfg.url = ALERT_URL;
    cfg.connect_host = ALERT_CONNECT_HOST;
    cfg.transport = &g_transport;
    cfg.platform = &g_platform;
    cfg.ca_pem = ca;
    cfg.ca_pem_len = ca_len;
    cfg.identity = (g_identity.cert != NULL) ? &g_identity : NULL;
    cfg.connect_timeout_ms = ALERT_CONNECT_TIMEOUT_MS;
    cfg.io_timeout_ms = ALERT_IO_TIMEOUT_MS;
    cfg.deadline_ms = ALERT_DEADLINE_MS;
    cfg.keep_alive = false;
    cfg.work_buf = g_work;
    cfg.work_buf_size = sizeof g_work;
    return ap_client_init(&g_client, &cfg);
}

/* The DER certificates of the anchor region, in place (anchors.h). */
static const uint8_t *read_anchors(size_t *ca_len)
{
    size_t count = 0;
    const uint8_t *der = ap_mps2_anchors(ca_len, &count);

    if (*ca_len == 0u) {
        printf("alert_poster: no trust anchors: the anchor region at %p holds no DER "
               "certificate\n", (const void *)der);
        return NULL;
    }
    printf("alert_poster: trust anchors %u bytes (%u DER) in flash at %p\n",
           (unsigned)*ca_len, (unsigned)count, (const void *)der);
    return der;
}

#if AP_CLIENT_IDENTITY
/*
 * This device's certificate and key from the identity region, the key
 * sealed into PSA on Mbed TLS 3.6 (identity.h). A blank region is no error:
 * the device then has no client certificate, which only a server that
 * requires one refuses.
 */
static ap_status_t identity_open(const char **why)
{
    size_t size = 0;
    const uint8_t *region = ap_mps2_identity_region(&size);
    ap_mps2_identity_found_t found = ap_mps2_identity_parse(region, size, &g_identity, why);
    ap_status_t st;

    if (found == AP_MPS2_IDENTITY_NONE) {
        printf("alert_poster: identity: none provisioned (region at %p blank)\n",
               (const void *)region);
        return AP_OK;
    }
    if (found == AP_MPS2_IDENTITY_CORRUPT) {
        return AP_ERR_TLS_SETUP;
    }
    st = ap_mps2_identity_seal_key(&g_identity, why);
    if (st != AP_OK) {
        memset(&g_identity, 0, sizeof g_identity);
        return st;
    }
#if AP_CLIENT_KEY_BYTES
    /* Mbed TLS 2.28: no PSA, the key stays bytes (3.6 seals it or fails). */
    if (g_identity.psa_key_id == 0u) {
        printf("alert_poster: identity: certificate %u bytes and key %u bytes from the "
               "identity region at %p (no PSA: the TLS library parses the key)\n",
               (unsigned)g_identity.cert_len, (unsigned)g_identity.key_len,
               (const void *)region);
        return AP_OK;
    }
#endif
    printf("alert_poster: identity: certificate %u bytes from the identity region at %p; "
           "key sealed into PSA as volatile key 0x%08" PRIx32 " (sign-hash only, ECDSA, "
           "not exportable)\n", (unsigned)g_identity.cert_len, (const void *)region,
           g_identity.psa_key_id);
    return AP_OK;
}
#else
/* Built without mutual TLS (AP_MPS2_CLIENT_IDENTITY OFF): the region is not
 * even read, so that none of its code is linked. */
static ap_status_t identity_open(const char **why)
{
    *why = "";
    printf("alert_poster: identity: this firmware is built without mutual TLS\n");
    return AP_OK;
}
#endif

/* A provisioned identity that cannot be used: the boot stops, rather than
 * post without the certificate the device was given. */
static int identity_refused(ap_status_t st, const char *why)
{
    if (st != AP_ERR_TLS_SETUP) {
        return finish_failed(st, why); /* PSA found no entropy */
    }
    printf("alert_poster: FAILED status=%s identity: %s\n", ap_status_str(st), why);
    report_resources();
    printf("alert_poster: exit %d\n", ALERT_EXIT_IDENTITY);
    return ALERT_EXIT_IDENTITY;
}

/* The verdict: 0 only when nothing is left in the live part. why, if not
 * NULL, names the cause instead of the client's last error. */
static int finish(ap_status_t st, const char *why)
{
    static char text[AP_ERROR_TEXT_SIZE];
    size_t live = 0;
    size_t dead = 0;
    int code;

    (void)snprintf(text, sizeof text, "%s", why != NULL ? why : ap_client_error(&g_client));
    ap_client_close(&g_client);
    net_run_for(ALERT_LINGER_MS);
    ap_client_free(&g_client);
    if (st == AP_OK) {
        st = ap_queue_pending(&g_queue, &live, &dead);
    }
    if (st != AP_OK) {
        return finish_failed(st, text);
    }
    report_summary();
    report_resources();
    code = ap_queue_counters(&g_queue)->dead_lettered != 0u ? ALERT_EXIT_HTTP
                                                             : ALERT_EXIT_DELIVERED;
    printf("alert_poster: exit %d\n", code);
    return code;
}

int main(void)
{
    char flash_path[160] = ALERT_DEFAULT_FLASH;
    char value[24];
    unsigned long seq = 1;
    unsigned long count = 1;
    unsigned long window_s = ALERT_WINDOW_DEFAULT_S;
    size_t ca_len = 0;
    const uint8_t *ca;
    ap_status_t st;

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
    (void)cmdline_value("flash", flash_path, sizeof flash_path);
    if (!cmdline_number("seq", 0xFFFFFFFFul - ALERT_COUNT_MAX, &seq) ||
        !cmdline_number("count", ALERT_COUNT_MAX, &count) ||
        !cmdline_number("window", ALERT_WINDOW_MAX_S, &window_s)) {
        return finish_failed(AP_ERR_BAD_ARG, "seq=, count= (at most 32) or window= (at most "
                                             "3600) is not a number in range");
    }

    if (!ap_mps2_wall_clock_init(cmdline_value("ntp", value, sizeof value) ? value : NULL)) {
        return finish_failed(AP_ERR_BAD_ARG, "ntp= is not an IPv4 address");
    }
    ca = read_anchors(&ca_len);
    if (ca == NULL) {
        return finish_failed(AP_ERR_TLS_SETUP, "no trust anchors");
    }
    /* Before anything of Mbed TLS runs: every allocation comes from here. */
    mbedtls_memory_buffer_alloc_init(g_tls_pool, sizeof g_tls_pool);
    {
        const char *why = "";

        st = identity_open(&why);
        if (st != AP_OK) {
            return identity_refused(st, why);
        }
    }
    st = client_open(ca, ca_len, cmdline_value("entropy", value, sizeof value) &&
                                     strcmp(value, "none") == 0);
    if (st != AP_OK) {
        return finish_failed(st, ap_client_error(&g_client));
    }
    st = queue_open(flash_path);
    if (st != AP_OK) {
        ap_client_free(&g_client);
        return finish_failed(st, alert_store_outlives_run ? "flash log unusable"
                                                          : "RAM queue unusable");
    }
    if (!net_up()) {
        printf("alert_poster: no network (LAN9118 or DHCP)\n");
        ap_client_free(&g_client);
        report_resources();
        return netif_is_up(&g_netif) ? ALERT_EXIT_DHCP : ALERT_EXIT_NIC;
    }
    (void)ap_mps2_wall_clock_sync(net_step, NULL, ALERT_TIME_WAIT_MS);
    st = enqueue_alerts(seq, count);
    if (st != AP_OK) {
        /* What was queued before the refusal is still delivered. */
        (void)flush_queue((uint32_t)window_s * 1000u);
        return finish(st, "an alert of this boot was not queued (see above)");
    }
    return finish(flush_queue((uint32_t)window_s * 1000u), NULL);
}
