/* Command-line options of the monitor and batch mode. Each option is one row
 * of a table (names, argument, handler); getopt_long does the scanning. */
#include "stacktop/Options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Util.h"

#define DEFAULT_DELAY_S 1.5
/* A day: longer delays are almost surely a typo (e.g. milliseconds). */
#define MAX_DELAY_S 86400.0

typedef int (*OptionHandler)(Options* this, const char* arg, char* err, size_t errSize);

typedef struct OptionSpec_ {
   const char* longName;
   int shortName;       /* a letter, or a value >= 256 for long-only options */
   const char* argName; /* NULL: takes no argument */
   OptionHandler handle;
} OptionSpec;

enum {
   OPT_THEME = 256,
   OPT_VERSION,
   OPT_HELP,
   OPT_THREADS,
   OPT_FORMAT,
};

static int onDelay(Options* this, const char* arg, char* err, size_t errSize) {
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

static int onSort(Options* this, const char* arg, char* err, size_t errSize) {
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

static int onPids(Options* this, const char* arg, char* err, size_t errSize) {
   /* strsep on a copy: empty items ("1,,2", "1,") are errors, not skipped. */
   char* copy = Util_xstrdup(arg);
   char* rest = copy;
   int rc = 0;
   for (char* item; rc == 0 && (item = strsep(&rest, ",")) != NULL;)
      rc = addPid(this, item, arg, err, errSize);
   free(copy);
   return rc;
}

static int onUser(Options* this, const char* arg, char* err, size_t errSize) {
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

static int onTheme(Options* this, const char* arg, char* err, size_t errSize) {
   if (!arg[0] || strlen(arg) >= sizeof(this->theme)) {
      Util_format(err, errSize, "invalid theme name '%s' for --theme: expected 1 to %zu characters", arg,
                  sizeof(this->theme) - 1);
      return -1;
   }
   Util_format(this->theme, sizeof(this->theme), "%s", arg);
   return 0;
}

static int onIterations(Options* this, const char* arg, char* err, size_t errSize) {
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

static int onFormat(Options* this, const char* arg, char* err, size_t errSize) {
   for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
      if (strcmp(arg, formats[i].name) == 0) {
         this->format = formats[i].format;
         return 0;
      }
   }
   Util_format(err, errSize, "unknown format '%s' for --format: expected text or json", arg);
   return -1;
}

static int onBatch(Options* this, const char* arg, char* err, size_t errSize) {
   (void)arg, (void)err, (void)errSize;
   this->batch = true;
   return 0;
}

static int onThreads(Options* this, const char* arg, char* err, size_t errSize) {
   (void)arg, (void)err, (void)errSize;
   this->threads = true;
   return 0;
}

static int onHelp(Options* this, const char* arg, char* err, size_t errSize) {
   (void)arg, (void)err, (void)errSize;
   this->action = OPTIONS_HELP;
   return 0;
}

static int onVersion(Options* this, const char* arg, char* err, size_t errSize) {
   (void)arg, (void)err, (void)errSize;
   this->action = OPTIONS_VERSION;
   return 0;
}

static const OptionSpec specs[] = {
   { .longName = "delay", .shortName = 'd', .argName = "SECONDS", .handle = onDelay },
   { .longName = "sort", .shortName = 's', .argName = "COLUMN", .handle = onSort },
   { .longName = "pid", .shortName = 'p', .argName = "PID[,PID...]", .handle = onPids },
   { .longName = "user", .shortName = 'u', .argName = "USER", .handle = onUser },
   { .longName = "theme", .shortName = OPT_THEME, .argName = "NAME", .handle = onTheme },
   { .longName = "batch", .shortName = 'b', .handle = onBatch },
   { .longName = "iterations", .shortName = 'n', .argName = "N", .handle = onIterations },
   { .longName = "threads", .shortName = OPT_THREADS, .handle = onThreads },
   { .longName = "format", .shortName = OPT_FORMAT, .argName = "text|json", .handle = onFormat },
   { .longName = "help", .shortName = 'h', .handle = onHelp },
   { .longName = "version", .shortName = OPT_VERSION, .handle = onVersion },
};
#define SPEC_COUNT (sizeof(specs) / sizeof(specs[0]))

static const OptionSpec* specFor(int shortName) {
   for (size_t i = 0; i < SPEC_COUNT; i++) {
      if (specs[i].shortName == shortName)
         return &specs[i];
   }
   return NULL;
}

/* Builds getopt's short-option string and long-option array from the table. */
static void buildGetopt(char* shortOpts, size_t shortSize, struct option* longOpts) {
   size_t n = 0;
   shortOpts[n++] = ':'; /* report a missing argument as ':' rather than '?' */
   for (size_t i = 0; i < SPEC_COUNT; i++) {
      const OptionSpec* s = &specs[i];
      longOpts[i] = (struct option){
         .name = s->longName, .has_arg = s->argName ? required_argument : no_argument, .flag = NULL, .val = s->shortName
      };
      if (s->shortName >= 256 || n + 3 >= shortSize)
         continue;
      shortOpts[n++] = (char)s->shortName;
      if (s->argName)
         shortOpts[n++] = ':';
   }
   shortOpts[n] = '\0';
   longOpts[SPEC_COUNT] = (struct option){ 0 };
}

static void setDefaults(Options* this) {
   memset(this, 0, sizeof(*this));
   this->action = OPTIONS_RUN;
   this->delayS = DEFAULT_DELAY_S;
   this->sortColumn = COL_RES;
   this->format = OUTPUT_TEXT;
}

/* Names the option getopt just rejected, as the user typed it: a long option
 * is the whole argument (up to '='), a short one is optopt. */
static void describeBad(char* buf, size_t size, int argc, char** argv) {
   const char* arg = optind - 1 >= 1 && optind - 1 < argc ? argv[optind - 1] : "";
   if (strncmp(arg, "--", 2) == 0) {
      Util_format(buf, size, "%.*s", (int)strcspn(arg, "="), arg);
      return;
   }
   if (optopt > 0 && optopt < 256) {
      Util_format(buf, size, "-%c", optopt);
      return;
   }
   Util_format(buf, size, "%s", arg);
}

/* How many long options start with `name` ("--thr"); *match gets the last. */
static int prefixMatches(const char* name, const OptionSpec** match) {
   int n = 0;
   size_t len = strlen(name);
   if (strncmp(name, "--", 2) != 0 || len <= 2)
      return 0;
   for (size_t i = 0; i < SPEC_COUNT; i++) {
      if (strncmp(specs[i].longName, name + 2, len - 2) == 0) {
         *match = &specs[i];
         n++;
      }
   }
   return n;
}

/* getopt_long answers '?' for an unknown option, an ambiguous prefix and a
 * value given to a flag ("--threads=1"); the message says which it was. */
static void describeRejected(const char* name, const char* arg, char* err, size_t errSize) {
   const OptionSpec* match = NULL;
   int n = prefixMatches(name, &match);
   if (n == 1 && !match->argName && strchr(arg, '='))
      Util_format(err, errSize, "option '%s' takes no value", name);
   else if (n > 1)
      Util_format(err, errSize, "ambiguous option '%s': give more of its name", name);
   else
      Util_format(err, errSize, "unknown option '%s'", name);
}

int Options_parse(Options* this, int argc, char** argv, char* err, size_t errSize) {
   setDefaults(this);
   char shortOpts[64];
   struct option longOpts[SPEC_COUNT + 1];
   buildGetopt(shortOpts, sizeof(shortOpts), longOpts);

   /* getopt keeps its cursor in globals: optind = 0 restarts it fully (glibc),
    * so Options_parse can run more than once (unit tests). */
   optind = 0;
   opterr = 0;
   for (;;) {
      int c = getopt_long(argc, argv, shortOpts, longOpts, NULL);
      if (c == -1)
         break;
      if (c == '?' || c == ':') {
         char name[64];
         describeBad(name, sizeof(name), argc, argv);
         if (c == '?')
            describeRejected(name, argv[optind - 1], err, errSize);
         else
            Util_format(err, errSize, "option '%s' needs a value (%s)", name,
                        specFor(optopt) ? specFor(optopt)->argName : "an argument");
         return STACKTOP_EXIT_USAGE;
      }
      /* getopt only returns values from the table, so the spec exists. */
      if (specFor(c)->handle(this, optarg, err, errSize) != 0)
         return STACKTOP_EXIT_USAGE;
   }
   if (optind < argc) {
      Util_format(err, errSize, "unexpected argument '%s' (subcommands: dump, watch)", argv[optind]);
      return STACKTOP_EXIT_USAGE;
   }
   return 0;
}

const char* Options_usage(void) {
   return "Usage: stacktop [options]            interactive process monitor\n"
          "       stacktop -b [options]         batch mode: refreshes printed to stdout\n"
          "       stacktop dump PID [options]   grouped thread stacks of a process\n"
          "       stacktop watch -c FILE        watch services, collect diagnostic bundles\n"
          "\n"
          "Options:\n"
          "  -d, --delay SECONDS      refresh delay (default 1.5; this run only, d changes it live)\n"
          "  -s, --sort COLUMN        sort column (default res): pid,ppid,user,state,nice,threads,\n"
          "                           cpu,processor,mem,virt,res,shr,data,rgrow,ioread,iowrite,\n"
          "                           fds,start,time,wchan,command\n"
          "  -p, --pid PID[,PID...]   only these processes\n"
          "  -u, --user USER          only processes of this user (name or uid)\n"
          "      --theme NAME         colour theme (default, light, high-contrast, ...)\n"
          "  -b, --batch              batch mode, no curses\n"
          "  -n, --iterations N       batch: print N refreshes, then exit (default: until Ctrl-C)\n"
          "      --threads            batch: also list each process's threads\n"
          "      --format text|json   batch: top-like text (default) or one JSON object per line\n"
          "  -h, --help               show this help\n"
          "      --version            show the version\n"
          "\n"
          "Exit status: 0 success, 1 runtime failure, 2 bad command line.\n";
}
