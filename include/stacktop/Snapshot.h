#ifndef STACKTOP_SNAPSHOT_H
#define STACKTOP_SNAPSHOT_H
/* A consistent snapshot of every thread of a process: all threads stopped at
 * once (PTRACE_SEIZE + PTRACE_INTERRUPT, task list rescanned until stable),
 * registers and the live part of each stack copied out in bulk, then every
 * thread released. Nothing here unwinds or symbolizes: the target runs again
 * before any of that starts.
 *
 * The stop is done by a helper process forked for it, in a process group of
 * its own, that writes into memory shared with stacktop and exits (which
 * releases every thread) by its deadline whatever happens to stacktop:
 * Ctrl-Z or SIGSTOP (job control does not reach it), a debugger attached to
 * stacktop, stacktop crashing or killed (the helper dies with its parent). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stacktop/Arch.h"
#include "stacktop/Dump.h"
#include "stacktop/Maps.h"

typedef struct SnapshotThread_ {
   pid_t tid;
   char name[16];
   char state;    /* at the stop: S in a system call, R in user code; else /proc's letter after it */
   bool captured; /* stopped in time: regs and stack are valid */
   bool stackCut; /* the stack was longer than what was copied (the copy cap or the budget) */
   ArchRegs regs;
   uint64_t stackStart; /* target address of stack[0] */
   uint8_t* stack;      /* copy of [stackStart, stackStart+stackSize), in the arena */
   size_t stackSize;
   DumpKernelWait wait; /* !captured: where it waits in the kernel, read after the release (stack: heap) */
} SnapshotThread;

/* Where the pause went, for `dump -v`. */
typedef struct SnapshotPhases_ {
   double interruptMs; /* PTRACE_INTERRUPT of every thread */
   double waitMs;      /* until the last one was in its stop */
   double copyMs;      /* registers and stacks copied (and the while-stopped hook) */
   double releaseMs;   /* the helper's exit, which releases them, until stacktop saw it */
} SnapshotPhases;

typedef struct Snapshot_ {
   pid_t pid;
   pid_t memPid; /* whose memory to read: pid, or a live thread when the leader has exited */
   char comm[16];
   SnapshotThread* threads; /* by discovery order; in `shared` */
   size_t threadCount;
   Maps maps;    /* as read around the stop */
   void* shared; /* memory shared with the helper: threads and stack copies; owned */
   size_t sharedSize;
   double stoppedMs;      /* first PTRACE_INTERRUPT to the helper's exit (the release) */
   SnapshotPhases phases; /* the parts of stoppedMs */
   size_t lateThreads;    /* threads that did not stop within the timeout */
   size_t missedThreads;  /* threads that appeared during the stop beyond room or time */
   size_t cutStacks;      /* stacks copied in part (cap or budget) */
   size_t copiedBytes;    /* of stacks, while stopped */
   double deadline;       /* monotonic seconds by which the pause ends (valid in whileStopped) */
} Snapshot;

/* Called around the stop, with the snapshot so far: beforeStop in stacktop
 * before anything is stopped (maps read: the time for static work), and
 * whileStopped in the helper process while every thread is stopped
 * (registers and stacks copied: extra reads that must see the same instant,
 * like the goroutines of a Go process). Whatever whileStopped writes for
 * stacktop to read later must be in SharedMemory allocated before. */
typedef void (*SnapshotHook)(void* ctx, const Snapshot* snap);

typedef struct SnapshotOptions_ {
   SnapshotHook beforeStop;
   SnapshotHook whileStopped;
   void* hookCtx;
   double timeoutS;     /* bound on the whole pause: threads not stopped by then are missing */
   bool detachOnSignal; /* the CLI: let Snapshot's signal handlers release the target */
   /* Bound on all stack copies together (0: the default, 1 GiB): over it,
    * the deepest stacks lose their outer ends first (marked cut). */
   size_t maxCopyBytes;
   int holdMs; /* test builds only (STACKTOP_TEST_HOOKS): keep the threads stopped this long */
} SnapshotOptions;

/* Checks the pid (own pid, no process, zombie, kernel thread) and takes the
 * snapshot through the helper process: it is the ptrace tracer, so its exit
 * makes the kernel release everything, including a thread that never
 * stopped. Hooks run in the helper too (beforeStop in stacktop, before the
 * fork). Returns DUMP_OK, or an error with a one-line message. */
DumpError Snapshot_take(Snapshot* this, pid_t pid, const SnapshotOptions* options, char* err, size_t errSize);
void Snapshot_free(Snapshot* this);

/* For a command-line process: installs SIGINT/SIGTERM/SIGHUP/SIGQUIT handlers
 * that end the helper of a snapshot in progress (taken with detachOnSignal),
 * which releases its threads, and exit with 128+signal. Call once, before
 * Snapshot_take. */
void Snapshot_installSignalHandlers(void);

#endif
