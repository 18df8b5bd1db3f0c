#ifndef STACKTOP_STACKVIEW_H
#define STACKTOP_STACKVIEW_H
/* The stack view (s): a grouped stack dump of one process, taken by
 * Dump_take in a worker thread so the monitor keeps refreshing meanwhile
 * (every ptrace call of one dump happens inside that one Dump_take call, so
 * one worker thread per dump satisfies ptrace's same-thread rule). */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "stacktop/Dump.h"
#include "stacktop/Theme.h"

typedef struct StackView_ StackView;

StackView* StackView_new(void);
/* Waits for a running dump to finish (Dump_take bounds its own waits). */
void StackView_free(StackView* this);
/* Starts a dump of pid in the background. Returns false (and says why in
 * msg) when a dump is still running. */
bool StackView_start(StackView* this, pid_t pid, const char* comm, char* msg, size_t msgSize);
/* Re-takes the dump of the same process, optionally switching grouping. */
bool StackView_retake(StackView* this, bool switchGrouping, char* msg, size_t msgSize);
bool StackView_busy(StackView* this);
/* Collects a finished worker; returns true when the view changed. */
bool StackView_poll(StackView* this);
void StackView_scroll(StackView* this, long delta);
/* Writes the dump text to ./stacktop-PID-YYYYmmdd-HHMMSS.txt; msg gets the
 * path or the error. Returns 0 or -1. */
int StackView_save(StackView* this, char* msg, size_t msgSize);
/* The text lines of the current dump (for tests and drawing). */
size_t StackView_lineCount(const StackView* this);
const char* StackView_text(const StackView* this);
void StackView_draw(StackView* this, const Theme* theme, int y, int height, int width);

#endif
