/*
 * UTC calendar arithmetic (ap_utc.h). The era arithmetic: a date becomes
 * (era, year of era, day of year from 1 March); floor division keeps it
 * right before year 0 too.
 */
#include "alertpost/ap_utc.h"

#define AP_DAYS_PER_ERA 146097
#define AP_DAYS_0000_03_01_TO_EPOCH 719468

static int64_t floor_div(int64_t a, int64_t b)
{
    return (a >= 0) ? a / b : -((-a + b - 1) / b);
}

int64_t ap_utc_days(int64_t year, int month, int day)
{
    int64_t y = year - ((month <= 2) ? 1 : 0);
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;                                   /* 0..399 */
    int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1; /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */

    return era * AP_DAYS_PER_ERA + doe - AP_DAYS_0000_03_01_TO_EPOCH;
}

void ap_utc_date(int64_t days, int64_t *year, int *month, int *day)
{
    int64_t z = days + AP_DAYS_0000_03_01_TO_EPOCH;
    int64_t era = floor_div(z, AP_DAYS_PER_ERA);
    int64_t doe = z - era * AP_DAYS_PER_ERA;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);

    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = m;
    *year = yoe + era * 400 + (m <= 2 ? 1 : 0);
}

bool ap_utc_valid_date(int64_t year, int month, int day)
{
    static const int length[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    if (month < 1 || month > 12) {
        return false;
    }
    return day >= 1 && day <= length[month - 1] + ((month == 2 && leap) ? 1 : 0);
}

int64_t ap_utc_seconds(int64_t year, int month, int day, int hour, int minute, int second)
{
    return ap_utc_days(year, month, day) * 86400 + (int64_t)hour * 3600 +
           (int64_t)minute * 60 + second;
}
