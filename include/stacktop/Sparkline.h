#ifndef STACKTOP_SPARKLINE_H
#define STACKTOP_SPARKLINE_H
/* One-line charts of a series (▁▂▃▄▅▆▇█, or ASCII on a non-UTF-8 locale). */
#include <stdbool.h>
#include <stddef.h>

#include "stacktop/History.h"

/* Renders the newest `width` values (or fewer) scaled between their minimum
 * and maximum; a flat series is drawn on the lowest level. Writes a
 * NUL-terminated string into out and returns the number of cells drawn. */
size_t Sparkline_render(const double* values, size_t count, size_t width, bool utf8, char* out, size_t outSize);
/* Copies up to max values of one History field (oldest first) into values;
 * returns how many. */
size_t Sparkline_fromHistory(const History* history, HistoryField field, double* values, size_t max);

#endif
