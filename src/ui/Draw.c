/* Drawing helpers on stdscr: neutralised, width-aware text. */
#include "stacktop/Draw.h"

#include <curses.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <wchar.h>

/* Enough for a line of the widest terminal at 4 bytes a cell. */
#define LINE_BYTES 4096

/* One decoded character: its bytes in s (or the '?' standing in for them)
 * and its width in cells. */
typedef struct Glyph_ {
   const char* bytes;
   size_t length; /* bytes of s consumed */
   size_t emitLength;
   int width;
} Glyph;

static bool isControl(wchar_t wc) {
   return wc < 0x20 || (wc >= 0x7f && wc < 0xa0);
}

/* Decodes the character at s. Invalid or unprintable input (controls,
 * zero-width and format characters such as bidi overrides, which reorder
 * what a terminal shows) becomes one '?' cell. */
static Glyph nextGlyph(const char* s, mbstate_t* state) {
   wchar_t wc;
   size_t n = mbrtowc(&wc, s, MB_LEN_MAX, state);
   Glyph g = { .bytes = "?", .length = 1, .emitLength = 1, .width = 1 };
   if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
      memset(state, 0, sizeof(*state));
      return g;
   }
   g.length = n;
   if (isControl(wc))
      return g;
   int w = wcwidth(wc);
   if (w <= 0)
      return g;
   g.bytes = s;
   g.emitLength = n;
   g.width = w;
   return g;
}

/* Appends n bytes (or spaces when bytes is NULL) if they fit. */
static bool append(char* out, size_t outSize, size_t* used, const char* bytes, size_t n) {
   if (*used + n >= outSize)
      return false;
   if (bytes)
      memcpy(out + *used, bytes, n);
   else
      memset(out + *used, ' ', n);
   *used += n;
   return true;
}

int Draw_neutralise(const char* s, int skipCells, int maxCells, char* out, size_t outSize) {
   if (outSize == 0)
      return 0;
   out[0] = '\0';
   if (maxCells <= 0)
      return 0;
   mbstate_t state;
   memset(&state, 0, sizeof(state));
   int end = skipCells + maxCells;
   int cell = 0, written = 0;
   size_t used = 0;
   while (*s && cell < end) {
      Glyph g = nextGlyph(s, &state);
      s += g.length;
      int from = cell, to = cell + g.width;
      cell = to;
      if (to <= skipCells)
         continue;
      bool whole = from >= skipCells && to <= end;
      /* A wide character cut by an edge: the part on screen becomes spaces. */
      int visible = (to < end ? to : end) - (from > skipCells ? from : skipCells);
      bool ok = whole ? append(out, outSize, &used, g.bytes, g.emitLength)
                      : append(out, outSize, &used, NULL, (size_t)visible);
      if (!ok)
         break;
      written += visible;
   }
   out[used] = '\0';
   return written;
}

int Draw_cells(const char* s) {
   mbstate_t state;
   memset(&state, 0, sizeof(state));
   int cells = 0;
   while (*s) {
      Glyph g = nextGlyph(s, &state);
      s += g.length;
      cells += g.width;
   }
   return cells;
}

int Draw_textFrom(int y, int x, const char* s, int skipCells, int maxCells, int attr) {
   if (maxCells <= 0 || y < 0 || y >= LINES || x >= COLS)
      return 0;
   if (x + maxCells > COLS)
      maxCells = COLS - x;
   char line[LINE_BYTES];
   int cells = Draw_neutralise(s, skipCells > 0 ? skipCells : 0, maxCells, line, sizeof(line));
   attrset(attr);
   mvaddstr(y, x, line);
   attrset(A_NORMAL);
   return cells;
}

int Draw_text(int y, int x, const char* s, int maxCells, int attr) {
   return Draw_textFrom(y, x, s, 0, maxCells, attr);
}

void Draw_fill(int y, int x, int width, int attr) {
   if (width <= 0 || y < 0 || y >= LINES)
      return;
   attrset(attr);
   mvhline(y, x, ' ', width);
   attrset(A_NORMAL);
}
