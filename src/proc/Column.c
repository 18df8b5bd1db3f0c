/* The process-table columns: one table row per column with its comparator
 * and formatter, shared by the curses view, batch mode and the watcher. */
#include "stacktop/Column.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "stacktop/Format.h"
#include "stacktop/Util.h"

#define CMP(x, y) (((x) > (y)) - ((x) < (y)))

/* ---- comparators: ascending, without the pid tie-break */

static int cmpPid(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->pid, b->pid);
}
static int cmpPpid(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->ppid, b->ppid);
}
static int cmpUser(const ProcessSample* a, const ProcessSample* b) {
   return strcasecmp(a->user, b->user);
}
static int cmpState(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->state, b->state);
}
static int cmpNice(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->nice, b->nice);
}
static int cmpThreads(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->threads, b->threads);
}
static int cmpCpu(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->cpuPct, b->cpuPct);
}
static int cmpProcessor(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->processor, b->processor);
}
static int cmpMem(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->memPct, b->memPct);
}
static int cmpVirt(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->virtKiB, b->virtKiB);
}
static int cmpRes(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->resKiB, b->resKiB);
}
static int cmpShr(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->shrKiB, b->shrKiB);
}
static int cmpData(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->dataKiB, b->dataKiB);
}
/* Unknown growth sorts below any figure, so a descending sort shows the
 * growing processes first whatever their age. */
static int cmpRgrow(const ProcessSample* a, const ProcessSample* b) {
   if (a->resGrowthKnown != b->resGrowthKnown)
      return a->resGrowthKnown ? 1 : -1;
   return CMP(a->resGrowthKiBPerMin, b->resGrowthKiBPerMin);
}
static int cmpGoroutines(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->goroutines, b->goroutines);
}
static int cmpGgrow(const ProcessSample* a, const ProcessSample* b) {
   if (a->goGrowthKnown != b->goGrowthKnown)
      return a->goGrowthKnown ? 1 : -1;
   return CMP(a->goGrowthPerMin, b->goGrowthPerMin);
}
static int cmpIoRead(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->ioReadRate, b->ioReadRate);
}
static int cmpIoWrite(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->ioWriteRate, b->ioWriteRate);
}
static int cmpFds(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->fds, b->fds);
}
static int cmpStart(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->startTicks, b->startTicks);
}
static int cmpTime(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->cpuTimeS, b->cpuTimeS);
}
static int cmpWchan(const ProcessSample* a, const ProcessSample* b) {
   return strcmp(a->wchan, b->wchan);
}
static int cmpCommand(const ProcessSample* a, const ProcessSample* b) {
   return strcmp(a->command ? a->command : a->comm, b->command ? b->command : b->comm);
}

/* ---- cell formatting */

static void fmtPid(const ProcessSample* p, char* buf, size_t size) {
   Util_format(buf, size, "%d", (int)p->pid);
}
static void fmtPpid(const ProcessSample* p, char* buf, size_t size) {
   Util_format(buf, size, "%d", (int)p->ppid);
}
static void fmtUser(const ProcessSample* p, char* buf, size_t size) {
   Util_format(buf, size, "%s", p->user);
}
static void fmtState(const ProcessSample* p, char* buf, size_t size) {
   Util_format(buf, size, "%c", p->state);
}
static void fmtNice(const ProcessSample* p, char* buf, size_t size) {
   Util_format(buf, size, "%d", p->nice);
}
static void fmtThreads(const ProcessSample* p, char* buf, size_t size) {
   Util_format(buf, size, "%d", p->threads);
}
static void fmtCpu(const ProcessSample* p, char* buf, size_t size) {
   Util_format(buf, size, "%.1f", p->cpuPct);
}
static void fmtProcessor(const ProcessSample* p, char* buf, size_t size) {
   if (p->processor < 0)
      Util_format(buf, size, "%s", "");
   else
      Util_format(buf, size, "%d", p->processor);
}
static void fmtMem(const ProcessSample* p, char* buf, size_t size) {
   Util_format(buf, size, "%.1f", p->memPct);
}
static void fmtVirt(const ProcessSample* p, char* buf, size_t size) {
   Format_kib(buf, size, p->virtKiB);
}
static void fmtRes(const ProcessSample* p, char* buf, size_t size) {
   Format_kib(buf, size, p->resKiB);
}
static void fmtShr(const ProcessSample* p, char* buf, size_t size) {
   Format_kib(buf, size, p->shrKiB);
}
static void fmtData(const ProcessSample* p, char* buf, size_t size) {
   Format_kib(buf, size, p->dataKiB);
}
/* Blank until the history is long enough to tell (see Sampler.h). */
static void fmtRgrow(const ProcessSample* p, char* buf, size_t size) {
   if (!p->resGrowthKnown) {
      Util_format(buf, size, "%s", "");
      return;
   }
   Format_rate(buf, size, p->resGrowthKiBPerMin);
}
static void fmtGoroutines(const ProcessSample* p, char* buf, size_t size) {
   if (p->goroutines < 0)
      Util_format(buf, size, "%s", "");
   else
      Util_format(buf, size, "%ld", p->goroutines);
}
/* Goroutines per minute: "+12", "-3", "+0.4" below 10; blank until known. */
static void fmtGgrow(const ProcessSample* p, char* buf, size_t size) {
   if (p->goroutines < 0 || !p->goGrowthKnown) {
      Util_format(buf, size, "%s", "");
      return;
   }
   double v = p->goGrowthPerMin;
   Util_format(buf, size, v > -10 && v < 10 ? "%+.1f" : "%+.0f", v);
}
/* Bytes per second as a size; blank while unknown. */
static void formatByteRate(double bytesPerS, char* buf, size_t size) {
   if (bytesPerS < 0) {
      Util_format(buf, size, "%s", "");
      return;
   }
   Format_kib(buf, size, (unsigned long long)(bytesPerS / 1024.0 + 0.5));
}
static void fmtIoRead(const ProcessSample* p, char* buf, size_t size) {
   formatByteRate(p->ioReadRate, buf, size);
}
static void fmtIoWrite(const ProcessSample* p, char* buf, size_t size) {
   formatByteRate(p->ioWriteRate, buf, size);
}
static void fmtFds(const ProcessSample* p, char* buf, size_t size) {
   if (p->fds < 0)
      Util_format(buf, size, "%s", "");
   else
      Util_format(buf, size, "%ld", p->fds);
}
/* Like ps and htop: the time of day when it started today, else the date,
 * else the year. */
static void fmtStart(const ProcessSample* p, char* buf, size_t size) {
   time_t start = (time_t)p->startTime, now = time(NULL);
   struct tm tm;
   if (p->startTime <= 0 || !localtime_r(&start, &tm)) {
      Util_format(buf, size, "%s", "");
      return;
   }
   const char* layout = now - start < 24 * 3600 ? "%H:%M" : now - start < 365 * 24 * 3600 ? "%b%d" : "%Y";
   if (size == 0 || strftime(buf, size, layout, &tm) == 0)
      Util_format(buf, size, "%s", "");
}
static void fmtTime(const ProcessSample* p, char* buf, size_t size) {
   Format_cpuTime(buf, size, p->cpuTimeS);
}
static void fmtWchan(const ProcessSample* p, char* buf, size_t size) {
   Util_format(buf, size, "%s", p->wchan);
}
static void fmtCommand(const ProcessSample* p, char* buf, size_t size) {
   Util_format(buf, size, "%s", p->command ? p->command : p->comm);
}

static const Column columns[COL_COUNT] = {
   [COL_PID] = { .name = "pid",
                 .header = "PID",
                 .description = "process id",
                 .width = 7,
                 .kind = COLUMN_NUMBER,
                 .defaultDescending = true,
                 .shownByDefault = true,
                 .grows = true,
                 .threadValue = true,
                 .compare = cmpPid,
                 .format = fmtPid },
   [COL_PPID] = { .name = "ppid",
                  .header = "PPID",
                  .description = "parent process id",
                  .width = 7,
                  .kind = COLUMN_NUMBER,
                  .defaultDescending = true,
                  .grows = true,
                  .compare = cmpPpid,
                  .format = fmtPpid },
   [COL_USER] = { .name = "user",
                  .header = "USER",
                  .description = "effective user",
                  .width = 8,
                  .leftAlign = true,
                  .kind = COLUMN_TEXT,
                  .shownByDefault = true,
                  .threadValue = true,
                  .compare = cmpUser,
                  .format = fmtUser },
   [COL_STATE] = { .name = "state",
                   .header = "S",
                   .description = "state of the main thread",
                   .width = 1,
                   .kind = COLUMN_TEXT,
                   .shownByDefault = true,
                   .threadValue = true,
                   .compare = cmpState,
                   .format = fmtState },
   [COL_NICE] = { .name = "nice",
                  .header = "NI",
                  .description = "nice value (-20 highest priority .. 19)",
                  .width = 3,
                  .kind = COLUMN_NUMBER,
                  .threadValue = true,
                  .compare = cmpNice,
                  .format = fmtNice },
   [COL_THREADS] = { .name = "threads",
                     .header = "THR",
                     .description = "number of threads",
                     .width = 4,
                     .kind = COLUMN_NUMBER,
                     .defaultDescending = true,
                     .shownByDefault = true,
                     .grows = true,
                     .compare = cmpThreads,
                     .format = fmtThreads },
   [COL_CPU] = { .name = "cpu",
                 .header = "CPU%",
                 .description = "CPU use, % of one core",
                 .width = 5,
                 .kind = COLUMN_PERCENT,
                 .defaultDescending = true,
                 .shownByDefault = true,
                 .grows = true,
                 .threadValue = true,
                 .compare = cmpCpu,
                 .format = fmtCpu },
   [COL_PROCESSOR] = { .name = "processor",
                       .header = "CPU#",
                       .description = "CPU it last ran on",
                       .width = 4,
                       .kind = COLUMN_NUMBER,
                       .grows = true,
                       .threadValue = true,
                       .compare = cmpProcessor,
                       .format = fmtProcessor },
   [COL_MEM] = { .name = "mem",
                 .header = "MEM%",
                 .description = "resident memory, % of MemTotal",
                 .width = 5,
                 .kind = COLUMN_PERCENT,
                 .defaultDescending = true,
                 .shownByDefault = true,
                 .compare = cmpMem,
                 .format = fmtMem },
   [COL_VIRT] = { .name = "virt",
                  .header = "VIRT",
                  .description = "virtual memory size",
                  .width = 6,
                  .kind = COLUMN_SIZE,
                  .defaultDescending = true,
                  .shownByDefault = true,
                  .compare = cmpVirt,
                  .format = fmtVirt },
   [COL_RES] = { .name = "res",
                 .header = "RES",
                 .description = "resident memory",
                 .width = 6,
                 .kind = COLUMN_SIZE,
                 .defaultDescending = true,
                 .shownByDefault = true,
                 .compare = cmpRes,
                 .format = fmtRes },
   [COL_SHR] = { .name = "shr",
                 .header = "SHR",
                 .description = "shared resident memory",
                 .width = 6,
                 .kind = COLUMN_SIZE,
                 .defaultDescending = true,
                 .shownByDefault = true,
                 .compare = cmpShr,
                 .format = fmtShr },
   [COL_DATA] = { .name = "data",
                  .header = "DATA",
                  .description = "data + stack memory",
                  .width = 6,
                  .kind = COLUMN_SIZE,
                  .defaultDescending = true,
                  .shownByDefault = true,
                  .compare = cmpData,
                  .format = fmtData },
   [COL_RGROW] = { .name = "rgrow",
                   .header = "RGROW",
                   .description = "RES growth per minute (lower envelope, last 30 min; blank the first minute)",
                   .width = 6,
                   .kind = COLUMN_SIZE,
                   .defaultDescending = true,
                   .shownByDefault = true,
                   .compare = cmpRgrow,
                   .format = fmtRgrow },
   [COL_GOROUTINES] = { .name = "goroutines",
                        .header = "GOR",
                        .description = "goroutines of a Go program, like runtime.NumGoroutine (read without a stop)",
                        .width = 5,
                        .kind = COLUMN_NUMBER,
                        .defaultDescending = true,
                        .shownByDefault = true,
                        .onlyWithGo = true,
                        .grows = true,
                        .fields = SAMPLER_FIELD_GOROUTINES,
                        .compare = cmpGoroutines,
                        .format = fmtGoroutines },
   [COL_GGROW] = { .name = "ggrow",
                   .header = "GGROW",
                   .description = "goroutine growth per minute (lower envelope, last 30 min; blank the first minute)",
                   .width = 6,
                   .kind = COLUMN_NUMBER,
                   .defaultDescending = true,
                   .shownByDefault = true,
                   .onlyWithGo = true,
                   .fields = SAMPLER_FIELD_GOROUTINES,
                   .compare = cmpGgrow,
                   .format = fmtGgrow },
   [COL_IO_READ] = { .name = "ioread",
                     .header = "IORD/s",
                     .description = "bytes read from storage per second",
                     .width = 6,
                     .kind = COLUMN_SIZE,
                     .defaultDescending = true,
                     .fields = SAMPLER_FIELD_IO,
                     .compare = cmpIoRead,
                     .format = fmtIoRead },
   [COL_IO_WRITE] = { .name = "iowrite",
                      .header = "IOWR/s",
                      .description = "bytes written to storage per second",
                      .width = 6,
                      .kind = COLUMN_SIZE,
                      .defaultDescending = true,
                      .fields = SAMPLER_FIELD_IO,
                      .compare = cmpIoWrite,
                      .format = fmtIoWrite },
   [COL_FDS] = { .name = "fds",
                 .header = "FDS",
                 .description = "open file descriptors",
                 .width = 4,
                 .kind = COLUMN_NUMBER,
                 .defaultDescending = true,
                 .grows = true,
                 .fields = SAMPLER_FIELD_FDS,
                 .compare = cmpFds,
                 .format = fmtFds },
   [COL_START] = { .name = "start",
                   .header = "START",
                   .description = "start time (HH:MM today, else date)",
                   .width = 5,
                   .kind = COLUMN_TEXT,
                   .threadValue = true,
                   .compare = cmpStart,
                   .format = fmtStart },
   [COL_TIME] = { .name = "time",
                  .header = "TIME+",
                  .description = "CPU time (user + system)",
                  .width = 9,
                  .kind = COLUMN_NUMBER,
                  .defaultDescending = true,
                  .shownByDefault = true,
                  .grows = true,
                  .threadValue = true,
                  .compare = cmpTime,
                  .format = fmtTime },
   [COL_WCHAN] = { .name = "wchan",
                   .header = "WCHAN",
                   .description = "kernel function it waits in",
                   .width = 14,
                   .leftAlign = true,
                   .kind = COLUMN_TEXT,
                   .fields = SAMPLER_FIELD_WCHAN,
                   .compare = cmpWchan,
                   .format = fmtWchan },
   [COL_COMMAND] = { .name = "command",
                     .header = "COMMAND",
                     .description = "command line",
                     .width = 0,
                     .leftAlign = true,
                     .kind = COLUMN_TEXT,
                     .shownByDefault = true,
                     .threadValue = true,
                     .compare = cmpCommand,
                     .format = fmtCommand },
};

const Column* Column_get(ColumnId id) {
   if ((int)id < 0 || id >= COL_COUNT)
      return NULL;
   return &columns[id];
}

int Column_byName(const char* name) {
   if (!name)
      return -1;
   for (int i = 0; i < COL_COUNT; i++) {
      if (strcasecmp(name, columns[i].name) == 0 || strcasecmp(name, columns[i].header) == 0)
         return i;
   }
   return -1;
}

const char* Column_names(void) {
   /* From the table, once (no other state: the names never change). */
   static char names[512];
   if (names[0])
      return names;
   size_t used = 0;
   for (int id = 0; id < COL_COUNT && used < sizeof(names); id++)
      used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", id ? ", " : "", columns[id].name);
   return names;
}

bool Column_anyGo(const ProcessSample* const* rows, size_t count) {
   for (size_t i = 0; i < count; i++) {
      if (rows[i]->goroutines >= 0)
         return true;
   }
   return false;
}

unsigned Column_fields(const bool visible[COL_COUNT]) {
   unsigned fields = 0;
   for (int i = 0; i < COL_COUNT; i++) {
      if (visible[i])
         fields |= columns[i].fields;
   }
   return fields;
}

int Column_compare(ColumnId id, const ProcessSample* a, const ProcessSample* b) {
   int c = ((int)id >= 0 && id < COL_COUNT) ? columns[id].compare(a, b) : 0;
   return c ? c : CMP(a->pid, b->pid);
}

typedef struct SortContext_ {
   ColumnCompare compare;
   bool descending;
} SortContext;

static int sortCompare(const void* pa, const void* pb, void* arg) {
   const SortContext* ctx = arg;
   const ProcessSample* a = *(const ProcessSample* const*)pa;
   const ProcessSample* b = *(const ProcessSample* const*)pb;
   int c = ctx->compare ? ctx->compare(a, b) : 0;
   if (c)
      return ctx->descending ? -c : c;
   /* Ties keep ascending pid in both directions so rows do not jump around. */
   return CMP(a->pid, b->pid);
}

void Column_sort(const ProcessSample** rows, size_t count, ColumnId id, bool descending) {
   if (count < 2)
      return;
   SortContext ctx = { .compare = ((int)id >= 0 && id < COL_COUNT) ? columns[id].compare : NULL,
                       .descending = descending };
   qsort_r(rows, count, sizeof(rows[0]), sortCompare, &ctx);
}

void Column_format(ColumnId id, const ProcessSample* p, char* buf, size_t size) {
   if (size == 0)
      return;
   if ((int)id < 0 || id >= COL_COUNT) {
      buf[0] = '\0';
      return;
   }
   columns[id].format(p, buf, size);
}
