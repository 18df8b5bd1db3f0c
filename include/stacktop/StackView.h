#ifndef STACKTOP_STACKVIEW_H
#define STACKTOP_STACKVIEW_H
/* The stack view (s): a navigator over a grouped stack dump of one process.
 * The dump is taken by Dump_take in a worker thread so the monitor keeps
 * refreshing meanwhile (every ptrace call of one dump happens inside that
 * one Dump_take call, so one worker thread per dump satisfies ptrace's
 * same-thread rule), and turned into a StackModel there. Each group is one
 * line (count, state mix, top user function) that expands to its members
 * and frames; the cursor moves by lines, pages by the screen's height, jumps
 * between groups, and searches the frames. The view knows the process by pid
 * and start time: it says when the process has exited or its pid was reused,
 * and a re-take of a different process is refused. */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "stacktop/Dump.h"
#include "stacktop/StackModel.h"
#include "stacktop/Theme.h"

typedef struct StackView_ StackView;

StackView* StackView_new(void);
/* Waits for a running dump to finish (Dump_take bounds its own waits). */
void StackView_free(StackView* this);
/* Starts a dump of the process (pid, startTicks) in the background. Returns
 * false (and says why in msg) when a dump is still running. */
bool StackView_start(StackView* this, pid_t pid, unsigned long long startTicks, const char* comm, char* msg,
                     size_t msgSize);
/* Re-takes the dump of the same process, optionally switching grouping.
 * currentStartTicks is the start time of the process that has the pid now
 * (0: none); anything but the dumped process's start time is refused. */
bool StackView_retake(StackView* this, bool switchGrouping, unsigned long long currentStartTicks, char* msg,
                      size_t msgSize);
bool StackView_busy(StackView* this);
/* Collects a finished worker; returns true when the view changed. */
bool StackView_poll(StackView* this);
pid_t StackView_pid(const StackView* this);
/* Tells the view whether its process is still there after a refresh
 * (currentStartTicks as for StackView_retake). Returns true when that changed. */
bool StackView_setCurrentProcess(StackView* this, unsigned long long currentStartTicks);

/* Cursor moves by delta lines (clamped); a page is StackView_pageRows(). */
void StackView_move(StackView* this, long delta);
long StackView_pageRows(const StackView* this);
size_t StackView_rowCount(const StackView* this);
/* Expands or collapses the group under the cursor (toggle, or set). */
void StackView_toggleGroup(StackView* this);
void StackView_setExpanded(StackView* this, bool expanded);
/* Expands every group, or collapses them all when every one is expanded. */
void StackView_toggleAll(StackView* this);
/* Moves the cursor to the next (1) or previous (-1) group line. */
void StackView_jumpGroup(StackView* this, int direction);
/* Finds the next (1) / previous (-1) group whose frames, names or top match
 * text (case-insensitive), from the cursor's group (itself included when
 * includeCurrent), expands it and puts the cursor on the matching line.
 * Wraps around; returns false (nothing changed) when no group matches. */
bool StackView_search(StackView* this, const char* text, int direction, bool includeCurrent);
/* The search line was left: keep (Enter) what the search opened, or close
 * it again (Esc). */
void StackView_endSearch(StackView* this, bool keep);
/* A Go process's dump has two parts, its goroutines (shown first) and its
 * threads: shows the other one. False (and why in msg) for a process
 * with threads only. */
bool StackView_switchPart(StackView* this, char* msg, size_t msgSize);
/* Horizontal scroll by delta cells (clamped at 0). */
void StackView_scrollH(StackView* this, int delta);
/* Mouse: puts the cursor on the line drawn at screen line y. */
bool StackView_selectAt(StackView* this, int y);

/* Writes the dump text to ./stacktop-PID-YYYYmmdd-HHMMSS.txt; msg gets the
 * path or the error. Returns 0 or -1. */
int StackView_save(StackView* this, char* msg, size_t msgSize);
/* The text of the current dump (Dump_write's text format), for saving. */
const char* StackView_text(const StackView* this);
/* The model being shown, NULL before the first dump. */
const StackModel* StackView_model(const StackView* this);
void StackView_draw(StackView* this, const Theme* theme, int y, int height, int width);

#endif
