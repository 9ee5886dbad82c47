/* The simulated flash of sim_flash.h. */
#include "sim_flash.h"

#include <string.h>

static uint32_t next_rand(sim_flash_t *f)
{
    f->rng = f->rng * 1103515245u + 12345u;
    return f->rng >> 16;
}

/* Counts an operation; returns 1 if power fails during this one. */
static int cut_now(sim_flash_t *f)
{
    long index = f->ops++;

    if (f->cut_at >= 0 && index == f->cut_at) {
        f->off = 1;
        return 1;
    }
    return 0;
}

static ap_status_t sim_read(void *ctx, uint32_t addr, uint8_t *buf, size_t len)
{
    sim_flash_t *f = ctx;
    uint32_t rs = f->dev.geometry.read_size;

    if (f->off || f->fail_reads) {
        return AP_ERR_STORE_IO;
    }
    if (len == 0u || addr % rs != 0u || len % rs != 0u || addr > f->size ||
        len > f->size - addr) {
        f->violations++;
        return AP_ERR_BAD_ARG;
    }
    f->reads++;
    memcpy(buf, f->mem + addr, len);
    return AP_OK;
}

static void torn_program(sim_flash_t *f, uint32_t addr, const uint8_t *buf, size_t len)
{
    size_t i;
    size_t n = len > 1u ? 1u + next_rand(f) % (len - 1u) : 0u;

    for (i = 0; i < len; i++) {
        int write = f->torn == SIM_TORN_PREFIX ? i < n : (next_rand(f) & 1u) != 0u;

        if (write) {
            f->mem[addr + i] = buf[i];
            f->written[addr + i] = 1;
        }
    }
}

static ap_status_t sim_program(void *ctx, uint32_t addr, const uint8_t *buf, size_t len)
{
    sim_flash_t *f = ctx;
    const ap_blockdev_geometry_t *g = &f->dev.geometry;
    size_t i;

    if (f->off) {
        return AP_ERR_STORE_IO;
    }
    if (len == 0u || addr % g->prog_size != 0u || len % g->prog_size != 0u ||
        addr > f->size || len > f->size - addr ||
        addr / g->sector_size != (uint32_t)(addr + len - 1u) / g->sector_size) {
        f->violations++;
        return AP_ERR_BAD_ARG;
    }
    for (i = 0; i < len; i++) {
        if (f->written[addr + i] || f->mem[addr + i] != g->erased_value) {
            f->violations++;
            return AP_ERR_BAD_ARG;
        }
    }
    if (cut_now(f)) {
        torn_program(f, addr, buf, len);
        return AP_ERR_STORE_IO;
    }
    f->programs++;
    memcpy(f->mem + addr, buf, len);
    memset(f->written + addr, 1, len);
    return AP_OK;
}

static ap_status_t sim_erase(void *ctx, uint32_t sector)
{
    sim_flash_t *f = ctx;
    const ap_blockdev_geometry_t *g = &f->dev.geometry;
    uint32_t base = sector * g->sector_size;
    uint32_t u;

    if (f->off) {
        return AP_ERR_STORE_IO;
    }
    if (sector >= g->sector_count) {
        f->violations++;
        return AP_ERR_BAD_ARG;
    }
    if (cut_now(f)) {
        /* Some units erased and the rest not, at a rate drawn per cut: a
         * rate of 1 in 8 leaves old headers intact with their flags gone,
         * which is how a half-erased sector can look like a live one. */
        static const uint32_t rate_in_8[3] = { 1u, 4u, 7u };
        uint32_t rate = rate_in_8[next_rand(f) % 3u];

        for (u = 0; u < g->sector_size; u += g->prog_size) {
            if (next_rand(f) % 8u < rate) {
                memset(f->mem + base + u, g->erased_value, g->prog_size);
                memset(f->written + base + u, 0, g->prog_size);
            }
        }
        return AP_ERR_STORE_IO;
    }
    f->erases++;
    f->erase_count[sector]++;
    memset(f->mem + base, g->erased_value, g->sector_size);
    memset(f->written + base, 0, g->sector_size);
    return AP_OK;
}

void sim_flash_init(sim_flash_t *f, uint32_t sector_size, uint32_t sector_count,
                    uint32_t prog_size, uint32_t read_size, uint8_t erased_value)
{
    memset(f, 0, sizeof(*f));
    f->dev.ctx = f;
    f->dev.geometry.sector_size = sector_size;
    f->dev.geometry.sector_count = sector_count;
    f->dev.geometry.prog_size = prog_size;
    f->dev.geometry.read_size = read_size;
    f->dev.geometry.erased_value = erased_value;
    f->dev.read = sim_read;
    f->dev.program = sim_program;
    f->dev.erase = sim_erase;
    f->size = sector_size * sector_count;
    f->cut_at = -1;
    memset(f->mem, erased_value, sizeof(f->mem));
}

void sim_flash_cut_after(sim_flash_t *f, long k, sim_torn_t torn, uint32_t seed)
{
    f->cut_at = f->ops + k;
    f->torn = torn;
    f->rng = seed;
}

void sim_flash_power_on(sim_flash_t *f)
{
    f->off = 0;
    f->cut_at = -1;
}
