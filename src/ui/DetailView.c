/* Detail view of one process. */
#include "stacktop/DetailView.h"

#include <curses.h>
#include <string.h>

#include "stacktop/Draw.h"
#include "stacktop/Format.h"
#include "stacktop/GoCounter.h"
#include "stacktop/Sparkline.h"
#include "stacktop/Util.h"

#define LABEL_CELLS 10
#define VALUE_CELLS 12
#define POINTS_MAX 512 /* more than any resolution holds (432 ten-minute buckets) */

/* The spans Tab cycles through, one per History resolution worth seeing. */
typedef struct Span_ {
   double seconds;
   const char* label;
} Span;

static const Span spans[] = {
   { .seconds = 180.0, .label = "3 min" },
   { .seconds = 3600.0, .label = "1 h" },
   { .seconds = 3 * 3600.0, .label = "3 h" },
   { .seconds = HISTORY_HORIZON_S, .label = "3 days" },
};
#define SPAN_COUNT (sizeof(spans) / sizeof(spans[0]))

void DetailView_open(DetailView* this, const ProcessSample* p, bool utf8) {
   size_t span = this->span < SPAN_COUNT ? this->span : 0;
   memset(this, 0, sizeof(*this));
   this->span = span;
   this->pid = p->pid;
   Util_format(this->comm, sizeof(this->comm), "%s", p->comm);
   this->utf8 = utf8;
   this->pageRows = 10;
}

void DetailView_cycleSpan(DetailView* this, int direction) {
   this->span = (this->span + SPAN_COUNT + (direction < 0 ? SPAN_COUNT - 1 : 1)) % SPAN_COUNT;
}

const char* DetailView_spanLabel(const DetailView* this) {
   return spans[this->span % SPAN_COUNT].label;
}

void DetailView_scroll(DetailView* this, long delta) {
   long target = (long)this->scroll + delta;
   this->scroll = target < 0 ? 0 : (size_t)target;
}

typedef struct GraphSpec_ {
   const char* label;
   HistorySeries field;
   void (*format)(char* buf, size_t size, double value);
} GraphSpec;

static void formatRes(char* buf, size_t size, double value) {
   Format_kib(buf, size, (unsigned long long)value);
}

static void formatCpu(char* buf, size_t size, double value) {
   Util_format(buf, size, "%.1f%%", value);
}

static void formatCount(char* buf, size_t size, double value) {
   Util_format(buf, size, "%.0f", value);
}

static const GraphSpec graphs[] = {
   { .label = "RES", .field = HISTORY_RES, .format = formatRes },
   { .label = "CPU%", .field = HISTORY_CPU, .format = formatCpu },
   { .label = "Threads", .field = HISTORY_THREADS, .format = formatCount },
};
/* Go processes only. */
static const GraphSpec goroutineGraph = { .label = "Goroutines", .field = HISTORY_GOROUTINES, .format = formatCount };

/* Wait reasons named on the goroutine line at most. */
#define REASONS_SHOWN 5

/* "RES       23.4M  ▁▂▃▅▇  min 20.1M max 23.4M" */
static void drawGraph(const DetailView* this, const GraphSpec* g, const ProcessSample* p, const Theme* theme, int y,
                      int width) {
   double values[POINTS_MAX];
   int graphCells = width - LABEL_CELLS - VALUE_CELLS - 30;
   if (graphCells < 4)
      graphCells = 4;
   size_t n = Sparkline_fromHistory(p->history, g->field, spans[this->span].seconds, values, POINTS_MAX);
   Draw_text(y, 0, g->label, LABEL_CELLS, Theme_attr(theme, STYLE_TITLE));
   if (n == 0) {
      Draw_text(y, LABEL_CELLS, p->kernelThread ? "(no history for kernel threads)" : "(no history yet)",
                width - LABEL_CELLS, Theme_attr(theme, STYLE_INACTIVE));
      return;
   }
   char now[24], lo[24], hi[24], text[128];
   double min = values[0], max = values[0];
   for (size_t i = 0; i < n; i++) {
      min = values[i] < min ? values[i] : min;
      max = values[i] > max ? values[i] : max;
   }
   g->format(now, sizeof(now), values[n - 1]);
   Draw_text(y, LABEL_CELLS, now, VALUE_CELLS, Theme_attr(theme, STYLE_VALUE));
   size_t points = n;
   n = Sparkline_fit(values, n, (size_t)graphCells, g->field != HISTORY_CPU);
   char line[POINTS_MAX * 3 + 1];
   size_t cells = Sparkline_render(values, n, (size_t)graphCells, this->utf8, line, sizeof(line));
   Draw_text(y, LABEL_CELLS + VALUE_CELLS, line, graphCells, Theme_attr(theme, STYLE_GRAPH));
   g->format(lo, sizeof(lo), min);
   g->format(hi, sizeof(hi), max);
   Util_format(text, sizeof(text), "min %s max %s, %zu samples", lo, hi, points);
   int x = LABEL_CELLS + VALUE_CELLS + (int)cells + 2;
   Draw_text(y, x, text, width - x, Theme_attr(theme, STYLE_INACTIVE));
}

/* What resolution History_points chose: while the raw samples still cover
 * the span (a process watched for less than the span), the graphs are at
 * every refresh whatever the span. */
static const char* resolutionOf(const History* history, double spanS) {
   HistoryPoint points[POINTS_MAX];
   size_t n = history ? History_points(history, HISTORY_RES, spanS, points, POINTS_MAX) : 0;
   if (n < 2)
      return "every refresh";
   double step = (points[n - 1].time - points[0].time) / (double)(n - 1);
   return step < 30 ? "every refresh" : step < 300 ? "per minute" : "per 10 minutes";
}

/* "History: last 1 h, per minute (watched for 02:13:40)   Tab: 3 min, 1 h, 3 h, 3 days" */
static void drawSpan(const DetailView* this, const ProcessSample* p, const Theme* theme, int y, int width) {
   const Span* span = &spans[this->span];
   char watched[32], line[256];
   Format_uptime(watched, sizeof(watched), p->history ? History_span(p->history) : 0);
   Util_format(line, sizeof(line), "History: last %s, %s (watched for %s)   Tab: 3 min, 1 h, 3 h, 3 days", span->label,
               resolutionOf(p->history, span->seconds), watched);
   Draw_text(y, 0, line, width, Theme_attr(theme, STYLE_TITLE));
}

static void drawFigures(const ProcessSample* p, const Theme* theme, int y, int width) {
   char virt[16], res[16], shr[16], data[16], cpuTime[24], rate[24], line[512];
   Format_kib(virt, sizeof(virt), p->virtKiB);
   Format_kib(res, sizeof(res), p->resKiB);
   Format_kib(shr, sizeof(shr), p->shrKiB);
   Format_kib(data, sizeof(data), p->dataKiB);
   Format_cpuTime(cpuTime, sizeof(cpuTime), p->cpuTimeS);
   if (p->resGrowthKnown)
      Format_rate(rate, sizeof(rate), p->resGrowthKiBPerMin);
   else
      Util_format(rate, sizeof(rate), "(after %.0f s)", SAMPLER_GROWTH_MIN_SPAN_S);
   Util_format(line, sizeof(line),
               "PID %d  PPID %d  user %s  state %c  nice %d  threads %d  CPU %.1f%%  MEM %.1f%%  TIME+ %s", (int)p->pid,
               (int)p->ppid, p->user, p->state, p->nice, p->threads, p->cpuPct, p->memPct, cpuTime);
   Draw_text(y, 0, line, width, Theme_attr(theme, STYLE_VALUE));
   Util_format(line, sizeof(line), "VIRT %s  RES %s  SHR %s  DATA %s  RES growth %s/min", virt, res, shr, data, rate);
   Draw_text(y + 1, 0, line, width, Theme_attr(theme, STYLE_TEXT));
   Util_format(line, sizeof(line), "Command: %s", p->command ? p->command : p->comm);
   Draw_text(y + 2, 0, line, width, Theme_attr(theme, STYLE_TEXT));
}

/* The goroutines of a Go process by state, the waiting ones by Go's wait
 * reason, most first: "Goroutines 1234 (+12.0/min): running 2, waiting 1230
 * (chan receive 1200, select 20, ...), syscall 2". */
static void drawGoroutines(const ProcessSample* p, const Theme* theme, int y, int width) {
   const GoCount* g = p->go;
   char line[1024], growth[32];
   if (p->goGrowthKnown)
      Util_format(growth, sizeof(growth), "%+.1f/min", p->goGrowthPerMin);
   else
      Util_format(growth, sizeof(growth), "growth after %.0f s", SAMPLER_GROWTH_MIN_SPAN_S);
   size_t used = (size_t)snprintf(line, sizeof(line), "Goroutines %zu (%s):", g->total, growth);
   for (int s = 0; s < GO_COUNT_STATES && used < sizeof(line); s++) {
      if (!g->states[s])
         continue;
      used += (size_t)snprintf(line + used, sizeof(line) - used, " %s %zu", GoCount_stateName((GoCountState)s),
                               g->states[s]);
      if (s != GO_COUNT_WAITING || used >= sizeof(line))
         continue;
      bool done[GO_COUNT_REASONS] = { false };
      for (int k = 0; k < REASONS_SHOWN && used < sizeof(line); k++) {
         size_t best = GO_COUNT_REASONS;
         for (size_t r = 0; r < GO_COUNT_REASONS; r++) {
            if (g->reasons[r] && !done[r] && (best == GO_COUNT_REASONS || g->reasons[r] > g->reasons[best]))
               best = r;
         }
         if (best == GO_COUNT_REASONS)
            break;
         done[best] = true;
         used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s %zu", k ? ", " : " (",
                                  GoCount_reasonName(g, best), g->reasons[best]);
      }
      if (used < sizeof(line) && line[used - 1] != ':')
         used += (size_t)snprintf(line + used, sizeof(line) - used, ")");
   }
   Draw_text(y, 0, line, width, Theme_attr(theme, STYLE_TEXT));
}

static void drawThreads(DetailView* this, const ProcessSample* p, const Theme* theme, int y, int height, int width) {
   char line[256];
   Util_format(line, sizeof(line), "%8s %c %6s %10s  %s", "TID", 'S', "CPU%", "TIME+", "NAME");
   Draw_fill(y, 0, width, Theme_attr(theme, STYLE_HEADER));
   Draw_text(y, 0, line, width, Theme_attr(theme, STYLE_HEADER));
   this->pageRows = height - 1 > 0 ? height - 1 : 1;
   /* The Sampler reads task directories of multi-threaded processes only: a
    * single-threaded process is its own one thread. */
   ThreadSample only = { .tid = p->pid, .state = p->state, .cpuPct = p->cpuPct, .cpuTimeS = p->cpuTimeS };
   Util_format(only.name, sizeof(only.name), "%s", p->comm);
   const ThreadSample* list = p->threadRowCount ? p->threadRows : &only;
   size_t rows = p->threadRowCount ? p->threadRowCount : (p->threads <= 1 ? 1 : 0);
   size_t maxScroll = rows > (size_t)this->pageRows ? rows - (size_t)this->pageRows : 0;
   if (this->scroll > maxScroll)
      this->scroll = maxScroll;
   if (rows == 0) {
      Draw_text(y + 1, 0, "(reading threads...)", width, Theme_attr(theme, STYLE_INACTIVE));
      return;
   }
   for (int i = 0; i < this->pageRows && this->scroll + (size_t)i < rows; i++) {
      const ThreadSample* t = &list[this->scroll + (size_t)i];
      char cpuTime[24];
      Format_cpuTime(cpuTime, sizeof(cpuTime), t->cpuTimeS);
      Util_format(line, sizeof(line), "%8d %c %6.1f %10s  %s", (int)t->tid, t->state, t->cpuPct, cpuTime, t->name);
      ThemeStyle style = Theme_stateStyle(t->state, STYLE_THREAD);
      Draw_text(y + 1 + i, 0, line, width, Theme_attr(theme, style));
   }
}

void DetailView_draw(DetailView* this, const ProcessSample* p, const Theme* theme, int y, int height, int width) {
   char title[128];
   Util_format(title, sizeof(title), "Detail of %d (%s)", (int)this->pid, p ? p->comm : this->comm);
   Draw_text(y, 0, title, width, Theme_attr(theme, STYLE_TITLE));
   if (!p) {
      Draw_text(y + 2, 0, "The process has exited.", width, Theme_attr(theme, STYLE_ERROR));
      return;
   }
   drawFigures(p, theme, y + 1, width);
   int extra = 0;
   if (p->go)
      drawGoroutines(p, theme, y + 4 + extra++, width);
   drawSpan(this, p, theme, y + 4 + extra, width);
   int gy = y + 5 + extra;
   size_t n = sizeof(graphs) / sizeof(graphs[0]);
   for (size_t i = 0; i < n; i++)
      drawGraph(this, &graphs[i], p, theme, gy + (int)i, width);
   if (p->go)
      drawGraph(this, &goroutineGraph, p, theme, gy + (int)n++, width);
   int ty = gy + (int)n + 1;
   if (ty < y + height)
      drawThreads(this, p, theme, ty, y + height - ty, width);
}
