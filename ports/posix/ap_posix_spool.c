/*
 * The spool directory store (contract in ap_posix_spool.h and ap_store.h).
 *
 * The directory is read once, at open, into an index per part; from then on
 * the lock guarantees that only this handle changes the spool, so reads and
 * counts need no directory scan (a 10,000-record flush would otherwise scan
 * 10,000 times). A record that disappears under the index (an operator's rm)
 * is skipped when it is found missing; one that fails its check is moved to
 * .corrupt/ and reported. Nothing is deleted except what remove_oldest() is
 * told was delivered and temporary files that were never acknowledged.
 */
/* flock() is BSD, not POSIX: glibc declares it with _DEFAULT_SOURCE (which
 * includes POSIX.1-2008); the BSDs and macOS declare it by default. */
#define _DEFAULT_SOURCE

#include "alertpost/ap_posix_spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "ap_posix_spool_file.h"
#include "ap_posix_spool_internal.h"

#define LOCK_NAME ".lock"
#define DEAD_DIR ".dead"
#define CORRUPT_DIR ".corrupt"

ap_status_t ap_posix_spool_fail(ap_posix_spool_t *sp, ap_status_t st, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    /* Truncation is acceptable: the text is for a person. */
    (void)vsnprintf(sp->error, sizeof sp->error, fmt, ap);
    va_end(ap);
    return st;
}

ap_status_t ap_posix_spool_errno_status(int err)
{
#ifdef EDQUOT
    if (err == EDQUOT) {
        return AP_ERR_STORE_FULL;
    }
#endif
    return err == ENOSPC ? AP_ERR_STORE_FULL : AP_ERR_STORE_IO;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        (void)close(*fd);
        *fd = -1;
    }
}

/* The parent's entry for a directory created here must survive a power
 * cut too, or every record acknowledged inside it could vanish with it. */
static int sync_parent(const char *path)
{
    char parent[AP_POSIX_SPOOL_PATH_SIZE];
    char *slash;
    int fd;
    int err;

    (void)snprintf(parent, sizeof parent, "%s", path);
    slash = strrchr(parent, '/');
    while (slash != NULL && slash > parent && slash[1] == '\0') {
        *slash = '\0'; /* "dir/" names dir */
        slash = strrchr(parent, '/');
    }
    if (slash == NULL) {
        (void)snprintf(parent, sizeof parent, ".");
    } else {
        slash[slash == parent ? 1 : 0] = '\0';
    }
    fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    err = ap_posix_spool_fsync(fd);
    (void)close(fd);
    return err;
}

static ap_status_t open_top(ap_posix_spool_t *sp, int create)
{
    sp->dir_fd = open(sp->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sp->dir_fd < 0 && errno == ENOENT && create) {
        int err;

        if (mkdir(sp->path, 0700) != 0 && errno != EEXIST) {
            return ap_posix_spool_fail(sp, AP_ERR_STORE_IO,
                                       "cannot create spool directory %s: %s; create it by hand "
                                       "or choose another path",
                                       sp->path, strerror(errno));
        }
        err = sync_parent(sp->path);
        if (err != 0) {
            return ap_posix_spool_fail(sp, AP_ERR_STORE_IO,
                                       "created spool directory %s, but fsync of its parent "
                                       "failed: %s",
                                       sp->path, strerror(err));
        }
        sp->dir_fd = open(sp->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (sp->dir_fd >= 0) {
        return AP_OK;
    }
    if (errno == ENOENT) {
        return ap_posix_spool_fail(sp, AP_ERR_STORE_IO,
                                   "spool directory %s does not exist: create it (mkdir) or "
                                   "check the path",
                                   sp->path);
    }
    if (errno == ENOTDIR) {
        return ap_posix_spool_fail(sp, AP_ERR_STORE_IO,
                                   "spool path %s is not a directory (it or a component of it "
                                   "is a file): choose a directory",
                                   sp->path);
    }
    return ap_posix_spool_fail(sp, AP_ERR_STORE_IO, "cannot open spool directory %s: %s",
                               sp->path, strerror(errno));
}

/* The holder's pid, as it wrote it; -1 if unreadable. */
static long read_holder(int fd)
{
    char text[32];
    ssize_t n = pread(fd, text, sizeof text - 1u, 0);
    char *end = NULL;
    long pid;

    if (n <= 0) {
        return -1;
    }
    text[n] = '\0';
    pid = strtol(text, &end, 10);
    return (end != text && pid > 0) ? pid : -1;
}

static ap_status_t take_lock(ap_posix_spool_t *sp)
{
    char text[32];
    int n;

    sp->lock_fd = openat(sp->dir_fd, LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (sp->lock_fd < 0) {
        return ap_posix_spool_fail(sp, AP_ERR_STORE_IO,
                                   "cannot write in spool directory %s (creating its lock file: "
                                   "%s): make it writable or choose another spool",
                                   sp->path, strerror(errno));
    }
    if (flock(sp->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) {
            return ap_posix_spool_fail(sp, AP_ERR_STORE_IO, "cannot lock spool %s: %s", sp->path,
                                       strerror(errno));
        }
        sp->busy_pid = read_holder(sp->lock_fd);
        if (sp->busy_pid > 0) {
            return ap_posix_spool_fail(sp, AP_ERR_STORE_IO,
                                       "spool %s is busy: process %ld holds its lock; wait for "
                                       "it to finish or use another spool",
                                       sp->path, sp->busy_pid);
        }
        return ap_posix_spool_fail(sp, AP_ERR_STORE_IO,
                                   "spool %s is busy: another process holds its lock; wait for "
                                   "it to finish or use another spool",
                                   sp->path);
    }
    /* Only for the message above: a stale pid after a crash does no harm,
     * since the kernel released the lock with the process. */
    n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    if (ftruncate(sp->lock_fd, 0) != 0 || pwrite(sp->lock_fd, text, (size_t)n, 0) != n) {
        return ap_posix_spool_fail(sp, ap_posix_spool_errno_status(errno),
                                   "cannot write spool lock file %s/" LOCK_NAME ": %s", sp->path,
                                   strerror(errno));
    }
    return AP_OK;
}

static ap_status_t open_sub(ap_posix_spool_t *sp, const char *name, int *fd)
{
    if (mkdirat(sp->dir_fd, name, 0700) == 0) {
        if (ap_posix_spool_fsync(sp->dir_fd) != 0) {
            return ap_posix_spool_fail(sp, AP_ERR_STORE_IO, "cannot sync %s after creating %s: %s",
                                       sp->path, name, strerror(errno));
        }
    } else if (errno != EEXIST) {
        return ap_posix_spool_fail(sp, ap_posix_spool_errno_status(errno),
                                   "cannot create %s/%s: %s", sp->path, name, strerror(errno));
    }
    *fd = openat(sp->dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (*fd < 0) {
        return ap_posix_spool_fail(sp, AP_ERR_STORE_IO,
                                   "cannot open %s/%s: %s (it must be a directory)", sp->path,
                                   name, strerror(errno));
    }
    return AP_OK;
}

/*
 * Indexes the records in fd (a part's folder); with clean_temps, removes the
 * temporary files a crashed writer left (never acknowledged, so nothing is
 * lost). label names the folder in messages.
 */
static ap_status_t scan(ap_posix_spool_t *sp, int fd, ap_posix_spool_index_t *idx,
                        const char *label, int clean_temps)
{
    int dup_fd = dup(fd);
    DIR *dir = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    const struct dirent *de;
    ap_status_t st = AP_OK;
    int removed = 0;

    if (dir == NULL) {
        if (dup_fd >= 0) {
            (void)close(dup_fd);
        }
        return ap_posix_spool_fail(sp, AP_ERR_STORE_IO, "cannot list %s%s: %s", sp->path, label,
                                   strerror(errno));
    }
    errno = 0;
    while (st == AP_OK && (de = readdir(dir)) != NULL) {
        struct stat fst;
        uint64_t seq;

        if (clean_temps && strncmp(de->d_name, AP_POSIX_SPOOL_TMP_PREFIX,
                                   sizeof AP_POSIX_SPOOL_TMP_PREFIX - 1u) == 0) {
            if (unlinkat(fd, de->d_name, 0) != 0 && errno != ENOENT) {
                st = ap_posix_spool_fail(sp, AP_ERR_STORE_IO,
                                         "cannot remove leftover temporary file %s%s/%s: %s",
                                         sp->path, label, de->d_name, strerror(errno));
            }
            removed = 1;
        } else if (ap_posix_spool_parse_name(de->d_name, &seq)) {
            /* The size is only for the byte limit; read() checks the file. */
            uint64_t len = fstatat(fd, de->d_name, &fst, AT_SYMLINK_NOFOLLOW) == 0
                               ? (uint64_t)fst.st_size
                               : 0u;

            /* No memory at open is a failure of open, not a full store. */
            if (ap_posix_spool_index_push(sp, idx, seq, len) != AP_OK) {
                st = AP_ERR_STORE_IO;
            }
        }
        errno = 0;
    }
    if (st == AP_OK && errno != 0) {
        st = ap_posix_spool_fail(sp, AP_ERR_STORE_IO, "cannot list %s%s: %s", sp->path, label,
                                 strerror(errno));
    }
    (void)closedir(dir);
    if (st == AP_OK && removed && ap_posix_spool_fsync(fd) != 0) {
        st = ap_posix_spool_fail(sp, AP_ERR_STORE_IO, "cannot sync %s%s: %s", sp->path, label,
                                 strerror(errno));
    }
    if (st == AP_OK) {
        ap_posix_spool_index_sort(idx);
    }
    return st;
}

static void set_next_seq(ap_posix_spool_t *sp)
{
    uint64_t last = 0;

    if (sp->live.len > 0) {
        last = ap_posix_spool_index_at(&sp->live, sp->live.len - 1u)->seq;
    }
    if (sp->dead.len > 0) {
        uint64_t d = ap_posix_spool_index_at(&sp->dead, sp->dead.len - 1u)->seq;

        last = d > last ? d : last;
    }
    sp->next_seq = last + 1u;
}

static ap_status_t open_all(ap_posix_spool_t *sp, const ap_posix_spool_config_t *cfg)
{
    ap_status_t st = open_top(sp, cfg->create);

    if (st == AP_OK) {
        st = take_lock(sp);
    }
    if (st == AP_OK) {
        st = open_sub(sp, DEAD_DIR, &sp->dead_fd);
    }
    if (st == AP_OK) {
        st = open_sub(sp, CORRUPT_DIR, &sp->corrupt_fd);
    }
    if (st == AP_OK) {
        st = scan(sp, sp->dir_fd, &sp->live, "", 1);
    }
    if (st == AP_OK) {
        st = scan(sp, sp->dead_fd, &sp->dead, "/" DEAD_DIR, 1);
    }
    if (st == AP_OK) {
        set_next_seq(sp);
    }
    return st;
}

ap_status_t ap_posix_spool_open(ap_posix_spool_t *sp, const ap_posix_spool_config_t *cfg)
{
    ap_status_t st;

    if (sp == NULL) {
        return AP_ERR_BAD_ARG;
    }
    memset(sp, 0, sizeof *sp);
    sp->dir_fd = sp->dead_fd = sp->corrupt_fd = sp->lock_fd = -1;
    if (cfg == NULL || cfg->path == NULL || cfg->path[0] == '\0') {
        return ap_posix_spool_fail(sp, AP_ERR_BAD_ARG, "no spool directory given");
    }
    if (strlen(cfg->path) >= sizeof sp->path) {
        return ap_posix_spool_fail(sp, AP_ERR_BAD_ARG,
                                   "spool directory path is longer than %u bytes: use a shorter "
                                   "one",
                                   (unsigned)sizeof sp->path - 1u);
    }
    (void)snprintf(sp->path, sizeof sp->path, "%s", cfg->path);
    sp->max_records = cfg->max_records;
    sp->max_bytes = cfg->max_bytes;
    sp->max_dead_records = cfg->max_dead_records;

    st = open_all(sp, cfg);
    if (st != AP_OK) {
        long busy = sp->busy_pid;
        char error[sizeof sp->error];

        memcpy(error, sp->error, sizeof error);
        ap_posix_spool_close(sp);
        sp->busy_pid = busy;
        memcpy(sp->error, error, sizeof error);
    }
    return st;
}

void ap_posix_spool_close(ap_posix_spool_t *sp)
{
    if (sp == NULL) {
        return;
    }
    /* Closing the lock file's only descriptor releases the flock. */
    close_fd(&sp->lock_fd);
    close_fd(&sp->corrupt_fd);
    close_fd(&sp->dead_fd);
    close_fd(&sp->dir_fd);
    ap_posix_spool_index_free(&sp->live);
    ap_posix_spool_index_free(&sp->dead);
    sp->busy_pid = 0;
    sp->error[0] = '\0';
}

const char *ap_posix_spool_error(const ap_posix_spool_t *sp)
{
    return sp != NULL ? sp->error : "no spool";
}

long ap_posix_spool_busy_pid(const ap_posix_spool_t *sp)
{
    return sp != NULL ? sp->busy_pid : 0;
}
