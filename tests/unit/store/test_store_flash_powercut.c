/*
 * The flash log under power cuts, exhaustively: a workload of appends,
 * removals and dead-letters that fills the ring, rotates through every
 * sector and relocates dead records is run once to count its programs and
 * erases; then, for every one of those operations in turn, it is run again
 * from a blank flash with the power cut at that operation (the program torn,
 * the erase partial), the store is re-initialised over the same flash, and
 * what it holds is compared with what was acknowledged:
 * - every record whose append returned AP_OK and that was not removed is
 *   live, byte-identical, in order; the one being appended at the cut may
 *   also be there, in full, at the end;
 * - the record being removed at the cut may still be live (delivered twice,
 *   which its Idempotency-Key makes harmless); nothing else is duplicated;
 * - the dead part holds exactly the records dead-lettered, in order, plus
 *   perhaps the one being dead-lettered at the cut, never in both parts;
 * - the flash was never programmed against the device rules;
 * - a cut during recovery itself (it may program flags) is recovered too;
 * - a second reboot sees the same, and the log keeps working.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "alertpost/ap_store_flash.h"
#include "sim_flash.h"

#define STEPS 260
#define MAX_IDS 400
#define MAX_DEAD 6

typedef enum { OP_NONE, OP_APPEND, OP_REMOVE, OP_DEAD } op_t;

typedef struct model {
    int live[MAX_IDS];
    size_t live_len;
    int dead[MAX_IDS];
    size_t dead_len;
    int next_id;
    int refused;        /* appends answered AP_ERR_STORE_FULL */
    op_t in_flight;
    int in_flight_id;
} model_t;

typedef struct geometry {
    uint32_t sector_size;
    uint32_t sector_count;
    uint32_t prog_size;
    uint32_t read_size;
    uint8_t erased;
    sim_torn_t torn;
} geometry_t;

static sim_flash_t flash;
static sim_flash_t snapshot; /* the flash as a cut left it */
static long recovery_cuts;

static size_t rec_len(int id)
{
    return 1u + (size_t)((id * 37) % 61);
}

static void rec_fill(int id, uint8_t *buf)
{
    size_t i;

    for (i = 0; i < rec_len(id); i++) {
        buf[i] = (uint8_t)(id * 131 + (int)i * 7);
    }
}

static void drop_first(int *a, size_t *n)
{
    memmove(a, a + 1, (*n - 1u) * sizeof(*a));
    (*n)--;
}

/* One step of the workload, chosen from the step number and the model only,
 * so that every run takes the same path up to its cut. Returns the status of
 * the store call; the model is updated only on AP_OK. */
static ap_status_t step(ap_store_t *st, model_t *m, int i)
{
    uint8_t buf[64];
    ap_status_t s;

    if (m->live_len > 0u && i % 11 == 5 && m->dead_len < MAX_DEAD) {
        m->in_flight = OP_DEAD;
        s = st->dead_letter(st->ctx);
        if (s == AP_OK) {
            m->dead[m->dead_len++] = m->live[0];
            drop_first(m->live, &m->live_len);
        }
        return s;
    }
    if (m->live_len > 0u && (i % 4 == 1 || (i / 40) % 3 == 2)) {
        m->in_flight = OP_REMOVE;
        s = st->remove_oldest(st->ctx);
        if (s == AP_OK) {
            drop_first(m->live, &m->live_len);
        }
        return s;
    }
    m->in_flight = OP_APPEND;
    m->in_flight_id = m->next_id;
    rec_fill(m->next_id, buf);
    s = st->append(st->ctx, buf, rec_len(m->next_id));
    if (s == AP_OK) {
        m->live[m->live_len++] = m->next_id++;
    } else if (s == AP_ERR_STORE_FULL) {
        m->next_id++; /* refused: the caller keeps it; the workload moves on */
        m->refused++;
        s = AP_OK;
    }
    return s;
}

static int same_record(ap_store_t *st, ap_store_part_t part, size_t index, int id)
{
    uint8_t got[128];
    uint8_t want[64];
    size_t len = 0;

    if (st->read(st->ctx, part, index, got, sizeof(got), &len) != AP_OK) {
        return 0;
    }
    rec_fill(id, want);
    return len == rec_len(id) && memcmp(got, want, len) == 0;
}

/* Does part hold exactly ids[skip..n) then, if extra >= 0, extra? */
static int part_is(ap_store_t *st, ap_store_part_t part, const int *ids, size_t n,
                   size_t skip, int extra)
{
    size_t count = 0;
    size_t want = n - skip + (extra >= 0 ? 1u : 0u);
    size_t i;

    if (st->count(st->ctx, part, &count) != AP_OK || count != want) {
        return 0;
    }
    for (i = skip; i < n; i++) {
        if (!same_record(st, part, i - skip, ids[i])) {
            return 0;
        }
    }
    return extra < 0 || same_record(st, part, n - skip, extra);
}

/* Check the recovered store against the model and bring the model in line
 * with the outcome that the store chose for the operation in flight. */
static void check_recovered(ap_store_t *st, model_t *m, long cut)
{
    int ok = 0;

    switch (m->in_flight) {
    case OP_NONE:
        ok = part_is(st, AP_STORE_LIVE, m->live, m->live_len, 0, -1);
        break;
    case OP_APPEND:
        if (part_is(st, AP_STORE_LIVE, m->live, m->live_len, 0, -1)) {
            ok = 1;
        } else if (part_is(st, AP_STORE_LIVE, m->live, m->live_len, 0, m->in_flight_id)) {
            m->live[m->live_len++] = m->in_flight_id;
            ok = 1;
        }
        break;
    case OP_REMOVE:
        if (part_is(st, AP_STORE_LIVE, m->live, m->live_len, 0, -1)) {
            ok = 1;
        } else if (part_is(st, AP_STORE_LIVE, m->live, m->live_len, 1, -1)) {
            drop_first(m->live, &m->live_len);
            ok = 1;
        }
        break;
    case OP_DEAD:
        if (part_is(st, AP_STORE_LIVE, m->live, m->live_len, 0, -1) &&
            part_is(st, AP_STORE_DEAD, m->dead, m->dead_len, 0, -1)) {
            ok = 1;
        } else if (part_is(st, AP_STORE_LIVE, m->live, m->live_len, 1, -1) &&
                   part_is(st, AP_STORE_DEAD, m->dead, m->dead_len, 0, m->live[0])) {
            m->dead[m->dead_len++] = m->live[0];
            drop_first(m->live, &m->live_len);
            ok = 1;
        }
        break;
    }
    if (!ok) {
        fail_msg("cut at op %ld (in flight: %d): live part differs from what was acknowledged",
                 cut, (int)m->in_flight);
    }
    if (!part_is(st, AP_STORE_DEAD, m->dead, m->dead_len, 0, -1)) {
        fail_msg("cut at op %ld: dead part differs from what was dead-lettered", cut);
    }
    m->in_flight = OP_NONE;
}

/* Run the workload with power cut at op k (or never, k < 0); returns the
 * number of flash operations the run made before stopping. */
static long run(const geometry_t *g, long k, model_t *m)
{
    ap_store_flash_t fl;
    ap_store_t st;
    ap_status_t s;
    int i;

    memset(m, 0, sizeof(*m));
    sim_flash_init(&flash, g->sector_size, g->sector_count, g->prog_size, g->read_size,
                   g->erased);
    if (k >= 0) {
        sim_flash_cut_after(&flash, k, g->torn, (uint32_t)k * 2654435761u + 1u);
    }
    s = ap_store_flash_init(&fl, &flash.dev, &st);
    for (i = 0; s == AP_OK && i < STEPS; i++) {
        s = step(&st, m, i);
    }
    if (k < 0) {
        assert_int_equal(s, AP_OK);
        assert_true(part_is(&st, AP_STORE_LIVE, m->live, m->live_len, 0, -1));
        assert_true(part_is(&st, AP_STORE_DEAD, m->dead, m->dead_len, 0, -1));
        m->in_flight = OP_NONE;
        return flash.ops;
    }
    if (s != AP_OK && !flash.off) {
        fail_msg("cut at op %ld: a store call failed before the cut: %d", k, (int)s);
    }
    if (i == 0 || !flash.off) {
        m->in_flight = OP_NONE; /* the cut hit the first format, or never came */
    }
    return flash.ops;
}

/* Recovery writes too (flags, or a format): cut it at each of its own
 * operations, then recover from that, and check as after the first cut. */
static void cut_during_recovery(long k, const model_t *m)
{
    ap_store_flash_t fl;
    ap_store_t st;
    model_t again;
    long before = flash.ops;
    long recovery_ops;
    long j;

    snapshot = flash;
    assert_int_equal(ap_store_flash_init(&fl, &flash.dev, &st), AP_OK);
    recovery_ops = flash.ops - before;
    for (j = 0; j < recovery_ops; j++) {
        recovery_cuts++;
        flash = snapshot;
        sim_flash_cut_after(&flash, j, SIM_TORN_PREFIX, (uint32_t)(k * 31 + j));
        assert_int_equal(ap_store_flash_init(&fl, &flash.dev, &st), AP_ERR_STORE_IO);
        sim_flash_power_on(&flash);
        assert_int_equal(ap_store_flash_init(&fl, &flash.dev, &st), AP_OK);
        again = *m;
        check_recovered(&st, &again, k);
    }
    flash = snapshot;
}

static void reboot_and_check(long k, model_t *m)
{
    ap_store_flash_t fl;
    ap_store_t st;
    uint8_t buf[64];
    ap_status_t s;
    size_t n;
    int id;

    sim_flash_power_on(&flash);
    cut_during_recovery(k, m);
    assert_int_equal(ap_store_flash_init(&fl, &flash.dev, &st), AP_OK);
    check_recovered(&st, m, k);
    /* Recovery is stable: a second boot sees the same. */
    assert_int_equal(ap_store_flash_init(&fl, &flash.dev, &st), AP_OK);
    check_recovered(&st, m, k);
    /* And the log keeps working: drain it, then it must take new records
     * (the dead part is far smaller than the ring), in order, and again
     * after one more boot. */
    while (m->live_len > 0u) {
        assert_true(same_record(&st, AP_STORE_LIVE, 0, m->live[0]));
        assert_int_equal(st.remove_oldest(st.ctx), AP_OK);
        drop_first(m->live, &m->live_len);
    }
    for (n = 0; n < 8; n++) {
        /* Three records small enough to fit beside any dead part this
         * workload makes must go in; larger ones may find the store full. */
        id = n < 3u ? 61 * (int)n + 61 * 1000 : m->next_id + 1000 + (int)n;
        rec_fill(id, buf);
        s = st.append(st.ctx, buf, rec_len(id));
        if (s == AP_OK) {
            m->live[m->live_len++] = id;
        } else if (n < 3u || s != AP_ERR_STORE_FULL) {
            fail_msg("cut at op %ld: after recovery and draining, append %zu failed: %d", k, n,
                     (int)s);
        }
    }
    assert_int_equal(ap_store_flash_init(&fl, &flash.dev, &st), AP_OK);
    assert_true(part_is(&st, AP_STORE_LIVE, m->live, m->live_len, 0, -1));
    assert_true(part_is(&st, AP_STORE_DEAD, m->dead, m->dead_len, 0, -1));
    if (flash.violations != 0) {
        fail_msg("cut at op %ld: %d calls broke the device rules", k, flash.violations);
    }
}

static void exhaustive(const geometry_t *g)
{
    model_t m;
    long total = run(g, -1, &m);
    uint32_t s;
    long k;

    /* The workload must reach what it is meant to test: every sector erased
     * at least twice (rotation) with dead records kept throughout (so they
     * were relocated), and no rule broken. */
    for (s = 0; s < g->sector_count; s++) {
        assert_true(flash.erase_count[s] >= 2u);
    }
    assert_int_equal(m.dead_len, MAX_DEAD);
    assert_true(m.refused > 0); /* the store ran full, too */
    assert_int_equal(flash.violations, 0);
    print_message("power cuts at each of %ld operations (%ld programs, %ld erases; "
                  "%d appends refused as full)\n",
                  total, flash.programs, flash.erases, m.refused);
    recovery_cuts = 0;
    for (k = 0; k < total; k++) {
        run(g, k, &m);
        assert_true(flash.off);
        reboot_and_check(k, &m);
    }
    print_message("and %ld cuts during the recoveries that followed\n", recovery_cuts);
    /* Tears that recovery must clean up (torn data, interrupted copies)
     * happened, so its own writes were cut too. */
    assert_true(recovery_cuts > 0);
}

static void test_cut_everywhere_prefix_tear(void **state)
{
    const geometry_t g = { 512, 5, 8, 4, 0xFF, SIM_TORN_PREFIX };

    (void)state;
    exhaustive(&g);
}

static void test_cut_everywhere_scattered_tear_zero_erased(void **state)
{
    const geometry_t g = { 256, 6, 4, 1, 0x00, SIM_TORN_SCATTER };

    (void)state;
    exhaustive(&g);
}

/* Byte-programmable (prog_size 1, as on a file or some serial flash) and
 * 32-byte flash words (as on STM32H7): the layout's rounding at both ends. */
static void test_cut_everywhere_byte_and_wide_units(void **state)
{
    const geometry_t bytes = { 256, 6, 1, 1, 0xFF, SIM_TORN_SCATTER };
    const geometry_t wide = { 1024, 4, 32, 32, 0xFF, SIM_TORN_PREFIX };

    (void)state;
    exhaustive(&bytes);
    exhaustive(&wide);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cut_everywhere_prefix_tear),
        cmocka_unit_test(test_cut_everywhere_scattered_tear_zero_erased),
        cmocka_unit_test(test_cut_everywhere_byte_and_wide_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
