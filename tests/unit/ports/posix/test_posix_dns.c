/*
 * Name resolution is bounded by the connect timeout, even when the resolver
 * never answers.
 *
 * The test re-runs itself in fresh user, mount and network namespaces
 * (unshare -rmn): there it brings up loopback, points /etc/resolv.conf (bind
 * mounted, visible to this process only) at a UDP socket on 127.0.0.1:53 that
 * swallows queries, and asks the POSIX transport to connect to a name. The
 * resolver itself would wait 5 s per try, twice; the transport must give up
 * at its own deadline. Nothing leaves the namespace: it has only loopback.
 * Where namespaces are not available it exits 77 (skipped).
 */
#define _GNU_SOURCE

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "alertpost/ap_posix.h"

#define SKIP_CODE 77
#define IN_NS_ENV "AP_TEST_DNS_IN_NAMESPACE"

static int g_blackhole = -1;

static uint64_t now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int loopback_up(void)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int rc;

    if (fd < 0) {
        return -1;
    }
    memset(&ifr, 0, sizeof ifr);
    (void)snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
    if (rc == 0) {
        ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
        rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    (void)close(fd);
    return rc;
}

static int silent_resolver(void)
{
    static const char conf[] = "nameserver 127.0.0.1\noptions timeout:5 attempts:2\n";
    char path[] = "/tmp/ap-resolv-XXXXXX";
    struct sockaddr_in sa;
    int fd = mkstemp(path);

    if (fd < 0 || write(fd, conf, sizeof conf - 1) != (ssize_t)(sizeof conf - 1)) {
        return -1;
    }
    (void)close(fd);
    if (mount(path, "/etc/resolv.conf", NULL, MS_BIND, NULL) != 0) {
        (void)unlink(path);
        return -1;
    }
    (void)unlink(path); /* the mount keeps the file alive */

    g_blackhole = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(53);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (g_blackhole < 0 || bind(g_blackhole, (struct sockaddr *)&sa, sizeof sa) != 0) {
        return -1;
    }
    return 0;
}

static void test_lookup_that_never_answers_ends_at_the_deadline(void **state)
{
    ap_posix_conn_t conn;
    ap_transport_t t;
    uint64_t t0;
    uint64_t elapsed;
    char query[512];

    (void)state;
    ap_posix_transport_init(&t, &conn);
    t0 = now_ms();
    assert_int_equal(t.connect(t.ctx, "alerts.silent.example", 443, 700), AP_ERR_TIMEOUT);
    elapsed = now_ms() - t0;
    assert_true(elapsed >= 700u);
    /* The resolver alone would wait 5 s before its first retry. */
    assert_true(elapsed < 4000u);
    assert_non_null(strstr(t.describe(t.ctx), "resolving host 'alerts.silent.example'"));
    assert_int_equal(conn.fd, -1);
    /* The lookup really went to the (silent) resolver. */
    assert_true(recv(g_blackhole, query, sizeof query, 0) > 12);
}

static void test_address_literals_need_no_lookup(void **state)
{
    ap_posix_conn_t conn;
    ap_transport_t t;
    uint64_t t0;

    (void)state;
    ap_posix_transport_init(&t, &conn);
    t0 = now_ms();
    /* Nothing listens on port 9 here: refused at once, with no DNS wait. */
    assert_int_equal(t.connect(t.ctx, "127.0.0.1", 9, 3000), AP_ERR_CONNECT);
    assert_true(now_ms() - t0 < 1000u);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_that_never_answers_ends_at_the_deadline),
        cmocka_unit_test(test_address_literals_need_no_lookup),
    };

    (void)argc;
    if (getenv(IN_NS_ENV) == NULL) {
        char *unshare_argv[] = {"unshare", "-rmn", argv[0], NULL};

        /* unshare(1) itself fails where namespaces are not allowed (inside a
         * chroot, say): probe first, so that is a skip, not a failure. */
        if (system("unshare -rmn true >/dev/null 2>&1") != 0) {
            fprintf(stderr, "test_posix_dns: no user/mount/network namespaces: skipped\n");
            return SKIP_CODE;
        }
        if (setenv(IN_NS_ENV, "1", 1) != 0) {
            return SKIP_CODE;
        }
        execvp("unshare", unshare_argv);
        fprintf(stderr, "test_posix_dns: no unshare(1): skipped\n");
        return SKIP_CODE;
    }
    if (loopback_up() != 0 || silent_resolver() != 0) {
        fprintf(stderr, "test_posix_dns: cannot set up the namespace (%s): skipped\n",
                strerror(errno));
        return SKIP_CODE;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
