#ifndef STACKTOP_MENU_H
#define STACKTOP_MENU_H
/* A pick-one list drawn as a panel on the left of the screen, as htop draws
 * its signal and user lists: a title, items with a value each, a cursor. */
#include <stdbool.h>
#include <stddef.h>

#include "stacktop/Theme.h"

typedef struct MenuItem_ {
   char* text; /* owned */
   long value;
} MenuItem;

typedef struct Menu_ {
   char title[96];
   MenuItem* items; /* owned */
   size_t count, capacity;
   size_t cursor, scroll;
   int pageRows; /* items that fit, from the last draw */
   int drawnY;   /* screen line of items[scroll] in the last draw, -1 before */
} Menu;

void Menu_init(Menu* this);
void Menu_done(Menu* this);
/* Empties the list and gives it a new title. */
void Menu_reset(Menu* this, const char* title);
void Menu_add(Menu* this, const char* text, long value);
/* Puts the cursor on the first item with this value (else the first item). */
void Menu_select(Menu* this, long value);
void Menu_move(Menu* this, long delta);
/* The item under the cursor, NULL when the list is empty. */
const MenuItem* Menu_current(const Menu* this);
/* Mouse: puts the cursor on the item drawn at screen line y. */
bool Menu_selectAt(Menu* this, int y);
/* Draws the panel over [y, y + height) from the left edge. */
void Menu_draw(Menu* this, const Theme* theme, int y, int height, int width);

#endif
