#ifndef STACKTOP_BATCH_H
#define STACKTOP_BATCH_H
/* Batch mode (-b): N refreshes printed to stdout as top-like text or one JSON
 * object per line. No curses. */
#include <stdio.h>

#include "stacktop/Options.h"

/* Runs batch mode; returns the process exit status. */
int Batch_run(const Options* options);

#endif
