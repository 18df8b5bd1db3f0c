#ifndef STACKTOP_SAMPLER_H
#define STACKTOP_SAMPLER_H
/* The process table, read through libproc2's pids API (and its meminfo/stat
 * APIs for the system header). One Sampler owns one libproc2 context, so the
 * tick deltas behind CPU% are between two refreshes of the same Sampler.
 * Everything it hands out stays valid until the next Sampler_refresh(). */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "stacktop/History.h"

/* Task states counted in the header and in thread_states. Linux's 'I' (idle
 * kernel thread) counts as S and 't' (traced) as T, as top(1) does; 'X' as Z. */
typedef enum TaskState_ {
   TASK_R,
   TASK_S,
   TASK_D,
   TASK_T,
   TASK_Z,
   TASK_STATE_COUNT,
} TaskState;

/* "RSDTZ"[state]. */
char TaskState_letter(TaskState state);
/* Maps a /proc state letter to its counted state. */
TaskState TaskState_fromLetter(char letter);

typedef struct ThreadSample_ {
   pid_t tid;
   char name[16]; /* comm, NUL-terminated */
   char state;    /* raw /proc letter (R, S, D, t, T, Z, I, ...) */
   double cpuPct; /* share of one core over the last interval */
   double cpuTimeS;
   int nice;
   int processor;    /* CPU it last ran on */
   double startTime; /* CLOCK_REALTIME seconds */
} ThreadSample;

/* Per-process figures that cost a file of their own per process and
 * refresh, read only while something shows them (Sampler_setFields). */
typedef enum SamplerField_ {
   SAMPLER_FIELD_IO = 1 << 0,    /* /proc/PID/io: read and write rates */
   SAMPLER_FIELD_WCHAN = 1 << 1, /* /proc/PID/wchan */
   SAMPLER_FIELD_FDS = 1 << 2,   /* /proc/PID/fd: open file descriptors */
   /* Go processes' goroutines, read from outside without a stop (GoCounter):
    * a stat of /proc/PID/exe per process, and for Go processes their
    * runtime.allgs and one small window of each goroutine. */
   SAMPLER_FIELD_GOROUTINES = 1 << 3,
} SamplerField;

typedef struct ProcessSample_ {
   pid_t pid;
   pid_t ppid;
   uid_t uid;
   char user[33];
   char state;  /* raw /proc letter of the main thread */
   int threads; /* Threads (NLWP) */
   unsigned long virtKiB, resKiB, shrKiB, dataKiB;
   double cpuPct;                 /* share of one core: a 2-thread busy process ~200 */
   double memPct;                 /* RES / MemTotal * 100 */
   double cpuTimeS;               /* utime + stime */
   unsigned long long startTicks; /* distinguishes a reused pid */
   double startTime;              /* CLOCK_REALTIME seconds the process started */
   int nice;
   int processor; /* CPU the main thread last ran on */
   /* Optional fields (Sampler_setFields); unknown when not read or not
    * readable (another user's process without privileges). */
   double ioReadRate, ioWriteRate; /* bytes/s to/from storage (read_bytes, write_bytes); < 0: unknown */
   long fds;                       /* open file descriptors; -1: unknown */
   char wchan[32];                 /* kernel function it sleeps in; "" when running or unknown */
   /* SAMPLER_FIELD_GOROUTINES: like runtime.NumGoroutine(), and split by
    * state and wait reason (owned by the Sampler); -1 and NULL for a process
    * that is not Go or whose goroutines cannot be read. */
   long goroutines;
   const struct GoCount_* go;
   char comm[16];
   char* command; /* cmdline, or "[comm]" for kernel threads; owned by the Sampler */
   bool kernelThread;
   unsigned threadStates[TASK_STATE_COUNT];
   /* Per-thread rows; only filled when SamplerOptions.threads is set. Every
    * thread, the main one (tid == pid) included: a single-threaded process
    * has one row. */
   ThreadSample* threadRows;
   size_t threadRowCount;
   /* Recent samples of this process (owned by the Sampler, survives
    * refreshes); NULL for kernel threads, which keep none, and under
    * historyOnDemand until Sampler_keepHistory asks for it. */
   const History* history;
   /* Growth of RES's lower envelope over the last SAMPLER_GROWTH_WINDOW_S (see
    * History.h); unknown (false, and 0) until the process was watched for
    * SAMPLER_GROWTH_MIN_SPAN_S. */
   bool resGrowthKnown;
   double resGrowthKiBPerMin;
   /* GGROW: the same for the goroutine count (per minute). */
   bool goGrowthKnown;
   double goGrowthPerMin;
} ProcessSample;

typedef struct SystemSample_ {
   int cpuCount;
   double cpuPct;                                          /* busy share of all CPUs, 0..100, over the last interval */
   unsigned long memTotalKiB, memAvailableKiB, memUsedKiB; /* used = total - available */
   unsigned long swapTotalKiB, swapFreeKiB;
   double memAvailablePct;
   double load[3];
   double uptimeS;
   unsigned tasks, threads;
   unsigned taskStates[TASK_STATE_COUNT];   /* processes by main-thread state */
   unsigned threadStates[TASK_STATE_COUNT]; /* every thread by its state */
   double time;                             /* CLOCK_REALTIME of the sample */
   double intervalS;                        /* monotonic seconds since the previous refresh (0 on the first) */
} SystemSample;

/* RGROW: growth over the last 30 minutes of history (all of it when shorter),
 * reported once a process has been watched for a minute. */
#define SAMPLER_GROWTH_WINDOW_S 1800.0
#define SAMPLER_GROWTH_MIN_SPAN_S 60.0

typedef struct SamplerOptions_ {
   bool threads;      /* fill ProcessSample.threadRows */
   const pid_t* pids; /* only these processes (NULL: all) */
   size_t pidCount;
   bool filterUser;
   uid_t uid;              /* only this user's processes when filterUser */
   size_t historyCapacity; /* 0: HISTORY_DEFAULT_CAPACITY */
   /* Keep History only for processes passed to Sampler_keepHistory (the
    * watcher: the processes its services match), not for every process. */
   bool historyOnDemand;
} SamplerOptions;

/* historyOnDemand: a process asked for in no refresh for this many loses its history. */
#define SAMPLER_HISTORY_GRACE 64

typedef struct Sampler_ Sampler;

/* Returns NULL and writes a message to err on failure (e.g. libproc2 could not
 * be initialised). */
Sampler* Sampler_new(const SamplerOptions* options, char* err, size_t errSize);
void Sampler_free(Sampler* this);
/* Reads every selected process and the system figures. Processes that exit
 * while being read are dropped silently. Returns 0, or -1 with a message. */
int Sampler_refresh(Sampler* this, char* err, size_t errSize);
/* historyOnDemand: keep (or start, from this refresh's sample) the history of
 * pid; its row's history is set at once. Call after each refresh for every
 * process whose history is wanted. */
void Sampler_keepHistory(Sampler* this, pid_t pid);
/* Switch per-thread rows on or off for the following refreshes. While they
 * are on, a process's CPU time covers at least the sum of its threads' in
 * the same refresh (no thread shows more than its process). */
void Sampler_setThreads(Sampler* this, bool threads);
/* Which optional fields (SamplerField bits) the following refreshes read. */
void Sampler_setFields(Sampler* this, unsigned fields);

size_t Sampler_count(const Sampler* this);
/* Pointers into the Sampler's table, in /proc order; valid until the next refresh. */
const ProcessSample* Sampler_at(const Sampler* this, size_t i);
const ProcessSample* Sampler_find(const Sampler* this, pid_t pid);
const SystemSample* Sampler_system(const Sampler* this);

/* Pure arithmetic, exposed for tests: ticks over an interval as % of one core. */
double Sampler_cpuPercent(unsigned long long deltaTicks, long hertz, double elapsedS);

#endif
