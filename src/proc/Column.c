/* The process-table columns: one table of names and headers, plus per-column
 * comparators and cell formatters, shared by the curses view and batch mode. */
#include "stacktop/Column.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stacktop/Format.h"
#include "stacktop/Util.h"

static const Column columns[COL_COUNT] = {
   [COL_PID] = { .name = "pid",
                 .header = "PID",
                 .description = "process id",
                 .width = 7,
                 .kind = COLUMN_NUMBER,
                 .defaultDescending = true },
   [COL_USER] = { .name = "user",
                  .header = "USER",
                  .description = "effective user",
                  .width = 8,
                  .leftAlign = true,
                  .kind = COLUMN_TEXT },
   [COL_STATE] = { .name = "state",
                   .header = "S",
                   .description = "state of the main thread",
                   .width = 1,
                   .kind = COLUMN_TEXT },
   [COL_THREADS] = { .name = "threads",
                     .header = "THR",
                     .description = "number of threads",
                     .width = 4,
                     .kind = COLUMN_NUMBER,
                     .defaultDescending = true },
   [COL_CPU] = { .name = "cpu",
                 .header = "CPU%",
                 .description = "CPU use, % of one core",
                 .width = 5,
                 .kind = COLUMN_PERCENT,
                 .defaultDescending = true },
   [COL_MEM] = { .name = "mem",
                 .header = "MEM%",
                 .description = "resident memory, % of MemTotal",
                 .width = 5,
                 .kind = COLUMN_PERCENT,
                 .defaultDescending = true },
   [COL_VIRT] = { .name = "virt",
                  .header = "VIRT",
                  .description = "virtual memory size",
                  .width = 6,
                  .kind = COLUMN_SIZE,
                  .defaultDescending = true },
   [COL_RES] = { .name = "res",
                 .header = "RES",
                 .description = "resident memory",
                 .width = 6,
                 .kind = COLUMN_SIZE,
                 .defaultDescending = true },
   [COL_SHR] = { .name = "shr",
                 .header = "SHR",
                 .description = "shared resident memory",
                 .width = 6,
                 .kind = COLUMN_SIZE,
                 .defaultDescending = true },
   [COL_DATA] = { .name = "data",
                  .header = "DATA",
                  .description = "data + stack memory",
                  .width = 6,
                  .kind = COLUMN_SIZE,
                  .defaultDescending = true },
   [COL_RGROW] = { .name = "rgrow",
                   .header = "RGROW",
                   .description = "RES growth per minute over the history",
                   .width = 6,
                   .kind = COLUMN_SIZE,
                   .defaultDescending = true },
   [COL_TIME] = { .name = "time",
                  .header = "TIME+",
                  .description = "CPU time (user + system)",
                  .width = 9,
                  .kind = COLUMN_NUMBER,
                  .defaultDescending = true },
   [COL_COMMAND] = { .name = "command",
                     .header = "COMMAND",
                     .description = "command line",
                     .width = 0,
                     .leftAlign = true,
                     .kind = COLUMN_TEXT },
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
   /* Kept in table order; test_column checks it against the table. */
   return "pid,user,state,threads,cpu,mem,virt,res,shr,data,rgrow,time,command";
}

/* ---- comparators: ascending, without the pid tie-break */

typedef int (*CompareFn)(const ProcessSample* a, const ProcessSample* b);

#define CMP(x, y) (((x) > (y)) - ((x) < (y)))

static int cmpPid(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->pid, b->pid);
}
static int cmpUser(const ProcessSample* a, const ProcessSample* b) {
   return strcasecmp(a->user, b->user);
}
static int cmpState(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->state, b->state);
}
static int cmpThreads(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->threads, b->threads);
}
static int cmpCpu(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->cpuPct, b->cpuPct);
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
static int cmpRgrow(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->resGrowthKiBPerMin, b->resGrowthKiBPerMin);
}
static int cmpTime(const ProcessSample* a, const ProcessSample* b) {
   return CMP(a->cpuTimeS, b->cpuTimeS);
}
static int cmpCommand(const ProcessSample* a, const ProcessSample* b) {
   return strcmp(a->command ? a->command : a->comm, b->command ? b->command : b->comm);
}

static const CompareFn comparators[COL_COUNT] = {
   [COL_PID] = cmpPid,         [COL_USER] = cmpUser, [COL_STATE] = cmpState, [COL_THREADS] = cmpThreads,
   [COL_CPU] = cmpCpu,         [COL_MEM] = cmpMem,   [COL_VIRT] = cmpVirt,   [COL_RES] = cmpRes,
   [COL_SHR] = cmpShr,         [COL_DATA] = cmpData, [COL_RGROW] = cmpRgrow, [COL_TIME] = cmpTime,
   [COL_COMMAND] = cmpCommand,
};

int Column_compare(ColumnId id, const ProcessSample* a, const ProcessSample* b) {
   int c = ((int)id >= 0 && id < COL_COUNT) ? comparators[id](a, b) : 0;
   return c ? c : CMP(a->pid, b->pid);
}

typedef struct SortContext_ {
   ColumnId id;
   bool descending;
} SortContext;

static int sortCompare(const void* pa, const void* pb, void* arg) {
   const SortContext* ctx = arg;
   const ProcessSample* a = *(const ProcessSample* const*)pa;
   const ProcessSample* b = *(const ProcessSample* const*)pb;
   int c = ((int)ctx->id >= 0 && ctx->id < COL_COUNT) ? comparators[ctx->id](a, b) : 0;
   if (c)
      return ctx->descending ? -c : c;
   /* Ties keep ascending pid in both directions so rows do not jump around. */
   return CMP(a->pid, b->pid);
}

void Column_sort(const ProcessSample** rows, size_t count, ColumnId id, bool descending) {
   if (count < 2)
      return;
   SortContext ctx = { .id = id, .descending = descending };
   qsort_r(rows, count, sizeof(rows[0]), sortCompare, &ctx);
}

/* ---- cell formatting */

typedef void (*FormatFn)(const ProcessSample* p, char* buf, size_t size);

static void fmtPid(const ProcessSample* p, char* buf, size_t size) {
   Util_format(buf, size, "%d", (int)p->pid);
}
static void fmtUser(const ProcessSample* p, char* buf, size_t size) {
   Util_format(buf, size, "%s", p->user);
}
static void fmtState(const ProcessSample* p, char* buf, size_t size) {
   Util_format(buf, size, "%c", p->state);
}
static void fmtThreads(const ProcessSample* p, char* buf, size_t size) {
   Util_format(buf, size, "%d", p->threads);
}
static void fmtCpu(const ProcessSample* p, char* buf, size_t size) {
   Util_format(buf, size, "%.1f", p->cpuPct);
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
static void fmtTime(const ProcessSample* p, char* buf, size_t size) {
   Format_cpuTime(buf, size, p->cpuTimeS);
}
static void fmtCommand(const ProcessSample* p, char* buf, size_t size) {
   Util_format(buf, size, "%s", p->command ? p->command : p->comm);
}

static const FormatFn formatters[COL_COUNT] = {
   [COL_PID] = fmtPid,         [COL_USER] = fmtUser, [COL_STATE] = fmtState, [COL_THREADS] = fmtThreads,
   [COL_CPU] = fmtCpu,         [COL_MEM] = fmtMem,   [COL_VIRT] = fmtVirt,   [COL_RES] = fmtRes,
   [COL_SHR] = fmtShr,         [COL_DATA] = fmtData, [COL_RGROW] = fmtRgrow, [COL_TIME] = fmtTime,
   [COL_COMMAND] = fmtCommand,
};

void Column_format(ColumnId id, const ProcessSample* p, char* buf, size_t size) {
   if (size == 0)
      return;
   if ((int)id < 0 || id >= COL_COUNT) {
      buf[0] = '\0';
      return;
   }
   formatters[id](p, buf, size);
}
