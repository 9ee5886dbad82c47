/*
 * A scripted transport and a fake clock for unit tests of the client loop.
 *
 * The script is a list of events that recv() plays in order: bytes (handed
 * out at most `chunk` at a time), a timeout, a clean close (close_notify), a
 * bare close (FIN), or a reset. A poll (timeout 0) sees only events marked
 * while_idle: what a real peer sent before the request. Everything send() accepts is recorded, at
 * most send_max bytes per call, so short writes are exercised.
 */
#ifndef AP_TEST_FAKE_TRANSPORT_H
#define AP_TEST_FAKE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alertpost/alertpost.h"
#include "alertpost/ap_platform.h"
#include "alertpost/ap_transport.h"

typedef enum fake_event_kind {
    FAKE_BYTES,
    FAKE_TIMEOUT,
    FAKE_CLOSE_NOTIFY,
    FAKE_FIN,
    FAKE_RESET
} fake_event_kind_t;

typedef struct fake_event {
    fake_event_kind_t kind;
    const char *bytes; /* FAKE_BYTES: NUL-terminated text */
    /* A new connection starts at this event. */
    bool starts_connection;
    /* It has already arrived while the connection was idle, before the next
     * request: a poll (recv with timeout 0) sees it. Other events are answers
     * and only reach a recv that waits. */
    bool while_idle;
} fake_event_t;

typedef struct fake_net {
    const fake_event_t *events;
    size_t event_count;
    size_t next;          /* next event */
    size_t entered;       /* first event of the current connection */
    size_t offset;        /* into the current FAKE_BYTES event */
    size_t chunk;         /* max bytes per recv (0 = unlimited) */
    size_t send_max;      /* max bytes per send (0 = unlimited) */
    ap_status_t connect_result;
    ap_status_t send_fail;    /* AP_OK, or the failure send returns */
    unsigned send_fail_times; /* 0: send_fail holds until cleared; else for that many sends */
    size_t send_limit;        /* 0, or sent_len past which send fails with AP_ERR_IO */
    unsigned connects;
    unsigned closes;
    bool open;
    bool last_close_clean;
    uint32_t clock_ms;
    uint32_t tick_per_call;   /* the clock advances this much per I/O call */
    uint32_t last_recv_timeout;
    unsigned polls;           /* recv calls with timeout 0 */
    size_t sent_at_close;     /* sent_len when the connection was last closed */
    unsigned sends;           /* send calls that took bytes */
    char sent[40960];
    size_t sent_len;
} fake_net_t;

void fake_net_init(fake_net_t *n, const fake_event_t *events, size_t count);
void fake_transport_bind(ap_transport_t *t, fake_net_t *n);
void fake_platform_bind(ap_platform_t *p, fake_net_t *n);

/* A client configuration over them: url, anchors the stand-in TLS does not
 * parse, the work buffer, 1 s per step and 5 s per post. */
void fake_client_config(ap_client_config_t *cfg, const char *url, const ap_transport_t *t,
                        const ap_platform_t *p, uint8_t *work, size_t work_size);

#endif
