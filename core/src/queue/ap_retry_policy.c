/*
 * The retry policy: which results are worth another attempt, and how long
 * to wait before it.
 *
 * The split follows who is at fault. The network and an overloaded server
 * heal by themselves: retry. A 4xx about this one alert will be refused
 * again however often it is sent: set it aside and go on. Anything about the
 * configuration (a bad token, a wrong URL, a certificate or TLS version the
 * policy refuses) would fail every alert the same way, and dead-lettering a
 * backlog because of a typo in a token would lose it for nothing: stop and
 * keep everything until a person fixes it.
 */
#include "alertpost/ap_queue.h"

static ap_retry_class_t ap_retry_classify_http(int code)
{
    if (code >= 200 && code <= 299) {
        /* ap_post() answers AP_ERR_HTTP_STATUS only for a non-2xx; a post
         * function that says otherwise is not trusted with a delivery. */
        return AP_RETRY_STOP;
    }
    switch (code) {
    case 408: /* the server timed the request out */
    case 425: /* too early (0-RTT): the same request later is fine */
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
        return AP_RETRY_AGAIN;
    case 400:
    case 413:
    case 415:
    case 422:
        return AP_RETRY_DEAD_LETTER;
    default:
        /* 401, 403, 404, 405, 3xx, 501, 505...: the URL, the token or the
         * server's setup, the same for every alert. */
        return AP_RETRY_STOP;
    }
}

ap_retry_class_t ap_retry_classify(ap_status_t status, int http_status)
{
    switch (status) {
    case AP_OK:
        return (http_status >= 200 && http_status <= 299) ? AP_RETRY_DELIVERED : AP_RETRY_STOP;
    case AP_ERR_HTTP_STATUS:
        return ap_retry_classify_http(http_status);
    case AP_ERR_DNS:
    case AP_ERR_CONNECT:
    case AP_ERR_TIMEOUT:
    case AP_ERR_IO:
    case AP_ERR_CLOSED:
    case AP_ERR_TRUNCATED:
    case AP_ERR_OUTCOME_UNKNOWN:
    case AP_ERR_UNANSWERED:
    case AP_ERR_NOT_SENT:
        return AP_RETRY_AGAIN;
    default:
        /* TLS version, certificate, pin, client certificate, TLS setup, any
         * other TLS failure (no shared suite, a fatal alert: resets arrive
         * as AP_ERR_IO instead), entropy, an invalid response, a head too
         * large for the work buffer, a bad argument: none gets better by
         * sending again, and stopping keeps every alert. */
        return AP_RETRY_STOP;
    }
}

uint32_t ap_retry_backoff_ms(uint32_t base_ms, uint32_t cap_ms, uint32_t failures,
                             uint32_t random)
{
    uint64_t ceiling = base_ms;
    uint32_t doublings;

    if (failures == 0) {
        return 0;
    }
    /* Doubling stops at the cap, so the shift count stays small. */
    for (doublings = 1; doublings < failures && ceiling < cap_ms; doublings++) {
        ceiling *= 2u;
    }
    if (ceiling > cap_ms) {
        ceiling = cap_ms;
    }
    /* Full jitter: anywhere from 0 to the ceiling, inclusive, so that many
     * devices that failed together do not retry together. Scaling rather
     * than a modulo: no bias, and the largest random value gives exactly the
     * ceiling. */
    return (uint32_t)(((uint64_t)random * (ceiling + 1u)) >> 32);
}
