/* The process table: libproc2's pids API reads one row per process
 * (PIDS_FETCH_TASKS_ONLY: /proc/PID/stat), its stat/meminfo/misc APIs the
 * system header. Two things are read directly because it is measurably
 * cheaper (see readMemory and readTasks): statm only when a process's memory
 * moved, and the task directory only of processes with more than one thread.
 *
 * CPU% comes from our own tick bookkeeping rather than PIDS_TICS_ALL_DELTA:
 * we need it per process and per thread, keyed by id + start time so that a
 * reused pid/tid never inherits someone else's ticks, and only for the
 * selected processes. */
#include "stacktop/Sampler.h"

#include <dirent.h>
#include <fcntl.h>
#include <libproc2/meminfo.h>
#include <libproc2/misc.h>
#include <libproc2/pids.h>
#include <libproc2/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stacktop/GoCounter.h"
#include "stacktop/ProcStat.h"
#include "stacktop/Util.h"

/* Re-read cached per-process files (cmdline, statm) every this many
 * refreshes: a process may rewrite its argv (setproctitle) without changing
 * its comm. */
#define REREAD_PERIOD 16
#define CMDLINE_MAX 4096

char TaskState_letter(TaskState state) {
   static const char letters[TASK_STATE_COUNT] = {
      [TASK_R] = 'R', [TASK_S] = 'S', [TASK_D] = 'D', [TASK_T] = 'T', [TASK_Z] = 'Z',
   };
   return ((int)state >= 0 && state < TASK_STATE_COUNT) ? letters[state] : '?';
}

TaskState TaskState_fromLetter(char letter) {
   switch (letter) {
   case 'R': return TASK_R;
   case 'D': return TASK_D;
   case 'T':
   case 't': return TASK_T;
   case 'Z':
   case 'X':
   case 'x': return TASK_Z;
   default: return TASK_S; /* S, I (idle kernel thread), W, P, K, ... count as sleeping, like top */
   }
}

double Sampler_cpuPercent(unsigned long long deltaTicks, long hertz, double elapsedS) {
   if (hertz <= 0 || !(elapsedS > 0))
      return 0.0;
   return (double)deltaTicks / (double)hertz / elapsedS * 100.0;
}

/* ---- libproc2 item lists; the enum gives each item's index in a stack */

enum ProcItem {
   PI_PID,
   PI_PPID,
   PI_EUID,
   PI_EUSER,
   PI_STATE,
   PI_NLWP,
   PI_VSIZE,
   PI_RSS,
   PI_TICS,
   PI_BEGAN,
   PI_CMD,
   PI_NICE,
   PI_PROCESSOR,
   PI_COUNT,
};
static enum pids_item procItems[PI_COUNT] = {
   [PI_PID] = PIDS_ID_PID,          [PI_PPID] = PIDS_ID_PPID, [PI_EUID] = PIDS_ID_EUID,
   [PI_EUSER] = PIDS_ID_EUSER,      [PI_STATE] = PIDS_STATE,  [PI_NLWP] = PIDS_NLWP,
   [PI_VSIZE] = PIDS_VSIZE_BYTES,   [PI_RSS] = PIDS_RSS,      [PI_TICS] = PIDS_TICS_ALL,
   [PI_BEGAN] = PIDS_TICS_BEGAN,    [PI_CMD] = PIDS_CMD,      [PI_NICE] = PIDS_NICE,
   [PI_PROCESSOR] = PIDS_PROCESSOR,
};

enum StatItem { SI_BUSY, SI_TOTAL, SI_COUNT };
static enum stat_item statItems[SI_COUNT] = {
   [SI_BUSY] = STAT_TIC_SUM_DELTA_BUSY,
   [SI_TOTAL] = STAT_TIC_SUM_DELTA_TOTAL,
};

enum MemItem { MI_TOTAL, MI_AVAILABLE, MI_SWAP_TOTAL, MI_SWAP_FREE, MI_COUNT };
static enum meminfo_item memItems[MI_COUNT] = {
   [MI_TOTAL] = MEMINFO_MEM_TOTAL,
   [MI_AVAILABLE] = MEMINFO_MEM_AVAILABLE,
   [MI_SWAP_TOTAL] = MEMINFO_SWAP_TOTAL,
   [MI_SWAP_FREE] = MEMINFO_SWAP_FREE,
};

/* ---- state kept across refreshes */

/* A selected process as seen in earlier refreshes. */
typedef struct Tracked_ {
   pid_t pid;
   unsigned long long startTicks;
   unsigned long long ticks; /* TICS_ALL at the previous refresh */
   History* history;         /* owned; NULL for kernel threads, and under historyOnDemand until wanted */
   HistorySample last;       /* this refresh's sample, to start a history on demand */
   unsigned long wantedAt;   /* historyOnDemand: refresh count when last wanted */
   char* command;            /* owned; cached cmdline */
   char comm[16];            /* comm when command was read: a change means exec */
   /* statm as last read, and the stat figures it was read at (see readMemory). */
   bool memRead;
   unsigned long long vsizeBytes;
   unsigned long rssPages;
   unsigned long virtKiB, resKiB, shrKiB, dataKiB;
   /* /proc/PID/io at the previous read (SAMPLER_FIELD_IO). */
   bool ioKnown;
   unsigned long long ioReadBytes, ioWriteBytes;
} Tracked;

/* A thread of a selected process and its ticks at the previous refresh. */
typedef struct TrackedThread_ {
   pid_t tid;
   unsigned long long startTicks;
   unsigned long long ticks;
} TrackedThread;

struct Sampler_ {
   SamplerOptions options;
   pid_t* pidFilter;           /* owned copy of options.pids, sorted */
   struct pids_info* procInfo; /* libproc2 contexts, owned */
   struct stat_info* statInfo;
   struct meminfo_info* memInfo;
   long hertz;
   unsigned long pageKiB;
   double bootTime;      /* CLOCK_REALTIME of boot (btime), for start times */
   unsigned fields;      /* SamplerField bits */
   GoCounter* goCounter; /* SAMPLER_FIELD_GOROUTINES; created on first use */
   GoCount* goCounts;    /* parallel to rows */
   size_t goCountCap;

   double prevTime; /* monotonic time of the previous refresh, 0 before the first */
   unsigned long refreshes;

   Tracked* tracked; /* sorted by pid; entries of the previous refresh */
   size_t trackedCount, trackedCap;
   Tracked* nextTracked; /* being built this refresh, then swapped */
   size_t nextTrackedCap;

   TrackedThread* threadTicks; /* sorted by tid */
   size_t threadTickCount, threadTickCap;
   TrackedThread* nextThreadTicks;
   size_t nextThreadTickCount, nextThreadTickCap;

   ProcessSample* rows; /* this refresh's selected processes, by pid */
   size_t rowCount, rowCap;
   ThreadSample* threadPool; /* every row's thread rows, contiguous */
   size_t threadPoolCount, threadPoolCap;
   size_t* threadOffsets; /* per row: first index in threadPool (parallel to rows) */
   size_t threadOffsetCap;

   pid_t* multiPids; /* processes with NLWP > 1 this refresh */
   size_t multiCount, multiCap;

   SystemSample system;
};

static int cmpPid(const void* a, const void* b) {
   pid_t x = *(const pid_t*)a, y = *(const pid_t*)b;
   return (x > y) - (x < y);
}

static bool pidSelected(const Sampler* this, pid_t pid) {
   if (!this->pidFilter)
      return true;
   return bsearch(&pid, this->pidFilter, this->options.pidCount, sizeof(pid_t), cmpPid) != NULL;
}

/* Both tables are sorted by id, their first member, so cmpPid compares a
 * key with an entry. A matching id with another start time is a reused id. */
static Tracked* findTracked(Sampler* this, pid_t pid, unsigned long long startTicks) {
   if (this->trackedCount == 0)
      return NULL;
   Tracked* t = bsearch(&pid, this->tracked, this->trackedCount, sizeof(Tracked), cmpPid);
   return t && t->startTicks == startTicks ? t : NULL;
}

static const TrackedThread* findThreadTicks(const Sampler* this, pid_t tid, unsigned long long startTicks) {
   if (this->threadTickCount == 0)
      return NULL;
   const TrackedThread* t = bsearch(&tid, this->threadTicks, this->threadTickCount, sizeof(TrackedThread), cmpPid);
   return t && t->startTicks == startTicks ? t : NULL;
}

/* btime of /proc/stat: start times are boot time + start ticks. It is a
 * whole number of seconds, so start times do not jitter between refreshes
 * the way wall clock minus uptime would. 0 when unreadable. */
static double readBootTime(void) {
   size_t len = 0;
   char* text = Util_slurp("/proc/stat", 1 << 20, &len);
   if (!text)
      return 0;
   double boot = 0;
   const char* line = strstr(text, "\nbtime ");
   unsigned long long v;
   if (line && sscanf(line + 7, "%llu", &v) == 1)
      boot = (double)v;
   free(text);
   return boot;
}

Sampler* Sampler_new(const SamplerOptions* options, char* err, size_t errSize) {
   Sampler* this = Util_xcalloc(1, sizeof(Sampler));
   if (options)
      this->options = *options;
   if (this->options.historyCapacity == 0)
      this->options.historyCapacity = HISTORY_DEFAULT_CAPACITY;
   if (this->options.pids && this->options.pidCount) {
      this->pidFilter = Util_xmalloc(this->options.pidCount * sizeof(pid_t));
      memcpy(this->pidFilter, this->options.pids, this->options.pidCount * sizeof(pid_t));
      qsort(this->pidFilter, this->options.pidCount, sizeof(pid_t), cmpPid);
   }
   this->options.pids = this->pidFilter;
   long page = sysconf(_SC_PAGESIZE);
   this->pageKiB = page >= 1024 ? (unsigned long)page / 1024 : 4;
   this->hertz = procps_hertz_get();
   if (this->hertz <= 0)
      this->hertz = 100;
   this->bootTime = readBootTime();
   const char* what = NULL;
   if (procps_pids_new(&this->procInfo, procItems, PI_COUNT) < 0)
      what = "process table (pids)";
   else if (procps_stat_new(&this->statInfo) < 0)
      what = "/proc/stat";
   else if (procps_meminfo_new(&this->memInfo) < 0)
      what = "/proc/meminfo";
   if (what) {
      Util_format(err, errSize, "cannot initialise libproc2 for the %s: is /proc mounted?", what);
      Sampler_free(this);
      return NULL;
   }
   return this;
}

static void freeTracked(Tracked* t) {
   History_free(t->history);
   free(t->command);
}

void Sampler_free(Sampler* this) {
   if (!this)
      return;
   for (size_t i = 0; i < this->trackedCount; i++)
      freeTracked(&this->tracked[i]);
   free(this->tracked);
   free(this->nextTracked);
   free(this->threadTicks);
   free(this->nextThreadTicks);
   free(this->rows);
   free(this->threadPool);
   free(this->threadOffsets);
   free(this->multiPids);
   free(this->pidFilter);
   GoCounter_free(this->goCounter);
   free(this->goCounts);
   if (this->procInfo)
      procps_pids_unref(&this->procInfo);
   if (this->statInfo)
      procps_stat_unref(&this->statInfo);
   if (this->memInfo)
      procps_meminfo_unref(&this->memInfo);
   free(this);
}

void Sampler_setThreads(Sampler* this, bool threads) {
   this->options.threads = threads;
}

void Sampler_setFields(Sampler* this, unsigned fields) {
   this->fields = fields;
}

/* ---- system figures */

static int readSystem(Sampler* this, double elapsed, char* err, size_t errSize) {
   SystemSample* sys = &this->system;
   sys->cpuCount = (int)procps_cpu_count();
   struct stat_stack* st = procps_stat_select(this->statInfo, statItems, SI_COUNT);
   struct meminfo_stack* mem = procps_meminfo_select(this->memInfo, memItems, MI_COUNT);
   if (!st || !mem) {
      Util_format(err, errSize, "cannot read %s", st ? "/proc/meminfo" : "/proc/stat");
      return -1;
   }
   long busy = STAT_VAL(SI_BUSY, sl_int, st, this->statInfo);
   long total = STAT_VAL(SI_TOTAL, sl_int, st, this->statInfo);
   sys->cpuPct = (elapsed > 0 && total > 0 && busy >= 0) ? (double)busy / (double)total * 100.0 : 0.0;
   sys->memTotalKiB = MEMINFO_VAL(MI_TOTAL, ul_int, mem, this->memInfo);
   sys->memAvailableKiB = MEMINFO_VAL(MI_AVAILABLE, ul_int, mem, this->memInfo);
   sys->memUsedKiB = sys->memTotalKiB > sys->memAvailableKiB ? sys->memTotalKiB - sys->memAvailableKiB : 0;
   sys->swapTotalKiB = MEMINFO_VAL(MI_SWAP_TOTAL, ul_int, mem, this->memInfo);
   sys->swapFreeKiB = MEMINFO_VAL(MI_SWAP_FREE, ul_int, mem, this->memInfo);
   sys->memAvailablePct = sys->memTotalKiB ? (double)sys->memAvailableKiB / (double)sys->memTotalKiB * 100.0 : 0.0;
   if (procps_loadavg(&sys->load[0], &sys->load[1], &sys->load[2]) < 0)
      sys->load[0] = sys->load[1] = sys->load[2] = 0;
   double idle;
   if (procps_uptime(&sys->uptimeS, &idle) < 0)
      sys->uptimeS = 0;
   return 0;
}

/* ---- per-process rows */

/* True on one refresh in REREAD_PERIOD for each pid, staggered by pid so the
 * re-reads of cached files spread evenly over the refreshes. */
static bool isPeriodic(const Sampler* this, pid_t pid) {
   return (this->refreshes + (unsigned long)pid) % REREAD_PERIOD == 0;
}

/* Reads /proc/PID/cmdline into a fresh string with NULs as spaces; "" when
 * empty (kernel thread, zombie) or the process is gone. Caller frees. */
static char* readCmdline(pid_t pid) {
   char path[64], buf[CMDLINE_MAX];
   Util_format(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
   ssize_t n = Util_readFile(path, buf, sizeof(buf));
   if (n <= 0)
      return Util_xstrdup("");
   while (n > 0 && buf[n - 1] == '\0')
      n--;
   for (ssize_t i = 0; i < n; i++) {
      if (buf[i] == '\0' || buf[i] == '\n')
         buf[i] = ' ';
   }
   buf[n] = '\0';
   return Util_xstrdup(buf);
}

static void refreshCommand(Sampler* this, Tracked* t, bool isNew, const char* comm) {
   bool execd = strcmp(t->comm, comm) != 0;
   if (!isNew && !execd && !isPeriodic(this, t->pid))
      return;
   char* cmdline = readCmdline(t->pid);
   free(t->command);
   if (cmdline[0]) {
      t->command = cmdline;
   } else {
      free(cmdline);
      size_t len = strlen(comm) + 3;
      t->command = Util_xmalloc(len);
      Util_format(t->command, len, "[%s]", comm);
   }
   Util_format(t->comm, sizeof(t->comm), "%s", comm);
}

/* The ticks to count for a task not seen in the previous refresh. One that
 * started within the interval spent all its ticks in it. One that is older
 * was not tracked before (a process that just changed user under -u): its
 * ticks cover an unknown span, so it shows 0 until the next refresh. */
static unsigned long long newTaskTicks(const Sampler* this, unsigned long long ticks, unsigned long long began,
                                       double elapsed) {
   double startedS = (double)began / (double)this->hertz;
   /* One tick of slack: start times and uptime are rounded differently. */
   bool startedWithin = startedS + 1.0 / (double)this->hertz >= this->system.uptimeS - elapsed;
   return startedWithin ? ticks : 0;
}

/* VIRT and RES come from /proc/PID/stat (vsize, rss), which libproc2 reads
 * anyway; SHR and DATA only exist in statm. Rather than open statm for every
 * process on every refresh (a third of the monitor's syscalls), it is read
 * when the process is new or its vsize or rss moved: DATA is part of vsize
 * and SHR part of rss, so neither changes while both stand still. Idle
 * processes, the vast majority, then cost one file per refresh. */
static void readMemory(Sampler* this, Tracked* t, ProcessSample* p, unsigned long long vsize, unsigned long rss) {
   /* The periodic re-read bounds the staleness of a change that happens to
    * leave both totals equal (file pages swapped for as many anonymous ones). */
   bool stale = !t->memRead || t->vsizeBytes != vsize || t->rssPages != rss || isPeriodic(this, t->pid);
   unsigned long statmRes = 0;
   if (stale && vsize != 0) {
      char path[64], buf[256];
      unsigned long v[7];
      Util_format(path, sizeof(path), "/proc/%d/statm", (int)p->pid);
      /* Gone meanwhile: keep the previous SHR/DATA (or 0) with the stat figures. */
      if (Util_readFile(path, buf, sizeof(buf)) > 0 &&
          sscanf(buf, "%lu %lu %lu %lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]) == 7) {
         t->shrKiB = v[2] * this->pageKiB;
         t->dataKiB = v[5] * this->pageKiB;
         statmRes = v[1];
      }
   }
   if (stale) {
      t->memRead = true;
      t->vsizeBytes = vsize;
      t->rssPages = rss;
      t->virtKiB = (unsigned long)(vsize / 1024);
      /* stat's rss is a per-CPU approximation on recent kernels (it can miss
       * the anonymous pages of a small process); statm's resident is exact. */
      t->resKiB = (statmRes ? statmRes : rss) * this->pageKiB;
   }
   p->virtKiB = t->virtKiB;
   p->resKiB = t->resKiB;
   p->shrKiB = t->shrKiB;
   p->dataKiB = t->dataKiB;
}

/* Moves (or creates) the tracking entry of pid into this refresh's list. */
static Tracked* carryTracked(Sampler* this, pid_t pid, unsigned long long startTicks, bool kernelThread, bool* isNew) {
   Util_growArray((void**)&this->nextTracked, &this->nextTrackedCap, this->rowCount, sizeof(Tracked));
   Tracked* dst = &this->nextTracked[this->rowCount];
   Tracked* old = findTracked(this, pid, startTicks);
   *isNew = old == NULL;
   if (old) {
      *dst = *old;
      old->history = NULL; /* ownership moved */
      old->command = NULL;
      return dst;
   }
   *dst = (Tracked){ .pid = pid, .startTicks = startTicks };
   /* Kernel threads have no memory of their own to watch grow. */
   if (!kernelThread && !this->options.historyOnDemand)
      dst->history = History_new(this->options.historyCapacity);
   return dst;
}

/* ---- optional per-process files (Sampler_setFields) */

/* Storage I/O rates from /proc/PID/io (read_bytes, write_bytes), like
 * htop's DISK READ/WRITE. Unknown on the first read and without access. */
static void readIo(Tracked* t, ProcessSample* p, double elapsed) {
   char path[64], buf[512];
   Util_format(path, sizeof(path), "/proc/%d/io", (int)p->pid);
   unsigned long long rd = 0, wr = 0;
   const char *r = NULL, *w = NULL;
   if (Util_readFile(path, buf, sizeof(buf)) > 0) {
      r = strstr(buf, "\nread_bytes: ");
      w = strstr(buf, "\nwrite_bytes: ");
   }
   if (!r || !w || sscanf(r + 13, "%llu", &rd) != 1 || sscanf(w + 14, "%llu", &wr) != 1) {
      t->ioKnown = false;
      return;
   }
   if (t->ioKnown && elapsed > 0) {
      p->ioReadRate = rd >= t->ioReadBytes ? (double)(rd - t->ioReadBytes) / elapsed : 0;
      p->ioWriteRate = wr >= t->ioWriteBytes ? (double)(wr - t->ioWriteBytes) / elapsed : 0;
   }
   t->ioKnown = true;
   t->ioReadBytes = rd;
   t->ioWriteBytes = wr;
}

static void readWchan(ProcessSample* p) {
   char path[64], buf[sizeof(p->wchan)];
   Util_format(path, sizeof(path), "/proc/%d/wchan", (int)p->pid);
   ssize_t n = Util_readFile(path, buf, sizeof(buf));
   /* "0" while running. */
   if (n > 0 && strcmp(buf, "0") != 0)
      memcpy(p->wchan, buf, (size_t)n + 1);
}

static void countFds(ProcessSample* p) {
   char path[64];
   Util_format(path, sizeof(path), "/proc/%d/fd", (int)p->pid);
   DIR* dir = opendir(path);
   if (!dir)
      return;
   long n = 0;
   for (struct dirent* e; (e = readdir(dir)) != NULL;)
      n += e->d_name[0] != '.';
   closedir(dir);
   p->fds = n;
}

static void readOptional(Sampler* this, Tracked* t, ProcessSample* p, double elapsed) {
   p->ioReadRate = p->ioWriteRate = -1;
   p->fds = -1;
   if (this->fields & SAMPLER_FIELD_IO)
      readIo(t, p, elapsed);
   if (this->fields & SAMPLER_FIELD_WCHAN)
      readWchan(p);
   if (this->fields & SAMPLER_FIELD_FDS)
      countFds(p);
}

static double startTimeOf(const Sampler* this, unsigned long long began) {
   return this->bootTime + (double)began / (double)this->hertz;
}

static void fillRow(Sampler* this, struct pids_stack* s, double elapsed) {
   pid_t pid = PIDS_VAL(PI_PID, s_int, s, this->procInfo);
   pid_t ppid = PIDS_VAL(PI_PPID, s_int, s, this->procInfo);
   unsigned long long began = PIDS_VAL(PI_BEGAN, ull_int, s, this->procInfo);
   unsigned long long ticks = PIDS_VAL(PI_TICS, ull_int, s, this->procInfo);
   const char* comm = PIDS_VAL(PI_CMD, str, s, this->procInfo);
   bool kernelThread = pid == 2 || ppid == 2;
   bool isNew;
   Tracked* t = carryTracked(this, pid, began, kernelThread, &isNew);

   Util_growArray((void**)&this->rows, &this->rowCap, this->rowCount, sizeof(ProcessSample));
   Util_growArray((void**)&this->threadOffsets, &this->threadOffsetCap, this->rowCount, sizeof(size_t));
   ProcessSample* p = &this->rows[this->rowCount];
   memset(p, 0, sizeof(*p));
   p->pid = pid;
   p->ppid = ppid;
   p->uid = PIDS_VAL(PI_EUID, u_int, s, this->procInfo);
   Util_format(p->user, sizeof(p->user), "%s", PIDS_VAL(PI_EUSER, str, s, this->procInfo));
   p->state = (char)PIDS_VAL(PI_STATE, s_ch, s, this->procInfo);
   p->threads = PIDS_VAL(PI_NLWP, s_int, s, this->procInfo);
   p->nice = PIDS_VAL(PI_NICE, s_int, s, this->procInfo);
   p->processor = PIDS_VAL(PI_PROCESSOR, s_int, s, this->procInfo);
   readMemory(this, t, p, PIDS_VAL(PI_VSIZE, ul_int, s, this->procInfo), PIDS_VAL(PI_RSS, ul_int, s, this->procInfo));
   p->startTicks = began;
   p->startTime = startTimeOf(this, began);
   p->cpuTimeS = (double)ticks / (double)this->hertz;
   Util_format(p->comm, sizeof(p->comm), "%s", comm);
   p->kernelThread = kernelThread;
   p->memPct = this->system.memTotalKiB ? (double)p->resKiB / (double)this->system.memTotalKiB * 100.0 : 0.0;
   unsigned long long delta =
       isNew ? newTaskTicks(this, ticks, began, elapsed) : (ticks >= t->ticks ? ticks - t->ticks : 0);
   p->cpuPct = this->prevTime > 0 ? Sampler_cpuPercent(delta, this->hertz, elapsed) : 0.0;
   t->ticks = ticks;
   refreshCommand(this, t, isNew, comm);
   p->command = t->command;
   readOptional(this, t, p, elapsed);
   this->rowCount++;
}

/* The goroutines of every Go process among the rows (not kernel threads:
 * they have no executable). */
static void countGoroutines(Sampler* this) {
   if (!(this->fields & SAMPLER_FIELD_GOROUTINES)) {
      for (size_t i = 0; i < this->rowCount; i++)
         this->rows[i].goroutines = -1;
      return;
   }
   if (!this->goCounter)
      this->goCounter = GoCounter_new();
   Util_growArray((void**)&this->goCounts, &this->goCountCap, this->rowCount, sizeof(GoCount));
   for (size_t i = 0; i < this->rowCount; i++) {
      ProcessSample* p = &this->rows[i];
      bool ok = !p->kernelThread && GoCounter_read(this->goCounter, p->pid, p->startTicks, &this->goCounts[i]);
      p->goroutines = ok ? (long)this->goCounts[i].total : -1;
      p->go = ok ? &this->goCounts[i] : NULL;
   }
   GoCounter_sweep(this->goCounter);
}

/* Adds this refresh to each process's history. Rows and tracking entries
 * are parallel arrays by now. */
static void recordHistory(Sampler* this, double now, double wall) {
   for (size_t i = 0; i < this->rowCount; i++) {
      ProcessSample* p = &this->rows[i];
      Tracked* t = &this->tracked[i];
      HistorySample hs = { .time = now,
                           .wallTime = wall,
                           .cpuPct = p->cpuPct,
                           .resKiB = p->resKiB,
                           .threads = (unsigned long)(p->threads > 0 ? p->threads : 0),
                           .goroutines = p->goroutines };
      t->last = hs;
      /* historyOnDemand: a history nobody asked for lately is dropped. */
      if (t->history && this->options.historyOnDemand && this->refreshes - t->wantedAt >= SAMPLER_HISTORY_GRACE) {
         History_free(t->history);
         t->history = NULL;
      }
      if (!t->history)
         continue;
      History_push(t->history, &hs);
      p->history = t->history;
      p->resGrowthKiBPerMin = History_growthPerMinute(t->history, HISTORY_RES, SAMPLER_GROWTH_WINDOW_S,
                                                      SAMPLER_GROWTH_MIN_SPAN_S, &p->resGrowthKnown);
      if (p->goroutines >= 0)
         p->goGrowthPerMin = History_growthPerMinute(t->history, HISTORY_GOROUTINES, SAMPLER_GROWTH_WINDOW_S,
                                                     SAMPLER_GROWTH_MIN_SPAN_S, &p->goGrowthKnown);
   }
}

/* Binary search in this refresh's rows (sorted by pid). */
static ProcessSample* rowFor(Sampler* this, pid_t pid) {
   size_t lo = 0, hi = this->rowCount;
   while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (this->rows[mid].pid < pid)
         lo = mid + 1;
      else
         hi = mid;
   }
   return (lo < this->rowCount && this->rows[lo].pid == pid) ? &this->rows[lo] : NULL;
}

static int cmpTrackedPid(const void* a, const void* b) {
   pid_t x = ((const Tracked*)a)->pid, y = ((const Tracked*)b)->pid;
   return (x > y) - (x < y);
}

static int cmpRowPid(const void* a, const void* b) {
   pid_t x = ((const ProcessSample*)a)->pid, y = ((const ProcessSample*)b)->pid;
   return (x > y) - (x < y);
}

/* /proc lists pids in ascending order; sort only if it ever does not, since
 * every later lookup is a binary search. Rows and tracking entries are
 * parallel arrays, so both are sorted the same way. */
static void ensureSorted(Sampler* this) {
   for (size_t i = 1; i < this->rowCount; i++) {
      if (this->rows[i - 1].pid > this->rows[i].pid) {
         qsort(this->rows, this->rowCount, sizeof(ProcessSample), cmpRowPid);
         qsort(this->nextTracked, this->rowCount, sizeof(Tracked), cmpTrackedPid);
         return;
      }
   }
}

/* Frees the entries of processes that went away and makes this refresh's
 * list the current one. */
static void swapTracked(Sampler* this) {
   for (size_t i = 0; i < this->trackedCount; i++)
      freeTracked(&this->tracked[i]);
   Tracked* old = this->tracked;
   size_t oldCap = this->trackedCap;
   this->tracked = this->nextTracked;
   this->trackedCap = this->nextTrackedCap;
   this->trackedCount = this->rowCount;
   this->nextTracked = old;
   this->nextTrackedCap = oldCap;
}

static int readProcesses(Sampler* this, double elapsed, char* err, size_t errSize) {
   struct pids_fetch* f = procps_pids_reap(this->procInfo, PIDS_FETCH_TASKS_ONLY);
   if (!f) {
      Util_format(err, errSize, "cannot read the process table from /proc");
      return -1;
   }
   SystemSample* sys = &this->system;
   this->rowCount = 0;
   this->multiCount = 0;
   for (int i = 0; i < f->counts->total; i++) {
      struct pids_stack* s = f->stacks[i];
      pid_t pid = PIDS_VAL(PI_PID, s_int, s, this->procInfo);
      int nlwp = PIDS_VAL(PI_NLWP, s_int, s, this->procInfo);
      TaskState state = TaskState_fromLetter((char)PIDS_VAL(PI_STATE, s_ch, s, this->procInfo));
      sys->tasks++;
      sys->taskStates[state]++;
      if (nlwp > 1) {
         Util_growArray((void**)&this->multiPids, &this->multiCap, this->multiCount, sizeof(pid_t));
         this->multiPids[this->multiCount++] = pid;
      } else {
         /* The only thread is the process itself: no task-directory read needed. */
         sys->threads++;
         sys->threadStates[state]++;
      }
      if (!pidSelected(this, pid))
         continue;
      if (this->options.filterUser && PIDS_VAL(PI_EUID, u_int, s, this->procInfo) != this->options.uid)
         continue;
      fillRow(this, s, elapsed);
      if (nlwp <= 1)
         this->rows[this->rowCount - 1].threadStates[state] = 1;
   }
   ensureSorted(this);
   swapTracked(this);
   return 0;
}

/* ---- threads of multi-threaded processes */

/* A thread's stat line and its id. */
typedef struct TaskStat_ {
   pid_t tid;
   ProcStat stat;
} TaskStat;

/* Appends a thread row for p; its slice of the pool starts at the first one. */
static ThreadSample* newThreadRow(Sampler* this, ProcessSample* p) {
   size_t row = (size_t)(p - this->rows);
   if (this->threadOffsets[row] == SIZE_MAX)
      this->threadOffsets[row] = this->threadPoolCount;
   Util_growArray((void**)&this->threadPool, &this->threadPoolCap, this->threadPoolCount, sizeof(ThreadSample));
   ThreadSample* t = &this->threadPool[this->threadPoolCount++];
   memset(t, 0, sizeof(*t));
   p->threadRowCount++;
   return t;
}

/* Thread ticks of selected processes are tracked whether or not thread rows
 * are on (they are parsed anyway for the states), so switching rows on shows
 * real CPU% at once. */
static void addThread(Sampler* this, ProcessSample* p, const TaskStat* ts, double elapsed) {
   Util_growArray((void**)&this->nextThreadTicks, &this->nextThreadTickCap, this->nextThreadTickCount,
                  sizeof(TrackedThread));
   this->nextThreadTicks[this->nextThreadTickCount++] =
       (TrackedThread){ .tid = ts->tid, .startTicks = ts->stat.startTicks, .ticks = ts->stat.ticks };
   if (!this->options.threads)
      return;
   ThreadSample* t = newThreadRow(this, p);
   t->tid = ts->tid;
   const ProcStat* st = &ts->stat;
   memcpy(t->name, st->comm, sizeof(t->name));
   t->state = st->state;
   t->nice = st->nice;
   t->processor = st->processor;
   t->startTime = startTimeOf(this, st->startTicks);
   t->cpuTimeS = (double)st->ticks / (double)this->hertz;
   const TrackedThread* prev = findThreadTicks(this, ts->tid, st->startTicks);
   if (prev)
      t->cpuPct = Sampler_cpuPercent(st->ticks >= prev->ticks ? st->ticks - prev->ticks : 0, this->hertz, elapsed);
   else if (this->prevTime > 0)
      t->cpuPct = Sampler_cpuPercent(newTaskTicks(this, st->ticks, st->startTicks, elapsed), this->hertz, elapsed);
}

/* A single-threaded process's only thread is the process itself: its row
 * comes from the process figures, without reading the task directory. */
static void addSoleThread(Sampler* this, ProcessSample* p) {
   ThreadSample* t = newThreadRow(this, p);
   t->tid = p->pid;
   memcpy(t->name, p->comm, sizeof(t->name));
   t->state = p->state;
   t->nice = p->nice;
   t->processor = p->processor;
   t->startTime = p->startTime;
   t->cpuTimeS = p->cpuTimeS;
   t->cpuPct = p->cpuPct;
}

/* Reads every thread of one multi-threaded process straight from its task
 * directory (relative to a directory fd, so each file costs one short path
 * walk). Measured cheaper than libproc2 here: its PIDS_SELECT_PID_THREADS
 * also reads the process's status and every thread's statm, and
 * PIDS_FETCH_THREADS_TOO reads statm for every thread in the system.
 * A process or thread that exits meanwhile is simply skipped. */
static void readTasks(Sampler* this, pid_t pid, ProcessSample* p, double elapsed) {
   SystemSample* sys = &this->system;
   char path[64];
   Util_format(path, sizeof(path), "/proc/%d/task", (int)pid);
   int dirFd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
   if (dirFd < 0)
      return;
   DIR* dir = fdopendir(dirFd);
   if (!dir) {
      close(dirFd);
      return;
   }
   for (struct dirent* e; (e = readdir(dir)) != NULL;) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9')
         continue;
      char name[300], buf[1024];
      Util_format(name, sizeof(name), "%s/stat", e->d_name);
      int fd = openat(dirFd, name, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
         continue;
      ssize_t n = read(fd, buf, sizeof(buf) - 1);
      close(fd);
      TaskStat ts;
      if (n <= 0)
         continue;
      buf[n] = '\0';
      if (!ProcStat_parse(buf, &ts.stat) || Util_parsePid(e->d_name, &ts.tid) < 0)
         continue;
      TaskState state = TaskState_fromLetter(ts.stat.state);
      sys->threads++;
      sys->threadStates[state]++;
      if (!p)
         continue;
      p->threadStates[state]++;
      addThread(this, p, &ts, elapsed);
   }
   closedir(dir);
}

/* The process's stat is read before its threads', and the kernel rounds
 * the user/system split of a process and of each thread separately: a busy
 * thread could show more CPU time than its whole process in the same
 * refresh. The process shows at least what its threads add up to (exited
 * threads' time is only in the process figure, so it may be more). */
static void coverThreadTimes(ProcessSample* p) {
   double sum = 0;
   for (size_t i = 0; i < p->threadRowCount; i++)
      sum += p->threadRows[i].cpuTimeS;
   if (sum > p->cpuTimeS)
      p->cpuTimeS = sum;
}

static int cmpThreadTid(const void* a, const void* b) {
   pid_t x = ((const TrackedThread*)a)->tid, y = ((const TrackedThread*)b)->tid;
   return (x > y) - (x < y);
}

static void readThreads(Sampler* this, double elapsed) {
   this->threadPoolCount = 0;
   this->nextThreadTickCount = 0;
   for (size_t i = 0; i < this->rowCount; i++)
      this->threadOffsets[i] = SIZE_MAX;

   /* Every multi-threaded process, selected or not: the header counts all threads. */
   for (size_t i = 0; i < this->multiCount; i++) {
      pid_t pid = this->multiPids[i];
      readTasks(this, pid, rowFor(this, pid), elapsed);
   }
   for (size_t i = 0; this->options.threads && i < this->rowCount; i++) {
      if (this->rows[i].threads <= 1)
         addSoleThread(this, &this->rows[i]);
   }

   /* The pool is final now: hand out pointers (it may have moved while growing).
    * Each process's threads were added together, so its slice is contiguous. */
   for (size_t i = 0; i < this->rowCount; i++) {
      ProcessSample* row = &this->rows[i];
      if (row->threadRowCount && this->threadOffsets[i] != SIZE_MAX) {
         row->threadRows = &this->threadPool[this->threadOffsets[i]];
         coverThreadTimes(row);
      } else {
         row->threadRowCount = 0;
      }
   }

   /* Swap the thread tick tables; sorted for the binary search next time. */
   if (this->nextThreadTickCount > 1)
      qsort(this->nextThreadTicks, this->nextThreadTickCount, sizeof(TrackedThread), cmpThreadTid);
   TrackedThread* old = this->threadTicks;
   size_t oldCap = this->threadTickCap;
   this->threadTicks = this->nextThreadTicks;
   this->threadTickCap = this->nextThreadTickCap;
   this->threadTickCount = this->nextThreadTickCount;
   this->nextThreadTicks = old;
   this->nextThreadTickCap = oldCap;
}

/* A multi-threaded process that exited (or lost its threads) between the two
 * reads still counts its main thread once, so no row has all-zero states. */
static void fillMissingStates(Sampler* this) {
   for (size_t i = 0; i < this->rowCount; i++) {
      ProcessSample* p = &this->rows[i];
      unsigned sum = 0;
      for (int s = 0; s < TASK_STATE_COUNT; s++)
         sum += p->threadStates[s];
      if (sum == 0)
         p->threadStates[TaskState_fromLetter(p->state)] = 1;
   }
}

int Sampler_refresh(Sampler* this, char* err, size_t errSize) {
   double now = Util_monotonicSeconds();
   double wall = Util_wallSeconds();
   double elapsed = this->prevTime > 0 ? now - this->prevTime : 0.0;
   SystemSample* sys = &this->system;
   memset(sys, 0, sizeof(*sys));
   sys->time = wall;
   sys->intervalS = elapsed;
   if (readSystem(this, elapsed, err, errSize) < 0)
      return -1;
   if (readProcesses(this, elapsed, err, errSize) < 0)
      return -1;
   readThreads(this, elapsed);
   fillMissingStates(this);
   countGoroutines(this);
   recordHistory(this, now, wall);
   this->prevTime = now;
   this->refreshes++;
   return 0;
}

size_t Sampler_count(const Sampler* this) {
   return this->rowCount;
}

const ProcessSample* Sampler_at(const Sampler* this, size_t i) {
   return i < this->rowCount ? &this->rows[i] : NULL;
}

const ProcessSample* Sampler_find(const Sampler* this, pid_t pid) {
   return rowFor((Sampler*)this, pid);
}

void Sampler_keepHistory(Sampler* this, pid_t pid) {
   ProcessSample* row = rowFor(this, pid);
   if (!row)
      return;
   Tracked* t = &this->tracked[row - this->rows]; /* parallel to rows after the swap */
   t->wantedAt = this->refreshes;
   if (t->history)
      return;
   t->history = History_new(this->options.historyCapacity);
   History_push(t->history, &t->last);
   row->history = t->history;
}

const SystemSample* Sampler_system(const Sampler* this) {
   return &this->system;
}
