/* The watcher's metrics from its samples; see Exporter.h. */
#include "stacktop/Exporter.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stacktop/SafePath.h"
#include "stacktop/Util.h"

/* The counters process-exporter keeps per group. */
typedef enum Counter_ {
   COUNTER_USER_S,
   COUNTER_SYSTEM_S,
   COUNTER_MINOR_FAULTS,
   COUNTER_MAJOR_FAULTS,
   COUNTER_READ_BYTES,
   COUNTER_WRITE_BYTES,
   COUNTER_VOLUNTARY,
   COUNTER_NONVOLUNTARY,
   COUNTER_COUNT,
} Counter;

/* What /proc says about one process beyond the Sampler's figures. */
typedef struct ProcReading_ {
   double counters[COUNTER_COUNT];
   bool known[COUNTER_COUNT];
   double swapBytes;
   long fds;       /* -1 unknown */
   double fdRatio; /* open fds / soft RLIMIT_NOFILE, -1 unknown */
} ProcReading;

/* A process as last seen, for counter deltas. */
typedef struct Seen_ {
   pid_t pid;
   unsigned long long startTicks;
   double counters[COUNTER_COUNT];
   bool known[COUNTER_COUNT];
} Seen;

/* One service's accounting across samples. */
typedef struct Group_ {
   char* name;
   bool primed;     /* has had a sample */
   double lastWall; /* CLOCK_REALTIME of that sample */
   double totals[COUNTER_COUNT];
   Seen* seen;
   size_t seenCount;
} Group;

struct Exporter_ {
   Metrics* metrics;
   Group* groups;
   size_t groupCount, groupCap;
   char* text; /* the last exposition */
   size_t textLen;
   long hertz;
};

Exporter* Exporter_new(bool processExporter) {
   Exporter* e = Util_xcalloc(1, sizeof(Exporter));
   e->metrics = Metrics_new();
   Metrics_setProcessExporter(e->metrics, processExporter);
   e->hertz = sysconf(_SC_CLK_TCK);
   if (e->hertz <= 0)
      e->hertz = 100;
   e->text = Util_xstrdup("");
   return e;
}

void Exporter_free(Exporter* this) {
   if (!this)
      return;
   for (size_t i = 0; i < this->groupCount; i++) {
      free(this->groups[i].name);
      free(this->groups[i].seen);
   }
   free(this->groups);
   Metrics_free(this->metrics);
   free(this->text);
   free(this);
}

void Exporter_configure(Exporter* this, bool processExporter) {
   Metrics_setProcessExporter(this->metrics, processExporter);
}

Metrics* Exporter_metrics(Exporter* this) {
   return this->metrics;
}

void Exporter_beginSample(Exporter* this) {
   Metrics_beginFrame(this->metrics);
}

/* ---- /proc readings */

static void procError(Exporter* e) {
   Metrics_add(e->metrics, METRIC_PROC_READ_ERRORS, NULL, 1);
}

/* minflt (10), majflt (12), utime (14), stime (15) of /proc/PID/stat. */
static void readStat(Exporter* e, pid_t pid, ProcReading* r) {
   char path[64], buf[2048];
   Util_format(path, sizeof(path), "/proc/%d/stat", (int)pid);
   const char* close = Util_readFile(path, buf, sizeof(buf)) > 0 ? strrchr(buf, ')') : NULL;
   unsigned long long minflt, majflt, utime, stime;
   /* after the comm: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
   if (!close || sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %llu %*u %llu %*u %llu %llu", &minflt, &majflt, &utime,
                        &stime) != 4) {
      procError(e);
      return;
   }
   r->counters[COUNTER_MINOR_FAULTS] = (double)minflt;
   r->counters[COUNTER_MAJOR_FAULTS] = (double)majflt;
   r->counters[COUNTER_USER_S] = (double)utime / (double)e->hertz;
   r->counters[COUNTER_SYSTEM_S] = (double)stime / (double)e->hertz;
   r->known[COUNTER_MINOR_FAULTS] = r->known[COUNTER_MAJOR_FAULTS] = true;
   r->known[COUNTER_USER_S] = r->known[COUNTER_SYSTEM_S] = true;
}

/* "Key:\t value" lines of a /proc file; *known when found. */
static double field(const char* text, const char* key, bool* known) {
   size_t klen = strlen(key);
   for (const char* line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
      unsigned long long v;
      if (strncmp(line, key, klen) == 0 && sscanf(line + klen, " %llu", &v) == 1) {
         *known = true;
         return (double)v;
      }
   }
   *known = false;
   return 0;
}

static void readStatus(Exporter* e, pid_t pid, ProcReading* r) {
   char path[64], buf[8192];
   Util_format(path, sizeof(path), "/proc/%d/status", (int)pid);
   if (Util_readFile(path, buf, sizeof(buf)) <= 0) {
      procError(e);
      return;
   }
   r->counters[COUNTER_VOLUNTARY] = field(buf, "voluntary_ctxt_switches:", &r->known[COUNTER_VOLUNTARY]);
   r->counters[COUNTER_NONVOLUNTARY] = field(buf, "nonvoluntary_ctxt_switches:", &r->known[COUNTER_NONVOLUNTARY]);
   bool swapKnown;
   r->swapBytes = field(buf, "VmSwap:", &swapKnown) * 1024.0; /* kB */
}

/* read_bytes and write_bytes: another user's process needs privileges. */
static void readIo(Exporter* e, pid_t pid, ProcReading* r) {
   char path[64], buf[1024];
   Util_format(path, sizeof(path), "/proc/%d/io", (int)pid);
   if (Util_readFile(path, buf, sizeof(buf)) <= 0) {
      procError(e);
      return;
   }
   r->counters[COUNTER_READ_BYTES] = field(buf, "read_bytes:", &r->known[COUNTER_READ_BYTES]);
   r->counters[COUNTER_WRITE_BYTES] = field(buf, "write_bytes:", &r->known[COUNTER_WRITE_BYTES]);
}

static void readFds(Exporter* e, pid_t pid, ProcReading* r) {
   char path[64], buf[4096];
   Util_format(path, sizeof(path), "/proc/%d/fd", (int)pid);
   DIR* d = opendir(path);
   if (!d) {
      procError(e);
      return;
   }
   long n = 0;
   struct dirent* ent;
   while ((ent = readdir(d)))
      n += ent->d_name[0] != '.';
   closedir(d);
   r->fds = n;
   Util_format(path, sizeof(path), "/proc/%d/limits", (int)pid);
   const char* line = Util_readFile(path, buf, sizeof(buf)) > 0 ? strstr(buf, "Max open files") : NULL;
   unsigned long soft;
   if (line && sscanf(line + strlen("Max open files"), " %lu", &soft) == 1 && soft > 0)
      r->fdRatio = (double)n / (double)soft;
}

static void readProc(Exporter* e, pid_t pid, ProcReading* r) {
   memset(r, 0, sizeof(*r));
   r->fds = -1;
   r->fdRatio = -1;
   readStat(e, pid, r);
   readStatus(e, pid, r);
   readIo(e, pid, r);
   readFds(e, pid, r);
}

/* ---- groups */

static Group* group(Exporter* e, const char* name) {
   for (size_t i = 0; i < e->groupCount; i++) {
      if (strcmp(e->groups[i].name, name) == 0)
         return &e->groups[i];
   }
   Util_growArray((void**)&e->groups, &e->groupCap, e->groupCount, sizeof(Group));
   Group* g = &e->groups[e->groupCount++];
   memset(g, 0, sizeof(*g));
   g->name = Util_xstrdup(name);
   return g;
}

static const Seen* findSeen(const Group* g, const ProcessSample* p) {
   for (size_t i = 0; i < g->seenCount; i++) {
      if (g->seen[i].pid == p->pid && g->seen[i].startTicks == p->startTicks)
         return &g->seen[i];
   }
   return NULL;
}

/* What a process adds to the group's counters in this sample. */
static void accumulate(Group* g, const ProcessSample* p, const ProcReading* r) {
   const Seen* before = findSeen(g, p);
   /* A process new to the group counts whole if the group is new or the
    * process started since the last sample; else from now on. */
   bool whole = !before && (!g->primed || p->startTime >= g->lastWall - 0.05);
   for (int c = 0; c < COUNTER_COUNT; c++) {
      if (!r->known[c])
         continue;
      double delta = 0;
      if (before && before->known[c])
         delta = r->counters[c] - before->counters[c];
      else if (whole)
         delta = r->counters[c];
      if (delta > 0)
         g->totals[c] += delta;
   }
}

typedef struct Sums_ {
   double res, virt, swap, threads, fds, worstFd, oldest;
   double taskStates[TASK_STATE_COUNT];
   double goroutines, resGrowth, threadGrowth, goGrowth;
   bool goKnown, resGrowthKnown, threadGrowthKnown, goGrowthKnown, fdsKnown;
} Sums;

static void addGrowth(double value, bool ok, double* max, bool* known) {
   if (!ok)
      return;
   if (!*known || value > *max)
      *max = value;
   *known = true;
}

static void sum(Sums* s, const ProcessSample* p, const ProcReading* r) {
   s->res += (double)p->resKiB * 1024.0;
   s->virt += (double)p->virtKiB * 1024.0;
   s->swap += r->swapBytes;
   s->threads += p->threads;
   if (r->fds >= 0) {
      s->fds += (double)r->fds;
      s->fdsKnown = true;
   }
   if (r->fdRatio > s->worstFd)
      s->worstFd = r->fdRatio;
   if (s->oldest == 0 || p->startTime < s->oldest)
      s->oldest = p->startTime;
   for (int t = 0; t < TASK_STATE_COUNT; t++)
      s->taskStates[t] += p->threadStates[t];
   if (p->goroutines >= 0) {
      s->goroutines += (double)p->goroutines;
      s->goKnown = true;
   }
   addGrowth(p->resGrowthKiBPerMin * 1024.0 / 60.0, p->resGrowthKnown, &s->resGrowth, &s->resGrowthKnown);
   addGrowth(p->goGrowthPerMin / 60.0, p->goGrowthKnown, &s->goGrowth, &s->goGrowthKnown);
   bool ok = false;
   double threads = p->history ? History_growthPerMinute(p->history, HISTORY_THREADS, SAMPLER_GROWTH_WINDOW_S,
                                                         SAMPLER_GROWTH_MIN_SPAN_S, &ok)
                               : 0;
   addGrowth(threads / 60.0, ok, &s->threadGrowth, &s->threadGrowthKnown);
}

/* process-exporter's state names for the counted states; T is "Other". */
static const char* const peStates[TASK_STATE_COUNT] = {
   [TASK_R] = "Running", [TASK_S] = "Sleeping", [TASK_D] = "Waiting", [TASK_T] = "Other", [TASK_Z] = "Zombie",
};

static void exportProcessExporter(Metrics* m, const char* name, size_t n, const Sums* s, const Group* g) {
   const char* one[] = { name };
   Metrics_set(m, METRIC_PE_NUM_PROCS, one, (double)n);
   Metrics_set(m, METRIC_PE_NUM_THREADS, one, s->threads);
   static const char* const memtypes[] = { "resident", "virtual", "swapped" };
   const double mem[] = { s->res, s->virt, s->swap };
   for (size_t i = 0; i < 3; i++)
      Metrics_set(m, METRIC_PE_MEMORY_BYTES, (const char*[]){ name, memtypes[i] }, mem[i]);
   for (int t = 0; t < TASK_STATE_COUNT; t++)
      Metrics_set(m, METRIC_PE_STATES, (const char*[]){ name, peStates[t] }, s->taskStates[t]);
   if (s->fdsKnown) {
      Metrics_set(m, METRIC_PE_OPEN_FILEDESC, one, s->fds);
      Metrics_set(m, METRIC_PE_WORST_FD_RATIO, one, s->worstFd);
   }
   if (n > 0)
      Metrics_set(m, METRIC_PE_OLDEST_START, one, s->oldest);
   Metrics_set(m, METRIC_PE_CPU_SECONDS, (const char*[]){ name, "user" }, g->totals[COUNTER_USER_S]);
   Metrics_set(m, METRIC_PE_CPU_SECONDS, (const char*[]){ name, "system" }, g->totals[COUNTER_SYSTEM_S]);
   Metrics_set(m, METRIC_PE_READ_BYTES, one, g->totals[COUNTER_READ_BYTES]);
   Metrics_set(m, METRIC_PE_WRITE_BYTES, one, g->totals[COUNTER_WRITE_BYTES]);
   Metrics_set(m, METRIC_PE_MINOR_FAULTS, one, g->totals[COUNTER_MINOR_FAULTS]);
   Metrics_set(m, METRIC_PE_MAJOR_FAULTS, one, g->totals[COUNTER_MAJOR_FAULTS]);
   Metrics_set(m, METRIC_PE_CONTEXT_SWITCHES, (const char*[]){ name, "voluntary" }, g->totals[COUNTER_VOLUNTARY]);
   Metrics_set(m, METRIC_PE_CONTEXT_SWITCHES, (const char*[]){ name, "nonvoluntary" }, g->totals[COUNTER_NONVOLUNTARY]);
}

static void exportOwn(Metrics* m, const char* name, const Sums* s) {
   const char* one[] = { name };
   for (int t = 0; t < TASK_STATE_COUNT; t++) {
      char letter[2] = { TaskState_letter((TaskState)t), '\0' };
      Metrics_set(m, METRIC_THREADS, (const char*[]){ name, letter }, s->taskStates[t]);
   }
   if (s->goKnown)
      Metrics_set(m, METRIC_GOROUTINES, one, s->goroutines);
   if (s->resGrowthKnown)
      Metrics_set(m, METRIC_RES_GROWTH, one, s->resGrowth);
   if (s->threadGrowthKnown)
      Metrics_set(m, METRIC_THREADS_GROWTH, one, s->threadGrowth);
   if (s->goGrowthKnown)
      Metrics_set(m, METRIC_GOROUTINES_GROWTH, one, s->goGrowth);
}

void Exporter_service(Exporter* this, const char* name, const ProcessSample* const* procs, size_t n) {
   Group* g = group(this, name);
   double now = Util_wallSeconds();
   Seen* seen = Util_xcalloc(n ? n : 1, sizeof(Seen));
   Sums s = { 0 };
   for (size_t i = 0; i < n; i++) {
      ProcReading r;
      readProc(this, procs[i]->pid, &r);
      accumulate(g, procs[i], &r);
      sum(&s, procs[i], &r);
      seen[i] = (Seen){ .pid = procs[i]->pid, .startTicks = procs[i]->startTicks };
      memcpy(seen[i].counters, r.counters, sizeof(r.counters));
      memcpy(seen[i].known, r.known, sizeof(r.known));
   }
   free(g->seen);
   g->seen = seen;
   g->seenCount = n;
   g->primed = true;
   g->lastWall = now;
   exportProcessExporter(this->metrics, name, n, &s, g);
   exportOwn(this->metrics, name, &s);
}

void Exporter_rule(Exporter* this, const char* service, RuleKind kind, const RuleSpec* spec, bool failing, bool known,
                   double value) {
   const char* labels[] = { service, Rule_name(kind) };
   Metrics_set(this->metrics, METRIC_RULE_FAILING, labels, failing ? 1 : 0);
   double threshold = Rule_toBase(kind, spec->threshold);
   if (!isnan(threshold))
      Metrics_set(this->metrics, METRIC_RULE_THRESHOLD, labels, threshold);
   if (known && !isnan(Rule_toBase(kind, value)))
      Metrics_set(this->metrics, METRIC_RULE_VALUE, labels, Rule_toBase(kind, value));
}

/* ---- events */

void Exporter_episode(Exporter* this, const char* service, RuleKind kind) {
   if (this)
      Metrics_add(this->metrics, METRIC_RULE_EPISODES, (const char*[]){ service, Rule_name(kind) }, 1);
}

void Exporter_suppressed(Exporter* this, const char* service, RuleKind kind, RuleAction action) {
   if (!this)
      return;
   const char* reason = action == RULE_ACTION_SUPPRESS_CAP       ? "hourly_cap"
                        : action == RULE_ACTION_SUPPRESS_PENDING ? "pending"
                                                                 : "cooldown";
   Metrics_add(this->metrics, METRIC_BUNDLES_SUPPRESSED, (const char*[]){ service, Rule_name(kind), reason }, 1);
}

void Exporter_bundled(Exporter* this, const Incident* in, const EvidenceResult* r) {
   if (!this)
      return;
   const char* labels[] = { in->service, Rule_name(in->rule) };
   Metrics_add(this->metrics, METRIC_BUNDLES_WRITTEN, labels, 1);
   Metrics_set(this->metrics, METRIC_BUNDLE_LAST_TIME, labels, Util_wallSeconds());
   for (size_t i = 0; i < r->dumpCount; i++) {
      Metrics_add(this->metrics, METRIC_DUMPS, (const char*[]){ in->service, r->dumps[i].ok ? "ok" : "failed" }, 1);
      if (r->dumps[i].ok)
         Metrics_set(this->metrics, METRIC_DUMP_PAUSE, (const char*[]){ in->service }, r->dumps[i].stoppedMs / 1000.0);
   }
   for (size_t i = 0; i < r->pprofFailureCount; i++)
      Metrics_add(this->metrics, METRIC_PPROF_FAILURES,
                  (const char*[]){ r->pprofFailures[i].service, r->pprofFailures[i].endpoint }, 1);
}

void Exporter_bundleFailed(Exporter* this, const Incident* in) {
   if (this)
      Metrics_add(this->metrics, METRIC_BUNDLE_FAILURES, (const char*[]){ in->service, Rule_name(in->rule) }, 1);
}

void Exporter_mailed(Exporter* this, bool delivered) {
   if (this)
      Metrics_add(this->metrics, delivered ? METRIC_MAIL_SENT : METRIC_MAIL_FAILURES, NULL, 1);
}

void Exporter_alert(Exporter* this, const char* outcome) {
   if (this)
      Metrics_add(this->metrics, METRIC_ALERTS, (const char*[]){ outcome }, 1);
}

void Exporter_endSample(Exporter* this, double sampleSeconds, unsigned long long bundleDirBytes, size_t mailPending) {
   Metrics_set(this->metrics, METRIC_SAMPLE_DURATION, NULL, sampleSeconds);
   Metrics_set(this->metrics, METRIC_BUNDLE_DIR_BYTES, NULL, (double)bundleDirBytes);
   Metrics_set(this->metrics, METRIC_MAIL_PENDING, NULL, (double)mailPending);
   Metrics_set(this->metrics, METRIC_BUILD_INFO, (const char*[]){ STACKTOP_VERSION }, 1);
   char* text = NULL;
   size_t len = 0;
   FILE* f = open_memstream(&text, &len);
   if (!f)
      return; /* out of memory: the last exposition stays */
   Metrics_render(this->metrics, f);
   fclose(f);
   free(this->text);
   this->text = text;
   this->textLen = len;
}

const char* Exporter_text(const Exporter* this, size_t* len) {
   if (len)
      *len = this->textLen;
   return this->text;
}

/* ---- textfile */

/* Splits path into its directory and file name. False if it has no file name. */
static bool splitPath(const char* path, char* dir, size_t dirSize, char* name, size_t nameSize) {
   const char* slash = strrchr(path, '/');
   if (!slash || slash[1] == '\0')
      return false;
   Util_format(dir, dirSize, "%.*s", (int)(slash - path), path);
   if (slash == path)
      Util_format(dir, dirSize, "/");
   return Util_format(name, nameSize, "%s", slash + 1);
}

static int writeAll(int fd, const char* data, size_t len) {
   while (len > 0) {
      ssize_t n = write(fd, data, len);
      if (n < 0 && errno == EINTR)
         continue;
      if (n <= 0)
         return -1;
      data += n;
      len -= (size_t)n;
   }
   return 0;
}

int Exporter_writeTextfile(const Exporter* this, const char* path, char* err, size_t errSize) {
   char dir[4096], name[256], tmp[300];
   if (!splitPath(path, dir, sizeof(dir), name, sizeof(name))) {
      Util_format(err, errSize, "metrics_textfile %s: expected DIR/NAME.prom", path);
      return -1;
   }
   char why[512];
   int dirFd = SafePath_open(dir, O_RDONLY | O_DIRECTORY, false, NULL, NULL, why, sizeof(why));
   if (dirFd < 0) {
      Util_format(err, errSize, "metrics_textfile %s: %s", path, why);
      return -1;
   }
   /* Not *.prom: node_exporter must never read a half-written file. */
   Util_format(tmp, sizeof(tmp), ".%s.%d.tmp", name, (int)getpid());
   unlinkat(dirFd, tmp, 0); /* a leftover of a killed watcher (or a planted link: removed, not followed) */
   int fd = openat(dirFd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
   int rc = -1;
   if (fd < 0)
      Util_format(err, errSize, "metrics_textfile %s: cannot create %s/%s: %s", path, dir, tmp, strerror(errno));
   else if (fchmod(fd, 0644) < 0 || writeAll(fd, this->text, this->textLen) < 0)
      Util_format(err, errSize, "metrics_textfile %s: cannot write %s/%s: %s", path, dir, tmp, strerror(errno));
   else if (renameat(dirFd, tmp, dirFd, name) < 0)
      Util_format(err, errSize, "metrics_textfile %s: cannot rename %s over it: %s", path, tmp, strerror(errno));
   else
      rc = 0;
   if (fd >= 0)
      close(fd);
   if (rc < 0)
      unlinkat(dirFd, tmp, 0);
   close(dirFd);
   return rc;
}
