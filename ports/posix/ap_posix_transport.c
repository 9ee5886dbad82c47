/*
 * The POSIX transport: TCP over BSD sockets.
 *
 * Every blocking step is a non-blocking call followed by poll() on a
 * deadline taken from CLOCK_MONOTONIC, so no call outlives the timeout the
 * core passes (name resolution included: see resolve()). errno and EAI_*
 * codes stay here; only the ap_status_t and the describe() text leave.
 */
#define _POSIX_C_SOURCE 200809L

#include "alertpost/ap_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* Linux and the BSDs suppress SIGPIPE per call; macOS only per socket
 * (SO_NOSIGPIPE, set at connect). Where neither exists a process must
 * ignore SIGPIPE itself, which is not a port's decision to make. */
#ifdef MSG_NOSIGNAL
#define AP_POSIX_SEND_FLAGS MSG_NOSIGNAL
#else
#define AP_POSIX_SEND_FLAGS 0
#endif

/* A deadline in nanoseconds on CLOCK_MONOTONIC. Nanoseconds rather than
 * milliseconds so that rounding never lets a wait end before the caller's
 * timeout has really passed; 64 bits will not wrap for centuries, and the
 * arithmetic below is unsigned differences only, so it is wrap-safe anyway. */
typedef struct {
    uint64_t start_ns;
    uint64_t limit_ns;
} ap_posix_deadline_t;

static uint64_t monotonic_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static void deadline_start(ap_posix_deadline_t *dl, uint32_t timeout_ms)
{
    dl->start_ns = monotonic_ns();
    dl->limit_ns = (uint64_t)timeout_ms * UINT64_C(1000000);
}

static uint64_t deadline_remaining_ns(const ap_posix_deadline_t *dl)
{
    uint64_t elapsed = monotonic_ns() - dl->start_ns;

    return elapsed >= dl->limit_ns ? 0 : dl->limit_ns - elapsed;
}

/* poll() takes whole milliseconds: round up, so a wait is never shorter
 * than what is left. */
static int ns_to_poll_ms(uint64_t ns)
{
    uint64_t ms = (ns + UINT64_C(999999)) / UINT64_C(1000000);

    return ms > (uint64_t)INT_MAX ? INT_MAX : (int)ms;
}

/* Wait until fd is ready for events or the deadline passes. Returns 1 when
 * ready (including error/hang-up, which the next call reports), 0 on timeout,
 * -1 with errno set if poll itself failed. */
static int wait_ready(int fd, short events, const ap_posix_deadline_t *dl)
{
    for (;;) {
        struct pollfd pfd;
        uint64_t left = deadline_remaining_ns(dl);
        int rc;

        if (left == 0) {
            return 0;
        }
        pfd.fd = fd;
        pfd.events = events;
        pfd.revents = 0;
        rc = poll(&pfd, 1, ns_to_poll_ms(left));
        if (rc > 0) {
            return 1;
        }
        if (rc < 0 && errno != EINTR) {
            return -1;
        }
        /* rc == 0 or EINTR: the loop re-reads the clock, so it ends at the
         * deadline however often a signal interrupts. */
    }
}

#ifdef __GNUC__
static void set_detail(ap_posix_conn_t *conn, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#endif

static void set_detail(ap_posix_conn_t *conn, int err, const char *fmt, ...)
{
    va_list ap;

    conn->last_errno = err;
    va_start(ap, fmt);
    /* Truncation is acceptable: the text is for a person, and a long host
     * name must not push it past its buffer. */
    (void)vsnprintf(conn->detail, sizeof conn->detail, fmt, ap);
    va_end(ap);
}

static void clear_detail(ap_posix_conn_t *conn)
{
    conn->last_errno = 0;
    conn->detail[0] = '\0';
}

/* The failures a person can act on by checking the address, the route or
 * the server; everything else is a local or stack fault (AP_ERR_IO). */
static ap_status_t connect_errno_status(int err)
{
    switch (err) {
    case ECONNREFUSED:
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
#ifdef EHOSTDOWN
    case EHOSTDOWN:
#endif
    case EADDRNOTAVAIL:
    case EAFNOSUPPORT:
    case EPROTONOSUPPORT:
        return AP_ERR_CONNECT;
    case ETIMEDOUT:
        return AP_ERR_TIMEOUT;
    default:
        return AP_ERR_IO;
    }
}

static void describe_address(const struct addrinfo *ai, char *host,
                             size_t host_size)
{
    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, (socklen_t)host_size,
                    NULL, 0, NI_NUMERICHOST) != 0) {
        (void)snprintf(host, host_size, "?");
    }
}

static void set_connect_detail(ap_posix_conn_t *conn, int err,
                               const struct addrinfo *ai, uint16_t port)
{
    char addr[INET6_ADDRSTRLEN + 8];

    describe_address(ai, addr, sizeof addr);
    if (err == ECONNREFUSED) {
        set_detail(conn, err, "connection refused by %s port %u", addr,
                   (unsigned)port);
    } else {
        set_detail(conn, err, "cannot connect to %s port %u: %s", addr,
                   (unsigned)port, strerror(err));
    }
}

static int make_socket(const struct addrinfo *ai)
{
    int type = ai->ai_socktype;
    int fd;
    int flags;

#ifdef SOCK_CLOEXEC
    type |= SOCK_CLOEXEC;
#endif
    fd = socket(ai->ai_family, type, ai->ai_protocol);
    if (fd < 0) {
        return -1;
    }
#ifndef SOCK_CLOEXEC
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
    flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        int err = errno;

        (void)close(fd);
        errno = err;
        return -1;
    }
#ifdef SO_NOSIGPIPE
    {
        int one = 1;

        (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
    }
#endif
    return fd;
}

/* One attempt at one address, bounded by dl. On success returns the
 * connected socket; on failure -1 and *err holds the errno, or 0 when the
 * attempt ran out of time. */
static int connect_one(const struct addrinfo *ai, const ap_posix_deadline_t *dl,
                       int *err)
{
    int fd = make_socket(ai);
    int rc;

    if (fd < 0) {
        *err = errno;
        return -1;
    }
    rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    /* An interrupted connect goes on in the background, as EINPROGRESS
     * does; calling connect() again would only say EALREADY. */
    if (rc != 0 && (errno == EINPROGRESS || errno == EINTR)) {
        int ready = wait_ready(fd, POLLOUT, dl);

        if (ready <= 0) {
            *err = ready == 0 ? 0 : errno;
            (void)close(fd);
            return -1;
        }
        {
            int so_error = 0;
            socklen_t so_len = sizeof so_error;

            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len) != 0) {
                so_error = errno;
            }
            rc = so_error == 0 ? 0 : -1;
            errno = so_error;
        }
    }
    if (rc != 0) {
        *err = errno;
        (void)close(fd);
        return -1;
    }
    return fd;
}

/*
 * Name resolution within the connect deadline.
 *
 * getaddrinfo() has no timeout of its own (only the resolver's, from
 * resolv.conf, which may be many seconds). Address literals are resolved in
 * place (AI_NUMERICHOST never touches the network); names are looked up on a
 * helper thread while the caller waits on a monotonic deadline. A lookup that
 * outlives the deadline is abandoned: the thread finishes on its own and frees
 * what it found, since the job is reference-counted between the two.
 */
typedef struct resolve_job {
    pthread_mutex_t lock;
    pthread_cond_t done_cv;
    int refs;                /* the caller and the helper thread */
    bool done;
    int rc;                  /* getaddrinfo's result */
    int sys_errno;           /* errno, for EAI_SYSTEM */
    struct addrinfo *list;
    struct addrinfo hints;
    char host[256];
    char service[8];
} resolve_job_t;

static void job_release(resolve_job_t *job)
{
    bool last;

    (void)pthread_mutex_lock(&job->lock);
    last = (--job->refs == 0);
    (void)pthread_mutex_unlock(&job->lock);
    if (last) {
        if (job->list != NULL) {
            freeaddrinfo(job->list);
        }
        (void)pthread_cond_destroy(&job->done_cv);
        (void)pthread_mutex_destroy(&job->lock);
        free(job);
    }
}

static void *resolve_thread(void *arg)
{
    resolve_job_t *job = arg;
    struct addrinfo *list = NULL;
    int rc;

    do {
        rc = getaddrinfo(job->host, job->service, &job->hints, &list);
    } while (rc == EAI_SYSTEM && errno == EINTR);

    (void)pthread_mutex_lock(&job->lock);
    job->rc = rc;
    job->sys_errno = errno;
    job->list = (rc == 0) ? list : NULL;
    job->done = true;
    (void)pthread_cond_signal(&job->done_cv);
    (void)pthread_mutex_unlock(&job->lock);
    job_release(job);
    return NULL;
}

/* A new job with two references, or NULL when out of memory. */
static resolve_job_t *job_new(const char *host, const char *service,
                              const struct addrinfo *hints)
{
    resolve_job_t *job = calloc(1, sizeof *job);
    pthread_condattr_t attr;

    if (job == NULL) {
        return NULL;
    }
    if (pthread_condattr_init(&attr) != 0) {
        free(job);
        return NULL;
    }
    (void)pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (pthread_mutex_init(&job->lock, NULL) != 0) {
        (void)pthread_condattr_destroy(&attr);
        free(job);
        return NULL;
    }
    if (pthread_cond_init(&job->done_cv, &attr) != 0) {
        (void)pthread_condattr_destroy(&attr);
        (void)pthread_mutex_destroy(&job->lock);
        free(job);
        return NULL;
    }
    (void)pthread_condattr_destroy(&attr);
    job->refs = 2;
    job->hints = *hints;
    (void)snprintf(job->host, sizeof job->host, "%s", host);
    (void)snprintf(job->service, sizeof job->service, "%s", service);
    return job;
}

/* Run getaddrinfo on a helper thread and wait for it until the deadline.
 * Returns 0 with *out set, an EAI_* code, or -1 when the deadline passed. */
static int lookup_bounded(const char *host, const char *service,
                          const struct addrinfo *hints,
                          const ap_posix_deadline_t *dl,
                          struct addrinfo **out, int *sys_errno)
{
    resolve_job_t *job = job_new(host, service, hints);
    pthread_attr_t attr;
    pthread_t tid;
    struct timespec until;
    uint64_t abs_ns = dl->start_ns + dl->limit_ns;
    int rc;

    if (job == NULL) {
        return EAI_MEMORY;
    }
    if (pthread_attr_init(&attr) != 0) {
        job->refs = 1;
        job_release(job);
        return EAI_MEMORY;
    }
    (void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&tid, &attr, resolve_thread, job);
    (void)pthread_attr_destroy(&attr);
    if (rc != 0) {
        job->refs = 1;
        job_release(job);
        return EAI_AGAIN;
    }

    until.tv_sec = (time_t)(abs_ns / 1000000000u);
    until.tv_nsec = (long)(abs_ns % 1000000000u);
    (void)pthread_mutex_lock(&job->lock);
    while (!job->done) {
        if (pthread_cond_timedwait(&job->done_cv, &job->lock, &until) == ETIMEDOUT) {
            break;
        }
    }
    if (job->done) {
        rc = job->rc;
        *sys_errno = job->sys_errno;
        *out = job->list;
        job->list = NULL; /* now the caller's to free */
    } else {
        rc = -1;
    }
    (void)pthread_mutex_unlock(&job->lock);
    job_release(job);
    return rc;
}

static ap_status_t resolve(ap_posix_conn_t *conn, const char *host,
                           uint16_t port, const ap_posix_deadline_t *dl,
                           uint32_t timeout_ms, struct addrinfo **out)
{
    struct addrinfo hints;
    char service[8];
    int sys_errno = 0;
    int rc;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
    (void)snprintf(service, sizeof service, "%u", (unsigned)port);

    /* An address literal: no lookup, no thread. */
    rc = getaddrinfo(host, service, &hints, out);
    if (rc == EAI_NONAME) {
        hints.ai_flags = AI_NUMERICSERV;
        rc = lookup_bounded(host, service, &hints, dl, out, &sys_errno);
    } else if (rc == EAI_SYSTEM) {
        sys_errno = errno;
    }
    if (rc == -1) {
        set_detail(conn, ETIMEDOUT,
                   "timed out after %lu ms resolving host '%s'",
                   (unsigned long)timeout_ms, host);
        return AP_ERR_TIMEOUT;
    }
    if (rc == 0 && *out == NULL) {
        rc = EAI_NONAME;
    }
    if (rc != 0) {
        if (rc == EAI_SYSTEM) {
            set_detail(conn, rc, "cannot resolve host '%s': %s", host,
                       strerror(sys_errno));
            return AP_ERR_IO;
        }
        if (rc == EAI_MEMORY) {
            set_detail(conn, rc, "cannot resolve host '%s': %s", host,
                       gai_strerror(rc));
            return AP_ERR_IO;
        }
        set_detail(conn, rc, "no address for host '%s': %s", host,
                   gai_strerror(rc));
        return AP_ERR_DNS;
    }
    return AP_OK;
}

/* Bytes read ahead belong to the connection they came from. */
static void ahead_discard(ap_posix_conn_t *conn)
{
    conn->ahead_pos = 0;
    conn->ahead_len = 0;
}

static void posix_close(void *ctx)
{
    ap_posix_conn_t *conn = ctx;

    if (conn == NULL) {
        return;
    }
    ahead_discard(conn);
    if (conn->fd < 0) {
        return;
    }
    /* Not retried on EINTR: on Linux the descriptor is already gone, and a
     * retry could close one another thread has just been given. */
    (void)close(conn->fd);
    conn->fd = -1;
}

static ap_status_t posix_connect(void *ctx, const char *host, uint16_t port,
                                 uint32_t timeout_ms)
{
    ap_posix_conn_t *conn = ctx;
    ap_posix_deadline_t overall;
    struct addrinfo *list = NULL;
    const struct addrinfo *ai;
    ap_status_t status = AP_ERR_IO;
    unsigned left_to_try = 0;
    int last_err = 0;
    const struct addrinfo *last_ai = NULL;

    if (conn == NULL) {
        return AP_ERR_BAD_ARG;
    }
    posix_close(conn);
    clear_detail(conn);
    /* getaddrinfo(NULL, ...) would quietly mean "this machine". */
    if (host == NULL || host[0] == '\0') {
        set_detail(conn, 0, "no host given");
        return AP_ERR_BAD_ARG;
    }

    deadline_start(&overall, timeout_ms);
    status = resolve(conn, host, port, &overall, timeout_ms, &list);
    if (status != AP_OK) {
        return status;
    }
    if (deadline_remaining_ns(&overall) == 0) {
        freeaddrinfo(list);
        set_detail(conn, ETIMEDOUT,
                   "timed out after %lu ms resolving host '%s'",
                   (unsigned long)timeout_ms, host);
        return AP_ERR_TIMEOUT;
    }

    for (ai = list; ai != NULL; ai = ai->ai_next) {
        left_to_try++;
    }

    for (ai = list; ai != NULL; ai = ai->ai_next, left_to_try--) {
        ap_posix_deadline_t attempt;
        uint64_t left = deadline_remaining_ns(&overall);
        int err = 0;
        int fd;

        if (left == 0) {
            break;
        }
        /* Each address gets an equal share of what is left, and the last
         * one all of it: a silent first address (say, an unrouted IPv6)
         * must not eat the time the next one needs. */
        attempt.start_ns = monotonic_ns();
        attempt.limit_ns = left / left_to_try;

        fd = connect_one(ai, &attempt, &err);
        if (fd >= 0) {
            int one = 1;

            /* Requests are written whole and TLS records are small: waiting
             * for Nagle only adds latency. Best effort. */
            (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            conn->fd = fd;
            clear_detail(conn);
            freeaddrinfo(list);
            return AP_OK;
        }
        last_err = err;
        last_ai = ai;
        if (err != 0) {
            set_connect_detail(conn, err, ai, port);
        }
    }

    if (last_ai == NULL || last_err == 0 || last_err == ETIMEDOUT) {
        /* The last attempt, or the loop itself, ran out of time. */
        char addr[INET6_ADDRSTRLEN + 8];

        if (last_ai != NULL) {
            describe_address(last_ai, addr, sizeof addr);
        } else {
            (void)snprintf(addr, sizeof addr, "%s", host);
        }
        set_detail(conn, ETIMEDOUT,
                   "connect to %s port %u timed out after %lu ms", addr,
                   (unsigned)port, (unsigned long)timeout_ms);
        status = AP_ERR_TIMEOUT;
    } else {
        status = connect_errno_status(last_err);
    }
    freeaddrinfo(list);
    return status;
}

static int32_t clamp_len(size_t len)
{
    return len > (size_t)INT32_MAX ? INT32_MAX : (int32_t)len;
}

static int32_t io_failure(ap_posix_conn_t *conn, int err, const char *what)
{
    if (err == ECONNRESET) {
        set_detail(conn, err, "connection reset by peer");
    } else if (err == EPIPE) {
        set_detail(conn, err, "%s: connection already closed (broken pipe)",
                   what);
    } else {
        set_detail(conn, err, "%s failed: %s", what, strerror(err));
    }
    return AP_ERR_IO;
}

static int32_t posix_send(void *ctx, const uint8_t *buf, size_t len,
                          uint32_t timeout_ms)
{
    ap_posix_conn_t *conn = ctx;
    ap_posix_deadline_t dl;
    size_t chunk;

    if (conn == NULL || (buf == NULL && len > 0)) {
        return AP_ERR_BAD_ARG;
    }
    if (conn->fd < 0) {
        set_detail(conn, 0, "send on a connection that is not open");
        return AP_ERR_IO;
    }
    if (len == 0) {
        return 0;
    }
    chunk = (size_t)clamp_len(len);
    deadline_start(&dl, timeout_ms);

    for (;;) {
        ssize_t n = send(conn->fd, buf, chunk, AP_POSIX_SEND_FLAGS);
        int ready;

        if (n > 0) {
            return (int32_t)n;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return io_failure(conn, errno, "send");
        }
        /* n == 0 cannot happen for chunk > 0 on a stream socket; treat it
         * like would-block rather than return a zero the contract forbids. */
        ready = wait_ready(conn->fd, POLLOUT, &dl);
        if (ready == 0) {
            set_detail(conn, ETIMEDOUT, "send timed out after %lu ms",
                       (unsigned long)timeout_ms);
            return AP_ERR_TIMEOUT;
        }
        if (ready < 0) {
            return io_failure(conn, errno, "poll");
        }
    }
}

/* One recv() into buf, waiting for data within timeout_ms; the contract's
 * outcomes, never 0. */
static int32_t recv_bounded(ap_posix_conn_t *conn, uint8_t *buf, size_t size,
                            uint32_t timeout_ms)
{
    ap_posix_deadline_t dl;
    size_t chunk = (size_t)clamp_len(size);

    deadline_start(&dl, timeout_ms);
    for (;;) {
        ssize_t n = recv(conn->fd, buf, chunk, 0);
        int ready;

        if (n > 0) {
            return (int32_t)n;
        }
        if (n == 0) {
            set_detail(conn, 0, "connection closed by peer");
            return AP_ERR_CLOSED;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return io_failure(conn, errno, "receive");
        }
        ready = wait_ready(conn->fd, POLLIN, &dl);
        if (ready == 0) {
            set_detail(conn, ETIMEDOUT, "receive timed out after %lu ms",
                       (unsigned long)timeout_ms);
            return AP_ERR_TIMEOUT;
        }
        if (ready < 0) {
            return io_failure(conn, errno, "poll");
        }
    }
}

/* Up to size of the bytes read ahead; there is at least one. */
static int32_t ahead_take(ap_posix_conn_t *conn, uint8_t *buf, size_t size)
{
    size_t avail = conn->ahead_len - conn->ahead_pos;
    size_t n = size < avail ? size : avail;

    memcpy(buf, conn->ahead + conn->ahead_pos, n);
    conn->ahead_pos += n;
    if (conn->ahead_pos == conn->ahead_len) {
        ahead_discard(conn);
    }
    return (int32_t)n;
}

/*
 * Bytes read ahead are handed out first, without a system call, and stand
 * for "already arrived" (a zero timeout returns them too). An end or failure
 * behind them is only met by the recv() after the last one is taken, so it
 * is reported in its place in the stream. A read at least as large as the
 * buffer goes straight into the caller's memory.
 */
static int32_t posix_recv(void *ctx, uint8_t *buf, size_t size,
                          uint32_t timeout_ms)
{
    ap_posix_conn_t *conn = ctx;
    int32_t n;

    if (conn == NULL || (buf == NULL && size > 0)) {
        return AP_ERR_BAD_ARG;
    }
    if (conn->fd < 0) {
        set_detail(conn, 0, "receive on a connection that is not open");
        return AP_ERR_IO;
    }
    if (size == 0) {
        return 0;
    }
    if (conn->ahead_pos < conn->ahead_len) {
        return ahead_take(conn, buf, size);
    }
    if (size >= sizeof conn->ahead) {
        return recv_bounded(conn, buf, size, timeout_ms);
    }
    n = recv_bounded(conn, conn->ahead, sizeof conn->ahead, timeout_ms);
    if (n <= 0) {
        return n;
    }
    conn->ahead_pos = 0;
    conn->ahead_len = (size_t)n;
    return ahead_take(conn, buf, size);
}

static const char *posix_describe(void *ctx)
{
    const ap_posix_conn_t *conn = ctx;

    if (conn == NULL) {
        return "";
    }
    return conn->detail;
}

void ap_posix_transport_init(ap_transport_t *transport, ap_posix_conn_t *conn)
{
    if (conn != NULL) {
        conn->fd = -1;
        ahead_discard(conn);
        clear_detail(conn);
    }
    if (transport != NULL) {
        transport->ctx = conn;
        transport->connect = posix_connect;
        transport->send = posix_send;
        transport->recv = posix_recv;
        transport->close = posix_close;
        transport->describe = posix_describe;
    }
}
