/* Pick-one list panels (signals, users). */
#include "stacktop/Menu.h"

#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Draw.h"
#include "stacktop/Util.h"

#define PANEL_CELLS 44

void Menu_init(Menu* this) {
   memset(this, 0, sizeof(*this));
   this->pageRows = 10;
   this->drawnY = -1;
}

static void clearItems(Menu* this) {
   for (size_t i = 0; i < this->count; i++)
      free(this->items[i].text);
   this->count = 0;
}

void Menu_done(Menu* this) {
   clearItems(this);
   free(this->items);
   this->items = NULL;
   this->capacity = 0;
}

void Menu_reset(Menu* this, const char* title) {
   clearItems(this);
   Util_format(this->title, sizeof(this->title), "%s", title);
   this->cursor = this->scroll = 0;
}

void Menu_add(Menu* this, const char* text, long value) {
   Util_growArray((void**)&this->items, &this->capacity, this->count, sizeof(MenuItem));
   this->items[this->count++] = (MenuItem){ .text = Util_xstrdup(text), .value = value };
}

static void ensureVisible(Menu* this) {
   size_t page = this->pageRows > 0 ? (size_t)this->pageRows : 1;
   if (this->cursor < this->scroll)
      this->scroll = this->cursor;
   else if (this->cursor >= this->scroll + page)
      this->scroll = this->cursor - page + 1;
}

void Menu_select(Menu* this, long value) {
   this->cursor = 0;
   for (size_t i = 0; i < this->count; i++) {
      if (this->items[i].value == value) {
         this->cursor = i;
         break;
      }
   }
   ensureVisible(this);
}

void Menu_move(Menu* this, long delta) {
   if (this->count == 0)
      return;
   long target = (long)this->cursor + delta;
   target = target < 0 ? 0 : target >= (long)this->count ? (long)this->count - 1 : target;
   this->cursor = (size_t)target;
   ensureVisible(this);
}

const MenuItem* Menu_current(const Menu* this) {
   return this->cursor < this->count ? &this->items[this->cursor] : NULL;
}

bool Menu_selectAt(Menu* this, int y) {
   if (this->drawnY < 0 || y < this->drawnY || y >= this->drawnY + this->pageRows)
      return false;
   size_t index = this->scroll + (size_t)(y - this->drawnY);
   if (index >= this->count)
      return false;
   this->cursor = index;
   return true;
}

void Menu_draw(Menu* this, const Theme* theme, int y, int height, int width) {
   int w = width < PANEL_CELLS ? width : PANEL_CELLS;
   if (height < 2 || w < 4)
      return;
   int attr = Theme_attr(theme, STYLE_STATUS);
   for (int i = 0; i < height; i++)
      Draw_fill(y + i, 0, w, attr);
   Draw_text(y, 1, this->title, w - 2, Theme_attr(theme, STYLE_STATUS_KEY));
   this->pageRows = height - 1;
   this->drawnY = y + 1;
   ensureVisible(this);
   for (int i = 0; i < this->pageRows && this->scroll + (size_t)i < this->count; i++) {
      size_t index = this->scroll + (size_t)i;
      int itemAttr = index == this->cursor ? Theme_attr(theme, STYLE_SELECTED) : attr;
      Draw_fill(y + 1 + i, 0, w, itemAttr);
      Draw_text(y + 1 + i, 1, this->items[index].text, w - 2, itemAttr);
   }
}
