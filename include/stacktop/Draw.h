#ifndef STACKTOP_DRAW_H
#define STACKTOP_DRAW_H
/* Small drawing helpers shared by the views: text clipped to a number of
 * screen cells (UTF-8 aware), filled lines. */
#include <stddef.h>

/* Bytes of s that fit in maxCells cells (one cell per code point). */
size_t Draw_fitBytes(const char* s, int maxCells);
/* Number of cells s takes (one per code point). */
int Draw_cells(const char* s);
/* Draws s at (y, x) clipped to maxCells with attr; returns cells drawn. */
int Draw_text(int y, int x, const char* s, int maxCells, int attr);
/* Fills width cells of line y from x with spaces in attr. */
void Draw_fill(int y, int x, int width, int attr);

#endif
