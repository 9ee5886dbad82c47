/*
 * The firmware's printf family: printf, vprintf, snprintf, vsnprintf, puts,
 * putchar, and fprintf, vfprintf, fputs, fputc, fwrite, in place of
 * newlib-nano's. Their names are the C library's contract (the core formats
 * its error texts with snprintf/vsnprintf, lwIP and the apps print with
 * printf, Mbed TLS's memory debugging with fprintf, and GCC turns some of
 * these calls into puts, putchar, fputs, fputc or fwrite), hence no ap_
 * prefix; being linked before libc, these are the ones every caller gets.
 * The board has no file system: the only streams are stdout and stderr,
 * both the console, so the stream functions write every FILE to it.
 *
 * Why not newlib's: its printf drags in the whole FILE machinery (buffers,
 * locks, fflush, the stream list), about 5 KiB of a 128 KiB flash budget,
 * for a console that is one UART. This one writes to the UART directly,
 * unbuffered, and formats into the caller's buffer for snprintf.
 *
 * What it formats is what the project's format strings use, checked by
 * grepping core/, ports/lwip and boards/mps2:
 *   conversions  d i u x X c s p %
 *   flags        - 0
 *   width        digits or *
 *   precision    .digits or .* (strings: at most that many bytes;
 *                integers: at least that many digits)
 *   length       hh h l ll z j t (PRIu32 and friends expand to these)
 * No floating point (nothing prints one), no %n. An unknown conversion is
 * copied out as written, so a mistake shows on the console instead of
 * reading a wrong argument.
 */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mps2.h"

/* Where formatted bytes go: a caller's buffer (snprintf) or the console
 * through a small staging buffer (printf). `total` counts every byte the
 * format produced, written or not, which is what snprintf returns. */
typedef struct {
    char *buf;
    size_t cap;    /* bytes of buf that may hold text (excluding the NUL) */
    size_t used;   /* bytes of buf filled */
    size_t total;
    int console;   /* 1: flush buf to the console when it fills */
} fmt_out_t;

static void out_flush(fmt_out_t *o)
{
    if (o->console && o->used > 0) {
        ap_mps2_console_write(o->buf, o->used);
        o->used = 0;
    }
}

static void out_byte(fmt_out_t *o, char c)
{
    o->total++;
    if (o->used == o->cap) {
        if (!o->console) {
            return;
        }
        out_flush(o);
    }
    o->buf[o->used++] = c;
}

static void out_repeat(fmt_out_t *o, char c, size_t n)
{
    while (n-- > 0) {
        out_byte(o, c);
    }
}

static void out_bytes(fmt_out_t *o, const char *s, size_t n)
{
    while (n-- > 0) {
        out_byte(o, *s++);
    }
}

#define FMT_LEFT 1u
#define FMT_ZERO 2u

/* Lays out one field: sign or prefix, zero or space padding to `width`,
 * then the body. */
static void out_field(fmt_out_t *o, unsigned flags, size_t width,
                      const char *prefix, size_t prefix_len,
                      size_t zeros, const char *body, size_t body_len)
{
    size_t len = prefix_len + zeros + body_len;
    size_t pad = width > len ? width - len : 0;

    if ((flags & (FMT_LEFT | FMT_ZERO)) == 0) {
        out_repeat(o, ' ', pad);
    }
    out_bytes(o, prefix, prefix_len);
    if ((flags & (FMT_LEFT | FMT_ZERO)) == FMT_ZERO) {
        out_repeat(o, '0', pad);
    }
    out_repeat(o, '0', zeros);
    out_bytes(o, body, body_len);
    if (flags & FMT_LEFT) {
        out_repeat(o, ' ', pad);
    }
}

/* Reads a width or precision: digits, or '*' for an int argument. */
static int read_count(const char **fmt, va_list *ap)
{
    int n = 0;

    if (**fmt == '*') {
        (*fmt)++;
        return va_arg(*ap, int);
    }
    while (**fmt >= '0' && **fmt <= '9') {
        if (n < INT_MAX / 10) {
            n = n * 10 + (**fmt - '0');
        }
        (*fmt)++;
    }
    return n;
}

static void format(fmt_out_t *o, const char *fmt, va_list ap_in)
{
    va_list ap;

    /* A copy, so that read_count() can take it by address on every ABI
     * (va_list is an array type on some). */
    va_copy(ap, ap_in);
    while (*fmt != '\0') {
        if (*fmt != '%') {
            out_byte(o, *fmt++);
            continue;
        }
        {
            unsigned flags = 0;
            size_t width = 0;
            int prec = -1;
            int lng = 0; /* 0: int, 1: long, 2: long long, 3: size_t/intmax_t/ptrdiff_t */
            char conv;
            const char *start = fmt++;

            for (;; fmt++) {
                if (*fmt == '-') {
                    flags |= FMT_LEFT;
                } else if (*fmt == '0') {
                    flags |= FMT_ZERO;
                } else {
                    break;
                }
            }
            {
                int w = read_count(&fmt, &ap);

                if (w < 0) {
                    flags |= FMT_LEFT;
                    w = -w;
                }
                width = (size_t)w;
            }
            if (*fmt == '.') {
                fmt++;
                prec = read_count(&fmt, &ap);
                if (prec < 0) {
                    prec = -1;
                }
            }
            while (*fmt == 'h') {
                fmt++;
            }
            if (*fmt == 'l') {
                fmt++;
                lng = 1;
                if (*fmt == 'l') {
                    fmt++;
                    lng = 2;
                }
            } else if (*fmt == 'z' || *fmt == 'j' || *fmt == 't') {
                fmt++;
                lng = 3;
            }
            conv = *fmt;
            if (conv == '\0') {
                out_bytes(o, start, (size_t)(fmt - start));
                break;
            }
            fmt++;

            switch (conv) {
            case '%':
                out_byte(o, '%');
                break;
            case 'c': {
                char c = (char)va_arg(ap, int);

                out_field(o, flags & FMT_LEFT, width, NULL, 0, 0, &c, 1);
                break;
            }
            case 's': {
                const char *s = va_arg(ap, const char *);
                size_t n;

                if (s == NULL) {
                    s = "(null)";
                }
                if (prec >= 0) {
                    const char *end = memchr(s, '\0', (size_t)prec);

                    n = end != NULL ? (size_t)(end - s) : (size_t)prec;
                } else {
                    n = strlen(s);
                }
                out_field(o, flags & FMT_LEFT, width, NULL, 0, 0, s, n);
                break;
            }
            case 'd':
            case 'i':
            case 'u':
            case 'x':
            case 'X':
            case 'p': {
                /* Digits are produced backwards into the end of `digits`. */
                char digits[24];
                size_t n = 0;
                unsigned long long v;
                unsigned base = (conv == 'd' || conv == 'i' || conv == 'u') ? 10u : 16u;
                const char *set = conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
                const char *prefix = NULL;
                size_t prefix_len = 0;
                size_t zeros = 0;

                if (conv == 'd' || conv == 'i') {
                    long long sv;

                    if (lng == 2) {
                        sv = va_arg(ap, long long);
                    } else if (lng == 3) {
                        sv = (long long)va_arg(ap, ptrdiff_t);
                    } else if (lng == 1) {
                        sv = va_arg(ap, long);
                    } else {
                        sv = va_arg(ap, int);
                    }
                    if (sv < 0) {
                        prefix = "-";
                        prefix_len = 1;
                        v = 0ull - (unsigned long long)sv;
                    } else {
                        v = (unsigned long long)sv;
                    }
                } else if (conv == 'p') {
                    v = (unsigned long long)(uintptr_t)va_arg(ap, void *);
                    prefix = "0x";
                    prefix_len = 2;
                } else if (lng == 2) {
                    v = va_arg(ap, unsigned long long);
                } else if (lng == 3) {
                    v = va_arg(ap, size_t);
                } else if (lng == 1) {
                    v = va_arg(ap, unsigned long);
                } else {
                    v = va_arg(ap, unsigned int);
                }
                /* 32-bit values, the common case, divide without the
                 * 64-bit helper. */
                if (v <= 0xFFFFFFFFull) {
                    uint32_t v32 = (uint32_t)v;

                    do {
                        digits[sizeof(digits) - 1 - n++] = set[v32 % base];
                        v32 /= base;
                    } while (v32 != 0);
                } else {
                    do {
                        digits[sizeof(digits) - 1 - n++] = set[v % base];
                        v /= base;
                    } while (v != 0);
                }
                if (prec >= 0) {
                    /* An explicit precision turns the 0 flag off, and a zero
                     * value with precision 0 has no digits (C99 7.19.6.1). */
                    flags &= ~FMT_ZERO;
                    if (prec == 0 && n == 1 && digits[sizeof(digits) - 1] == '0') {
                        n = 0;
                    }
                    if ((size_t)prec > n) {
                        zeros = (size_t)prec - n;
                    }
                }
                out_field(o, flags, width, prefix, prefix_len, zeros,
                          &digits[sizeof(digits) - n], n);
                break;
            }
            default:
                out_bytes(o, start, (size_t)(fmt - start));
                break;
            }
        }
    }
    va_end(ap);
}

int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
{
    fmt_out_t o;

    o.buf = buf;
    o.cap = size > 0 ? size - 1 : 0;
    o.used = 0;
    o.total = 0;
    o.console = 0;
    format(&o, fmt, ap);
    if (size > 0) {
        buf[o.used] = '\0';
    }
    return o.total > (size_t)INT_MAX ? INT_MAX : (int)o.total;
}

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int vprintf(const char *restrict fmt, va_list ap)
{
    /* Staging keeps the UART writes to a few per line without a stdio
     * buffer that would need flushing before exit. */
    char stage[64];
    fmt_out_t o;

    o.buf = stage;
    o.cap = sizeof(stage);
    o.used = 0;
    o.total = 0;
    o.console = 1;
    format(&o, fmt, ap);
    out_flush(&o);
    return o.total > (size_t)INT_MAX ? INT_MAX : (int)o.total;
}

int printf(const char *restrict fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int puts(const char *s)
{
    size_t n = strlen(s);

    ap_mps2_console_write(s, n);
    ap_mps2_console_write("\n", 1);
    return (int)(n + 1 > (size_t)INT_MAX ? INT_MAX : n + 1);
}

int putchar(int c)
{
    char ch = (char)c;

    ap_mps2_console_write(&ch, 1);
    return (unsigned char)ch;
}

int vfprintf(FILE *restrict stream, const char *restrict fmt, va_list ap)
{
    (void)stream;
    return vprintf(fmt, ap);
}

int fprintf(FILE *restrict stream, const char *restrict fmt, ...)
{
    va_list ap;
    int n;

    (void)stream;
    va_start(ap, fmt);
    n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int fputs(const char *restrict s, FILE *restrict stream)
{
    (void)stream;
    ap_mps2_console_write(s, strlen(s));
    return 0;
}

int fputc(int c, FILE *stream)
{
    (void)stream;
    return putchar(c);
}

size_t fwrite(const void *restrict ptr, size_t size, size_t count, FILE *restrict stream)
{
    (void)stream;
    if (size == 0 || count == 0) {
        return 0;
    }
    if (count > SIZE_MAX / size) {
        return 0;
    }
    ap_mps2_console_write(ptr, size * count);
    return count;
}
