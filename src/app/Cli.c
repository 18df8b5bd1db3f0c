/* Option tables: parsing and help; see Cli.h. */
#include "stacktop/Cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Util.h"

/* getopt's value for the i-th option without a letter. */
#define LONG_ONLY_BASE 256
/* Help lines: options in this column, their text after. */
#define HELP_COLUMN 26

static int valueOf(const CliCommand* cmd, size_t i) {
   int letter = cmd->options[i].shortName;
   return letter ? letter : LONG_ONLY_BASE + (int)i;
}

static const CliOption* optionOf(const CliCommand* cmd, int value) {
   for (size_t i = 0; i < cmd->optionCount; i++) {
      if (valueOf(cmd, i) == value)
         return &cmd->options[i];
   }
   return NULL;
}

/* getopt's short-option string and long-option array, from the table. */
static struct option* buildGetopt(const CliCommand* cmd, char* shortOpts, size_t shortSize) {
   struct option* longOpts = Util_xcalloc(cmd->optionCount + 1, sizeof(struct option));
   size_t n = 0;
   if (cmd->stopAtOperand)
      shortOpts[n++] = '+';
   shortOpts[n++] = ':'; /* a missing value is ':', not '?' */
   for (size_t i = 0; i < cmd->optionCount; i++) {
      const CliOption* o = &cmd->options[i];
      longOpts[i] = (struct option){ .name = o->longName,
                                     .has_arg = o->valueName ? required_argument : no_argument,
                                     .val = valueOf(cmd, i) };
      if (!o->shortName || n + 3 >= shortSize)
         continue;
      shortOpts[n++] = (char)o->shortName;
      if (o->valueName)
         shortOpts[n++] = ':';
   }
   shortOpts[n] = '\0';
   return longOpts;
}

/* The option getopt just rejected, as typed: a long one up to '=', a short
 * one as -x. */
static void describeBad(char* buf, size_t size, int argc, char** argv) {
   const char* arg = optind - 1 >= 1 && optind - 1 < argc ? argv[optind - 1] : "";
   if (strncmp(arg, "--", 2) == 0)
      Util_format(buf, size, "%.*s", (int)strcspn(arg, "="), arg);
   else if (optopt > 0 && optopt < LONG_ONLY_BASE)
      Util_format(buf, size, "-%c", optopt);
   else
      Util_format(buf, size, "%s", arg);
}

/* How many long options start with name ("--thr"); *match gets the last. */
static int prefixMatches(const CliCommand* cmd, const char* name, const CliOption** match) {
   int n = 0;
   size_t len = strlen(name);
   if (strncmp(name, "--", 2) != 0 || len <= 2)
      return 0;
   for (size_t i = 0; i < cmd->optionCount; i++) {
      if (strncmp(cmd->options[i].longName, name + 2, len - 2) == 0) {
         *match = &cmd->options[i];
         n++;
      }
   }
   return n;
}

/* getopt answers '?' for an unknown option, an ambiguous prefix and a
 * value given to a flag ("--threads=1"); the message says which. */
static void describeRejected(const CliCommand* cmd, const char* name, const char* arg, char* err, size_t errSize) {
   const CliOption* match = NULL;
   int n = prefixMatches(cmd, name, &match);
   if (n == 1 && !match->valueName && strchr(arg, '='))
      Util_format(err, errSize, "option '%s' takes no value", name);
   else if (n > 1)
      Util_format(err, errSize, "ambiguous option '%s': give more of its name", name);
   else
      Util_format(err, errSize, "unknown option '%s'", name);
}

static int rejected(const CliCommand* cmd, int c, int argc, char** argv, char* err, size_t errSize) {
   char name[64];
   describeBad(name, sizeof(name), argc, argv);
   if (c == '?') {
      describeRejected(cmd, name, argv[optind - 1], err, errSize);
   } else {
      const CliOption* o = optionOf(cmd, optopt);
      Util_format(err, errSize, "option '%s' needs a value (%s)", name, o && o->valueName ? o->valueName : "a value");
   }
   return STACKTOP_EXIT_USAGE;
}

int Cli_parse(const CliCommand* cmd, void* target, int argc, char** argv, int* firstOperand, char* err,
              size_t errSize) {
   char shortOpts[128];
   struct option* longOpts = buildGetopt(cmd, shortOpts, sizeof(shortOpts));
   /* getopt keeps its cursor in globals: optind = 0 restarts it fully
    * (glibc), so a table can be parsed more than once (unit tests). */
   optind = 0;
   opterr = 0;
   int rc = 0;
   for (;;) {
      int c = getopt_long(argc, argv, shortOpts, longOpts, NULL);
      if (c == -1)
         break;
      if (c == '?' || c == ':') {
         rc = rejected(cmd, c, argc, argv, err, errSize);
         break;
      }
      /* getopt returns only values of the table. */
      if (optionOf(cmd, c)->handle(target, optarg, err, errSize) != 0) {
         rc = STACKTOP_EXIT_USAGE;
         break;
      }
   }
   *firstOperand = optind;
   free(longOpts);
   return rc;
}

/* "  -f, --format FMT" or "      --no-lines". */
static int printOptionNames(const CliOption* o, FILE* out) {
   int n;
   if (o->shortName)
      n = fprintf(out, "  -%c, --%s", o->shortName, o->longName);
   else
      n = fprintf(out, "      --%s", o->longName);
   if (o->valueName)
      n += fprintf(out, " %s", o->valueName);
   return n;
}

/* Text after the option column, folded at spaces to the terminal's usual 80. */
static void printWrapped(const char* text, int column, FILE* out) {
   const int width = 80;
   int x = column;
   const char* p = text;
   while (*p) {
      size_t word = strcspn(p, " ");
      if (x > column && x + 1 + (int)word > width) {
         fprintf(out, "\n%*s", column, "");
         x = column;
      } else if (x > column) {
         fputc(' ', out);
         x++;
      }
      fwrite(p, 1, word, out);
      x += (int)word;
      p += word;
      while (*p == ' ')
         p++;
   }
   fputc('\n', out);
}

void Cli_printHelp(const CliCommand* cmd, FILE* out) {
   fprintf(out, "Usage: stacktop %s\n", cmd->synopsis);
   if (cmd->summary)
      fprintf(out, "%s\n", cmd->summary);
   fputs("\nOptions:\n", out);
   for (size_t i = 0; i < cmd->optionCount; i++) {
      const CliOption* o = &cmd->options[i];
      int n = printOptionNames(o, out);
      if (n + 2 > HELP_COLUMN) {
         fputc('\n', out);
         n = 0;
      }
      fprintf(out, "%*s", HELP_COLUMN - n, "");
      char text[1024];
      Util_format(text, sizeof(text), "%s%s%s", o->help, o->helpDetail ? " " : "",
                  o->helpDetail ? o->helpDetail() : "");
      printWrapped(text, HELP_COLUMN, out);
   }
   if (cmd->footer)
      fprintf(out, "\n%s\n", cmd->footer);
}
