#ifndef STACKTOP_PROCSTAT_H
#define STACKTOP_PROCSTAT_H
/* /proc/PID/stat (or /proc/PID/task/TID/stat) read where libproc2's table is
 * not at hand: one parser for the fields stacktop needs. The comm may hold
 * any byte, ')' and spaces included: fields are counted after the last ')'. */
#include <stdbool.h>
#include <sys/types.h>

typedef struct ProcStat_ {
   char comm[16]; /* raw bytes, NUL-terminated */
   char state;    /* R, S, D, T, t, Z, X, I ... */
   pid_t ppid;
   unsigned long flags; /* PF_* */
   int nice;
   long threads;                  /* of the process */
   unsigned long long ticks;      /* utime + stime */
   unsigned long long startTicks; /* field 22: tells a reused pid apart */
   int processor;                 /* last CPU it ran on; -1 when the kernel did not say */
} ProcStat;

/* Reads pid's stat, or thread tid's when tid > 0. False when it is gone or
 * unreadable or malformed. */
bool ProcStat_read(pid_t pid, pid_t tid, ProcStat* out);
/* Parses the text of a stat file (the same rules; for tests and fuzzing). */
bool ProcStat_parse(const char* text, ProcStat* out);
/* The kernel's own definition (PF_KTHREAD): no user space, no user stack. */
bool ProcStat_isKernelThread(const ProcStat* stat);

#endif
