/* Go's text/tabwriter for runtime/pprof's settings: see Tabwriter.h. The
 * algorithm is Go's (tabwriter.go format/writeLines): columns are laid out
 * left to right, each over the block of consecutive lines that have a cell
 * in it, recursively. */
#include "stacktop/Tabwriter.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Util.h"

#define TAB_WIDTH 8
#define PADDING 1
#define MIN_WIDTH 1

typedef struct Cell_ {
   const char* text;
   size_t size;  /* bytes */
   size_t width; /* code points */
} Cell;

typedef struct Line_ {
   Cell* cells; /* the last one is the unterminated rest of the line */
   size_t count;
} Line;

typedef struct Writer_ {
   Line* lines;
   size_t lineCount;
   size_t* widths; /* column widths of the blocks being laid out */
   size_t widthCount;
   FILE* out;
} Writer;

static size_t codePoints(const char* s, size_t n) {
   size_t w = 0;
   for (size_t i = 0; i < n; i++)
      w += ((unsigned char)s[i] & 0xc0) != 0x80;
   return w;
}

static void writePadding(Writer* w, size_t textWidth, size_t cellWidth) {
   /* padchar '\t': the cell is widened to a tab stop and filled with tabs. */
   cellWidth = (cellWidth + TAB_WIDTH - 1) / TAB_WIDTH * TAB_WIDTH;
   size_t n = cellWidth > textWidth ? cellWidth - textWidth : 0;
   for (size_t k = 0; k < (n + TAB_WIDTH - 1) / TAB_WIDTH; k++)
      fputc('\t', w->out);
}

static void writeLines(Writer* w, size_t from, size_t to) {
   for (size_t i = from; i < to; i++) {
      const Line* line = &w->lines[i];
      for (size_t j = 0; j < line->count; j++) {
         const Cell* c = &line->cells[j];
         fwrite(c->text, 1, c->size, w->out);
         if (j < w->widthCount && j + 1 < line->count)
            writePadding(w, c->width, w->widths[j]);
      }
      fputc('\n', w->out);
   }
}

/* Lays out column `widthCount` for lines [from, to) and everything right of it. */
static void format(Writer* w, size_t from, size_t to) {
   size_t column = w->widthCount;
   size_t line0 = from;
   for (size_t this = from; this < to; this ++) {
      if (column + 1 >= w->lines[this].count)
         continue;
      writeLines(w, line0, this);
      line0 = this;
      size_t width = MIN_WIDTH;
      for (; this < to && column + 1 < w->lines[this].count; this ++) {
         size_t cw = w->lines[this].cells[column].width + PADDING;
         if (cw > width)
            width = cw;
      }
      w->widths[w->widthCount++] = width;
      format(w, line0, this);
      w->widthCount--;
      line0 = this;
      this --; /* the loop's increment: look at the line that ended the block again */
   }
   writeLines(w, line0, to);
}

static void splitLine(Line* line, const char* s, size_t n) {
   size_t cells = 1;
   for (size_t i = 0; i < n; i++)
      cells += s[i] == '\t';
   line->cells = Util_xcalloc(cells, sizeof(Cell));
   line->count = 0;
   size_t start = 0;
   for (size_t i = 0; i <= n; i++) {
      if (i < n && s[i] != '\t')
         continue;
      line->cells[line->count++] = (Cell){ s + start, i - start, codePoints(s + start, i - start) };
      start = i + 1;
   }
}

/* Formats and frees the buffered lines. */
static void flush(Writer* w) {
   size_t maxCells = 0;
   for (size_t i = 0; i < w->lineCount; i++)
      maxCells = w->lines[i].count > maxCells ? w->lines[i].count : maxCells;
   w->widths = Util_xcalloc(maxCells + 1, sizeof(size_t));
   w->widthCount = 0;
   format(w, 0, w->lineCount);
   for (size_t i = 0; i < w->lineCount; i++)
      free(w->lines[i].cells);
   free(w->widths);
   w->widths = NULL;
   w->lineCount = 0;
}

void Tabwriter_write(const char* text, size_t len, FILE* out) {
   Writer w = { .out = out };
   size_t capacity = 0;
   size_t start = 0;
   for (size_t i = 0; i < len; i++) {
      if (text[i] != '\n')
         continue;
      Util_growArray((void**)&w.lines, &capacity, w.lineCount, sizeof(Line));
      Line* line = &w.lines[w.lineCount++];
      splitLine(line, text + start, i - start);
      start = i + 1;
      /* A line without a tab affects no later line's layout: Go flushes here. */
      if (line->count == 1)
         flush(&w);
   }
   flush(&w);
   free(w.lines);
}
