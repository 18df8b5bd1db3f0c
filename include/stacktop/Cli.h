#ifndef STACKTOP_CLI_H
#define STACKTOP_CLI_H
/* Command-line options, one table per command: each row names an option
 * (long name, short letter, value), says what it does in one line and
 * points at its handler. Parsing (getopt_long built from the table, with
 * messages that name what was wrong), --help and the usage line are all
 * generated from it, and a unit test checks every option against the man
 * pages through Cli_commands(): nothing about an option is written twice. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Applies one option to the command's own settings (target). Returns 0, or
 * -1 with a message in err (what was wrong, what is expected). */
typedef int (*CliHandler)(void* target, const char* value, char* err, size_t errSize);

typedef struct CliOption_ {
   const char* longName;  /* "format" */
   int shortName;         /* a letter, or 0: long only */
   const char* valueName; /* "FMT"; NULL: a flag */
   const char* help;      /* one line */
   /* More of the help computed at run time (the column names), printed
    * after `help`; may be NULL. */
   const char* (*helpDetail)(void);
   CliHandler handle;
} CliOption;

typedef struct CliCommand_ {
   const char* name;     /* "dump": the subcommand, "" for the monitor */
   const char* synopsis; /* usage line(s) after "stacktop ": "dump PID [options]" */
   const char* summary;  /* what it does, a few lines */
   const CliOption* options;
   size_t optionCount;
   const char* footer;  /* after the options (exit status), may be NULL */
   bool stopAtOperand;  /* options end at the first non-option (the rest is the operands) */
   const char* manPage; /* "doc/stacktop.1": where every option must be documented */
} CliCommand;

/* Parses argv[1..] (argv[0] is the command's name) against the table,
 * calling each option's handler with target. Operands (non-options) are
 * left in order at argv[*firstOperand..argc). Returns 0, or
 * STACKTOP_EXIT_USAGE (2) with one line in err: an unknown, ambiguous or
 * malformed option, a missing value, or what its handler said. */
int Cli_parse(const CliCommand* cmd, void* target, int argc, char** argv, int* firstOperand, char* err, size_t errSize);
/* --help: "Usage: stacktop SYNOPSIS", the summary, one line per option
 * ("  -f, --format FMT   text (default), folded or json"), the footer. */
void Cli_printHelp(const CliCommand* cmd, FILE* out);

#endif
