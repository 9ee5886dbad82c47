/*
 * Words for the operator: one line per failure, never cut, and nothing the
 * user typed echoed raw (a control byte in a URL or header could drive the
 * terminal).
 */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

void cli_error(const cli_options_t *o, const char *fmt, ...)
{
    va_list ap;

    if (o->silent && !o->show_error) {
        return;
    }
    fputs("alertpost: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("alertpost: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see alertpost --help)\n", stderr);
}

/* C0 controls, DEL, and the C1 controls as UTF-8 (0xC2 0x80..0x9F) become
 * \xNN; everything else, other UTF-8 included, is kept. Four rotating
 * buffers, so one message may quote up to four inputs; an input longer than
 * a buffer ends in "...". */
const char *cli_escaped(const char *s)
{
    static char bufs[4][2048];
    static unsigned next;
    char *out = bufs[next++ % 4u];
    size_t room = sizeof(bufs[0]) - 4; /* for "..." and the NUL */
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;

    for (; *p != '\0'; p++) {
        bool c1 = p[0] == 0xC2u && p[1] >= 0x80u && p[1] <= 0x9Fu;

        if (n + 8 > room) {
            out[n++] = '.';
            out[n++] = '.';
            out[n++] = '.';
            break;
        }
        if (*p < 0x20u || *p == 0x7Fu || c1) {
            if (c1) {
                p++;
            }
            n += (size_t)snprintf(out + n, 5, "\\x%02X", (unsigned)*p);
        } else {
            out[n++] = (char)*p;
        }
    }
    out[n] = '\0';
    return out;
}
