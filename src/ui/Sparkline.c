/* Sparkline rendering. */
#include "stacktop/Sparkline.h"

#include <stdlib.h>
#include <string.h>

#include "stacktop/Util.h"

static const char* const blocks[8] = { "\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588" };
static const char asciiLevels[8] = { '_', '.', ',', '-', '=', '+', '*', '#' };

size_t Sparkline_render(const double* values, size_t count, size_t width, bool utf8, char* out, size_t outSize) {
   if (outSize == 0)
      return 0;
   out[0] = '\0';
   size_t first = count > width ? count - width : 0;
   double lo = 0, hi = 0;
   for (size_t i = first; i < count; i++) {
      if (i == first || values[i] < lo)
         lo = values[i];
      if (i == first || values[i] > hi)
         hi = values[i];
   }
   size_t used = 0, cells = 0;
   for (size_t i = first; i < count; i++) {
      int level = 0;
      if (hi - lo > 1e-9) {
         level = (int)((values[i] - lo) / (hi - lo) * 7.0 + 0.5);
         level = level < 0 ? 0 : (level > 7 ? 7 : level);
      }
      const char* cell = utf8 ? blocks[level] : (const char[]){ asciiLevels[level], '\0' };
      size_t n = strlen(cell);
      if (used + n >= outSize)
         break;
      memcpy(out + used, cell, n);
      used += n;
      cells++;
   }
   out[used] = '\0';
   return cells;
}

size_t Sparkline_fit(double* values, size_t count, size_t cells, bool useMax) {
   if (cells == 0 || count <= cells)
      return count;
   for (size_t i = 0; i < cells; i++) {
      /* Bin i covers [from, to): every value lands in exactly one bin. */
      size_t from = i * count / cells, to = (i + 1) * count / cells;
      double acc = values[from];
      for (size_t k = from + 1; k < to; k++)
         acc = useMax ? (values[k] > acc ? values[k] : acc) : acc + values[k];
      values[i] = useMax ? acc : acc / (double)(to - from);
   }
   return cells;
}

size_t Sparkline_fromHistory(const History* history, HistorySeries series, double spanS, double* values, size_t max) {
   if (!history || max == 0)
      return 0;
   HistoryPoint* points = Util_xcalloc(max, sizeof(HistoryPoint));
   size_t n = History_points(history, series, spanS, points, max);
   for (size_t i = 0; i < n; i++)
      values[i] = series == HISTORY_CPU ? points[i].mean : points[i].max;
   free(points);
   return n;
}
