/*
 * Retry-After (RFC 9110 10.2.3): delta-seconds or an HTTP-date.
 *
 * A sender must use IMF-fixdate, but a recipient must also accept the two
 * obsolete forms (RFC 9110 5.6.7), and servers behind old frameworks still
 * send them. The grammar is fixed-width and case-sensitive, so it is matched
 * exactly; anything else is "no usable value" and the queue falls back to its
 * own backoff, which is always safe. A date needs the wall clock to become a
 * delay; a device that does not know the date ignores it rather than guess.
 */
#include "alertpost/ap_queue.h"
#include "alertpost/ap_utc.h"

#include <string.h>

typedef struct ap_ra_cursor {
    const char *p;
} ap_ra_cursor_t;

static const char *const ap_ra_days[7] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
static const char *const ap_ra_days_long[7] = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"
};
static const char *const ap_ra_months[12] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

static bool ap_ra_lit(ap_ra_cursor_t *c, const char *s)
{
    size_t n = strlen(s);

    if (strncmp(c->p, s, n) != 0) {
        return false;
    }
    c->p += n;
    return true;
}

/* Exactly n digits. */
static bool ap_ra_digits(ap_ra_cursor_t *c, size_t n, int *v)
{
    size_t i;

    *v = 0;
    for (i = 0; i < n; i++) {
        if (c->p[i] < '0' || c->p[i] > '9') {
            return false;
        }
        *v = *v * 10 + (c->p[i] - '0');
    }
    c->p += n;
    return true;
}

static bool ap_ra_name(ap_ra_cursor_t *c, const char *const *names, size_t count, int *index)
{
    size_t i;

    for (i = 0; i < count; i++) {
        if (ap_ra_lit(c, names[i])) {
            *index = (int)i;
            return true;
        }
    }
    return false;
}

static bool ap_ra_month(ap_ra_cursor_t *c, int *month)
{
    int i;

    if (!ap_ra_name(c, ap_ra_months, 12, &i)) {
        return false;
    }
    *month = i + 1;
    return true;
}

/* time-of-day = hour ":" minute ":" second; 60 is a leap second. */
static bool ap_ra_time(ap_ra_cursor_t *c, int *secs)
{
    int h;
    int m;
    int s;

    if (!ap_ra_digits(c, 2, &h) || !ap_ra_lit(c, ":") || !ap_ra_digits(c, 2, &m) ||
        !ap_ra_lit(c, ":") || !ap_ra_digits(c, 2, &s) || h > 23 || m > 59 || s > 60) {
        return false;
    }
    *secs = h * 3600 + m * 60 + s;
    return true;
}

static int64_t ap_ra_year_of(int64_t wall)
{
    int64_t y;
    int m;
    int d;

    ap_utc_date(wall / 86400, &y, &m, &d);
    return y;
}

/* IMF-fixdate after the day name: ", 06 Nov 1994 08:49:37 GMT". */
static bool ap_ra_imf(ap_ra_cursor_t *c, int64_t *y, int *m, int *d, int *secs)
{
    int year;

    if (!ap_ra_lit(c, ", ") || !ap_ra_digits(c, 2, d) || !ap_ra_lit(c, " ") || !ap_ra_month(c, m) ||
        !ap_ra_lit(c, " ") || !ap_ra_digits(c, 4, &year) || !ap_ra_lit(c, " ") ||
        !ap_ra_time(c, secs) || !ap_ra_lit(c, " GMT")) {
        return false;
    }
    *y = year;
    return true;
}

/* RFC 850 after the day name: ", 06-Nov-94 08:49:37 GMT". A two-digit year
 * that would be more than 50 years ahead is the most recent past year with
 * those digits (RFC 9110 5.6.7). */
static bool ap_ra_rfc850(ap_ra_cursor_t *c, int64_t wall, int64_t *y, int *m, int *d, int *secs)
{
    int yy;
    int64_t now_year = ap_ra_year_of(wall);

    if (!ap_ra_lit(c, ", ") || !ap_ra_digits(c, 2, d) || !ap_ra_lit(c, "-") || !ap_ra_month(c, m) ||
        !ap_ra_lit(c, "-") || !ap_ra_digits(c, 2, &yy) || !ap_ra_lit(c, " ") ||
        !ap_ra_time(c, secs) || !ap_ra_lit(c, " GMT")) {
        return false;
    }
    *y = now_year - now_year % 100 + yy;
    if (*y > now_year + 50) {
        *y -= 100;
    }
    return true;
}

/* asctime after the day name: " Nov  6 08:49:37 1994". */
static bool ap_ra_asctime(ap_ra_cursor_t *c, int64_t *y, int *m, int *d, int *secs)
{
    int year;

    if (!ap_ra_lit(c, " ") || !ap_ra_month(c, m) || !ap_ra_lit(c, " ")) {
        return false;
    }
    if (c->p[0] == ' ') {
        c->p++;
        if (!ap_ra_digits(c, 1, d)) {
            return false;
        }
    } else if (!ap_ra_digits(c, 2, d)) {
        return false;
    }
    if (!ap_ra_lit(c, " ") || !ap_ra_time(c, secs) || !ap_ra_lit(c, " ") ||
        !ap_ra_digits(c, 4, &year)) {
        return false;
    }
    *y = year;
    return true;
}

static bool ap_ra_date(const char *value, int64_t wall, int64_t *when)
{
    ap_ra_cursor_t c = { value };
    int64_t y = 0;
    int m = 0;
    int d = 0;
    int secs = 0;
    int day;
    bool ok;

    /* The long names first: "Sunday" must not be read as "Sun" + "day". */
    if (ap_ra_name(&c, ap_ra_days_long, 7, &day)) {
        ok = ap_ra_rfc850(&c, wall, &y, &m, &d, &secs);
    } else if (ap_ra_name(&c, ap_ra_days, 7, &day)) {
        ok = c.p[0] == ',' ? ap_ra_imf(&c, &y, &m, &d, &secs) : ap_ra_asctime(&c, &y, &m, &d, &secs);
    } else {
        ok = false;
    }
    /* The weekday is redundant; a wrong one is not worth refusing for. */
    if (!ok || *c.p != '\0' || y < 1 || !ap_utc_valid_date(y, m, d)) {
        return false;
    }
    *when = ap_utc_days(y, m, d) * 86400 + secs;
    return true;
}

static bool ap_ra_delta(const char *value, uint32_t *delay_s)
{
    uint64_t v = 0;
    const char *p;

    for (p = value; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            return false;
        }
        /* Saturate rather than wrap: a huge value is a long wait, and the
         * cap applies after. */
        if (v <= UINT32_MAX) {
            v = v * 10u + (uint64_t)(*p - '0');
        }
    }
    *delay_s = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    return true;
}

bool ap_retry_after_parse(const char *value, int64_t wall_now, uint32_t *delay_s)
{
    int64_t when;
    int64_t diff;

    if (value == NULL || delay_s == NULL || value[0] == '\0') {
        return false;
    }
    if (value[0] >= '0' && value[0] <= '9') {
        return ap_ra_delta(value, delay_s);
    }
    if (wall_now < 0 || !ap_ra_date(value, wall_now, &when)) {
        return false;
    }
    diff = when - wall_now;
    if (diff <= 0) {
        *delay_s = 0;
    } else {
        *delay_s = diff > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)diff;
    }
    return true;
}
