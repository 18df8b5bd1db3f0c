/* Stop every thread, copy registers and live stacks, release: see Snapshot.h.
 *
 * The tracer is a helper process forked per snapshot (its tracer thread, and
 * a second thread that reaps for it, see joinTracer), and its exit is the
 * release: the kernel then lets go of every tracee it still has in one sweep
 * (exit_ptrace), which costs about 1 us per thread where PTRACE_DETACH costs
 * 5-6 us (it waits for each tracee to be off CPU first): for 2,000 threads
 * that is 10 ms less pause. It is also the only way to release a thread that
 * never reached its stop within the timeout (say in uninterruptible sleep):
 * PTRACE_DETACH only works on a stopped tracee. SEIZE + INTERRUPT inject no
 * SIGSTOP, so released tracees simply run on, whatever ends the helper.
 * Only a thread caught in a signal-delivery-stop gets an explicit
 * PTRACE_DETACH, carrying its signal.
 *
 * Why a process and not a thread of stacktop: a stopped or dying stacktop
 * (Ctrl-Z, SIGSTOP, a debugger, a crash) would stop or hold its tracer
 * thread with it, and the target with them. The helper has its own process
 * group (job control does not reach it), dies with its parent
 * (PR_SET_PDEATHSIG), and is killed by its own timer at the deadline. It
 * writes the threads and stack copies into memory shared with stacktop. */
#include "stacktop/Snapshot.h"

#include <assert.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stacktop/Arch.h"
#include "stacktop/Printable.h"
#include "stacktop/ProcStat.h"
#include "stacktop/SharedMemory.h"
#include "stacktop/Signals.h"
#include "stacktop/Util.h"

/* Unwinding needs the live frames, not megabytes of a deep recursion. */
#define STACK_COPY_CAP (512u * 1024u)
/* process_vm_readv takes at most IOV_MAX (1024) iovecs per call. */
#define COPY_BATCH 512
/* From this many stacks on, a second thread shares the copying. */
#define PARALLEL_COPY_MIN 256
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
/* Room for threads created between the first look and the stop. */
#define THREAD_HEADROOM 256
#define MAX_THREADS (1u << 22)
/* Stack copies all together at most, by default (the watcher sets its own). */
#define DEFAULT_MAX_COPY ((size_t)1 << 30)
/* Faulted in before the stop, per expected thread: most live stacks are smaller. */
#define PREFAULT_PER_THREAD (4u * 1024u)
/* The helper's own timer fires this long after the deadline, as a backstop. */
#define HARD_DEADLINE_MARGIN_S 0.25
/* Seizing before the first interrupt is not part of the pause, but bounded. */
#define SEIZE_ALLOWANCE_S 2.0

static const int detachSignals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/* Per-thread tracer bookkeeping, parallel to Snapshot.threads. */
typedef struct Tracee_ {
   bool seized, stopped, gone;
   int pendingSignal; /* signal-delivery-stop: re-injected at release */
} Tracee;

/* What the helper hands back, in shared memory: stacktop reads it after the
 * helper has exited. */
typedef struct Shared_ {
   DumpError result;
   char err[512];
   bool finished; /* the helper got to the end (not cut off by its timer) */
   bool mapsChanged;
   size_t threadCount, threadCapacity;
   SnapshotThread* threads; /* right after this struct */
   uint8_t* stacks;         /* the stack copy reservation */
   size_t stacksSize, stacksPrefaulted, stacksCopied;
   size_t lateThreads, missedThreads, cutStacks;
   double firstInterrupt, interrupted, allStopped, copied;
} Shared;

/* The helper's working state (its own memory). */
typedef struct Job_ {
   Snapshot* snap;
   Shared* shared;
   const SnapshotOptions* options;
   Tracee* tracees; /* threadCapacity entries */
   double deadline; /* monotonic seconds: the pause ends by then */
   DumpError result;
   char err[512];
} Job;

/* The one piece of global state: the helper a CLI signal handler must end.
 * Set only for detachOnSignal snapshots (one per process at a time). */
static volatile pid_t signalHelper;

static void onDetachSignal(int sig) {
   pid_t helper = signalHelper;
   if (helper > 0)
      kill(helper, SIGKILL); /* its exit releases every thread */
   _exit(128 + sig);
}

void Snapshot_installSignalHandlers(void) {
   Signals_install(detachSignals, SIGNALS_COUNT(detachSignals), onDetachSignal, 0, true);
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
   bool kernelThread;
   pid_t tgid;
   long threads;
   pid_t tracer;
} ProcInfo;

static long statusField(const char* status, const char* key) {
   const char* p = strstr(status, key);
   return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static int readProcInfo(pid_t pid, ProcInfo* info) {
   char path[64], status[4096];
   ProcStat st;
   if (!ProcStat_read(pid, 0, &st))
      return -1;
   memcpy(info->comm, st.comm, sizeof(info->comm));
   info->state = st.state;
   info->kernelThread = ProcStat_isKernelThread(&st);
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

/* The parent of a process (its PPid), 0 when unknown. */
static pid_t parentOf(pid_t pid) {
   char path[64], status[4096];
   Util_format(path, sizeof(path), "/proc/%d/status", (int)pid);
   return Util_readFile(path, status, sizeof(status)) < 0 ? 0 : (pid_t)statusField(status, "\nPPid:");
}

/* Why ptrace was refused, as one message. */
static void describePermission(pid_t pid, const char* comm, const ProcInfo* info, char* msg, size_t msgSize) {
   char why[256];
   char buf[32];
   long scope = Util_readFile("/proc/sys/kernel/yama/ptrace_scope", buf, sizeof(buf)) > 0 ? strtol(buf, NULL, 10) : 0;
   bool privileged = geteuid() == 0 || haveCapSysPtrace();
   pid_t tracer = currentTracer(pid, info);
   if (tracer > 0 && (tracer == getpid() || parentOf(tracer) == getpid() || parentOf(tracer) == getppid()))
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
   Util_format(msg, msgSize, "cannot attach to pid %d (%s): %s", (int)pid, comm, why);
}

static void explainPermission(Job* job, const ProcInfo* info) {
   char msg[512];
   describePermission(job->snap->pid, job->snap->comm, info, msg, sizeof(msg));
   fail(job, DUMP_ERR_PERMISSION, "%s", msg);
}

/* ---- tracing --------------------------------------------------------- */

/* Records a new thread; its name and state are read after the release.
 * False when there is no room left (counted as missed). */
static bool addThread(Job* job, pid_t tid) {
   Snapshot* snap = job->snap;
   Shared* sh = job->shared;
   if (snap->threadCount >= sh->threadCapacity) {
      sh->missedThreads++;
      return false;
   }
   size_t i = snap->threadCount++;
   assert(snap->threads == sh->threads && i < sh->threadCapacity);
   snap->threads[i] = (SnapshotThread){ .tid = tid, .state = '?' };
   job->tracees[i] = (Tracee){ 0 };
   return true;
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
   pid_t* knownTids = Util_xcalloc(knownCount ? knownCount : 1, sizeof(pid_t));
   for (size_t i = 0; i < knownCount; i++)
      knownTids[i] = job->snap->threads[i].tid;
   qsort(knownTids, knownCount, sizeof(pid_t), compareTid);
   long added = 0;
   struct dirent* d;
   while ((d = readdir(dir))) {
      pid_t tid;
      if (Util_parsePid(d->d_name, &tid) < 0 || bsearch(&tid, knownTids, knownCount, sizeof(pid_t), compareTid))
         continue;
      added += addThread(job, tid);
   }
   closedir(dir);
   free(knownTids);
   return added;
}

/* The kernel refuses to attach to an exiting thread with EPERM, not ESRCH. */
static bool threadEnded(pid_t pid, pid_t tid) {
   ProcStat st;
   return !ProcStat_read(pid, tid, &st) || st.state == 'Z' || st.state == 'X';
}

/* The pause starts with the first interrupt: from then on everything is
 * bounded by the deadline, and the helper's own timer kills it (releasing
 * every thread) shortly after, whatever it is doing. */
static void startPause(Job* job) {
   double now = Util_monotonicSeconds();
   job->shared->firstInterrupt = now;
   job->deadline = now + job->options->timeoutS;
   job->snap->deadline = job->deadline;
   double hard = job->options->timeoutS + HARD_DEADLINE_MARGIN_S;
   struct itimerval t = { .it_value = { .tv_sec = (time_t)hard, .tv_usec = (suseconds_t)((hard - (long)hard) * 1e6) } };
   setitimer(ITIMER_REAL, &t, NULL);
}

static void seizeAndInterrupt(Job* job, size_t from, const ProcInfo* info) {
   Snapshot* snap = job->snap;
   for (size_t i = from; i < snap->threadCount && job->result == DUMP_OK; i++) {
      if (ptrace(PTRACE_SEIZE, snap->threads[i].tid, NULL, NULL) == 0) {
         job->tracees[i].seized = true;
      } else if (errno == EPERM && !threadEnded(job->snap->pid, snap->threads[i].tid)) {
         explainPermission(job, info);
      } else {
         job->tracees[i].gone = true; /* ESRCH: it exited meanwhile */
      }
   }
   for (size_t i = from; i < snap->threadCount && job->result == DUMP_OK; i++) {
      if (!job->tracees[i].seized)
         continue;
      if (job->shared->firstInterrupt == 0)
         startPause(job);
      /* Past the deadline, the rest are not stopped at all: reported as
       * missing rather than lengthening the pause (10,000 interrupts take
       * tens of milliseconds). */
      else if (Util_monotonicSeconds() > job->deadline) {
         job->tracees[i].seized = false;
         job->tracees[i].gone = true;
         job->shared->missedThreads++;
         continue;
      }
      if (ptrace(PTRACE_INTERRUPT, snap->threads[i].tid, NULL, NULL) < 0)
         job->tracees[i].gone = true;
   }
   job->shared->interrupted = Util_monotonicSeconds();
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
      ProcStat st;
      if (ProcStat_read(snap->pid, snap->threads[i].tid, &st) && st.state != 'D')
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

/* Sets each captured thread's stack range: SP minus the red zone up to the
 * end of the mapping holding SP, capped. Returns false if some SP lies in no
 * known mapping (a stack mapped after maps was read). */
static bool planStacks(Snapshot* snap) {
   bool allFound = true;
   for (size_t i = 0; i < snap->threadCount; i++) {
      SnapshotThread* th = &snap->threads[i];
      if (!th->captured)
         continue;
      uint64_t sp = Arch_sp(&th->regs);
      const MapEntry* e = Maps_find(&snap->maps, sp);
      if (!e) {
         th->stackSize = 0;
         allFound = false;
         continue;
      }
      uint64_t lo = sp - ARCH_RED_ZONE >= e->start && sp >= ARCH_RED_ZONE ? sp - ARCH_RED_ZONE : e->start;
      uint64_t hi = e->end - lo > STACK_COPY_CAP ? lo + STACK_COPY_CAP : e->end;
      th->stackCut = hi < e->end;
      /* The thread pointer (glibc's struct pthread, Go's m.tls) never lies
       * inside a live stack: when it is above SP in the same mapping, the
       * stack ends below it (glibc keeps its 2.3 KiB TCB there). */
      uint64_t tp = Arch_threadPointer(&th->regs);
      if (tp > sp && tp < hi) {
         hi = tp;
         th->stackCut = false;
      }
      th->stackStart = lo;
      th->stackSize = (size_t)(hi - lo);
   }
   return allFound;
}

/* Over the budget (a process with thousands of deep stacks must not make
 * stacktop copy hundreds of MB while it is stopped), the deep stacks lose
 * their far (outer) ends: each keeps min(size, share) with the largest
 * share that fits, so the shallow ones are never cut for the deep ones;
 * cut stacks say so. */
static void fitBudget(Snapshot* snap, size_t budget) {
   size_t total = 0;
   for (size_t i = 0; i < snap->threadCount; i++)
      total += snap->threads[i].captured ? snap->threads[i].stackSize : 0;
   if (total <= budget)
      return;
   size_t share = fairShare(snap, budget);
   for (size_t i = 0; i < snap->threadCount; i++) {
      SnapshotThread* th = &snap->threads[i];
      if (!th->captured || th->stackSize <= share)
         continue;
      th->stackSize = share;
      th->stackCut = true;
   }
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
   double deadline;
} CopyRange;

/* Stacks not copied by the deadline are left empty (their threads unwind
 * to the interrupted instruction only, marked as cut). */
static void* copyRange(void* arg) {
   const CopyRange* r = arg;
   for (size_t i = 0; i < r->count; i += COPY_BATCH) {
      if (Util_monotonicSeconds() > r->deadline) {
         for (size_t k = i; k < r->count; k++) {
            r->list[k]->stackCut = true;
            r->list[k]->stackSize = 0;
         }
         return NULL;
      }
      copyBatch(r->pid, r->list + i, r->count - i < COPY_BATCH ? r->count - i : COPY_BATCH);
   }
   return NULL;
}

/* All copies go to the shared reservation, faulted in before the stop as
 * far as expected (faulting thousands of fresh pages one by one during the
 * copy would lengthen the pause). Many stacks are copied by two threads at
 * once (process_vm_readv needs no tracer): the copy is most of the pause
 * after the stop itself. */
static void copyStacks(Job* job, pid_t memPid) {
   Snapshot* snap = job->snap;
   Shared* sh = job->shared;
   fitBudget(snap, sh->stacksSize);
   size_t total = 0, n = 0;
   for (size_t i = 0; i < snap->threadCount; i++) {
      const SnapshotThread* th = &snap->threads[i];
      total += th->captured ? th->stackSize : 0;
      n += th->captured && th->stackSize;
   }
   sh->stacksCopied = total;
   if (total == 0)
      return;
   if (total > sh->stacksPrefaulted)
      SharedMemory_populate(sh->stacks + sh->stacksPrefaulted, total - sh->stacksPrefaulted);
   SnapshotThread** list = Util_xcalloc(n, sizeof(SnapshotThread*));
   size_t k = 0, used = 0;
   for (size_t i = 0; i < snap->threadCount; i++) {
      SnapshotThread* th = &snap->threads[i];
      if (!th->captured || th->stackSize == 0)
         continue;
      th->stack = sh->stacks + used;
      used += th->stackSize;
      list[k++] = th;
   }
   size_t half = n >= PARALLEL_COPY_MIN ? n / 2 : n;
   CopyRange mine = { memPid, list, half, job->deadline }, other = { memPid, list + half, n - half, job->deadline };
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

#ifdef STACKTOP_TEST_HOOKS
/* Test builds only: keep the threads stopped longer (STACKTOP_TEST_HOLD_MS),
 * so that tests can stop or kill stacktop in the middle of a pause. */
static void hold(int ms) {
   struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
   while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
      ;
}
#endif

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
   ProcStat st;
   if (!ProcStat_read(job->snap->pid, 0, &st))
      return true; /* the process is gone: nothing more to find */
   return st.threads >= 0 && (size_t)st.threads == captured;
}

/* Stops the threads, rescanning until the task list is stable. */
static void stopAll(Job* job, const ProcInfo* info) {
   for (int round = 0; round < MAX_SCAN_ROUNDS && job->result == DUMP_OK; round++) {
      size_t from = job->snap->threadCount;
      long added = scanTasks(job);
      if (added <= 0)
         return;
      seizeAndInterrupt(job, from, info);
      captureStopped(job, job->deadline);
      if (Util_monotonicSeconds() > job->deadline || taskListStable(job))
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
static DumpError mapsFailed(const Snapshot* snap, const ProcInfo* info, const char* why, char* err, size_t errSize) {
   char path[64], buf[2];
   Util_format(path, sizeof(path), "/proc/%d/maps", (int)snap->pid);
   ssize_t n = Util_readFile(path, buf, sizeof(buf));
   if (n == 0) {
      Util_format(err, errSize,
                  "pid %d (%s) has no memory mappings (a kernel thread, or exiting): there is no user stack to dump",
                  (int)snap->pid, snap->comm);
      return DUMP_ERR_KERNEL_THREAD;
   }
   if (n < 0 && errno == EACCES) {
      describePermission(snap->pid, snap->comm, info, err, errSize);
      return DUMP_ERR_PERMISSION;
   }
   Util_format(err, errSize, "pid %d (%s): %s", (int)snap->pid, snap->comm, why);
   return DUMP_ERR_NO_PROCESS;
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

/* The tracer thread's whole job, in the helper. */
static void runSnapshot(Job* job, const ProcInfo* info) {
   Snapshot* snap = job->snap;
   Shared* sh = job->shared;
   char err[256];
   stopAll(job, info);
   sh->allStopped = Util_monotonicSeconds();
   if (job->result == DUMP_OK) {
      if (!planStacks(snap)) {
         /* A stack mapped after maps was read: read them again (stacktop
          * does too, after the release). */
         Maps_free(&snap->maps);
         if (Maps_read(&snap->maps, snap->memPid, err, sizeof(err)) == 0)
            planStacks(snap);
         sh->mapsChanged = true;
      }
      copyStacks(job, snap->memPid);
      if (job->options->whileStopped && Util_monotonicSeconds() < job->deadline)
         job->options->whileStopped(job->options->hookCtx, snap);
#ifdef STACKTOP_TEST_HOOKS
      if (job->options->holdMs > 0)
         hold(job->options->holdMs);
#endif
   }
   sh->copied = Util_monotonicSeconds();
   detachSignalled(job);
   if (job->result != DUMP_OK)
      return;
   size_t captured = countCaptured(job, &sh->lateThreads);
   dropGone(job);
   if (captured == 0 && sh->lateThreads > 0)
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
   runSnapshot(a->job, a->info);
   return NULL;
}

/* The tracer can block in PTRACE_SEIZE for good: a target thread in execve
 * holds the cred_guard_mutex that attaching takes, while its de_thread waits
 * for the threads it killed to be reaped, and those we already seized only
 * their tracer's thread group can reap. So while the tracer is late, the
 * helper's other thread reaps the target's exited threads; WEXITED alone
 * leaves their stop reports to the tracer. Never the leader: de_thread
 * releases it itself. */
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

/* Only while the tracer is still stopping threads: once the pause has
 * started no execve can be pending on us any more. */
static void joinTracer(pthread_t tracer, Job* job) {
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
      if (Util_monotonicSeconds() > reapFrom && job->shared->allStopped == 0)
         reapExitedThreads(job->snap->pid);
   }
}

/* ---- the helper process ------------------------------------------------- */

/* The helper: its own process group (a terminal's Ctrl-Z and Ctrl-C go to
 * stacktop's), dead with its parent, default signal dispositions, a timer
 * that kills it if the stop phase itself overruns. Never returns. */
static void helperMain(Snapshot* snap, Shared* sh, const SnapshotOptions* options, const ProcInfo* info, pid_t parent) {
   setpgid(0, 0);
   prctl(PR_SET_PDEATHSIG, SIGKILL);
   if (getppid() != parent)
      _exit(1);
   for (int sig = 1; sig < NSIG; sig++)
      if (sig != SIGKILL && sig != SIGSTOP)
         signal(sig, SIG_DFL);
   sigset_t none;
   sigemptyset(&none);
   pthread_sigmask(SIG_SETMASK, &none, NULL);
   double backstop = options->timeoutS + SEIZE_ALLOWANCE_S + HARD_DEADLINE_MARGIN_S;
   struct itimerval t = { .it_value = { .tv_sec = (time_t)backstop, .tv_usec = 0 } };
   setitimer(ITIMER_REAL, &t, NULL);

   Job job = { .snap = snap, .shared = sh, .options = options };
   job.tracees = Util_xcalloc(sh->threadCapacity, sizeof(Tracee));
   job.deadline = Util_monotonicSeconds() + SEIZE_ALLOWANCE_S + options->timeoutS;
   snap->threads = sh->threads;
   snap->threadCount = 0;
   ThreadArgs args = { &job, info };
   pthread_t tracer;
   if (pthread_create(&tracer, NULL, tracerMain, &args) != 0) {
      sh->result = DUMP_ERR_INTERNAL;
      Util_format(sh->err, sizeof(sh->err), "cannot start the tracer thread in the helper process");
      _exit(1);
   }
   joinTracer(tracer, &job);
   sh->threadCount = snap->threadCount;
   sh->result = job.result;
   memcpy(sh->err, job.err, sizeof(sh->err));
   sh->finished = true;
   _exit(0);
}

/* Waits for the helper, which its own timer bounds; EINTR is a signal for
 * stacktop (the CLI's handler ends both). */
static int waitHelper(pid_t helper) {
   int status = 0;
   while (waitpid(helper, &status, 0) < 0) {
      if (errno != EINTR)
         return -1;
   }
   return status;
}

/* The shared block: the result, room for threads, and the stack copies. */
static Shared* allocateShared(const ProcInfo* info, const SnapshotOptions* options, size_t* size) {
   size_t expected = info->threads > 0 ? (size_t)info->threads : 1;
   size_t capacity = expected * 2 + THREAD_HEADROOM;
   if (capacity > MAX_THREADS)
      capacity = MAX_THREADS;
   *size = sizeof(Shared) + capacity * sizeof(SnapshotThread);
   Shared* sh = SharedMemory_alloc(*size, false);
   if (!sh)
      return NULL;
   sh->threadCapacity = capacity;
   sh->threads = (SnapshotThread*)(sh + 1);
   size_t budget = options->maxCopyBytes ? options->maxCopyBytes : DEFAULT_MAX_COPY;
   size_t reserve = capacity * (size_t)STACK_COPY_CAP;
   sh->stacksSize = reserve < budget ? reserve : budget;
   sh->stacks = SharedMemory_alloc(sh->stacksSize, false);
   if (!sh->stacks) {
      SharedMemory_free(sh, *size);
      return NULL;
   }
   /* Faulted in now, not during the pause, for the usual stack sizes. */
   size_t prefault = expected * PREFAULT_PER_THREAD;
   sh->stacksPrefaulted = prefault < sh->stacksSize ? prefault : sh->stacksSize;
   if (!SharedMemory_populate(sh->stacks, sh->stacksPrefaulted))
      sh->stacksPrefaulted = 0;
   return sh;
}

static void freeShared(Shared* sh, size_t size) {
   if (!sh)
      return;
   SharedMemory_free(sh->stacks, sh->stacksSize);
   SharedMemory_free(sh, size);
}

/* Names, read after the release (reading them before the stop cost
 * thousands of /proc reads ahead of the pause). The state at the instant of
 * the stop comes from the registers: a thread interrupted inside a system
 * call (orig_rax is its number) was sleeping in the kernel, one interrupted
 * in user code (orig_rax -1) was running; one that never stopped is read
 * from /proc (usually D, uninterruptible). */
/* Bytes of /proc/PID/task/TID/stack read at most (a kernel stack is a few
 * dozen short lines). */
#define KERNEL_STACK_MAX 4096

/* A thread that never stopped is in the kernel (D state: disk or NFS I/O,
 * a vfork parent, a frozen cgroup): its wait channel, and its kernel stack
 * where the kernel shows it (root, CONFIG_STACKTRACE). */
static void readKernelWait(const Snapshot* snap, SnapshotThread* th) {
   DumpKernelWait* w = &th->wait;
   char path[96];
   Util_format(path, sizeof(path), "/proc/%d/task/%d/wchan", (int)snap->pid, (int)th->tid);
   if (Util_readFile(path, w->wchan, sizeof(w->wchan)) < 0 || strcmp(w->wchan, "0") == 0)
      w->wchan[0] = '\0';
   Printable_inPlace(w->wchan, sizeof(w->wchan));
   Util_format(path, sizeof(path), "/proc/%d/task/%d/stack", (int)snap->pid, (int)th->tid);
   size_t len = 0;
   w->stack = Util_slurp(path, KERNEL_STACK_MAX, &len);
   if (!w->stack) {
      Util_format(w->stackErr, sizeof(w->stackErr), "%s", strerror(errno));
      return;
   }
   while (len > 0 && w->stack[len - 1] == '\n')
      w->stack[--len] = '\0';
   if (len == 0) {
      free(w->stack);
      w->stack = NULL;
      Util_format(w->stackErr, sizeof(w->stackErr), "empty (the kernel shows no stack)");
   }
}

static void readNamesAndStates(Snapshot* snap) {
   for (size_t i = 0; i < snap->threadCount; i++) {
      SnapshotThread* th = &snap->threads[i];
      ProcStat st;
      char state = '?';
      if (ProcStat_read(snap->pid, th->tid, &st)) {
         memcpy(th->name, st.comm, sizeof(th->name));
         state = st.state;
      }
      if (th->captured)
         state = Arch_inSystemCall(&th->regs) ? 'S' : 'R';
      else
         readKernelWait(snap, th);
      th->state = state;
   }
}

static double elapsedMs(double from, double to) {
   return from > 0 && to > from ? (to - from) * 1000.0 : 0.0;
}

/* The helper's results into the snapshot; its shared block is kept: the
 * threads and their stack copies live there. */
static DumpError collectResults(Snapshot* this, Shared* sh, int status, double seenExit, double timeoutS, char* err,
                                size_t errSize) {
   this->threads = sh->threads;
   this->threadCount = sh->finished ? sh->threadCount : 0;
   this->lateThreads = sh->lateThreads;
   this->missedThreads = sh->missedThreads;
   this->copiedBytes = sh->stacksCopied;
   this->stoppedMs = elapsedMs(sh->firstInterrupt, seenExit);
   this->phases = (SnapshotPhases){ .interruptMs = elapsedMs(sh->firstInterrupt, sh->interrupted),
                                    .waitMs = elapsedMs(sh->interrupted, sh->allStopped),
                                    .copyMs = elapsedMs(sh->allStopped, sh->copied),
                                    .releaseMs = elapsedMs(sh->copied, seenExit) };
   if (!sh->finished && WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
      Util_format(err, errSize,
                  "the stop of pid %d (%s) overran --timeout %.1f s and was cut off (every thread was released); "
                  "retry, or raise --timeout",
                  (int)this->pid, this->comm, timeoutS);
      return DUMP_ERR_TIMEOUT;
   }
   if (!sh->finished) {
      Util_format(err, errSize,
                  "the helper process that stops pid %d (%s) ended early (wait status %#x); every thread was released",
                  (int)this->pid, this->comm, (unsigned)status);
      return DUMP_ERR_INTERNAL;
   }
   if (sh->result != DUMP_OK)
      Util_format(err, errSize, "%s", sh->err);
   return sh->result;
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
   if (info->kernelThread) {
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
   this->memPid = memoryPid(this);
   /* Read before stopping (a few ms for thousands of threads); the helper
    * re-reads them only if a stack turns out to be missing from them. */
   char why[256];
   if (Maps_read(&this->maps, this->memPid, why, sizeof(why)) < 0)
      return mapsFailed(this, &info, why, err, errSize);
   if (options->beforeStop)
      options->beforeStop(options->hookCtx, this);

   size_t sharedSize;
   Shared* sh = allocateShared(&info, options, &sharedSize);
   if (!sh) {
      Util_format(err, errSize, "cannot map memory for the stacks of pid %d: %s", (int)this->pid, strerror(errno));
      Snapshot_free(this);
      return DUMP_ERR_INTERNAL;
   }
   pid_t parent = getpid();
   /* No signal handler of stacktop may run in the fork: the helper sets its
    * own dispositions first. */
   sigset_t all, old;
   sigfillset(&all);
   pthread_sigmask(SIG_BLOCK, &all, &old);
   pid_t helper = fork();
   if (helper == 0)
      helperMain(this, sh, options, &info, parent);
   if (options->detachOnSignal && helper > 0)
      signalHelper = helper;
   pthread_sigmask(SIG_SETMASK, &old, NULL);
   if (helper < 0) {
      Util_format(err, errSize, "cannot start the helper process that stops pid %d: %s", (int)this->pid,
                  strerror(errno));
      freeShared(sh, sharedSize);
      Snapshot_free(this);
      return DUMP_ERR_INTERNAL;
   }
   int status = waitHelper(helper);
   double seenExit = Util_monotonicSeconds();
   signalHelper = 0;
   this->shared = sh;
   this->sharedSize = sharedSize;
   rc = collectResults(this, sh, status, seenExit, options->timeoutS, err, errSize);
   if (rc != DUMP_OK) {
      Snapshot_free(this);
      return rc;
   }
   readNamesAndStates(this);
   if (sh->mapsChanged) {
      Maps_free(&this->maps);
      Maps_read(&this->maps, this->memPid, why, sizeof(why));
   }
   return DUMP_OK;
}

void Snapshot_free(Snapshot* this) {
   for (size_t i = 0; i < this->threadCount; i++)
      free(this->threads[i].wait.stack);
   freeShared(this->shared, this->sharedSize);
   this->shared = NULL;
   this->threads = NULL;
   this->threadCount = 0;
   Maps_free(&this->maps);
}
