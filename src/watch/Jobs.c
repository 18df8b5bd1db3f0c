/* Forked background jobs with hard deadlines; see Jobs.h. */
#include "stacktop/Jobs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stacktop/Util.h"
#include "stacktop/WatchLog.h"

#define MAX_CLOSE_FDS 8
/* After SIGKILL a process is gone within milliseconds, unless it sits in an
 * uninterruptible sleep: then it is reaped by a later poll. */
#define REAP_AFTER_KILL_S 0.5

typedef struct Job_ {
   JobSpec spec;
   char label[256];
   pid_t pid; /* also its process group */
   int resultFd;
   double started, deadline;
   bool killed, timedOut, stopped;
   char result[JOB_RESULT_MAX];
   size_t resultLen;
} Job;

struct Jobs_ {
   Job* jobs;
   size_t count, cap;
   int closeFds[MAX_CLOSE_FDS];
   size_t closeCount;
   void (*onChild)(void* ctx);
   void* onChildCtx;
};

Jobs* Jobs_new(void) {
   return Util_xcalloc(1, sizeof(Jobs));
}

void Jobs_closeInChildren(Jobs* this, int fd) {
   if (this->closeCount < MAX_CLOSE_FDS)
      this->closeFds[this->closeCount++] = fd;
}

void Jobs_onChild(Jobs* this, void (*fn)(void* ctx), void* ctx) {
   this->onChild = fn;
   this->onChildCtx = ctx;
}

void Jobs_childExit(int status) {
   _exit(status);
}

static void childSetup(const Jobs* this, int resultFd, pid_t parent) {
   prctl(PR_SET_PDEATHSIG, SIGKILL);
   if (getppid() != parent)
      _exit(1); /* the watcher died before the line above */
   setpgid(0, 0);
   static const int reset[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGQUIT };
   for (size_t i = 0; i < sizeof(reset) / sizeof(reset[0]); i++)
      signal(reset[i], SIG_DFL);
   sigset_t none;
   sigemptyset(&none);
   sigprocmask(SIG_SETMASK, &none, NULL);
   for (size_t i = 0; i < this->closeCount; i++)
      close(this->closeFds[i]);
   if (this->onChild)
      this->onChild(this->onChildCtx);
   for (size_t i = 0; i < this->count; i++)
      close(this->jobs[i].resultFd);
   (void)resultFd;
}

int Jobs_start(Jobs* this, const JobSpec* spec, char* err, size_t errSize) {
   int fds[2];
   if (pipe2(fds, O_CLOEXEC) != 0) {
      Util_format(err, errSize, "cannot start %s: pipe: %s", spec->label, strerror(errno));
      return -1;
   }
   pid_t parent = getpid();
   pid_t pid = fork();
   if (pid < 0) {
      Util_format(err, errSize, "cannot start %s: fork: %s", spec->label, strerror(errno));
      close(fds[0]);
      close(fds[1]);
      return -1;
   }
   if (pid == 0) {
      close(fds[0]);
      childSetup(this, fds[1], parent);
      int status = spec->run(spec->arg, fds[1]);
      close(fds[1]);
      _exit(status & 0xff);
   }
   setpgid(pid, pid); /* as the child does: whichever runs first */
   close(fds[1]);
   fcntl(fds[0], F_SETFL, O_NONBLOCK);
   Util_growArray((void**)&this->jobs, &this->cap, this->count, sizeof(Job));
   Job* j = &this->jobs[this->count++];
   memset(j, 0, sizeof(*j));
   j->spec = *spec;
   Util_format(j->label, sizeof(j->label), "%s", spec->label);
   j->spec.label = j->label;
   j->pid = pid;
   j->resultFd = fds[0];
   j->started = Util_monotonicSeconds();
   j->deadline = j->started + spec->timeoutS;
   return 0;
}

static void drainResult(Job* j) {
   for (;;) {
      if (j->resultLen + 1 >= sizeof(j->result)) {
         char sink[512];
         if (read(j->resultFd, sink, sizeof(sink)) > 0)
            continue;
         return;
      }
      ssize_t n = read(j->resultFd, j->result + j->resultLen, sizeof(j->result) - 1 - j->resultLen);
      if (n < 0 && errno == EINTR)
         continue;
      if (n <= 0)
         return;
      j->resultLen += (size_t)n;
   }
}

static void killGroup(Job* j) {
   kill(-j->pid, SIGKILL);
   kill(j->pid, SIGKILL);
   j->killed = true;
}

/* Reaps j if it ended and fills *o; false while it still runs. With block,
 * waits a moment for a job that was just killed. */
static bool reap(Job* j, bool block, JobOutcome* o) {
   int status = 0;
   struct rusage ru;
   memset(&ru, 0, sizeof(ru));
   double until = Util_monotonicSeconds() + (block ? REAP_AFTER_KILL_S : 0);
   pid_t r;
   for (;;) {
      drainResult(j);
      r = wait4(j->pid, &status, WNOHANG, &ru);
      if (r == j->pid || (r < 0 && errno != EINTR))
         break;
      if (Util_monotonicSeconds() >= until)
         return false;
      struct timespec ts = { 0, 5 * 1000 * 1000 };
      nanosleep(&ts, NULL);
   }
   drainResult(j);
   /* Whatever the job started in its group (a hook's children) goes with it. */
   kill(-j->pid, SIGKILL);
   close(j->resultFd);
   j->result[j->resultLen] = '\0';
   *o = (JobOutcome){ .status = -1,
                      .timedOut = j->timedOut,
                      .stopped = j->stopped,
                      .seconds = Util_monotonicSeconds() - j->started,
                      .maxRssKiB = ru.ru_maxrss };
   if (r == j->pid && WIFEXITED(status))
      o->status = WEXITSTATUS(status);
   else if (r == j->pid && WIFSIGNALED(status))
      o->signal = WTERMSIG(status);
   memcpy(o->result, j->result, j->resultLen + 1);
   return true;
}

/* Kills overdue jobs and reaps ended ones; done runs after the job left the
 * list (it may start new jobs). */
static void sweep(Jobs* this, bool block) {
   for (size_t i = 0; i < this->count;) {
      Job* j = &this->jobs[i];
      if (!j->killed && Util_monotonicSeconds() >= j->deadline) {
         WatchLog_write(WATCHLOG_WARNING, NULL, "%s killed after its time limit of %gs", j->label, j->spec.timeoutS);
         j->timedOut = true;
         killGroup(j);
      }
      JobOutcome* o = Util_xmalloc(sizeof(JobOutcome));
      if (!reap(j, block || j->killed, o)) {
         free(o);
         i++;
         continue;
      }
      JobSpec spec = j->spec;
      memmove(&this->jobs[i], &this->jobs[i + 1], (this->count - i - 1) * sizeof(Job));
      this->count--;
      for (size_t k = 0; k < this->count; k++)
         this->jobs[k].spec.label = this->jobs[k].label;
      if (spec.done)
         spec.done(spec.ctx, o);
      free(o);
   }
}

void Jobs_poll(Jobs* this) {
   sweep(this, false);
}

double Jobs_nextDeadline(const Jobs* this) {
   double next = 0;
   for (size_t i = 0; i < this->count; i++) {
      double d = this->jobs[i].killed ? Util_monotonicSeconds() + 0.1 : this->jobs[i].deadline;
      if (next == 0 || d < next)
         next = d;
   }
   return next;
}

size_t Jobs_running(const Jobs* this, int kind) {
   size_t n = 0;
   for (size_t i = 0; i < this->count; i++)
      n += kind < 0 || this->jobs[i].spec.kind == kind;
   return n;
}

void Jobs_stopAll(Jobs* this, double graceS) {
   double until = Util_monotonicSeconds() + graceS;
   while (this->count > 0 && Util_monotonicSeconds() < until) {
      sweep(this, false);
      struct timespec ts = { 0, 20 * 1000 * 1000 };
      nanosleep(&ts, NULL);
   }
   for (size_t i = 0; i < this->count; i++) {
      if (!this->jobs[i].killed) {
         this->jobs[i].stopped = true;
         killGroup(&this->jobs[i]);
      }
   }
   sweep(this, true);
}

void Jobs_free(Jobs* this) {
   if (!this)
      return;
   for (size_t i = 0; i < this->count; i++) {
      killGroup(&this->jobs[i]);
      /* Never blocks: a job stuck in an uninterruptible sleep must not hold up exit. */
      waitpid(this->jobs[i].pid, NULL, WNOHANG);
      close(this->jobs[i].resultFd);
   }
   free(this->jobs);
   free(this);
}
