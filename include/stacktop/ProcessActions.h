#ifndef STACKTOP_PROCESSACTIONS_H
#define STACKTOP_PROCESSACTIONS_H
/* The monitor's actions on processes: the signal list and the question
 * before sending (k, F9), renicing (F7, F8), and the user list (u). The
 * processes are the table's tagged ones, else the selected one, fixed when
 * the key was pressed (the rows may re-sort before the answer). Outcomes and
 * errors come back as one line for the status line. */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "stacktop/Menu.h"
#include "stacktop/ProcessControl.h"
#include "stacktop/ProcessTable.h"
#include "stacktop/Sampler.h"

#define PROCESS_ACTIONS_MAX_TARGETS 4096

typedef struct PendingSignal_ {
   bool active; /* a question is on the status line */
   int signal;
   ProcessKey targets[PROCESS_ACTIONS_MAX_TARGETS];
   size_t count;
   char question[256];
} PendingSignal;

/* Fixes the targets and fills menu with the signals, SIGTERM under the
 * cursor. Returns false (nothing opened) when there is no process. */
bool ProcessActions_openSignals(PendingSignal* pending, Menu* menu, const ProcessTable* table, const Sampler* sampler);
/* The signal picked: sets the question ("Send SIGTERM to 1234 (nginx)?"). */
void ProcessActions_ask(PendingSignal* pending, int sig, const Sampler* sampler);
/* The answer was yes: sends the signal to every target. msg gets what
 * happened (the first error, and how many went); returns true when all did. */
bool ProcessActions_send(PendingSignal* pending, const Sampler* sampler, char* msg, size_t msgSize);
/* Changes the nice value of the targets by delta. Returns true when all
 * did; msg says the new value or the first error. */
bool ProcessActions_renice(const ProcessTable* table, const Sampler* sampler, int delta, char* msg, size_t msgSize);
/* Fills menu with "All users" (value -1) and the users owning procs, by
 * name (value: the uid), with the current choice under the cursor. */
void ProcessActions_fillUsers(Menu* menu, const ProcessSample* const* procs, size_t count, bool filtered, uid_t uid);

#endif
