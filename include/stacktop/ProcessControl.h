#ifndef STACKTOP_PROCESSCONTROL_H
#define STACKTOP_PROCESSCONTROL_H
/* Acting on processes from the monitor: sending a signal and renicing. A
 * process is named by pid and start time, so an action never lands on a
 * process that took over a pid meanwhile: signals go through a pidfd whose
 * process is checked to have the expected start time. */
#include <stddef.h>
#include <sys/types.h>

/* A process picked out by pid and start time (ticks since boot, field 22 of
 * /proc/PID/stat): a reused pid never matches. */
typedef struct ProcessKey_ {
   pid_t pid;
   unsigned long long startTicks;
} ProcessKey;

/* The signals offered by the signal list (k, F9), in its order. */
typedef struct SignalInfo_ {
   int number;
   const char* name; /* "SIGTERM" */
   const char* description;
} SignalInfo;

size_t ProcessControl_signalCount(void);
const SignalInfo* ProcessControl_signalAt(size_t i);
/* Index of a signal number in the list (SIGTERM: the default choice); 0 when absent. */
size_t ProcessControl_signalIndex(int number);

/* The start time of pid (field 22 of /proc/PID/stat), 0 when it is gone. */
unsigned long long ProcessControl_startTicks(pid_t pid);

/* Sends sig to the process. Returns 0, or an errno (ESRCH: gone or its pid
 * now names another process; EPERM: not allowed) with a one-line message
 * naming the pid and what to do. */
int ProcessControl_signal(ProcessKey key, int sig, char* err, size_t errSize);
/* Changes the nice value of every thread of the process by delta (clamped
 * to -20..19); *niceOut gets the new value of its main thread. Returns 0 or
 * an errno with a one-line message (EACCES: lowering nice needs root). */
int ProcessControl_renice(ProcessKey key, int delta, int* niceOut, char* err, size_t errSize);

#endif
