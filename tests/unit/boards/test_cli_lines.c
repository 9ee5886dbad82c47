/*
 * The --lines reader (boards/host/cli_lines.c) on stdin replaced by a file
 * or a pipe: the lines and their numbers, line ends, a line longer than the
 * reader's block, lines cut by block edges, and cli_line_ready, which must
 * say "ready" only when the next non-empty line is whole in the buffer (the
 * pipeline then skips its poll and holds the gathered alerts back).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* stdin becomes a file holding exactly these bytes. */
static void stdin_from(const char *bytes, size_t len)
{
    FILE *f = tmpfile();

    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fflush(f), 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    assert_int_equal(dup2(fileno(f), STDIN_FILENO), STDIN_FILENO);
    assert_int_equal(fclose(f), 0);
}

/* stdin becomes a pipe's read end; the write end is returned. */
static int stdin_from_pipe(void)
{
    int fds[2];

    assert_int_equal(pipe(fds), 0);
    assert_int_equal(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
    assert_int_equal(close(fds[0]), 0);
    return fds[1];
}

static void next_is(cli_lines_t *in, const char *want, unsigned long number)
{
    assert_true(cli_next_line(in));
    assert_int_equal(in->len, strlen(want));
    assert_memory_equal(in->line, want, in->len);
    assert_int_equal(in->line[in->len], '\0');
    assert_int_equal(in->number, number);
}

static void test_numbers_and_line_ends(void **state)
{
    static const char text[] = "one\r\n\n\r\ntwo\n\r\r\nthree\r";
    cli_lines_t in = {0};

    (void)state;
    stdin_from(text, sizeof(text) - 1);
    next_is(&in, "one", 1);
    next_is(&in, "two", 4);
    next_is(&in, "three", 6); /* the last line, without its '\n' */
    assert_false(cli_next_line(&in));
    assert_false(cli_next_line(&in));
    assert_int_equal(in.number, 6);
    cli_lines_free(&in);
}

static void test_empty_input(void **state)
{
    cli_lines_t in = {0};

    (void)state;
    stdin_from("", 0);
    assert_false(cli_next_line(&in));
    assert_int_equal(in.number, 0);
    assert_true(cli_line_ready(&in)); /* at the end: nothing to wait for */
    cli_lines_free(&in);
}

/* A line of 300,000 bytes with a NUL inside, then a short one. */
static void test_long_line(void **state)
{
    const size_t n = 300000;
    char *text = malloc(n + 8);
    cli_lines_t in = {0};
    size_t i;

    (void)state;
    assert_non_null(text);
    for (i = 0; i < n; i++) {
        text[i] = (char)('a' + i % 26);
    }
    text[1000] = '\0';
    memcpy(text + n, "\nshort\n", 7);
    stdin_from(text, n + 7);
    assert_true(cli_next_line(&in));
    assert_int_equal(in.len, n);
    assert_memory_equal(in.line, text, n);
    assert_int_equal(in.number, 1);
    next_is(&in, "short", 2);
    assert_false(cli_next_line(&in));
    cli_lines_free(&in);
    free(text);
}

/* 30,000 lines: several blocks, lines cut at their edges. */
static void test_lines_across_blocks(void **state)
{
    const unsigned long count = 30000;
    size_t size = count * 24;
    char *text = malloc(size);
    cli_lines_t in = {0};
    size_t len = 0;
    unsigned long i;
    char want[32];

    (void)state;
    assert_non_null(text);
    for (i = 1; i <= count; i++) {
        len += (size_t)snprintf(text + len, size - len, "alert %lu%s\n", i,
                                i % 7 == 0 ? "\r" : "");
    }
    stdin_from(text, len);
    for (i = 1; i <= count; i++) {
        (void)snprintf(want, sizeof(want), "alert %lu", i);
        next_is(&in, want, i);
    }
    assert_false(cli_next_line(&in));
    cli_lines_free(&in);
    free(text);
}

static void put(int fd, const char *s)
{
    assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void test_ready_only_with_a_whole_line(void **state)
{
    cli_lines_t in = {0};
    int fd = stdin_from_pipe();

    (void)state;
    assert_false(cli_line_ready(&in)); /* nothing read yet */
    put(fd, "a\n\r\nb");
    next_is(&in, "a", 1);
    assert_false(cli_line_ready(&in)); /* an empty line, then half a line */
    put(fd, "\nc\n\n\r\nd\n");
    assert_false(cli_line_ready(&in)); /* written, but not read yet */
    next_is(&in, "b", 3);
    assert_true(cli_line_ready(&in)); /* "c\n" came with it */
    next_is(&in, "c", 4);
    assert_true(cli_line_ready(&in)); /* "d\n", past two empty lines */
    next_is(&in, "d", 7);
    assert_false(cli_line_ready(&in));
    assert_int_equal(close(fd), 0);
    assert_false(cli_line_ready(&in)); /* the end is not known until read */
    assert_false(cli_next_line(&in));
    assert_true(cli_line_ready(&in));
    cli_lines_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers_and_line_ends),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_lines_across_blocks),
        cmocka_unit_test(test_ready_only_with_a_whole_line),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
