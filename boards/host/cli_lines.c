/*
 * The --lines reader: stdin read with read() in large blocks into a buffer
 * of its own, cut into lines there. Owning the buffer lets the pipeline ask
 * whether the next line is already in hand (cli_line_ready) instead of
 * polling stdin before every line; stdio's buffer would hide it. A line may
 * be as long as memory allows: the buffer grows to hold it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* A pipe gives at most 64 KiB at a time; a file, as much as is asked. */
#define CLI_LINES_BLOCK 65536u

/* Make room for a block after the bytes kept; false when memory runs out. */
static bool make_room(cli_lines_t *in)
{
    size_t kept = in->end - in->start;
    char *bigger;

    /* the taken lines are gone: keep only the partial line (and buf is
     * NULL before the first read: no memmove on it) */
    if (kept > 0) {
        memmove(in->buf, in->buf + in->start, kept);
    }
    in->scanned -= in->start;
    in->start = 0;
    in->end = kept;
    if (in->buf_size - kept >= CLI_LINES_BLOCK / 2) {
        return true;
    }
    if (in->buf_size > ((size_t)-1 - 1) / 2) {
        return false;
    }
    bigger = realloc(in->buf, (in->buf_size ? in->buf_size * 2 : CLI_LINES_BLOCK) + 1);
    if (bigger == NULL) {
        return false;
    }
    in->buf = bigger;
    in->buf_size = in->buf_size ? in->buf_size * 2 : CLI_LINES_BLOCK;
    return true;
}

/* A read error or no memory ends the input, as getline's -1 did; the
 * partial line is dropped, so that a cut alert is never sent. */
static bool give_up(cli_lines_t *in)
{
    in->eof = true;
    in->end = in->start;
    in->scanned = in->start;
    return false;
}

/* Read what stdin has (waiting if it has nothing); false at its end. */
static bool refill(cli_lines_t *in)
{
    ssize_t n;

    if (!make_room(in)) {
        return give_up(in);
    }
    do {
        n = read(STDIN_FILENO, in->buf + in->end, in->buf_size - in->end);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return give_up(in);
    }
    if (n == 0) {
        in->eof = true;
        return false;
    }
    in->end += (size_t)n;
    return true;
}

/* The next line, with or without its '\n' (the last one may lack it); false
 * when none is left. */
static bool take_line(cli_lines_t *in, char **line, size_t *len)
{
    char *nl;

    for (;;) {
        /* buf is NULL before the first read: no memchr on it */
        nl = in->end > in->scanned ? memchr(in->buf + in->scanned, '\n',
                                            in->end - in->scanned) : NULL;
        if (nl != NULL) {
            break;
        }
        in->scanned = in->end;
        if (in->eof || !refill(in)) {
            if (in->start == in->end) {
                return false;
            }
            nl = in->buf + in->end; /* the last line, without its '\n' */
            break;
        }
    }
    *line = in->buf + in->start;
    *len = (size_t)(nl - *line);
    *nl = '\0'; /* buf has a byte past buf_size for the last line's NUL */
    in->start = (size_t)(nl - in->buf) + (nl < in->buf + in->end ? 1u : 0u);
    in->scanned = in->start;
    return true;
}

bool cli_next_line(cli_lines_t *in)
{
    char *line;
    size_t n;

    while (take_line(in, &line, &n)) {
        in->number++;
        while (n > 0 && line[n - 1] == '\r') {
            line[--n] = '\0';
        }
        if (n > 0) {
            in->line = line;
            in->len = n;
            return true;
        }
    }
    in->line = NULL;
    in->len = 0;
    return false;
}

/* True when cli_next_line will not wait for stdin: a non-empty line is
 * buffered whole, or the input has ended. Empty lines are looked past, as
 * cli_next_line skips them. */
bool cli_line_ready(const cli_lines_t *in)
{
    const char *p;
    const char *end;
    const char *nl;

    if (in->eof || in->buf == NULL) {
        return in->eof;
    }
    p = in->buf + in->start;
    end = in->buf + in->end;
    while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        for (; p < nl; p++) {
            if (*p != '\r') {
                return true;
            }
        }
        p = nl + 1;
    }
    return false;
}

void cli_lines_free(cli_lines_t *in)
{
    free(in->buf);
    memset(in, 0, sizeof(*in));
}
