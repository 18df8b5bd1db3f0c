/* Process table rows (flat or tree), selection, tags, search and drawing. */
#include "stacktop/ProcessTable.h"

#include <curses.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Draw.h"
#include "stacktop/Format.h"
#include "stacktop/Util.h"

#define DEFAULT_PAGE_ROWS 20
#define NO_PARENT ((size_t)-1)
/* Tree depth drawn with branch lines; deeper rows keep this indentation. */
#define MAX_DRAWN_DEPTH 63

/* Which KiB field a size column shows, for colouring by magnitude. */
typedef struct SizeField_ {
   bool isSize;
   size_t offset;
} SizeField;

static const SizeField sizeFields[COL_COUNT] = {
   [COL_VIRT] = { true, offsetof(ProcessSample, virtKiB) },
   [COL_RES] = { true, offsetof(ProcessSample, resKiB) },
   [COL_SHR] = { true, offsetof(ProcessSample, shrKiB) },
   [COL_DATA] = { true, offsetof(ProcessSample, dataKiB) },
};

static const ThemeStyle magnitudeStyles[] = { STYLE_SIZE_K, STYLE_SIZE_M, STYLE_SIZE_G, STYLE_SIZE_G };

void ProcessTable_init(ProcessTable* this) {
   memset(this, 0, sizeof(*this));
   this->sortColumn = COL_RES;
   this->pageRows = DEFAULT_PAGE_ROWS;
   this->drawnY = -1;
   for (int i = 0; i < COL_COUNT; i++) {
      this->visible[i] = true;
      this->widths[i] = Column_get((ColumnId)i)->width;
   }
}

void ProcessTable_done(ProcessTable* this) {
   free(this->rows);
   free(this->sorted);
   free(this->scratch);
   free(this->tags);
   free(this->collapsed);
   this->rows = NULL;
   this->sorted = NULL;
   this->scratch = NULL;
   this->tags = NULL;
   this->collapsed = NULL;
   this->rowCount = this->tagCount = this->collapsedCount = 0;
}

bool ProcessTable_descending(const ProcessTable* this) {
   return Column_get(this->sortColumn)->defaultDescending != this->invert;
}

bool ProcessTable_matches(const ProcessSample* p, const char* text) {
   if (!text[0])
      return true;
   return strcasestr(p->comm, text) || (p->command && strcasestr(p->command, text));
}

/* ---- sets of processes (tags, collapsed subtrees), sorted by pid */

static int cmpKey(const void* a, const void* b) {
   pid_t x = ((const ProcessKey*)a)->pid, y = ((const ProcessKey*)b)->pid;
   return (x > y) - (x < y);
}

static ProcessKey keyOf(const ProcessSample* p) {
   return (ProcessKey){ .pid = p->pid, .startTicks = p->startTicks };
}

static long keyIndex(const ProcessKey* set, size_t count, ProcessKey key) {
   const ProcessKey* k = count ? bsearch(&key, set, count, sizeof(ProcessKey), cmpKey) : NULL;
   return k && k->startTicks == key.startTicks ? k - set : -1;
}

static void keyAdd(ProcessKey** set, size_t* count, size_t* capacity, ProcessKey key) {
   long i = keyIndex(*set, *count, key);
   if (i >= 0)
      return;
   /* A stale entry for a reused pid is replaced. */
   const ProcessKey* same = *count ? bsearch(&key, *set, *count, sizeof(ProcessKey), cmpKey) : NULL;
   if (same) {
      (*set)[same - *set] = key;
      return;
   }
   Util_growArray((void**)set, capacity, *count, sizeof(ProcessKey));
   (*set)[(*count)++] = key;
   qsort(*set, *count, sizeof(ProcessKey), cmpKey);
}

static void keyRemove(ProcessKey* set, size_t* count, ProcessKey key) {
   long i = keyIndex(set, *count, key);
   if (i < 0)
      return;
   memmove(&set[i], &set[i + 1], (*count - (size_t)i - 1) * sizeof(ProcessKey));
   (*count)--;
}

static int cmpProcPid(const void* key, const void* entry) {
   pid_t x = *(const pid_t*)key, y = (*(const ProcessSample*const*)entry)->pid;
   return (x > y) - (x < y);
}

/* Keeps only the keys of processes still in procs. The Sampler hands them
 * out by pid, so a binary search does; any other order is scanned. */
static void keyPrune(ProcessKey* set, size_t* count, const ProcessSample* const* procs, size_t n) {
   if (*count == 0)
      return;
   bool byPid = true;
   for (size_t i = 1; i < n && byPid; i++)
      byPid = procs[i - 1]->pid < procs[i]->pid;
   size_t kept = 0;
   for (size_t i = 0; i < *count; i++) {
      const ProcessSample* found = NULL;
      if (byPid) {
         const ProcessSample* const* hit = n ? bsearch(&set[i].pid, procs, n, sizeof(*procs), cmpProcPid) : NULL;
         found = hit ? *hit : NULL;
      }
      for (size_t j = 0; !byPid && j < n && !found; j++)
         found = procs[j]->pid == set[i].pid ? procs[j] : NULL;
      if (found && found->startTicks == set[i].startTicks)
         set[kept++] = set[i];
   }
   *count = kept;
}

bool ProcessTable_isTagged(const ProcessTable* this, const ProcessSample* p) {
   return keyIndex(this->tags, this->tagCount, keyOf(p)) >= 0;
}

static bool isCollapsed(const ProcessTable* this, const ProcessSample* p) {
   return keyIndex(this->collapsed, this->collapsedCount, keyOf(p)) >= 0;
}

/* ---- building rows */

static void addRow(ProcessTable* this, const ProcessSample* p, long thread, unsigned depth, uint64_t lastMask) {
   Util_growArray((void**)&this->rows, &this->rowCapacity, this->rowCount, sizeof(TableRow));
   this->rows[this->rowCount++] = (TableRow){ .process = p, .thread = thread, .depth = depth, .lastMask = lastMask };
}

/* Thread rows of p other than its main thread (which is the process row). */
static size_t extraThreads(const ProcessTable* this, const ProcessSample* p) {
   if (!this->showThreads)
      return 0;
   size_t n = 0;
   for (size_t t = 0; t < p->threadRowCount; t++)
      n += p->threadRows[t].tid != p->pid;
   return n;
}

static void addThreadRows(ProcessTable* this, const ProcessSample* p, unsigned depth, uint64_t mask, size_t after) {
   size_t extra = extraThreads(this, p), done = 0;
   for (size_t t = 0; t < p->threadRowCount && done < extra; t++) {
      if (p->threadRows[t].tid == p->pid)
         continue;
      done++;
      bool last = done == extra && after == 0;
      uint64_t m = depth <= MAX_DRAWN_DEPTH && last ? mask | (1ULL << depth) : mask;
      addRow(this, p, (long)t, depth, m);
   }
}

static bool shownProcess(const ProcessTable* this, const ProcessSample* p) {
   if (this->hideKernelThreads && p->kernelThread)
      return false;
   if (this->userFilter && p->uid != this->uid)
      return false;
   return ProcessTable_matches(p, this->filter);
}

static void buildFlat(ProcessTable* this, size_t n) {
   for (size_t i = 0; i < n; i++) {
      const ProcessSample* p = this->sorted[i];
      addRow(this, p, -1, 0, 0);
      if (!this->showThreads)
         continue;
      size_t extra = extraThreads(this, p), done = 0;
      for (size_t t = 0; t < p->threadRowCount && done < extra; t++) {
         if (p->threadRows[t].tid != p->pid)
            addRow(this, p, (long)t, 1, ++done == extra ? 2 : 0);
      }
   }
}

/* The tree, from the shown processes in sort order: each process's children
 * are the shown processes whose ppid is its pid, in sort order; a process
 * whose parent is not shown is a root. Iterative, so a hostile fork chain
 * thousands deep cannot exhaust the stack, and each process is emitted once
 * even if a pid race made the parent links circular. */
typedef struct TreeScratch_ {
   size_t* parent;     /* per sorted index: sorted index of the parent, or NO_PARENT */
   size_t* childStart; /* per sorted index + 1: offsets into children */
   size_t* children;   /* sorted indexes grouped by parent, in sort order */
   size_t* byPid;      /* sorted indexes ordered by pid */
   size_t* stack;      /* DFS: sorted index per level */
   size_t* next;       /* DFS: next child position per level */
   uint64_t* masks;    /* DFS: lastMask per level */
   bool* emitted;
   bool* reached; /* below some root, folded or not */
   bool* isRoot;
} TreeScratch;

static int cmpByPid(const void* a, const void* b, void* arg) {
   const ProcessSample* const* sorted = arg;
   pid_t x = sorted[*(const size_t*)a]->pid, y = sorted[*(const size_t*)b]->pid;
   return (x > y) - (x < y);
}

static size_t findByPid(const TreeScratch* s, const ProcessSample* const* sorted, size_t n, pid_t pid) {
   size_t lo = 0, hi = n;
   while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (sorted[s->byPid[mid]]->pid < pid)
         lo = mid + 1;
      else
         hi = mid;
   }
   return lo < n && sorted[s->byPid[lo]]->pid == pid ? s->byPid[lo] : NO_PARENT;
}

static void linkParents(TreeScratch* s, const ProcessSample* const* sorted, size_t n) {
   for (size_t i = 0; i < n; i++)
      s->byPid[i] = i;
   qsort_r(s->byPid, n, sizeof(size_t), cmpByPid, (void*)sorted);
   memset(s->childStart, 0, (n + 1) * sizeof(size_t));
   for (size_t i = 0; i < n; i++) {
      pid_t ppid = sorted[i]->ppid;
      s->parent[i] = ppid > 0 && ppid != sorted[i]->pid ? findByPid(s, sorted, n, ppid) : NO_PARENT;
      if (s->parent[i] != NO_PARENT)
         s->childStart[s->parent[i] + 1]++;
   }
   for (size_t i = 0; i < n; i++)
      s->childStart[i + 1] += s->childStart[i];
   size_t* fill = s->next; /* reused as per-parent fill counters */
   memset(fill, 0, n * sizeof(size_t));
   for (size_t i = 0; i < n; i++) {
      size_t p = s->parent[i];
      if (p != NO_PARENT)
         s->children[s->childStart[p] + fill[p]++] = i;
   }
}

static void emitSubtree(ProcessTable* this, TreeScratch* s, size_t root) {
   const ProcessSample* const* sorted = this->sorted;
   s->emitted[root] = true;
   size_t top = 0;
   s->stack[0] = root;
   s->next[0] = s->childStart[root];
   s->masks[0] = 0;
   size_t first = this->rowCount;
   addRow(this, sorted[root], -1, 0, 0);
   this->rows[first].collapsed = isCollapsed(this, sorted[root]);
   size_t rootKids = s->childStart[root + 1] - s->childStart[root];
   this->rows[first].hasChildren = rootKids + extraThreads(this, sorted[root]) > 0;
   if (!this->rows[first].collapsed)
      addThreadRows(this, sorted[root], 1, 0, rootKids);
   bool descend = !this->rows[first].collapsed;
   for (;;) {
      size_t node = s->stack[top];
      if (!descend || s->next[top] >= s->childStart[node + 1]) {
         if (top == 0)
            return;
         top--;
         descend = true;
         continue;
      }
      size_t child = s->children[s->next[top]++];
      if (s->emitted[child])
         continue;
      s->emitted[child] = true;
      unsigned depth = (unsigned)(top + 1);
      bool last = s->next[top] >= s->childStart[node + 1];
      uint64_t mask = s->masks[top] | (last && depth <= MAX_DRAWN_DEPTH ? 1ULL << depth : 0);
      size_t row = this->rowCount;
      addRow(this, sorted[child], -1, depth, mask);
      size_t kids = s->childStart[child + 1] - s->childStart[child];
      TableRow* r = &this->rows[row];
      r->collapsed = isCollapsed(this, sorted[child]);
      r->hasChildren = kids + extraThreads(this, sorted[child]) > 0;
      if (r->collapsed)
         continue;
      addThreadRows(this, sorted[child], depth + 1, mask, kids);
      top++;
      s->stack[top] = child;
      s->next[top] = s->childStart[child];
      s->masks[top] = mask;
   }
}

/* Marks everything below root as reached (no rows), iteratively. */
static void markReached(TreeScratch* s, size_t root) {
   size_t top = 0;
   s->reached[root] = true;
   s->stack[0] = root;
   s->next[0] = s->childStart[root];
   for (;;) {
      size_t node = s->stack[top];
      if (s->next[top] >= s->childStart[node + 1]) {
         if (top == 0)
            return;
         top--;
         continue;
      }
      size_t child = s->children[s->next[top]++];
      if (s->reached[child])
         continue;
      s->reached[child] = true;
      top++;
      s->stack[top] = child;
      s->next[top] = s->childStart[child];
   }
}

static void buildTree(ProcessTable* this, size_t n) {
   if (n == 0)
      return;
   Util_growArray((void**)&this->scratch, &this->scratchCapacity, n * 8 + 1, sizeof(size_t));
   size_t* base = this->scratch;
   bool* flags = (bool*)(base + 7 * n + 1); /* n size_t's of room: three bools per process */
   TreeScratch s = {
      .parent = base,
      .childStart = base + n,
      .children = base + 2 * n + 1,
      .byPid = base + 3 * n + 1,
      .stack = base + 4 * n + 1,
      .next = base + 5 * n + 1,
      .masks = (uint64_t*)(base + 6 * n + 1),
      .emitted = flags,
      .reached = flags + n,
      .isRoot = flags + 2 * n,
   };
   memset(flags, 0, 3 * n * sizeof(bool));
   linkParents(&s, this->sorted, n);
   for (size_t i = 0; i < n; i++) {
      s.isRoot[i] = s.parent[i] == NO_PARENT;
      if (s.isRoot[i])
         markReached(&s, i);
   }
   /* What no root reaches hangs on a circular parent chain (a pid race):
    * its first process in sort order stands in as a root. */
   for (size_t i = 0; i < n; i++) {
      if (!s.reached[i]) {
         s.isRoot[i] = true;
         markReached(&s, i);
      }
   }
   for (size_t i = 0; i < n; i++) {
      if (s.isRoot[i])
         emitSubtree(this, &s, i);
   }
}

static pid_t rowTid(const TableRow* row) {
   return row->thread < 0 ? 0 : row->process->threadRows[row->thread].tid;
}

static void ensureVisible(ProcessTable* this) {
   size_t page = this->pageRows > 0 ? (size_t)this->pageRows : 1;
   if (this->selected < this->scroll)
      this->scroll = this->selected;
   else if (this->selected >= this->scroll + page)
      this->scroll = this->selected - page + 1;
   size_t maxScroll = this->rowCount > page ? this->rowCount - page : 0;
   if (this->scroll > maxScroll)
      this->scroll = maxScroll;
}

static void rememberSelection(ProcessTable* this) {
   if (this->rowCount == 0) {
      this->selected = 0;
      return;
   }
   const TableRow* row = &this->rows[this->selected];
   this->selectedPid = row->process->pid;
   this->selectedTid = rowTid(row);
}

/* Index of the row for pid/tid; the process row when the thread is gone. */
static bool findRow(const ProcessTable* this, pid_t pid, pid_t tid, size_t* out) {
   bool found = false;
   for (size_t i = 0; i < this->rowCount; i++) {
      if (this->rows[i].process->pid != pid)
         continue;
      if (rowTid(&this->rows[i]) == tid) {
         *out = i;
         return true;
      }
      if (this->rows[i].thread < 0) {
         *out = i;
         found = true;
      }
   }
   return found;
}

/* A thread row shown through the process column formatters. */
static ProcessSample threadAsProcess(const ProcessSample* p, const ThreadSample* t) {
   ProcessSample copy = *p;
   copy.pid = t->tid;
   copy.state = t->state;
   copy.cpuPct = t->cpuPct;
   copy.cpuTimeS = t->cpuTimeS;
   copy.nice = t->nice;
   copy.processor = t->processor;
   copy.startTime = t->startTime;
   copy.command = NULL;
   return copy;
}

/* Widths of the columns that grow with their values (THR of a process with
 * 10051 threads), over every row, so they do not change while scrolling. */
static void measureWidths(ProcessTable* this) {
   this->anyGo = false;
   for (size_t i = 0; i < this->rowCount && !this->anyGo; i++)
      this->anyGo = this->rows[i].process->goroutines >= 0;
   for (int id = 0; id < COL_COUNT; id++) {
      const Column* col = Column_get((ColumnId)id);
      this->widths[id] = col->width;
      if (!col->grows || !this->visible[id] || col->width == 0)
         continue;
      int header = Draw_cells(col->header);
      int w = col->width > header ? col->width : header;
      for (size_t i = 0; i < this->rowCount; i++) {
         const TableRow* row = &this->rows[i];
         if (row->thread >= 0 && !col->threadValue)
            continue;
         ProcessSample shown =
             row->thread >= 0 ? threadAsProcess(row->process, &row->process->threadRows[row->thread]) : *row->process;
         char buf[64];
         Column_format((ColumnId)id, &shown, buf, sizeof(buf));
         int cells = (int)strlen(buf); /* numbers: one byte a cell */
         if (cells > w)
            w = cells;
      }
      this->widths[id] = w;
   }
}

static void restoreSelection(ProcessTable* this) {
   size_t index;
   bool found = this->selectedPid && findRow(this, this->selectedPid, this->selectedTid, &index);
   int offset = (int)this->selected - (int)this->scroll;
   if (found)
      this->selected = index;
   else if (this->selected >= this->rowCount)
      this->selected = this->rowCount ? this->rowCount - 1 : 0;
   if (!found)
      this->following = false;
   rememberSelection(this);
   /* Following: the selected row keeps its line on the screen. */
   if (this->following && offset >= 0 && (size_t)offset <= this->selected)
      this->scroll = this->selected - (size_t)offset;
   ensureVisible(this);
}

void ProcessTable_rebuild(ProcessTable* this, const ProcessSample* const* procs, size_t count) {
   if (count > 0)
      Util_growArray((void**)&this->sorted, &this->sortedCapacity, count - 1, sizeof(*this->sorted));
   keyPrune(this->tags, &this->tagCount, procs, count);
   keyPrune(this->collapsed, &this->collapsedCount, procs, count);
   size_t n = 0;
   for (size_t i = 0; i < count; i++) {
      if (shownProcess(this, procs[i]))
         this->sorted[n++] = procs[i];
   }
   Column_sort(this->sorted, n, this->sortColumn, ProcessTable_descending(this));
   this->rowCount = 0;
   if (this->tree)
      buildTree(this, n);
   else
      buildFlat(this, n);
   measureWidths(this);
   restoreSelection(this);
}

void ProcessTable_move(ProcessTable* this, long delta) {
   this->following = false;
   if (this->rowCount == 0)
      return;
   long target = (long)this->selected + delta;
   if (target < 0)
      target = 0;
   if (target >= (long)this->rowCount)
      target = (long)this->rowCount - 1;
   this->selected = (size_t)target;
   rememberSelection(this);
   /* A page moves the view with the cursor, so no line is skipped or shown twice. */
   if (delta > 1 || delta < -1) {
      long top = (long)this->scroll + delta;
      this->scroll = top < 0 ? 0 : (size_t)top;
   }
   ensureVisible(this);
}

static bool rowMatches(const TableRow* row, const char* text) {
   if (row->thread >= 0)
      return strcasestr(row->process->threadRows[row->thread].name, text) != NULL;
   return ProcessTable_matches(row->process, text);
}

bool ProcessTable_search(ProcessTable* this, const char* text, int direction, bool includeCurrent) {
   if (!text[0] || this->rowCount == 0)
      return false;
   size_t n = this->rowCount;
   for (size_t step = includeCurrent ? 0 : 1; step <= n; step++) {
      size_t i = direction >= 0 ? (this->selected + step) % n : (this->selected + n * 2 - step) % n;
      if (rowMatches(&this->rows[i], text)) {
         this->selected = i;
         rememberSelection(this);
         ensureVisible(this);
         return true;
      }
   }
   return false;
}

const TableRow* ProcessTable_selectedRow(const ProcessTable* this) {
   return this->rowCount ? &this->rows[this->selected] : NULL;
}

ColumnId ProcessTable_adjacentColumn(const ProcessTable* this, int step) {
   int id = (int)this->sortColumn;
   for (int i = 0; i < COL_COUNT; i++) {
      id = (id + step + COL_COUNT) % COL_COUNT;
      if (this->visible[id])
         return (ColumnId)id;
   }
   return this->sortColumn;
}

/* ---- tags */

size_t ProcessTable_toggleTag(ProcessTable* this) {
   const TableRow* row = ProcessTable_selectedRow(this);
   if (row) {
      ProcessKey key = keyOf(row->process);
      if (keyIndex(this->tags, this->tagCount, key) >= 0)
         keyRemove(this->tags, &this->tagCount, key);
      else
         keyAdd(&this->tags, &this->tagCount, &this->tagCapacity, key);
   }
   return this->tagCount;
}

size_t ProcessTable_tagWithChildren(ProcessTable* this, const ProcessSample* const* procs, size_t count) {
   const TableRow* row = ProcessTable_selectedRow(this);
   if (!row)
      return this->tagCount;
   /* Breadth first from the selected process: each found descendant is
    * queued once (it is tagged when queued), so circular links end too. */
   const ProcessSample** queue = Util_xcalloc(count + 1, sizeof(*queue));
   size_t head = 0, tail = 0;
   queue[tail++] = row->process;
   keyAdd(&this->tags, &this->tagCount, &this->tagCapacity, keyOf(row->process));
   while (head < tail) {
      pid_t parent = queue[head++]->pid;
      for (size_t i = 0; i < count && tail <= count; i++) {
         if (procs[i]->ppid != parent || procs[i]->pid == parent || ProcessTable_isTagged(this, procs[i]))
            continue;
         keyAdd(&this->tags, &this->tagCount, &this->tagCapacity, keyOf(procs[i]));
         queue[tail++] = procs[i];
      }
   }
   free(queue);
   return this->tagCount;
}

void ProcessTable_untagAll(ProcessTable* this) {
   this->tagCount = 0;
}

size_t ProcessTable_targets(const ProcessTable* this, ProcessKey* out, size_t max) {
   if (this->tagCount == 0) {
      const TableRow* row = ProcessTable_selectedRow(this);
      if (!row || max == 0)
         return 0;
      out[0] = keyOf(row->process);
      return 1;
   }
   size_t n = this->tagCount < max ? this->tagCount : max;
   memcpy(out, this->tags, n * sizeof(ProcessKey));
   return n;
}

/* ---- tree folding */

void ProcessTable_setCollapsed(ProcessTable* this, bool collapsed) {
   const TableRow* row = ProcessTable_selectedRow(this);
   if (!row)
      return;
   ProcessKey key = keyOf(row->process);
   if (collapsed)
      keyAdd(&this->collapsed, &this->collapsedCount, &this->collapsedCapacity, key);
   else
      keyRemove(this->collapsed, &this->collapsedCount, key);
   /* Collapsing from a thread row selects its process. */
   this->selectedTid = 0;
}

void ProcessTable_toggleAll(ProcessTable* this) {
   if (this->collapsedCount) {
      this->collapsedCount = 0;
      return;
   }
   for (size_t i = 0; i < this->rowCount; i++) {
      const TableRow* r = &this->rows[i];
      if (r->thread < 0 && r->depth == 0 && r->hasChildren)
         keyAdd(&this->collapsed, &this->collapsedCount, &this->collapsedCapacity, keyOf(r->process));
   }
}

/* ---- scrolling and the mouse */

void ProcessTable_scrollH(ProcessTable* this, int delta) {
   this->hscroll += delta;
   if (this->hscroll < 0)
      this->hscroll = 0;
}

int ProcessTable_columnAt(const ProcessTable* this, int x) {
   for (int id = 0; id < COL_COUNT; id++) {
      if (this->columnX[id] >= 0 && x >= this->columnX[id] && x < this->columnEnd[id])
         return id;
   }
   return -1;
}

bool ProcessTable_isHeaderLine(const ProcessTable* this, int y) {
   return this->drawnY >= 0 && y == this->drawnY;
}

bool ProcessTable_selectAt(ProcessTable* this, int y) {
   if (this->drawnY < 0 || y <= this->drawnY || y > this->drawnY + this->pageRows)
      return false;
   size_t index = this->scroll + (size_t)(y - this->drawnY - 1);
   if (index >= this->rowCount)
      return false;
   this->following = false;
   this->selected = index;
   rememberSelection(this);
   return true;
}

/* ---- drawing */

/* The style of one cell of a process row (not selected). */
static ThemeStyle cellStyle(ColumnId id, const ProcessSample* p, bool threadRow) {
   if (sizeFields[id].isSize) {
      unsigned long kib = *(const unsigned long*)((const char*)p + sizeFields[id].offset);
      return magnitudeStyles[Format_kibMagnitude(kib) & 3];
   }
   if (id == COL_STATE)
      return Theme_stateStyle(p->state, STYLE_TEXT);
   if (id == COL_RGROW)
      return p->resGrowthKiBPerMin > 0 ? STYLE_GROWTH : STYLE_INACTIVE;
   if (id == COL_COMMAND)
      return threadRow ? STYLE_THREAD : p->kernelThread ? STYLE_INACTIVE : STYLE_TEXT;
   return threadRow ? STYLE_THREAD : STYLE_TEXT;
}

/* Branch lines in front of a tree or thread row's name: "│  ├─ ", and
 * "├+ " for a collapsed subtree ("+ " at the top level). */
static void branchPrefix(const ProcessTable* this, const TableRow* row, char* buf, size_t size) {
   enum { VERTICAL, BLANK, TEE, CORNER, TEE_FOLDED, CORNER_FOLDED };
   static const char* const utf8[] = { "\u2502  ", "   ", "\u251c\u2500 ", "\u2514\u2500 ", "\u251c+ ", "\u2514+ " };
   static const char* const ascii[] = { "|  ", "   ", "|- ", "`- ", "|+ ", "`+ " };
   const char* const* g = this->utf8 ? utf8 : ascii;
   size_t used = 0;
   buf[0] = '\0';
   unsigned depth = row->depth > MAX_DRAWN_DEPTH ? MAX_DRAWN_DEPTH : row->depth;
   for (unsigned d = 1; d <= depth; d++) {
      bool last = (row->lastMask >> d) & 1;
      int piece = d < depth ? (last ? BLANK : VERTICAL) : (last ? CORNER : TEE) + (row->collapsed ? 2 : 0);
      size_t n = strlen(g[piece]);
      if (used + n >= size)
         break;
      memcpy(buf + used, g[piece], n);
      used += n;
   }
   if (depth == 0 && row->collapsed && used + 2 < size) {
      memcpy(buf + used, "+ ", 2);
      used += 2;
   }
   buf[used] = '\0';
}

static void formatCell(const ProcessTable* this, const TableRow* row, const ProcessSample* shown, ColumnId id,
                       char* buf, size_t size) {
   buf[0] = '\0';
   bool threadRow = row->thread >= 0;
   if (threadRow && !Column_get(id)->threadValue)
      return;
   if (id != COL_COMMAND) {
      Column_format(id, shown, buf, size);
      return;
   }
   char prefix[MAX_DRAWN_DEPTH * 4 + 16];
   branchPrefix(this, row, prefix, sizeof(prefix));
   const char* text =
       threadRow ? row->process->threadRows[row->thread].name : (shown->command ? shown->command : shown->comm);
   Util_format(buf, size, "%s%s", prefix, text);
}

/* Where one visible column sits on the (scrolled) line for this draw. */
typedef struct Cell_ {
   ColumnId id;
   const Column* col;
   int x, width; /* x on the unscrolled line */
} Cell;

/* Draws text into one laid-out cell, shifted left by hscroll. */
static void drawCell(const ProcessTable* this, int y, int screenWidth, const Cell* cell, const char* text, int attr) {
   int cells = Draw_cells(text);
   int pad = (!cell->col->leftAlign && cells < cell->width) ? cell->width - cells : 0;
   int x = cell->x - this->hscroll;
   /* Padding and text as one run from x, of which the part left of 0 is skipped. */
   int skip = x < 0 ? -x : 0;
   int start = x < 0 ? 0 : x;
   int room = screenWidth - start;
   if (room <= 0 || x + cell->width <= 0)
      return;
   int padShown = pad - skip > 0 ? pad - skip : 0;
   if (padShown > 0)
      Draw_fill(y, start, padShown < room ? padShown : room, attr);
   int textSkip = skip > pad ? skip - pad : 0;
   int textX = start + padShown;
   int textRoom = cell->width - pad - textSkip;
   if (textRoom > screenWidth - textX)
      textRoom = screenWidth - textX;
   Draw_textFrom(y, textX, text, textSkip, textRoom, attr);
}

/* On a narrow terminal (80 columns over SSH) the fixed columns alone would
 * push COMMAND off the screen. These give way first, in this order, until
 * COMMAND has MIN_COMMAND_CELLS; the user's visible set is left unchanged. */
#define MIN_COMMAND_CELLS 20
static const ColumnId narrowDropOrder[] = { COL_DATA, COL_SHR, COL_VIRT, COL_TIME, COL_MEM, COL_USER };

static int fixedCells(const ProcessTable* this, const bool* columns) {
   int cells = 0;
   for (int id = 0; id < COL_COUNT; id++) {
      if (columns[id] && this->widths[id] > 0)
         cells += this->widths[id] + 1;
   }
   return cells;
}

static void fitColumns(const ProcessTable* this, int width, bool* columns) {
   memcpy(columns, this->visible, sizeof(this->visible));
   for (int id = 0; id < COL_COUNT; id++)
      columns[id] = columns[id] && (this->anyGo || !Column_get((ColumnId)id)->onlyWithGo);
   if (!columns[COL_COMMAND])
      return;
   for (size_t i = 0; i < sizeof(narrowDropOrder) / sizeof(narrowDropOrder[0]); i++) {
      if (width - fixedCells(this, columns) >= MIN_COMMAND_CELLS)
         return;
      if (narrowDropOrder[i] != this->sortColumn)
         columns[narrowDropOrder[i]] = false;
   }
}

/* Positions the shown columns once per draw, for the header and every row:
 * each column's width for this rebuild plus a one-cell separator; COMMAND
 * (width 0) takes the rest of the line, and with a horizontal scroll that
 * much more. */
static size_t layoutColumns(ProcessTable* this, int width, Cell* cells) {
   bool columns[COL_COUNT];
   fitColumns(this, width, columns);
   size_t count = 0;
   int x = 0, lineWidth = width + this->hscroll;
   for (int id = 0; id <= COL_COUNT; id++)
      this->columnX[id] = this->columnEnd[id] = -1;
   for (int id = 0; id < COL_COUNT && x < lineWidth; id++) {
      if (!columns[id])
         continue;
      const Column* col = Column_get((ColumnId)id);
      int fixed = this->widths[id];
      int w = fixed > 0 && fixed < lineWidth - x ? fixed : lineWidth - x;
      cells[count++] = (Cell){ .id = (ColumnId)id, .col = col, .x = x, .width = w };
      this->columnX[id] = x - this->hscroll;
      this->columnEnd[id] = x - this->hscroll + w + 1;
      x += w + 1;
   }
   return count;
}

static void drawHeader(const ProcessTable* this, const Theme* theme, const Cell* cells, size_t count, int y,
                       int width) {
   int attr = Theme_attr(theme, STYLE_HEADER);
   Draw_fill(y, 0, width, attr);
   for (size_t i = 0; i < count; i++) {
      int cellAttr = cells[i].id == this->sortColumn ? Theme_attr(theme, STYLE_HEADER_SORT) : attr;
      drawCell(this, y, width, &cells[i], cells[i].col->header, cellAttr);
   }
}

static int rowAttr(const ProcessTable* this, const Theme* theme, const TableRow* row, ColumnId id,
                   const ProcessSample* shown, bool selected) {
   if (selected)
      return Theme_attr(theme, this->following ? STYLE_FOLLOW : STYLE_SELECTED);
   if (row->thread < 0 && ProcessTable_isTagged(this, row->process))
      return Theme_attr(theme, STYLE_TAGGED);
   return Theme_attr(theme, cellStyle(id, shown, row->thread >= 0));
}

static void drawRow(const ProcessTable* this, const Theme* theme, const Cell* cells, size_t count, const TableRow* row,
                    bool selected, int y, int width) {
   bool threadRow = row->thread >= 0;
   ProcessSample shown =
       threadRow ? threadAsProcess(row->process, &row->process->threadRows[row->thread]) : *row->process;
   if (selected)
      Draw_fill(y, 0, width, rowAttr(this, theme, row, COL_PID, &shown, true));
   for (size_t i = 0; i < count; i++) {
      char buf[4200]; /* a whole cmdline (the Sampler caps it at 4 KiB) plus the tree */
      formatCell(this, row, &shown, cells[i].id, buf, sizeof(buf));
      drawCell(this, y, width, &cells[i], buf, rowAttr(this, theme, row, cells[i].id, &shown, selected));
   }
}

/* Scrolling right stops once the longest line on screen ends at the
 * right edge, so Left brings it back at once. */
static void clampScroll(ProcessTable* this, int width) {
   bool columns[COL_COUNT];
   fitColumns(this, width, columns);
   int widest = fixedCells(this, columns);
   for (int i = 0; columns[COL_COMMAND] && i < this->pageRows; i++) {
      size_t index = this->scroll + (size_t)i;
      if (index >= this->rowCount)
         break;
      const TableRow* row = &this->rows[index];
      ProcessSample shown =
          row->thread >= 0 ? threadAsProcess(row->process, &row->process->threadRows[row->thread]) : *row->process;
      char buf[4200];
      formatCell(this, row, &shown, COL_COMMAND, buf, sizeof(buf));
      int cells = fixedCells(this, columns) + Draw_cells(buf);
      widest = cells > widest ? cells : widest;
   }
   int most = widest - width > 0 ? widest - width : 0;
   if (this->hscroll > most)
      this->hscroll = most;
}

void ProcessTable_draw(ProcessTable* this, const Theme* theme, int y, int height, int width) {
   if (height <= 0)
      return;
   this->pageRows = height - 1 > 0 ? height - 1 : 1;
   ensureVisible(this);
   if (this->hscroll > 0)
      clampScroll(this, width);
   Cell cells[COL_COUNT];
   size_t count = layoutColumns(this, width, cells);
   drawHeader(this, theme, cells, count, y, width);
   this->drawnY = y;
   for (int i = 0; i < height - 1; i++) {
      size_t index = this->scroll + (size_t)i;
      if (index >= this->rowCount)
         break;
      drawRow(this, theme, cells, count, &this->rows[index], index == this->selected, y + 1 + i, width);
   }
}
