#ifndef STACKTOP_PROCESSTABLE_H
#define STACKTOP_PROCESSTABLE_H
/* The process table of the monitor: rows built from the cached sample
 * (name filter, user filter, kernel threads hidden or not, sort, optional
 * thread rows, optional tree), the selection (kept on the same pid/tid
 * across refreshes and re-sorts; "follow" also keeps it on the same screen
 * line), tags, horizontal scrolling, search, and drawing. Pure apart from
 * ProcessTable_draw, so it is unit-tested without a terminal. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stacktop/Column.h"
#include "stacktop/ProcessControl.h"
#include "stacktop/Sampler.h"
#include "stacktop/Theme.h"

typedef struct TableRow_ {
   const ProcessSample* process;
   long thread;       /* -1: the process itself, else an index into threadRows */
   unsigned depth;    /* tree depth (0 outside the tree view) */
   uint64_t lastMask; /* tree: bit d set when the row's ancestor at depth d (the row itself at its depth) is the last
                         child of its parent */
   bool hasChildren;  /* tree: it has rows under it (shown or collapsed) */
   bool collapsed;    /* tree: its rows are hidden */
} TableRow;

typedef struct ProcessTable_ {
   TableRow* rows; /* owned; pointers into the Sampler's current sample */
   size_t rowCount, rowCapacity;
   const ProcessSample** sorted; /* owned scratch arrays */
   size_t sortedCapacity;
   size_t* scratch;
   size_t scratchCapacity;
   ColumnId sortColumn;
   bool invert; /* reverse the column's natural order */
   bool visible[COL_COUNT];
   bool showThreads;
   bool tree;              /* processes under their parents */
   bool hideKernelThreads; /* [kthreadd] and its children */
   char filter[192];       /* UTF-8; "" = every process */
   bool userFilter;        /* only processes of uid */
   uid_t uid;
   pid_t selectedPid; /* 0 = nothing selected yet */
   pid_t selectedTid; /* 0 = the process row */
   size_t selected;
   size_t scroll;         /* first row on screen */
   int pageRows;          /* rows that fit, from the last layout */
   bool following;        /* F: the selected process keeps its screen line */
   int hscroll;           /* cells scrolled to the right */
   bool utf8;             /* draw the thread tree with box characters */
   int widths[COL_COUNT]; /* this rebuild's width of each column */
   bool anyGo;            /* this rebuild has a Go process: its columns (GOR, GGROW) are shown */
   ProcessKey* tags;      /* owned, sorted by pid */
   size_t tagCount, tagCapacity;
   ProcessKey* collapsed; /* tree: collapsed processes; owned, sorted by pid */
   size_t collapsedCount, collapsedCapacity;
   /* Where the last draw put things, for mouse clicks. */
   int drawnY;
   int columnX[COL_COUNT + 1]; /* screen x where each drawn column starts, -1 when not drawn */
   int columnEnd[COL_COUNT + 1];
} ProcessTable;

void ProcessTable_init(ProcessTable* this);
void ProcessTable_done(ProcessTable* this);
/* Rebuilds the rows from procs (valid until the next refresh), keeping the
 * selection on the same pid (and tid) when it is still there. Tags and
 * collapsed subtrees of processes that are gone are forgotten. */
void ProcessTable_rebuild(ProcessTable* this, const ProcessSample* const* procs, size_t count);
/* Moves the selection by delta rows (clamped); ends following. */
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

/* Tags: Space toggles the selected process, c tags it with all its
 * descendants (in procs), U clears. Returns the number tagged now. */
size_t ProcessTable_toggleTag(ProcessTable* this);
size_t ProcessTable_tagWithChildren(ProcessTable* this, const ProcessSample* const* procs, size_t count);
void ProcessTable_untagAll(ProcessTable* this);
bool ProcessTable_isTagged(const ProcessTable* this, const ProcessSample* p);
/* The processes an action applies to: the tagged ones still in the table,
 * else the selected one. Writes at most max; returns how many. */
size_t ProcessTable_targets(const ProcessTable* this, ProcessKey* out, size_t max);

/* Tree view: collapse (false) or expand (true) the selected process's
 * subtree; ProcessTable_toggleAll expands everything, or collapses every
 * top-level subtree when nothing is collapsed. Take effect on the next
 * rebuild. */
void ProcessTable_setCollapsed(ProcessTable* this, bool collapsed);
void ProcessTable_toggleAll(ProcessTable* this);

/* Horizontal scroll by delta cells (clamped at 0). */
void ProcessTable_scrollH(ProcessTable* this, int delta);
/* Mouse: the column drawn at screen x of the header line (-1: none), and
 * selecting the row drawn at screen line y (false when there is none). */
int ProcessTable_columnAt(const ProcessTable* this, int x);
bool ProcessTable_selectAt(ProcessTable* this, int y);
/* Was y the header line of the last draw? */
bool ProcessTable_isHeaderLine(const ProcessTable* this, int y);

/* Draws the header line and rows into the screen rectangle. */
void ProcessTable_draw(ProcessTable* this, const Theme* theme, int y, int height, int width);

#endif
