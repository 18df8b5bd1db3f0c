#ifndef STACKTOP_GOSNAPSHOT_H
#define STACKTOP_GOSNAPSHOT_H
/* The goroutines of a Go process, read from outside at one instant: no
 * agent, no endpoint. In three phases around Snapshot's stop:
 *  1. prepare (process running): the executable's GoBinary (version,
 *     pclntab, layout), runtime.allgs located and validated against live
 *     memory (symbol table, else runtime.allgadd's code, else a .bss scan),
 *     buffers allocated and faulted in;
 *  2. stopped (every thread ptrace-stopped): the allgs slice, every g struct
 *     and the live part of each goroutine's stack, in batched
 *     process_vm_readv; running goroutines take their thread's registers;
 *  3. after (process running again): the stacks that would have made the
 *     pause long (each re-checked against its g afterwards), and labels.
 * Phase 2 runs in Snapshot's helper process: the GoSnapshot itself and
 * everything phase 2 writes are in SharedMemory allocated in phase 1.
 * Nothing here unwinds or formats (GoProfile does). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stacktop/GoBinary.h"
#include "stacktop/Snapshot.h"

struct ElfCache_;

typedef enum GoStackState_ {
   GO_STACK_OK,
   GO_STACK_UNREADABLE,  /* process_vm_readv could not read it */
   GO_STACK_CHANGED,     /* read after the resume, and the goroutine had moved on */
   GO_STACK_UNAVAILABLE, /* running on a signal or system stack: its own stack's top is unknown */
   GO_STACK_MOVING,      /* _Gcopystack: the runtime is moving it */
} GoStackState;

typedef struct GoRoutine_ {
   uint64_t g;      /* address of its runtime.g */
   uint32_t status; /* atomicstatus, the _Gscan bit included */
   uint64_t goid, parentGoid;
   uint64_t stackLo, stackHi;
   int64_t waitSince; /* nanotime (CLOCK_MONOTONIC ns), 0 when unset */
   uint8_t waitReason;
   bool lockedToThread;
   uint64_t goPc, startPc; /* target addresses */
   uint64_t m;             /* its runtime.m while running or in a system call, else 0 */
   uint64_t labelsPtr;
   char* labels; /* Go's rendering, `{"k":"v", ...}`, or NULL; owned */
   /* Where unwinding starts. */
   uint64_t pc, sp;
   bool trap;      /* pc is an interrupted instruction (thread registers) */
   bool inSyscall; /* started from g.syscallpc/sp: in a system call or a cgo call */
   pid_t tid;      /* the thread running it, 0 when not running */
   /* The live part of its stack: [stackStart, stackStart + stackSize). */
   uint64_t stackStart;
   const uint8_t* stack; /* in the snapshot's arena or the thread's copy */
   size_t stackSize;
   bool late;      /* read after the process resumed */
   bool truncated; /* longer than the per-goroutine cap: read its top part only */
   GoStackState state;
} GoRoutine;

typedef struct GoSnapshotOptions_ {
   /* Stacks are read while stopped up to this many bytes in all; past it,
    * parked goroutines' stacks are read after the resume (with a recheck). */
   size_t stoppedStackBudget;
   size_t perGoroutineCap; /* bytes of one goroutine's stack read at most */
} GoSnapshotOptions;

#define GO_SNAPSHOT_DEFAULT_STOPPED_BUDGET ((size_t)4 << 20)
#define GO_SNAPSHOT_DEFAULT_PER_GOROUTINE ((size_t)256 << 10)

typedef struct GoSnapshot_ {
   const GoBinary* bin;
   uint64_t bias;  /* target address - link-time address of the executable */
   uint64_t allgs; /* target address of runtime.allgs */
   const char* allgsSource;
   GoSnapshotOptions options;
   GoRoutine* routines; /* live goroutines (not dead, not idle), in allgs order; owned */
   size_t count;
   size_t allgLen;          /* entries of allgs, dead ones included */
   size_t lateCount;        /* stacks read after the resume */
   size_t missedGoroutines; /* created so fast since phase 1 that they did not fit */
   size_t changedCount;
   size_t unreadableCount;
   int64_t nanotime; /* CLOCK_MONOTONIC ns while stopped, for "N minutes" */
   double stoppedReadMs, afterReadMs;
   char error[256]; /* set: no goroutines (one line why); the thread view goes on */
   /* Internal buffers. */
   uint8_t* gBuffer;
   size_t gBufferSize;
   uint8_t* stackArena; /* stacks read while stopped (prefaulted) */
   size_t stackArenaSize;
   uint8_t* lateArena; /* stacks read after the resume */
   uint64_t* pointers;
   size_t pointerCapacity;
   uint64_t tlsBlock; /* bytes of the executable's TLS block below fs_base (0: Go's one word) */
   /* Per thread of the snapshot (same order): the runtime.m it runs, 0 when
    * unknown; its goroutine is the running one with the same m. */
   uint64_t* threadMs;
   size_t threadCount;
   pid_t* threadTids;
} GoSnapshot;

/* Phase 1, from Snapshot's before-stop hook: NULL when the process is not Go
 * (then nothing else is done); a Go process whose goroutines cannot be read
 * gets a snapshot with `error` set. The cache must outlive the snapshot. */
GoSnapshot* GoSnapshot_prepare(pid_t pid, const Maps* maps, struct ElfCache_* cache, const GoSnapshotOptions* options);
/* Phase 1 for a binary already described and its load bias (the part of
 * GoSnapshot_prepare after finding the executable). */
GoSnapshot* GoSnapshot_prepareBinary(pid_t pid, const GoBinary* bin, uint64_t bias, const GoSnapshotOptions* options);
/* Phase 2, from Snapshot's while-stopped hook. */
void GoSnapshot_readStopped(GoSnapshot* this, const Snapshot* snap, pid_t memPid);
/* Phase 3, after Snapshot_take returned (threads released). */
void GoSnapshot_readAfter(GoSnapshot* this, const Snapshot* snap);
void GoSnapshot_free(GoSnapshot* this);

/* The goroutine thread tid was running for, when it is on its system stack
 * (runtime.systemstack, mcall): its user frames continue there. NULL when
 * the thread runs none, or its goroutine's stack was not read. */
const GoRoutine* GoSnapshot_routineOfThread(const GoSnapshot* this, pid_t tid);

/* Reads the 8-byte word at addr from a goroutine's copied stack (GoReadWord). */
bool GoSnapshot_readStackWord(void* routine, uint64_t addr, uint64_t* value);

#endif
