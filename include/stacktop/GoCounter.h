#ifndef STACKTOP_GOCOUNTER_H
#define STACKTOP_GOCOUNTER_H
/* Goroutine counts of Go processes, read from outside at every refresh
 * without stopping anything: the runtime.allgs slice and each g's status
 * word, wait reason and start function, in a few batched process_vm_readv
 * calls. Counted like runtime.NumGoroutine(): live goroutines, the
 * runtime's own (system goroutines) left out. The static work is cached:
 * whether an executable is Go (by device and inode, from its section
 * headers: a few preads, so the thousands of non-Go processes of a host
 * cost one stat each), its GoBinary, and per process the load bias and
 * where allgs is. Reads race with the running program: a count is what the
 * slice held during the read, like NumGoroutine's own. Non-Go processes and
 * processes stacktop may not read get no count, never an error. Not
 * thread-safe: one counter per sampling thread. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum GoCountState_ {
   GO_COUNT_RUNNING,
   GO_COUNT_RUNNABLE,
   GO_COUNT_WAITING, /* parked: channel, select, lock, sleep, I/O wait... (by reason below) */
   GO_COUNT_SYSCALL,
   GO_COUNT_OTHER, /* copying its stack, preempted */
   GO_COUNT_STATES,
} GoCountState;

/* Wait reasons counted one by one (Go has about 40). */
#define GO_COUNT_REASONS 64

typedef struct GoCount_ {
   size_t total;                     /* like runtime.NumGoroutine() */
   size_t states[GO_COUNT_STATES];   /* of total */
   size_t reasons[GO_COUNT_REASONS]; /* waiting goroutines of total, by wait reason */
   size_t system;                    /* the runtime's own, not in total */
   /* Names of the reasons (the binary's own table); valid while the
    * counter lives. */
   const char* const* reasonNames;
   size_t reasonNameCount;
} GoCount;

typedef struct GoCounter_ GoCounter;

GoCounter* GoCounter_new(void);
void GoCounter_free(GoCounter* this);

/* The goroutines of pid now. startTime (/proc/PID/stat field 22) tells a
 * reused pid from the process that had it. False for a process that is
 * not Go or whose goroutines cannot be read (exited, not permitted, a
 * runtime stacktop cannot read); *out is then zeroed. */
bool GoCounter_read(GoCounter* this, pid_t pid, unsigned long long startTime, GoCount* out);
/* Forgets processes not read since the previous call: call once per
 * refresh, after reading. */
void GoCounter_sweep(GoCounter* this);

const char* GoCount_stateName(GoCountState state);
/* "chan receive", ...; "reason N" for one the binary does not name. */
const char* GoCount_reasonName(const GoCount* count, size_t reason);

#endif
