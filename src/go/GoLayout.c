/* Per-release facts about the Go runtime: see GoLayout.h. Sources: each
 * release's src/runtime/runtime2.go (type g, type m, waitReasonStrings),
 * src/internal/abi/symtab.go (FuncID), src/runtime/traceback.go and
 * src/runtime/mprof.go, read at the release tags. */
#include "stacktop/GoLayout.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- wait reasons ------------------------------------------------------- */

/* 1.16 to 1.19. */
static const char* const waitReasons117[] = {
   "",
   "GC assist marking",
   "IO wait",
   "chan receive (nil chan)",
   "chan send (nil chan)",
   "dumping heap",
   "garbage collection",
   "garbage collection scan",
   "panicwait",
   "select",
   "select (no cases)",
   "GC assist wait",
   "GC sweep wait",
   "GC scavenge wait",
   "chan receive",
   "chan send",
   "finalizer wait",
   "force gc (idle)",
   "semacquire",
   "sleep",
   "sync.Cond.Wait",
   "timer goroutine (idle)",
   "trace reader (blocked)",
   "wait for GC cycle",
   "GC worker (idle)",
   "preempted",
   "debug call",
};

/* 1.20 and 1.21 (the first 32), 1.22 and 1.23 (all 37). */
static const char* const waitReasons120[] = {
   "",
   "GC assist marking",
   "IO wait",
   "chan receive (nil chan)",
   "chan send (nil chan)",
   "dumping heap",
   "garbage collection",
   "garbage collection scan",
   "panicwait",
   "select",
   "select (no cases)",
   "GC assist wait",
   "GC sweep wait",
   "GC scavenge wait",
   "chan receive",
   "chan send",
   "finalizer wait",
   "force gc (idle)",
   "semacquire",
   "sleep",
   "sync.Cond.Wait",
   "sync.Mutex.Lock",
   "sync.RWMutex.RLock",
   "sync.RWMutex.Lock",
   "trace reader (blocked)",
   "wait for GC cycle",
   "GC worker (idle)",
   "GC worker (active)",
   "preempted",
   "debug call",
   "GC mark termination",
   "stopping the world",
   "flushing proc caches",
   "trace goroutine status",
   "trace proc status",
   "page trace flush",
   "coroutine",
};

static const char* const waitReasons124[] = {
   "",
   "GC assist marking",
   "IO wait",
   "chan receive (nil chan)",
   "chan send (nil chan)",
   "dumping heap",
   "garbage collection",
   "garbage collection scan",
   "panicwait",
   "select",
   "select (no cases)",
   "GC assist wait",
   "GC sweep wait",
   "GC scavenge wait",
   "chan receive",
   "chan send",
   "finalizer wait",
   "force gc (idle)",
   "semacquire",
   "sleep",
   "sync.Cond.Wait",
   "sync.Mutex.Lock",
   "sync.RWMutex.RLock",
   "sync.RWMutex.Lock",
   "sync.WaitGroup.Wait",
   "trace reader (blocked)",
   "wait for GC cycle",
   "GC worker (idle)",
   "GC worker (active)",
   "preempted",
   "debug call",
   "GC mark termination",
   "stopping the world",
   "flushing proc caches",
   "trace goroutine status",
   "trace proc status",
   "page trace flush",
   "coroutine",
   "GC weak to strong wait",
   "synctest.Run",
   "synctest.Wait",
   "chan receive (synctest)",
   "chan send (synctest)",
   "select (synctest)",
};

static const char* const waitReasons125[] = {
   "",
   "GC assist marking",
   "IO wait",
   "chan receive (nil chan)",
   "chan send (nil chan)",
   "dumping heap",
   "garbage collection",
   "garbage collection scan",
   "panicwait",
   "select",
   "select (no cases)",
   "GC assist wait",
   "GC sweep wait",
   "GC scavenge wait",
   "chan receive",
   "chan send",
   "finalizer wait",
   "force gc (idle)",
   "GOMAXPROCS updater (idle)",
   "semacquire",
   "sleep",
   "sync.Cond.Wait",
   "sync.Mutex.Lock",
   "sync.RWMutex.RLock",
   "sync.RWMutex.Lock",
   "sync.WaitGroup.Wait",
   "trace reader (blocked)",
   "wait for GC cycle",
   "GC worker (idle)",
   "GC worker (active)",
   "preempted",
   "debug call",
   "GC mark termination",
   "stopping the world",
   "flushing proc caches",
   "trace goroutine status",
   "trace proc status",
   "page trace flush",
   "coroutine",
   "GC weak to strong wait",
   "synctest.Run",
   "synctest.Wait",
   "chan receive (durable)",
   "chan send (durable)",
   "select (durable)",
   "sync.WaitGroup.Wait (durable)",
   "cleanup wait",
};

/* 1.26 reordered the enum (the sync and channel waits became ranges). */
static const char* const waitReasons126[] = {
   "",
   "GC assist marking",
   "IO wait",
   "dumping heap",
   "garbage collection",
   "garbage collection scan",
   "panicwait",
   "GC assist wait",
   "GC sweep wait",
   "GC scavenge wait",
   "finalizer wait",
   "force gc (idle)",
   "GOMAXPROCS updater (idle)",
   "semacquire",
   "sleep",
   "chan receive (nil chan)",
   "chan send (nil chan)",
   "select (no cases)",
   "select",
   "chan receive",
   "chan send",
   "sync.Cond.Wait",
   "sync.Mutex.Lock",
   "sync.RWMutex.RLock",
   "sync.RWMutex.Lock",
   "sync.WaitGroup.Wait",
   "trace reader (blocked)",
   "wait for GC cycle",
   "GC worker (idle)",
   "GC worker (active)",
   "preempted",
   "debug call",
   "GC mark termination",
   "stopping the world",
   "flushing proc caches",
   "trace goroutine status",
   "trace proc status",
   "page trace flush",
   "coroutine",
   "GC weak to strong wait",
   "synctest.Run",
   "synctest.Wait",
   "chan receive (durable)",
   "chan send (durable)",
   "select (durable)",
   "sync.WaitGroup.Wait (durable)",
   "cleanup wait",
};

/* ---- g offsets -----------------------------------------------------------
 * Macros, not const objects: the table's rows copy them, and a copy of a
 * const object is not a constant initializer in C (gcc allows it, clang and
 * the analyzer do not). */

#define G117_OFFSETS                                                                                                   \
   {                                                                                                                   \
      .stackLo = 0x0, .stackHi = 0x8, .m = 0x30, .schedSp = 0x38, .schedPc = 0x40, .schedG = 0x48, .schedBp = 0x68,    \
      .syscallSp = 0x70, .syscallPc = 0x78, .syscallBp = 0, .status = 0x90, .goid = 0x98, .waitSince = 0xa8,           \
      .waitReason = 0xb0, .lockedM = 0xe8, .parentGoid = 0, .goPc = 0x128, .startPc = 0x138, .labels = 0x168,          \
      .size = 0x170,                                                                                                   \
   }

/* 1.21 dropped four trace fields before lockedm and added parentGoid. */
#define G121_OFFSETS                                                                                                   \
   {                                                                                                                   \
      .stackLo = 0x0, .stackHi = 0x8, .m = 0x30, .schedSp = 0x38, .schedPc = 0x40, .schedG = 0x48, .schedBp = 0x68,    \
      .syscallSp = 0x70, .syscallPc = 0x78, .syscallBp = 0, .status = 0x90, .goid = 0x98, .waitSince = 0xa8,           \
      .waitReason = 0xb0, .lockedM = 0xd0, .parentGoid = 0x110, .goPc = 0x118, .startPc = 0x128, .labels = 0x158,      \
      .size = 0x160,                                                                                                   \
   }

/* 1.23 added syscallbp after syscallpc. */
#define G123_OFFSETS                                                                                                   \
   {                                                                                                                   \
      .stackLo = 0x0, .stackHi = 0x8, .m = 0x30, .schedSp = 0x38, .schedPc = 0x40, .schedG = 0x48, .schedBp = 0x68,    \
      .syscallSp = 0x70, .syscallPc = 0x78, .syscallBp = 0x80, .status = 0x98, .goid = 0xa0, .waitSince = 0xb0,        \
      .waitReason = 0xb8, .lockedM = 0xd8, .parentGoid = 0x118, .goPc = 0x120, .startPc = 0x130, .labels = 0x160,      \
      .size = 0x168,                                                                                                   \
   }

/* 1.25 removed gobuf.ret (everything after sched moves up 8). */
#define G125_OFFSETS                                                                                                   \
   {                                                                                                                   \
      .stackLo = 0x0, .stackHi = 0x8, .m = 0x30, .schedSp = 0x38, .schedPc = 0x40, .schedG = 0x48, .schedBp = 0x60,    \
      .syscallSp = 0x68, .syscallPc = 0x70, .syscallBp = 0x78, .status = 0x90, .goid = 0x98, .waitSince = 0xa8,        \
      .waitReason = 0xb0, .lockedM = 0xd0, .parentGoid = 0x110, .goPc = 0x118, .startPc = 0x128, .labels = 0x158,      \
      .size = 0x160,                                                                                                   \
   }

/* 1.26 added a word between lockedm and parentGoid (read off the stores
 * of runtime.newproc1 and runtime.LockOSThread in go1.26.5 and go1.27.0
 * binaries: parentGoid 0x118, gopc 0x120, startpc 0x130, lockedm 0xd0). */
#define G126_OFFSETS                                                                                                   \
   {                                                                                                                   \
      .stackLo = 0x0, .stackHi = 0x8, .m = 0x30, .schedSp = 0x38, .schedPc = 0x40, .schedG = 0x48, .schedBp = 0x60,    \
      .syscallSp = 0x68, .syscallPc = 0x70, .syscallBp = 0x78, .status = 0x90, .goid = 0x98, .waitSince = 0xa8,        \
      .waitReason = 0xb0, .lockedM = 0xd0, .parentGoid = 0x118, .goPc = 0x120, .startPc = 0x130, .labels = 0x160,      \
      .size = 0x168,                                                                                                   \
   }

/* ---- the table ----------------------------------------------------------- */

static const GoLayout layouts[] = {
   { .fromMinor = 16,
     .toMinor = 17,
     .g = G117_OFFSETS,
     .mProcid = 0x48,
     .mCurg = 0xc0,
     .funcIdWrapper = 22,
     .waitReasons = waitReasons117,
     .waitReasonCount = COUNT(waitReasons117),
     .profileDepth = 32,
     .tracebackInner = 100,
     .tracebackOuter = 0 },
   { .fromMinor = 18,
     .toMinor = 19,
     .g = G117_OFFSETS,
     .mProcid = 0x48,
     .mCurg = 0xc0,
     .funcIdWrapper = 21,
     .waitReasons = waitReasons117,
     .waitReasonCount = COUNT(waitReasons117),
     .profileDepth = 32,
     .tracebackInner = 100,
     .tracebackOuter = 0 },
   { .fromMinor = 20,
     .toMinor = 20,
     .g = G117_OFFSETS,
     .mProcid = 0x48,
     .mCurg = 0xc0,
     .funcIdWrapper = 21,
     .waitReasons = waitReasons120,
     .waitReasonCount = 32,
     .profileDepth = 32,
     .tracebackInner = 100,
     .tracebackOuter = 0 },
   { .fromMinor = 21,
     .toMinor = 21,
     .g = G121_OFFSETS,
     .mProcid = 0x48,
     .mCurg = 0xc0,
     .funcIdWrapper = 21,
     .waitReasons = waitReasons120,
     .waitReasonCount = 32,
     .profileDepth = 32,
     .createdInGoroutine = true,
     .trapAfterPreempt = true,
     .tracebackInner = 50,
     .tracebackOuter = 50 },
   { .fromMinor = 22,
     .toMinor = 22,
     .g = G121_OFFSETS,
     .mProcid = 0x48,
     .mCurg = 0xc0,
     .funcIdWrapper = 22,
     .waitReasons = waitReasons120,
     .waitReasonCount = COUNT(waitReasons120),
     .profileDepth = 32,
     .createdInGoroutine = true,
     .trapAfterPreempt = true,
     .tracebackInner = 50,
     .tracebackOuter = 50 },
   { .fromMinor = 23,
     .toMinor = 23,
     .g = G123_OFFSETS,
     .mProcid = 0x48,
     .mCurg = 0xc0,
     .funcIdWrapper = 22,
     .waitReasons = waitReasons120,
     .waitReasonCount = COUNT(waitReasons120),
     .profileDepth = 128,
     .createdInGoroutine = true,
     .trapAfterPreempt = true,
     .tracebackInner = 50,
     .tracebackOuter = 50 },
   { .fromMinor = 24,
     .toMinor = 24,
     .g = G123_OFFSETS,
     .mProcid = 0x48,
     .mCurg = 0xc0,
     .funcIdWrapper = 22,
     .waitReasons = waitReasons124,
     .waitReasonCount = COUNT(waitReasons124),
     .profileDepth = 128,
     .createdInGoroutine = true,
     .trapAfterPreempt = true,
     .tracebackInner = 50,
     .tracebackOuter = 50,
     .labelsAreSlice = true },
   { .fromMinor = 25,
     .toMinor = 25,
     .g = G125_OFFSETS,
     .mProcid = 0x40,
     .mCurg = 0xb8,
     .funcIdWrapper = 23,
     .waitReasons = waitReasons125,
     .waitReasonCount = COUNT(waitReasons125),
     .profileDepth = 128,
     .createdInGoroutine = true,
     .trapAfterPreempt = true,
     .tracebackInner = 50,
     .tracebackOuter = 50,
     .labelsAreSlice = true },
   { .fromMinor = 26,
     .toMinor = 27,
     .g = G126_OFFSETS,
     .mProcid = 0x40,
     .mCurg = 0xb8,
     .funcIdWrapper = 23,
     .waitReasons = waitReasons126,
     .waitReasonCount = COUNT(waitReasons126),
     .profileDepth = 128,
     .createdInGoroutine = true,
     .trapAfterPreempt = true,
     .tracebackInner = 50,
     .tracebackOuter = 50,
     .labelsAreSlice = true },
};

const GoLayout* GoLayout_forVersion(int minor, bool* approximate) {
   *approximate = false;
   if (minor < layouts[0].fromMinor)
      return NULL;
   for (size_t i = 0; i < COUNT(layouts); i++) {
      if (minor >= layouts[i].fromMinor && minor <= layouts[i].toMinor)
         return &layouts[i];
   }
   *approximate = true;
   return &layouts[COUNT(layouts) - 1];
}

int GoLayout_newestKnown(void) {
   return layouts[COUNT(layouts) - 1].toMinor;
}

const char* GoLayout_statusName(uint32_t status) {
   static const char* const names[] = {
      [GO_G_IDLE] = "idle",           [GO_G_RUNNABLE] = "runnable",   [GO_G_RUNNING] = "running",
      [GO_G_SYSCALL] = "syscall",     [GO_G_WAITING] = "waiting",     [GO_G_DEAD] = "dead",
      [GO_G_COPYSTACK] = "copystack", [GO_G_PREEMPTED] = "preempted",
   };
   status &= ~(uint32_t)GO_G_SCAN;
   return status < COUNT(names) && names[status] ? names[status] : "???";
}
