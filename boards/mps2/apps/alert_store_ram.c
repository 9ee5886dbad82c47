/*
 * alert_poster's store when AP_MPS2_STORE=ram (alert_store.h), the lean
 * profile's: the core's RAM ring (ap_store_ram.h) in a static buffer. An
 * alert that cannot be sent now waits there for the queue's next attempt,
 * as in flash; what is left when the run ends is lost with the RAM, and
 * alert_poster reports it as not delivered. Nothing is read from or written
 * to flash, and no flash file is opened.
 */
#include <stdint.h>
#include <stdio.h>

#include "alert_store.h"
#include "alertpost/ap_store_ram.h"

/* 2 KiB: the last 512 bytes for dead-lettered alerts, the rest for live
 * ones: nine of alert_poster's alerts (measured: a tenth is refused). A
 * full ring refuses the next alert with a clear line ("NOT queued (store
 * full), nothing evicted"), and evicts nothing. */
#ifndef ALERT_RAM_STORE_BYTES
#define ALERT_RAM_STORE_BYTES 2048u
#endif
#define ALERT_RAM_DEAD_BYTES 512u

const bool alert_store_outlives_run = false;

static uint8_t g_ring[ALERT_RAM_STORE_BYTES];
static ap_store_ram_t g_ram;

ap_status_t alert_store_open(const char *path, ap_store_t *store, char *name,
                             size_t name_size)
{
    ap_status_t st = ap_store_ram_init(&g_ram, g_ring, sizeof g_ring, ALERT_RAM_DEAD_BYTES,
                                       store);

    (void)path;
    if (st != AP_OK) {
        printf("alert_poster: the RAM queue cannot be set up (%s)\n", ap_status_str(st));
        return st;
    }
    (void)snprintf(name, name_size, "RAM queue of %u bytes", (unsigned)sizeof g_ring);
    return AP_OK;
}
