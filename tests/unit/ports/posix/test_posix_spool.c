/*
 * The spool-directory store, on real directories under the system's
 * temporary folder.
 *
 * Run with no argument: order across restarts, temporary files, the lock
 * (against a forked second process), corrupt and truncated files, paths that
 * cannot be a spool, the size limits, the dead-letter part, the listing, and
 * a child appending in a loop that is SIGKILLed at random moments.
 *
 * Run with "--mounts": what needs a file system of the test's own, a full
 * small tmpfs and a read-only one. The test makes a private mount namespace
 * (as root, or in a user namespace), so nothing it mounts is seen outside
 * it; where neither is permitted it exits 77 (skipped).
 */
#define _GNU_SOURCE

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alertpost/ap_posix_spool.h"

#define SKIP_CODE 77
#define KILL_ROUNDS 25

static char g_root[128];  /* a fresh folder per test */
static char g_spool[192]; /* g_root/spool */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    const char *tmp = getenv("TMPDIR");

    (void)state;
    (void)snprintf(g_root, sizeof g_root, "%s/ap-spool-XXXXXX", tmp != NULL ? tmp : "/tmp");
    if (mkdtemp(g_root) == NULL) {
        return -1;
    }
    (void)snprintf(g_spool, sizeof g_spool, "%s/spool", g_root);
    return mkdir(g_spool, 0700);
}

static int teardown(void **state)
{
    (void)state;
    return nftw(g_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void open_spool(ap_posix_spool_t *sp, ap_store_t *store, size_t max_records,
                       uint64_t max_bytes, size_t max_dead)
{
    ap_posix_spool_config_t cfg = {0};

    cfg.path = g_spool;
    cfg.max_records = max_records;
    cfg.max_bytes = max_bytes;
    cfg.max_dead_records = max_dead;
    assert_int_equal(ap_posix_spool_open(sp, &cfg), AP_OK);
    ap_posix_spool_store(store, sp);
}

static size_t make_record(uint8_t *buf, size_t size, unsigned tag)
{
    int n = snprintf((char *)buf, size, "{\"alert\":%u,\"pad\":\"%0*u\"}", tag,
                     (int)(tag % 37u), 0u);

    assert_true(n > 0 && (size_t)n < size);
    return (size_t)n;
}

static void append_tag(const ap_store_t *store, unsigned tag)
{
    uint8_t rec[128];
    size_t len = make_record(rec, sizeof rec, tag);

    assert_int_equal(store->append(store->ctx, rec, len), AP_OK);
}

static void expect_tag(const ap_store_t *store, ap_store_part_t part, size_t index, unsigned tag)
{
    uint8_t want[128];
    uint8_t got[128];
    size_t want_len = make_record(want, sizeof want, tag);
    size_t got_len = 0;

    assert_int_equal(store->read(store->ctx, part, index, got, sizeof got, &got_len), AP_OK);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
}

static size_t count(const ap_store_t *store, ap_store_part_t part)
{
    size_t n = 99999;

    assert_int_equal(store->count(store->ctx, part, &n), AP_OK);
    return n;
}

/* Names in dir that start with prefix. */
static size_t names_with_prefix(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    const struct dirent *de;
    size_t n = 0;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
    }
    (void)closedir(d);
    return n;
}

/* Visible regular files in dir, and whether each is named like a record. */
static size_t visible_files(const char *dir, int *all_records)
{
    DIR *d = opendir(dir);
    const struct dirent *de;
    size_t n = 0;

    assert_non_null(d);
    *all_records = 1;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);

        if (de->d_name[0] == '.') {
            continue;
        }
        n++;
        if (len != 24 || strspn(de->d_name, "0123456789") != 20 ||
            strcmp(de->d_name + 20, ".rec") != 0) {
            *all_records = 0;
        }
    }
    (void)closedir(d);
    return n;
}

static void path_of(char *out, size_t size, const char *sub, uint64_t seq)
{
    (void)snprintf(out, size, "%s%s/%020llu.rec", g_spool, sub, (unsigned long long)seq);
}

static int exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

static size_t read_whole(const char *path, uint8_t *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    ssize_t n;

    assert_true(fd >= 0);
    n = read(fd, buf, size);
    assert_true(n >= 0);
    (void)close(fd);
    return (size_t)n;
}

static void test_order_survives_close_and_reopen(void **state)
{
    ap_posix_spool_t sp;
    ap_store_t store;
    char path[256];
    int all_records;
    unsigned i;

    (void)state;
    open_spool(&sp, &store, 0, 0, 0);
    for (i = 1; i <= 12; i++) {
        append_tag(&store, i);
    }
    ap_posix_spool_close(&sp);

    open_spool(&sp, &store, 0, 0, 0);
    assert_int_equal(count(&store, AP_STORE_LIVE), 12);
    for (i = 0; i < 12; i++) {
        expect_tag(&store, AP_STORE_LIVE, i, i + 1u);
    }
    assert_int_equal(store.remove_oldest(store.ctx), AP_OK);
    assert_int_equal(store.remove_oldest(store.ctx), AP_OK);
    path_of(path, sizeof path, "", 1);
    assert_false(exists(path));
    append_tag(&store, 13);
    ap_posix_spool_close(&sp);

    /* Numbers continue after the largest on disk, even with the oldest gone:
     * "...10.rec" must sort after "...9.rec", hence the zero padding. */
    open_spool(&sp, &store, 0, 0, 0);
    path_of(path, sizeof path, "", 13);
    assert_true(exists(path));
    assert_int_equal(count(&store, AP_STORE_LIVE), 11);
    for (i = 0; i < 11; i++) {
        expect_tag(&store, AP_STORE_LIVE, i, i + 3u);
    }
    ap_posix_spool_close(&sp);

    /* Only records are visible files; the lock and the parts are hidden. */
    assert_int_equal(visible_files(g_spool, &all_records), 11);
    assert_true(all_records);
    (void)snprintf(path, sizeof path, "%s/.lock", g_spool);
    assert_true(exists(path));
}

static void test_leftover_temporary_files_are_ignored_and_removed(void **state)
{
    static const char junk[] = "APSP half a record from a writer killed before its rename";
    ap_posix_spool_t sp;
    ap_store_t store;
    char tmp[256];
    char foreign[256];

    (void)state;
    open_spool(&sp, &store, 0, 0, 0);
    append_tag(&store, 1);
    ap_posix_spool_close(&sp);

    (void)snprintf(tmp, sizeof tmp, "%s/.tmp-00000000000000000002", g_spool);
    write_file(tmp, junk, sizeof junk - 1u);
    /* A name the spool did not write is not touched, nor counted. */
    (void)snprintf(foreign, sizeof foreign, "%s/notes.txt", g_spool);
    write_file(foreign, "mine", 4);

    open_spool(&sp, &store, 0, 0, 0);
    assert_false(exists(tmp));
    assert_true(exists(foreign));
    assert_int_equal(count(&store, AP_STORE_LIVE), 1);
    expect_tag(&store, AP_STORE_LIVE, 0, 1);
    append_tag(&store, 2);
    expect_tag(&store, AP_STORE_LIVE, 1, 2);
    ap_posix_spool_close(&sp);
}

/* In a forked child: try to open the spool; report status and busy pid. */
static void child_open(int fd)
{
    ap_posix_spool_config_t cfg = {0};
    ap_posix_spool_t sp;
    long report[2];
    char text[AP_POSIX_SPOOL_ERROR_SIZE];

    cfg.path = g_spool;
    report[0] = ap_posix_spool_open(&sp, &cfg);
    report[1] = ap_posix_spool_busy_pid(&sp);
    (void)snprintf(text, sizeof text, "%s", ap_posix_spool_error(&sp));
    if (write(fd, report, sizeof report) != (ssize_t)sizeof report ||
        write(fd, text, sizeof text) != (ssize_t)sizeof text) {
        _exit(2);
    }
    ap_posix_spool_close(&sp);
    _exit(0);
}

static void open_from_child(long report[2], char *text)
{
    int fds[2];
    pid_t pid;
    int status = 0;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        (void)close(fds[0]);
        child_open(fds[1]);
    }
    (void)close(fds[1]);
    assert_int_equal(read(fds[0], report, 2 * sizeof(long)), (ssize_t)(2 * sizeof(long)));
    assert_int_equal(read(fds[0], text, AP_POSIX_SPOOL_ERROR_SIZE),
                     (ssize_t)AP_POSIX_SPOOL_ERROR_SIZE);
    (void)close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_second_process_is_refused_while_the_spool_is_open(void **state)
{
    ap_posix_spool_t sp;
    ap_store_t store;
    long report[2];
    char text[AP_POSIX_SPOOL_ERROR_SIZE];
    char pid_text[32];
    char tmp[256];

    (void)state;
    open_spool(&sp, &store, 0, 0, 0);
    /* A record being written by the holder: the refused opener must not
     * take it for a crash's leftover and remove it. */
    (void)snprintf(tmp, sizeof tmp, "%s/.tmp-00000000000000000001", g_spool);
    write_file(tmp, "APSP", 4);
    open_from_child(report, text);
    assert_true(exists(tmp));
    assert_int_equal(report[0], AP_ERR_STORE_IO);
    assert_int_equal(report[1], (long)getpid());
    assert_non_null(strstr(text, "is busy"));
    assert_non_null(strstr(text, g_spool));
    (void)snprintf(pid_text, sizeof pid_text, "process %ld", (long)getpid());
    assert_non_null(strstr(text, pid_text));
    ap_posix_spool_close(&sp);

    /* Released on close: now the other process gets it. */
    open_from_child(report, text);
    assert_int_equal(report[0], AP_OK);
    assert_int_equal(report[1], 0);
}

static void test_corrupt_and_truncated_files_are_set_aside(void **state)
{
    ap_posix_spool_t sp;
    ap_store_t store;
    char path[256];
    char aside[256];
    uint8_t before[256];
    uint8_t after[256];
    uint8_t buf[128];
    size_t len = 0;
    size_t n;
    unsigned i;

    (void)state;
    open_spool(&sp, &store, 0, 0, 0);
    for (i = 1; i <= 5; i++) {
        append_tag(&store, i);
    }
    ap_posix_spool_close(&sp);

    path_of(path, sizeof path, "", 2); /* cut short, as by a non-atomic writer */
    assert_int_equal(truncate(path, 20), 0);
    path_of(path, sizeof path, "", 3); /* edited by hand */
    n = read_whole(path, before, sizeof before);
    before[n - 2] ^= 0x20u;
    write_file(path, before, n);
    path_of(path, sizeof path, "", 4); /* not the spool's at all */
    write_file(path, "{\"alert\":4,\"by\":\"hand\"}", 23);

    open_spool(&sp, &store, 0, 0, 0);
    expect_tag(&store, AP_STORE_LIVE, 0, 1);
    assert_int_equal(store.read(store.ctx, AP_STORE_LIVE, 1, buf, sizeof buf, &len),
                     AP_ERR_STORE_CORRUPT);
    assert_non_null(strstr(ap_posix_spool_error(&sp), "cut short"));
    assert_non_null(strstr(ap_posix_spool_error(&sp), "/.corrupt/00000000000000000002.rec"));
    assert_int_equal(store.read(store.ctx, AP_STORE_LIVE, 1, buf, sizeof buf, &len),
                     AP_ERR_STORE_CORRUPT);
    assert_non_null(strstr(ap_posix_spool_error(&sp), "CRC-32"));
    assert_int_equal(store.read(store.ctx, AP_STORE_LIVE, 1, buf, sizeof buf, &len),
                     AP_ERR_STORE_CORRUPT);
    assert_non_null(strstr(ap_posix_spool_error(&sp), "no spool header"));
    expect_tag(&store, AP_STORE_LIVE, 1, 5);
    assert_int_equal(count(&store, AP_STORE_LIVE), 2);

    /* Kept, byte for byte, where a person can find them. */
    path_of(path, sizeof path, "", 3);
    assert_false(exists(path));
    path_of(aside, sizeof aside, "/.corrupt", 3);
    assert_int_equal(read_whole(aside, after, sizeof after), n);
    assert_memory_equal(after, before, n);
    path_of(aside, sizeof aside, "/.corrupt", 2);
    assert_int_equal(read_whole(aside, after, sizeof after), 20);
    path_of(aside, sizeof aside, "/.corrupt", 4);
    assert_true(exists(aside));
    ap_posix_spool_close(&sp);

    /* A second bad file of the same name does not overwrite the first. */
    path_of(path, sizeof path, "", 1);
    assert_int_equal(truncate(path, 3), 0);
    path_of(aside, sizeof aside, "/.corrupt", 1);
    write_file(aside, "older", 5);
    open_spool(&sp, &store, 0, 0, 0);
    assert_int_equal(store.read(store.ctx, AP_STORE_LIVE, 0, buf, sizeof buf, &len),
                     AP_ERR_STORE_CORRUPT);
    assert_int_equal(read_whole(aside, after, sizeof after), 5);
    (void)snprintf(aside, sizeof aside, "%s/.corrupt/%020d.rec.1", g_spool, 1);
    assert_int_equal(read_whole(aside, after, sizeof after), 3);
    ap_posix_spool_close(&sp);
}

static void test_paths_that_cannot_be_a_spool_are_refused(void **state)
{
    ap_posix_spool_config_t cfg = {0};
    ap_posix_spool_t sp;
    char file[256];
    char under[300];
    char missing[256];
    ap_store_t store;

    (void)state;
    (void)snprintf(file, sizeof file, "%s/plain-file", g_root);
    write_file(file, "x", 1);
    (void)snprintf(under, sizeof under, "%s/spool", file);
    cfg.path = under;
    cfg.create = 1;
    /* Even root cannot create a directory under a regular file. */
    assert_int_equal(ap_posix_spool_open(&sp, &cfg), AP_ERR_STORE_IO);
    assert_non_null(strstr(ap_posix_spool_error(&sp), under));
    assert_non_null(strstr(ap_posix_spool_error(&sp), "not a directory"));
    ap_posix_spool_close(&sp);

    cfg.path = file;
    assert_int_equal(ap_posix_spool_open(&sp, &cfg), AP_ERR_STORE_IO);
    assert_non_null(strstr(ap_posix_spool_error(&sp), "is not a directory"));

    (void)snprintf(missing, sizeof missing, "%s/new-spool", g_root);
    cfg.path = missing;
    cfg.create = 0;
    assert_int_equal(ap_posix_spool_open(&sp, &cfg), AP_ERR_STORE_IO);
    assert_non_null(strstr(ap_posix_spool_error(&sp), "does not exist"));
    assert_false(exists(missing));
    cfg.create = 1;
    assert_int_equal(ap_posix_spool_open(&sp, &cfg), AP_OK);
    assert_true(exists(missing));
    ap_posix_spool_store(&store, &sp);
    append_tag(&store, 7);
    ap_posix_spool_close(&sp);

    cfg.path = NULL;
    assert_int_equal(ap_posix_spool_open(&sp, &cfg), AP_ERR_BAD_ARG);
}

static void test_size_limits_answer_store_full_and_keep_everything(void **state)
{
    ap_posix_spool_t sp;
    ap_store_t store;
    uint8_t big[200];
    int all_records;
    unsigned i;

    (void)state;
    open_spool(&sp, &store, 3, 0, 0);
    for (i = 1; i <= 3; i++) {
        append_tag(&store, i);
    }
    assert_int_equal(store.append(store.ctx, (const uint8_t *)"x", 1), AP_ERR_STORE_FULL);
    assert_non_null(strstr(ap_posix_spool_error(&sp), "is full"));
    assert_int_equal(count(&store, AP_STORE_LIVE), 3);
    assert_int_equal(visible_files(g_spool, &all_records), 3);
    assert_int_equal(store.remove_oldest(store.ctx), AP_OK);
    append_tag(&store, 4);
    expect_tag(&store, AP_STORE_LIVE, 2, 4);
    ap_posix_spool_close(&sp);

    /* 3 live records of 16 + 10..40 bytes are on disk; allow 160 bytes. */
    memset(big, 'b', sizeof big);
    open_spool(&sp, &store, 0, 160, 0);
    assert_int_equal(store.append(store.ctx, big, 160 - AP_POSIX_SPOOL_HEADER_LEN + 1u),
                     AP_ERR_TOO_LARGE);
    assert_non_null(strstr(ap_posix_spool_error(&sp), "can never fit"));
    assert_int_equal(store.append(store.ctx, big, 100), AP_ERR_STORE_FULL);
    assert_non_null(strstr(ap_posix_spool_error(&sp), "bytes used"));
    assert_int_equal(count(&store, AP_STORE_LIVE), 3);
    while (count(&store, AP_STORE_LIVE) > 0) {
        assert_int_equal(store.remove_oldest(store.ctx), AP_OK);
    }
    assert_int_equal(store.append(store.ctx, big, 160 - AP_POSIX_SPOOL_HEADER_LEN), AP_OK);
    assert_int_equal(store.append(store.ctx, big, 1), AP_ERR_STORE_FULL);
    ap_posix_spool_close(&sp);
}

static void test_dead_letter_part_keeps_and_lists_records(void **state)
{
    ap_posix_spool_t sp;
    ap_store_t store;
    ap_posix_spool_entry_t e;
    char path[256];
    unsigned i;

    (void)state;
    open_spool(&sp, &store, 0, 0, 1);
    for (i = 1; i <= 3; i++) {
        append_tag(&store, i);
    }
    assert_int_equal(store.dead_letter(store.ctx), AP_OK);
    path_of(path, sizeof path, "/.dead", 1);
    assert_true(exists(path));
    assert_int_equal(count(&store, AP_STORE_DEAD), 1);
    assert_int_equal(count(&store, AP_STORE_LIVE), 2);
    expect_tag(&store, AP_STORE_DEAD, 0, 1);
    expect_tag(&store, AP_STORE_LIVE, 0, 2);
    /* The dead part is full at one: the next refused alert stays live. */
    assert_int_equal(store.dead_letter(store.ctx), AP_ERR_STORE_FULL);
    assert_non_null(strstr(ap_posix_spool_error(&sp), "stays queued"));
    assert_int_equal(count(&store, AP_STORE_LIVE), 2);
    ap_posix_spool_close(&sp);

    open_spool(&sp, &store, 0, 0, 0);
    assert_int_equal(store.dead_letter(store.ctx), AP_OK);
    assert_int_equal(store.dead_letter(store.ctx), AP_OK);
    assert_int_equal(count(&store, AP_STORE_DEAD), 3);
    assert_int_equal(count(&store, AP_STORE_LIVE), 0);
    expect_tag(&store, AP_STORE_DEAD, 1, 2);
    ap_posix_spool_close(&sp);

    /* With the live part empty, numbers continue after the dead ones, so a
     * later dead-letter cannot land on an older dead record's name. */
    open_spool(&sp, &store, 0, 0, 0);
    append_tag(&store, 4);
    path_of(path, sizeof path, "", 4);
    assert_true(exists(path));
    assert_int_equal(store.dead_letter(store.ctx), AP_OK);
    assert_int_equal(count(&store, AP_STORE_DEAD), 4);
    for (i = 0; i < 4; i++) {
        expect_tag(&store, AP_STORE_DEAD, i, i + 1u);
    }

    assert_int_equal(ap_posix_spool_entry(&sp, AP_STORE_DEAD, 1, &e), AP_OK);
    assert_string_equal(e.name, "00000000000000000002.rec");
    assert_int_equal(e.seq, 2);
    assert_int_equal(e.record_len, make_record((uint8_t *)path, sizeof path, 2));
    assert_int_equal(e.file_len, e.record_len + AP_POSIX_SPOOL_HEADER_LEN);
    assert_true(e.intact);
    assert_int_equal(ap_posix_spool_entry(&sp, AP_STORE_DEAD, 4, &e), AP_ERR_STORE_EMPTY);
    ap_posix_spool_close(&sp);
}

static void test_listing_reports_a_corrupt_record_and_changes_nothing(void **state)
{
    ap_posix_spool_t sp;
    ap_store_t store;
    ap_posix_spool_entry_t e;
    char path[256];
    uint8_t bytes[256];
    size_t n;

    (void)state;
    open_spool(&sp, &store, 0, 0, 0);
    append_tag(&store, 1);
    append_tag(&store, 2);
    path_of(path, sizeof path, "", 2);
    n = read_whole(path, bytes, sizeof bytes);
    bytes[AP_POSIX_SPOOL_HEADER_LEN] ^= 1u;
    write_file(path, bytes, n);

    assert_int_equal(ap_posix_spool_entry(&sp, AP_STORE_LIVE, 0, &e), AP_OK);
    assert_true(e.intact);
    assert_int_equal(ap_posix_spool_entry(&sp, AP_STORE_LIVE, 1, &e), AP_OK);
    assert_false(e.intact);
    assert_int_equal(e.file_len, n);
    assert_true(exists(path));
    assert_int_equal(count(&store, AP_STORE_LIVE), 2);
    ap_posix_spool_close(&sp);
}

static void test_bad_calls_change_nothing(void **state)
{
    ap_posix_spool_t sp;
    ap_store_t store;
    uint8_t small[4];
    uint8_t want[128];
    size_t len = 0;

    (void)state;
    open_spool(&sp, &store, 0, 0, 0);
    assert_int_equal(store.remove_oldest(store.ctx), AP_ERR_STORE_EMPTY);
    assert_int_equal(store.dead_letter(store.ctx), AP_ERR_STORE_EMPTY);
    assert_int_equal(store.append(store.ctx, NULL, 3), AP_ERR_BAD_ARG);
    assert_int_equal(store.append(store.ctx, small, 0), AP_ERR_BAD_ARG);
    append_tag(&store, 1);
    assert_int_equal(store.read(store.ctx, AP_STORE_LIVE, 0, small, sizeof small, &len),
                     AP_ERR_NO_SPACE);
    assert_int_equal(len, make_record(want, sizeof want, 1));
    assert_int_equal(store.read(store.ctx, AP_STORE_LIVE, 0, NULL, 0, &len), AP_ERR_NO_SPACE);
    assert_int_equal(store.read(store.ctx, AP_STORE_LIVE, 1, small, sizeof small, &len),
                     AP_ERR_STORE_EMPTY);
    assert_int_equal(store.read(store.ctx, (ap_store_part_t)7, 0, small, sizeof small, &len),
                     AP_ERR_BAD_ARG);
    assert_int_equal(count(&store, AP_STORE_LIVE), 1);
    expect_tag(&store, AP_STORE_LIVE, 0, 1);
    ap_posix_spool_close(&sp);
}

/* The child of the crash test: append tagged records and ack each on fd. */
static void crash_child(int fd, unsigned round)
{
    ap_posix_spool_config_t cfg = {0};
    ap_posix_spool_t sp;
    ap_store_t store;
    unsigned k;

    cfg.path = g_spool;
    if (ap_posix_spool_open(&sp, &cfg) != AP_OK) {
        _exit(3);
    }
    ap_posix_spool_store(&store, &sp);
    for (k = 0; k < 100000u; k++) {
        uint8_t rec[128];
        size_t len = make_record(rec, sizeof rec, round * 100000u + k);

        if (store.append(store.ctx, rec, len) != AP_OK ||
            write(fd, &k, sizeof k) != (ssize_t)sizeof k) {
            _exit(4);
        }
    }
    _exit(0);
}

/* Reads one ack; 0 when the child has closed the pipe (it died). */
static int next_ack(int fd, unsigned *k)
{
    return read(fd, k, sizeof *k) == (ssize_t)sizeof *k;
}

/*
 * Forks a child appending in a loop and SIGKILLs it delay_us later, counted
 * from the fork (so some kills land in open, its scan and its clean-up) or,
 * with after_first_ack, from its first acknowledged record (so the kill
 * lands among appends however slow the disk is today).
 * Returns the number of records the child acknowledged.
 */
static unsigned run_and_kill(unsigned round, unsigned delay_us, int after_first_ack)
{
    struct timespec ts = {0, (long)delay_us * 1000L};
    unsigned acks = 0;
    unsigned k;
    int fds[2];
    int status = 0;
    pid_t pid;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        (void)close(fds[0]);
        crash_child(fds[1], round);
    }
    (void)close(fds[1]);
    if (after_first_ack) {
        /* Blocks until the first append is durable (the child never stops
         * on its own before its 100,000th record). */
        assert_true(next_ack(fds[0], &k));
        assert_int_equal(k, 0);
        acks = 1;
    }
    (void)nanosleep(&ts, NULL);
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    while (next_ack(fds[0], &k)) {
        assert_int_equal(k, acks);
        acks++;
    }
    (void)close(fds[0]);
    return acks;
}

static void test_sigkill_at_random_moments_loses_no_acknowledged_record(void **state)
{
    unsigned seed = (unsigned)time(NULL);
    unsigned total = 0;
    unsigned round;

    (void)state;
    print_message("crash test seed %u\n", seed);
    srand(seed);
    for (round = 1; round <= KILL_ROUNDS; round++) {
        int after_first_ack = round % 2u == 0;
        unsigned delay_us = after_first_ack ? (unsigned)rand() % 5000u
                                            : 200u + (unsigned)rand() % 20000u;
        unsigned acks = run_and_kill(round, delay_us, after_first_ack);
        ap_posix_spool_t sp;
        ap_store_t store;
        size_t n;
        size_t i;

        /* Every acknowledged record is there, intact and in order; the one
         * in flight at the kill may be there too, whole, never half. */
        open_spool(&sp, &store, 0, 0, 0);
        assert_int_equal(names_with_prefix(g_spool, ".tmp-"), 0);
        n = count(&store, AP_STORE_LIVE);
        assert_true(n == acks || n == acks + 1u);
        for (i = 0; i < n; i++) {
            expect_tag(&store, AP_STORE_LIVE, i, round * 100000u + (unsigned)i);
        }
        while (count(&store, AP_STORE_LIVE) > 0) {
            assert_int_equal(store.remove_oldest(store.ctx), AP_OK);
        }
        ap_posix_spool_close(&sp);
        total += acks;
    }
    print_message("%u records acknowledged over %d kills\n", total, KILL_ROUNDS);
}

/* ---- --mounts: file systems of the test's own ---- */

static int write_proc(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    ssize_t n = fd >= 0 ? write(fd, text, strlen(text)) : -1;

    if (fd >= 0) {
        (void)close(fd);
    }
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* A user namespace where this process is root, as unshare -r makes it, so
 * that it may write in the file systems it mounts. */
static int user_namespace(void)
{
    char map[64];
    unsigned uid = (unsigned)getuid();
    unsigned gid = (unsigned)getgid();

    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
        return -1;
    }
    (void)snprintf(map, sizeof map, "0 %u 1\n", uid);
    if (write_proc("/proc/self/uid_map", map) != 0) {
        return -1;
    }
    (void)write_proc("/proc/self/setgroups", "deny\n");
    (void)snprintf(map, sizeof map, "0 %u 1\n", gid);
    return write_proc("/proc/self/gid_map", map);
}

static int private_mounts(void)
{
    if (unshare(CLONE_NEWNS) != 0 && user_namespace() != 0) {
        return -1;
    }
    /* Nothing mounted below propagates back to the host's namespace. */
    return mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

/* Whether tmpfs may be mounted here at all (a container may forbid it). */
static int tmpfs_permitted(void)
{
    char dir[] = "/tmp/ap-spool-probe-XXXXXX";
    int ok;

    if (mkdtemp(dir) == NULL) {
        return 0;
    }
    ok = mount("none", dir, "tmpfs", 0, "size=16k") == 0;
    if (ok) {
        (void)umount2(dir, MNT_DETACH);
    }
    (void)rmdir(dir);
    return ok;
}

static int mount_tmpfs(void **state)
{
    if (setup(state) != 0 || rmdir(g_spool) != 0 || mkdir(g_spool, 0700) != 0) {
        return -1;
    }
    return mount("none", g_spool, "tmpfs", 0, "size=64k,nr_inodes=64");
}

static int unmount_tmpfs(void **state)
{
    (void)umount2(g_spool, MNT_DETACH);
    return teardown(state);
}

static void test_full_tmpfs_answers_store_full_and_keeps_what_was_acknowledged(void **state)
{
    ap_posix_spool_t sp;
    ap_store_t store;
    uint8_t rec[1000];
    size_t acked = 0;
    ap_status_t st = AP_OK;
    char tmp[256];
    size_t i;

    (void)state;
    open_spool(&sp, &store, 0, 0, 0);
    /* 64 KiB holds at most 16 pages: bounded by that, not by the loop. */
    for (i = 0; i < 1000u && st == AP_OK; i++) {
        memset(rec, (int)('a' + i % 26u), sizeof rec);
        st = store.append(store.ctx, rec, sizeof rec);
        acked += st == AP_OK;
    }
    assert_int_equal(st, AP_ERR_STORE_FULL);
    assert_non_null(strstr(ap_posix_spool_error(&sp), g_spool));
    assert_non_null(strstr(ap_posix_spool_error(&sp), "No space left"));
    assert_true(acked > 0);
    (void)snprintf(tmp, sizeof tmp, "%s/.tmp-%020llu", g_spool, (unsigned long long)acked + 1u);
    assert_false(exists(tmp));
    ap_posix_spool_close(&sp);

    open_spool(&sp, &store, 0, 0, 0);
    assert_int_equal(count(&store, AP_STORE_LIVE), acked);
    for (i = 0; i < acked; i++) {
        uint8_t got[1000];
        size_t len = 0;

        memset(rec, (int)('a' + i % 26u), sizeof rec);
        assert_int_equal(store.read(store.ctx, AP_STORE_LIVE, i, got, sizeof got, &len), AP_OK);
        assert_int_equal(len, sizeof rec);
        assert_memory_equal(got, rec, sizeof rec);
    }
    assert_int_equal(store.remove_oldest(store.ctx), AP_OK);
    assert_int_equal(store.append(store.ctx, rec, sizeof rec), AP_OK);
    ap_posix_spool_close(&sp);
}

static void test_read_only_file_system_is_refused_at_open(void **state)
{
    ap_posix_spool_config_t cfg = {0};
    ap_posix_spool_t sp;
    ap_store_t store;

    (void)state;
    open_spool(&sp, &store, 0, 0, 0);
    append_tag(&store, 1);
    ap_posix_spool_close(&sp);
    assert_int_equal(mount("none", g_spool, NULL, MS_REMOUNT | MS_RDONLY, NULL), 0);

    cfg.path = g_spool;
    assert_int_equal(ap_posix_spool_open(&sp, &cfg), AP_ERR_STORE_IO);
    assert_non_null(strstr(ap_posix_spool_error(&sp), "cannot write in spool directory"));
    assert_non_null(strstr(ap_posix_spool_error(&sp), g_spool));
    assert_non_null(strstr(ap_posix_spool_error(&sp), "Read-only file system"));
    ap_posix_spool_close(&sp);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order_survives_close_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leftover_temporary_files_are_ignored_and_removed,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_process_is_refused_while_the_spool_is_open,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_and_truncated_files_are_set_aside, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_paths_that_cannot_be_a_spool_are_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_size_limits_answer_store_full_and_keep_everything,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_letter_part_keeps_and_lists_records, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_listing_reports_a_corrupt_record_and_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_calls_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_sigkill_at_random_moments_loses_no_acknowledged_record, setup, teardown),
    };
    const struct CMUnitTest mount_tests[] = {
        cmocka_unit_test_setup_teardown(
            test_full_tmpfs_answers_store_full_and_keeps_what_was_acknowledged, mount_tmpfs,
            unmount_tmpfs),
        cmocka_unit_test_setup_teardown(test_read_only_file_system_is_refused_at_open,
                                        mount_tmpfs, unmount_tmpfs),
    };

    if (argc > 1 && strcmp(argv[1], "--mounts") == 0) {
        if (private_mounts() != 0 || !tmpfs_permitted()) {
            fprintf(stderr, "test_posix_spool: no private mount namespace with tmpfs here "
                            "(%s): skipped\n",
                    strerror(errno));
            return SKIP_CODE;
        }
        return cmocka_run_group_tests_name("posix_spool_mounts", mount_tests, NULL, NULL);
    }
    return cmocka_run_group_tests_name("posix_spool", tests, NULL, NULL);
}
