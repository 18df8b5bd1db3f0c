/* Entry point: dispatches to a subcommand, batch mode or the curses monitor. */
#include <locale.h>
#include <stdio.h>

#include "stacktop/Batch.h"
#include "stacktop/Cli.h"
#include "stacktop/Commands.h"
#include "stacktop/Monitor.h"
#include "stacktop/Options.h"
#include "stacktop/Util.h"

static int runMonitorOrBatch(int argc, char** argv) {
   Options options;
   char err[256];
   int rc = Options_parse(&options, argc, argv, err, sizeof(err));
   if (rc != 0) {
      Util_error("%s (see 'stacktop --help')", err);
      return rc;
   }
   if (options.action == OPTIONS_HELP) {
      Cli_printHelp(Options_command(), stdout);
      return STACKTOP_EXIT_OK;
   }
   if (options.action == OPTIONS_VERSION) {
#ifdef STACKTOP_TEST_HOOKS
      printf("stacktop %s (test build: STACKTOP_TEST_HOLD_MS)\n", STACKTOP_VERSION);
#else
      printf("stacktop %s\n", STACKTOP_VERSION);
#endif
      return STACKTOP_EXIT_OK;
   }
   return options.batch ? Batch_run(&options) : Monitor_run(&options);
}

int main(int argc, char** argv) {
   /* First of all: libproc2 decides once, on its first read, whether names
    * are UTF-8 (else every non-ASCII byte of a name becomes '?'), and curses
    * needs the locale to draw wide characters. Numbers stay in the C locale:
    * batch output, JSON and the rc file use a decimal point. */
   setlocale(LC_ALL, "");
   setlocale(LC_NUMERIC, "C");
   const Command* sub = argc > 1 ? Commands_find(argv[1]) : NULL;
   if (sub)
      return sub->main(argc - 1, argv + 1);
   return runMonitorOrBatch(argc, argv);
}
