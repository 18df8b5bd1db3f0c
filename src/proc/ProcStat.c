/* /proc/PID/stat: see ProcStat.h. */
#include "stacktop/ProcStat.h"

#include <stdio.h>
#include <string.h>

#include "stacktop/Util.h"

#define PF_KTHREAD_FLAG 0x00200000u

bool ProcStat_parse(const char* text, ProcStat* out) {
   const char* open = strchr(text, '(');
   const char* close = strrchr(text, ')');
   if (!open || !close || close < open || close[1] != ' ' || !close[2])
      return false;
   size_t len = (size_t)(close - open - 1);
   if (len > sizeof(out->comm) - 1)
      len = sizeof(out->comm) - 1;
   memcpy(out->comm, open + 1, len);
   out->comm[len] = '\0';
   out->state = close[2];
   int ppid, processor = -1;
   unsigned long long utime, stime;
   /* after the state (field 3): ppid pgrp session tty_nr tpgid flags (9),
    * minflt cminflt majflt cmajflt, utime stime (14-15), cutime cstime
    * priority, nice (19), num_threads (20), itrealvalue, starttime (22);
    * vsize rss rsslim and 13 more (23-37), exit_signal, processor (39) */
   int n = sscanf(close + 3,
                  "%d %*d %*d %*d %*d %lu %*u %*u %*u %*u %llu %llu %*d %*d %*d %d %ld %*d %llu"
                  " %*u %*d %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u %*d %d",
                  &ppid, &out->flags, &utime, &stime, &out->nice, &out->threads, &out->startTicks, &processor);
   if (n < 7)
      return false;
   out->ppid = (pid_t)ppid;
   out->ticks = utime + stime;
   out->processor = n == 8 ? processor : -1;
   return true;
}

bool ProcStat_read(pid_t pid, pid_t tid, ProcStat* out) {
   char path[64], buf[1024];
   if (tid > 0)
      Util_format(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
   else
      Util_format(path, sizeof(path), "/proc/%d/stat", (int)pid);
   return Util_readFile(path, buf, sizeof(buf)) > 0 && ProcStat_parse(buf, out);
}

bool ProcStat_isKernelThread(const ProcStat* stat) {
   return (stat->flags & PF_KTHREAD_FLAG) != 0;
}
