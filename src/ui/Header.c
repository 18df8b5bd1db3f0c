/* Header meters. */
#include "stacktop/Header.h"

#include <curses.h>
#include <string.h>

#include "stacktop/Draw.h"
#include "stacktop/Format.h"
#include "stacktop/Util.h"

#define METER_HIGH_PCT 80.0

void Header_usageText(char* buf, size_t size, unsigned long usedKiB, unsigned long totalKiB) {
   char used[16], total[16];
   Format_kib(used, sizeof(used), usedKiB);
   Format_kib(total, sizeof(total), totalKiB);
   Util_format(buf, size, "%s/%s", used, total);
}

/* "Lbl[||||||     text]" in width cells. */
static void drawMeter(const Theme* theme, int y, int x, int width, const char* label, double pct, const char* text) {
   int labelCells = Draw_text(y, x, label, width, Theme_attr(theme, STYLE_TITLE));
   int inner = width - labelCells - 2;
   if (inner < 1)
      return;
   int bracket = Theme_attr(theme, STYLE_INACTIVE);
   Draw_text(y, x + labelCells, "[", 1, bracket);
   if (pct < 0)
      pct = 0;
   if (pct > 100)
      pct = 100;
   int filled = (int)(pct / 100.0 * inner + 0.5);
   int barAttr = Theme_attr(theme, pct >= METER_HIGH_PCT ? STYLE_METER_HIGH : STYLE_METER_BAR);
   char bar[512];
   memset(bar, '|', sizeof(bar));
   bar[filled < (int)sizeof(bar) ? filled : (int)sizeof(bar) - 1] = '\0';
   Draw_text(y, x + labelCells + 1, bar, filled, barAttr);
   int textCells = Draw_cells(text);
   if (textCells <= inner)
      Draw_text(y, x + labelCells + 1 + inner - textCells, text, textCells, Theme_attr(theme, STYLE_VALUE));
   Draw_text(y, x + labelCells + 1 + inner, "]", 1, bracket);
}

/* "Tasks: 123  R:2 S:118 D:0 T:1 Z:2" */
static void drawStates(const Theme* theme, int y, int x, int width, const char* label, unsigned total,
                       const unsigned states[TASK_STATE_COUNT]) {
   char buf[160];
   int used = Draw_text(y, x, label, width, Theme_attr(theme, STYLE_TITLE));
   Util_format(buf, sizeof(buf), "%u ", total);
   used += Draw_text(y, x + used, buf, width - used, Theme_attr(theme, STYLE_VALUE));
   for (int s = 0; s < TASK_STATE_COUNT && used < width; s++) {
      Util_format(buf, sizeof(buf), " %c:", TaskState_letter((TaskState)s));
      used += Draw_text(y, x + used, buf, width - used, Theme_attr(theme, STYLE_TEXT));
      Util_format(buf, sizeof(buf), "%u", states[s]);
      used += Draw_text(y, x + used, buf, width - used, Theme_attr(theme, states[s] ? STYLE_VALUE : STYLE_INACTIVE));
   }
}

static void drawLabelled(const Theme* theme, int y, int x, int width, const char* label, const char* value) {
   int used = Draw_text(y, x, label, width, Theme_attr(theme, STYLE_TITLE));
   Draw_text(y, x + used, value, width - used, Theme_attr(theme, STYLE_VALUE));
}

void Header_draw(const SystemSample* sys, const Theme* theme, int width) {
   int left = width / 2 - 1;
   int rightX = width / 2 + 1;
   int right = width - rightX;
   char text[128], a[16], b[16];

   Util_format(text, sizeof(text), "%.1f%% of %d CPU%s", sys->cpuPct, sys->cpuCount, sys->cpuCount == 1 ? "" : "s");
   drawMeter(theme, 0, 0, left, "CPU", sys->cpuPct, text);

   double memUsedPct = sys->memTotalKiB ? 100.0 * (double)sys->memUsedKiB / (double)sys->memTotalKiB : 0;
   Header_usageText(a, sizeof(a), sys->memUsedKiB, sys->memTotalKiB);
   Util_format(text, sizeof(text), "%s avail %.0f%%", a, sys->memAvailablePct);
   drawMeter(theme, 1, 0, left, "Mem", memUsedPct, text);

   unsigned long swapUsed = sys->swapTotalKiB > sys->swapFreeKiB ? sys->swapTotalKiB - sys->swapFreeKiB : 0;
   double swapPct = sys->swapTotalKiB ? 100.0 * (double)swapUsed / (double)sys->swapTotalKiB : 0;
   Header_usageText(text, sizeof(text), swapUsed, sys->swapTotalKiB);
   drawMeter(theme, 2, 0, left, "Swp", swapPct, text);

   Format_kib(b, sizeof(b), sys->memAvailableKiB);
   Util_format(text, sizeof(text), "%s (%.1f%%)", b, sys->memAvailablePct);
   drawLabelled(theme, 3, 0, left, "Available: ", text);

   drawStates(theme, 0, rightX, right, "Tasks: ", sys->tasks, sys->taskStates);
   drawStates(theme, 1, rightX, right, "Threads: ", sys->threads, sys->threadStates);
   Util_format(text, sizeof(text), "%.2f %.2f %.2f", sys->load[0], sys->load[1], sys->load[2]);
   drawLabelled(theme, 2, rightX, right, "Load average: ", text);
   Format_uptime(text, sizeof(text), sys->uptimeS);
   drawLabelled(theme, 3, rightX, right, "Uptime: ", text);
}
