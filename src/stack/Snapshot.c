/* Stop every thread, copy registers and live stacks, detach: see Snapshot.h.
 *
 * The tracer is a helper thread created per snapshot, and its exit is the
 * detach: the kernel then releases every tracee it still has in one sweep
 * (exit_ptrace), which costs about 1 us per thread where PTRACE_DETACH costs
 * 5-6 us (it waits for each tracee to be off CPU first): for 2,000 threads
 * that is 10 ms less pause. It is also the only way to release a thread that
 * never reached its stop within the timeout (say in uninterruptible sleep):
 * PTRACE_DETACH only works on a stopped tracee. SEIZE + INTERRUPT inject no
 * SIGSTOP, so released tracees simply run on; the same holds when the whole
 * stacktop process dies, even by SIGKILL. Only a thread caught in a
 * signal-delivery-stop gets an explicit PTRACE_DETACH, carrying its signal. */
#include "stacktop/Snapshot.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stacktop/Util.h"

/* Below SP the x86_64 ABI lets leaf functions keep data (the red zone). */
#define RED_ZONE 128
/* Unwinding needs the live frames, not megabytes of a deep recursion. */
#define STACK_COPY_CAP (512u * 1024u)
/* process_vm_readv takes at most IOV_MAX (1024) iovecs per call. */
#define COPY_BATCH 512
/* From this many stacks on, a second thread shares the copying. */
#define PARALLEL_COPY_MIN 256
#define PF_KTHREAD_FLAG 0x00200000u
/* A new thread can only come from a running one; stopped threads create none,
 * so the rescans converge fast. The cap guards against pathological churn. */
#define MAX_SCAN_ROUNDS 64
#define POLL_NS 20000
/* How long a thread in uninterruptible sleep gets to reach its stop before
 * the others are released without it (it is then listed without frames). */
#define D_STATE_GRACE_S 0.05
/* A tracer still running after this long may be stuck behind an execve by
 * the target (see joinTracer); from then on it is checked every 10 ms. */
#define REAP_AFTER_S 0.1
#define REAP_POLL_NS 10000000L

static const int detachSignals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/* Per-thread tracer bookkeeping, parallel to Snapshot.threads. */
typedef struct Tracee_ {
   bool seized, stopped, gone;
   int pendingSignal; /* signal-delivery-stop: re-injected at detach */
} Tracee;

typedef struct Job_ {
   Snapshot* snap;
   const SnapshotOptions* options;
   Tracee* tracees;
   size_t capacity;
   /* Seized tids for the signal handler: grown only with the detach signals
    * blocked in the tracer thread, the only thread where they are unblocked. */
   pid_t* volatile attached;
   volatile size_t attachedCount;
   size_t attachedCapacity;
   double firstInterrupt;
   DumpError result;
   char err[512];
} Job;

/* The one piece of global state: the snapshot a CLI signal handler must
 * detach. Set only for detachOnSignal snapshots (one per process at a time). */
static Job* volatile signalJob;

static void onDetachSignal(int sig) {
   Job* job = signalJob;
   if (job) {
      for (size_t i = 0; i < job->attachedCount; i++)
         ptrace(PTRACE_DETACH, job->attached[i], NULL, NULL);
   }
   _exit(128 + sig);
}

void Snapshot_installSignalHandlers(void) {
   struct sigaction sa = { .sa_handler = onDetachSignal };
   sigfillset(&sa.sa_mask);
   for (size_t i = 0; i < sizeof(detachSignals) / sizeof(detachSignals[0]); i++)
      sigaction(detachSignals[i], &sa, NULL);
}

static void detachSignalSet(sigset_t* set) {
   sigemptyset(set);
   for (size_t i = 0; i < sizeof(detachSignals) / sizeof(detachSignals[0]); i++)
      sigaddset(set, detachSignals[i]);
}

static void fail(Job* job, DumpError code, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(Job* job, DumpError code, const char* fmt, ...) {
   if (job->result != DUMP_OK)
      return;
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(job->err, sizeof(job->err), fmt, ap);
   va_end(ap);
   job->result = code;
}

/* ---- /proc reading -------------------------------------------------- */

typedef struct ProcInfo_ {
   char comm[16];
   char state;
   unsigned long flags;
   pid_t tgid;
   long threads;
   pid_t tracer;
} ProcInfo;

/* Parses "pid (comm) S ppid pgrp session tty tpgid flags ..." */
static int readStat(const char* path, char* comm, char* state, unsigned long* flags) {
   char buf[1024];
   if (Util_readFile(path, buf, sizeof(buf)) < 0)
      return -1;
   char* open = strchr(buf, '(');
   char* close = strrchr(buf, ')');
   if (!open || !close || close < open || close[1] != ' ' || !close[2])
      return -1;
   size_t len = (size_t)(close - open - 1);
   if (len > 15)
      len = 15;
   memcpy(comm, open + 1, len);
   comm[len] = '\0';
   *state = close[2];
   if (flags) {
      unsigned long f = 0;
      if (sscanf(close + 3, "%*d %*d %*d %*d %*d %lu", &f) != 1)
         return -1;
      *flags = f;
   }
   return 0;
}

static long statusField(const char* status, const char* key) {
   const char* p = strstr(status, key);
   return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static int readProcInfo(pid_t pid, ProcInfo* info) {
   char path[64], status[4096];
   Util_format(path, sizeof(path), "/proc/%d/stat", (int)pid);
   if (readStat(path, info->comm, &info->state, &info->flags) < 0)
      return -1;
   Util_format(path, sizeof(path), "/proc/%d/status", (int)pid);
   if (Util_readFile(path, status, sizeof(status)) < 0)
      return -1;
   info->tgid = (pid_t)statusField(status, "\nTgid:");
   info->threads = statusField(status, "\nThreads:");
   info->tracer = (pid_t)statusField(status, "\nTracerPid:");
   return 0;
}

/* ---- permission diagnosis ------------------------------------------- */

static bool haveCapSysPtrace(void) {
   char status[4096];
   if (Util_readFile("/proc/self/status", status, sizeof(status)) < 0)
      return false;
   const char* p = strstr(status, "\nCapEff:");
   return p && (strtoull(p + 8, NULL, 16) & (1ull << 19));
}

/* TracerPid now (a debugger may have attached since the first check). */
static pid_t currentTracer(pid_t pid, const ProcInfo* info) {
   ProcInfo now;
   return readProcInfo(pid, &now) == 0 ? now.tracer : info->tracer;
}

static void explainPermission(Job* job, const ProcInfo* info) {
   pid_t pid = job->snap->pid;
   char why[256];
   char buf[32];
   long scope = Util_readFile("/proc/sys/kernel/yama/ptrace_scope", buf, sizeof(buf)) > 0 ? strtol(buf, NULL, 10) : 0;
   bool privileged = geteuid() == 0 || haveCapSysPtrace();
   pid_t tracer = currentTracer(pid, info);
   if (tracer == getpid())
      Util_format(why, sizeof(why), "another dump of it is in progress in this stacktop; retry when it is done");
   else if (tracer > 0)
      Util_format(why, sizeof(why), "it is already traced by pid %d (a debugger?); detach that first", (int)tracer);
   else if (scope >= 3)
      Util_format(why, sizeof(why), "kernel.yama.ptrace_scope is 3 (no attaching at all, until reboot)");
   else if (!privileged && scope >= 1)
      Util_format(why, sizeof(why),
                  "not root, no CAP_SYS_PTRACE and kernel.yama.ptrace_scope is %ld; run as root (sudo)", scope);
   else if (!privileged)
      Util_format(why, sizeof(why),
                  "not root and no CAP_SYS_PTRACE (another user's or a setuid process?); run as root (sudo)");
   else
      Util_format(why, sizeof(why), "the kernel refused ptrace (a security module, or the process is exiting)");
   fail(job, DUMP_ERR_PERMISSION, "cannot attach to pid %d (%s): %s", (int)pid, job->snap->comm, why);
}

/* ---- tracing --------------------------------------------------------- */

static void blockDetachSignals(sigset_t* old) {
   sigset_t set;
   detachSignalSet(&set);
   pthread_sigmask(SIG_BLOCK, &set, old);
}

/* Records a new thread with its name and state as they are before it stops. */
static void addThread(Job* job, pid_t tid) {
   Snapshot* snap = job->snap;
   size_t i = snap->threadCount;
   size_t cap = job->capacity; /* both arrays share one capacity: same growth */
   Util_growArray((void**)&snap->threads, &job->capacity, i, sizeof(SnapshotThread));
   Util_growArray((void**)&job->tracees, &cap, i, sizeof(Tracee));
   snap->threads[i] = (SnapshotThread){ .tid = tid, .state = '?' };
   job->tracees[i] = (Tracee){ 0 };
   char path[64];
   Util_format(path, sizeof(path), "/proc/%d/task/%d/stat", (int)snap->pid, (int)tid);
   readStat(path, snap->threads[i].name, &snap->threads[i].state, NULL);
   snap->threadCount++;
}

static int compareTid(const void* a, const void* b) {
   pid_t x = *(const pid_t*)a, y = *(const pid_t*)b;
   return (x > y) - (x < y);
}

/* Adds the tids of /proc/PID/task not seen yet. Returns how many, or -1 when
 * the process is gone. */
static long scanTasks(Job* job) {
   char path[64];
   Util_format(path, sizeof(path), "/proc/%d/task", (int)job->snap->pid);
   DIR* dir = opendir(path);
   if (!dir)
      return -1;
   /* Rescans run while the threads are stopped: look known tids up in a
    * sorted copy rather than scanning the list for each of thousands. */
   size_t knownCount = job->snap->threadCount;
   pid_t* knownTids = Util_xcalloc(knownCount, sizeof(pid_t));
   for (size_t i = 0; i < knownCount; i++)
      knownTids[i] = job->snap->threads[i].tid;
   qsort(knownTids, knownCount, sizeof(pid_t), compareTid);
   long added = 0;
   struct dirent* d;
   while ((d = readdir(dir))) {
      pid_t tid;
      if (Util_parsePid(d->d_name, &tid) < 0 || bsearch(&tid, knownTids, knownCount, sizeof(pid_t), compareTid))
         continue;
      addThread(job, tid);
      added++;
   }
   closedir(dir);
   free(knownTids);
   return added;
}

static void rememberAttached(Job* job, pid_t tid) {
   sigset_t old;
   blockDetachSignals(&old);
   if (job->attachedCount >= job->attachedCapacity) {
      size_t cap = job->attachedCapacity;
      pid_t* list = job->attached;
      Util_growArray((void**)&list, &cap, job->attachedCount, sizeof(pid_t));
      job->attached = list;
      job->attachedCapacity = cap;
   }
   job->attached[job->attachedCount] = tid;
   job->attachedCount++;
   pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The kernel refuses to attach to an exiting thread with EPERM, not ESRCH. */
static bool threadEnded(pid_t pid, pid_t tid) {
   char path[64], comm[16], state;
   Util_format(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
   return readStat(path, comm, &state, NULL) < 0 || state == 'Z' || state == 'X';
}

static void seizeAndInterrupt(Job* job, size_t from, const ProcInfo* info) {
   Snapshot* snap = job->snap;
   for (size_t i = from; i < snap->threadCount && job->result == DUMP_OK; i++) {
      if (ptrace(PTRACE_SEIZE, snap->threads[i].tid, NULL, NULL) == 0) {
         job->tracees[i].seized = true;
         rememberAttached(job, snap->threads[i].tid);
      } else if (errno == EPERM && !threadEnded(job->snap->pid, snap->threads[i].tid)) {
         explainPermission(job, info);
      } else {
         job->tracees[i].gone = true; /* ESRCH: it exited meanwhile */
      }
   }
   for (size_t i = from; i < snap->threadCount && job->result == DUMP_OK; i++) {
      if (!job->tracees[i].seized)
         continue;
      if (job->firstInterrupt == 0)
         job->firstInterrupt = Util_monotonicSeconds();
      if (ptrace(PTRACE_INTERRUPT, snap->threads[i].tid, NULL, NULL) < 0)
         job->tracees[i].gone = true;
   }
}

static void noteWaitStatus(Tracee* t, int status) {
   if (WIFEXITED(status) || WIFSIGNALED(status)) {
      t->gone = true;
      return;
   }
   if (!WIFSTOPPED(status))
      return;
   t->stopped = true;
   /* status>>16 is PTRACE_EVENT_STOP for our interrupt or a group-stop;
    * otherwise a signal arrived first and must be delivered after detach. */
   if ((status >> 16) == 0)
      t->pendingSignal = WSTOPSIG(status);
}

/* True when every thread still running is in uninterruptible sleep (D): it
 * reaches its stop only when that ends (a hung NFS read, a vfork parent), so
 * waiting out the whole timeout would only pause the others longer. */
static bool onlyUninterruptible(const Job* job) {
   const Snapshot* snap = job->snap;
   for (size_t i = 0; i < snap->threadCount; i++) {
      const Tracee* t = &job->tracees[i];
      if (!t->seized || t->gone || snap->threads[i].captured)
         continue;
      char path[64], comm[16], state = '?';
      Util_format(path, sizeof(path), "/proc/%d/task/%d/stat", (int)snap->pid, (int)snap->threads[i].tid);
      if (readStat(path, comm, &state, NULL) == 0 && state != 'D')
         return false;
   }
   return true;
}

static bool readRegisters(SnapshotThread* th) {
   struct iovec iov = { &th->regs, sizeof(th->regs) };
   th->captured = ptrace(PTRACE_GETREGSET, th->tid, (void*)NT_PRSTATUS, &iov) == 0;
   return th->captured;
}

/* Reads the registers of every seized thread as soon as it is stopped,
 * polling until all are captured or gone, or the deadline passes: never a
 * blocking wait. PTRACE_GETREGSET itself is the probe (ESRCH until the
 * thread is in its stop); waitpid is asked only about threads not stopped
 * yet, to learn of exits and of signals that stopped them first. */
static void captureStopped(Job* job, double deadline) {
   Snapshot* snap = job->snap;
   double graceEnd = Util_monotonicSeconds() + D_STATE_GRACE_S;
   bool checkedSleepers = false;
   for (;;) {
      size_t pending = 0;
      for (size_t i = 0; i < snap->threadCount; i++) {
         Tracee* t = &job->tracees[i];
         SnapshotThread* th = &snap->threads[i];
         if (!t->seized || th->captured || t->gone)
            continue;
         if (readRegisters(th)) {
            t->stopped = true;
            continue;
         }
         int status;
         pid_t r = waitpid(th->tid, &status, __WALL | WNOHANG);
         if (r == th->tid)
            noteWaitStatus(t, status);
         else if (r < 0 && errno != EINTR)
            t->gone = true; /* ECHILD: no longer our tracee (exited) */
         if (t->stopped && !readRegisters(th))
            t->gone = true; /* stopped, yet unreadable: killed meanwhile */
         pending += !t->gone && !th->captured;
      }
      if (pending == 0 || Util_monotonicSeconds() > deadline)
         return;
      if (!checkedSleepers && Util_monotonicSeconds() > graceEnd) {
         checkedSleepers = true;
         if (onlyUninterruptible(job))
            return;
      }
      struct timespec ts = { 0, POLL_NS };
      nanosleep(&ts, NULL);
   }
}

/* The largest per-thread copy size L with sum(min(size, L)) <= budget: every
 * stack keeps its innermost part, and the shallow ones are never cut for the
 * sake of the deep ones. Binary search over L. */
static size_t fairShare(const Snapshot* snap, size_t budget) {
   size_t lo = 0, hi = STACK_COPY_CAP;
   while (lo < hi) {
      size_t mid = lo + (hi - lo + 1) / 2, total = 0;
      for (size_t i = 0; i < snap->threadCount && total <= budget; i++) {
         size_t s = snap->threads[i].captured ? snap->threads[i].stackSize : 0;
         total += s < mid ? s : mid;
      }
      if (total <= budget)
         lo = mid;
      else
         hi = mid - 1;
   }
   return lo & ~(size_t)15; /* keep the copies 16-byte aligned */
}

/* Cuts the far (outer) end of the stacks when all of them together would
 * exceed the budget, so a process with thousands of deep stacks cannot make
 * stacktop allocate hundreds of MB. */
static void applyBudget(Snapshot* snap, size_t budget) {
   size_t total = 0;
   for (size_t i = 0; i < snap->threadCount; i++)
      total += snap->threads[i].captured ? snap->threads[i].stackSize : 0;
   if (budget == 0 || total <= budget)
      return;
   size_t share = fairShare(snap, budget);
   for (size_t i = 0; i < snap->threadCount; i++) {
      if (snap->threads[i].stackSize > share)
         snap->threads[i].stackSize = share;
   }
}

/* Sets each captured thread's stack range: SP minus the red zone up to the
 * end of the mapping holding SP, capped. Returns false if some SP lies in no
 * known mapping (a stack mapped after maps was read). */
static bool planStacks(Snapshot* snap) {
   bool allFound = true;
   for (size_t i = 0; i < snap->threadCount; i++) {
      SnapshotThread* th = &snap->threads[i];
      if (!th->captured)
         continue;
      uint64_t sp = th->regs.rsp;
      const MapEntry* e = Maps_find(&snap->maps, sp);
      if (!e) {
         th->stackSize = 0;
         allFound = false;
         continue;
      }
      uint64_t lo = sp - RED_ZONE >= e->start && sp >= RED_ZONE ? sp - RED_ZONE : e->start;
      uint64_t hi = e->end - lo > STACK_COPY_CAP ? lo + STACK_COPY_CAP : e->end;
      /* The thread pointer (glibc's struct pthread, Go's m.tls) never lies
       * inside a live stack: when it is above SP in the same mapping, the
       * stack ends below it (glibc keeps its 2.3 KiB TCB there). */
      uint64_t tp = th->regs.fs_base;
      if (tp > sp && tp < hi)
         hi = tp;
      th->stackStart = lo;
      th->stackSize = (size_t)(hi - lo);
   }
   return allFound;
}

/* One batch of process_vm_readv: on a short read the kernel stops at the
 * first remote iovec it cannot read; that thread keeps what arrived and the
 * next call resumes after it. */
static void copyBatch(pid_t pid, SnapshotThread** list, size_t n) {
   struct iovec local[COPY_BATCH], remote[COPY_BATCH];
   size_t start = 0;
   while (start < n) {
      size_t count = 0;
      for (size_t i = start; i < n; i++, count++) {
         local[count] = (struct iovec){ list[i]->stack, list[i]->stackSize };
         remote[count] = (struct iovec){ (void*)(uintptr_t)list[i]->stackStart, list[i]->stackSize };
      }
      ssize_t got = process_vm_readv(pid, local, count, remote, count, 0);
      size_t left = got > 0 ? (size_t)got : 0;
      size_t i = start;
      while (i < n && left >= list[i]->stackSize)
         left -= list[i++]->stackSize;
      if (i == n)
         return;
      list[i]->stackSize = left; /* the partial one */
      start = i + 1;
   }
}

typedef struct CopyRange_ {
   pid_t pid;
   SnapshotThread** list;
   size_t count;
} CopyRange;

static void* copyRange(void* arg) {
   const CopyRange* r = arg;
   for (size_t i = 0; i < r->count; i += COPY_BATCH)
      copyBatch(r->pid, r->list + i, r->count - i < COPY_BATCH ? r->count - i : COPY_BATCH);
   return NULL;
}

/* All copies go to one pre-faulted anonymous mapping: faulting thousands of
 * fresh malloc pages one by one during the copy would lengthen the pause.
 * Many stacks are copied by two threads at once (process_vm_readv needs no
 * tracer): the copy is most of the pause after the stop itself. */
static void copyStacks(Snapshot* snap, pid_t memPid) {
   size_t total = 0, n = 0;
   for (size_t i = 0; i < snap->threadCount; i++) {
      const SnapshotThread* th = &snap->threads[i];
      total += th->captured ? th->stackSize : 0;
      n += th->captured && th->stackSize;
   }
   if (total == 0)
      return;
   void* arena = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
   if (arena == MAP_FAILED) {
      for (size_t i = 0; i < snap->threadCount; i++)
         snap->threads[i].stackSize = 0;
      return; /* every thread then unwinds to its interrupted IP only */
   }
   snap->arena = arena;
   snap->arenaSize = total;
   SnapshotThread** list = Util_xcalloc(n, sizeof(SnapshotThread*));
   size_t k = 0, used = 0;
   for (size_t i = 0; i < snap->threadCount; i++) {
      SnapshotThread* th = &snap->threads[i];
      if (!th->captured || th->stackSize == 0)
         continue;
      th->stack = (uint8_t*)arena + used;
      used += th->stackSize;
      list[k++] = th;
   }
   size_t half = n >= PARALLEL_COPY_MIN ? n / 2 : n;
   CopyRange mine = { memPid, list, half }, other = { memPid, list + half, n - half };
   pthread_t helper;
   bool parallel = n > half && pthread_create(&helper, NULL, copyRange, &other) == 0;
   copyRange(&mine);
   if (parallel)
      pthread_join(helper, NULL);
   else
      copyRange(&other);
   free(list);
}

/* The signal a thread was stopped with must still reach it; every other
 * tracee is released by the tracer thread's exit (see the top). */
static void detachSignalled(Job* job) {
   Snapshot* snap = job->snap;
   for (size_t i = 0; i < snap->threadCount; i++) {
      Tracee* t = &job->tracees[i];
      if (t->seized && t->stopped && !t->gone && t->pendingSignal)
         ptrace(PTRACE_DETACH, snap->threads[i].tid, NULL, (void*)(uintptr_t)t->pendingSignal);
   }
}

static void hold(int ms) {
   struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
   while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
      ;
}

/* When every known thread is stopped and the kernel counts just as many
 * threads, no other thread exists: stopped threads create none. One read of
 * /proc/PID/stat then replaces a rescan of thousands of task entries. */
static bool taskListStable(const Job* job) {
   size_t captured = 0;
   for (size_t i = 0; i < job->snap->threadCount; i++) {
      const Tracee* t = &job->tracees[i];
      if (t->seized && !t->gone && !job->snap->threads[i].captured)
         return false; /* a thread still running may create others */
      captured += job->snap->threads[i].captured;
   }
   char path[64], buf[1024];
   Util_format(path, sizeof(path), "/proc/%d/stat", (int)job->snap->pid);
   if (Util_readFile(path, buf, sizeof(buf)) < 0)
      return true; /* the process is gone: nothing more to find */
   const char* close = strrchr(buf, ')');
   long threads = -1;
   /* after ")": state, then fields 4..19, then num_threads (field 20) */
   if (!close ||
       sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %ld", &threads) != 1)
      return false;
   return threads >= 0 && (size_t)threads == captured;
}

/* Stops the threads, rescanning until the task list is stable. */
static void stopAll(Job* job, const ProcInfo* info) {
   double deadline = Util_monotonicSeconds() + job->options->timeoutS;
   for (int round = 0; round < MAX_SCAN_ROUNDS && job->result == DUMP_OK; round++) {
      size_t from = job->snap->threadCount;
      long added = scanTasks(job);
      if (added <= 0)
         return;
      seizeAndInterrupt(job, from, info);
      captureStopped(job, deadline);
      if (Util_monotonicSeconds() > deadline || taskListStable(job))
         return;
   }
}

static size_t countCaptured(const Job* job, size_t* late) {
   size_t n = 0;
   *late = 0;
   for (size_t i = 0; i < job->snap->threadCount; i++) {
      const Tracee* t = &job->tracees[i];
      n += job->snap->threads[i].captured;
      *late += t->seized && !t->stopped && !t->gone;
   }
   return n;
}

/* Drops threads that exited during the snapshot. */
static void dropGone(Job* job) {
   Snapshot* snap = job->snap;
   size_t out = 0;
   for (size_t i = 0; i < snap->threadCount; i++) {
      const Tracee* t = &job->tracees[i];
      bool late = t->seized && !t->stopped && !t->gone;
      if (!snap->threads[i].captured && !late)
         continue;
      snap->threads[out++] = snap->threads[i];
   }
   snap->threadCount = out;
}

/* Tells apart why /proc/PID/maps gave nothing usable. */
static void mapsFailed(Job* job, const ProcInfo* info, const char* err) {
   Snapshot* snap = job->snap;
   char path[64], buf[2];
   Util_format(path, sizeof(path), "/proc/%d/maps", (int)snap->pid);
   ssize_t n = Util_readFile(path, buf, sizeof(buf));
   if (n == 0)
      fail(job, DUMP_ERR_KERNEL_THREAD,
           "pid %d (%s) has no memory mappings (a kernel thread, or exiting): there is no user stack to dump",
           (int)snap->pid, snap->comm);
   else if (n < 0 && errno == EACCES)
      explainPermission(job, info);
   else
      fail(job, DUMP_ERR_NO_PROCESS, "pid %d (%s): %s", (int)snap->pid, snap->comm, err);
}

/* A leader that called pthread_exit stays a zombie without an address space
 * while the other threads run on: its /proc/PID/maps is empty and
 * process_vm_readv refuses its pid. Any live thread shares the memory. */
static pid_t memoryPid(const Snapshot* snap) {
   if (!threadEnded(snap->pid, snap->pid))
      return snap->pid;
   char path[64];
   Util_format(path, sizeof(path), "/proc/%d/task", (int)snap->pid);
   DIR* dir = opendir(path);
   if (!dir)
      return snap->pid;
   pid_t found = snap->pid;
   struct dirent* d;
   while (found == snap->pid && (d = readdir(dir))) {
      pid_t tid;
      if (Util_parsePid(d->d_name, &tid) == 0 && tid != snap->pid && !threadEnded(snap->pid, tid))
         found = tid;
   }
   closedir(dir);
   return found;
}

static void runSnapshot(Job* job, const ProcInfo* info) {
   Snapshot* snap = job->snap;
   char err[256];
   pid_t memPid = memoryPid(snap);
   /* Read before stopping (a few ms for thousands of threads); re-read while
    * stopped only if a stack turns out to be missing from it. */
   if (Maps_read(&snap->maps, memPid, err, sizeof(err)) < 0) {
      mapsFailed(job, info, err);
      return;
   }
   stopAll(job, info);
   if (job->result == DUMP_OK) {
      if (!planStacks(snap)) {
         Maps_free(&snap->maps);
         if (Maps_read(&snap->maps, memPid, err, sizeof(err)) == 0)
            planStacks(snap);
      }
      applyBudget(snap, job->options->maxStackBytes);
      copyStacks(snap, memPid);
      if (job->options->holdMs > 0)
         hold(job->options->holdMs);
   }
   detachSignalled(job);
   if (job->result != DUMP_OK)
      return;
   size_t captured = countCaptured(job, &snap->lateThreads);
   dropGone(job);
   if (captured == 0 && snap->lateThreads > 0)
      fail(job, DUMP_ERR_TIMEOUT,
           "no thread of pid %d (%s) stopped within %.1f s (uninterruptible sleep?); retry, or raise --timeout",
           (int)snap->pid, snap->comm, job->options->timeoutS);
   else if (captured == 0)
      fail(job, DUMP_ERR_NO_PROCESS, "pid %d (%s) exited during the dump", (int)snap->pid, snap->comm);
}

typedef struct ThreadArgs_ {
   Job* job;
   const ProcInfo* info;
} ThreadArgs;

static void* tracerMain(void* arg) {
   ThreadArgs* a = arg;
   Job* job = a->job;
   if (job->options->detachOnSignal) {
      signalJob = job;
      sigset_t set;
      detachSignalSet(&set);
      pthread_sigmask(SIG_UNBLOCK, &set, NULL);
   }
   runSnapshot(job, a->info);
   if (job->options->detachOnSignal) {
      sigset_t old;
      blockDetachSignals(&old);
      signalJob = NULL;
   }
   return NULL;
}

/* The tracer can block in PTRACE_SEIZE for good: a target thread in execve
 * holds the cred_guard_mutex that attaching takes, while its de_thread waits
 * for the threads it killed to be reaped, and those we already seized only
 * their tracer's thread group can reap. So while the tracer is late, this
 * thread reaps the target's exited threads; WEXITED alone leaves their stop
 * reports to the tracer. Never the leader: de_thread releases it itself, and
 * it may be a child of this process. */
static void reapExitedThreads(pid_t pid) {
   char path[64];
   Util_format(path, sizeof(path), "/proc/%d/task", (int)pid);
   DIR* dir = opendir(path);
   if (!dir)
      return;
   struct dirent* d;
   while ((d = readdir(dir))) {
      pid_t tid;
      siginfo_t info;
      if (Util_parsePid(d->d_name, &tid) == 0 && tid != pid)
         waitid(P_PID, (id_t)tid, &info, WEXITED | WNOHANG | __WALL);
   }
   closedir(dir);
}

static void joinTracer(pthread_t tracer, pid_t pid) {
   double reapFrom = Util_monotonicSeconds() + REAP_AFTER_S;
   for (;;) {
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      ts.tv_nsec += REAP_POLL_NS;
      if (ts.tv_nsec >= 1000000000L) {
         ts.tv_sec++;
         ts.tv_nsec -= 1000000000L;
      }
      if (pthread_clockjoin_np(tracer, NULL, CLOCK_MONOTONIC, &ts) != ETIMEDOUT)
         return;
      if (Util_monotonicSeconds() > reapFrom)
         reapExitedThreads(pid);
   }
}

/* ---- public ------------------------------------------------------------ */

static DumpError checkTarget(pid_t pid, ProcInfo* info, char* err, size_t errSize) {
   if (pid == getpid()) {
      Util_format(err, errSize, "pid %d is stacktop itself: it cannot stop its own threads; give another pid",
                  (int)pid);
      return DUMP_ERR_SELF;
   }
   if (readProcInfo(pid, info) < 0) {
      Util_format(err, errSize, "no process with pid %d (check it with ps or pgrep)", (int)pid);
      return DUMP_ERR_NO_PROCESS;
   }
   if (info->tgid == getpid()) {
      Util_format(err, errSize,
                  "pid %d is a thread of stacktop itself: it cannot stop its own threads; give another pid", (int)pid);
      return DUMP_ERR_SELF;
   }
   if (info->flags & PF_KTHREAD_FLAG) {
      Util_format(err, errSize, "pid %d (%s) is a kernel thread: it has no user-space stack to dump", (int)pid,
                  info->comm);
      return DUMP_ERR_KERNEL_THREAD;
   }
   if ((info->state == 'Z' || info->state == 'X') && info->threads <= 1) {
      Util_format(err, errSize,
                  "pid %d (%s) is a zombie (exited, not yet reaped by its parent): it has no stacks to dump", (int)pid,
                  info->comm);
      return DUMP_ERR_ZOMBIE;
   }
   return DUMP_OK;
}

DumpError Snapshot_take(Snapshot* this, pid_t pid, const SnapshotOptions* options, char* err, size_t errSize) {
   *this = (Snapshot){ .pid = pid };
   ProcInfo info = { 0 };
   DumpError rc = checkTarget(pid, &info, err, errSize);
   if (rc != DUMP_OK)
      return rc;
   if (info.tgid > 0)
      this->pid = info.tgid; /* a thread id names its whole process */
   memcpy(this->comm, info.comm, sizeof(this->comm));

   Job job = { .snap = this, .options = options };
   ThreadArgs args = { &job, &info };
   /* The tracer starts with every signal blocked: in a front end no handler of
    * the host runs on it; with detachOnSignal it unblocks the detach set. */
   sigset_t all, old;
   sigfillset(&all);
   pthread_sigmask(SIG_BLOCK, &all, &old);
   pthread_t tracer;
   int e = pthread_create(&tracer, NULL, tracerMain, &args);
   if (e == 0) {
      joinTracer(tracer, this->pid);
      if (job.firstInterrupt > 0)
         this->stoppedMs = (Util_monotonicSeconds() - job.firstInterrupt) * 1000.0;
   }
   pthread_sigmask(SIG_SETMASK, &old, NULL);
   free(job.tracees);
   free(job.attached);
   if (e != 0) {
      Util_format(err, errSize, "cannot start the tracer thread: %s", strerror(e));
      rc = DUMP_ERR_INTERNAL;
   } else {
      rc = job.result;
      if (rc != DUMP_OK)
         Util_format(err, errSize, "%s", job.err);
   }
   if (rc != DUMP_OK)
      Snapshot_free(this);
   return rc;
}

void Snapshot_free(Snapshot* this) {
   if (this->arena)
      munmap(this->arena, this->arenaSize);
   this->arena = NULL;
   free(this->threads);
   this->threads = NULL;
   this->threadCount = 0;
   Maps_free(&this->maps);
}
