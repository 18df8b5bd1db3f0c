#ifndef STACKTOP_COMMANDS_H
#define STACKTOP_COMMANDS_H
/* stacktop's commands, one table: the monitor (and batch mode) under the
 * empty name, and each subcommand (`dump`, `watch`, ...) with its entry
 * point and option table. main() dispatches from it; the man-page check
 * walks it. Adding a subcommand is one row here and one Cli table. */
#include <stddef.h>

#include "stacktop/Cli.h"

typedef struct Command_ {
   const char* name;                   /* argv[1]; "" for the monitor */
   int (*main)(int argc, char** argv); /* argv[0] = name; NULL for the monitor (main.c runs it) */
   const CliCommand* (*cli)(void);     /* its option table */
} Command;

/* Every command, the monitor first. */
size_t Commands_list(const Command** out);
/* The subcommand named name, or NULL. */
const Command* Commands_find(const char* name);

#endif
