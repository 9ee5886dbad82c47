/*
 * --ssl-sessions FILE (curl's name): TLS sessions kept between runs, so the
 * next run's first handshake resumes.
 *
 * The file is text, one entry per line: "HOST PORT BASE64", the blob of
 * ap_client_session_save() (ap_session.h), which carries its own binding to
 * the host, port and policy, its lifetime and a CRC. Several entries may
 * share a host and port when they were made under different policies
 * (anchors, pins, TLS range, identity): each is kept for the run that uses
 * that policy. Nothing in the file is ever trusted beyond what the library
 * checks when it loads a blob; an entry it refuses is ignored, with a -v
 * note, and the post runs a full handshake. Nothing about the file is an
 * error: a session is an optimisation.
 *
 * The blobs hold session secrets. The file is read only when it is a
 * regular file of this user that no one else may read or write (opened
 * without following a symbolic link), and written as a new file of mode
 * 0600 (whatever the umask) renamed over the old one, never by writing
 * into an existing file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alertpost/ap_session.h"
#include "cli.h"
#include "mbedtls/base64.h"

enum { FILE_MAX = 1024 * 1024 };

static const char k_header[] = "# alertpost TLS sessions (--ssl-sessions): secret, keep it 0600\n";

static void note(const cli_options_t *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note(const cli_options_t *o, const char *fmt, ...)
{
    if (o->verbose) {
        va_list ap;

        fprintf(stderr, "* SSL session file %s: ", cli_escaped(o->ssl_sessions));
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    }
}

/* Why the opened file is not read; NULL when it may be. */
static const char *unsafe(const struct stat *st)
{
    if (!S_ISREG(st->st_mode)) {
        return "not a regular file";
    }
    if (st->st_uid != geteuid()) {
        return "owned by another user";
    }
    if ((st->st_mode & 077) != 0) {
        return "open to group or others; it must be 0600";
    }
    return st->st_size > FILE_MAX ? "too large" : NULL;
}

/* The whole file, if it is safe to read; NULL with a note otherwise. */
static char *read_safely(const cli_options_t *o, size_t *len)
{
    struct stat st;
    const char *why;
    char *text;
    ssize_t n;
    int fd = open(o->ssl_sessions, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);

    if (fd < 0) {
        if (errno == ENOENT) {
            note(o, "none yet (written after the post)");
        } else {
            note(o, "ignored (cannot read it: %s)", strerror(errno));
        }
        return NULL;
    }
    why = fstat(fd, &st) != 0 ? strerror(errno) : unsafe(&st);
    if (why != NULL) {
        note(o, "ignored (%s)", why);
        (void)close(fd);
        return NULL;
    }
    text = malloc((size_t)st.st_size + 1);
    n = text != NULL ? read(fd, text, (size_t)st.st_size) : -1;
    (void)close(fd);
    if (n != (ssize_t)st.st_size) {
        note(o, "ignored (cannot read it whole)");
        free(text);
        return NULL;
    }
    text[n] = '\0';
    *len = (size_t)n;
    return text;
}

/* One line: "HOST PORT BASE64". false: not an entry (a comment, damage). */
static bool parse_entry(char *line, cli_session_entry_t *e)
{
    char *port;
    char *end = NULL;
    long p;

    if (line[0] == '#' || line[0] == '\0') {
        return false;
    }
    port = strchr(line, ' ');
    e->blob64 = port != NULL ? strchr(port + 1, ' ') : NULL;
    if (e->blob64 == NULL) {
        return false;
    }
    *port++ = '\0';
    *e->blob64++ = '\0';
    p = strtol(port, &end, 10);
    e->host = line;
    e->port = (uint16_t)p;
    return end == e->blob64 - 1 && p >= 1 && p <= 65535 && e->blob64[0] != '\0';
}

/* Offer the entry to the client: AP_OK, or why it was refused. */
static ap_status_t try_entry(const cli_options_t *o, ap_client_t *c, const cli_session_entry_t *e)
{
    unsigned char blob[AP_SESSION_BLOB_SIZE];
    size_t len = 0;
    ap_status_t st;

    if (mbedtls_base64_decode(blob, sizeof blob, &len, (const unsigned char *)e->blob64,
                              strlen(e->blob64)) != 0) {
        note(o, "ignored (an entry that is not base64, or too long)");
        return AP_ERR_SESSION_CORRUPT;
    }
    st = ap_client_session_load(c, blob, len);
    memset(blob, 0, sizeof blob);
    if (st != AP_OK) {
        note(o, "ignored (%s)", ap_client_error(c));
    }
    return st;
}

void cli_sessions_load(const cli_options_t *o, cli_sessions_t *s, ap_client_t *c)
{
    char *line;
    char *next;
    bool loaded = false;

    memset(s, 0, sizeof *s);
    if (ap_url_parse(o->url, &s->url) != AP_OK) {
        return;
    }
    s->text = read_safely(o, &s->len);
    for (line = s->text; line != NULL && *line != '\0'; line = next) {
        cli_session_entry_t e;

        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        if (!parse_entry(line, &e) || s->count == CLI_MAX_SESSIONS) {
            continue; /* damaged lines and any past the bound are not kept */
        }
        e.keep = true;
        if (strcmp(e.host, s->url.host) == 0 && e.port == s->url.port && !loaded) {
            ap_status_t st = try_entry(o, c, &e);

            loaded = st == AP_OK;
            /* another policy's session stays for the run that has it */
            e.keep = st == AP_ERR_SESSION_FOREIGN;
        }
        s->entries[s->count++] = e;
    }
    if (loaded) {
        note(o, "a session for this host, port and policy is offered");
    }
}

static bool write_all(int fd, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);

        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            return false;
        }
        text += n;
        len -= (size_t)n;
    }
    return true;
}

static bool write_line(int fd, const char *host, unsigned port, const char *b64)
{
    char head[AP_MAX_HOST_LEN + 16];
    int n = snprintf(head, sizeof head, "%s %u ", host, port);

    return n > 0 && write_all(fd, head, (size_t)n) && write_all(fd, b64, strlen(b64)) &&
           write_all(fd, "\n", 1);
}

/* Every kept entry, then this run's session (b64, or NULL). */
static bool write_entries(int fd, const cli_sessions_t *s, const char *b64)
{
    size_t i;

    if (!write_all(fd, k_header, sizeof k_header - 1)) {
        return false;
    }
    for (i = 0; i < s->count; i++) {
        const cli_session_entry_t *e = &s->entries[i];

        if (e->keep && !write_line(fd, e->host, e->port, e->blob64)) {
            return false;
        }
    }
    return b64 == NULL || write_line(fd, s->url.host, s->url.port, b64);
}

/* A new file of mode 0600 beside the old one, renamed over it. */
static const char *replace_file(const cli_options_t *o, const cli_sessions_t *s,
                                const char *b64)
{
    size_t n = strlen(o->ssl_sessions) + 8;
    char *tmp = malloc(n);
    const char *why = NULL;
    int fd;

    if (tmp == NULL) {
        return "out of memory";
    }
    (void)snprintf(tmp, n, "%s.XXXXXX", o->ssl_sessions);
    fd = mkstemp(tmp); /* O_CREAT | O_EXCL, never an existing file */
    if (fd < 0) {
        free(tmp);
        return strerror(errno);
    }
    if (fchmod(fd, S_IRUSR | S_IWUSR) != 0 || !write_entries(fd, s, b64) || fsync(fd) != 0) {
        why = strerror(errno);
    }
    if (close(fd) != 0 && why == NULL) {
        why = strerror(errno);
    }
    if (why == NULL && rename(tmp, o->ssl_sessions) != 0) {
        why = strerror(errno);
    }
    if (why != NULL) {
        (void)unlink(tmp);
    }
    free(tmp);
    return why;
}

void cli_sessions_store(const cli_options_t *o, cli_sessions_t *s, ap_client_t *c)
{
    unsigned char blob[AP_SESSION_BLOB_SIZE];
    unsigned char b64[AP_SESSION_BLOB_SIZE * 4 / 3 + 8];
    size_t len = 0;
    size_t b64_len = 0;
    bool have;
    const char *why;

    if (s->url.host[0] == '\0') {
        return;
    }
    have = ap_client_session_save(c, blob, sizeof blob, &len) == AP_OK &&
           mbedtls_base64_encode(b64, sizeof b64, &b64_len, blob, len) == 0;
    memset(blob, 0, sizeof blob);
    why = replace_file(o, s, have ? (const char *)b64 : NULL);
    memset(b64, 0, sizeof b64);
    if (why != NULL) {
        note(o, "not saved (%s)", why);
    } else {
        note(o, "%s", have ? "saved this run's session" : "no session to save from this run");
    }
}

void cli_sessions_free(cli_sessions_t *s)
{
    if (s->text != NULL) {
        memset(s->text, 0, s->len);
        free(s->text);
    }
    memset(s, 0, sizeof *s);
}
