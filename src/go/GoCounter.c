/* Goroutine counts without a stop: see GoCounter.h. */
#include "stacktop/GoCounter.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stacktop/ElfCache.h"
#include "stacktop/GoDetect.h"
#include "stacktop/GoLayout.h"
#include "stacktop/GoProcess.h"
#include "stacktop/Maps.h"
#include "stacktop/ProcessMemory.h"
#include "stacktop/Util.h"

/* A process found not to be Go has its executable looked at again every
 * this many refreshes (an exec keeps pid and start time). */
#define RECHECK_SWEEPS 16
/* Share of g's allowed to fail their checks before a count is refused
 * (a layout that does not fit this process). */
#define BAD_G_PERCENT 5
/* Start functions remembered (open addressing; power of two). */
#define START_CACHE 1024

static const char* const stateNames[GO_COUNT_STATES] = {
   [GO_COUNT_RUNNING] = "running", [GO_COUNT_RUNNABLE] = "runnable", [GO_COUNT_WAITING] = "waiting",
   [GO_COUNT_SYSCALL] = "syscall", [GO_COUNT_OTHER] = "other",
};

typedef struct Exe_ {
   dev_t dev;
   ino_t ino;
   bool isGo;
} Exe;

typedef struct Proc_ {
   pid_t pid;
   unsigned long long startTime;
   dev_t dev;
   ino_t ino;
   bool identified; /* dev, ino and isGo are known */
   bool isGo;
   bool located;        /* gp is valid (allgs found) */
   unsigned nextCheck;  /* sweep at which a non-Go executable is looked at again */
   unsigned nextLocate; /* sweep before which a failed locate is not retried */
   bool seen;
   GoProcess gp;
} Proc;

/* What a start function makes of a goroutine: decided once per function. */
typedef enum StartKind_ { START_USER = 1, START_SYSTEM, START_DEPENDS } StartKind;

typedef struct StartSlot_ {
   const GoBinary* bin;
   uint64_t vaddr;
   uint8_t kind;
} StartSlot;

struct GoCounter_ {
   ElfCache* cache; /* Go executables only */
   Exe* exes;
   size_t exeCount, exeCapacity;
   Proc* procs; /* sorted by pid */
   size_t procCount, procCapacity;
   unsigned sweeps;
   StartSlot starts[START_CACHE];
   /* Reused read buffers. */
   uint64_t* pointers;
   size_t pointerCapacity;
   uint8_t* windows;
   size_t windowCapacity;
   ProcessMemoryRead* items;
   size_t itemCapacity;
};

/* ---- is it Go? --------------------------------------------------------- */

static bool preadAll(void* ctx, uint64_t offset, void* buf, size_t len) {
   int fd = *(int*)ctx;
   size_t done = 0;
   while (done < len) {
      ssize_t n = pread(fd, (char*)buf + done, len - done, (off_t)(offset + done));
      if (n < 0 && errno == EINTR)
         continue;
      if (n <= 0)
         return false;
      done += (size_t)n;
   }
   return true;
}

static Exe* findExe(GoCounter* this, dev_t dev, ino_t ino) {
   for (size_t i = 0; i < this->exeCount; i++)
      if (this->exes[i].dev == dev && this->exes[i].ino == ino)
         return &this->exes[i];
   return NULL;
}

/* Whether the executable of pid (identified by dev/ino) is Go, once per file. */
static bool exeIsGo(GoCounter* this, pid_t pid, dev_t dev, ino_t ino) {
   Exe* e = findExe(this, dev, ino);
   if (e)
      return e->isGo;
   char path[64];
   Util_format(path, sizeof(path), "/proc/%d/exe", (int)pid);
   int fd = open(path, O_RDONLY | O_CLOEXEC);
   if (fd < 0)
      return false; /* not cached: it may be readable later */
   bool isGo = GoDetect_isGoElf(preadAll, &fd);
   close(fd);
   Util_growArray((void**)&this->exes, &this->exeCapacity, this->exeCount, sizeof(Exe));
   this->exes[this->exeCount++] = (Exe){ .dev = dev, .ino = ino, .isGo = isGo };
   return isGo;
}

/* ---- the process table ----------------------------------------------------- */

static Proc* findProc(GoCounter* this, pid_t pid, size_t* at) {
   size_t lo = 0, hi = this->procCount;
   while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (this->procs[mid].pid < pid)
         lo = mid + 1;
      else
         hi = mid;
   }
   *at = lo;
   return lo < this->procCount && this->procs[lo].pid == pid ? &this->procs[lo] : NULL;
}

static Proc* insertProc(GoCounter* this, size_t at, pid_t pid) {
   Util_growArray((void**)&this->procs, &this->procCapacity, this->procCount, sizeof(Proc));
   memmove(&this->procs[at + 1], &this->procs[at], (this->procCount - at) * sizeof(Proc));
   this->procCount++;
   this->procs[at] = (Proc){ .pid = pid };
   return &this->procs[at];
}

/* (Re)identifies the process's executable (an exec changes it); false
 * when the process is gone or not ours to look at. */
static bool identify(GoCounter* this, Proc* p) {
   char path[64];
   Util_format(path, sizeof(path), "/proc/%d/exe", (int)p->pid);
   struct stat st;
   if (stat(path, &st) != 0)
      return false;
   if (p->identified && st.st_dev == p->dev && st.st_ino == p->ino)
      return true;
   *p = (Proc){ .pid = p->pid,
                .startTime = p->startTime,
                .seen = true,
                .identified = true,
                .dev = st.st_dev,
                .ino = st.st_ino,
                .nextCheck = p->nextCheck };
   p->isGo = exeIsGo(this, p->pid, st.st_dev, st.st_ino);
   return true;
}

static bool locate(GoCounter* this, Proc* p) {
   Maps maps;
   char err[128];
   if (Maps_read(&maps, p->pid, err, sizeof(err)) != 0)
      return false;
   bool ok = GoProcess_locate(&p->gp, p->pid, &maps, this->cache) && p->gp.allgs && p->gp.bin->layout;
   Maps_free(&maps);
   p->located = ok;
   if (!ok)
      p->nextLocate = this->sweeps + RECHECK_SWEEPS; /* a .bss scan is not for every refresh */
   return ok;
}

/* ---- counting --------------------------------------------------------------- */

static StartKind startKind(GoCounter* this, const GoBinary* bin, uint64_t vaddr) {
   size_t h = (size_t)((vaddr * 0x9e3779b97f4a7c15ull) >> 54) & (START_CACHE - 1);
   for (size_t probe = 0; probe < 8; probe++) {
      StartSlot* s = &this->starts[(h + probe) & (START_CACHE - 1)];
      if (s->kind && s->bin == bin && s->vaddr == vaddr)
         return (StartKind)s->kind;
      if (!s->kind || probe == 7) {
         bool running = GoBinary_isSystemGoroutine(bin, vaddr, GO_G_RUNNING, 0);
         bool parked = false;
         for (size_t r = 0; r < bin->waitReasonCount && r < 256 && !parked; r++)
            parked = GoBinary_isSystemGoroutine(bin, vaddr, GO_G_WAITING, (uint8_t)r) != running;
         *s = (StartSlot){ .bin = bin,
                           .vaddr = vaddr,
                           .kind = parked    ? START_DEPENDS
                                   : running ? START_SYSTEM
                                             : START_USER };
         return (StartKind)s->kind;
      }
   }
   return START_USER;
}

static GoCountState stateOf(uint32_t status) {
   switch (status) {
   case GO_G_RUNNING: return GO_COUNT_RUNNING;
   case GO_G_RUNNABLE: return GO_COUNT_RUNNABLE;
   case GO_G_WAITING: return GO_COUNT_WAITING;
   case GO_G_SYSCALL: return GO_COUNT_SYSCALL;
   default: return GO_COUNT_OTHER;
   }
}

static void reserve(void** buf, size_t* capacity, size_t need, size_t elem) {
   if (*capacity >= need)
      return;
   free(*buf);
   *capacity = need + need / 2;
   *buf = Util_xmalloc(*capacity * elem);
}

/* One window per g: from its status to the last field counted. */
typedef struct Window_ {
   uint32_t lo, size, status, waitReason, startPc;
} Window;

static uint32_t min3(uint32_t a, uint32_t b, uint32_t c) {
   uint32_t m = a < b ? a : b;
   return m < c ? m : c;
}

static uint32_t max3(uint32_t a, uint32_t b, uint32_t c) {
   uint32_t m = a > b ? a : b;
   return m > c ? m : c;
}

static Window windowOf(const GoGOffsets* o) {
   uint32_t lo = min3(o->status, o->waitReason, o->startPc);
   uint32_t hi = max3(o->status + 4, o->waitReason + 1, o->startPc + 8);
   return (Window){
      .lo = lo, .size = hi - lo, .status = o->status - lo, .waitReason = o->waitReason - lo, .startPc = o->startPc - lo
   };
}

static bool countProcess(GoCounter* this, const Proc* p, GoCount* out) {
   const GoProcess* gp = &p->gp;
   uint64_t ptr, len;
   if (!GoProcess_readAllgs(gp, p->pid, &ptr, &len))
      return false;
   size_t n = (size_t)len;
   reserve((void**)&this->pointers, &this->pointerCapacity, n, sizeof(uint64_t));
   if (!ProcessMemory_read(p->pid, ptr, this->pointers, n * sizeof(uint64_t)))
      return false;
   Window w = windowOf(&gp->bin->layout->g);
   reserve((void**)&this->windows, &this->windowCapacity, n * w.size, 1);
   reserve((void**)&this->items, &this->itemCapacity, n, sizeof(ProcessMemoryRead));
   size_t bad = 0;
   for (size_t i = 0; i < n; i++) {
      uint64_t g = this->pointers[i];
      bool ok = GoProcess_plausiblePointer(g);
      bad += !ok;
      this->items[i] = (ProcessMemoryRead){ .remote = ok ? g + w.lo : 0,
                                            .local = this->windows + i * w.size,
                                            .size = ok ? w.size : 0 };
   }
   ProcessMemory_readBatch(p->pid, this->items, n);
   *out = (GoCount){ .reasonNames = (const char* const*)gp->bin->waitReasons,
                     .reasonNameCount = gp->bin->waitReasonCount };
   for (size_t i = 0; i < n; i++) {
      const uint8_t* win = this->windows + i * w.size;
      if (this->items[i].size == 0)
         continue;
      if (this->items[i].got != w.size) {
         bad++;
         continue;
      }
      uint32_t status;
      uint64_t startPc;
      memcpy(&status, win + w.status, sizeof(status));
      memcpy(&startPc, win + w.startPc, sizeof(startPc));
      uint8_t reason = win[w.waitReason];
      status &= ~(uint32_t)GO_G_SCAN;
      if (status == GO_G_IDLE || status == GO_G_DEAD || status == GO_G_DEADEXTRA)
         continue;
      if (status > GO_G_DEADEXTRA) {
         bad++;
         continue;
      }
      StartKind kind = startPc >= gp->bias ? startKind(this, gp->bin, startPc - gp->bias) : START_USER;
      bool system = kind == START_SYSTEM ||
                    (kind == START_DEPENDS && GoBinary_isSystemGoroutine(gp->bin, startPc - gp->bias, status, reason));
      if (system) {
         out->system++;
         continue;
      }
      GoCountState state = stateOf(status);
      out->total++;
      out->states[state]++;
      if (state == GO_COUNT_WAITING && reason < GO_COUNT_REASONS)
         out->reasons[reason]++;
   }
   return bad * 100 <= n * BAD_G_PERCENT;
}

/* ---- public ------------------------------------------------------------------ */

GoCounter* GoCounter_new(void) {
   GoCounter* this = Util_xcalloc(1, sizeof(*this));
   this->cache = ElfCache_new();
   return this;
}

void GoCounter_free(GoCounter* this) {
   if (!this)
      return;
   ElfCache_free(this->cache);
   free(this->exes);
   free(this->procs);
   free(this->pointers);
   free(this->windows);
   free(this->items);
   free(this);
}

bool GoCounter_read(GoCounter* this, pid_t pid, unsigned long long startTime, GoCount* out) {
   *out = (GoCount){ 0 };
   size_t at;
   Proc* p = findProc(this, pid, &at);
   if (p && p->startTime != startTime)
      *p = (Proc){ .pid = pid }; /* the pid was reused */
   else if (!p)
      p = insertProc(this, at, pid);
   p->startTime = startTime;
   p->seen = true;
   if (p->isGo || !p->identified || this->sweeps >= p->nextCheck) {
      p->nextCheck = this->sweeps + RECHECK_SWEEPS;
      if (!identify(this, p))
         return false;
   }
   if (!p->isGo)
      return false;
   if (!p->located && (this->sweeps < p->nextLocate || !locate(this, p)))
      return false;
   if (countProcess(this, p, out))
      return true;
   /* allgs moved or the layout does not fit: locate again next time. */
   p->located = false;
   *out = (GoCount){ 0 };
   return false;
}

void GoCounter_sweep(GoCounter* this) {
   size_t kept = 0;
   for (size_t i = 0; i < this->procCount; i++) {
      if (!this->procs[i].seen)
         continue;
      this->procs[i].seen = false;
      this->procs[kept++] = this->procs[i];
   }
   this->procCount = kept;
   this->sweeps++;
}

const char* GoCount_stateName(GoCountState state) {
   return (size_t)state < GO_COUNT_STATES ? stateNames[state] : "?";
}

const char* GoCount_reasonName(const GoCount* count, size_t reason) {
   if (reason < count->reasonNameCount && count->reasonNames[reason] && count->reasonNames[reason][0])
      return count->reasonNames[reason];
   return reason == 0 ? "waiting" : "other wait reason";
}
