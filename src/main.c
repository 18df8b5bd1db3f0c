/* Entry point: dispatches to a subcommand, batch mode or the curses monitor. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "stacktop/Batch.h"
#include "stacktop/Dump.h"
#include "stacktop/Monitor.h"
#include "stacktop/Options.h"
#include "stacktop/Util.h"
#include "stacktop/Watch.h"

typedef struct Subcommand_ {
   const char* name;
   int (*main)(int argc, char** argv);
} Subcommand;

static const Subcommand subcommands[] = {
   { .name = "dump", .main = Dump_main },
   { .name = "watch", .main = Watch_main },
};

static int runMonitorOrBatch(int argc, char** argv) {
   Options options;
   char err[256];
   int rc = Options_parse(&options, argc, argv, err, sizeof(err));
   if (rc != 0) {
      Util_error("%s (see 'stacktop --help')", err);
      return rc;
   }
   if (options.action == OPTIONS_HELP) {
      fputs(Options_usage(), stdout);
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
   if (argc > 1) {
      for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
         if (strcmp(argv[1], subcommands[i].name) == 0)
            return subcommands[i].main(argc - 1, argv + 1);
      }
   }
   return runMonitorOrBatch(argc, argv);
}
