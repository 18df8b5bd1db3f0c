#ifndef STACKTOP_MONITOR_H
#define STACKTOP_MONITOR_H
/* The interactive curses front end. */
#include "stacktop/Options.h"

/* Runs the monitor until the user quits; returns the exit status. The terminal
 * is restored on every exit path. */
int Monitor_run(const Options* options);

#endif
