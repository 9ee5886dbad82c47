/*
 * The spool directory for the CLI: opening it with words for every way it
 * can fail, and --spool-list, which shows both parts without sending.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertpost/ap_queue.h"
#include "cli.h"

int cli_spool_open(const cli_options_t *o, ap_posix_spool_t *spool, ap_store_t *store)
{
    ap_posix_spool_config_t cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.path = o->spool;
    cfg.create = 1; /* curl-like: --spool DIR makes DIR (mode 0700) when it is missing */
    cfg.max_bytes = o->spool_max_bytes;
    if (ap_posix_spool_open(spool, &cfg) != AP_OK) {
        cli_error(o, "cannot use the spool: %s", ap_posix_spool_error(spool));
        ap_posix_spool_close(spool);
        return CLI_EXIT_USAGE;
    }
    ap_posix_spool_store(store, spool);
    return CLI_CONTINUE;
}

/* One record in a line: its file, its key, its type and the start of its body. */
static void list_record(const ap_store_t *store, ap_posix_spool_t *spool, ap_store_part_t part,
                        size_t index, uint8_t *buf, size_t size)
{
    ap_posix_spool_entry_t e;
    ap_queue_record_t rec;
    size_t len = 0;
    char preview[61];
    size_t n;
    bool cut;

    if (ap_posix_spool_entry(spool, part, index, &e) != AP_OK) {
        return;
    }
    if (!e.intact || store->read(store->ctx, part, index, buf, size, &len) != AP_OK ||
        ap_queue_record_decode(buf, len, &rec) != AP_OK) {
        printf("%s %s  %llu bytes  CORRUPT (it is set aside when the spool is next flushed)\n",
               part == AP_STORE_LIVE ? "waiting" : "dead   ", e.name,
               (unsigned long long)e.file_len);
        return;
    }
    cut = rec.body_len > sizeof(preview) - 1;
    n = cut ? sizeof(preview) - 1 : rec.body_len;
    memcpy(preview, rec.body != NULL ? (const char *)rec.body : "", n);
    preview[n] = '\0';
    printf("%s %s  key %s  %s  %zu bytes: %s%s\n", part == AP_STORE_LIVE ? "waiting" : "dead   ",
           e.name, rec.key, rec.content_type != NULL ? rec.content_type : "application/json",
           rec.body_len, cli_escaped(preview), cut ? "..." : "");
}

int cli_spool_list(const cli_options_t *o)
{
    static const ap_store_part_t parts[] = {AP_STORE_LIVE, AP_STORE_DEAD};
    ap_posix_spool_t spool;
    ap_store_t store;
    size_t counts[2] = {0, 0};
    size_t p;
    size_t size = (size_t)CLI_MAX_BODY + 65536u;
    uint8_t *buf;
    int rc = cli_spool_open(o, &spool, &store);

    if (rc != CLI_CONTINUE) {
        return rc;
    }
    buf = malloc(size);
    for (p = 0; p < 2 && buf != NULL; p++) {
        size_t i;

        if (store.count(store.ctx, parts[p], &counts[p]) != AP_OK) {
            cli_error(o, "cannot list the spool: %s", ap_posix_spool_error(&spool));
            rc = CLI_EXIT_USAGE;
            break;
        }
        for (i = 0; i < counts[p]; i++) {
            list_record(&store, &spool, parts[p], i, buf, size);
        }
    }
    if (buf == NULL) {
        cli_error(o, "out of memory");
        rc = CLI_EXIT_USAGE;
    } else if (rc == CLI_CONTINUE) {
        printf("%s: %zu waiting, %zu dead-lettered\n", cli_escaped(o->spool), counts[0],
               counts[1]);
        rc = CLI_EXIT_DELIVERED;
    }
    free(buf);
    ap_posix_spool_close(&spool);
    return rc;
}
