#ifndef STACKTOP_SIGNALS_H
#define STACKTOP_SIGNALS_H
/* The one way the house installs signal handlers (the monitor's screen, batch
 * mode, the watcher's loop, a dump's helper guard): one handler for a list of
 * signals, with the sigaction flags the caller needs. */
#include <stdbool.h>
#include <stddef.h>

#define SIGNALS_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Installs handler for each of signals[0..count) with flags (SA_RESTART,
 * SA_RESETHAND, ...). blockAll: the handler runs with every other signal
 * blocked (it must not be interrupted half-way). */
void Signals_install(const int* signals, size_t count, void (*handler)(int), int flags, bool blockAll);
/* EPIPE from write() instead of death by SIGPIPE. */
void Signals_ignorePipe(void);

#endif
