/*
 * alertpost: the Linux host command line. Posts alerts with the portable
 * core over the POSIX port. This file is the table of contents: check every
 * argument, then post.
 */
#include "cli.h"

int main(int argc, char **argv)
{
    cli_options_t options;
    int rc = cli_parse(argc, argv, &options);

    if (rc == CLI_CONTINUE) {
        rc = options.spool_list    ? cli_spool_list(&options)
             : options.check_chain ? cli_check_chain(&options)
                                   : cli_run(&options);
    }
    cli_options_free(&options);
    return rc;
}
