/* Column chooser overlay. */
#include "stacktop/ColumnChooser.h"

#include <curses.h>

#include "stacktop/Draw.h"
#include "stacktop/Util.h"

#define CHOOSER_WIDTH 60

void ColumnChooser_open(ColumnChooser* this, ColumnId current) {
   this->cursor = (int)current;
}

void ColumnChooser_move(ColumnChooser* this, long delta) {
   long target = this->cursor + delta;
   this->cursor = (int)(target < 0 ? 0 : target >= COL_COUNT ? COL_COUNT - 1 : target);
}

bool ColumnChooser_toggle(const ColumnChooser* this, bool visible[COL_COUNT]) {
   if (visible[this->cursor]) {
      int shown = 0;
      for (int i = 0; i < COL_COUNT; i++)
         shown += visible[i];
      if (shown <= 1)
         return false;
   }
   visible[this->cursor] = !visible[this->cursor];
   return true;
}

void ColumnChooser_draw(const ColumnChooser* this, const bool visible[COL_COUNT], ColumnId sortColumn,
                        const Theme* theme, int y, int height, int width) {
   int w = width < CHOOSER_WIDTH ? width : CHOOSER_WIDTH;
   int x = (width - w) / 2;
   int rows = COL_COUNT + 3;
   if (rows > height)
      rows = height;
   int attr = Theme_attr(theme, STYLE_STATUS);
   for (int i = 0; i < rows; i++)
      Draw_fill(y + i, x, w, attr);
   /* Its keys are on the status line, from KeyMap's chooser rows. */
   Draw_text(y, x + 1, "Columns", w - 2, Theme_attr(theme, STYLE_STATUS_KEY));
   for (int id = 0; id < COL_COUNT && 2 + id < rows; id++) {
      const Column* col = Column_get((ColumnId)id);
      char line[160];
      Util_format(line, sizeof(line), "[%c] %-8s %s%s", visible[id] ? 'x' : ' ', col->header, col->description,
                  id == (int)sortColumn ? " (sort)" : "");
      Draw_text(y + 2 + id, x + 1, line, w - 2, id == this->cursor ? Theme_attr(theme, STYLE_SELECTED) : attr);
   }
}
