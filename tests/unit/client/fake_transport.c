#include "fake_transport.h"

#include <string.h>

void fake_net_init(fake_net_t *n, const fake_event_t *events, size_t count)
{
    memset(n, 0, sizeof(*n));
    n->events = events;
    n->event_count = count;
    n->connect_result = AP_OK;
    n->send_fail = AP_OK;
    n->clock_ms = 0xFFFFF000u; /* start near the wrap to prove wrap-safety */
}

static ap_status_t fake_connect(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    fake_net_t *n = ctx;

    (void)host;
    (void)port;
    n->connects++;
    if (n->connect_result == AP_ERR_TIMEOUT) {
        n->clock_ms += timeout_ms;
    }
    if (n->connect_result != AP_OK) {
        return n->connect_result;
    }
    /* a later connection skips what is left of the previous one's script */
    if (n->connects > 1) {
        while (n->next < n->event_count && !n->events[n->next].starts_connection) {
            n->next++;
        }
        n->offset = 0;
        n->entered = n->next;
    }
    n->open = true;
    return AP_OK;
}

static int32_t fake_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    fake_net_t *n = ctx;
    size_t take = len;

    n->clock_ms += n->tick_per_call;
    if (n->send_fail != AP_OK) {
        ap_status_t fail = n->send_fail;

        if (fail == AP_ERR_TIMEOUT) {
            n->clock_ms += timeout_ms;
        }
        if (n->send_fail_times > 0 && --n->send_fail_times == 0) {
            n->send_fail = AP_OK;
        }
        return fail;
    }
    if (n->send_max != 0 && take > n->send_max) {
        take = n->send_max;
    }
    if (n->send_limit != 0) {
        if (n->sent_len >= n->send_limit) {
            return AP_ERR_IO; /* the connection broke midway */
        }
        if (take > n->send_limit - n->sent_len) {
            take = n->send_limit - n->sent_len;
        }
    }
    if (take > sizeof(n->sent) - n->sent_len) {
        return AP_ERR_IO;
    }
    memcpy(n->sent + n->sent_len, buf, take);
    n->sent_len += take;
    n->sends += (take > 0) ? 1u : 0u;
    return (int32_t)take;
}

static int32_t fake_recv(void *ctx, uint8_t *buf, size_t size, uint32_t timeout_ms)
{
    fake_net_t *n = ctx;
    const fake_event_t *e;

    n->clock_ms += n->tick_per_call;
    n->last_recv_timeout = timeout_ms;
    if (n->next >= n->event_count) {
        n->clock_ms += timeout_ms;
        return AP_ERR_TIMEOUT; /* a silent server */
    }
    e = &n->events[n->next];
    if (e->starts_connection && n->next != n->entered) {
        n->clock_ms += timeout_ms;
        return AP_ERR_TIMEOUT; /* this connection's script is over */
    }
    if (timeout_ms == 0) {
        n->polls++;
        if (!e->while_idle) {
            return AP_ERR_TIMEOUT; /* nothing has arrived yet */
        }
    }
    switch (e->kind) {
    case FAKE_BYTES: {
        size_t left = strlen(e->bytes) - n->offset;
        size_t take = left;

        if (n->chunk != 0 && take > n->chunk) {
            take = n->chunk;
        }
        if (take > size) {
            take = size;
        }
        memcpy(buf, e->bytes + n->offset, take);
        n->offset += take;
        if (n->offset == strlen(e->bytes)) {
            n->next++;
            n->offset = 0;
        }
        return (int32_t)take;
    }
    case FAKE_TIMEOUT:
        n->next++;
        n->clock_ms += timeout_ms;
        return AP_ERR_TIMEOUT;
    case FAKE_CLOSE_NOTIFY:
    case FAKE_FIN:
        /* stays at the close: a closed stream keeps reporting it */
        n->last_close_clean = (e->kind == FAKE_CLOSE_NOTIFY);
        return AP_ERR_CLOSED;
    case FAKE_RESET:
    default:
        return AP_ERR_IO;
    }
}

static void fake_close(void *ctx)
{
    fake_net_t *n = ctx;

    if (n->open) {
        n->closes++;
        n->sent_at_close = n->sent_len;
    }
    n->open = false;
}

static const char *fake_describe(void *ctx)
{
    (void)ctx;
    return "scripted failure";
}

void fake_transport_bind(ap_transport_t *t, fake_net_t *n)
{
    t->ctx = n;
    t->connect = fake_connect;
    t->send = fake_send;
    t->recv = fake_recv;
    t->close = fake_close;
    t->describe = fake_describe;
}

static uint32_t fake_now(void *ctx)
{
    return ((fake_net_t *)ctx)->clock_ms;
}

static int64_t fake_wall(void *ctx)
{
    (void)ctx;
    return 1767225600; /* 2026-01-01 */
}

static ap_status_t fake_entropy(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    memset(buf, 0x5A, len);
    return AP_OK;
}

void fake_platform_bind(ap_platform_t *p, fake_net_t *n)
{
    p->ctx = n;
    p->now_ms = fake_now;
    p->wall_time = fake_wall;
    p->entropy = fake_entropy;
}

void fake_client_config(ap_client_config_t *cfg, const char *url, const ap_transport_t *t,
                        const ap_platform_t *p, uint8_t *work, size_t work_size)
{
    static const char anchor[] = "test anchors (not parsed by the stand-in)";

    ap_client_config_defaults(cfg);
    cfg->url = url;
    cfg->transport = t;
    cfg->platform = p;
    cfg->ca_pem = (const uint8_t *)anchor;
    cfg->ca_pem_len = sizeof(anchor);
    cfg->work_buf = work;
    cfg->work_buf_size = work_size;
    cfg->io_timeout_ms = 1000;
    cfg->deadline_ms = 5000;
}
