/*
 * Where alert_poster's delivery queue keeps its alerts, chosen when the
 * image is built (AP_MPS2_STORE, boards/mps2/mps2_board.cmake):
 *   alert_store_flash.c  the core's flash log over the board's flash file
 *                        (common/flash_file.h): alerts outlive a reset;
 *   alert_store_ram.c    the core's RAM ring: alerts are kept until they
 *                        are delivered or the run ends, for a device with
 *                        no flash to spare.
 * One of them is linked; alert_poster.c is the same for both.
 */
#ifndef AP_MPS2_ALERT_STORE_H
#define AP_MPS2_ALERT_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "alertpost/ap_status.h"
#include "alertpost/ap_store.h"

/* True when what the store holds at the end of a run is there at the next
 * boot (the flash log); false for RAM, whose leftovers are not delivered. */
extern const bool alert_store_outlives_run;

/*
 * Opens the store. path names the flash file (relative to QEMU's working
 * directory); the RAM store has none and ignores it. On success *store is
 * the queue's store and name says where the alerts wait, for the console
 * ("flash log PATH", "RAM queue of N bytes"). On failure the store has
 * printed why, in one line, and the status says which class of failure.
 */
ap_status_t alert_store_open(const char *path, ap_store_t *store, char *name,
                             size_t name_size);

#endif /* AP_MPS2_ALERT_STORE_H */
