/*
 * The rules a record's key and header names follow beyond RFC 9110's
 * character classes. A record comes back from a store that may have been
 * edited by hand or torn by a crash, so the decoder applies them again.
 */
#include "ap_queue_internal.h"

#include <string.h>

#include "alertpost/ap_queue.h"
#include "http/ap_http_chars.h"

bool ap_queue_is_owned_name(const char *name)
{
    /* The key is the queue's: a second one from the caller would defeat it.
     * The rest are the request writer's, which refuses them anyway; refusing
     * them at enqueue keeps an unsendable alert out of the store. (An extra
     * Content-Type or User-Agent is fine: it replaces the writer's default.) */
    static const char *const owned[] = {
        "idempotency-key", "host", "content-length", "transfer-encoding", "connection"
    };
    size_t i;

    for (i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
        if (ap_http_name_is(name, owned[i])) {
            return true;
        }
    }
    return false;
}

bool ap_queue_is_key(const char *s)
{
    size_t n = strlen(s);
    size_t i;

    if (n < 3 || n > AP_QUEUE_KEY_SIZE - 1u || s[0] != '"' || s[n - 1u] != '"') {
        return false;
    }
    /* RFC 8941 sf-string without escapes: printable ASCII but DQUOTE and "\". */
    for (i = 1; i + 1u < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20u || c > 0x7Eu || c == '"' || c == '\\') {
            return false;
        }
    }
    return true;
}
