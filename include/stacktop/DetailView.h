#ifndef STACKTOP_DETAILVIEW_H
#define STACKTOP_DETAILVIEW_H
/* The detail view of one process (Enter): figures, sparkline history of RES,
 * CPU% and thread count, and its threads with states and CPU%. */
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
} DetailView;

void DetailView_open(DetailView* this, const ProcessSample* p, bool utf8);
/* Scrolls the thread list by delta rows; total is clamped at draw time. */
void DetailView_scroll(DetailView* this, long delta);
/* p is the current sample of this->pid, NULL when the process is gone. */
void DetailView_draw(DetailView* this, const ProcessSample* p, const Theme* theme, int y, int height, int width);

#endif
