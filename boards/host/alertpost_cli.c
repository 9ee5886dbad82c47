/*
 * alertpost: the Linux host command line. Posts alerts with the portable
 * core over the POSIX port; everything here is argument handling, files and
 * words for the operator.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alertpost/alertpost.h"
#include "alertpost/ap_posix.h"
#include "mbedtls/base64.h"

enum exit_code {
    EXIT_DELIVERED = 0,
    EXIT_USAGE = 2,
    EXIT_CONNECT = 3,
    EXIT_TLS_VERSION = 4,
    EXIT_TLS_CERT = 5,
    EXIT_TLS_OTHER = 6,
    EXIT_HTTP = 7
};

enum {
    MAX_HEADERS = 32,
    MAX_BODY = 1024 * 1024,
    RESPONSE_KEEP = 64 * 1024,
    WORK_BUF = 4096
};

#define DEFAULT_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

typedef struct options {
    const char *url;
    const char *data;
    const char *cacert;
    const char *pins;
    const char *resolve;
    double connect_timeout_s;
    double max_time_s;
    ap_tls_version_t tls_min, tls_max;
    ap_header_t headers[MAX_HEADERS];
    char *header_store[MAX_HEADERS]; /* every -H argument, to free */
    size_t store_count;
    size_t header_count;
    const char *content_type; /* from -H 'Content-Type: ...', replacing the default */
    int lines;
    int verbose;
} options_t;

static const char usage_text[] =
    "usage: alertpost [options] URL\n"
    "Post an alert as an HTTPS POST, over TLS 1.2 or newer only.\n"
    "\n"
    "  -d, --data TEXT | @FILE | @-      alert body (default Content-Type: application/json)\n"
    "  -H, --header 'Name: value'        extra header (repeatable)\n"
    "      --cacert FILE                 trust anchors, PEM (default: " DEFAULT_CA_BUNDLE ")\n"
    "      --tls-min VER / --tls-max VER 1.2 or 1.3; the floor is 1.2\n"
    "      --pinnedpubkey sha256//B64[;sha256//B64...]\n"
    "      --resolve HOST:PORT:ADDR      connect to ADDR but verify HOST\n"
    "      --connect-timeout S, --max-time S\n"
    "      --lines                       post each non-empty stdin line as one alert,\n"
    "                                    reusing the connection (keep-alive)\n"
    "  -v, --verbose                     negotiated TLS version, cipher suite, timings\n"
    "  -h, --help, --version\n"
    "\n"
    "Exit: 0 delivered (2xx) | 2 usage or bad input | 3 cannot connect (DNS, refused,\n"
    "      timeout) | 4 TLS version outside policy | 5 certificate, hostname or pin\n"
    "      rejected | 6 other TLS failure | 7 server answered non-2xx or an invalid response\n";

static void fail_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void fail_usage(const char *fmt, ...)
{
    va_list ap;

    fputs("alertpost: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see alertpost --help)\n", stderr);
    exit(EXIT_USAGE);
}

/* Read a whole file (or stdin for "-") into a NUL-terminated buffer. */
static unsigned char *read_all(const char *path, size_t limit, size_t *out_len)
{
    FILE *f = (strcmp(path, "-") == 0) ? stdin : fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t len = 0;
    size_t cap = 0;

    if (f == NULL) {
        return NULL;
    }
    for (;;) {
        size_t n;

        if (cap - len < 4096) {
            unsigned char *grown;

            cap = cap ? cap * 2 : 8192;
            grown = realloc(buf, cap + 1);
            if (grown == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (len > limit) {
            free(buf);
            buf = NULL;
            errno = EFBIG;
            break;
        }
        if (n == 0) {
            if (ferror(f)) {
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    if (f != stdin) {
        fclose(f);
    }
    if (buf != NULL) {
        buf[len] = '\0';
        *out_len = len;
    }
    return buf;
}

static ap_tls_version_t parse_version(const char *opt, const char *v)
{
    if (strcmp(v, "1.2") == 0) {
        return AP_TLS_1_2;
    }
    if (strcmp(v, "1.3") == 0) {
        return AP_TLS_1_3;
    }
    if (strcmp(v, "1.0") == 0 || strcmp(v, "1.1") == 0 || strcmp(v, "1") == 0) {
        fprintf(stderr,
                "alertpost: %s %s refused: TLS 1.0 and 1.1 are broken and never "
                "negotiated; the floor is TLS 1.2\n", opt, v);
        exit(EXIT_USAGE);
    }
    fprintf(stderr, "alertpost: %s takes 1.2 or 1.3, not '%s'\n", opt, v);
    exit(EXIT_USAGE);
}

static double parse_seconds(const char *opt, const char *v)
{
    char *end = NULL;
    double s = strtod(v, &end);

    if (end == v || *end != '\0' || !(s > 0.0) || s > 86400.0) {
        fprintf(stderr, "alertpost: %s takes seconds (0 < S <= 86400), not '%s'\n", opt, v);
        exit(EXIT_USAGE);
    }
    return s;
}

static void add_header(options_t *o, const char *arg)
{
    char *copy;
    char *colon;
    char *value;

    if (o->store_count == MAX_HEADERS) {
        fail_usage("at most %s extra headers", "32");
    }
    copy = strdup(arg);
    if (copy == NULL) {
        fail_usage("out of memory for header '%s'", arg);
    }
    colon = strchr(copy, ':');
    if (colon == NULL || colon == copy) {
        fail_usage("-H takes 'Name: value', not '%s'", arg);
    }
    *colon = '\0';
    value = colon + 1;
    while (*value == ' ' || *value == '\t') {
        value++;
    }
    o->header_store[o->store_count++] = copy;
    if (strcasecmp(copy, "Content-Type") == 0) {
        /* replaces the default rather than sending a second Content-Type */
        o->content_type = value;
        return;
    }
    o->headers[o->header_count].name = copy;
    o->headers[o->header_count].value = value;
    o->header_count++;
}

/* "sha256//B64;sha256//B64" -> pins. Exits on anything malformed. */
static size_t parse_pins(const char *spec, ap_spki_pin_t *pins, size_t max)
{
    size_t count = 0;
    const char *p = spec;

    while (*p != '\0') {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        unsigned char raw[48];
        size_t raw_len = 0;

        if (len < 8 || strncmp(p, "sha256//", 8) != 0) {
            fail_usage("--pinnedpubkey takes sha256//BASE64[;sha256//BASE64...], not '%s'", spec);
        }
        if (count == max) {
            fail_usage("--pinnedpubkey: at most %s pins", "4");
        }
        if (mbedtls_base64_decode(raw, sizeof(raw), &raw_len,
                                  (const unsigned char *)p + 8, len - 8) != 0 ||
            raw_len != 32) {
            fail_usage("--pinnedpubkey: not a base64 SHA-256 hash in '%s'", spec);
        }
        memcpy(pins[count].sha256, raw, 32);
        count++;
        p += len;
        if (*p == ';') {
            p++;
        }
    }
    if (count == 0) {
        fail_usage("--pinnedpubkey: no pin in '%s'", spec);
    }
    return count;
}

/* --resolve HOST:PORT:ADDR; applies only when HOST and PORT match the URL,
 * as in curl. Returns the address to connect to, or NULL. */
static char *resolve_for(const char *spec, const ap_url_t *url)
{
    char *copy = strdup(spec);
    char *first;
    char *second;
    char *addr;
    char *endp = NULL;
    long port;
    size_t alen;

    if (copy == NULL) {
        return NULL;
    }
    first = strchr(copy, ':');
    second = first ? strchr(first + 1, ':') : NULL;
    if (first == NULL || second == NULL || first == copy || second[1] == '\0') {
        fail_usage("--resolve takes HOST:PORT:ADDR, not '%s'", spec);
    }
    *first = '\0';
    *second = '\0';
    port = strtol(first + 1, &endp, 10);
    if (*endp != '\0' || port < 1 || port > 65535) {
        fail_usage("--resolve: bad port in '%s'", spec);
    }
    addr = second + 1;
    alen = strlen(addr);
    if (addr[0] == '[' && alen > 2 && addr[alen - 1] == ']') {
        addr[alen - 1] = '\0';
        addr++;
    }
    if (strcasecmp(copy, url->host) != 0 || (uint16_t)port != url->port) {
        fprintf(stderr, "alertpost: --resolve %s does not match %s port %u; ignored\n", spec,
                url->host, (unsigned)url->port);
        free(copy);
        return NULL;
    }
    memmove(copy, addr, strlen(addr) + 1);
    return copy;
}

static void free_headers(options_t *o)
{
    size_t i;

    for (i = 0; i < o->store_count; i++) {
        free(o->header_store[i]);
    }
    o->store_count = 0;
}

static int exit_for(ap_status_t st, const ap_client_t *c)
{
    bool secured = ap_client_info(c)->tls_version != 0;

    switch (st) {
    case AP_OK:
        return EXIT_DELIVERED;
    case AP_ERR_BAD_ARG:
    case AP_ERR_URL:
    case AP_ERR_NO_SPACE:
    case AP_ERR_TLS_SETUP:
        return EXIT_USAGE;
    case AP_ERR_DNS:
    case AP_ERR_CONNECT:
        return EXIT_CONNECT;
    case AP_ERR_TIMEOUT:
    case AP_ERR_IO:
    case AP_ERR_CLOSED:
        return secured ? EXIT_HTTP : EXIT_CONNECT;
    case AP_ERR_TLS_VERSION:
        return EXIT_TLS_VERSION;
    case AP_ERR_TLS_CERT:
    case AP_ERR_TLS_PIN:
        return EXIT_TLS_CERT;
    case AP_ERR_TLS:
    case AP_ERR_TLS_CLIENT_CERT:
    case AP_ERR_ENTROPY:
        return EXIT_TLS_OTHER;
    default:
        return EXIT_HTTP;
    }
}

static void report_verbose(const ap_client_t *c, const ap_response_t *resp)
{
    const ap_client_info_t *i = ap_client_info(c);

    if (i->tls_version == 0) {
        return;
    }
    fprintf(stderr,
            "alertpost: %s, %s, %s; connect %u ms, handshake %u ms, total %u ms%s; HTTP %d\n",
            ap_tls_version_str(i->tls_version), i->ciphersuite, ap_tls_library_version(),
            (unsigned)i->connect_ms, (unsigned)i->handshake_ms, (unsigned)i->total_ms,
            i->reused_connection ? " (connection reused)" : "", resp->status_code);
}

static int post_one(ap_client_t *c, const options_t *o, const uint8_t *body, size_t len,
                    uint8_t *keep, size_t keep_size)
{
    ap_request_t req;
    ap_response_t resp;
    ap_status_t st;

    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    req.headers = o->header_count ? o->headers : NULL;
    req.header_count = o->header_count;
    req.content_type = o->content_type;
    req.body = body;
    req.body_len = len;
    resp.body = keep;
    resp.body_size = keep_size;
    st = ap_post(c, &req, &resp);
    if (o->verbose) {
        report_verbose(c, &resp);
    }
    if (resp.body_len > 0 && !o->lines) {
        fwrite(resp.body, 1, resp.body_len, stdout);
        if (resp.body[resp.body_len - 1] != '\n') {
            fputc('\n', stdout);
        }
    }
    if (st != AP_OK) {
        fprintf(stderr, "alertpost: %s\n", ap_client_error(c));
    }
    return exit_for(st, c);
}

static int post_lines(ap_client_t *c, const options_t *o, uint8_t *keep, size_t keep_size)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long number = 0;
    unsigned long posted = 0;
    int rc = EXIT_DELIVERED;

    while ((n = getline(&line, &cap, stdin)) >= 0) {
        number++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
            line[--n] = '\0';
        }
        if (n == 0) {
            continue;
        }
        rc = post_one(c, o, (const uint8_t *)line, (size_t)n, keep, keep_size);
        if (rc != EXIT_DELIVERED) {
            /* Stop at the first failure so the order of alerts is kept: the
             * operator resumes from this line. Nothing after it was sent. */
            fprintf(stderr, "alertpost: line %lu not delivered; %lu earlier alert(s) "
                            "delivered; later lines not sent\n", number, posted);
            break;
        }
        posted++;
    }
    free(line);
    if (o->verbose && rc == EXIT_DELIVERED) {
        fprintf(stderr, "alertpost: %lu alert(s) delivered\n", posted);
    }
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"data", required_argument, NULL, 'd'},
        {"header", required_argument, NULL, 'H'},
        {"cacert", required_argument, NULL, 1},
        {"tls-min", required_argument, NULL, 2},
        {"tls-max", required_argument, NULL, 3},
        {"pinnedpubkey", required_argument, NULL, 4},
        {"resolve", required_argument, NULL, 5},
        {"connect-timeout", required_argument, NULL, 6},
        {"max-time", required_argument, NULL, 7},
        {"lines", no_argument, NULL, 8},
        {"version", no_argument, NULL, 9},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    options_t o;
    ap_posix_conn_t conn;
    ap_transport_t transport;
    ap_platform_t platform;
    ap_client_config_t cfg;
    ap_client_t *client;
    ap_spki_pin_t pins[AP_MAX_PINS];
    static uint8_t work[WORK_BUF];
    static uint8_t keep[RESPONSE_KEEP];
    unsigned char *ca = NULL;
    size_t ca_len = 0;
    unsigned char *body = NULL;
    size_t body_len = 0;
    char *connect_to = NULL;
    ap_status_t st;
    int rc;
    int ch;

    memset(&o, 0, sizeof(o));
    o.cacert = DEFAULT_CA_BUNDLE;
    while ((ch = getopt_long(argc, argv, "d:H:vh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd': o.data = optarg; break;
        case 'H': add_header(&o, optarg); break;
        case 1: o.cacert = optarg; break;
        case 2: o.tls_min = parse_version("--tls-min", optarg); break;
        case 3: o.tls_max = parse_version("--tls-max", optarg); break;
        case 4: o.pins = optarg; break;
        case 5: o.resolve = optarg; break;
        case 6: o.connect_timeout_s = parse_seconds("--connect-timeout", optarg); break;
        case 7: o.max_time_s = parse_seconds("--max-time", optarg); break;
        case 8: o.lines = 1; break;
        case 9: printf("alertpost %s (%s)\n", AP_USER_AGENT, ap_tls_library_version());
                free_headers(&o);
                return EXIT_DELIVERED;
        case 'v': o.verbose = 1; break;
        case 'h': fputs(usage_text, stdout); free_headers(&o); return EXIT_DELIVERED;
        default: fputs(usage_text, stderr); free_headers(&o); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fputs(usage_text, stderr);
        free_headers(&o);
        return EXIT_USAGE;
    }
    o.url = argv[optind];
    if (o.lines && o.data != NULL) {
        fail_usage("--lines reads the alerts from stdin; it does not go with %s", "--data");
    }

    if (!o.lines) {
        if (o.data == NULL) {
            body = (unsigned char *)strdup("");
            body_len = 0;
        } else if (o.data[0] == '@') {
            body = read_all(o.data + 1, MAX_BODY, &body_len);
            if (body == NULL) {
                fprintf(stderr, "alertpost: cannot read the alert body from %s: %s\n",
                        o.data + 1, strerror(errno));
                free_headers(&o);
                return EXIT_USAGE;
            }
        } else {
            body = (unsigned char *)strdup(o.data);
            body_len = strlen(o.data);
        }
    }
    ca = read_all(o.cacert, (size_t)16 * 1024 * 1024, &ca_len);
    if (ca == NULL) {
        fprintf(stderr, "alertpost: cannot read the trust anchors %s: %s\n", o.cacert,
                strerror(errno));
        free(body);
        free_headers(&o);
        return EXIT_USAGE;
    }

    ap_posix_transport_init(&transport, &conn);
    ap_posix_platform_init(&platform);
    ap_client_config_defaults(&cfg);
    cfg.url = o.url;
    cfg.transport = &transport;
    cfg.platform = &platform;
    cfg.ca_pem = ca;
    cfg.ca_pem_len = ca_len + 1; /* PEM parsing wants the NUL counted */
    cfg.tls_min = o.tls_min;
    cfg.tls_max = o.tls_max;
    cfg.work_buf = work;
    cfg.work_buf_size = sizeof(work);
    if (o.connect_timeout_s > 0) {
        cfg.connect_timeout_ms = (uint32_t)(o.connect_timeout_s * 1000.0 + 0.5);
    }
    if (o.max_time_s > 0) {
        cfg.deadline_ms = (uint32_t)(o.max_time_s * 1000.0 + 0.5);
        cfg.io_timeout_ms = cfg.deadline_ms;
    }
    if (o.pins != NULL) {
        cfg.pins = pins;
        cfg.pin_count = parse_pins(o.pins, pins, AP_MAX_PINS);
    }

    client = calloc(1, sizeof(*client));
    if (client == NULL) {
        fputs("alertpost: out of memory\n", stderr);
        free(body);
        free(ca);
        free_headers(&o);
        return EXIT_USAGE;
    }
    if (o.resolve != NULL) {
        ap_url_t url;

        if (ap_url_parse(o.url, &url) == AP_OK) {
            connect_to = resolve_for(o.resolve, &url);
            cfg.connect_host = connect_to;
        }
    }
    st = ap_client_init(client, &cfg);
    if (st != AP_OK) {
        fprintf(stderr, "alertpost: %s\n", ap_client_error(client));
        rc = exit_for(st, client);
    } else if (o.lines) {
        rc = post_lines(client, &o, keep, sizeof(keep));
    } else {
        rc = post_one(client, &o, body, body_len, keep, sizeof(keep));
    }
    ap_client_free(client);
    free(client);
    free(connect_to);
    free(body);
    free(ca);
    free_headers(&o);
    return rc;
}
