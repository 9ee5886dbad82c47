/**
 * @file board_time.h
 * @brief The board's time policy: which network time answers a board
 * without a clock accepts, and the wall clock it keeps from them.
 *
 * Pure C99, no board or lwIP headers, so the host tests every rule
 * (tests/unit/boards/test_board_time.c). The SNTP glue
 * (wall_clock_sntp.c) offers each answer here and prints the reason of a
 * refusal; the platform's wall_time reads ap_board_time_now().
 *
 * The rules (boards/mps2/README.md, "Board time"):
 *  1. No accepted time, no wall clock: ap_board_time_now() answers
 *     AP_BOARD_TIME_UNKNOWN, and the core then refuses every certificate.
 *  2. An answer earlier than the firmware's build time, or later than the
 *     build time plus AP_BOARD_TIME_HORIZON_S, is refused. An early clock
 *     would make expired certificates look valid; a late one would make
 *     every certificate look expired, and since the clock never steps back
 *     (rule 3) one such answer would lock the board out until it reboots.
 *  3. Once set, the clock never goes backwards. An answer behind the clock
 *     by at most AP_BOARD_TIME_HOLD_MAX_MS is taken by holding the clock
 *     still until real time catches up (a counter that runs fast is
 *     corrected without a step back); an answer further behind is refused
 *     and the clock keeps running on the board's counter. An answer ahead
 *     of the clock (within rule 2) steps it forward.
 *  4. Only the caller's configured source offers times here; nothing else
 *     (an HTTP Date header, say) has a way in.
 *
 * Between answers the clock runs on the board's millisecond counter, which
 * may wrap at 2^32: ap_board_time_now() must be called (or an answer
 * offered) at least once per 49 days, which the SNTP poll (hourly) and
 * every TLS handshake do.
 */
#ifndef AP_MPS2_BOARD_TIME_H
#define AP_MPS2_BOARD_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** ap_board_time_now() before any time was accepted (= AP_WALL_TIME_UNKNOWN). */
#define AP_BOARD_TIME_UNKNOWN INT64_C(-1)

/**
 * How far past the build time an answer may lie: 20 years (of 365.25
 * days). Longer than a device's service life on one firmware image, and
 * short of the 2106 end of the unsigned 32-bit seconds lwIP's SNTP hands
 * over, from any build time before 2086.
 */
#define AP_BOARD_TIME_HORIZON_S (INT64_C(20) * 36525 * 864)

/**
 * Largest step back absorbed by holding the clock still: 5 minutes. A
 * board counter off by 100 ppm drifts 0.36 s per hourly poll; a larger
 * step back means a wrong server, and holding the clock for it would stop
 * certificate dates moving for as long.
 */
#define AP_BOARD_TIME_HOLD_MAX_MS (INT64_C(5) * 60 * 1000)

/** What ap_board_time_offer() did with an answer. */
typedef enum ap_board_time_verdict {
    AP_BOARD_TIME_SET = 0,       /**< first answer: the clock now runs */
    AP_BOARD_TIME_STEPPED,       /**< clock stepped forward (or unchanged) */
    AP_BOARD_TIME_HELD,          /**< slightly behind: clock held until it catches up */
    AP_BOARD_TIME_TOO_EARLY,     /**< before the build time: refused */
    AP_BOARD_TIME_TOO_LATE,      /**< past the horizon: refused */
    AP_BOARD_TIME_BACKWARDS      /**< too far behind the clock: refused */
} ap_board_time_verdict_t;

/** The clock's state; all fields are the module's. */
typedef struct ap_board_time {
    int64_t floor_ms;     /**< build time, ms since 1970 */
    int64_t ceiling_ms;   /**< floor + horizon */
    bool set;             /**< a time was accepted */
    int64_t base_ms;      /**< the last accepted answer, ms since 1970 */
    int64_t elapsed_ms;   /**< counter time since base_ms was taken */
    uint32_t last_tick;   /**< the counter when elapsed_ms was last updated */
    int64_t high_ms;      /**< the latest time returned: never returned less */
    uint32_t accepted;    /**< answers accepted (set, stepped, held) */
    uint32_t refused;     /**< answers refused */
} ap_board_time_t;

/**
 * An unset clock that accepts answers from build_time_s (seconds since
 * 1970, the firmware's build time) to build_time_s + AP_BOARD_TIME_HORIZON_S.
 */
void ap_board_time_init(ap_board_time_t *t, int64_t build_time_s);

/**
 * Offers one answer of the configured time source: sec seconds and usec
 * microseconds since 1970, received when the board's counter read
 * now_tick (milliseconds). Applies the rules above.
 *
 * @param why, why_size  if why_size > 0, receives a NUL-terminated
 *        sentence for the console: what was accepted, or why not.
 * @return the verdict; SET, STEPPED and HELD mean accepted.
 */
ap_board_time_verdict_t ap_board_time_offer(ap_board_time_t *t, int64_t sec, uint32_t usec,
                                            uint32_t now_tick, char *why, size_t why_size);

/** True for the verdicts that mean the answer was taken. */
bool ap_board_time_verdict_accepted(ap_board_time_verdict_t v);

/**
 * The wall clock at counter value now_tick: seconds since 1970, or
 * AP_BOARD_TIME_UNKNOWN while no answer was accepted. Never less than an
 * earlier answer of this function.
 */
int64_t ap_board_time_now(ap_board_time_t *t, uint32_t now_tick);

/** The same in milliseconds since 1970 (for SNTP's own timestamps). */
int64_t ap_board_time_now_ms(ap_board_time_t *t, uint32_t now_tick);

/**
 * Writes sec (seconds since 1970, 0 .. 9999-12-31) as RFC 3339 UTC,
 * "2026-12-02T14:00:00Z", into buf (at least 21 bytes).
 * @return buf; "?" if sec is out of range or buf too small (then buf = "").
 */
const char *ap_board_time_format(int64_t sec, char *buf, size_t buf_size);

#ifdef __cplusplus
}
#endif

#endif /* AP_MPS2_BOARD_TIME_H */
