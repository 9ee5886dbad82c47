/*
 * Output: the response body goes to stdout (or -o FILE) whole, streamed and
 * unchanged, with no size limit and nothing added. A reader that goes away
 * (a closed pipe) costs the rest of the output, never the delivery's exit
 * status: SIGPIPE is ignored, and one line says what was lost.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_output_open(cli_output_t *out, const cli_options_t *o)
{
    memset(out, 0, sizeof(*out));
    (void)signal(SIGPIPE, SIG_IGN);
    out->file = stdout;
    if (o->output != NULL && strcmp(o->output, "-") != 0) {
        out->file = fopen(o->output, "wb");
        if (out->file == NULL) {
            cli_usage_error("cannot write the response body to %s: %s", cli_escaped(o->output),
                            strerror(errno));
            return CLI_EXIT_USAGE;
        }
    }
    return CLI_CONTINUE;
}

void cli_output_body(void *ctx, const uint8_t *data, size_t len)
{
    cli_output_t *out = ctx;

    if (out->broken || len == 0) {
        return;
    }
    if (fwrite(data, 1, len, (FILE *)out->file) != len || fflush((FILE *)out->file) != 0) {
        out->broken = true;
        out->error = errno;
        return;
    }
    out->written += len;
}

void cli_output_close(cli_output_t *out, const cli_options_t *o)
{
    FILE *f = out->file;

    if (f == NULL) {
        return;
    }
    if (fflush(f) != 0 && !out->broken) {
        out->broken = true;
        out->error = errno;
    }
    if (f != stdout && fclose(f) != 0 && !out->broken) {
        out->broken = true;
        out->error = errno;
    }
    if (out->broken) {
        cli_error(o, "the response body could not be written in full to %s (%s) after %llu "
                     "bytes; the exit status is the delivery's",
                  o->output != NULL ? cli_escaped(o->output) : "stdout",
                  out->error == EPIPE ? "the reader closed the pipe" : strerror(out->error),
                  (unsigned long long)out->written);
    }
    out->file = NULL;
}

static void write_var(const char *name, size_t len, const cli_options_t *o,
                      const ap_client_t *c, const ap_response_t *resp, size_t upload,
                      int exit_code)
{
    const ap_client_info_t *i = ap_client_info(c);

#define AP_VAR(n) (len == sizeof(n) - 1 && memcmp(name, n, len) == 0)
    if (AP_VAR("http_code") || AP_VAR("response_code")) {
        printf("%03d", resp->status_code);
    } else if (AP_VAR("exitcode")) {
        printf("%d", exit_code);
    } else if (AP_VAR("errormsg")) {
        fputs(exit_code == 0 ? "" : ap_client_error(c), stdout);
    } else if (AP_VAR("time_connect")) {
        printf("%.6f", i->connect_ms / 1000.0);
    } else if (AP_VAR("time_appconnect")) {
        printf("%.6f", (i->connect_ms + i->handshake_ms) / 1000.0);
    } else if (AP_VAR("time_total")) {
        printf("%.6f", i->total_ms / 1000.0);
    } else if (AP_VAR("size_download")) {
        printf("%llu", (unsigned long long)resp->body_total);
    } else if (AP_VAR("size_upload")) {
        printf("%zu", upload);
    } else if (AP_VAR("num_connects")) {
        printf("%d", (i->tls_version != 0 && !i->reused_connection) ? 1 : 0);
    } else if (AP_VAR("url") || AP_VAR("url_effective")) {
        fputs(o->url, stdout);
    } else if (AP_VAR("tls_version")) {
        fputs(i->tls_version != 0 ? ap_tls_version_str(i->tls_version) : "", stdout);
    } else {
        printf("%%{%.*s}", (int)len, name); /* unknown: kept as written, as curl does */
    }
#undef AP_VAR
}

/* -w FORMAT: %{name}, %% and the escapes \n \r \t \\, as curl reads them. */
void cli_write_out(const cli_options_t *o, const ap_client_t *c, const ap_response_t *resp,
                   size_t upload, int exit_code)
{
    const char *p = o->write_out;

    if (p == NULL) {
        return;
    }
    while (*p != '\0') {
        const char *close;

        if (p[0] == '%' && p[1] == '{' && (close = strchr(p + 2, '}')) != NULL) {
            write_var(p + 2, (size_t)(close - p - 2), o, c, resp, upload, exit_code);
            p = close + 1;
        } else if (p[0] == '%' && p[1] == '%') {
            putchar('%');
            p += 2;
        } else if (p[0] == '\\' && p[1] != '\0' && strchr("nrt\\", p[1]) != NULL) {
            putchar(p[1] == 'n' ? '\n' : p[1] == 'r' ? '\r' : p[1] == 't' ? '\t' : '\\');
            p += 2;
        } else {
            putchar(*p++);
        }
    }
    (void)fflush(stdout);
}
