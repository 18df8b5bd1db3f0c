/* Collects a diagnostic bundle's contents; see Evidence.h. */
#include "stacktop/Evidence.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stacktop/Bundle.h"
#include "stacktop/Dump.h"
#include "stacktop/Format.h"
#include "stacktop/GoProfile.h"
#include "stacktop/Json.h"
#include "stacktop/Pprof.h"
#include "stacktop/Printable.h"
#include "stacktop/ProcStat.h"
#include "stacktop/Util.h"

/* Caps on what one item may add to a bundle. */
#define PROC_FILE_MAX (16u << 20)
#define PPROF_MAX (64u << 20)
#define FDS_MAX 100000
#define TOP_COUNT 20
#define SMAPS_COUNT 10
/* Snapshot copies at most this much of one stack (Snapshot.c). */
#define STACK_COPY_CAP (512u * 1024u)

/* /proc/PID files copied (made printable). Never environ, mem or anything with contents. */
static const char* const procFiles[] = { "status", "smaps_rollup", "limits", "maps", "io", "cgroup" };

typedef struct PprofItem_ {
   const char* path; /* relative to pprof_url; "%d" takes pprof_seconds */
   const char* file; /* name inside pprof/ */
   bool timed;       /* runs for pprof_seconds */
   bool memory;      /* also fetched from every Go service in a memory incident */
} PprofItem;

static const PprofItem pprofItems[] = {
   { .path = "goroutine?debug=1", .file = "goroutine_debug1.txt", .memory = true },
   { .path = "goroutine?debug=2", .file = "goroutine_debug2.txt" },
   { .path = "heap", .file = "heap.pb.gz", .memory = true },
   { .path = "profile?seconds=%d", .file = "profile.pb.gz", .timed = true },
};

/* Everything a collector needs, and what it found. */
typedef struct Collect_ {
   const EvidenceRequest* req;
   const WatchConfig* config;
   const Incident* incident;
   Bundle* bundle;
   bool memoryIncident;
   char** notes;
   size_t noteCount, noteCap;
   char mail[4096];       /* lines for the mail */
   char goroutines[4096]; /* per Go process: its goroutines in a few lines, for summary.txt */
   uid_t* users;          /* the incident's processes' users: their command lines are shown */
   size_t userCount;
   const ProcessSample** top; /* by RES, for top20 and the smaps of memory incidents */
   size_t topCount;
   EvidenceResult* result; /* dumps and pprof failures, for the watcher's metrics */
} Collect;

static void recordDump(Collect* c, pid_t pid, bool ok, double stoppedMs) {
   EvidenceResult* r = c->result;
   if (r->dumpCount < EVIDENCE_DUMPS_MAX)
      r->dumps[r->dumpCount++] = (EvidenceDump){ .pid = (int)pid, .ok = ok, .stoppedMs = stoppedMs };
}

static void recordPprofFailure(Collect* c, const char* service, const char* path) {
   EvidenceResult* r = c->result;
   if (r->pprofFailureCount >= EVIDENCE_PPROF_FAILURES_MAX)
      return;
   EvidencePprofFailure* f = &r->pprofFailures[r->pprofFailureCount++];
   Util_format(f->service, sizeof(f->service), "%s", service);
   /* "profile?seconds=10" is the endpoint "profile"; the debug levels stay apart */
   Util_format(f->endpoint, sizeof(f->endpoint), "%.*s", (int)(strncmp(path, "profile", 7) == 0 ? 7 : strlen(path)),
               path);
}

__attribute__((format(printf, 2, 3))) static void note(Collect* c, const char* fmt, ...) {
   char buf[1024];
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(buf, sizeof(buf), fmt, ap);
   va_end(ap);
   Util_growArray((void**)&c->notes, &c->noteCap, c->noteCount, sizeof(char*));
   c->notes[c->noteCount++] = Printable_dup(buf);
}

__attribute__((format(printf, 2, 3))) static void mailLine(Collect* c, const char* fmt, ...) {
   size_t used = strlen(c->mail);
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(c->mail + used, sizeof(c->mail) - used, fmt, ap);
   va_end(ap);
}

/* An in-memory text file built with stdio. */
typedef struct MemFile_ {
   FILE* f;
   char* data;
   size_t len;
} MemFile;

static void memOpen(MemFile* m) {
   m->data = NULL;
   m->len = 0;
   m->f = open_memstream(&m->data, &m->len);
}

/* Closes the stream and adds it to the bundle; frees the text. */
static void memAdd(MemFile* m, Collect* c, const char* name) {
   if (m->f)
      fclose(m->f);
   else
      note(c, "%s: out of memory", name);
   Bundle_addData(c->bundle, name, m->data ? m->data : "", m->data ? m->len : 0);
   free(m->data);
}

/* A text file from /proc, made printable line by line. */
static void addProcText(Collect* c, const char* src, const char* name, const char* what) {
   size_t len;
   char* data = Util_slurp(src, PROC_FILE_MAX, &len);
   if (!data) {
      note(c, "%s unreadable: %s", what, strerror(errno));
      return;
   }
   size_t outLen;
   char* text = Printable_text(data, len, true, &outLen);
   Bundle_addData(c->bundle, name, text, outLen);
   free(text);
   free(data);
}

/* ---- per process */

/* The process still is the one the incident saw (pids are reused). */
static const ProcessSample* stillThere(const Collect* c, const IncidentProcess* ip) {
   const ProcessSample* p = Sampler_find(c->req->sampler, ip->pid);
   return p && p->startTicks == ip->startTicks ? p : NULL;
}

static bool alive(const IncidentProcess* ip) {
   ProcStat st;
   return ProcStat_read(ip->pid, 0, &st) && st.startTicks == ip->startTicks;
}

/* The most frequent state of a goroutine group ("chan receive"). */
static const char* mainState(const GoProfileGroup* g) {
   const GoStateCount* best = NULL;
   for (size_t i = 0; i < g->stateCount; i++) {
      if (!best || g->states[i].count > best->count)
         best = &g->states[i];
   }
   return best ? best->state : "?";
}

/* "pid 123 (svc): 1234 goroutines, +12.0/min; largest groups: 1200 chan
 * receive in main.watch (main.go:25), ..." (Printable: names are the
 * target's). */
static void summarizeGoroutines(Collect* c, const IncidentProcess* ip, const GoProfile* go) {
   char line[1024], growth[128] = "growth unknown (not watched long enough, or no goroutine rule)";
   const ProcessSample* p = stillThere(c, ip);
   bool ok = false;
   /* The floor's slope over what the history holds (30 minutes at most),
    * once it spans three intervals. */
   double slope = p && p->history ? History_growthPerMinute(p->history, HISTORY_GOROUTINES, SAMPLER_GROWTH_WINDOW_S,
                                                            3 * c->config->intervalS, &ok)
                                  : 0;
   if (ok) {
      char span[32];
      Format_uptime(span, sizeof(span), History_span(p->history));
      Util_format(growth, sizeof(growth), "growing %+.1f per minute over the last %s", slope, span);
   }
   size_t used = (size_t)snprintf(line, sizeof(line), "pid %d: %zu goroutines (%s, %s); largest groups:", (int)ip->pid,
                                  go->total, go->version, growth);
   for (size_t i = 0; i < go->groupCount && i < 3 && used < sizeof(line); i++) {
      const GoProfileGroup* g = &go->groups[i];
      const GoProfileFrame* f = g->frameCount ? &g->frames[0] : NULL;
      used += (size_t)snprintf(line + used, sizeof(line) - used, "%s %zu %s in %s (%s:%d)", i ? "," : "", g->count,
                               mainState(g), f ? f->function : "?", f && f->file ? f->file : "?", f ? f->line : 0);
   }
   char* safe = Printable_dup(line);
   size_t have = strlen(c->goroutines);
   Util_format(c->goroutines + have, sizeof(c->goroutines) - have, "  %s\n", safe);
   free(safe);
}

/* A Go process's goroutine profile read from outside, in Go's own debug=1
 * and debug=2 layouts (also for a service without a pprof endpoint). */
static void addGoroutineFiles(Collect* c, const IncidentProcess* ip, const char* dir, const DumpResult* dump) {
   if (dump->go->error[0]) {
      note(c, "pid %d: goroutines not read: %s", (int)ip->pid, dump->go->error);
      return;
   }
   static const struct {
      int debug;
      const char* file;
   } files[] = { { 1, "goroutines.txt" }, { 2, "goroutines-debug2.txt" } };
   for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
      DumpWriteOptions w = { .format = DUMP_FORMAT_TEXT, .parts = DUMP_PARTS_GOROUTINES, .debug = files[i].debug };
      MemFile m;
      char name[300];
      memOpen(&m);
      if (m.f && Dump_writeWith(dump, &w, m.f) < 0)
         note(c, "pid %d: writing %s failed: %s", (int)ip->pid, files[i].file, strerror(errno));
      Util_format(name, sizeof(name), "%s/%s", dir, files[i].file);
      memAdd(&m, c, name);
   }
   summarizeGoroutines(c, ip, dump->go);
}

static void collectStacks(Collect* c, const IncidentProcess* ip, const char* dir) {
   DumpOptions opts;
   DumpOptions_init(&opts);
   opts.maxStackBytes = (size_t)c->config->dumpMemory;
   DumpResult* dump = NULL;
   char err[512], name[300];
   if ((unsigned long long)ip->threads * STACK_COPY_CAP > c->config->dumpMemory) {
      char budget[32];
      Format_kib(budget, sizeof(budget), c->config->dumpMemory / 1024);
      note(c,
           "pid %d: %d threads: stack copies limited to dump_memory (%sB in all), so the outermost frames of deep "
           "stacks may be missing",
           (int)ip->pid, ip->threads, budget);
   }
   DumpError rc = Dump_take(ip->pid, &opts, &dump, err, sizeof(err));
   if (rc != DUMP_OK) {
      char text[700];
      Util_format(text, sizeof(text), "stack dump of pid %d failed: %s\n", (int)ip->pid, err);
      char* safe = Printable_text(text, strlen(text), true, NULL);
      Util_format(name, sizeof(name), "%s/stacks.txt", dir);
      Bundle_addText(c->bundle, name, safe);
      Util_format(name, sizeof(name), "%s/stacks.folded", dir);
      Bundle_addText(c->bundle, name, safe);
      free(safe);
      note(c, "pid %d: stack dump failed: %s", (int)ip->pid, err);
      recordDump(c, ip->pid, false, 0);
      return;
   }
   recordDump(c, ip->pid, true, dump->stoppedMs);
   static const struct {
      DumpFormat format;
      const char* file;
   } outputs[] = {
      { DUMP_FORMAT_TEXT, "stacks.txt" },
      { DUMP_FORMAT_FOLDED, "stacks.folded" },
      /* for go tool pprof without the binaries, and a flame graph to open
       * in a browser: a Go program's goroutines, else the threads */
      { DUMP_FORMAT_PPROF, "stacks.pb.gz" },
      { DUMP_FORMAT_SVG, "stacks.svg" },
   };
   for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++) {
      MemFile m;
      memOpen(&m);
      if (m.f && Dump_write(dump, outputs[i].format, m.f) < 0)
         note(c, "pid %d: writing %s failed: %s", (int)ip->pid, outputs[i].file, strerror(errno));
      Util_format(name, sizeof(name), "%s/%s", dir, outputs[i].file);
      memAdd(&m, c, name);
   }
   if (dump->go)
      addGoroutineFiles(c, ip, dir, dump);
   Dump_free(dump);
}

static void collectProcFiles(Collect* c, const IncidentProcess* ip, const char* dir) {
   for (size_t i = 0; i < sizeof(procFiles) / sizeof(procFiles[0]); i++) {
      char src[64], name[300], what[128];
      Util_format(src, sizeof(src), "/proc/%d/%s", (int)ip->pid, procFiles[i]);
      Util_format(name, sizeof(name), "%s/%s", dir, procFiles[i]);
      Util_format(what, sizeof(what), "pid %d: %s", (int)ip->pid, procFiles[i]);
      addProcText(c, src, name, what);
   }
}

/* "fd -> target" per open descriptor: targets only (made printable), never contents. */
static void collectFds(Collect* c, const IncidentProcess* ip, const char* dir) {
   char fdDir[64], name[300];
   Util_format(fdDir, sizeof(fdDir), "/proc/%d/fd", (int)ip->pid);
   DIR* d = opendir(fdDir);
   if (!d) {
      note(c, "pid %d: fd list unreadable: %s", (int)ip->pid, strerror(errno));
      return;
   }
   MemFile m;
   memOpen(&m);
   struct dirent* e;
   size_t n = 0;
   while (m.f && (e = readdir(d)) && n < FDS_MAX) {
      if (e->d_name[0] == '.')
         continue;
      char link[128], target[PATH_MAX], safe[PATH_MAX * 2];
      Util_format(link, sizeof(link), "%s/%s", fdDir, e->d_name);
      ssize_t len = readlink(link, target, sizeof(target) - 1);
      if (len < 0)
         continue;
      target[len] = '\0';
      fprintf(m.f, "%s -> %s\n", e->d_name, Printable_copy(safe, sizeof(safe), target));
      n++;
   }
   closedir(d);
   Util_format(name, sizeof(name), "%s/fds", dir);
   memAdd(&m, c, name);
}

static void collectHistory(Collect* c, const IncidentProcess* ip, const char* dir) {
   const ProcessSample* p = stillThere(c, ip);
   if (!p || !p->history) {
      note(c, "pid %d: no sample history (the process is gone)", (int)ip->pid);
      return;
   }
   char name[300];
   MemFile m;
   memOpen(&m);
   if (m.f) {
      fputs("time,cpu_pct,res_kib,threads\n", m.f);
      size_t n = History_count(p->history);
      for (size_t i = 0; i < n; i++) {
         const HistorySample* s = History_at(p->history, i);
         fprintf(m.f, "%.3f,%.1f,%lu,%lu\n", s->wallTime, s->cpuPct, s->resKiB, s->threads);
      }
   }
   Util_format(name, sizeof(name), "%s/history.csv", dir);
   memAdd(&m, c, name);
}

typedef void (*ProcessCollector)(Collect* c, const IncidentProcess* ip, const char* dir);

/* Per process of the incident, in this order: the stacks first, to be as
 * close as possible to the moment the rule fired. */
static const ProcessCollector processCollectors[] = { collectStacks, collectProcFiles, collectFds, collectHistory };

static void collectProcesses(Collect* c) {
   for (size_t i = 0; i < c->incident->processCount; i++) {
      const IncidentProcess* ip = &c->incident->processes[i];
      if (!alive(ip)) {
         note(c, "pid %d (%s) is gone since the incident: nothing collected from it", (int)ip->pid, ip->comm);
         continue;
      }
      char dir[64];
      Util_format(dir, sizeof(dir), "proc-%d", (int)ip->pid);
      for (size_t k = 0; k < sizeof(processCollectors) / sizeof(processCollectors[0]); k++)
         processCollectors[k](c, ip, dir);
   }
}

/* ---- the system */

static void collectSystemFiles(Collect* c) {
   static const char* const files[][2] = { { "/proc/meminfo", "system/meminfo" },
                                           { "/proc/loadavg", "system/loadavg" } };
   for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
      addProcText(c, files[i][0], files[i][1], files[i][0]);
}

static bool showArgs(const Collect* c, uid_t uid) {
   for (size_t i = 0; i < c->userCount; i++) {
      if (c->users[i] == uid)
         return true;
   }
   return false;
}

/* A process line: other users' command lines (secrets on them) are not shown. */
static void processLine(const Collect* c, FILE* f, const ProcessSample* p, const char* growth) {
   char res[16], user[64], what[4096 * 4 + 64];
   Format_kib(res, sizeof(res), p->resKiB);
   Printable_copy(user, sizeof(user), p->user);
   if (showArgs(c, p->uid) && p->command)
      Printable_copy(what, sizeof(what), p->command);
   else {
      char comm[64];
      Util_format(what, sizeof(what), "[%s]", Printable_copy(comm, sizeof(comm), p->comm));
   }
   fprintf(f, "%7d %-10.10s %8s %6.1f %5d %9s %s\n", (int)p->pid, user, res, p->cpuPct, p->threads, growth, what);
}

static void growthText(const Collect* c, const ProcessSample* p, char* buf, size_t size) {
   double perMin, span;
   if (c->req->trend && ResTrend_growth(c->req->trend, p->pid, p->startTicks, &perMin, &span))
      Format_rate(buf, size, perMin * 60);
   else if (p->resGrowthKnown)
      Format_rate(buf, size, p->resGrowthKiBPerMin * 60);
   else
      Util_format(buf, size, "-");
}

static void collectTop(Collect* c) {
   MemFile m;
   memOpen(&m);
   if (m.f) {
      fprintf(m.f, "%7s %-10s %8s %6s %5s %9s %s\n", "PID", "USER", "RES", "CPU%", "THR", "RGROW/h", "COMMAND");
      for (size_t i = 0; i < c->topCount && i < TOP_COUNT; i++) {
         char g[24];
         growthText(c, c->top[i], g, sizeof(g));
         processLine(c, m.f, c->top[i], g);
      }
   }
   memAdd(&m, c, "system/top20.txt");
}

typedef struct Grower_ {
   const ProcessSample* p;
   double perMin;
} Grower;

static int byGrowth(const void* a, const void* b) {
   double x = ((const Grower*)a)->perMin, y = ((const Grower*)b)->perMin;
   return (y > x) - (y < x);
}

static void addSmaps(Collect* c, const ProcessSample* p, const ProcessSample** done, size_t* doneCount) {
   for (size_t i = 0; i < *doneCount; i++) {
      if (done[i] == p)
         return;
   }
   done[(*doneCount)++] = p;
   char src[64], name[128], what[64];
   Util_format(src, sizeof(src), "/proc/%d/smaps_rollup", (int)p->pid);
   Util_format(name, sizeof(name), "system/smaps_rollup/%d", (int)p->pid);
   Util_format(what, sizeof(what), "smaps_rollup of pid %d", (int)p->pid);
   addProcText(c, src, name, what);
}

/* Who holds the memory, and who is taking more: top by RES growth and the
 * smaps_rollup of the largest and fastest-growing processes. */
static void collectMemoryHolders(Collect* c) {
   size_t n = Sampler_count(c->req->sampler), g = 0;
   Grower* grow = Util_xcalloc(n ? n : 1, sizeof(Grower));
   for (size_t i = 0; i < n; i++) {
      const ProcessSample* p = Sampler_at(c->req->sampler, i);
      double perMin, span;
      if (c->req->trend && ResTrend_growth(c->req->trend, p->pid, p->startTicks, &perMin, &span))
         grow[g++] = (Grower){ .p = p, .perMin = perMin };
   }
   qsort(grow, g, sizeof(Grower), byGrowth);
   MemFile m;
   memOpen(&m);
   if (m.f) {
      fprintf(m.f, "%7s %-10s %8s %6s %5s %9s %s\n", "PID", "USER", "RES", "CPU%", "THR", "RGROW/h", "COMMAND");
      for (size_t i = 0; i < g && i < TOP_COUNT; i++) {
         char rate[24];
         Format_rate(rate, sizeof(rate), grow[i].perMin * 60);
         processLine(c, m.f, grow[i].p, rate);
      }
      if (g == 0)
         fputs("(no RES trend yet: the watcher has not run long enough)\n", m.f);
   }
   memAdd(&m, c, "system/top20_growth.txt");
   if (g == 0)
      note(c, "top by RES growth: no trend yet (needs a few samples per process)");
   const ProcessSample** done = Util_xcalloc(2 * SMAPS_COUNT, sizeof(*done));
   size_t doneCount = 0;
   for (size_t i = 0; i < c->topCount && i < SMAPS_COUNT; i++)
      addSmaps(c, c->top[i], done, &doneCount);
   for (size_t i = 0; i < g && i < SMAPS_COUNT; i++) {
      if (grow[i].perMin > 0)
         addSmaps(c, grow[i].p, done, &doneCount);
   }
   free(done);
   free(grow);
}

/* ---- pprof */

/* "goroutine profile: total N" at the start of debug=1 output. */
static long goroutineTotal(const char* data) {
   long n;
   return sscanf(data, "goroutine profile: total %ld", &n) == 1 ? n : -1;
}

static void fetchPprof(Collect* c, const char* service, const char* url, const char* dir, bool memoryOnly) {
   const WatchConfig* cfg = c->config;
   for (size_t i = 0; i < sizeof(pprofItems) / sizeof(pprofItems[0]); i++) {
      const PprofItem* item = &pprofItems[i];
      if (memoryOnly && !item->memory)
         continue;
      char path[64], name[400], err[512];
      if (item->timed)
         Util_format(path, sizeof(path), "profile?seconds=%d", (int)cfg->pprofSeconds);
      else
         Util_format(path, sizeof(path), "%s", item->path);
      double timeout = cfg->pprofTimeoutS + (item->timed ? cfg->pprofSeconds : 0);
      size_t len;
      PprofError error;
      char* data = Pprof_fetch(url, path, timeout, PPROF_MAX, &len, &error, err, sizeof(err));
      if (!data) {
         note(c, "%s: pprof %s not fetched: %s", service, path, err);
         recordPprofFailure(c, service, path);
         /* An unreachable service answers nothing else either: do not wait on every endpoint. */
         if (error == PPROF_UNREACHABLE)
            break;
         continue;
      }
      long total = strcmp(item->file, "goroutine_debug1.txt") == 0 ? goroutineTotal(data) : -1;
      if (total >= 0)
         mailLine(c, "goroutines: %ld in %s (pprof goroutine?debug=1 when the bundle was collected)\n", total, service);
      Util_format(name, sizeof(name), "%s/%s", dir, item->file);
      Bundle_addData(c->bundle, name, data, len);
      free(data);
   }
}

static void collectPprof(Collect* c) {
   const WatchService* own = WatchConfig_service(c->config, c->incident->service);
   if (!c->memoryIncident) {
      if (own && own->pprofUrl)
         fetchPprof(c, own->name, own->pprofUrl, "pprof", false);
      return;
   }
   /* A memory incident: the heap of every watched Go service. */
   for (size_t i = 0; i < c->config->serviceCount; i++) {
      const WatchService* s = &c->config->services[i];
      if (!s->pprofUrl)
         continue;
      char dir[300], safe[200];
      size_t o = 0;
      for (const char* p = s->name; *p && o + 1 < sizeof(safe); p++)
         safe[o++] = (*p == '/' || (unsigned char)*p < 0x20) ? '_' : *p;
      safe[o] = '\0';
      Util_format(dir, sizeof(dir), "pprof/%s", safe);
      fetchPprof(c, s->name, s->pprofUrl, dir, true);
   }
}

/* ---- summaries */

static void summaryText(Collect* c, double collected) {
   char when[32];
   Incident_isoTime(collected, when, sizeof(when));
   MemFile m;
   memOpen(&m);
   if (m.f) {
      FILE* f = m.f;
      fprintf(f, "stacktop %s diagnostic bundle\n\n", STACKTOP_VERSION);
      Incident_describe(c->incident, c->config->hostname, f);
      fprintf(f, "\ncollected: %s (%.0f s after the rule fired)\n", when, collected - c->incident->firedWall);
      if (c->goroutines[0])
         fprintf(f, "\ngoroutines (read from outside, like the program's /debug/pprof/goroutine):\n%s", c->goroutines);
      fprintf(f, "\nnot collected (%zu):\n", c->noteCount);
      for (size_t i = 0; i < c->noteCount; i++)
         fprintf(f, "  %s\n", c->notes[i]);
      if (c->noteCount == 0)
         fputs("  nothing: every item was collected\n", f);
   }
   memAdd(&m, c, "summary.txt");
}

static void pairsJson(Json* j, const IncidentPair* p, size_t n) {
   Json_beginObject(j);
   for (size_t i = 0; i < n; i++) {
      Json_key(j, p[i].key);
      Json_string(j, p[i].value);
   }
   Json_endObject(j);
}

/* The Alertmanager alert that asked for the bundle, null for a rule's. */
static void alertJson(Json* j, const IncidentAlert* a) {
   if (!a) {
      Json_null(j);
      return;
   }
   Json_beginObject(j);
   Json_key(j, "alertname");
   Json_string(j, a->name);
   Json_key(j, "fingerprint");
   Json_string(j, a->fingerprint);
   Json_key(j, "startsAt");
   Json_string(j, a->startsAt);
   Json_key(j, "generatorURL");
   Json_string(j, a->generatorUrl);
   Json_key(j, "receiver");
   Json_string(j, a->receiver);
   Json_key(j, "labels");
   pairsJson(j, a->labels, a->labelCount);
   Json_key(j, "annotations");
   pairsJson(j, a->annotations, a->annotationCount);
   Json_endObject(j);
}

static void summaryJson(Collect* c, double collected) {
   const Incident* in = c->incident;
   char when[32], fired[32];
   Incident_isoTime(collected, when, sizeof(when));
   Incident_isoTime(in->firedWall, fired, sizeof(fired));
   MemFile m;
   memOpen(&m);
   if (m.f) {
      Json j;
      Json_init(&j, m.f);
      Json_beginObject(&j);
      char host[256];
      Json_key(&j, "host");
      Json_string(&j, Printable_copy(host, sizeof(host), c->config->hostname));
      Json_key(&j, "time");
      Json_string(&j, fired);
      Json_key(&j, "collected");
      Json_string(&j, when);
      Json_key(&j, "recovered");
      Json_bool(&j, in->recovered);
      Json_key(&j, "service");
      Json_string(&j, in->service);
      Json_key(&j, "rule");
      Json_string(&j, Rule_name(in->rule));
      Json_key(&j, "threshold");
      Json_string(&j, in->threshold);
      Json_key(&j, "value");
      Json_double(&j, in->value, 3);
      Json_key(&j, "unit");
      Json_string(&j, Rule_unit(in->rule));
      Json_key(&j, "reason");
      Json_string(&j, in->reason);
      Json_key(&j, "alert");
      alertJson(&j, in->alert);
      Json_key(&j, "processes");
      Json_beginArray(&j);
      for (size_t i = 0; i < in->processCount; i++) {
         const IncidentProcess* p = &in->processes[i];
         Json_beginObject(&j);
         Json_key(&j, "pid");
         Json_int(&j, p->pid);
         Json_key(&j, "comm");
         Json_string(&j, p->comm);
         Json_key(&j, "command");
         Json_string(&j, p->command);
         Json_key(&j, "user");
         Json_string(&j, p->user);
         Json_key(&j, "threads");
         Json_int(&j, p->threads);
         Json_key(&j, "cpu_pct");
         Json_double(&j, p->cpuPct, 1);
         Json_key(&j, "res_kib");
         Json_uint(&j, p->resKiB);
         Json_endObject(&j);
      }
      Json_endArray(&j);
      Json_key(&j, "gone_pids");
      Json_beginArray(&j);
      for (size_t i = 0; i < in->goneCount; i++)
         Json_int(&j, in->gone[i]);
      Json_endArray(&j);
      Json_key(&j, "notes");
      Json_beginArray(&j);
      for (size_t i = 0; i < c->noteCount; i++)
         Json_string(&j, c->notes[i]);
      Json_endArray(&j);
      Json_endObject(&j);
      fputc('\n', m.f);
   }
   memAdd(&m, c, "summary.json");
}

/* ---- the table */

typedef struct Collector_ {
   const char* name;
   void (*collect)(Collect* c);
   bool memoryOnly; /* only for system_mem_available_below */
} Collector;

/* In order: the incident's processes first (closest to the moment it fired),
 * then the host, then pprof (the slowest: a CPU profile takes pprof_seconds). */
static const Collector collectors[] = {
   { .name = "processes", .collect = collectProcesses },
   { .name = "system files", .collect = collectSystemFiles },
   { .name = "top by RES", .collect = collectTop },
   { .name = "memory holders", .collect = collectMemoryHolders, .memoryOnly = true },
   { .name = "pprof", .collect = collectPprof },
};

static int byRes(const void* a, const void* b) {
   unsigned long x = (*(const ProcessSample*const*)a)->resKiB, y = (*(const ProcessSample*const*)b)->resKiB;
   return (y > x) - (y < x);
}

static void prepare(Collect* c) {
   const Incident* in = c->incident;
   c->users = Util_xcalloc(in->processCount + 1, sizeof(uid_t));
   for (size_t i = 0; i < in->processCount; i++)
      c->users[c->userCount++] = in->processes[i].uid;
   size_t n = Sampler_count(c->req->sampler);
   c->top = Util_xcalloc(n ? n : 1, sizeof(*c->top));
   for (size_t i = 0; i < n; i++)
      c->top[c->topCount++] = Sampler_at(c->req->sampler, i);
   qsort(c->top, c->topCount, sizeof(*c->top), byRes);
}

int Evidence_write(const EvidenceRequest* req, EvidenceResult* result, char* err, size_t errSize) {
   memset(result, 0, sizeof(*result));
   const Incident* in = req->incident;
   Bundle* b = Bundle_create(req->dirFd, in->name, in->firedWall, err, errSize);
   if (!b)
      return -1;
   Collect c = { .req = req,
                 .config = req->config,
                 .incident = in,
                 .bundle = b,
                 .result = result,
                 /* the memory rule, or a bundle asked for the whole host ("system") */
                 .memoryIncident = in->rule == RULE_SYSTEM_MEM_BELOW ||
                                   (in->rule == RULE_ON_DEMAND && !WatchConfig_service(req->config, in->service)) };
   prepare(&c);
   for (size_t i = 0; i < sizeof(collectors) / sizeof(collectors[0]); i++) {
      if (collectors[i].memoryOnly && !c.memoryIncident)
         continue;
      collectors[i].collect(&c);
   }
   double collected = Util_wallSeconds();
   summaryText(&c, collected);
   summaryJson(&c, collected);
   if (c.noteCount) {
      mailLine(&c, "\nnot collected (%zu, see summary.txt):\n", c.noteCount);
      for (size_t i = 0; i < c.noteCount; i++)
         mailLine(&c, "  %s\n", c.notes[i]);
   }
   Util_format(result->mailText, sizeof(result->mailText), "%s", c.mail);
   result->notes = c.noteCount;
   for (size_t i = 0; i < c.noteCount; i++)
      free(c.notes[i]);
   free(c.notes);
   free(c.users);
   free(c.top);
   return Bundle_finish(b, &result->size, err, errSize);
}
