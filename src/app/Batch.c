/* Batch mode: prime the Sampler once, then each refresh sleeps the delay,
 * samples and prints, so every CPU% shown covers one full interval. Output is
 * top-like text or one JSON object per line. */
#include "stacktop/Batch.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stacktop/Column.h"
#include "stacktop/Draw.h"
#include "stacktop/Format.h"
#include "stacktop/GoCounter.h"
#include "stacktop/Json.h"
#include "stacktop/Sampler.h"
#include "stacktop/Signals.h"
#include "stacktop/Util.h"

/* Set by the SIGINT/SIGTERM handler; a signal handler can only talk to the
 * loop through a volatile sig_atomic_t, hence this one file-level flag. */
static volatile sig_atomic_t interrupted;

static void onInterrupt(int sig) {
   (void)sig;
   interrupted = 1;
}

typedef struct BatchContext_ {
   const Options* options;
   Sampler* sampler;            /* owned */
   const ProcessSample** order; /* owned array; rows sorted for printing */
   size_t orderCap;
   FILE* out;
} BatchContext;

/* ---- text */

static const char stateNames[TASK_STATE_COUNT][10] = {
   [TASK_R] = "running", [TASK_S] = "sleeping", [TASK_D] = "disk", [TASK_T] = "stopped", [TASK_Z] = "zombie",
};

static void printStateCounts(FILE* out, const unsigned counts[TASK_STATE_COUNT]) {
   for (int s = 0; s < TASK_STATE_COUNT; s++)
      fprintf(out, ", %4u %s", counts[s], stateNames[s]);
   fputc('\n', out);
}

static void printTextHeader(FILE* out, const SystemSample* sys) {
   time_t t = (time_t)sys->time;
   struct tm tm;
   char clock[16] = "", up[48];
   if (localtime_r(&t, &tm))
      strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
   Format_uptime(up, sizeof(up), sys->uptimeS);
   fprintf(out, "stacktop - %s up %s,  load average: %.2f, %.2f, %.2f\n", clock, up, sys->load[0], sys->load[1],
           sys->load[2]);
   fprintf(out, "Tasks:   %5u total", sys->tasks);
   printStateCounts(out, sys->taskStates);
   fprintf(out, "Threads: %5u total", sys->threads);
   printStateCounts(out, sys->threadStates);
   fprintf(out, "%%Cpu(s): %5.1f busy of %d CPUs\n", sys->cpuPct, sys->cpuCount);
   fprintf(out, "MiB Mem : %9.1f total, %9.1f avail (%.1f%%), %9.1f used\n", sys->memTotalKiB / 1024.0,
           sys->memAvailableKiB / 1024.0, sys->memAvailablePct, sys->memUsedKiB / 1024.0);
   fprintf(out, "MiB Swap: %9.1f total, %9.1f free\n\n", sys->swapTotalKiB / 1024.0, sys->swapFreeKiB / 1024.0);
}

/* Batch text is a table on a terminal, like the monitor: target-chosen
 * bytes become '?' one cell each (Draw), so columns stay aligned. */
static void displayable(char* s, size_t size) {
   char* out = Util_xmalloc(size);
   Draw_neutralise(s, 0, INT_MAX, out, size);
   memcpy(s, out, size);
   free(out);
}

static void printCell(FILE* out, ColumnId id, const char* text, bool last) {
   const Column* c = Column_get(id);
   if (c->width == 0 || last)
      fputs(text, out);
   else
      fprintf(out, c->leftAlign ? "%-*s " : "%*s ", c->width, text);
}

/* Batch text shows the default column set, like the monitor on first start
 * (the Go columns only when a Go process is listed). */
static bool shown(int id, bool anyGo) {
   const Column* c = Column_get((ColumnId)id);
   return c->shownByDefault && (anyGo || !c->onlyWithGo);
}

static void printTableHeader(FILE* out, bool anyGo) {
   for (int id = 0; id < COL_COUNT; id++) {
      if (shown(id, anyGo))
         printCell(out, (ColumnId)id, Column_get((ColumnId)id)->header, id == COL_COUNT - 1);
   }
   fputc('\n', out);
}

static void printThreadRow(FILE* out, const ThreadSample* t, bool anyGo) {
   /* Thread rows line up under PID, S, CPU% and TIME+; the name goes in COMMAND. */
   char tid[16], state[4], cpu[16], time[16], name[32];
   Util_format(tid, sizeof(tid), "%d", (int)t->tid);
   Util_format(state, sizeof(state), "%c", t->state);
   Util_format(cpu, sizeof(cpu), "%.1f", t->cpuPct);
   Format_cpuTime(time, sizeof(time), t->cpuTimeS);
   Util_format(name, sizeof(name), "  `- %s", t->name);
   displayable(name, sizeof(name));
   const char* cells[COL_COUNT] = {
      [COL_PID] = tid, [COL_STATE] = state, [COL_CPU] = cpu, [COL_TIME] = time, [COL_COMMAND] = name,
   };
   for (int id = 0; id < COL_COUNT; id++) {
      if (shown(id, anyGo))
         printCell(out, (ColumnId)id, cells[id] ? cells[id] : "", id == COL_COUNT - 1);
   }
   fputc('\n', out);
}

static void printText(BatchContext* ctx, size_t count) {
   FILE* out = ctx->out;
   printTextHeader(out, Sampler_system(ctx->sampler));
   bool anyGo = Column_anyGo(ctx->order, count);
   printTableHeader(out, anyGo);
   char cell[4200]; /* a whole cmdline (Sampler caps it at 4 KiB) */
   for (size_t i = 0; i < count; i++) {
      const ProcessSample* p = ctx->order[i];
      for (int id = 0; id < COL_COUNT; id++) {
         if (!shown(id, anyGo))
            continue;
         Column_format((ColumnId)id, p, cell, sizeof(cell));
         displayable(cell, sizeof(cell));
         printCell(out, (ColumnId)id, cell, id == COL_COUNT - 1);
      }
      fputc('\n', out);
      for (size_t t = 0; ctx->options->threads && t < p->threadRowCount; t++)
         printThreadRow(out, &p->threadRows[t], anyGo);
   }
   fputc('\n', out);
}

/* ---- JSON */

static void jsonStates(Json* j, const char* key, const unsigned counts[TASK_STATE_COUNT]) {
   Json_key(j, key);
   Json_beginObject(j);
   for (int s = 0; s < TASK_STATE_COUNT; s++) {
      char letter[2] = { TaskState_letter((TaskState)s), '\0' };
      Json_key(j, letter);
      Json_uint(j, counts[s]);
   }
   Json_endObject(j);
}

static void jsonSystem(Json* j, const SystemSample* sys) {
   Json_key(j, "system");
   Json_beginObject(j);
   Json_key(j, "cpu_count");
   Json_int(j, sys->cpuCount);
   Json_key(j, "cpu_pct");
   Json_double(j, sys->cpuPct, 1);
   Json_key(j, "mem_total_kib");
   Json_uint(j, sys->memTotalKiB);
   Json_key(j, "mem_available_kib");
   Json_uint(j, sys->memAvailableKiB);
   Json_key(j, "mem_used_kib");
   Json_uint(j, sys->memUsedKiB);
   Json_key(j, "mem_available_pct");
   Json_double(j, sys->memAvailablePct, 1);
   Json_key(j, "swap_total_kib");
   Json_uint(j, sys->swapTotalKiB);
   Json_key(j, "swap_free_kib");
   Json_uint(j, sys->swapFreeKiB);
   Json_key(j, "load");
   Json_beginArray(j);
   for (int i = 0; i < 3; i++)
      Json_double(j, sys->load[i], 2);
   Json_endArray(j);
   Json_key(j, "uptime_s");
   Json_double(j, sys->uptimeS, 2);
   Json_key(j, "interval_s");
   Json_double(j, sys->intervalS, 3);
   Json_key(j, "tasks");
   Json_uint(j, sys->tasks);
   Json_key(j, "threads");
   Json_uint(j, sys->threads);
   jsonStates(j, "task_states", sys->taskStates);
   jsonStates(j, "thread_states", sys->threadStates);
   Json_endObject(j);
}

static void jsonThreads(Json* j, const ProcessSample* p) {
   Json_key(j, "threads");
   Json_beginArray(j);
   for (size_t i = 0; i < p->threadRowCount; i++) {
      const ThreadSample* t = &p->threadRows[i];
      char state[2] = { t->state, '\0' };
      Json_beginObject(j);
      Json_key(j, "tid");
      Json_int(j, t->tid);
      Json_key(j, "name");
      Json_string(j, t->name);
      Json_key(j, "state");
      Json_string(j, state);
      Json_key(j, "cpu_pct");
      Json_double(j, t->cpuPct, 1);
      Json_endObject(j);
   }
   Json_endArray(j);
}

/* A Go process: "goroutines" (like runtime.NumGoroutine), "goroutine_states"
 * (running, runnable, waiting, syscall, other), "goroutine_wait_reasons"
 * (the waiting ones by Go's reason) and "goroutine_growth_per_min". */
static void jsonGoroutines(Json* j, const ProcessSample* p) {
   const GoCount* g = p->go;
   Json_key(j, "goroutines");
   Json_uint(j, g->total);
   Json_key(j, "goroutine_states");
   Json_beginObject(j);
   for (int s = 0; s < GO_COUNT_STATES; s++) {
      Json_key(j, GoCount_stateName((GoCountState)s));
      Json_uint(j, g->states[s]);
   }
   Json_endObject(j);
   Json_key(j, "goroutine_wait_reasons");
   Json_beginObject(j);
   for (size_t r = 0; r < GO_COUNT_REASONS; r++) {
      if (!g->reasons[r])
         continue;
      Json_key(j, GoCount_reasonName(g, r));
      Json_uint(j, g->reasons[r]);
   }
   Json_endObject(j);
   Json_key(j, "goroutine_growth_per_min");
   if (p->goGrowthKnown)
      Json_double(j, p->goGrowthPerMin, 1);
   else
      Json_null(j);
}

static void jsonProcess(Json* j, const ProcessSample* p, bool threads) {
   char state[2] = { p->state, '\0' };
   Json_beginObject(j);
   Json_key(j, "pid");
   Json_int(j, p->pid);
   Json_key(j, "user");
   Json_string(j, p->user);
   Json_key(j, "state");
   Json_string(j, state);
   /* The schema has "threads" as the count and, with --threads, as
    * the array of thread rows; JSON cannot hold both under one key, so with
    * --threads the count moves to "thread_count". */
   if (threads) {
      Json_key(j, "thread_count");
      Json_int(j, p->threads);
   } else {
      Json_key(j, "threads");
      Json_int(j, p->threads);
   }
   Json_key(j, "cpu_pct");
   Json_double(j, p->cpuPct, 1);
   Json_key(j, "mem_pct");
   Json_double(j, p->memPct, 1);
   Json_key(j, "virt_kib");
   Json_uint(j, p->virtKiB);
   Json_key(j, "res_kib");
   Json_uint(j, p->resKiB);
   Json_key(j, "shr_kib");
   Json_uint(j, p->shrKiB);
   Json_key(j, "data_kib");
   Json_uint(j, p->dataKiB);
   Json_key(j, "cpu_time_s");
   Json_double(j, p->cpuTimeS, 2);
   Json_key(j, "command");
   Json_string(j, p->command ? p->command : p->comm);
   Json_key(j, "res_growth_kib_per_min");
   if (p->resGrowthKnown)
      Json_double(j, p->resGrowthKiBPerMin, 1);
   else
      Json_null(j);
   jsonStates(j, "thread_states", p->threadStates);
   if (p->go)
      jsonGoroutines(j, p);
   if (threads)
      jsonThreads(j, p);
   Json_endObject(j);
}

static void printJson(BatchContext* ctx, size_t count) {
   const SystemSample* sys = Sampler_system(ctx->sampler);
   Json j;
   Json_init(&j, ctx->out);
   Json_beginObject(&j);
   Json_key(&j, "time");
   Json_double(&j, sys->time, 3);
   jsonSystem(&j, sys);
   Json_key(&j, "processes");
   Json_beginArray(&j);
   for (size_t i = 0; i < count; i++)
      jsonProcess(&j, ctx->order[i], ctx->options->threads);
   Json_endArray(&j);
   Json_endObject(&j);
   fputc('\n', ctx->out);
}

/* ---- the loop */

static size_t sortRows(BatchContext* ctx) {
   size_t n = Sampler_count(ctx->sampler);
   Util_growArray((void**)&ctx->order, &ctx->orderCap, n, sizeof(ctx->order[0]));
   for (size_t i = 0; i < n; i++)
      ctx->order[i] = Sampler_at(ctx->sampler, i);
   ColumnId col = ctx->options->sortColumn;
   Column_sort(ctx->order, n, col, Column_get(col)->defaultDescending);
   return n;
}

/* Sleeps until `deadline` (monotonic seconds); returns false when interrupted. */
static bool sleepUntil(double deadline) {
   struct timespec ts = { .tv_sec = (time_t)deadline, .tv_nsec = (long)((deadline - floor(deadline)) * 1e9) };
   /* Another signal's EINTR just resumes the sleep; ours sets the flag. */
   while (!interrupted && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
      continue;
   return !interrupted;
}

typedef enum WriteResult_ {
   WRITE_OK,
   WRITE_CLOSED, /* the reader went away (EPIPE): a quiet, successful end */
   WRITE_FAILED,
} WriteResult;

static WriteResult flushOutput(FILE* out) {
   if (fflush(out) == 0 && !ferror(out))
      return WRITE_OK;
   if (errno == EPIPE)
      return WRITE_CLOSED;
   Util_error("cannot write batch output: %s", strerror(errno));
   return WRITE_FAILED;
}

static void installSignals(void) {
   /* EPIPE from write() instead of death by SIGPIPE: `stacktop -b | head`
    * must end quietly with status 0. No SA_RESTART, so sleeps wake up. */
   Signals_ignorePipe();
   static const int stop[] = { SIGINT, SIGTERM };
   Signals_install(stop, SIGNALS_COUNT(stop), onInterrupt, 0, false);
}

static int runLoop(BatchContext* ctx) {
   char err[256];
   if (Sampler_refresh(ctx->sampler, err, sizeof(err)) < 0) {
      Util_error("%s", err);
      return STACKTOP_EXIT_FAILURE;
   }
   double next = Util_monotonicSeconds();
   for (long i = 0; ctx->options->iterations == 0 || i < ctx->options->iterations; i++) {
      next += ctx->options->delayS;
      if (!sleepUntil(next))
         return STACKTOP_EXIT_OK;
      if (Sampler_refresh(ctx->sampler, err, sizeof(err)) < 0) {
         Util_error("%s", err);
         return STACKTOP_EXIT_FAILURE;
      }
      size_t n = sortRows(ctx);
      if (ctx->options->format == OUTPUT_JSON)
         printJson(ctx, n);
      else
         printText(ctx, n);
      WriteResult w = flushOutput(ctx->out);
      if (w != WRITE_OK)
         return w == WRITE_CLOSED ? STACKTOP_EXIT_OK : STACKTOP_EXIT_FAILURE;
      /* A refresh slower than the delay must not trigger a burst of catch-up refreshes. */
      double now = Util_monotonicSeconds();
      if (next < now)
         next = now;
   }
   return STACKTOP_EXIT_OK;
}

int Batch_run(const Options* options) {
   installSignals();
   SamplerOptions so = {
      .threads = options->threads,
      .pids = options->pidCount ? options->pids : NULL,
      .pidCount = options->pidCount,
      .filterUser = options->filterUser,
      .uid = options->uid,
   };
   char err[256];
   BatchContext ctx = { .options = options, .out = stdout };
   ctx.sampler = Sampler_new(&so, err, sizeof(err));
   if (ctx.sampler)
      Sampler_setFields(ctx.sampler, SAMPLER_FIELD_GOROUTINES);
   if (!ctx.sampler) {
      Util_error("%s", err);
      return STACKTOP_EXIT_FAILURE;
   }
   int rc = runLoop(&ctx);
   Sampler_free(ctx.sampler);
   free(ctx.order);
   return rc;
}
