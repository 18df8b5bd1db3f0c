/* Command-line options of the monitor and batch mode: one Cli table row per
 * option (names, value, help, handler). */
#include "stacktop/Options.h"

#include <errno.h>
#include <math.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Cli.h"
#include "stacktop/Util.h"

#define DEFAULT_DELAY_S 1.5
/* A day: longer delays are almost surely a typo (e.g. milliseconds). */
#define MAX_DELAY_S 86400.0

static int onDelay(void* target, const char* arg, char* err, size_t errSize) {
   Options* this = target;
   char* end;
   errno = 0;
   double v = strtod(arg, &end);
   if (errno || end == arg || *end || !isfinite(v) || v <= 0 || v > MAX_DELAY_S) {
      Util_format(err, errSize, "invalid delay '%s' for -d: expected seconds > 0 and <= %.0f, e.g. 1.5", arg,
                  MAX_DELAY_S);
      return -1;
   }
   this->delayS = v;
   this->delaySet = true;
   return 0;
}

static int onSort(void* target, const char* arg, char* err, size_t errSize) {
   Options* this = target;
   int id = Column_byName(arg);
   if (id < 0) {
      Util_format(err, errSize, "unknown column '%s' for -s: expected one of %s", arg, Column_names());
      return -1;
   }
   this->sortColumn = (ColumnId)id;
   this->sortSet = true;
   return 0;
}

static int addPid(Options* this, const char* item, const char* whole, char* err, size_t errSize) {
   pid_t pid;
   if (Util_parsePid(item, &pid) != 0) {
      Util_format(err, errSize, "invalid pid '%s' in -p '%s': expected PID[,PID...] of numbers >= 1", item, whole);
      return -1;
   }
   if (this->pidCount >= OPTIONS_MAX_PIDS) {
      Util_format(err, errSize, "too many pids for -p: at most %d", OPTIONS_MAX_PIDS);
      return -1;
   }
   this->pids[this->pidCount++] = pid;
   return 0;
}

static int onPids(void* target, const char* arg, char* err, size_t errSize) {
   Options* this = target;
   /* strsep on a copy: empty items ("1,,2", "1,") are errors, not skipped. */
   char* copy = Util_xstrdup(arg);
   char* rest = copy;
   int rc = 0;
   for (char* item; rc == 0 && (item = strsep(&rest, ",")) != NULL;)
      rc = addPid(this, item, arg, err, errSize);
   free(copy);
   return rc;
}

static int onUser(void* target, const char* arg, char* err, size_t errSize) {
   Options* this = target;
   if (strlen(arg) >= sizeof(this->userName)) {
      Util_format(err, errSize, "user name '%.32s...' for -u is too long", arg);
      return -1;
   }
   struct passwd pw, *found = NULL;
   char buf[4096];
   if (getpwnam_r(arg, &pw, buf, sizeof(buf), &found) == 0 && found) {
      this->uid = found->pw_uid;
   } else {
      /* A numeric uid need not have a passwd entry (containers, removed users). */
      char* end;
      errno = 0;
      unsigned long v = strtoul(arg, &end, 10);
      if (errno || end == arg || *end || arg[0] == '-' || v >= (unsigned long)(uid_t)-1) {
         Util_format(err, errSize,
                     "unknown user '%s' for -u: expected a user name from the passwd database or a numeric uid", arg);
         return -1;
      }
      this->uid = (uid_t)v;
   }
   this->filterUser = true;
   Util_format(this->userName, sizeof(this->userName), "%s", arg);
   return 0;
}

static int onTheme(void* target, const char* arg, char* err, size_t errSize) {
   Options* this = target;
   if (!arg[0] || strlen(arg) >= sizeof(this->theme)) {
      Util_format(err, errSize, "invalid theme name '%s' for --theme: expected 1 to %zu characters", arg,
                  sizeof(this->theme) - 1);
      return -1;
   }
   Util_format(this->theme, sizeof(this->theme), "%s", arg);
   return 0;
}

static int onIterations(void* target, const char* arg, char* err, size_t errSize) {
   Options* this = target;
   char* end;
   errno = 0;
   long v = strtol(arg, &end, 10);
   if (errno || end == arg || *end || v < 1) {
      Util_format(err, errSize, "invalid count '%s' for -n: expected a whole number >= 1", arg);
      return -1;
   }
   this->iterations = v;
   return 0;
}

/* Output formats by name, for --format and its message. */
static const struct {
   const char* name;
   OutputFormat format;
} formats[] = {
   { .name = "text", .format = OUTPUT_TEXT },
   { .name = "json", .format = OUTPUT_JSON },
};

static int onFormat(void* target, const char* arg, char* err, size_t errSize) {
   Options* this = target;
   for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
      if (strcmp(arg, formats[i].name) == 0) {
         this->format = formats[i].format;
         return 0;
      }
   }
   Util_format(err, errSize, "unknown format '%s' for --format: expected text or json", arg);
   return -1;
}

static int onBatch(void* target, const char* arg, char* err, size_t errSize) {
   Options* this = target;
   (void)arg, (void)err, (void)errSize;
   this->batch = true;
   return 0;
}

static int onThreads(void* target, const char* arg, char* err, size_t errSize) {
   Options* this = target;
   (void)arg, (void)err, (void)errSize;
   this->threads = true;
   return 0;
}

static int onHelp(void* target, const char* arg, char* err, size_t errSize) {
   Options* this = target;
   (void)arg, (void)err, (void)errSize;
   this->action = OPTIONS_HELP;
   return 0;
}

static int onVersion(void* target, const char* arg, char* err, size_t errSize) {
   Options* this = target;
   (void)arg, (void)err, (void)errSize;
   this->action = OPTIONS_VERSION;
   return 0;
}

static const char* formatNames(void) {
   return "text, json";
}

static const CliOption options[] = {
   { .longName = "delay",
     .shortName = 'd',
     .valueName = "SECONDS",
     .help = "refresh delay (default 1.5; this run only: d changes it live)",
     .handle = onDelay },
   { .longName = "sort",
     .shortName = 's',
     .valueName = "COLUMN",
     .help = "sort column (default res):",
     .helpDetail = Column_names,
     .handle = onSort },
   { .longName = "pid",
     .shortName = 'p',
     .valueName = "PID[,PID...]",
     .help = "only these processes",
     .handle = onPids },
   { .longName = "user",
     .shortName = 'u',
     .valueName = "USER",
     .help = "only processes of this user (name or uid)",
     .handle = onUser },
   { .longName = "theme",
     .valueName = "NAME",
     .help = "colour theme (default, light, high-contrast, ...)",
     .handle = onTheme },
   { .longName = "batch", .shortName = 'b', .help = "batch mode: no curses, refreshes printed", .handle = onBatch },
   { .longName = "iterations",
     .shortName = 'n',
     .valueName = "N",
     .help = "batch: print N refreshes, then exit (default: until Ctrl-C)",
     .handle = onIterations },
   { .longName = "threads", .help = "batch: also list each process's threads", .handle = onThreads },
   { .longName = "format",
     .valueName = "FMT",
     .help = "batch: top-like text (default) or one JSON object per line:",
     .helpDetail = formatNames,
     .handle = onFormat },
   { .longName = "help", .shortName = 'h', .help = "this help", .handle = onHelp },
   { .longName = "version", .help = "the version", .handle = onVersion },
};

static const CliCommand command = {
   .name = "",
   .synopsis = "[options]              interactive process monitor\n"
               "       stacktop -b [options]           batch mode: refreshes printed to stdout\n"
               "       stacktop dump PID [options]     grouped thread stacks of a process\n"
               "       stacktop watch -c FILE          watch services, collect diagnostic bundles",
   .summary = "Subcommands have their own --help.",
   .options = options,
   .optionCount = sizeof(options) / sizeof(options[0]),
   .footer = "Exit status: 0 success, 1 runtime failure, 2 bad command line.",
   .manPage = "doc/stacktop.1",
};

const CliCommand* Options_command(void) {
   return &command;
}

static void setDefaults(Options* this) {
   memset(this, 0, sizeof(*this));
   this->action = OPTIONS_RUN;
   this->delayS = DEFAULT_DELAY_S;
   this->sortColumn = COL_RES;
   this->format = OUTPUT_TEXT;
}

int Options_parse(Options* this, int argc, char** argv, char* err, size_t errSize) {
   setDefaults(this);
   int operand;
   int rc = Cli_parse(&command, this, argc, argv, &operand, err, errSize);
   if (rc != 0)
      return rc;
   if (operand < argc) {
      Util_format(err, errSize, "unexpected argument '%s' (subcommands: dump, watch)", argv[operand]);
      return STACKTOP_EXIT_USAGE;
   }
   return 0;
}
