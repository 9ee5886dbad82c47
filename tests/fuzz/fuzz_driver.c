/*
 * A main() for the fuzz targets where libFuzzer is not available (GCC, or a
 * quick ctest run): it replays inputs and then runs a bounded, deterministic
 * mutation loop over them. It is no substitute for coverage-guided fuzzing,
 * but it runs every target on every build.
 *
 *   fuzz_X_driver [-n ITERATIONS] [FILE_OR_DIR...]
 *
 * Each file, and each regular file in each directory (in name order, so a
 * run is the same on every machine), is run once and kept as a seed. Then
 * ITERATIONS mutated inputs are run: 20000 by default when no path is given,
 * none by default otherwise. The generator is seeded with a constant, so a
 * failing iteration can be reproduced by running the same command again.
 */
/* The feature-test macro that exposes opendir() and stat() under -std=c99. */
#define _POSIX_C_SOURCE 200809L /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define AP_FUZZ_MAX_SEEDS 512
#define AP_FUZZ_MAX_INPUT 4096
#define AP_FUZZ_DEFAULT_ITERATIONS 20000ul

typedef struct ap_fuzz_seed {
    uint8_t *data;
    size_t len;
} ap_fuzz_seed_t;

static ap_fuzz_seed_t ap_fuzz_seeds[AP_FUZZ_MAX_SEEDS];
static size_t ap_fuzz_seed_count;
static uint64_t ap_fuzz_rng = 0x9E3779B97F4A7C15ull;

/* Tokens that matter to the parsers: mutations splice them in so that the
 * loop reaches past the first syntax check more often than random bytes do. */
static const char *const ap_fuzz_dict[] = {
    "\r\n", "\r", "\n", "\r\n\r\n", ":", " ", "\t", ",", ";", "0", "1", "9", "f",
    "HTTP/1.1 ", "HTTP/1.0 ", "200 OK", "100 Continue\r\n\r\n", "101", "204", "304",
    "Content-Length: ", "Transfer-Encoding: chunked", "Connection: close",
    "Connection: keep-alive", "chunked", "ffffffffffffffff", "18446744073709551616",
    "https://", "http://", "[", "]", "::", "@", "%", "#", "?", "/", ".", "-",
    "127.0.0.1", "::ffff:1.2.3.4", ":443", ":65536",
};

static uint64_t ap_fuzz_next(void)
{
    /* xorshift64*: small, fast and the same everywhere. */
    ap_fuzz_rng ^= ap_fuzz_rng >> 12;
    ap_fuzz_rng ^= ap_fuzz_rng << 25;
    ap_fuzz_rng ^= ap_fuzz_rng >> 27;
    return ap_fuzz_rng * 0x2545F4914F6CDD1Dull;
}

static size_t ap_fuzz_below(size_t n)
{
    return n == 0 ? 0 : (size_t)(ap_fuzz_next() % n);
}

/* Runs one input from an exactly sized heap copy, so an over-read shows. */
static void ap_fuzz_run(const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);

    if (copy == NULL) {
        (void)fprintf(stderr, "out of memory\n");
        exit(2);
    }
    if (len > 0) {
        memcpy(copy, data, len);
    }
    (void)LLVMFuzzerTestOneInput(copy, len);
    free(copy);
}

static int ap_fuzz_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    size_t len;

    if (f == NULL) {
        (void)fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    buf = malloc(AP_FUZZ_MAX_INPUT);
    if (buf == NULL) {
        (void)fclose(f);
        return -1;
    }
    len = fread(buf, 1, AP_FUZZ_MAX_INPUT, f);
    (void)fclose(f);
    ap_fuzz_run(buf, len);
    if (ap_fuzz_seed_count < AP_FUZZ_MAX_SEEDS) {
        ap_fuzz_seeds[ap_fuzz_seed_count].data = buf;
        ap_fuzz_seeds[ap_fuzz_seed_count].len = len;
        ap_fuzz_seed_count++;
    } else {
        free(buf);
    }
    return 0;
}

static int ap_fuzz_cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int ap_fuzz_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t count = 0;
    size_t cap = 0;
    size_t i;
    int rc = 0;

    if (d == NULL) {
        (void)fprintf(stderr, "cannot open directory %s\n", dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(dir) + strlen(e->d_name) + 2;
        char *path;
        struct stat st;

        if (e->d_name[0] == '.') {
            continue;
        }
        path = malloc(n);
        if (path == NULL) {
            rc = -1;
            break;
        }
        (void)snprintf(path, n, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        if (count == cap) {
            char **grown;
            cap = cap == 0 ? 32 : cap * 2;
            grown = realloc(names, cap * sizeof(*names));
            if (grown == NULL) {
                free(path);
                rc = -1;
                break;
            }
            names = grown;
        }
        names[count++] = path;
    }
    closedir(d);
    if (count > 0) {
        qsort(names, count, sizeof(*names), ap_fuzz_cmp_names);
    }
    for (i = 0; i < count; i++) {
        if (rc == 0 && ap_fuzz_file(names[i]) != 0) {
            rc = -1;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

static size_t ap_fuzz_insert(uint8_t *buf, size_t len, size_t at, const void *src, size_t n)
{
    if (len + n > AP_FUZZ_MAX_INPUT) {
        return len;
    }
    memmove(buf + at + n, buf + at, len - at);
    memcpy(buf + at, src, n);
    return len + n;
}

static size_t ap_fuzz_mutate(uint8_t *buf, size_t len)
{
    size_t rounds = 1 + ap_fuzz_below(8);

    while (rounds-- > 0) {
        size_t at = ap_fuzz_below(len + 1);

        switch (ap_fuzz_below(7)) {
        case 0: /* flip a bit */
            if (len > 0) {
                buf[ap_fuzz_below(len)] ^= (uint8_t)(1u << ap_fuzz_below(8));
            }
            break;
        case 1: { /* a random byte */
            uint8_t b = (uint8_t)ap_fuzz_next();
            if (len > 0 && (ap_fuzz_next() & 1u)) {
                buf[ap_fuzz_below(len)] = b;
            } else {
                len = ap_fuzz_insert(buf, len, at, &b, 1);
            }
            break;
        }
        case 2: /* delete a range */
            if (at < len) {
                size_t n = 1 + ap_fuzz_below(len - at);
                memmove(buf + at, buf + at + n, len - at - n);
                len -= n;
            }
            break;
        case 3: { /* a dictionary token */
            const char *t = ap_fuzz_dict[ap_fuzz_below(sizeof(ap_fuzz_dict) / sizeof(ap_fuzz_dict[0]))];
            len = ap_fuzz_insert(buf, len, at, t, strlen(t));
            break;
        }
        case 4: { /* duplicate a range */
            if (len > 0) {
                size_t from = ap_fuzz_below(len);
                size_t n = 1 + ap_fuzz_below(len - from);
                uint8_t tmp[AP_FUZZ_MAX_INPUT];
                memcpy(tmp, buf + from, n);
                len = ap_fuzz_insert(buf, len, at, tmp, n);
            }
            break;
        }
        case 5: { /* splice in part of another seed */
            if (ap_fuzz_seed_count > 0) {
                const ap_fuzz_seed_t *s = &ap_fuzz_seeds[ap_fuzz_below(ap_fuzz_seed_count)];
                if (s->len > 0) {
                    size_t from = ap_fuzz_below(s->len);
                    size_t n = 1 + ap_fuzz_below(s->len - from);
                    len = ap_fuzz_insert(buf, len, at, s->data + from, n);
                }
            }
            break;
        }
        default: /* truncate */
            len = at;
            break;
        }
    }
    return len;
}

int main(int argc, char **argv)
{
    static uint8_t buf[AP_FUZZ_MAX_INPUT];
    unsigned long iterations = 0;
    unsigned long i;
    bool any_path = false;
    int a;

    for (a = 1; a < argc; a++) {
        struct stat st;

        if (strcmp(argv[a], "-n") == 0 && a + 1 < argc) {
            iterations = strtoul(argv[++a], NULL, 10);
            continue;
        }
        any_path = true;
        if (stat(argv[a], &st) != 0) {
            (void)fprintf(stderr, "no such file or directory: %s\n", argv[a]);
            return 2;
        }
        if ((S_ISDIR(st.st_mode) ? ap_fuzz_dir(argv[a]) : ap_fuzz_file(argv[a])) != 0) {
            return 2;
        }
    }
    if (!any_path && iterations == 0) {
        iterations = AP_FUZZ_DEFAULT_ITERATIONS;
    }

    for (i = 0; i < iterations; i++) {
        size_t len = 0;

        if (ap_fuzz_seed_count > 0 && ap_fuzz_below(8) != 0) {
            const ap_fuzz_seed_t *s = &ap_fuzz_seeds[ap_fuzz_below(ap_fuzz_seed_count)];
            memcpy(buf, s->data, s->len);
            len = s->len;
        }
        len = ap_fuzz_mutate(buf, len);
        ap_fuzz_run(buf, len);
    }
    (void)printf("%zu seed inputs, %lu mutated inputs: no failure\n", ap_fuzz_seed_count, iterations);
    for (i = 0; i < ap_fuzz_seed_count; i++) {
        free(ap_fuzz_seeds[i].data);
    }
    return 0;
}
