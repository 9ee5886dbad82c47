/*
 * Arguments: curl's names where alertpost has the feature, a one-line answer
 * where it deliberately has not, and every check that needs no network done
 * here, before any connection (URL, headers, versions, numbers).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "mbedtls/base64.h"

#define CLI_STR(x) #x
#define CLI_XSTR(x) CLI_STR(x)

static const char usage_text[] =
    "usage: alertpost [options] URL\n"
    "Post an alert as an HTTPS POST, over TLS 1.2 or newer only, with the server's\n"
    "certificate always verified.\n"
    "\n"
    "Body (one is required):\n"
    "  -d, --data TEXT|@FILE|@-   the alert, sent byte for byte (like curl's --data-binary);\n"
    "                             Content-Type: application/json unless -H says otherwise\n"
    "      --data-binary ...      the same as -d\n"
    "      --json TEXT|@FILE|@-   as -d, with Content-Type and Accept: application/json\n"
    "      --lines                each non-empty stdin line is one alert, over one\n"
    "                             kept-alive connection; stops at the first failure\n"
    "      --pipeline N           up to N alerts in flight on the connection (1 to " CLI_XSTR(AP_PIPELINE_MAX) ";\n"
    "                             HTTP/1.1 pipelining), with --lines or the queue; each\n"
    "                             line gets its own Idempotency-Key; alerts a server\n"
    "                             closing early left unanswered are re-sent and counted\n"
    "Delivery (every queued alert carries an Idempotency-Key; see the README):\n"
    "      --spool DIR            keep each alert in DIR (one fsynced file each, made if\n"
    "                             missing) before sending, then deliver DIR oldest first\n"
    "      --flush                deliver what DIR holds; no new alert\n"
    "      --spool-list           show what DIR holds (waiting, dead-lettered); send nothing\n"
    "      --spool-max-bytes N    refuse new alerts once DIR holds N bytes (default: no limit)\n"
    "      --retry N              retry a failed alert N times, with backoff (default 0)\n"
    "      --retry-delay S        wait up to S between retries (full jitter; default:\n"
    "                             exponential from 1 s up to 5 min; Retry-After wins)\n"
    "      --retry-max-time S     no retry S seconds after an alert's first attempt\n"
    "Request:\n"
    "  -H, --header 'Name: value' extra header (repeatable); replaces a default of the\n"
    "                             same name (User-Agent, Content-Type)\n"
    "  -A, --user-agent NAME      User-Agent (default: " AP_USER_AGENT ")\n"
    "  -u, --user USER:PASSWORD   HTTP Basic authentication\n"
    "      --oauth2-bearer TOKEN  Authorization: Bearer TOKEN\n"
    "TLS (the floor is TLS 1.2; verification cannot be turned off):\n"
    "      --cacert FILE          trust anchors, PEM or DER (default: $CURL_CA_BUNDLE, else\n"
    "                             $SSL_CERT_FILE, else " CLI_DEFAULT_CA_BUNDLE ")\n"
    "      --tls-min VER, --tls-max VER   1.2 or 1.3 (default: 1.2 to the build's highest)\n"
    "      --pinnedpubkey sha256//B64[;sha256//B64...]   the server key must match one\n"
    "  -E, --cert FILE            this device's certificate chain, PEM (leaf first) or\n"
    "                             DER, for servers that require one; the file may also\n"
    "                             hold the key\n"
    "      --key FILE             its private key, PEM or DER (default: in --cert's file)\n"
    "      --pass PHRASE          passphrase of an encrypted PEM key\n"
    "      --public-suffix-list FILE   no wildcard certificate directly above a suffix\n"
    "                             it lists (default: " CLI_DEFAULT_PSL "\n"
    "                             if present; \"\" built-in rules only)\n"
    "      --ssl-sessions FILE    resume the TLS session FILE keeps for this host, port\n"
    "                             and TLS policy, and keep this run's there (mode 0600)\n"
    "      --resolve HOST:PORT:ADDR   connect to ADDR for HOST:PORT (repeatable);\n"
    "                             the certificate is still checked against HOST\n"
    "      --no-early-data        never send an alert with an Idempotency-Key as TLS 1.3\n"
    "                             0-RTT early data on a resumed connection\n"
    "Proxy (HTTP CONNECT; TLS end to end, verified against the URL's host):\n"
    "  -x, --proxy [http://][USER:PASSWORD@]HOST[:PORT]   default: $https_proxy,\n"
    "                             $HTTPS_PROXY, $all_proxy, $ALL_PROXY; port 1080; \"\" none\n"
    "  -U, --proxy-user USER:PASSWORD   proxy Basic credentials\n"
    "      --noproxy LIST         hosts that bypass the proxy (default: $no_proxy)\n"
    "Time:\n"
    "      --connect-timeout S    TCP connect and TLS handshake together (default 10)\n"
    "  -m, --max-time S           one whole post (default 30); each read or write step is\n"
    "                             bounded by it too (default 10 s per step)\n"
    "Output:\n"
    "  -o, --output FILE          write the response body to FILE (default: stdout)\n"
    "  -w, --write-out FORMAT     after each post print FORMAT to stdout: %{http_code}\n"
    "                             %{exitcode} %{errormsg} %{time_connect} %{time_appconnect}\n"
    "                             %{time_total} %{size_download} %{size_upload}\n"
    "                             %{num_connects} %{url} %{tls_version}; \\n, \\t, %%\n"
    "      --check-chain FILE     send nothing: would a post to URL accept this server\n"
    "                             chain (PEM, leaf first)? exit 0 yes, 5 no (and why)\n"
    "      --at TIME              judge the chain's dates at TIME (2026-01-01T00:00:00Z)\n"
    "  -s, --silent               no error messages; -S, --show-error: errors even with -s\n"
    "  -v, --verbose              connection, TLS, certificate, request and response heads\n"
    "  -h, --help, -V, --version\n"
    "\n"
    "Exit: 0 delivered (complete 2xx) | 2 usage or bad input | 3 cannot connect (DNS,\n"
    "      refused, timeout) | 4 TLS version outside policy | 5 certificate, host name or\n"
    "      pin refused | 6 other TLS failure | 7 server answered non-2xx, an invalid\n"
    "      response, or none (the alert may or may not have arrived: see the message) |\n"
    "      8 alerts remain in the spool (the message says how many and why)\n";

enum {
    OPT_CACERT = 256, OPT_TLS_MIN, OPT_TLS_MAX, OPT_PINS, OPT_RESOLVE, OPT_CONNECT_TIMEOUT,
    OPT_LINES, OPT_DATA_BINARY, OPT_JSON, OPT_BEARER, OPT_LACKING, OPT_SPOOL, OPT_FLUSH,
    OPT_SPOOL_LIST, OPT_SPOOL_MAX_BYTES, OPT_RETRY, OPT_RETRY_MAX_TIME, OPT_RETRY_DELAY, OPT_NOPROXY, OPT_CHECK_CHAIN, OPT_AT,
    OPT_KEY, OPT_PASS, OPT_PSL, OPT_SSL_SESSIONS, OPT_PIPELINE, OPT_NO_EARLY_DATA
};

static const struct option k_longopts[] = {
    {"data", required_argument, NULL, 'd'},
    {"data-binary", required_argument, NULL, OPT_DATA_BINARY},
    {"json", required_argument, NULL, OPT_JSON},
    {"header", required_argument, NULL, 'H'},
    {"user-agent", required_argument, NULL, 'A'},
    {"user", required_argument, NULL, 'u'},
    {"oauth2-bearer", required_argument, NULL, OPT_BEARER},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"tls-min", required_argument, NULL, OPT_TLS_MIN},
    {"tls-max", required_argument, NULL, OPT_TLS_MAX},
    {"pinnedpubkey", required_argument, NULL, OPT_PINS},
    {"cert", required_argument, NULL, 'E'},
    {"key", required_argument, NULL, OPT_KEY},
    {"pass", required_argument, NULL, OPT_PASS},
    {"public-suffix-list", required_argument, NULL, OPT_PSL},
    {"ssl-sessions", required_argument, NULL, OPT_SSL_SESSIONS},
    {"resolve", required_argument, NULL, OPT_RESOLVE},
    {"no-early-data", no_argument, NULL, OPT_NO_EARLY_DATA},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"max-time", required_argument, NULL, 'm'},
    {"lines", no_argument, NULL, OPT_LINES},
    {"pipeline", required_argument, NULL, OPT_PIPELINE},
    {"spool", required_argument, NULL, OPT_SPOOL},
    {"flush", no_argument, NULL, OPT_FLUSH},
    {"spool-list", no_argument, NULL, OPT_SPOOL_LIST},
    {"spool-max-bytes", required_argument, NULL, OPT_SPOOL_MAX_BYTES},
    {"retry", required_argument, NULL, OPT_RETRY},
    {"retry-max-time", required_argument, NULL, OPT_RETRY_MAX_TIME},
    {"retry-delay", required_argument, NULL, OPT_RETRY_DELAY},
    {"proxy", required_argument, NULL, 'x'},
    {"proxy-user", required_argument, NULL, 'U'},
    {"noproxy", required_argument, NULL, OPT_NOPROXY},
    {"check-chain", required_argument, NULL, OPT_CHECK_CHAIN},
    {"at", required_argument, NULL, OPT_AT},
    {"output", required_argument, NULL, 'o'},
    {"write-out", required_argument, NULL, 'w'},
    {"silent", no_argument, NULL, 's'},
    {"show-error", no_argument, NULL, 'S'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    /* what alertpost deliberately lacks: answered in one line (k_lacking) */
    {"insecure", no_argument, NULL, 'k'},
    {"request", required_argument, NULL, 'X'},
    {"location", no_argument, NULL, 'L'},
    {"form", required_argument, NULL, 'F'},
    {"get", no_argument, NULL, 'G'},
    {"head", no_argument, NULL, 'I'},
    {"upload-file", required_argument, NULL, 'T'},
    {"http2", no_argument, NULL, OPT_LACKING},
    {"http3", no_argument, NULL, OPT_LACKING},
    {"tlsv1", no_argument, NULL, OPT_LACKING},
    {"tlsv1.0", no_argument, NULL, OPT_LACKING},
    {"tlsv1.1", no_argument, NULL, OPT_LACKING},
    {"tlsv1.2", no_argument, NULL, OPT_LACKING},
    {"tlsv1.3", no_argument, NULL, OPT_LACKING},
    {"sslv2", no_argument, NULL, OPT_LACKING},
    {"sslv3", no_argument, NULL, OPT_LACKING},
    {"ciphers", required_argument, NULL, OPT_LACKING},
    {"proxy-insecure", no_argument, NULL, OPT_LACKING},
    {NULL, 0, NULL, 0}
};

/* The one-line answers, by short option or long name. */
static const struct {
    int opt;
    const char *name;
    const char *why;
} k_lacking[] = {
    {'k', "insecure", "certificate verification cannot be turned off in alertpost; give the "
                      "server's CA with --cacert, or pin its key with --pinnedpubkey"},
    {'X', "request", "alertpost always sends POST; it has no other method"},
    {'L', "location", "alertpost follows no redirects: an alert goes where the URL says"},
    {'F', "form", "alertpost sends one body as it is, not multipart forms (use -d)"},
    {'G', "get", "alertpost always sends POST; it has no other method"},
    {'I', "head", "alertpost always sends POST; it has no other method"},
    {'T', "upload-file", "use -d @FILE: alertpost sends the file as the POST body"},
    {OPT_LACKING, "http2", "alertpost speaks HTTP/1.1 only"},
    {OPT_LACKING, "http3", "alertpost speaks HTTP/1.1 only"},
    {OPT_LACKING, "tlsv1", "TLS 1.0 and 1.1 are never negotiated: the floor is TLS 1.2 "
                           "(use --tls-min 1.2 or 1.3)"},
    {OPT_LACKING, "tlsv1.0", "TLS 1.0 and 1.1 are never negotiated: the floor is TLS 1.2"},
    {OPT_LACKING, "tlsv1.1", "TLS 1.0 and 1.1 are never negotiated: the floor is TLS 1.2"},
    {OPT_LACKING, "tlsv1.2", "TLS 1.2 is the floor already; to require TLS 1.3 say "
                             "--tls-min 1.3 (and --tls-max to cap the range)"},
    {OPT_LACKING, "tlsv1.3", "use --tls-min 1.3 to require TLS 1.3"},
    {OPT_LACKING, "sslv2", "SSL is never negotiated: the floor is TLS 1.2"},
    {OPT_LACKING, "sslv3", "SSL is never negotiated: the floor is TLS 1.2"},
    {OPT_LACKING, "ciphers", "the cipher suites are a fixed allowlist (ECDHE with AES-GCM or "
                             "ChaCha20-Poly1305, and the TLS 1.3 suites)"},
    {OPT_LACKING, "proxy-insecure", "verification cannot be turned off in alertpost"},
};

static int refuse_lacking(int opt, const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(k_lacking) / sizeof(k_lacking[0]); i++) {
        if ((opt != OPT_LACKING && k_lacking[i].opt == opt) ||
            (opt == OPT_LACKING && name != NULL && strcmp(k_lacking[i].name, name) == 0)) {
            fprintf(stderr, "alertpost: --%s is not supported: %s\n", k_lacking[i].name,
                    k_lacking[i].why);
            return CLI_EXIT_USAGE;
        }
    }
    cli_usage_error("that option is not supported");
    return CLI_EXIT_USAGE;
}

static char *keep(cli_options_t *o, char *s)
{
    if (s == NULL || o->owned_count == CLI_MAX_OWNED) {
        free(s);
        cli_usage_error("out of memory, or too many options");
        return NULL;
    }
    o->owned[o->owned_count++] = s;
    return s;
}

static bool parse_version(const char *opt, const char *v, ap_tls_version_t *out)
{
    if (strcmp(v, "1.2") == 0 || strcmp(v, "1.3") == 0) {
        *out = (v[2] == '2') ? AP_TLS_1_2 : AP_TLS_1_3;
        return true;
    }
    if (strcmp(v, "1.0") == 0 || strcmp(v, "1.1") == 0 || strcmp(v, "1") == 0) {
        cli_usage_error("%s %s refused: TLS 1.0 and 1.1 are broken and never negotiated; "
                        "the floor is TLS 1.2", opt, cli_escaped(v));
    } else {
        cli_usage_error("%s takes 1.2 or 1.3, not '%s'", opt, cli_escaped(v));
    }
    return false;
}

static bool parse_seconds(const char *opt, const char *v, double *out)
{
    char *end = NULL;
    double s = strtod(v, &end);

    if (end == v || *end != '\0' || !(s > 0.0) || s > 86400.0) {
        cli_usage_error("%s takes seconds (0 < S <= 86400), not '%s'", opt, cli_escaped(v));
        return false;
    }
    *out = s;
    return true;
}

static bool parse_count(const char *opt, const char *v, uint64_t min, uint64_t max,
                        uint64_t *out)
{
    char *end = NULL;
    unsigned long long n;

    errno = 0;
    n = strtoull(v, &end, 10);
    if (end == v || *end != '\0' || v[0] == '-' || errno != 0 || n < min || n > max) {
        cli_usage_error("%s takes a whole number from %llu to %llu, not '%s'", opt,
                        (unsigned long long)min, (unsigned long long)max, cli_escaped(v));
        return false;
    }
    *out = n;
    return true;
}

/* -H 'Name: value': checked here by the rules the request writer applies,
 * so a bad header is named before anything connects. */
static bool add_header(cli_options_t *o, const char *arg)
{
    char *copy;
    char *colon;
    char *value;
    const char *problem;

    if (o->header_count == CLI_MAX_HEADERS) {
        cli_usage_error("at most %d extra headers", CLI_MAX_HEADERS);
        return false;
    }
    copy = keep(o, strdup(arg));
    if (copy == NULL) {
        return false;
    }
    colon = strchr(copy, ':');
    if (colon == NULL) {
        cli_usage_error("-H '%s': a header is 'Name: value', and this has no ':'",
                        cli_escaped(arg));
        return false;
    }
    *colon = '\0';
    value = colon + 1;
    while (*value == ' ' || *value == '\t') {
        value++;
    }
    problem = ap_http_header_problem(copy, value);
    if (problem != NULL) {
        cli_usage_error("-H '%s': %s", cli_escaped(arg), problem);
        return false;
    }
    o->headers[o->header_count].name = copy;
    o->headers[o->header_count].value = value;
    o->header_count++;
    return true;
}

/* --resolve HOST:PORT:ADDR, repeatable; ADDR may be [v6]. */
static bool add_resolve(cli_options_t *o, const char *spec)
{
    char *copy;
    char *first;
    char *second;
    char *addr;
    char *endp = NULL;
    long port;
    size_t alen;

    if (o->resolve_count == CLI_MAX_RESOLVE) {
        cli_usage_error("at most %d --resolve entries", CLI_MAX_RESOLVE);
        return false;
    }
    copy = keep(o, strdup(spec));
    if (copy == NULL) {
        return false;
    }
    first = strchr(copy, ':');
    second = first ? strchr(first + 1, ':') : NULL;
    if (first == NULL || second == NULL || first == copy || second[1] == '\0') {
        cli_usage_error("--resolve takes HOST:PORT:ADDR, not '%s'", cli_escaped(spec));
        return false;
    }
    *first = '\0';
    *second = '\0';
    port = strtol(first + 1, &endp, 10);
    if (*endp != '\0' || port < 1 || port > 65535) {
        cli_usage_error("--resolve '%s': the port must be 1 to 65535", cli_escaped(spec));
        return false;
    }
    addr = second + 1;
    alen = strlen(addr);
    if (addr[0] == '[' && alen > 2 && addr[alen - 1] == ']') {
        addr[alen - 1] = '\0';
        addr++;
    }
    o->resolve[o->resolve_count].host = copy;
    o->resolve[o->resolve_count].port = (uint16_t)port;
    o->resolve[o->resolve_count].addr = addr;
    o->resolve_count++;
    return true;
}

static bool set_body(cli_options_t *o, const char *data, bool json)
{
    if (o->data != NULL) {
        cli_usage_error("one alert body only: -d, --data-binary and --json go once");
        return false;
    }
    o->data = data;
    o->json = json;
    return true;
}

/* -u USER:PASSWORD and --oauth2-bearer become an Authorization header. */
static bool add_authorization(cli_options_t *o, const char *scheme, const char *credentials)
{
    /* It must outlive the branch: credentials points into it afterwards,
     * which cppcheck's scope check does not follow. */
    /* cppcheck-suppress variableScope */
    unsigned char b64[1024];
    size_t b64_len = 0;
    char *value;
    size_t vsize;

    if (strcmp(scheme, "Basic") == 0) {
        if (strchr(credentials, ':') == NULL) {
            cli_usage_error("-u takes USER:PASSWORD (alertpost does not prompt for it)");
            return false;
        }
        if (mbedtls_base64_encode(b64, sizeof(b64), &b64_len, (const unsigned char *)credentials,
                                  strlen(credentials)) != 0) {
            cli_usage_error("-u: the credentials are too long");
            return false;
        }
        credentials = (const char *)b64;
    } else {
        b64_len = strlen(credentials);
    }
    vsize = strlen(scheme) + 1 + b64_len + 1;
    value = keep(o, malloc(vsize));
    if (value == NULL) {
        return false;
    }
    (void)snprintf(value, vsize, "%s %.*s", scheme, (int)b64_len, credentials);
    if (o->header_count == CLI_MAX_HEADERS || ap_http_header_problem("Authorization", value)) {
        cli_usage_error("the %s credentials cannot be sent as a header (a control character, "
                        "or too many headers)", scheme);
        return false;
    }
    o->headers[o->header_count].name = "Authorization";
    o->headers[o->header_count].value = value;
    o->header_count++;
    return true;
}

static int handle_option(cli_options_t *o, int ch, const char *arg, int long_index)
{
    bool ok = true;

    switch (ch) {
    case 'd':
    case OPT_DATA_BINARY: ok = set_body(o, arg, false); break;
    case OPT_JSON: ok = set_body(o, arg, true); break;
    case 'H': ok = add_header(o, arg); break;
    case 'A': o->user_agent = arg; break;
    case 'u': ok = add_authorization(o, "Basic", arg); break;
    case OPT_BEARER: ok = add_authorization(o, "Bearer", arg); break;
    case OPT_CACERT: o->cacert = arg; o->cacert_source = "--cacert"; break;
    case OPT_TLS_MIN: ok = parse_version("--tls-min", arg, &o->tls_min); break;
    case OPT_TLS_MAX: ok = parse_version("--tls-max", arg, &o->tls_max); break;
    case OPT_PINS: o->pins = arg; break;
    case 'E': o->cert = arg; break;
    case OPT_KEY: o->key = arg; break;
    case OPT_PASS: o->pass = arg; break;
    case OPT_PSL: o->psl = arg; break;
    case OPT_SSL_SESSIONS: o->ssl_sessions = arg; break;
    case OPT_RESOLVE: ok = add_resolve(o, arg); break;
    case OPT_CONNECT_TIMEOUT:
        ok = parse_seconds("--connect-timeout", arg, &o->connect_timeout_s);
        break;
    case 'm': ok = parse_seconds("--max-time", arg, &o->max_time_s); break;
    case OPT_LINES: o->lines = true; break;
    case OPT_PIPELINE: {
        uint64_t n = 0;

        ok = parse_count("--pipeline", arg, 1, AP_PIPELINE_MAX, &n);
        o->pipeline = (unsigned)n;
        break;
    }
    case OPT_NO_EARLY_DATA: o->no_early_data = true; break;
    case OPT_SPOOL: o->spool = arg; break;
    case OPT_FLUSH: o->flush = true; break;
    case OPT_SPOOL_LIST: o->spool_list = true; break;
    case OPT_SPOOL_MAX_BYTES: ok = parse_count("--spool-max-bytes", arg, 1, UINT64_C(1) << 50,
                                               &o->spool_max_bytes); break;
    case OPT_RETRY: {
        uint64_t n = 0;

        ok = parse_count("--retry", arg, 0, 1000000, &n);
        o->retry = (long)n;
        break;
    }
    case OPT_RETRY_MAX_TIME:
        ok = parse_seconds("--retry-max-time", arg, &o->retry_max_time_s);
        break;
    case OPT_RETRY_DELAY: ok = parse_seconds("--retry-delay", arg, &o->retry_delay_s); break;
    case 'x': o->proxy = arg; break;
    case 'U': o->proxy_user = arg; break;
    case OPT_NOPROXY: o->noproxy = arg; break;
    case OPT_CHECK_CHAIN: o->check_chain = arg; break;
    case OPT_AT:
        o->at_set = cli_parse_rfc3339(arg, &o->at);
        if (!o->at_set) {
            cli_usage_error("--at takes a UTC time as 2026-01-01T00:00:00Z, not '%s'",
                            cli_escaped(arg));
            ok = false;
        }
        break;
    case 'o': o->output = arg; break;
    case 'w': o->write_out = arg; break;
    case 's': o->silent = true; break;
    case 'S': o->show_error = true; break;
    case 'v': o->verbose = true; break;
    case 'h': fputs(usage_text, stdout); return CLI_EXIT_DELIVERED;
    case 'V':
        printf("alertpost %s (%s)\n", AP_USER_AGENT, ap_tls_library_version());
        return CLI_EXIT_DELIVERED;
    case OPT_LACKING:
        return refuse_lacking(ch, k_longopts[long_index].name);
    default:
        return refuse_lacking(ch, NULL);
    }
    return ok ? CLI_CONTINUE : CLI_EXIT_USAGE;
}

/* getopt's own messages are off: an unknown or incomplete option gets one
 * line, not a usage dump. */
static int unknown_option(char **argv, int ch)
{
    const char *arg = argv[optind - 1];

    if (ch == ':' || (optopt != 0 && strchr("dHAuowmxUXFT", optopt) != NULL)) {
        cli_usage_error("%s needs a value", cli_escaped(arg));
    } else if (optopt != 0) {
        cli_usage_error("unknown option -%c", optopt);
    } else {
        cli_usage_error("unknown option '%s'", cli_escaped(arg));
    }
    return CLI_EXIT_USAGE;
}

static void default_anchors(cli_options_t *o)
{
    static const char *const env_names[] = {"CURL_CA_BUNDLE", "SSL_CERT_FILE"};
    size_t i;

    if (o->cacert != NULL) {
        return;
    }
    for (i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++) {
        const char *v = getenv(env_names[i]);

        if (v != NULL && v[0] != '\0') {
            o->cacert = v;
            o->cacert_source = env_names[i];
            return;
        }
    }
    o->cacert = CLI_DEFAULT_CA_BUNDLE;
    o->cacert_source = "default";
}

/* --pipeline: for --lines and the queue; the keys are the alerts' own. */
static int check_pipeline(const cli_options_t *o)
{
    size_t i;

    if (!o->lines && o->spool == NULL) {
        cli_usage_error("--pipeline goes with --lines, or with --spool DIR (--flush)");
        return CLI_EXIT_USAGE;
    }
    if ((o->spool != NULL || o->retry >= 0) && o->pipeline > AP_QUEUE_MAX_IN_FLIGHT) {
        cli_usage_error("--pipeline: this build's queue keeps at most %u alerts in flight",
                        (unsigned)AP_QUEUE_MAX_IN_FLIGHT);
        return CLI_EXIT_USAGE;
    }
    for (i = 0; i < o->header_count; i++) {
        if (strcasecmp(o->headers[i].name, "Idempotency-Key") == 0) {
            cli_usage_error("-H Idempotency-Key does not go with --pipeline: each alert gets "
                            "a key of its own");
            return CLI_EXIT_USAGE;
        }
    }
    return CLI_CONTINUE;
}

static int check_combination(cli_options_t *o, int argc, char **argv)
{
    const char *problem;

    if ((o->flush || o->spool_list || o->spool_max_bytes) && o->spool == NULL) {
        cli_usage_error("--flush, --spool-list and --spool-max-bytes go with --spool DIR");
        return CLI_EXIT_USAGE;
    }
    if (o->spool_list) {
        if (optind != argc || o->data != NULL || o->lines || o->flush) {
            cli_usage_error("--spool-list sends nothing: it takes no URL and no alert");
            return CLI_EXIT_USAGE;
        }
        return CLI_CONTINUE;
    }
    if (o->at_set && o->check_chain == NULL) {
        cli_usage_error("--at goes with --check-chain");
        return CLI_EXIT_USAGE;
    }
    if (o->check_chain != NULL && (o->data != NULL || o->lines || o->flush || o->spool)) {
        cli_usage_error("--check-chain sends nothing: no alert, --lines, --spool or --flush "
                        "with it");
        return CLI_EXIT_USAGE;
    }
    if (o->flush && (o->data != NULL || o->lines)) {
        cli_usage_error("--flush delivers the spool without a new alert: no -d, --json or "
                        "--lines with it");
        return CLI_EXIT_USAGE;
    }
    if (optind >= argc) {
        cli_usage_error("no URL given");
        return CLI_EXIT_USAGE;
    }
    if (optind != argc - 1) {
        cli_usage_error("one URL only; '%s' is one too many", cli_escaped(argv[optind + 1]));
        return CLI_EXIT_USAGE;
    }
    o->url = argv[optind];
    problem = ap_url_problem(o->url);
    if (problem != NULL) {
        cli_usage_error("not a URL alertpost can post to: '%s': %s", cli_escaped(o->url),
                        problem);
        return CLI_EXIT_USAGE;
    }
    if ((o->key != NULL || o->pass != NULL) && o->cert == NULL) {
        cli_usage_error("%s needs --cert: the certificate the key belongs to",
                        o->key != NULL ? "--key" : "--pass");
        return CLI_EXIT_USAGE;
    }
    if (o->lines && o->data != NULL) {
        cli_usage_error("--lines reads the alerts from stdin; it does not go with -d or --json");
        return CLI_EXIT_USAGE;
    }
    if (o->pipeline > 0 && check_pipeline(o) != CLI_CONTINUE) {
        return CLI_EXIT_USAGE;
    }
    if (!o->lines && o->data == NULL && !o->flush && o->check_chain == NULL) {
        cli_usage_error("no alert body given: use -d, --json, --lines or --flush");
        return CLI_EXIT_USAGE;
    }
    default_anchors(o);
    return CLI_CONTINUE;
}

int cli_parse(int argc, char **argv, cli_options_t *o)
{
    int ch;
    int long_index = -1;

    memset(o, 0, sizeof(*o));
    o->retry = -1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":d:H:A:u:m:o:w:x:U:E:sSvhVkX:LF:GIT:", k_longopts,
                             &long_index)) != -1) {
        int rc;

        if (ch == '?' || ch == ':') {
            return unknown_option(argv, ch);
        }
        rc = handle_option(o, ch, optarg, long_index);
        if (rc != CLI_CONTINUE) {
            return rc;
        }
        long_index = -1;
    }
    return check_combination(o, argc, argv);
}

void cli_options_free(cli_options_t *o)
{
    size_t i;

    for (i = 0; i < o->owned_count; i++) {
        free(o->owned[i]);
    }
    o->owned_count = 0;
}
