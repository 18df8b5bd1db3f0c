/* Drawing helpers on stdscr. */
#include "stacktop/Draw.h"

#include <curses.h>

static int isContinuation(unsigned char c) {
   return (c & 0xc0) == 0x80;
}

size_t Draw_fitBytes(const char* s, int maxCells) {
   size_t i = 0;
   int cells = 0;
   while (s[i]) {
      if (!isContinuation((unsigned char)s[i])) {
         if (cells == maxCells)
            break;
         cells++;
      }
      i++;
   }
   return i;
}

int Draw_cells(const char* s) {
   int cells = 0;
   for (; *s; s++) {
      if (!isContinuation((unsigned char)*s))
         cells++;
   }
   return cells;
}

int Draw_text(int y, int x, const char* s, int maxCells, int attr) {
   if (maxCells <= 0 || y < 0 || y >= LINES || x >= COLS)
      return 0;
   size_t n = Draw_fitBytes(s, maxCells);
   attrset(attr);
   mvaddnstr(y, x, s, (int)n);
   attrset(A_NORMAL);
   int cells = 0;
   for (size_t i = 0; i < n; i++) {
      if (!isContinuation((unsigned char)s[i]))
         cells++;
   }
   return cells;
}

void Draw_fill(int y, int x, int width, int attr) {
   if (width <= 0 || y < 0 || y >= LINES)
      return;
   attrset(attr);
   mvhline(y, x, ' ', width);
   attrset(A_NORMAL);
}
