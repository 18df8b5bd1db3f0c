#ifndef STACKTOP_DETAILVIEW_H
#define STACKTOP_DETAILVIEW_H
/* The detail view of one process (Enter): figures, sparkline history of RES,
 * CPU% and thread count over a span the user picks (3 minutes at every
 * refresh, 1 or 3 hours by the minute, 3 days by 10 minutes: History's
 * resolutions), and its threads with states and CPU%. */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "stacktop/Sampler.h"
#include "stacktop/Theme.h"

typedef struct DetailView_ {
   pid_t pid;
   char comm[16]; /* kept to name a process that has exited */
   size_t scroll; /* first thread row on screen */
   int pageRows;  /* thread rows that fit, from the last draw */
   bool utf8;
   size_t span; /* index into the spans Tab cycles through */
} DetailView;

/* Opens the view on p; the span chosen last time is kept. */
void DetailView_open(DetailView* this, const ProcessSample* p, bool utf8);
/* The next (1) or previous (-1) history span. */
void DetailView_cycleSpan(DetailView* this, int direction);
/* The label of the current span ("3 min", "1 h", ...). */
const char* DetailView_spanLabel(const DetailView* this);
/* Scrolls the thread list by delta rows; total is clamped at draw time. */
void DetailView_scroll(DetailView* this, long delta);
/* p is the current sample of this->pid, NULL when the process is gone. */
void DetailView_draw(DetailView* this, const ProcessSample* p, const Theme* theme, int y, int height, int width);

#endif
