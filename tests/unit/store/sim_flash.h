/*
 * A simulated NOR flash for the flash log's tests: a RAM array with a
 * declared geometry that enforces the ap_blockdev.h rules (alignment, no
 * program over bytes written since the last erase), counts operations and
 * erases per sector, and can lose power at the k-th program or erase.
 *
 * A cut leaves the interrupted program torn (only some of its bytes written)
 * and the interrupted erase partial (some units erased, the rest as they
 * were); from then on every call fails until sim_flash_power_on().
 */
#ifndef SIM_FLASH_H
#define SIM_FLASH_H

#include <stddef.h>
#include <stdint.h>

#include "alertpost/ap_blockdev.h"

#define SIM_FLASH_MAX_BYTES 65536u
#define SIM_FLASH_MAX_SECTORS 64u

/** How an interrupted program is torn. */
typedef enum sim_torn {
    SIM_TORN_PREFIX = 0,  /* the first n bytes, 0 < n < len, as a byte-serial writer would */
    SIM_TORN_SCATTER = 1  /* a pseudo-random subset of the bytes */
} sim_torn_t;

typedef struct sim_flash {
    ap_blockdev_t dev;
    uint8_t mem[SIM_FLASH_MAX_BYTES];
    uint8_t written[SIM_FLASH_MAX_BYTES]; /* programmed since the last erase */
    uint32_t size;
    long ops;            /* programs and erases so far (the cut index counts these) */
    long cut_at;         /* power fails at this op; -1 for never */
    int off;             /* power is off: every call fails */
    sim_torn_t torn;
    uint32_t rng;
    long programs;
    long erases;
    long reads;
    uint32_t erase_count[SIM_FLASH_MAX_SECTORS];
    int violations;      /* calls that broke the device rules */
    int fail_reads;      /* test hook: reads fail while set */
} sim_flash_t;

/** Blank flash (every byte erased) with this geometry. */
void sim_flash_init(sim_flash_t *f, uint32_t sector_size, uint32_t sector_count,
                    uint32_t prog_size, uint32_t read_size, uint8_t erased_value);

/** Lose power at the k-th program or erase from now on (0 = the next one). */
void sim_flash_cut_after(sim_flash_t *f, long k, sim_torn_t torn, uint32_t seed);

/** Restore power; the flash keeps what the cut left. */
void sim_flash_power_on(sim_flash_t *f);

#endif /* SIM_FLASH_H */
