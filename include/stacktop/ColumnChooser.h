#ifndef STACKTOP_COLUMNCHOOSER_H
#define STACKTOP_COLUMNCHOOSER_H
/* The small column chooser (F6/F2): pick the sort column, show/hide columns. */
#include <stdbool.h>

#include "stacktop/Column.h"
#include "stacktop/Theme.h"

typedef struct ColumnChooser_ {
   int cursor; /* ColumnId under the cursor */
} ColumnChooser;

void ColumnChooser_open(ColumnChooser* this, ColumnId current);
void ColumnChooser_move(ColumnChooser* this, long delta);
/* Toggles visibility of the column under the cursor in visible[]; the last
 * visible column cannot be hidden. Returns false when refused. */
bool ColumnChooser_toggle(const ColumnChooser* this, bool visible[COL_COUNT]);
void ColumnChooser_draw(const ColumnChooser* this, const bool visible[COL_COUNT], ColumnId sortColumn,
                        const Theme* theme, int y, int height, int width);

#endif
