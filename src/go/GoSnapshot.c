/* Reading goroutines from outside: see GoSnapshot.h. The rules for locating
 * and validating runtime.allgs and the g structs are F1.4-F1.6 and F8 of
 * shared/reference/go-runtime.md; every value read from the target is
 * checked before it is used as an address or a size. */
#include "stacktop/GoSnapshot.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "stacktop/Arch.h"
#include "stacktop/ElfCache.h"
#include "stacktop/GoProcess.h"
#include "stacktop/ProcessMemory.h"
#include "stacktop/SharedMemory.h"
#include "stacktop/Util.h"

/* Share of live g's allowed to fail the per-g checks before the layout is
 * declared wrong (F8: "more than ~5%"). */
#define BAD_G_PERCENT 5
#define MAX_LABELS 64
#define MAX_LABEL_BYTES 4096
#define MAX_MAP_BUCKETS 16
#define MAX_OVERFLOW_BUCKETS 16

static double nowMs(void) {
   return Util_monotonicSeconds() * 1000.0;
}

static uint64_t u64At(const uint8_t* p) {
   uint64_t v;
   memcpy(&v, p, sizeof(v));
   return v;
}

static uint32_t u32At(const uint8_t* p) {
   uint32_t v;
   memcpy(&v, p, sizeof(v));
   return v;
}

static bool plausiblePointer(uint64_t p) {
   return GoProcess_plausiblePointer(p);
}

/* String bytes need no alignment. */
static bool plausibleAnyPointer(uint64_t p) {
   return p && p < ARCH_USER_ADDR_LIMIT;
}

/* ---- phase 1: prepare ---------------------------------------------------- */

/* Everything the stopped phase writes is shared with the snapshot's helper
 * process (it runs there) and faulted in now, not during the pause:
 * faulting fresh pages one by one while the target is stopped would
 * lengthen it. Sized for the goroutines of now plus room for new ones. */
static void allocateBuffers(GoSnapshot* this, uint64_t liveLen) {
   size_t capacity = (size_t)liveLen * 2 + 1024;
   this->pointerCapacity = capacity;
   this->pointers = SharedMemory_alloc(capacity * sizeof(uint64_t), true);
   this->routines = SharedMemory_alloc(capacity * sizeof(GoRoutine), false);
   this->gBufferSize = capacity * this->bin->layout->g.size;
   this->gBuffer = SharedMemory_alloc(this->gBufferSize, true);
   this->stackArenaSize = this->options.stoppedStackBudget;
   this->stackArena = SharedMemory_alloc(this->stackArenaSize, true);
   if (!this->pointers || !this->routines || !this->gBuffer || !this->stackArena)
      Util_format(this->error, sizeof(this->error), "cannot allocate %zu KiB for the goroutine snapshot",
                  (this->gBufferSize + this->stackArenaSize) >> 10);
}

/* The size of the executable's static TLS block, which ends at fs_base:
 * PT_TLS memsz rounded up to its alignment (0 without PT_TLS). */
static uint64_t tlsBlock(const ElfReader* r) {
   const ElfSegment* t = &r->tls;
   if (!t->present || t->memsz > 4096)
      return 0;
   uint64_t align = t->align > 1 ? t->align : 1;
   return (t->memsz + align - 1) / align * align;
}

static GoSnapshot* fromProcess(const GoProcess* gp, const GoSnapshotOptions* options);

GoSnapshot* GoSnapshot_prepare(pid_t pid, const Maps* maps, ElfCache* cache, const GoSnapshotOptions* options) {
   GoProcess gp;
   if (!GoProcess_locate(&gp, pid, maps, cache))
      return NULL;
   GoSnapshot* this = fromProcess(&gp, options);
   /* runtime.tlsg: where in that block g is (known only with symbols). */
   uint64_t tlsg, size;
   this->tlsBlock = tlsBlock(&gp.exe->reader);
   if (this->tlsBlock && ElfReader_findSymbol(&gp.exe->reader, "runtime.tlsg", &tlsg, &size) && tlsg < this->tlsBlock)
      this->tlsBlock -= tlsg;
   return this;
}

GoSnapshot* GoSnapshot_prepareBinary(pid_t pid, const GoBinary* bin, uint64_t bias, const GoSnapshotOptions* options) {
   GoProcess gp = { .bin = (GoBinary*)bin, .bias = bias };
   GoProcess_locateAllgs(&gp, pid);
   return fromProcess(&gp, options);
}

static GoSnapshot* fromProcess(const GoProcess* gp, const GoSnapshotOptions* options) {
   const GoBinary* bin = gp->bin;
   GoSnapshot* this = SharedMemory_alloc(sizeof(*this), false);
   if (!this) {
      fputs("stacktop: out of memory\n", stderr);
      abort();
   }
   this->bin = bin;
   this->bias = gp->bias;
   this->options = (GoSnapshotOptions){ .stoppedStackBudget = GO_SNAPSHOT_DEFAULT_STOPPED_BUDGET,
                                        .perGoroutineCap = GO_SNAPSHOT_DEFAULT_PER_GOROUTINE };
   if (options && options->stoppedStackBudget)
      this->options.stoppedStackBudget = options->stoppedStackBudget;
   if (options && options->perGoroutineCap)
      this->options.perGoroutineCap = options->perGoroutineCap;
   if (bin->problem[0]) {
      Util_format(this->error, sizeof(this->error), "%s", bin->problem);
      return this;
   }
   this->allgs = gp->allgs;
   this->allgsSource = gp->allgsSource;
   if (!this->allgs) {
      Util_format(this->error, sizeof(this->error),
                  "could not locate runtime.allgs in this %s binary (symbol table, runtime.allgadd and a .bss "
                  "scan all failed); showing threads only",
                  bin->allgsSource ? "Go" : "stripped Go");
      return this;
   }
   allocateBuffers(this, gp->allgLen);
   return this;
}

/* ---- phase 2: stopped -------------------------------------------------------- */

static bool readHeader(GoSnapshot* this, pid_t pid, uint64_t* ptr, uint64_t* len) {
   GoProcess gp = { .bin = (GoBinary*)this->bin, .bias = this->bias, .allgs = this->allgs };
   if (!GoProcess_readAllgs(&gp, pid, ptr, len)) {
      Util_format(this->error, sizeof(this->error),
                  "runtime.allgs at %#lx does not hold a slice of goroutines any more; showing threads only",
                  (unsigned long)this->allgs);
      return false;
   }
   return true;
}

/* The pointer array and every g struct, in batches. */
static bool readGs(GoSnapshot* this, pid_t pid, uint64_t ptr, uint64_t* lenInOut, size_t* readOk) {
   size_t gsize = this->bin->layout->g.size;
   if (*lenInOut > this->pointerCapacity) {
      /* Twice as many goroutines as a moment ago: the buffers are shared with
       * stacktop and cannot grow here; the newest ones are left out. */
      this->missedGoroutines = (size_t)(*lenInOut - this->pointerCapacity);
      *lenInOut = this->pointerCapacity;
   }
   size_t len = (size_t)*lenInOut;
   if (!ProcessMemory_read(pid, ptr, this->pointers, len * sizeof(uint64_t)))
      return false;
   ProcessMemoryRead* items = Util_xcalloc(len, sizeof(ProcessMemoryRead));
   for (size_t i = 0; i < len; i++)
      items[i] = (ProcessMemoryRead){ .remote = this->pointers[i], .local = this->gBuffer + i * gsize, .size = gsize };
   *readOk = ProcessMemory_readBatch(pid, items, len);
   for (size_t i = 0; i < len; i++) {
      if (items[i].got != gsize || !plausiblePointer(this->pointers[i]))
         this->pointers[i] = 0; /* unreadable: skipped */
   }
   free(items);
   return true;
}

static bool isLive(uint32_t status, int minor) {
   uint32_t s = status & ~(uint32_t)GO_G_SCAN;
   if (s == GO_G_IDLE || s == GO_G_DEAD)
      return false;
   return !(minor >= 26 && s == GO_G_DEADEXTRA);
}

static bool powerOfTwo(uint64_t v) {
   return v && (v & (v - 1)) == 0;
}

/* F8's per-g checks: a plausible stack (a power of two of at least 2 KiB)
 * and sched.g pointing back at the g. */
static bool parseG(const GoSnapshot* this, uint64_t addr, const uint8_t* g, GoRoutine* r) {
   const GoGOffsets* o = &this->bin->layout->g;
   *r = (GoRoutine){
      .g = addr,
      .status = u32At(g + o->status),
      .goid = u64At(g + o->goid),
      .parentGoid = o->parentGoid ? u64At(g + o->parentGoid) : 0,
      .stackLo = u64At(g + o->stackLo),
      .stackHi = u64At(g + o->stackHi),
      .waitSince = (int64_t)u64At(g + o->waitSince),
      .waitReason = g[o->waitReason],
      .lockedToThread = u64At(g + o->lockedM) != 0,
      .goPc = u64At(g + o->goPc),
      .startPc = u64At(g + o->startPc),
      .labelsPtr = u64At(g + o->labels),
      .m = u64At(g + o->m),
      .pc = u64At(g + o->schedPc),
      .sp = u64At(g + o->schedSp),
   };
   uint64_t syscallSp = u64At(g + o->syscallSp);
   if (syscallSp) {
      r->pc = u64At(g + o->syscallPc);
      r->sp = syscallSp;
      r->inSyscall = true;
   }
   return u64At(g + o->schedG) == addr && r->stackHi > r->stackLo && powerOfTwo(r->stackHi - r->stackLo) &&
          r->stackHi - r->stackLo >= 2048 && r->goid > 0;
}

/* A running goroutine runs on the thread whose SP lies in its stack (F4.1):
 * its registers and copied stack replace the stale g.sched. */
static void takeThread(GoRoutine* r, const Snapshot* snap) {
   for (size_t i = 0; i < snap->threadCount; i++) {
      const SnapshotThread* t = &snap->threads[i];
      if (!t->captured || Arch_sp(&t->regs) < r->stackLo || Arch_sp(&t->regs) >= r->stackHi)
         continue;
      r->pc = Arch_pc(&t->regs);
      r->sp = Arch_sp(&t->regs);
      r->trap = true;
      r->tid = t->tid;
      uint64_t end = t->stackStart + t->stackSize;
      if (t->stack && r->sp >= t->stackStart && r->sp < end) {
         r->stackStart = r->sp;
         r->stack = t->stack + (r->sp - t->stackStart);
         r->stackSize = (size_t)((end < r->stackHi ? end : r->stackHi) - r->sp);
         r->truncated = end < r->stackHi;
      }
      return;
   }
   /* On the system or signal stack: g.sched is right if it was just saved
    * (systemstack), and points into the goroutine's stack then. */
   if (r->sp < r->stackLo || r->sp >= r->stackHi || !r->pc)
      r->state = GO_STACK_UNAVAILABLE;
}

static void collect(GoSnapshot* this, const Snapshot* snap, size_t len, size_t* bad) {
   size_t gsize = this->bin->layout->g.size;
   this->count = 0;
   *bad = 0;
   for (size_t i = 0; i < len; i++) {
      if (!this->pointers[i])
         continue;
      const uint8_t* g = this->gBuffer + i * gsize;
      if (!isLive(u32At(g + this->bin->layout->g.status), this->bin->minor))
         continue;
      GoRoutine* r = &this->routines[this->count];
      if (!parseG(this, this->pointers[i], g, r)) {
         (*bad)++;
         continue;
      }
      uint32_t status = r->status & ~(uint32_t)GO_G_SCAN;
      if (status == GO_G_RUNNING && !r->inSyscall)
         takeThread(r, snap);
      if (status == GO_G_COPYSTACK)
         r->state = GO_STACK_MOVING;
      if (r->state == GO_STACK_OK && !r->stack && (r->sp < r->stackLo || r->sp > r->stackHi)) {
         r->state = GO_STACK_UNREADABLE;
         this->unreadableCount++;
      }
      this->count++;
   }
}

/* The window of a goroutine's stack to read: from its SP to the top, capped. */
static size_t windowOf(const GoSnapshot* this, GoRoutine* r) {
   if (r->stack || r->state != GO_STACK_OK)
      return 0;
   uint64_t size = r->stackHi - r->sp;
   r->truncated = size > this->options.perGoroutineCap;
   return (size_t)(r->truncated ? this->options.perGoroutineCap : size);
}

static void readStacks(GoSnapshot* this, pid_t pid, GoRoutine** list, size_t n, uint8_t* arena) {
   ProcessMemoryRead* items = Util_xcalloc(n ? n : 1, sizeof(ProcessMemoryRead));
   size_t used = 0;
   for (size_t i = 0; i < n; i++) {
      size_t size = windowOf(this, list[i]);
      items[i] = (ProcessMemoryRead){ .remote = list[i]->sp, .local = arena + used, .size = size };
      list[i]->stackStart = list[i]->sp;
      list[i]->stack = arena + used;
      used += size;
   }
   ProcessMemory_readBatch(pid, items, n);
   for (size_t i = 0; i < n; i++) {
      list[i]->stackSize = items[i].got;
      if (items[i].got < 8) {
         list[i]->state = GO_STACK_UNREADABLE;
         this->unreadableCount++;
      }
   }
   free(items);
}

/* Stacks that fit the budget now; the rest are left for phase 3, and all of
 * them when the pause has reached its deadline (--timeout) already. */
static void readStoppedStacks(GoSnapshot* this, pid_t pid, bool pastDeadline) {
   GoRoutine** list = Util_xcalloc(this->count ? this->count : 1, sizeof(GoRoutine*));
   size_t n = 0, total = 0;
   for (size_t i = 0; i < this->count; i++) {
      GoRoutine* r = &this->routines[i];
      size_t size = windowOf(this, r);
      if (!size)
         continue;
      if (pastDeadline || total + size > this->stackArenaSize || !this->stackArena) {
         r->late = true;
         this->lateCount++;
         continue;
      }
      total += size;
      list[n++] = r;
   }
   readStacks(this, pid, list, n, this->stackArena);
   free(list);
}

/* Go keeps the running g in the thread's TLS (F4.1): at fs_base - 8 when
 * the executable's PT_TLS block is one word (Go's own linker, and cgo
 * binaries whose C code has no thread-locals), else at the start of the
 * executable's block. Then that g's m, the M the thread is. */
static void readThreadMs(GoSnapshot* this, const Snapshot* snap, pid_t pid) {
   size_t n = snap->threadCount;
   this->threadCount = n;
   this->threadMs = Util_xcalloc(n ? n : 1, sizeof(uint64_t));
   this->threadTids = Util_xcalloc(n ? n : 1, sizeof(pid_t));
   uint64_t* gs = Util_xcalloc(n ? n : 1, sizeof(uint64_t));
   ProcessMemoryRead* items = Util_xcalloc(n ? n : 1, sizeof(ProcessMemoryRead));
   uint64_t tlsOffset = this->tlsBlock ? this->tlsBlock : 8;
   for (size_t i = 0; i < n; i++) {
      const SnapshotThread* t = &snap->threads[i];
      this->threadTids[i] = t->tid;
      uint64_t fs = t->captured ? Arch_threadPointer(&t->regs) : 0;
      items[i] = (ProcessMemoryRead){ .remote = fs > tlsOffset ? fs - tlsOffset : 0, .local = &gs[i], .size = 8 };
   }
   ProcessMemory_readBatch(pid, items, n);
   for (size_t i = 0; i < n; i++) {
      bool ok = items[i].got == 8 && plausiblePointer(gs[i]);
      items[i] = (ProcessMemoryRead){ .remote = ok ? gs[i] + this->bin->layout->g.m : 0,
                                      .local = &this->threadMs[i],
                                      .size = ok ? 8 : 0 };
   }
   ProcessMemory_readBatch(pid, items, n);
   free(items);
   free(gs);
}

const GoRoutine* GoSnapshot_routineOfThread(const GoSnapshot* this, pid_t tid) {
   uint64_t m = 0;
   for (size_t i = 0; i < this->threadCount && !m; i++)
      if (this->threadTids[i] == tid)
         m = this->threadMs[i];
   if (!plausiblePointer(m))
      return NULL;
   for (size_t i = 0; i < this->count; i++) {
      const GoRoutine* r = &this->routines[i];
      uint32_t s = r->status & ~(uint32_t)GO_G_SCAN;
      if (r->m == m && (s == GO_G_RUNNING || s == GO_G_SYSCALL) && r->state == GO_STACK_OK && !r->tid && r->stack)
         return r;
   }
   return NULL;
}

void GoSnapshot_readStopped(GoSnapshot* this, const Snapshot* snap, pid_t memPid) {
   if (this->error[0])
      return;
   double start = nowMs();
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   this->nanotime = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
   uint64_t ptr, len;
   size_t readOk = 0, bad = 0;
   if (snap->deadline > 0 && Util_monotonicSeconds() > snap->deadline) {
      Util_format(this->error, sizeof(this->error),
                  "the pause reached --timeout before the goroutines could be read; retry, or raise --timeout");
      return;
   }
   if (!readHeader(this, memPid, &ptr, &len))
      return;
   if (!readGs(this, memPid, ptr, &len, &readOk)) {
      Util_format(this->error, sizeof(this->error), "cannot read the %lu goroutine structures of runtime.allgs",
                  (unsigned long)len);
      return;
   }
   this->allgLen = (size_t)len;
   collect(this, snap, (size_t)len, &bad);
   if (bad * 100 > (this->count + bad) * BAD_G_PERCENT) {
      Util_format(this->error, sizeof(this->error),
                  "goroutine structures do not match the Go 1.%d layout (%zu of %zu fail the checks); showing "
                  "threads only",
                  this->bin->minor, bad, this->count + bad);
      this->count = 0;
      return;
   }
   readStoppedStacks(this, memPid, snap->deadline > 0 && Util_monotonicSeconds() > snap->deadline);
   this->stoppedReadMs = nowMs() - start;
}

/* ---- phase 3: after ------------------------------------------------------------ */

/* The fields a late stack depends on, read again: if any moved, the stack
 * read in between may mix two states. */
static void recheck(GoSnapshot* this, pid_t pid, GoRoutine** list, size_t n) {
   const GoGOffsets* o = &this->bin->layout->g;
   size_t gsize = o->size;
   uint8_t* buf = Util_xmalloc(n * gsize + 1);
   ProcessMemoryRead* items = Util_xcalloc(n ? n : 1, sizeof(ProcessMemoryRead));
   for (size_t i = 0; i < n; i++)
      items[i] = (ProcessMemoryRead){ .remote = list[i]->g, .local = buf + i * gsize, .size = gsize };
   ProcessMemory_readBatch(pid, items, n);
   for (size_t i = 0; i < n; i++) {
      GoRoutine now;
      GoRoutine* r = list[i];
      if (r->state != GO_STACK_OK)
         continue;
      bool same = items[i].got == gsize && parseG(this, r->g, buf + i * gsize, &now) && now.status == r->status &&
                  now.goid == r->goid && now.sp == r->sp && now.pc == r->pc && now.stackLo == r->stackLo &&
                  now.stackHi == r->stackHi;
      if (!same) {
         r->state = GO_STACK_CHANGED;
         this->changedCount++;
      }
   }
   free(items);
   free(buf);
}

static void readLateStacks(GoSnapshot* this, pid_t pid) {
   if (!this->lateCount)
      return;
   GoRoutine** list = Util_xcalloc(this->lateCount, sizeof(GoRoutine*));
   size_t n = 0, total = 0;
   for (size_t i = 0; i < this->count; i++) {
      GoRoutine* r = &this->routines[i];
      if (r->late) {
         list[n++] = r;
         total += windowOf(this, r);
      }
   }
   this->lateArena = Util_xmalloc(total + 1);
   readStacks(this, pid, list, n, this->lateArena);
   recheck(this, pid, list, n);
   free(list);
}

/* ---- labels ------------------------------------------------------------------ */

/* Go's %q for a label key or value (strconv.Quote): escapes for quotes,
 * backslashes and control bytes, \x for bytes that are not UTF-8, the rest
 * as is. */
static void appendQuoted(char** buf, size_t* len, size_t* cap, const uint8_t* s, size_t n) {
   Util_growArray((void**)buf, cap, *len + 4 * n + 3, 1);
   char* out = *buf + *len;
   *out++ = '"';
   for (size_t i = 0; i < n; i++) {
      uint8_t c = s[i];
      static const char escapes[] = "\a\b\f\n\r\t\v";
      static const char letters[] = "abfnrtv";
      const char* e = c ? memchr(escapes, c, sizeof(escapes) - 1) : NULL;
      if (c == '"' || c == '\\') {
         *out++ = '\\';
         *out++ = (char)c;
      } else if (e) {
         *out++ = '\\';
         *out++ = letters[e - escapes];
      } else if (c < 0x20 || c == 0x7f) {
         out += sprintf(out, "\\x%02x", c);
      } else if (c < 0x80) {
         *out++ = (char)c;
      } else {
         size_t seq = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
         bool valid = seq && i + seq <= n;
         for (size_t k = 1; valid && k < seq; k++)
            valid = (s[i + k] & 0xc0) == 0x80;
         if (!valid) {
            out += sprintf(out, "\\x%02x", c);
            continue;
         }
         memcpy(out, s + i, seq);
         out += seq;
         i += seq - 1;
      }
   }
   *out++ = '"';
   *len = (size_t)(out - *buf);
}

typedef struct LabelSet_ {
   char* pairs[MAX_LABELS]; /* `"k":"v"`, owned */
   size_t count;
} LabelSet;

static bool readGoString(pid_t pid, uint64_t ptr, uint64_t len, uint8_t* out) {
   return len <= MAX_LABEL_BYTES &&
          (len == 0 || (plausibleAnyPointer(ptr) && ProcessMemory_read(pid, ptr, out, (size_t)len)));
}

/* A key/value pair of Go strings {kptr, klen, vptr, vlen}. */
static void addPair(LabelSet* set, pid_t pid, const uint8_t* kv) {
   uint8_t key[MAX_LABEL_BYTES], value[MAX_LABEL_BYTES];
   uint64_t klen = u64At(kv + 8), vlen = u64At(kv + 24);
   if (set->count >= MAX_LABELS || !readGoString(pid, u64At(kv), klen, key) ||
       !readGoString(pid, u64At(kv + 16), vlen, value))
      return;
   char* buf = NULL;
   size_t len = 0, cap = 0;
   appendQuoted(&buf, &len, &cap, key, (size_t)klen);
   buf[len++] = ':';
   appendQuoted(&buf, &len, &cap, value, (size_t)vlen);
   buf[len] = '\0';
   set->pairs[set->count++] = buf;
}

/* Go 1.24+: labelMap{LabelSet{list []label{key, value string}}}. */
static bool readLabelSlice(LabelSet* set, pid_t pid, uint64_t ptr) {
   uint64_t hdr[3];
   if (!ProcessMemory_read(pid, ptr, hdr, sizeof(hdr)) || hdr[1] > MAX_LABELS || hdr[1] > hdr[2])
      return false;
   if (hdr[1] == 0)
      return true;
   uint8_t list[MAX_LABELS * 32];
   if (!plausiblePointer(hdr[0]) || !ProcessMemory_read(pid, hdr[0], list, (size_t)hdr[1] * 32))
      return false;
   for (size_t i = 0; i < hdr[1]; i++)
      addPair(set, pid, list + 32 * i);
   return true;
}

/* Up to 1.23: map[string]string. Buckets of 8 slots: tophash[8], keys
 * [8]string, values [8]string, overflow pointer (272 bytes on amd64); a slot
 * is in use when its tophash is at least 5 (minTopHash). */
static void readMapBucket(LabelSet* set, pid_t pid, uint64_t bucket) {
   for (int hops = 0; plausiblePointer(bucket) && hops < MAX_OVERFLOW_BUCKETS; hops++) {
      uint8_t b[272];
      if (!ProcessMemory_read(pid, bucket, b, sizeof(b)))
         return;
      for (int slot = 0; slot < 8; slot++) {
         if (b[slot] < 5)
            continue;
         uint8_t kv[32];
         memcpy(kv, b + 8 + 16 * slot, 16);
         memcpy(kv + 16, b + 8 + 128 + 16 * slot, 16);
         addPair(set, pid, kv);
      }
      bucket = u64At(b + 264);
   }
}

static bool readLabelMap(LabelSet* set, pid_t pid, uint64_t ptr) {
   uint64_t hmapPtr;
   uint8_t h[32];
   if (!ProcessMemory_read(pid, ptr, &hmapPtr, sizeof(hmapPtr)))
      return false;
   if (hmapPtr == 0)
      return true; /* a nil map: an empty label set */
   if (!plausiblePointer(hmapPtr) || !ProcessMemory_read(pid, hmapPtr, h, sizeof(h)))
      return false;
   uint64_t count = u64At(h), buckets = u64At(h + 16);
   unsigned b = h[9];
   if (count > MAX_LABELS || (1u << (b < 8 ? b : 8)) > MAX_MAP_BUCKETS)
      return false;
   for (unsigned i = 0; count && i < (1u << b); i++)
      readMapBucket(set, pid, buckets + 272 * (uint64_t)i);
   return true;
}

static int comparePairs(const void* a, const void* b) {
   return strcmp(*(char* const*)a, *(char* const*)b);
}

/* `{"k":"v", "k2":"v2"}` with the pairs sorted, as labelMap.String prints. */
static char* readLabels(const GoSnapshot* this, pid_t pid, uint64_t ptr) {
   LabelSet set = { .count = 0 };
   bool valid = this->bin->layout->labelsAreSlice ? readLabelSlice(&set, pid, ptr) : readLabelMap(&set, pid, ptr);
   if (!valid)
      return NULL;
   qsort(set.pairs, set.count, sizeof(char*), comparePairs);
   size_t len = 3;
   for (size_t i = 0; i < set.count; i++)
      len += strlen(set.pairs[i]) + 2;
   char* out = Util_xmalloc(len);
   strcpy(out, "{");
   for (size_t i = 0; i < set.count; i++) {
      if (i)
         strcat(out, ", ");
      strcat(out, set.pairs[i]);
      free(set.pairs[i]);
   }
   strcat(out, "}");
   return out;
}

void GoSnapshot_readAfter(GoSnapshot* this, const Snapshot* snap) {
   if (this->error[0] || !this->routines)
      return;
   pid_t memPid = snap->memPid;
   double start = nowMs();
   readThreadMs(this, snap, memPid);
   readLateStacks(this, memPid);
   for (size_t i = 0; i < this->count; i++) {
      GoRoutine* r = &this->routines[i];
      if (plausiblePointer(r->labelsPtr))
         r->labels = readLabels(this, memPid, r->labelsPtr);
   }
   this->afterReadMs = nowMs() - start;
}

void GoSnapshot_free(GoSnapshot* this) {
   if (!this)
      return;
   for (size_t i = 0; this->routines && i < this->count; i++)
      free(this->routines[i].labels);
   SharedMemory_free(this->routines, this->pointerCapacity * sizeof(GoRoutine));
   SharedMemory_free(this->pointers, this->pointerCapacity * sizeof(uint64_t));
   SharedMemory_free(this->gBuffer, this->gBufferSize);
   SharedMemory_free(this->stackArena, this->stackArenaSize);
   free(this->threadMs);
   free(this->threadTids);
   free(this->lateArena);
   SharedMemory_free(this, sizeof(*this));
}

bool GoSnapshot_readStackWord(void* routine, uint64_t addr, uint64_t* value) {
   const GoRoutine* r = routine;
   if (!r->stack || addr < r->stackStart || addr - r->stackStart > r->stackSize ||
       r->stackSize - (addr - r->stackStart) < sizeof(*value))
      return false;
   memcpy(value, r->stack + (addr - r->stackStart), sizeof(*value));
   return true;
}
