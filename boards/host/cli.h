/*
 * The alertpost command line: what its files share. main.c reads as the
 * table of contents; each other file is one concern (arguments, inputs,
 * posting, output, the verbose trace, words for the operator).
 */
#ifndef ALERTPOST_CLI_H
#define ALERTPOST_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alertpost/alertpost.h"
#include "alertpost/ap_posix.h"
#include "alertpost/ap_posix_proxy.h"
#include "alertpost/ap_posix_spool.h"

/* The exit codes: the CLI's contract with scripts (README, --help, man page). */
enum cli_exit {
    CLI_EXIT_DELIVERED = 0,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_CONNECT = 3,
    CLI_EXIT_TLS_VERSION = 4,
    CLI_EXIT_TLS_CERT = 5,
    CLI_EXIT_TLS_OTHER = 6,
    CLI_EXIT_HTTP = 7,
    CLI_EXIT_KEPT = 8           /* --spool: alerts remain in the spool */
};

/* cli_parse(): go on (any other value is the exit code to end with). */
#define CLI_CONTINUE (-1)

enum {
    CLI_MAX_HEADERS = 32,
    CLI_MAX_RESOLVE = 16,
    CLI_MAX_OWNED = CLI_MAX_HEADERS + 8,
    CLI_MAX_BODY = 1024 * 1024,
    CLI_MAX_ANCHORS = 16 * 1024 * 1024,
    CLI_WORK_BUF = 4096,
    CLI_MAX_SESSIONS = 64       /* entries kept in an --ssl-sessions file */
};

/* Defaults, stated once: --help, the README and the man page quote them. */
#define CLI_DEFAULT_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
/* Debian's publicsuffix package; used when it is there. */
#define CLI_DEFAULT_PSL "/usr/share/publicsuffix/public_suffix_list.dat"

/* One --resolve HOST:PORT:ADDR entry (curl's meaning). */
typedef struct cli_resolve {
    const char *host;
    uint16_t port;
    const char *addr;
} cli_resolve_t;

/* Grouped by size (pointers and 8-byte numbers, then the rest), so the
 * struct carries no padding to speak of. */
typedef struct cli_options {
    /* what to post, and where */
    const char *url;
    const char *data;           /* -d, --data-binary or --json: TEXT, @FILE or @- */
    const char *cacert;         /* trust anchors; never NULL after parsing */
    const char *cacert_source;  /* "--cacert", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "default" */
    const char *pins;
    const char *cert;           /* -E, --cert FILE: this device's chain (may hold the key) */
    const char *key;            /* --key FILE; NULL: the key is in --cert's file */
    const char *pass;           /* --pass PHRASE: the key's passphrase */
    const char *psl;            /* --public-suffix-list FILE; "" none; NULL: the default */
    const char *user_agent;     /* -A */
    const char *output;         /* -o FILE; NULL: stdout */
    const char *write_out;      /* -w FORMAT */
    const char *spool;          /* --spool DIR */
    const char *check_chain;    /* --check-chain FILE: judge a chain, send nothing */
    const char *proxy;          /* --proxy URL; "" none; NULL: from the environment */
    const char *proxy_user;     /* --proxy-user USER:PASSWORD */
    const char *noproxy;        /* --noproxy LIST; NULL: $no_proxy / $NO_PROXY */
    const char *ssl_sessions;   /* --ssl-sessions FILE: TLS sessions kept between runs */
    /* numbers */
    double connect_timeout_s;   /* 0: the library's default */
    double max_time_s;
    double retry_max_time_s;    /* --retry-max-time S; 0 unlimited */
    double retry_delay_s;       /* --retry-delay S: backoff base and cap; 0 the defaults */
    uint64_t spool_max_bytes;   /* --spool-max-bytes: 0 no limit */
    int64_t at;                 /* --at TIME, seconds since 1970 UTC */
    long retry;                 /* --retry N; -1 when not given */
    /* lists */
    cli_resolve_t resolve[CLI_MAX_RESOLVE];
    size_t resolve_count;
    ap_header_t headers[CLI_MAX_HEADERS];
    size_t header_count;
    char *owned[CLI_MAX_OWNED]; /* strings made while parsing, freed at the end */
    size_t owned_count;
    ap_tls_version_t tls_min, tls_max;
    unsigned pipeline;          /* --pipeline N: alerts in flight with --lines; 0 not given */
    /* switches */
    bool json;                  /* --json: Content-Type and Accept set to JSON */
    bool lines;
    bool no_early_data;         /* --no-early-data: never 0-RTT, even with a key */
    bool flush;                 /* --flush: deliver the spool, no new alert */
    bool spool_list;            /* --spool-list: show the spool, send nothing */
    bool at_set;
    bool verbose;
    bool silent;                /* -s: no error text ... */
    bool show_error;            /* -S: ... unless this */
} cli_options_t;

/* cli_args.c: parse and check every argument before any connection. */
int cli_parse(int argc, char **argv, cli_options_t *o);
void cli_options_free(cli_options_t *o);

/* cli_text.c: words for the operator. */
void cli_error(const cli_options_t *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *cli_escaped(const char *s);

/* cli_input.c: files, stdin, pins. */

/* --lines input: each non-empty stdin line, without its line end. Stdin is
 * read in blocks into the reader's own buffer (stdio's is never used for it),
 * so that the reader can tell whether the next line is already in hand.
 * Start from all zeros; line stays valid until the next call. */
typedef struct cli_lines {
    char *line;                 /* NUL-terminated, inside buf */
    size_t len;
    unsigned long number;       /* of the line in the input, empty ones counted */
    char *buf;                  /* buf_size + 1 bytes: room for a last NUL */
    size_t buf_size;
    size_t start;               /* the first byte not yet taken */
    size_t end;                 /* the end of the bytes read */
    size_t scanned;             /* [start, scanned) holds no line end */
    bool eof;                   /* end of input (or a read error): no more reads */
} cli_lines_t;

bool cli_next_line(cli_lines_t *in);
bool cli_line_ready(const cli_lines_t *in);
void cli_lines_free(cli_lines_t *in);
unsigned char *cli_read_all(const char *path, size_t limit, size_t *out_len);
unsigned char *cli_read_suffixes(const cli_options_t *o, size_t *len, int *rc);
const char *cli_suffixes_source(const cli_options_t *o, bool loaded);
int cli_parse_pins(const char *spec, ap_spki_pin_t *pins, size_t max, size_t *count);
const char *cli_connect_host(const cli_options_t *o, const ap_url_t *url);

/* cli_post.c: the client, one post or a stream of lines. */
int cli_run(const cli_options_t *o);
int cli_exit_for(ap_status_t st, const ap_client_t *c);

/* cli_queue.c: delivery through the queue (--spool, --retry). */
bool cli_uses_queue(const cli_options_t *o);
int cli_queue_deliver(const cli_options_t *o, ap_client_t *client, const ap_platform_t *platform,
                      const uint8_t *body, size_t body_len, const ap_header_t *headers,
                      size_t header_count);

/* cli_sessions.c: --ssl-sessions FILE. */
typedef struct cli_session_entry {
    char *host;                 /* these point into cli_sessions_t.text */
    char *blob64;
    uint16_t port;
    bool keep;                  /* written back (another host's, or another policy's) */
} cli_session_entry_t;

typedef struct cli_sessions {
    ap_url_t url;               /* this run's host and port */
    char *text;                 /* the file as read, cut into entries */
    size_t len;
    cli_session_entry_t entries[CLI_MAX_SESSIONS];
    size_t count;
} cli_sessions_t;

/* Offer the file's session for this host, port and policy to c (after
 * ap_client_init()); store writes the file back with this run's session. */
void cli_sessions_load(const cli_options_t *o, cli_sessions_t *s, ap_client_t *c);
void cli_sessions_store(const cli_options_t *o, cli_sessions_t *s, ap_client_t *c);
void cli_sessions_free(cli_sessions_t *s);

/* cli_pipeline.c: --lines --pipeline N. */
int cli_pipeline_lines(const cli_options_t *o, ap_client_t *client,
                       const ap_platform_t *platform, const ap_header_t *headers,
                       size_t header_count);

/* cli_check.c: --check-chain. */
bool cli_parse_rfc3339(const char *text, int64_t *out);
int cli_check_chain(const cli_options_t *o);

/* cli_spool.c: the spool directory. */
int cli_spool_open(const cli_options_t *o, ap_posix_spool_t *spool, ap_store_t *store);
int cli_spool_list(const cli_options_t *o);

/* cli_proxy.c: curl's proxy selection, and the tunnel. */
typedef struct cli_proxy {
    bool used;
    ap_posix_proxy_t proxy;
    ap_transport_t tunnel;
    char label[AP_POSIX_PROXY_HOST_SIZE + 16];   /* "host:port", for messages */
} cli_proxy_t;

int cli_proxy_setup(const cli_options_t *o, const ap_url_t *url, const ap_transport_t *tcp,
                    cli_proxy_t *p);

/* cli_output.c: the response body and -w. */
typedef struct cli_output {
    void *file;                 /* FILE *: stdout or -o FILE */
    bool broken;                /* a write failed; the rest is dropped */
    int error;                  /* errno of that failure */
    uint64_t written;
} cli_output_t;

int cli_output_open(cli_output_t *out, const cli_options_t *o);
void cli_output_body(void *ctx, const uint8_t *data, size_t len);
void cli_output_close(cli_output_t *out, const cli_options_t *o);
void cli_write_out(const cli_options_t *o, const ap_client_t *c, const ap_response_t *resp,
                   size_t upload, int exit_code);

/* cli_verbose.c: the -v trace. */
typedef struct cli_trace {
    const cli_options_t *o;
    const ap_client_t *client;       /* for what the connection negotiated */
    const ap_posix_conn_t *conn;     /* for the address it reached */
    char line[1024];                 /* a response head line being collected */
    size_t line_len;
} cli_trace_t;

void cli_trace_hook(void *ctx, ap_trace_kind_t kind, const uint8_t *data, size_t len);
void cli_verbose_result(const cli_options_t *o, const ap_client_t *c,
                        const ap_response_t *resp);

#endif /* ALERTPOST_CLI_H */
