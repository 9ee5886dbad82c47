/*
 * Proxies as curl chooses them: --proxy, else $https_proxy, $HTTPS_PROXY,
 * $all_proxy, $ALL_PROXY; --noproxy, else $no_proxy, $NO_PROXY; an empty
 * --proxy "" means none. The tunnel (ports/posix/ap_posix_proxy.c) is only
 * a transport: TLS still runs end to end and is verified against the URL's
 * host. Credentials are never printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *first_env(const char *const *names, size_t count, const char **which)
{
    size_t i;

    for (i = 0; i < count; i++) {
        const char *v = getenv(names[i]);

        if (v != NULL && v[0] != '\0') {
            *which = names[i];
            return v;
        }
    }
    return NULL;
}

int cli_proxy_setup(const cli_options_t *o, const ap_url_t *url, const ap_transport_t *tcp,
                    cli_proxy_t *p)
{
    static const char *const proxy_env[] = {"https_proxy", "HTTPS_PROXY", "all_proxy",
                                            "ALL_PROXY"};
    static const char *const no_env[] = {"no_proxy", "NO_PROXY"};
    const char *source = "--proxy";
    const char *spec = o->proxy;
    const char *noproxy = o->noproxy;
    const char *no_source = "--noproxy";
    const char *why = NULL;
    ap_posix_proxy_url_t purl;

    memset(p, 0, sizeof(*p));
    if (spec == NULL) {
        spec = first_env(proxy_env, sizeof(proxy_env) / sizeof(proxy_env[0]), &source);
    }
    if (spec == NULL || spec[0] == '\0') {
        return CLI_CONTINUE;
    }
    if (noproxy == NULL) {
        noproxy = first_env(no_env, sizeof(no_env) / sizeof(no_env[0]), &no_source);
    }
    if (noproxy != NULL && ap_posix_proxy_bypassed(noproxy, url->host)) {
        if (o->verbose) {
            fprintf(stderr, "* No proxy for %s (%s)\n", url->host, no_source);
        }
        return CLI_CONTINUE;
    }
    if (ap_posix_proxy_url_parse(spec, &purl, &why) != AP_OK) {
        /* never quote it: it may hold a password */
        cli_usage_error("the proxy URL from %s is not usable: %s", source, why);
        return CLI_EXIT_USAGE;
    }
    if (ap_posix_proxy_init(&p->tunnel, &p->proxy, tcp, purl.host, purl.port,
                            o->proxy_user != NULL ? o->proxy_user
                            : purl.has_credentials ? purl.credentials : NULL) != AP_OK) {
        cli_usage_error("the proxy from %s cannot be used (a host or credentials too long)",
                        source);
        return CLI_EXIT_USAGE;
    }
    memset(purl.credentials, 0, sizeof(purl.credentials));
    p->used = true;
    (void)snprintf(p->label, sizeof(p->label), "%s:%u", purl.host, (unsigned)purl.port);
    if (o->verbose) {
        fprintf(stderr, "* Proxy %s (from %s)%s; TLS runs end to end to %s\n", p->label, source,
                (o->proxy_user != NULL || purl.has_credentials) ? ", with credentials" : "",
                url->host);
    }
    return CLI_CONTINUE;
}
