/**
 * @file ap_utc.h
 * @brief UTC calendar arithmetic, written once: certificate dates, HTTP
 * dates (Retry-After), RFC 3339 times (the CLI's --at) and a board's clock
 * all turn into seconds since 1970-01-01T00:00:00Z through these.
 *
 * The calendar is the proleptic Gregorian one, counted in 400-year eras of
 * 146,097 days with each year starting on 1 March, so the leap day is the
 * last day of its year and needs no table. Pure, no time zone, no libc
 * time functions (timegm is not in C99 or POSIX).
 */
#ifndef ALERTPOST_AP_UTC_H
#define ALERTPOST_AP_UTC_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Days from 1970-01-01 to year-month-day (negative before it). */
int64_t ap_utc_days(int64_t year, int month, int day);

/** The date of a day number (ap_utc_days()' inverse). */
void ap_utc_date(int64_t days, int64_t *year, int *month, int *day);

/** Is day a day of that month (1..28/29/30/31)? False for a month outside 1..12. */
bool ap_utc_valid_date(int64_t year, int month, int day);

/** Seconds since 1970-01-01T00:00:00Z of a date and a time of day. */
int64_t ap_utc_seconds(int64_t year, int month, int day, int hour, int minute, int second);

#ifdef __cplusplus
}
#endif

#endif /* ALERTPOST_AP_UTC_H */
