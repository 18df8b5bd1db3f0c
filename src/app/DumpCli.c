/* `stacktop dump PID ...`: the option table (Cli), then Dump_take and Dump_write. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stacktop/Cli.h"
#include "stacktop/Dump.h"
#include "stacktop/Printable.h"
#include "stacktop/Snapshot.h"
#include "stacktop/Util.h"

#define MAX_DEPTH_LIMIT 4096

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

/* "text (Go's goroutine-profile layout, default), folded (...), ...": the
 * help's list, from the table. */
static const char* formatHelp(void) {
   static char buf[512];
   size_t used = 0;
   for (size_t i = 0; i < FORMAT_COUNT && used < sizeof(buf); i++)
      used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s (%s)", i ? ", " : "", formats[i].name,
                               formats[i].help);
   return buf;
}

/* "text, folded, json, pprof or svg", for messages. */
static const char* formatNames(void) {
   static char buf[128];
   size_t used = 0;
   for (size_t i = 0; i < FORMAT_COUNT && used < sizeof(buf); i++)
      used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s",
                               i == 0                  ? ""
                               : i + 1 == FORMAT_COUNT ? " or "
                                                       : ", ",
                               formats[i].name);
   return buf;
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

/* "text, folded or json", from a table. */
static const char* namesOf(const Name* table, size_t n, char* buf, size_t size) {
   size_t used = 0;
   buf[0] = '\0';
   for (size_t i = 0; i < n && used < size; i++)
      used += (size_t)snprintf(buf + used, size - used, "%s%s",
                               i == 0       ? ""
                               : i + 1 == n ? " or "
                                            : ", ",
                               table[i].name);
   return buf;
}

static const char* groupingNames(void) {
   static char buf[64];
   return namesOf(groupings, sizeof(groupings) / sizeof(groupings[0]), buf, sizeof(buf));
}

typedef struct CliArgs_ {
   DumpOptions options;
   DumpWriteOptions write;
   const char* output;
   pid_t pid;
   bool help;
   bool verbose;
} CliArgs;

static int onFormat(void* target, const char* v, char* err, size_t errSize) {
   CliArgs* a = target;
   for (size_t i = 0; i < FORMAT_COUNT; i++) {
      if (strcmp(formats[i].name, v) == 0) {
         a->write.format = formats[i].format;
         return 0;
      }
   }
   Util_format(err, errSize, "unknown format '%s': use %s", v, formatNames());
   return -1;
}

static int onOutput(void* target, const char* v, char* err, size_t errSize) {
   (void)err, (void)errSize;
   ((CliArgs*)target)->output = v;
   return 0;
}

static int onGroupBy(void* target, const char* v, char* err, size_t errSize) {
   int g;
   if (lookupName(groupings, sizeof(groupings) / sizeof(groupings[0]), v, &g) < 0) {
      Util_format(err, errSize, "unknown --group-by '%s': use %s", v, groupingNames());
      return -1;
   }
   ((CliArgs*)target)->options.groupBy = (DumpGroupBy)g;
   return 0;
}

static int onMaxDepth(void* target, const char* v, char* err, size_t errSize) {
   char* end;
   long depth = strtol(v, &end, 10);
   if (*v == '\0' || *end || depth < 1 || depth > MAX_DEPTH_LIMIT) {
      Util_format(err, errSize, "bad --max-depth '%s': give a whole number from 1 to %d", v, MAX_DEPTH_LIMIT);
      return -1;
   }
   ((CliArgs*)target)->options.maxDepth = (int)depth;
   return 0;
}

static int onTimeout(void* target, const char* v, char* err, size_t errSize) {
   char* end;
   double s = strtod(v, &end);
   if (*v == '\0' || *end || !(s > 0 && s <= 3600)) {
      Util_format(err, errSize, "bad --timeout '%s': give seconds, more than 0 and at most 3600", v);
      return -1;
   }
   ((CliArgs*)target)->options.timeoutS = s;
   return 0;
}

static int onNoLines(void* target, const char* v, char* err, size_t errSize) {
   (void)v, (void)err, (void)errSize;
   ((CliArgs*)target)->options.lines = false;
   return 0;
}

static int onNoDemangle(void* target, const char* v, char* err, size_t errSize) {
   (void)v, (void)err, (void)errSize;
   ((CliArgs*)target)->options.demangle = false;
   return 0;
}

static int chooseParts(CliArgs* a, DumpParts parts, char* err, size_t errSize) {
   if (a->write.parts != DUMP_PARTS_ALL && a->write.parts != parts) {
      Util_format(err, errSize, "--goroutines and --threads exclude each other: give one, or neither for both");
      return -1;
   }
   a->write.parts = parts;
   /* Reading goroutines lengthens the pause: not when only threads are wanted. */
   a->options.goroutines = parts == DUMP_PARTS_GOROUTINES;
   return 0;
}

static int onGoroutines(void* target, const char* v, char* err, size_t errSize) {
   (void)v;
   return chooseParts(target, DUMP_PARTS_GOROUTINES, err, errSize);
}

static int onThreads(void* target, const char* v, char* err, size_t errSize) {
   (void)v;
   return chooseParts(target, DUMP_PARTS_THREADS, err, errSize);
}

static int onDebug(void* target, const char* v, char* err, size_t errSize) {
   if (strcmp(v, "1") != 0 && strcmp(v, "2") != 0) {
      Util_format(err, errSize, "bad --debug '%s': give 1 (grouped, like ?debug=1) or 2 (each goroutine)", v);
      return -1;
   }
   ((CliArgs*)target)->write.debug = v[0] - '0';
   return 0;
}

static int onVerbose(void* target, const char* v, char* err, size_t errSize) {
   (void)v, (void)err, (void)errSize;
   ((CliArgs*)target)->verbose = true;
   return 0;
}

static int onHelp(void* target, const char* v, char* err, size_t errSize) {
   (void)v, (void)err, (void)errSize;
   ((CliArgs*)target)->help = true;
   return 0;
}

static const CliOption options[] = {
   { .longName = "format",
     .shortName = 'f',
     .valueName = "FMT",
     .help = "the layout, one of:",
     .helpDetail = formatHelp,
     .handle = onFormat },
   { .longName = "output",
     .shortName = 'o',
     .valueName = "FILE",
     .help = "write to FILE (created before anything is stopped) instead of standard output",
     .handle = onOutput },
   { .longName = "group-by",
     .shortName = 'g',
     .valueName = "KEY",
     .help = "what makes stacks one group (default pc: identical addresses; function: the same functions):",
     .helpDetail = groupingNames,
     .handle = onGroupBy },
   { .longName = "max-depth",
     .shortName = 'd',
     .valueName = "N",
     .help = "at most N frames per thread (default 256)",
     .handle = onMaxDepth },
   { .longName = "no-lines", .help = "skip file:line and inlined frames (faster)", .handle = onNoLines },
   { .longName = "no-demangle",
     .help = "C++ and Rust function names as the binary spells them",
     .handle = onNoDemangle },
   { .longName = "timeout",
     .shortName = 't',
     .valueName = "SECONDS",
     .help = "the longest the target stays stopped (default 2)",
     .handle = onTimeout },
   { .longName = "goroutines", .help = "only the goroutines of a Go program", .handle = onGoroutines },
   { .longName = "threads",
     .help = "only the threads (a Go program's goroutines are not read); pprof and svg hold one part: by default a Go "
             "program's goroutines",
     .handle = onThreads },
   { .longName = "debug",
     .valueName = "N",
     .help = "goroutines as ?debug=1 (grouped, default) or ?debug=2 (each one)",
     .handle = onDebug },
   { .longName = "verbose",
     .shortName = 'v',
     .help = "on standard error: the pause and its phases, what is partial",
     .handle = onVerbose },
   { .longName = "help", .shortName = 'h', .help = "this help", .handle = onHelp },
};

static const CliCommand command = {
   .name = "dump",
   .synopsis = "dump PID [options]",
   .summary = "Stops every thread of PID at once, copies their stacks, resumes them, then prints the threads\n"
              "grouped by identical stack (Go's goroutine-profile layout). For a Go program it first prints\n"
              "its goroutine profile, as its /debug/pprof/goroutine?debug=1 would.",
   .options = options,
   .optionCount = sizeof(options) / sizeof(options[0]),
   .footer = "Exit status: 0 written, 1 failed (one line says why), 2 bad command line, 3 written but incomplete.",
   .manPage = "doc/stacktop.1",
};

const CliCommand* Dump_command(void) {
   return &command;
}

static int usageError(const char* msg) {
   Util_error("dump: %s (see 'stacktop dump --help')", msg);
   return STACKTOP_EXIT_USAGE;
}

static int parseArgs(CliArgs* a, int argc, char** argv) {
   DumpOptions_init(&a->options);
   a->options.detachOnSignal = true;
   char err[256];
   int operand;
   if (Cli_parse(&command, a, argc, argv, &operand, err, sizeof(err)) != 0)
      return usageError(err);
   if (a->help)
      return 0;
   if (operand != argc - 1)
      return usageError(operand >= argc ? "missing PID" : "give exactly one PID");
   if (Util_parsePid(argv[operand], &a->pid) < 0) {
      Util_format(err, sizeof(err), "bad PID '%s': give a process id, e.g. from pgrep", argv[operand]);
      return usageError(err);
   }
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
static void reportPartial(const DumpResult* r) {
   if (r->lateThreads || r->missedThreads)
      Util_error("dump: partial: %zu threads did not stop in time, %zu started during the stop and are missing",
                 r->lateThreads, r->missedThreads);
   if (!r->cutStacks)
      return;
   char detail[256] = "";
   size_t used = 0;
   for (int c = DUMP_CUT_NONE + 1; c < DUMP_CUT_COUNT; c++) {
      if (c == DUMP_CUT_NOT_STOPPED || !r->cuts[c])
         continue;
      int n = snprintf(detail + used, sizeof(detail) - used, "%s%zu %s", used ? ", " : "", r->cuts[c],
                       Dump_cutName((DumpCut)c));
      if (n < 0 || (size_t)n >= sizeof(detail) - used)
         break;
      used += (size_t)n;
   }
   Util_error("dump: %zu stacks are cut (%s; see \"stack cut\" in the output)", r->cutStacks, detail);
}

/* -v: where the pause went, and what the dump lacks. */
static void reportPause(const DumpResult* r) {
   char comm[4 * sizeof(r->comm)];
   Printable_copy(comm, sizeof(comm), r->comm);
   Util_error("dump: pid %d (%s): %zu threads, target paused %.2f ms = interrupt %.2f + wait %.2f + copy %.2f + "
              "release %.2f ms; %zu KiB of stacks copied; total %.1f ms",
              (int)r->pid, comm, r->totalThreads, r->stoppedMs, r->interruptMs, r->waitMs, r->copyMs, r->releaseMs,
              r->copiedBytes / 1024, r->totalMs);
   reportPartial(r);
}

static int writeResult(const DumpResult* result, const CliArgs* a, Output* o) {
   if (a->verbose)
      reportPause(result);
   if (a->write.parts == DUMP_PARTS_GOROUTINES && !result->go) {
      char comm[4 * sizeof(result->comm)];
      Printable_copy(comm, sizeof(comm), result->comm);
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
   /* Like eu-stack: a dump that lacks something exits apart (the output
    * says what and why). */
   return Dump_incomplete(result, a->write.parts) ? STACKTOP_EXIT_PARTIAL : STACKTOP_EXIT_OK;
}

int Dump_main(int argc, char** argv) {
   CliArgs a = { .write = { .format = DUMP_FORMAT_TEXT, .parts = DUMP_PARTS_ALL, .debug = 1 } };
   int rc = parseArgs(&a, argc, argv);
   if (rc)
      return rc;
   if (a.help) {
      Cli_printHelp(&command, stdout);
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
