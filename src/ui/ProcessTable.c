/* Process table rows, selection, search and drawing. */
#include "stacktop/ProcessTable.h"

#include <curses.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Draw.h"
#include "stacktop/Format.h"
#include "stacktop/Util.h"

#define DEFAULT_PAGE_ROWS 20

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

/* Columns that mean something on a thread row; the others stay blank. */
static const bool threadColumns[COL_COUNT] = {
   [COL_PID] = true, [COL_USER] = true, [COL_STATE] = true, [COL_CPU] = true, [COL_TIME] = true, [COL_COMMAND] = true,
};

static const ThemeStyle magnitudeStyles[] = { STYLE_SIZE_K, STYLE_SIZE_M, STYLE_SIZE_G, STYLE_SIZE_G };

void ProcessTable_init(ProcessTable* this) {
   memset(this, 0, sizeof(*this));
   this->sortColumn = COL_RES;
   this->pageRows = DEFAULT_PAGE_ROWS;
   for (int i = 0; i < COL_COUNT; i++)
      this->visible[i] = true;
}

void ProcessTable_done(ProcessTable* this) {
   free(this->rows);
   free(this->sorted);
   this->rows = NULL;
   this->sorted = NULL;
   this->rowCount = 0;
}

bool ProcessTable_descending(const ProcessTable* this) {
   return Column_get(this->sortColumn)->defaultDescending != this->invert;
}

bool ProcessTable_matches(const ProcessSample* p, const char* text) {
   if (!text[0])
      return true;
   return strcasestr(p->comm, text) || (p->command && strcasestr(p->command, text));
}

static void addRow(ProcessTable* this, const ProcessSample* p, long thread) {
   Util_growArray((void**)&this->rows, &this->rowCapacity, this->rowCount, sizeof(TableRow));
   this->rows[this->rowCount++] = (TableRow){ .process = p, .thread = thread };
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

void ProcessTable_rebuild(ProcessTable* this, const ProcessSample* const* procs, size_t count) {
   if (count > 0)
      Util_growArray((void**)&this->sorted, &this->sortedCapacity, count - 1, sizeof(*this->sorted));
   size_t n = 0;
   for (size_t i = 0; i < count; i++) {
      if (ProcessTable_matches(procs[i], this->filter))
         this->sorted[n++] = procs[i];
   }
   Column_sort(this->sorted, n, this->sortColumn, ProcessTable_descending(this));
   this->rowCount = 0;
   for (size_t i = 0; i < n; i++) {
      const ProcessSample* p = this->sorted[i];
      addRow(this, p, -1);
      if (!this->showThreads)
         continue;
      for (size_t t = 0; t < p->threadRowCount; t++) {
         if (p->threadRows[t].tid != p->pid)
            addRow(this, p, (long)t);
      }
   }
   size_t index;
   if (this->selectedPid && findRow(this, this->selectedPid, this->selectedTid, &index))
      this->selected = index;
   else if (this->selected >= this->rowCount)
      this->selected = this->rowCount ? this->rowCount - 1 : 0;
   rememberSelection(this);
   ensureVisible(this);
}

void ProcessTable_move(ProcessTable* this, long delta) {
   if (this->rowCount == 0)
      return;
   long target = (long)this->selected + delta;
   if (target < 0)
      target = 0;
   if (target >= (long)this->rowCount)
      target = (long)this->rowCount - 1;
   this->selected = (size_t)target;
   rememberSelection(this);
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

/* ---- drawing */

static ThemeStyle stateStyle(char state) {
   switch (state) {
   case 'R': return STYLE_PROC_RUNNING;
   case 'D': return STYLE_PROC_DISK;
   case 'T':
   case 't': return STYLE_PROC_STOPPED;
   case 'Z':
   case 'X': return STYLE_PROC_ZOMBIE;
   default: return STYLE_TEXT;
   }
}

/* The style of one cell of a process row (not selected). */
static ThemeStyle cellStyle(ColumnId id, const ProcessSample* p, bool threadRow) {
   if (sizeFields[id].isSize) {
      unsigned long kib = *(const unsigned long*)((const char*)p + sizeFields[id].offset);
      return magnitudeStyles[Format_kibMagnitude(kib) & 3];
   }
   if (id == COL_STATE)
      return stateStyle(p->state);
   if (id == COL_RGROW)
      return p->resGrowthKiBPerMin > 0 ? STYLE_GROWTH : STYLE_INACTIVE;
   if (id == COL_COMMAND)
      return threadRow ? STYLE_THREAD : p->kernelThread ? STYLE_INACTIVE : STYLE_TEXT;
   return threadRow ? STYLE_THREAD : STYLE_TEXT;
}

/* A thread row shown through the process column formatters. */
static ProcessSample threadAsProcess(const ProcessSample* p, const ThreadSample* t) {
   ProcessSample copy = *p;
   copy.pid = t->tid;
   copy.state = t->state;
   copy.cpuPct = t->cpuPct;
   copy.cpuTimeS = t->cpuTimeS;
   copy.command = NULL;
   return copy;
}

static void formatCell(const ProcessTable* this, const TableRow* row, const ProcessSample* shown, ColumnId id,
                       char* buf, size_t size) {
   buf[0] = '\0';
   if (row->thread < 0) {
      Column_format(id, shown, buf, size);
      return;
   }
   if (!threadColumns[id])
      return;
   if (id != COL_COMMAND) {
      Column_format(id, shown, buf, size);
      return;
   }
   bool last = (size_t)row->thread + 1 == row->process->threadRowCount;
   const char* branch = this->utf8 ? (last ? "\u2514\u2500 " : "\u251c\u2500 ") : (last ? "`- " : "|- ");
   Util_format(buf, size, "%s%s", branch, row->process->threadRows[row->thread].name);
}

/* Where one visible column sits on the screen for this draw. */
typedef struct Cell_ {
   ColumnId id;
   const Column* col;
   int x, width;
} Cell;

/* Draws text into one laid-out cell. */
static void drawCell(int y, const Cell* cell, const char* text, int attr) {
   int cells = Draw_cells(text);
   int pad = (!cell->col->leftAlign && cells < cell->width) ? cell->width - cells : 0;
   if (pad > 0)
      Draw_fill(y, cell->x, pad, attr);
   Draw_text(y, cell->x + pad, text, cell->width - pad, attr);
}

/* On a narrow terminal (80 columns over SSH) the fixed columns alone would
 * push COMMAND off the screen. These give way first, in this order, until
 * COMMAND has MIN_COMMAND_CELLS; the user's visible set is left unchanged. */
#define MIN_COMMAND_CELLS 20
static const ColumnId narrowDropOrder[] = { COL_DATA, COL_SHR, COL_VIRT, COL_TIME, COL_MEM, COL_USER };

static int fixedCells(const bool* columns) {
   int cells = 0;
   for (int id = 0; id < COL_COUNT; id++) {
      const Column* col = Column_get((ColumnId)id);
      if (columns[id] && col->width > 0)
         cells += col->width + 1;
   }
   return cells;
}

static void fitColumns(const ProcessTable* this, int width, bool* columns) {
   memcpy(columns, this->visible, sizeof(this->visible));
   if (!columns[COL_COMMAND])
      return;
   for (size_t i = 0; i < sizeof(narrowDropOrder) / sizeof(narrowDropOrder[0]); i++) {
      if (width - fixedCells(columns) >= MIN_COMMAND_CELLS)
         return;
      if (narrowDropOrder[i] != this->sortColumn)
         columns[narrowDropOrder[i]] = false;
   }
}

/* Positions the shown columns once per draw, for the header and every row:
 * fixed widths plus a one-cell separator, the last (COMMAND) takes the rest. */
static size_t layoutColumns(const ProcessTable* this, int width, Cell* cells) {
   bool columns[COL_COUNT];
   fitColumns(this, width, columns);
   size_t count = 0;
   int x = 0;
   for (int id = 0; id < COL_COUNT && x < width; id++) {
      if (!columns[id])
         continue;
      const Column* col = Column_get((ColumnId)id);
      int w = col->width > 0 && col->width < width - x ? col->width : width - x;
      cells[count++] = (Cell){ .id = (ColumnId)id, .col = col, .x = x, .width = w };
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
      drawCell(y, &cells[i], cells[i].col->header, cellAttr);
   }
}

static void drawRow(const ProcessTable* this, const Theme* theme, const Cell* cells, size_t count, const TableRow* row,
                    bool selected, int y, int width) {
   bool threadRow = row->thread >= 0;
   ProcessSample shown =
       threadRow ? threadAsProcess(row->process, &row->process->threadRows[row->thread]) : *row->process;
   int selectedAttr = Theme_attr(theme, STYLE_SELECTED);
   if (selected)
      Draw_fill(y, 0, width, selectedAttr);
   for (size_t i = 0; i < count; i++) {
      char buf[1024];
      formatCell(this, row, &shown, cells[i].id, buf, sizeof(buf));
      int attr = selected ? selectedAttr : Theme_attr(theme, cellStyle(cells[i].id, &shown, threadRow));
      drawCell(y, &cells[i], buf, attr);
   }
}

void ProcessTable_draw(ProcessTable* this, const Theme* theme, int y, int height, int width) {
   if (height <= 0)
      return;
   Cell cells[COL_COUNT];
   size_t count = layoutColumns(this, width, cells);
   drawHeader(this, theme, cells, count, y, width);
   this->pageRows = height - 1 > 0 ? height - 1 : 1;
   ensureVisible(this);
   for (int i = 0; i < height - 1; i++) {
      size_t index = this->scroll + (size_t)i;
      if (index >= this->rowCount)
         break;
      drawRow(this, theme, cells, count, &this->rows[index], index == this->selected, y + 1 + i, width);
   }
}
