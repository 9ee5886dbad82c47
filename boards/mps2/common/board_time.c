/*
 * The board's time policy (board_time.h): the checks are on whole answers,
 * in milliseconds, and the clock is the last accepted answer plus the
 * counter's time since, clamped so it is never less than what it said
 * before. That clamp is what makes a small step back a hold rather than a
 * jump: the base moves back to the answer at once, the clock stands still
 * until base plus elapsed passes its high-water mark, then runs on.
 */
#include <stdio.h>

#include "board_time.h"

#include "alertpost/ap_utc.h"

#define MS_PER_S INT64_C(1000)

void ap_board_time_init(ap_board_time_t *t, int64_t build_time_s)
{
    if (build_time_s < 0) {
        build_time_s = 0;
    }
    t->floor_ms = build_time_s * MS_PER_S;
    t->ceiling_ms = (build_time_s + AP_BOARD_TIME_HORIZON_S) * MS_PER_S;
    t->set = false;
    t->base_ms = 0;
    t->elapsed_ms = 0;
    t->last_tick = 0;
    t->high_ms = 0;
    t->accepted = 0;
    t->refused = 0;
}

bool ap_board_time_verdict_accepted(ap_board_time_verdict_t v)
{
    return v == AP_BOARD_TIME_SET || v == AP_BOARD_TIME_STEPPED || v == AP_BOARD_TIME_HELD;
}

int64_t ap_board_time_now_ms(ap_board_time_t *t, uint32_t now_tick)
{
    int64_t now;

    if (!t->set) {
        return AP_BOARD_TIME_UNKNOWN;
    }
    /* Wrap-safe: the unsigned difference is right across one wrap. */
    t->elapsed_ms += (int64_t)(uint32_t)(now_tick - t->last_tick);
    t->last_tick = now_tick;
    now = t->base_ms + t->elapsed_ms;
    if (now > t->high_ms) {
        t->high_ms = now;
    }
    return t->high_ms;
}

int64_t ap_board_time_now(ap_board_time_t *t, uint32_t now_tick)
{
    int64_t ms = ap_board_time_now_ms(t, now_tick);

    return ms == AP_BOARD_TIME_UNKNOWN ? AP_BOARD_TIME_UNKNOWN : ms / MS_PER_S;
}

/* The answer is within the build time's window: take it as the new base. */
static ap_board_time_verdict_t take(ap_board_time_t *t, int64_t answer_ms, uint32_t now_tick,
                                    char *why, size_t why_size)
{
    ap_board_time_verdict_t v = AP_BOARD_TIME_SET;
    int64_t behind_ms = 0;

    if (t->set) {
        behind_ms = ap_board_time_now_ms(t, now_tick) - answer_ms;
        if (behind_ms > AP_BOARD_TIME_HOLD_MAX_MS) {
            t->refused++;
            if (why_size > 0) {
                (void)snprintf(why, why_size, "refused: %lld s behind the clock (more "
                               "than %lld s); the clock never goes back and keeps "
                               "running", (long long)(behind_ms / MS_PER_S),
                               (long long)(AP_BOARD_TIME_HOLD_MAX_MS / MS_PER_S));
            }
            return AP_BOARD_TIME_BACKWARDS;
        }
        v = behind_ms > 0 ? AP_BOARD_TIME_HELD : AP_BOARD_TIME_STEPPED;
    }
    t->set = true;
    t->base_ms = answer_ms;
    t->elapsed_ms = 0;
    t->last_tick = now_tick;
    if (v == AP_BOARD_TIME_SET || answer_ms > t->high_ms) {
        t->high_ms = answer_ms;
    }
    t->accepted++;
    if (why_size > 0) {
        if (v == AP_BOARD_TIME_HELD) {
            (void)snprintf(why, why_size, "accepted: %lld ms behind the clock, which "
                           "stands still until it catches up", (long long)behind_ms);
        } else if (v == AP_BOARD_TIME_STEPPED) {
            (void)snprintf(why, why_size, "accepted: the clock moves %lld ms forward",
                           (long long)-behind_ms);
        } else {
            (void)snprintf(why, why_size, "accepted: the clock is set");
        }
    }
    return v;
}

ap_board_time_verdict_t ap_board_time_offer(ap_board_time_t *t, int64_t sec, uint32_t usec,
                                            uint32_t now_tick, char *why, size_t why_size)
{
    char when[24];

    if (why_size > 0) {
        why[0] = '\0';
    }
    if (usec > 999999u) {
        usec = 999999u;
    }
    /* Seconds first: a huge sec must not overflow the milliseconds. */
    if (sec < t->floor_ms / MS_PER_S) {
        t->refused++;
        if (why_size > 0) {
            (void)snprintf(why, why_size, "refused: earlier than the firmware's build time %s",
                           ap_board_time_format(t->floor_ms / MS_PER_S, when, sizeof when));
        }
        return AP_BOARD_TIME_TOO_EARLY;
    }
    if (sec >= t->ceiling_ms / MS_PER_S) {
        t->refused++;
        if (why_size > 0) {
            (void)snprintf(why, why_size, "refused: later than %s, 20 years after the "
                           "firmware's build time",
                           ap_board_time_format(t->ceiling_ms / MS_PER_S, when, sizeof when));
        }
        return AP_BOARD_TIME_TOO_LATE;
    }
    return take(t, sec * MS_PER_S + (int64_t)(usec / 1000u), now_tick, why, why_size);
}

const char *ap_board_time_format(int64_t sec, char *buf, size_t buf_size)
{
    int64_t y;
    int mo;
    int d;
    int64_t s = sec % 86400;

    if (buf_size < 21u) {
        if (buf_size > 0) {
            buf[0] = '\0';
        }
        return "?";
    }
    /* 253402300800 is 10000-01-01T00:00:00Z. */
    if (sec < 0 || sec >= INT64_C(253402300800)) {
        buf[0] = '\0';
        return "?";
    }
    ap_utc_date(sec / 86400, &y, &mo, &d);
    (void)snprintf(buf, buf_size, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)y,
                   (unsigned)mo, (unsigned)d, (unsigned)(s / 3600), (unsigned)(s / 60 % 60),
                   (unsigned)(s % 60));
    return buf;
}
