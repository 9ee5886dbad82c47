/*
 * The system calls newlib-nano needs, for a board with one console and no
 * file system. Their names are newlib's contract, hence no ap_ prefix.
 *
 * stdout and stderr go to the console UART; there is nothing to read;
 * time() and gettimeofday() answer with the board's wall clock
 * (wall_clock.h, whole seconds; an error while it is unknown); the heap is the region the linker script reserves (__ap_heap_start to
 * __ap_heap_end) and malloc() fails cleanly when it is used up, instead of
 * growing into the stack.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>

#include "mps2.h"
#include "mps2_internal.h"
#include "wall_clock.h"

extern char __ap_heap_start[];
extern char __ap_heap_end[];

/* Only newlib calls these, and newlib is linked after link-time
 * optimisation has run: "used" keeps an LTO build from dropping them as
 * unreferenced. */
#define AP_MPS2_LIBC_HOOK __attribute__((used))

AP_MPS2_LIBC_HOOK void *_sbrk(ptrdiff_t incr);
AP_MPS2_LIBC_HOOK int _write(int fd, const char *buf, int len);
AP_MPS2_LIBC_HOOK int _read(int fd, char *buf, int len);
AP_MPS2_LIBC_HOOK int _close(int fd);
AP_MPS2_LIBC_HOOK int _fstat(int fd, struct stat *st);
AP_MPS2_LIBC_HOOK int _isatty(int fd);
AP_MPS2_LIBC_HOOK int _lseek(int fd, int offset, int whence);
AP_MPS2_LIBC_HOOK void _exit(int status);
AP_MPS2_LIBC_HOOK int _kill(int pid, int sig);
AP_MPS2_LIBC_HOOK int _getpid(void);
AP_MPS2_LIBC_HOOK int _gettimeofday(struct timeval *tv, void *tz);

static char *g_heap_brk = __ap_heap_start;
static size_t g_heap_refused;

void *_sbrk(ptrdiff_t incr)
{
    char *prev = g_heap_brk;

    if (incr > __ap_heap_end - g_heap_brk || incr < __ap_heap_start - g_heap_brk) {
        g_heap_refused++;
        errno = ENOMEM;
        return (void *)-1;
    }
    g_heap_brk += incr;
    return prev;
}

size_t ap_mps2_heap_used(void)
{
    return (size_t)(g_heap_brk - __ap_heap_start);
}

size_t ap_mps2_heap_size(void)
{
    return (size_t)(__ap_heap_end - __ap_heap_start);
}

int _write(int fd, const char *buf, int len)
{
    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    if (len > 0) {
        ap_mps2_console_write(buf, (size_t)len);
    }
    return len;
}

int _read(int fd, char *buf, int len)
{
    (void)fd;
    (void)buf;
    (void)len;
    return 0; /* end of file: the console has no input */
}

int _close(int fd)
{
    (void)fd;
    errno = EBADF;
    return -1;
}

int _fstat(int fd, struct stat *st)
{
    (void)fd;
    /* A character device: newlib then line-buffers stdout. */
    st->st_mode = S_IFCHR;
    return 0;
}

int _isatty(int fd)
{
    return fd >= 0 && fd <= 2;
}

int _lseek(int fd, int offset, int whence)
{
    (void)fd;
    (void)offset;
    (void)whence;
    errno = ESPIPE;
    return -1;
}

void _exit(int status)
{
    ap_mps2_semihost_exit(status);
    for (;;) {
        __asm__ volatile("wfi");
    }
}

int _kill(int pid, int sig)
{
    (void)pid;
    /* abort() raises SIGABRT through here: end with the board's status. */
    ap_mps2_fault_report_text("signal", (uint32_t)sig);
    ap_mps2_semihost_exit(AP_MPS2_EXIT_ABORT);
    errno = EINVAL;
    return -1;
}

int _getpid(void)
{
    return 1;
}

int _gettimeofday(struct timeval *tv, void *tz)
{
    int64_t now = ap_mps2_wall_time();

    (void)tz;
    if (now < 0) {
        errno = EIO;
        return -1;
    }
    if (tv != NULL) {
        tv->tv_sec = (time_t)now;
        tv->tv_usec = 0;
    }
    return 0;
}

size_t ap_mps2_heap_refused(void)
{
    return g_heap_refused;
}
