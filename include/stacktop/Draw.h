#ifndef STACKTOP_DRAW_H
#define STACKTOP_DRAW_H
/* Drawing helpers shared by the views. Every string reaches the terminal
 * through here, neutralised: names and command lines are chosen by
 * (possibly hostile) processes, so C0/C1 controls, DEL, invalid UTF-8 and
 * unprintable code points become '?', one cell each. Printable characters
 * take their real width (wcwidth: a CJK character is two cells), which
 * needs setlocale() first (main does it). Without a UTF-8 locale every
 * non-ASCII byte becomes '?'. */
#include <stddef.h>

/* The printable form of the cells [skipCells, skipCells + maxCells) of s,
 * as UTF-8 in out (NUL-terminated, truncated to outSize). A wide character
 * cut by either edge becomes spaces, so columns stay aligned. Returns the
 * cells written. Pure (given the locale). */
int Draw_neutralise(const char* s, int skipCells, int maxCells, char* out, size_t outSize);
/* Cells the neutralised s takes on the screen. */
int Draw_cells(const char* s);
/* Draws s at (y, x) clipped to maxCells with attr; returns cells drawn. */
int Draw_text(int y, int x, const char* s, int maxCells, int attr);
/* Like Draw_text, but skips the first skipCells cells of s (horizontal scroll). */
int Draw_textFrom(int y, int x, const char* s, int skipCells, int maxCells, int attr);
/* Fills width cells of line y from x with spaces in attr. */
void Draw_fill(int y, int x, int width, int attr);

#endif
