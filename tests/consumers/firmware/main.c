/*
 * The product's firmware entry point, as far as the consumer test needs it:
 * the platform services alertpost asks for, the poll hook of the lwIP port,
 * and one alert posted at start-up. A real product has its Ethernet driver,
 * SysTick, RTC and TRNG behind these functions; here the hardware is out of
 * scope, so they say "unknown" and "no entropy", and the client refuses to
 * start TLS (AP_ERR_ENTROPY) rather than run without randomness.
 */
#include <stdint.h>

#include "alertpost/alertpost.h"
#include "alertpost/ap_lwip.h"
#include "lwip/init.h"
#include "lwip/timeouts.h"

static volatile uint32_t sensor_ticks_ms; /* a SysTick handler advances it */

uint32_t sys_now(void);
uint32_t sys_now(void)
{
    return sensor_ticks_ms;
}

uint32_t sensor_rand32(void)
{
    return sensor_ticks_ms * 2654435761u; /* TCP port choice only */
}

static uint32_t sensor_now_ms(void *ctx)
{
    (void)ctx;
    return sensor_ticks_ms;
}

static int64_t sensor_wall_time(void *ctx)
{
    (void)ctx;
    return AP_WALL_TIME_UNKNOWN; /* no RTC set yet: certificate dates refuse */
}

static ap_status_t sensor_entropy(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
    return AP_ERR_ENTROPY; /* no TRNG on this test build */
}

static void sensor_poll(void *ctx)
{
    (void)ctx;
    sys_check_timeouts(); /* and: feed received frames to the netif */
}

/* The product's trust anchor would be compiled in; a placeholder here. */
static const uint8_t sensor_anchor[] = "-----BEGIN CERTIFICATE-----\n";

int main(void)
{
    static uint8_t work[1024];
    static ap_lwip_conn_t conn;
    static ap_client_t client;
    static const char alert[] = "{\"sensor\":\"s-1\",\"level\":\"warning\"}";
    ap_transport_t transport;
    ap_platform_t platform = { NULL, sensor_now_ms, sensor_wall_time, sensor_entropy };
    ap_client_config_t cfg;
    ap_request_t req = { .body = (const uint8_t *)alert, .body_len = sizeof(alert) - 1 };
    ap_response_t resp = { 0 };
    ap_status_t st;

    lwip_init();
    ap_lwip_transport_init(&transport, &conn, sensor_poll, NULL);
    ap_client_config_defaults(&cfg);
    cfg.url = "https://alerts.example.net/v1/alerts";
    cfg.transport = &transport;
    cfg.platform = &platform;
    cfg.ca_pem = sensor_anchor;
    cfg.ca_pem_len = sizeof(sensor_anchor);
    cfg.work_buf = work;
    cfg.work_buf_size = sizeof(work);
    st = ap_client_init(&client, &cfg);
    if (st == AP_OK) {
        st = ap_post(&client, &req, &resp);
    }
    ap_client_free(&client);
    return st == AP_OK ? 0 : 1;
}
