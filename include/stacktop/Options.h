#ifndef STACKTOP_OPTIONS_H
#define STACKTOP_OPTIONS_H
/* Command-line options of the monitor and batch mode (`stacktop [options]`).
 * Subcommands (`dump`, `watch`) parse their own. Parsing is pure: no I/O
 * besides looking up a user name, so it is unit-tested directly. */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "stacktop/Column.h"

typedef enum OutputFormat_ {
   OUTPUT_TEXT,
   OUTPUT_JSON,
} OutputFormat;

typedef enum OptionsAction_ {
   OPTIONS_RUN,     /* run the monitor or batch mode */
   OPTIONS_HELP,    /* --help was given: print the help (Cli_printHelp) and exit 0 */
   OPTIONS_VERSION, /* --version */
} OptionsAction;

#define OPTIONS_MAX_PIDS 1024

typedef struct Options_ {
   OptionsAction action;
   double delayS;       /* -d, default 1.5 */
   bool delaySet;       /* -d given (overrides the rc file) */
   ColumnId sortColumn; /* -s, default res */
   bool sortSet;
   pid_t pids[OPTIONS_MAX_PIDS];
   size_t pidCount; /* -p */
   bool filterUser; /* -u */
   uid_t uid;
   char userName[64];
   char theme[64];      /* --theme, "" = from rc file / default */
   bool batch;          /* -b */
   long iterations;     /* -n, 0 = until interrupted */
   bool threads;        /* --threads (batch) */
   OutputFormat format; /* --format */
} Options;

/* Fills defaults, then parses argv. Returns 0, or STACKTOP_EXIT_USAGE with a
 * one-line message (without "stacktop: " prefix) in err. */
int Options_parse(Options* this, int argc, char** argv, char* err, size_t errSize);
struct CliCommand_;
/* The option table (for --help and the man-page check). */
const struct CliCommand_* Options_command(void);

#endif
