#ifndef STACKTOP_JOBS_H
#define STACKTOP_JOBS_H
/* The watcher's background work: bundles (stack dumps, pprof fetches,
 * compression), mail delivery and exec hooks each run in a child process
 * forked from the sampling loop, so the loop never waits on any of them.
 *
 * A child process rather than a thread, because each job then has a hard
 * deadline that needs no cooperation (SIGKILL to its process group, which
 * also takes whatever a hook started), a crash or a leak in one job (a
 * hostile ELF file, a 469 MB stack copy) cannot touch the watcher, and every
 * job starts from a copy-on-write snapshot of the sampler's table taken at
 * fork time. The loop itself stays single-threaded, so fork is safe. A child
 * dies with the watcher (PR_SET_PDEATHSIG), so no job outlives it.
 *
 * A job reports back through a pipe (a short text) and its exit status; the
 * parent notices the end through SIGCHLD (the caller wakes its loop) and
 * Jobs_poll. */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define JOB_RESULT_MAX 4096

typedef struct JobOutcome_ {
   int status;     /* exit status 0..255, or -1 when it was killed */
   bool timedOut;  /* killed at its deadline */
   bool stopped;   /* killed because the watcher is stopping */
   int signal;     /* the signal that ended it, 0 if it exited */
   double seconds; /* how long it ran */
   long maxRssKiB; /* its peak resident memory */
   char result[JOB_RESULT_MAX];
} JobOutcome;

/* Runs in the child; its return value is the exit status. resultFd takes
 * the report (at most JOB_RESULT_MAX bytes). */
typedef int (*JobRun)(void* arg, int resultFd);
/* Runs in the parent, from Jobs_poll or Jobs_stopAll, once per job. */
typedef void (*JobDone)(void* ctx, const JobOutcome* outcome);

typedef struct JobSpec_ {
   const char* label; /* for the log: "bundle NAME", "mail NAME" */
   int kind;          /* the caller's category, for Jobs_running */
   double timeoutS;   /* hard deadline, from the start */
   JobRun run;
   void* arg; /* read by the child from its copy of memory */
   JobDone done;
   void* ctx;
} JobSpec;

typedef struct Jobs_ Jobs;

Jobs* Jobs_new(void);
/* Kills what still runs (without calling done) and frees. */
void Jobs_free(Jobs* this);
/* An fd of the parent's that children must not keep (a self-pipe). */
void Jobs_closeInChildren(Jobs* this, int fd);
/* A function every child runs right after fork, for fds that come and go
 * (a listener's connections); it must be async-signal-safe. One per Jobs. */
void Jobs_onChild(Jobs* this, void (*fn)(void* ctx), void* ctx);
/* Starts a job. Returns 0, or -1 with a message (fork failed). */
int Jobs_start(Jobs* this, const JobSpec* spec, char* err, size_t errSize);
/* Reaps the jobs that ended and kills those past their deadline, calling
 * done for each. Never blocks. */
void Jobs_poll(Jobs* this);
/* The earliest deadline of a running job (monotonic seconds), 0 if none. */
double Jobs_nextDeadline(const Jobs* this);
/* Running jobs of a kind (kind < 0: all). */
size_t Jobs_running(const Jobs* this, int kind);
/* The watcher stops: waits at most graceS for running jobs, then kills
 * them; done is called for each (stopped set for the killed ones). */
void Jobs_stopAll(Jobs* this, double graceS);

/* For a child that must leave at once (its parent is gone): _exit. */
void Jobs_childExit(int status) __attribute__((noreturn));

#endif
