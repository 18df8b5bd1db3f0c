/* `stacktop dump PID ...`: option parsing, then Dump_take and Dump_write. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Dump.h"
#include "stacktop/Snapshot.h"
#include "stacktop/Util.h"

#define MAX_DEPTH_LIMIT 4096

static const char usage[] = "usage: stacktop dump PID [--format text|folded|json] [-o FILE] [--group-by pc|function]\n"
                            "                         [--max-depth N] [--no-lines] [--timeout SECONDS]\n"
                            "Stops every thread of PID at once, copies their stacks, resumes them, then prints the\n"
                            "threads grouped by identical stack (Go goroutine-profile layout by default).\n"
                            "  -f, --format FMT     text (default), folded (flame graphs) or json\n"
                            "  -o, --output FILE    write to FILE instead of standard output\n"
                            "  -g, --group-by KEY   pc (identical addresses, default) or function (same functions)\n"
                            "  -d, --max-depth N    at most N frames per thread (default 256)\n"
                            "      --no-lines       skip file:line and inlined frames (faster)\n"
                            "  -t, --timeout S      wait at most S seconds for the threads to stop (default 2)\n"
                            "  -h, --help           this help\n";

typedef struct Name_ {
   const char* name;
   int value;
} Name;

static const Name formats[] = {
   { "text", DUMP_FORMAT_TEXT },
   { "folded", DUMP_FORMAT_FOLDED },
   { "json", DUMP_FORMAT_JSON },
};

static const Name groupings[] = {
   { "pc", DUMP_GROUP_PC },
   { "function", DUMP_GROUP_FUNCTION },
};

static int lookupName(const Name* table, size_t n, const char* s, int* out) {
   for (size_t i = 0; i < n; i++) {
      if (strcmp(table[i].name, s) == 0) {
         *out = table[i].value;
         return 0;
      }
   }
   return -1;
}

typedef struct CliArgs_ {
   DumpOptions options;
   DumpFormat format;
   const char* output;
   pid_t pid;
   bool help;
} CliArgs;

enum { OPT_NO_LINES = 256 };

static const struct option longOptions[] = {
   { "format", required_argument, NULL, 'f' },
   { "output", required_argument, NULL, 'o' },
   { "group-by", required_argument, NULL, 'g' },
   { "max-depth", required_argument, NULL, 'd' },
   { "no-lines", no_argument, NULL, OPT_NO_LINES },
   { "timeout", required_argument, NULL, 't' },
   { "help", no_argument, NULL, 'h' },
   { NULL, 0, NULL, 0 },
};

static int usageError(const char* fmt, const char* arg) {
   char msg[256];
   Util_format(msg, sizeof(msg), fmt, arg);
   Util_error("dump: %s (see 'stacktop dump --help')", msg);
   return STACKTOP_EXIT_USAGE;
}

static int parseOption(CliArgs* a, int c, const char* arg) {
   int v;
   char* end;
   switch (c) {
   case 'f':
      if (lookupName(formats, sizeof(formats) / sizeof(formats[0]), arg, &v) < 0)
         return usageError("unknown format '%s': use text, folded or json", arg);
      a->format = (DumpFormat)v;
      return 0;
   case 'g':
      if (lookupName(groupings, sizeof(groupings) / sizeof(groupings[0]), arg, &v) < 0)
         return usageError("unknown --group-by '%s': use pc or function", arg);
      a->options.groupBy = (DumpGroupBy)v;
      return 0;
   case 'o': a->output = arg; return 0;
   case 'd': {
      long depth = strtol(arg, &end, 10);
      if (*arg == '\0' || *end || depth < 1 || depth > MAX_DEPTH_LIMIT)
         return usageError("bad --max-depth '%s': give a whole number from 1 to 4096", arg);
      a->options.maxDepth = (int)depth;
      return 0;
   }
   case 't': {
      double s = strtod(arg, &end);
      if (*arg == '\0' || *end || !(s > 0 && s <= 3600))
         return usageError("bad --timeout '%s': give seconds, more than 0 and at most 3600", arg);
      a->options.timeoutS = s;
      return 0;
   }
   case OPT_NO_LINES: a->options.lines = false; return 0;
   case 'h': a->help = true; return 0;
   default: return usageError("%s", "bad option");
   }
}

static int parseArgs(CliArgs* a, int argc, char** argv) {
   DumpOptions_init(&a->options);
   a->options.detachOnSignal = true;
   optind = 0; /* re-initialise GNU getopt */
   opterr = 0;
   int c;
   while ((c = getopt_long(argc, argv, "f:o:g:d:t:h", longOptions, NULL)) != -1) {
      if (c == '?' || c == ':')
         return usageError("bad or incomplete option '%s'", argv[optind - 1]);
      int rc = parseOption(a, c, optarg);
      if (rc)
         return rc;
   }
   if (a->help)
      return 0;
   if (optind != argc - 1)
      return usageError("%s", optind >= argc ? "missing PID" : "give exactly one PID");
   if (Util_parsePid(argv[optind], &a->pid) < 0)
      return usageError("bad PID '%s': give a process id, e.g. from pgrep", argv[optind]);
   return 0;
}

/* Writes the dump to -o FILE (opened only now: a failed dump leaves an
 * existing file untouched) or standard output. */
static int writeResult(const DumpResult* result, const CliArgs* a) {
   const char* name = a->output ? a->output : "standard output";
   FILE* out = a->output ? fopen(a->output, "w") : stdout;
   if (!out) {
      Util_error("dump: cannot write %s: %s; choose another -o path", name, strerror(errno));
      return STACKTOP_EXIT_FAILURE;
   }
   int rc = Dump_write(result, a->format, out);
   if (out != stdout && fclose(out) != 0)
      rc = -1;
   if (rc < 0) {
      Util_error("dump: cannot write %s: %s", name, strerror(errno));
      return STACKTOP_EXIT_FAILURE;
   }
   return STACKTOP_EXIT_OK;
}

int Dump_main(int argc, char** argv) {
   CliArgs a = { .format = DUMP_FORMAT_TEXT };
   int rc = parseArgs(&a, argc, argv);
   if (rc)
      return rc;
   if (a.help) {
      fputs(usage, stdout);
      return STACKTOP_EXIT_OK;
   }
   Snapshot_installSignalHandlers();
   DumpResult* result;
   char err[512];
   if (Dump_take(a.pid, &a.options, &result, err, sizeof(err)) != DUMP_OK) {
      Util_error("dump: %s", err);
      return STACKTOP_EXIT_FAILURE;
   }
   rc = writeResult(result, &a);
   Dump_free(result);
   return rc;
}
