/* Collects a diagnostic bundle's contents. */
#include "stacktop/Evidence.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stacktop/Bundle.h"
#include "stacktop/Column.h"
#include "stacktop/Dump.h"
#include "stacktop/Format.h"
#include "stacktop/Json.h"
#include "stacktop/Pprof.h"
#include "stacktop/Util.h"

/* Caps on what one item may add to a bundle. */
#define PROC_FILE_MAX (16u << 20)
#define PPROF_MAX (64u << 20)
#define FDS_MAX 100000

/* /proc/PID files copied as they are. Never environ, mem or anything with contents. */
static const char* const procFiles[] = { "status", "smaps_rollup", "limits", "maps", "io", "cgroup" };

typedef struct PprofItem_ {
   const char* path; /* relative to pprof_url; "%d" takes pprof_seconds */
   const char* file; /* name inside pprof/ */
   bool timed;       /* runs for pprof_seconds */
} PprofItem;

static const PprofItem pprofItems[] = {
   { .path = "goroutine?debug=1", .file = "goroutine_debug1.txt" },
   { .path = "goroutine?debug=2", .file = "goroutine_debug2.txt" },
   { .path = "heap", .file = "heap.pb.gz" },
   { .path = "profile?seconds=%d", .file = "profile.pb.gz", .timed = true },
};

/* Notes gathered while collecting, for both summaries. */
typedef struct Notes_ {
   char** lines;
   size_t count, cap;
} Notes;

__attribute__((format(printf, 2, 3))) static void note(Notes* n, const char* fmt, ...) {
   char buf[1024];
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(buf, sizeof(buf), fmt, ap);
   va_end(ap);
   Util_growArray((void**)&n->lines, &n->cap, n->count, sizeof(char*));
   n->lines[n->count++] = Util_xstrdup(buf);
}

static void notesFree(Notes* n) {
   for (size_t i = 0; i < n->count; i++)
      free(n->lines[i]);
   free(n->lines);
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
   if (!m->f)
      Util_error("out of memory opening a memory stream");
}

/* Closes the stream and adds it to the bundle; frees the text. */
static void memAdd(MemFile* m, Bundle* b, const char* name) {
   if (m->f)
      fclose(m->f);
   Bundle_addData(b, name, m->data ? m->data : "", m->data ? m->len : 0);
   free(m->data);
}

static void addStacks(Bundle* b, const char* dir, const ProcessSample* p, Notes* notes) {
   DumpOptions opts;
   DumpOptions_init(&opts);
   DumpResult* dump = NULL;
   char err[512];
   char name[300];
   DumpError rc = Dump_take(p->pid, &opts, &dump, err, sizeof(err));
   if (rc != DUMP_OK) {
      char text[700];
      Util_format(text, sizeof(text), "stack dump of pid %d failed: %s\n", (int)p->pid, err);
      Util_format(name, sizeof(name), "%s/stacks.txt", dir);
      Bundle_addText(b, name, text);
      Util_format(name, sizeof(name), "%s/stacks.folded", dir);
      Bundle_addText(b, name, text);
      note(notes, "pid %d: stack dump failed: %s", (int)p->pid, err);
      return;
   }
   static const struct {
      DumpFormat format;
      const char* file;
   } outputs[] = {
      { DUMP_FORMAT_TEXT, "stacks.txt" },
      { DUMP_FORMAT_FOLDED, "stacks.folded" },
   };
   for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++) {
      MemFile m;
      memOpen(&m);
      if (m.f && Dump_write(dump, outputs[i].format, m.f) < 0)
         note(notes, "pid %d: writing %s failed: %s", (int)p->pid, outputs[i].file, strerror(errno));
      Util_format(name, sizeof(name), "%s/%s", dir, outputs[i].file);
      memAdd(&m, b, name);
   }
   Dump_free(dump);
}

static void addProcFiles(Bundle* b, const char* dir, pid_t pid, Notes* notes) {
   for (size_t i = 0; i < sizeof(procFiles) / sizeof(procFiles[0]); i++) {
      char src[64], name[300];
      Util_format(src, sizeof(src), "/proc/%d/%s", (int)pid, procFiles[i]);
      Util_format(name, sizeof(name), "%s/%s", dir, procFiles[i]);
      size_t len;
      char* data = Util_slurp(src, PROC_FILE_MAX, &len);
      if (!data) {
         note(notes, "pid %d: %s unreadable: %s", (int)pid, procFiles[i], strerror(errno));
         continue;
      }
      Bundle_addData(b, name, data, len);
      free(data);
   }
}

/* "fd -> target" per open descriptor: targets only, never contents. */
static void addFds(Bundle* b, const char* dir, pid_t pid, Notes* notes) {
   char fdDir[64], name[300];
   Util_format(fdDir, sizeof(fdDir), "/proc/%d/fd", (int)pid);
   DIR* d = opendir(fdDir);
   if (!d) {
      note(notes, "pid %d: fd list unreadable: %s", (int)pid, strerror(errno));
      return;
   }
   MemFile m;
   memOpen(&m);
   struct dirent* e;
   size_t n = 0;
   while (m.f && (e = readdir(d)) && n < FDS_MAX) {
      if (e->d_name[0] == '.')
         continue;
      char link[128], target[PATH_MAX];
      Util_format(link, sizeof(link), "%s/%s", fdDir, e->d_name);
      ssize_t len = readlink(link, target, sizeof(target) - 1);
      if (len < 0)
         continue;
      target[len] = '\0';
      fprintf(m.f, "%s -> %s\n", e->d_name, target);
      n++;
   }
   closedir(d);
   Util_format(name, sizeof(name), "%s/fds", dir);
   memAdd(&m, b, name);
}

static void addHistory(Bundle* b, const char* dir, const ProcessSample* p) {
   char name[300];
   MemFile m;
   memOpen(&m);
   if (m.f) {
      fputs("time,cpu_pct,res_kib,threads\n", m.f);
      size_t n = p->history ? History_count(p->history) : 0;
      for (size_t i = 0; i < n; i++) {
         const HistorySample* s = History_at(p->history, i);
         fprintf(m.f, "%.3f,%.1f,%lu,%lu\n", s->wallTime, s->cpuPct, s->resKiB, s->threads);
      }
   }
   Util_format(name, sizeof(name), "%s/history.csv", dir);
   memAdd(&m, b, name);
}

static void procDir(char* buf, size_t size, pid_t pid) {
   Util_format(buf, size, "proc-%d", (int)pid);
}

static void addProcess(Bundle* b, const ProcessSample* p, Notes* notes) {
   char dir[64];
   procDir(dir, sizeof(dir), p->pid);
   addStacks(b, dir, p, notes);
   addProcFiles(b, dir, p->pid, notes);
   addFds(b, dir, p->pid, notes);
   addHistory(b, dir, p);
}

static void addSystem(Bundle* b, const Sampler* sampler, Notes* notes) {
   static const char* const files[][2] = { { "/proc/meminfo", "system/meminfo" },
                                           { "/proc/loadavg", "system/loadavg" } };
   for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
      size_t len;
      char* data = Util_slurp(files[i][0], PROC_FILE_MAX, &len);
      if (!data) {
         note(notes, "%s unreadable: %s", files[i][0], strerror(errno));
         continue;
      }
      Bundle_addData(b, files[i][1], data, len);
      free(data);
   }
   size_t n = Sampler_count(sampler);
   const ProcessSample** rows = Util_xcalloc(n ? n : 1, sizeof(*rows));
   for (size_t i = 0; i < n; i++)
      rows[i] = Sampler_at(sampler, i);
   Column_sort(rows, n, COL_RES, true);
   MemFile m;
   memOpen(&m);
   if (m.f) {
      fprintf(m.f, "%7s %-10s %8s %6s %5s %s\n", "PID", "USER", "RES", "CPU%", "THR", "COMMAND");
      for (size_t i = 0; i < n && i < 20; i++) {
         char res[16];
         Format_kib(res, sizeof(res), rows[i]->resKiB);
         fprintf(m.f, "%7d %-10.10s %8s %6.1f %5d %s\n", (int)rows[i]->pid, rows[i]->user, res, rows[i]->cpuPct,
                 rows[i]->threads, rows[i]->command ? rows[i]->command : rows[i]->comm);
      }
   }
   memAdd(&m, b, "system/top20.txt");
   free(rows);
}

static void addPprof(Bundle* b, const EvidenceRequest* req, Notes* notes) {
   const WatchConfig* c = req->config;
   for (size_t i = 0; i < sizeof(pprofItems) / sizeof(pprofItems[0]); i++) {
      const PprofItem* item = &pprofItems[i];
      char path[64], name[128], err[512];
      if (item->timed)
         Util_format(path, sizeof(path), "profile?seconds=%d", (int)c->pprofSeconds);
      else
         Util_format(path, sizeof(path), "%s", item->path);
      double timeout = c->pprofTimeoutS + (item->timed ? c->pprofSeconds : 0);
      size_t len;
      PprofError error;
      char* data = Pprof_fetch(req->pprofUrl, path, timeout, PPROF_MAX, &len, &error, err, sizeof(err));
      if (!data) {
         note(notes, "pprof %s not fetched: %s", path, err);
         /* An unreachable service answers nothing else either: do not wait on every endpoint. */
         if (error == PPROF_UNREACHABLE)
            break;
         continue;
      }
      Util_format(name, sizeof(name), "pprof/%s", item->file);
      Bundle_addData(b, name, data, len);
      free(data);
   }
}

static void isoTime(char* buf, size_t size, double wall) {
   time_t t = (time_t)wall;
   struct tm tm;
   gmtime_r(&t, &tm);
   strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void writeSummaryText(Bundle* b, const EvidenceRequest* req, const Notes* notes) {
   char when[32];
   isoTime(when, sizeof(when), req->wallTime);
   MemFile m;
   memOpen(&m);
   if (m.f) {
      FILE* f = m.f;
      fprintf(f,
              "stacktop %s diagnostic bundle\n\nhost:      %s\ntime:      %s\nservice:   %s\nrule:      %s = %s\n"
              "fired:     %s\n",
              STACKTOP_VERSION, req->config->hostname, when, req->serviceName, Rule_name(req->rule), req->threshold,
              req->reason);
      fprintf(f, "\nprocesses (%zu):\n", req->processCount);
      for (size_t i = 0; i < req->processCount; i++) {
         const ProcessSample* p = req->processes[i];
         char res[16];
         Format_kib(res, sizeof(res), p->resKiB);
         fprintf(f, "  pid %d (%s) user %s state %c threads %d cpu %.1f%% res %s: %s  [proc-%d/]\n", (int)p->pid,
                 p->comm, p->user, p->state, p->threads, p->cpuPct, res, p->command ? p->command : "", (int)p->pid);
      }
      for (size_t i = 0; i < req->goneCount; i++)
         fprintf(f, "  pid %d is gone\n", (int)req->gonePids[i]);
      fprintf(f, "\nnotes (%zu):\n", notes->count);
      for (size_t i = 0; i < notes->count; i++)
         fprintf(f, "  %s\n", notes->lines[i]);
      if (notes->count == 0)
         fputs("  everything was collected\n", f);
   }
   memAdd(&m, b, "summary.txt");
}

static void writeSummaryJson(Bundle* b, const EvidenceRequest* req, const Notes* notes) {
   char when[32];
   isoTime(when, sizeof(when), req->wallTime);
   MemFile m;
   memOpen(&m);
   if (m.f) {
      Json j;
      Json_init(&j, m.f);
      Json_beginObject(&j);
      Json_key(&j, "host");
      Json_string(&j, req->config->hostname);
      Json_key(&j, "time");
      Json_string(&j, when);
      Json_key(&j, "service");
      Json_string(&j, req->serviceName);
      Json_key(&j, "rule");
      Json_string(&j, Rule_name(req->rule));
      Json_key(&j, "threshold");
      Json_string(&j, req->threshold);
      Json_key(&j, "value");
      Json_double(&j, req->value, 3);
      Json_key(&j, "unit");
      Json_string(&j, Rule_unit(req->rule));
      Json_key(&j, "reason");
      Json_string(&j, req->reason);
      Json_key(&j, "processes");
      Json_beginArray(&j);
      for (size_t i = 0; i < req->processCount; i++) {
         const ProcessSample* p = req->processes[i];
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
      for (size_t i = 0; i < req->goneCount; i++)
         Json_int(&j, req->gonePids[i]);
      Json_endArray(&j);
      Json_key(&j, "notes");
      Json_beginArray(&j);
      for (size_t i = 0; i < notes->count; i++)
         Json_string(&j, notes->lines[i]);
      Json_endArray(&j);
      Json_endObject(&j);
      fputc('\n', m.f);
   }
   memAdd(&m, b, "summary.json");
}

int Evidence_write(const EvidenceRequest* req, char* path, size_t pathSize, char* err, size_t errSize) {
   const WatchConfig* c = req->config;
   Bundle* b =
       Bundle_create(c->bundleDir, c->hostname, req->serviceName, Rule_name(req->rule), req->wallTime, err, errSize);
   if (!b)
      return -1;
   Notes notes = { 0 };
   /* Stacks first: they should show the moment the rule fired. */
   for (size_t i = 0; i < req->processCount; i++)
      addProcess(b, req->processes[i], &notes);
   addSystem(b, req->sampler, &notes);
   if (req->pprofUrl)
      addPprof(b, req, &notes);
   writeSummaryText(b, req, &notes);
   writeSummaryJson(b, req, &notes);
   notesFree(&notes);
   return Bundle_finish(b, path, pathSize, err, errSize);
}
