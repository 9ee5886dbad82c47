/*
 * Inputs: whole files or stdin read into memory (bounded), SPKI pins, and
 * the --resolve entry that applies to the URL. The --lines reader is
 * cli_lines.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "mbedtls/base64.h"

/* Grow buf so that at least 4096 more bytes fit; false (buf freed) if not. */
static bool grow(unsigned char **buf, size_t len, size_t *cap)
{
    unsigned char *bigger;

    if (*cap - len >= 4096) {
        return true;
    }
    *cap = *cap ? *cap * 2 : 8192;
    bigger = realloc(*buf, *cap + 1);
    if (bigger == NULL) {
        free(*buf);
        *buf = NULL;
        return false;
    }
    *buf = bigger;
    return true;
}

unsigned char *cli_read_all(const char *path, size_t limit, size_t *out_len)
{
    FILE *f = (strcmp(path, "-") == 0) ? stdin : fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t len = 0;
    size_t cap = 0;

    if (f == NULL) {
        return NULL;
    }
    while (grow(&buf, len, &cap)) {
        size_t n = fread(buf + len, 1, cap - len, f);

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

/* "sha256//B64;sha256//B64" -> pins. */
int cli_parse_pins(const char *spec, ap_spki_pin_t *pins, size_t max, size_t *count)
{
    const char *p = spec;

    *count = 0;
    while (*p != '\0') {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        unsigned char raw[48];
        size_t raw_len = 0;

        if (len < 8 || strncmp(p, "sha256//", 8) != 0) {
            cli_usage_error("--pinnedpubkey takes sha256//BASE64[;sha256//BASE64...], not '%s'",
                            cli_escaped(spec));
            return CLI_EXIT_USAGE;
        }
        if (*count == max) {
            cli_usage_error("--pinnedpubkey: at most %u pins", (unsigned)max);
            return CLI_EXIT_USAGE;
        }
        if (mbedtls_base64_decode(raw, sizeof(raw), &raw_len, (const unsigned char *)p + 8,
                                  len - 8) != 0 || raw_len != 32) {
            cli_usage_error("--pinnedpubkey: not a base64 SHA-256 hash in '%s'",
                            cli_escaped(spec));
            return CLI_EXIT_USAGE;
        }
        memcpy(pins[*count].sha256, raw, 32);
        (*count)++;
        p += len;
        if (*p == ';') {
            p++;
        }
    }
    if (*count == 0) {
        cli_usage_error("--pinnedpubkey: no pin in '%s'", cli_escaped(spec));
        return CLI_EXIT_USAGE;
    }
    return CLI_CONTINUE;
}

/* The first --resolve entry for the URL's host and port, as in curl; an
 * entry for another host or port is said to be unused, not an error. */
const char *cli_connect_host(const cli_options_t *o, const ap_url_t *url)
{
    const char *found = NULL;
    size_t i;

    for (i = 0; i < o->resolve_count; i++) {
        const cli_resolve_t *r = &o->resolve[i];

        if (strcasecmp(r->host, url->host) == 0 && r->port == url->port) {
            if (found == NULL) {
                found = r->addr;
            }
        } else if (o->verbose) {
            fprintf(stderr, "* --resolve %s:%u does not match %s port %u; not used\n",
                    cli_escaped(r->host), (unsigned)r->port, url->host, (unsigned)url->port);
        }
    }
    return found;
}

/* The Public Suffix List: --public-suffix-list FILE, else Debian's file when
 * it is there. NULL with *rc CLI_CONTINUE: none, the built-in rules apply;
 * NULL with *rc CLI_EXIT_USAGE: the named file cannot be read (said). */
unsigned char *cli_read_suffixes(const cli_options_t *o, size_t *len, int *rc)
{
    const char *path = o->psl != NULL ? o->psl : CLI_DEFAULT_PSL;
    unsigned char *text;

    *rc = CLI_CONTINUE;
    *len = 0;
    if (path[0] == '\0') {
        return NULL;
    }
    text = cli_read_all(path, CLI_MAX_ANCHORS, len);
    if (text == NULL && o->psl != NULL) {
        cli_usage_error("cannot read the public suffix list %s (--public-suffix-list): %s",
                        cli_escaped(path), strerror(errno));
        *rc = CLI_EXIT_USAGE;
    }
    return text;
}

/* For -v: where the public suffixes come from. */
const char *cli_suffixes_source(const cli_options_t *o, bool loaded)
{
    if (!loaded) {
        return "the built-in rules only";
    }
    return o->psl != NULL ? o->psl : CLI_DEFAULT_PSL;
}
