/* `stacktop dump PID ...`: option parsing, then Dump_take and Dump_write. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stacktop/Dump.h"
#include "stacktop/Snapshot.h"
#include "stacktop/Text.h"
#include "stacktop/Util.h"

#define MAX_DEPTH_LIMIT 4096

/* The usage text around the formats table's lines. */
static const char usageHead[] =
    "usage: stacktop dump PID [--format %s] [-o FILE] [--group-by pc|function]\n"
    "                         [--max-depth N] [--no-lines] [--timeout SECONDS]\n"
    "                         [--goroutines | --threads] [--debug 1|2] [-v]\n"
    "Stops every thread of PID at once, copies their stacks, resumes them, then prints the\n"
    "threads grouped by identical stack (Go goroutine-profile layout by default). For a Go\n"
    "program it first prints its goroutine profile, as /debug/pprof/goroutine?debug=1 would.\n"
    "  -f, --format FMT     one of:\n";
static const char usageTail[] =
    "  -o, --output FILE    write to FILE instead of standard output\n"
    "  -g, --group-by KEY   pc (identical addresses, default) or function (same functions)\n"
    "  -d, --max-depth N    at most N frames per thread (default 256)\n"
    "      --no-lines       skip file:line and inlined frames (faster)\n"
    "  -t, --timeout S      wait at most S seconds for the threads to stop (default 2)\n"
    "      --goroutines     only the goroutines of a Go program\n"
    "      --threads        only the threads (Go programs: goroutines are not read)\n"
    "                       (pprof and svg hold one part: by default a Go program's goroutines)\n"
    "      --debug N        goroutines as ?debug=1 (grouped, default) or ?debug=2 (each one)\n"
    "  -v, --verbose        on standard error: the pause and its phases, what is partial\n"
    "  -h, --help           this help\n";

typedef struct Name_ {
   const char* name;
   int value;
} Name;

typedef struct FormatInfo_ {
   const char* name;
   DumpFormat format;
   bool binary; /* never written to a terminal */
   const char* help;
} FormatInfo;

static const FormatInfo formats[] = {
   { .name = "text", .format = DUMP_FORMAT_TEXT, .help = "Go's goroutine-profile layout (default)" },
   { .name = "folded", .format = DUMP_FORMAT_FOLDED, .help = "one line per stack, for flame graph tools" },
   { .name = "json", .format = DUMP_FORMAT_JSON, .help = "every field, one JSON object" },
   { .name = "pprof",
     .format = DUMP_FORMAT_PPROF,
     .binary = true,
     .help = "gzip-compressed profile.proto for go tool pprof (-o FILE.pb.gz)" },
   { .name = "svg", .format = DUMP_FORMAT_SVG, .help = "a flame graph to open in a browser" },
};
#define FORMAT_COUNT (sizeof(formats) / sizeof(formats[0]))

/* "text|folded|json|..." or "text, folded, ... or svg". */
static void formatList(char* buf, size_t size, bool prose) {
   size_t len = 0;
   for (size_t i = 0; i < FORMAT_COUNT && len < size; i++) {
      const char* sep = i == 0 ? "" : !prose ? "|" : i + 1 == FORMAT_COUNT ? " or " : ", ";
      len += (size_t)snprintf(buf + len, size - len, "%s%s", sep, formats[i].name);
   }
}

static void printUsage(FILE* out) {
   char list[128];
   formatList(list, sizeof(list), false);
   fprintf(out, usageHead, list);
   for (size_t i = 0; i < FORMAT_COUNT; i++)
      fprintf(out, "%23s%-8s %s\n", "", formats[i].name, formats[i].help);
   fputs(usageTail, out);
}

static const FormatInfo* formatInfo(DumpFormat format) {
   for (size_t i = 0; i < FORMAT_COUNT; i++) {
      if (formats[i].format == format)
         return &formats[i];
   }
   return &formats[0];
}

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
   DumpWriteOptions write;
   const char* output;
   pid_t pid;
   bool help;
   bool verbose;
} CliArgs;

enum { OPT_NO_LINES = 256, OPT_GOROUTINES, OPT_THREADS, OPT_DEBUG };

static const struct option longOptions[] = {
   { "format", required_argument, NULL, 'f' },
   { "output", required_argument, NULL, 'o' },
   { "group-by", required_argument, NULL, 'g' },
   { "max-depth", required_argument, NULL, 'd' },
   { "no-lines", no_argument, NULL, OPT_NO_LINES },
   { "timeout", required_argument, NULL, 't' },
   { "goroutines", no_argument, NULL, OPT_GOROUTINES },
   { "threads", no_argument, NULL, OPT_THREADS },
   { "debug", required_argument, NULL, OPT_DEBUG },
   { "verbose", no_argument, NULL, 'v' },
   { "help", no_argument, NULL, 'h' },
   { NULL, 0, NULL, 0 },
};

static int usageError(const char* fmt, const char* arg) {
   char msg[256];
   Util_format(msg, sizeof(msg), fmt, arg);
   Util_error("dump: %s (see 'stacktop dump --help')", msg);
   return STACKTOP_EXIT_USAGE;
}

static int chooseParts(CliArgs* a, DumpParts parts) {
   if (a->write.parts != DUMP_PARTS_ALL && a->write.parts != parts)
      return usageError("%s", "--goroutines and --threads exclude each other: give one, or neither for both");
   a->write.parts = parts;
   /* Reading goroutines lengthens the pause: not when only threads are wanted. */
   a->options.goroutines = parts == DUMP_PARTS_GOROUTINES;
   return 0;
}

static int parseOption(CliArgs* a, int c, const char* arg) {
   int v;
   char* end;
   switch (c) {
   case 'f': {
      for (size_t i = 0; i < FORMAT_COUNT; i++) {
         if (strcmp(formats[i].name, arg) == 0) {
            a->write.format = formats[i].format;
            return 0;
         }
      }
      char list[128], msg[256];
      formatList(list, sizeof(list), true);
      Util_format(msg, sizeof(msg), "unknown format '%%s': use %s", list);
      return usageError(msg, arg);
   }
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
   case OPT_GOROUTINES:
   case OPT_THREADS: return chooseParts(a, c == OPT_GOROUTINES ? DUMP_PARTS_GOROUTINES : DUMP_PARTS_THREADS);
   case OPT_DEBUG:
      if (strcmp(arg, "1") != 0 && strcmp(arg, "2") != 0)
         return usageError("bad --debug '%s': give 1 (grouped, like ?debug=1) or 2 (each goroutine)", arg);
      a->write.debug = arg[0] - '0';
      return 0;
   case 'h': a->help = true; return 0;
   case 'v': a->verbose = true; return 0;
   default: return usageError("%s", "bad option");
   }
}

static int parseArgs(CliArgs* a, int argc, char** argv) {
   DumpOptions_init(&a->options);
   a->options.detachOnSignal = true;
   optind = 0; /* re-initialise GNU getopt */
   opterr = 0;
   int c;
   while ((c = getopt_long(argc, argv, "f:o:g:d:t:hv", longOptions, NULL)) != -1) {
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

/* -o FILE: a private temporary file next to it, created before the target
 * is stopped (an unwritable path fails first and stops nothing), renamed
 * over FILE only when the dump was written (a failed dump leaves an
 * existing FILE untouched). A character device or a FIFO (/dev/null, a
 * terminal, a pipe to a reader) is written directly: renaming over it
 * would replace the node itself. */
typedef struct Output_ {
   FILE* file;
   char* tmpPath; /* NULL for standard output and streams */
   const char* name;
   bool stream; /* a device or FIFO opened directly */
} Output;

/* 1: path is a device or FIFO, now open in o; 0: not one (use a temporary
 * file); -1: an error was reported. */
static int openStream(Output* o, const char* path) {
   struct stat st;
   if (lstat(path, &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)))
      return 0;
   int fd = open(path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
   struct stat opened;
   if (fd >= 0 && (fstat(fd, &opened) != 0 || !(S_ISCHR(opened.st_mode) || S_ISFIFO(opened.st_mode)))) {
      close(fd); /* replaced meanwhile: not what was checked */
      fd = -1;
      errno = EAGAIN;
   }
   o->file = fd >= 0 ? fdopen(fd, "w") : NULL;
   if (!o->file) {
      Util_error("dump: cannot write %s: %s; choose another -o path", path, strerror(errno));
      if (fd >= 0)
         close(fd);
      return -1;
   }
   o->stream = true;
   return 1;
}

static int openOutput(Output* o, const char* path) {
   *o = (Output){ .file = stdout, .name = path ? path : "standard output" };
   if (!path)
      return 0;
   int stream = openStream(o, path);
   if (stream != 0)
      return stream > 0 ? 0 : STACKTOP_EXIT_FAILURE;
   size_t len = strlen(path) + 16;
   o->tmpPath = Util_xmalloc(len);
   Util_format(o->tmpPath, len, "%s.tmp.XXXXXX", path);
   int fd = mkostemp(o->tmpPath, O_CLOEXEC);
   o->file = fd >= 0 ? fdopen(fd, "w") : NULL;
   if (!o->file) {
      Util_error("dump: cannot write %s: %s; choose another -o path", path, strerror(errno));
      if (fd >= 0) {
         close(fd);
         unlink(o->tmpPath);
      }
      free(o->tmpPath);
      return STACKTOP_EXIT_FAILURE;
   }
   return 0;
}

/* Commits (rename) or abandons (unlink) the output. */
static int closeOutput(Output* o, bool commit) {
   int rc = commit ? 0 : -1;
   if (o->tmpPath) {
      if (fclose(o->file) != 0 && commit)
         rc = -1;
      if (rc == 0 && rename(o->tmpPath, o->name) != 0)
         rc = -1;
      if (rc != 0)
         unlink(o->tmpPath);
      free(o->tmpPath);
   } else if (o->stream) {
      if (fclose(o->file) != 0 && commit)
         rc = -1;
   } else if (commit && fflush(stdout) != 0) {
      rc = -1;
   }
   return rc;
}

/* Binary formats on a terminal would only garble it: refused before the
 * target is stopped. */
static bool refuseTerminal(const CliArgs* a, Output* o) {
   const FormatInfo* f = formatInfo(a->write.format);
   if (!f->binary || !isatty(fileno(o->file)))
      return false;
   Util_error("dump: --format %s is gzip-compressed binary data and %s is a terminal: give -o FILE.pb.gz "
              "(or redirect standard output)",
              f->name, o->name);
   closeOutput(o, false);
   return true;
}

/* -v: where the pause went, and what the dump lacks. */
static void reportPause(const DumpResult* r) {
   char comm[sizeof(r->comm)];
   memcpy(comm, r->comm, sizeof(comm));
   Text_neutralise(comm);
   Util_error("dump: pid %d (%s): %zu threads, target paused %.2f ms = interrupt %.2f + wait %.2f + copy %.2f + "
              "release %.2f ms; %zu KiB of stacks copied; total %.1f ms",
              (int)r->pid, comm, r->totalThreads, r->stoppedMs, r->interruptMs, r->waitMs, r->copyMs, r->releaseMs,
              r->copiedBytes / 1024, r->totalMs);
   if (r->lateThreads || r->missedThreads || r->cutStacks)
      Util_error("dump: partial: %zu threads did not stop in time, %zu started during the stop and are missing, "
                 "%zu stacks are cut (see \"stack cut\" in the output)",
                 r->lateThreads, r->missedThreads, r->cutStacks);
}

static int writeResult(const DumpResult* result, const CliArgs* a, Output* o) {
   if (a->verbose)
      reportPause(result);
   if (a->write.parts == DUMP_PARTS_GOROUTINES && !result->go) {
      char comm[sizeof(result->comm)];
      memcpy(comm, result->comm, sizeof(comm));
      Text_neutralise(comm);
      Util_error("dump: pid %d (%s) is not a Go program: it has no goroutines (drop --goroutines for its threads)",
                 (int)result->pid, comm);
      closeOutput(o, false);
      return STACKTOP_EXIT_FAILURE;
   }
   int rc = Dump_writeWith(result, &a->write, o->file);
   int saved = errno;
   if (closeOutput(o, rc == 0) < 0) {
      Util_error("dump: cannot write %s: %s", o->name, strerror(rc < 0 ? saved : errno));
      return STACKTOP_EXIT_FAILURE;
   }
   return STACKTOP_EXIT_OK;
}

int Dump_main(int argc, char** argv) {
   CliArgs a = { .write = { .format = DUMP_FORMAT_TEXT, .parts = DUMP_PARTS_ALL, .debug = 1 } };
   int rc = parseArgs(&a, argc, argv);
   if (rc)
      return rc;
   if (a.help) {
      printUsage(stdout);
      return STACKTOP_EXIT_OK;
   }
   Output out;
   if (openOutput(&out, a.output) != 0)
      return STACKTOP_EXIT_FAILURE;
   if (refuseTerminal(&a, &out))
      return STACKTOP_EXIT_USAGE;
   Snapshot_installSignalHandlers();
   DumpResult* result;
   char err[512];
   if (Dump_take(a.pid, &a.options, &result, err, sizeof(err)) != DUMP_OK) {
      Util_error("dump: %s", err);
      closeOutput(&out, false);
      return STACKTOP_EXIT_FAILURE;
   }
   rc = writeResult(result, &a, &out);
   Dump_free(result);
   return rc;
}
