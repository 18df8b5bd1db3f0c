#ifndef STACKTOP_PROCESSTABLE_H
#define STACKTOP_PROCESSTABLE_H
/* The process table of the monitor: rows built from the cached sample
 * (filter, sort, optional thread rows), the selection (kept on the same
 * pid/tid across refreshes and re-sorts), scrolling, search, and drawing. */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "stacktop/Column.h"
#include "stacktop/Sampler.h"
#include "stacktop/Theme.h"

typedef struct TableRow_ {
   const ProcessSample* process;
   long thread; /* -1: the process itself, else an index into threadRows */
} TableRow;

typedef struct ProcessTable_ {
   TableRow* rows; /* owned; pointers into the Sampler's current sample */
   size_t rowCount, rowCapacity;
   const ProcessSample** sorted; /* owned scratch array */
   size_t sortedCapacity;
   ColumnId sortColumn;
   bool invert; /* reverse the column's natural order */
   bool visible[COL_COUNT];
   bool showThreads;
   char filter[64];   /* "" = every process */
   pid_t selectedPid; /* 0 = nothing selected yet */
   pid_t selectedTid; /* 0 = the process row */
   size_t selected;
   size_t scroll; /* first row on screen */
   int pageRows;  /* rows that fit, from the last layout */
   bool utf8;     /* draw the thread tree with box characters */
} ProcessTable;

void ProcessTable_init(ProcessTable* this);
void ProcessTable_done(ProcessTable* this);
/* Rebuilds the rows from procs (valid until the next refresh), keeping the
 * selection on the same pid (and tid) when it is still there. */
void ProcessTable_rebuild(ProcessTable* this, const ProcessSample* const* procs, size_t count);
/* Moves the selection by delta rows (clamped). */
void ProcessTable_move(ProcessTable* this, long delta);
/* Selects the next (direction 1) or previous (-1) row whose name matches
 * text, starting at the selection itself when includeCurrent. Wraps around.
 * Returns false (selection unchanged) when nothing matches. */
bool ProcessTable_search(ProcessTable* this, const char* text, int direction, bool includeCurrent);
/* Case-insensitive substring match on the command name and command line. */
bool ProcessTable_matches(const ProcessSample* p, const char* text);
const TableRow* ProcessTable_selectedRow(const ProcessTable* this);
/* The visible column after (step 1) or before (-1) the sort column. */
ColumnId ProcessTable_adjacentColumn(const ProcessTable* this, int step);
/* Sort descending? (the column's natural order, flipped by invert) */
bool ProcessTable_descending(const ProcessTable* this);
/* Draws the header line and rows into the screen rectangle. */
void ProcessTable_draw(ProcessTable* this, const Theme* theme, int y, int height, int width);

#endif
