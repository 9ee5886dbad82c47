/*
 * alert_poster's store when AP_MPS2_STORE=flash (alert_store.h): the core's
 * flash log over the board's flash, a host file reached through semihosting
 * (common/flash_file.h). Alerts an earlier boot left there, killed or out
 * of time, are recovered with their keys.
 */
#include <stdio.h>

#include "alert_store.h"
#include "alertpost/ap_store_flash.h"
#include "flash_file.h"

const bool alert_store_outlives_run = true;

static ap_mps2_flash_file_t g_flash;
static ap_store_flash_t g_log;

ap_status_t alert_store_open(const char *path, ap_store_t *store, char *name,
                             size_t name_size)
{
    const char *why = "";
    ap_status_t st = ap_mps2_flash_file_open(&g_flash, path, &why);

    if (st != AP_OK) {
        printf("alert_poster: cannot use host file %s as flash: %s\n", path, why);
        return st;
    }
    st = ap_store_flash_init(&g_log, &g_flash.dev, store);
    if (st != AP_OK) {
        printf("alert_poster: the flash log in %s cannot be recovered (%s)\n", path,
               ap_status_str(st));
        return st;
    }
    (void)snprintf(name, name_size, "flash log %s", path);
    return AP_OK;
}
