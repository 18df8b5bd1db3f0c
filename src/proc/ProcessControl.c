/* Signals and renicing, checked against the process's start time. */
#include "stacktop/ProcessControl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stacktop/ProcStat.h"
#include "stacktop/Util.h"

#define NICE_MIN (-20)
#define NICE_MAX 19

/* The signals a person sends from a monitor, most used first (htop lists
 * them by number; SIGTERM is preselected either way). */
static const SignalInfo signals[] = {
   { .number = SIGTERM, .name = "SIGTERM", .description = "terminate (may be caught: clean shutdown)" },
   { .number = SIGKILL, .name = "SIGKILL", .description = "kill (cannot be caught)" },
   { .number = SIGINT, .name = "SIGINT", .description = "interrupt, as Ctrl-C" },
   { .number = SIGHUP, .name = "SIGHUP", .description = "hang up (many daemons: reload)" },
   { .number = SIGQUIT, .name = "SIGQUIT", .description = "quit (Go: dump every goroutine's stack)" },
   { .number = SIGSTOP, .name = "SIGSTOP", .description = "stop (cannot be caught)" },
   { .number = SIGCONT, .name = "SIGCONT", .description = "continue a stopped process" },
   { .number = SIGTSTP, .name = "SIGTSTP", .description = "stop, as Ctrl-Z" },
   { .number = SIGUSR1, .name = "SIGUSR1", .description = "user signal 1" },
   { .number = SIGUSR2, .name = "SIGUSR2", .description = "user signal 2" },
   { .number = SIGABRT, .name = "SIGABRT", .description = "abort (core dump)" },
   { .number = SIGALRM, .name = "SIGALRM", .description = "alarm" },
   { .number = SIGWINCH, .name = "SIGWINCH", .description = "window size changed" },
   { .number = SIGPIPE, .name = "SIGPIPE", .description = "broken pipe" },
};
#define SIGNAL_COUNT (sizeof(signals) / sizeof(signals[0]))

size_t ProcessControl_signalCount(void) {
   return SIGNAL_COUNT;
}

const SignalInfo* ProcessControl_signalAt(size_t i) {
   return i < SIGNAL_COUNT ? &signals[i] : NULL;
}

size_t ProcessControl_signalIndex(int number) {
   for (size_t i = 0; i < SIGNAL_COUNT; i++) {
      if (signals[i].number == number)
         return i;
   }
   return 0;
}

static const char* signalName(int sig) {
   for (size_t i = 0; i < SIGNAL_COUNT; i++) {
      if (signals[i].number == sig)
         return signals[i].name;
   }
   return "the signal";
}

unsigned long long ProcessControl_startTicks(pid_t pid) {
   ProcStat st;
   return ProcStat_read(pid, 0, &st) ? st.startTicks : 0;
}

static int gone(ProcessKey key, char* err, size_t errSize) {
   Util_format(err, errSize, "process %d has exited (or its pid now names another process): nothing sent",
               (int)key.pid);
   return ESRCH;
}

int ProcessControl_signal(ProcessKey key, int sig, char* err, size_t errSize) {
   /* The pidfd pins the process that has the pid now; if that one has the
    * expected start time, the signal cannot reach a newcomer. */
   int fd = (int)syscall(SYS_pidfd_open, key.pid, 0);
   if (fd < 0 && errno == ESRCH)
      return gone(key, err, errSize);
   if (fd < 0) {
      int rc = errno;
      Util_format(err, errSize, "cannot open process %d to signal it: %s", (int)key.pid, strerror(rc));
      return rc;
   }
   if (ProcessControl_startTicks(key.pid) != key.startTicks) {
      close(fd);
      return gone(key, err, errSize);
   }
   int rc = (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) == 0 ? 0 : errno;
   close(fd);
   if (rc == ESRCH)
      return gone(key, err, errSize);
   if (rc == EPERM)
      Util_format(err, errSize, "not allowed to send %s to process %d (another user's): run stacktop as root",
                  signalName(sig), (int)key.pid);
   else if (rc)
      Util_format(err, errSize, "cannot send %s to process %d: %s", signalName(sig), (int)key.pid, strerror(rc));
   return rc;
}

static int clampNice(int v) {
   return v < NICE_MIN ? NICE_MIN : v > NICE_MAX ? NICE_MAX : v;
}

static int reniceFailure(int rc, ProcessKey key, int target, char* err, size_t errSize) {
   if (rc == EACCES)
      Util_format(err, errSize,
                  "not allowed to raise the priority of process %d to nice %d: that needs root "
                  "(CAP_SYS_NICE)",
                  (int)key.pid, target);
   else if (rc == EPERM)
      Util_format(err, errSize, "not allowed to renice process %d (another user's): run stacktop as root",
                  (int)key.pid);
   else if (rc == ESRCH)
      return gone(key, err, errSize);
   else
      Util_format(err, errSize, "cannot renice process %d: %s", (int)key.pid, strerror(rc));
   return rc;
}

/* setpriority(PRIO_PROCESS) on Linux sets one thread: each thread of the
 * process gets the new value, as renice(1) users expect of a process. */
int ProcessControl_renice(ProcessKey key, int delta, int* niceOut, char* err, size_t errSize) {
   char path[64];
   ProcStat st;
   if (!ProcStat_read(key.pid, 0, &st) || st.startTicks != key.startTicks)
      return gone(key, err, errSize);
   int target = clampNice(st.nice + delta);
   Util_format(path, sizeof(path), "/proc/%d/task", (int)key.pid);
   DIR* dir = opendir(path);
   if (!dir)
      return gone(key, err, errSize);
   int rc = 0, done = 0;
   for (struct dirent* e; (e = readdir(dir)) != NULL;) {
      pid_t tid;
      if (Util_parsePid(e->d_name, &tid) != 0)
         continue;
      if (setpriority(PRIO_PROCESS, (id_t)tid, target) == 0)
         done++;
      else if (errno != ESRCH && rc == 0)
         rc = errno; /* a thread that just exited is no failure */
   }
   closedir(dir);
   if (rc || done == 0)
      return reniceFailure(rc ? rc : ESRCH, key, target, err, errSize);
   *niceOut = target;
   return 0;
}
