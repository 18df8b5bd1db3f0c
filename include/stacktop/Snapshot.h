#ifndef STACKTOP_SNAPSHOT_H
#define STACKTOP_SNAPSHOT_H
/* A consistent snapshot of every thread of a process: all threads stopped at
 * once (PTRACE_SEIZE + PTRACE_INTERRUPT, task list rescanned until stable),
 * registers and the live part of each stack copied out in bulk, /proc/PID/maps
 * read, then every thread detached (by the tracer thread's exit). Nothing here unwinds or symbolizes: the
 * target runs again before any of that starts. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "stacktop/Dump.h"
#include "stacktop/Maps.h"

typedef struct SnapshotThread_ {
   pid_t tid;
   char name[16];
   char state;    /* /proc state letter read just before stopping it */
   bool captured; /* stopped in time: regs and stack are valid */
   struct user_regs_struct regs;
   uint64_t stackStart; /* target address of stack[0] */
   uint8_t* stack;      /* copy of [stackStart, stackStart+stackSize), in the arena */
   size_t stackSize;
} SnapshotThread;

typedef struct Snapshot_ {
   pid_t pid;
   char comm[16];
   SnapshotThread* threads; /* by discovery order; owned */
   size_t threadCount;
   Maps maps;   /* as read around the stop */
   void* arena; /* one mapping holding every stack copy; owned */
   size_t arenaSize;
   double stoppedMs;   /* first PTRACE_INTERRUPT to the tracer's exit (the detach) */
   size_t lateThreads; /* threads that did not stop within the timeout */
} Snapshot;

typedef struct SnapshotOptions_ {
   double timeoutS;      /* bound on the wait for all threads to stop */
   bool detachOnSignal;  /* the CLI: let Snapshot's signal handlers detach */
   int holdMs;           /* test-only: keep the threads stopped this long */
   size_t maxStackBytes; /* cap on all stack copies together (0: none), see planStacks */
} SnapshotOptions;

/* Checks the pid (own pid, no process, zombie, kernel thread) and takes the
 * snapshot in a short-lived helper thread: it is the ptrace tracer, so if it
 * has to give up on a thread that never stopped, its exit makes the kernel
 * detach everything. Returns DUMP_OK, or an error with a one-line message. */
DumpError Snapshot_take(Snapshot* this, pid_t pid, const SnapshotOptions* options, char* err, size_t errSize);
void Snapshot_free(Snapshot* this);

/* For a command-line process: installs SIGINT/SIGTERM/SIGHUP/SIGQUIT handlers
 * that detach the threads of a snapshot in progress (taken with
 * detachOnSignal) and exit with 128+signal. Call once, before Snapshot_take. */
void Snapshot_installSignalHandlers(void);

#endif
