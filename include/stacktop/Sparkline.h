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
/* Shrinks values (in place) to at most cells points, each the maximum
 * (useMax) or the mean of a run of neighbours, so a long span fits the
 * width instead of being cut to its newest part. Returns the new count. */
size_t Sparkline_fit(double* values, size_t count, size_t cells, bool useMax);
/* Copies the newest `max` points of one History series over the last spanS
 * seconds (see History_points) into values, oldest first: the mean for CPU%,
 * the maximum (the peak of a bucket) otherwise. Returns how many. */
size_t Sparkline_fromHistory(const History* history, HistorySeries series, double spanS, double* values, size_t max);

#endif
