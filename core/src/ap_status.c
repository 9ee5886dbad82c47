/*
 * ap_status_str(): the phrase for each status. A switch rather than a table
 * indexed by -status, so that a value added to the enum without a phrase
 * falls through to "unknown status" instead of reading past an array.
 * ap_early_data_str() is built the same way.
 */
#include "alertpost/alertpost.h"
#include "alertpost/ap_status.h"

const char *ap_status_str(ap_status_t status)
{
    switch (status) {
    case AP_OK:                return "ok";
    case AP_ERR_BAD_ARG:       return "bad argument";
    case AP_ERR_URL:           return "invalid URL";
    case AP_ERR_NO_SPACE:      return "buffer too small";
    case AP_ERR_DNS:           return "host name did not resolve";
    case AP_ERR_CONNECT:       return "connection refused or unreachable";
    case AP_ERR_TIMEOUT:       return "timed out";
    case AP_ERR_IO:            return "connection failed";
    case AP_ERR_CLOSED:        return "connection closed by peer";
    case AP_ERR_TLS_VERSION:   return "TLS version outside policy";
    case AP_ERR_TLS_CERT:      return "certificate did not verify";
    case AP_ERR_TLS_PIN:       return "public key matched no pin";
    case AP_ERR_TLS:           return "TLS failure";
    case AP_ERR_TLS_SETUP:     return "unusable TLS settings";
    case AP_ERR_ENTROPY:       return "no entropy source";
    case AP_ERR_HTTP_STATUS:   return "HTTP status not 2xx";
    case AP_ERR_HTTP_RESPONSE: return "invalid HTTP response";
    case AP_ERR_TRUNCATED:     return "response truncated";
    case AP_ERR_NEED_MORE:     return "more input needed";
    case AP_ERR_OUTCOME_UNKNOWN: return "delivery outcome unknown";
    case AP_ERR_STORE_FULL:    return "store full";
    case AP_ERR_STORE_IO:      return "store medium failed";
    case AP_ERR_STORE_EMPTY:   return "store empty";
    case AP_ERR_STORE_CORRUPT: return "stored record corrupt";
    case AP_ERR_QUEUE_BACKOFF: return "nothing due yet";
    case AP_ERR_TOO_LARGE:     return "record larger than the store";
    case AP_ERR_TLS_CLIENT_CERT: return "client certificate required or refused";
    case AP_ERR_SESSION_NONE:  return "no TLS session held";
    case AP_ERR_SESSION_CORRUPT: return "saved session unreadable";
    case AP_ERR_SESSION_FOREIGN: return "saved session of another host or policy";
    case AP_ERR_SESSION_EXPIRED: return "saved session expired";
    case AP_ERR_UNANSWERED:    return "unanswered: the server closed early";
    case AP_ERR_NOT_SENT:      return "not sent";
    }
    return "unknown status";
}

const char *ap_early_data_str(ap_early_data_t early)
{
    switch (early) {
    case AP_EARLY_DATA_OFF:         return "not offered (off)";
    case AP_EARLY_DATA_NOT_BUILT:   return "not offered (this Mbed TLS has no TLS 1.3 early data)";
    case AP_EARLY_DATA_NO_KEY:      return "not offered (the alert has no Idempotency-Key)";
    case AP_EARLY_DATA_KEPT_ALIVE:  return "not offered (kept-alive connection)";
    case AP_EARLY_DATA_NO_TICKET:   return "not offered (no TLS 1.3 ticket kept)";
    case AP_EARLY_DATA_NOT_ALLOWED: return "not offered (the server's ticket allows none)";
    case AP_EARLY_DATA_TOO_LARGE:   return "not offered (the alert exceeds the ticket's limit)";
    case AP_EARLY_DATA_NOT_RESUMED: return "not offered (the ticket was not usable)";
    case AP_EARLY_DATA_TOO_EARLY:   return "not offered (the server answered 425 Too Early to it)";
    case AP_EARLY_DATA_NOT_REACHED: return "not offered (the connection failed first)";
    case AP_EARLY_DATA_PIPELINED:  return "not offered (a pipelined request)";
    case AP_EARLY_DATA_UNANSWERED:  return "offered, unanswered (the handshake failed)";
    case AP_EARLY_DATA_ACCEPTED:    return "accepted";
    case AP_EARLY_DATA_REJECTED:    return "rejected by the server";
    }
    return "unknown";
}
