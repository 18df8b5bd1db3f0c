/* Sampler: the pure CPU% arithmetic and state mapping, then live refreshes
 * of the test process itself (its own threads, pid and user filters). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "stacktop/Sampler.h"
#include "stacktop/Util.h"

static void test_cpu_percent(void** state) {
   (void)state;
   /* 150 ticks at 100 Hz over 1.5 s: one core fully busy. */
   assert_true(fabs(Sampler_cpuPercent(150, 100, 1.5) - 100.0) < 1e-9);
   /* Two busy threads: 200% of one core. */
   assert_true(fabs(Sampler_cpuPercent(300, 100, 1.5) - 200.0) < 1e-9);
   assert_true(fabs(Sampler_cpuPercent(25, 250, 0.2) - 50.0) < 1e-9);
   assert_true(Sampler_cpuPercent(0, 100, 1.0) == 0.0);
   /* No interval (first refresh) or a bad clock rate: 0, never inf/nan. */
   assert_true(Sampler_cpuPercent(100, 100, 0.0) == 0.0);
   assert_true(Sampler_cpuPercent(100, 100, -1.0) == 0.0);
   assert_true(Sampler_cpuPercent(100, 0, 1.0) == 0.0);
   assert_true(Sampler_cpuPercent(100, 100, NAN) == 0.0);
}

static void test_state_mapping(void** state) {
   (void)state;
   static const struct {
      char letter;
      TaskState state;
   } cases[] = {
      { 'R', TASK_R }, { 'S', TASK_S }, { 'D', TASK_D }, { 'T', TASK_T }, { 'Z', TASK_Z },
      { 'I', TASK_S }, { 't', TASK_T }, { 'X', TASK_Z }, { 'x', TASK_Z }, { 'W', TASK_S },
      { 'P', TASK_S }, { 'K', TASK_S }, { '?', TASK_S },
   };
   for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
      assert_int_equal(TaskState_fromLetter(cases[i].letter), cases[i].state);
   const char* letters = "RSDTZ";
   for (int s = 0; s < TASK_STATE_COUNT; s++) {
      assert_int_equal(TaskState_letter((TaskState)s), letters[s]);
      assert_int_equal(TaskState_fromLetter(letters[s]), s);
   }
   assert_int_equal(TaskState_letter(TASK_STATE_COUNT), '?');
}

/* ---- live: this test process with two extra sleeping threads */

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;

static void* parked(void* arg) {
   (void)arg;
   pthread_mutex_lock(&gate);
   pthread_mutex_unlock(&gate);
   return NULL;
}

static unsigned stateSum(const unsigned counts[TASK_STATE_COUNT]) {
   unsigned sum = 0;
   for (int s = 0; s < TASK_STATE_COUNT; s++)
      sum += counts[s];
   return sum;
}

static void test_live_self(void** state) {
   (void)state;
   pthread_t t[2];
   pthread_mutex_lock(&gate);
   for (int i = 0; i < 2; i++)
      assert_int_equal(pthread_create(&t[i], NULL, parked, NULL), 0);

   char err[256] = "";
   SamplerOptions opts = { .historyCapacity = 5 };
   Sampler* s = Sampler_new(&opts, err, sizeof(err));
   assert_non_null(s);
   for (int i = 0; i < 3; i++) {
      assert_int_equal(Sampler_refresh(s, err, sizeof(err)), 0);
      usleep(20000);
   }
   const ProcessSample* me = Sampler_find(s, getpid());
   assert_non_null(me);
   assert_int_equal(me->pid, getpid());
   assert_int_equal(me->ppid, getppid());
   assert_int_equal(me->uid, geteuid());
   assert_int_equal(me->threads, 3);
   assert_int_equal(stateSum(me->threadStates), 3);
   assert_int_equal(me->threadStates[TASK_R], 1); /* this thread, reading /proc */
   assert_null(me->threadRows);
   assert_true(me->resKiB > 0 && me->virtKiB >= me->resKiB);
   assert_true(me->memPct > 0 && me->memPct < 100);
   assert_true(strstr(me->command, "test_sampler") != NULL);
   assert_non_null(me->history);
   assert_int_equal(History_count(me->history), 3);

   const SystemSample* sys = Sampler_system(s);
   assert_true(sys->tasks >= Sampler_count(s));
   assert_int_equal(stateSum(sys->taskStates), sys->tasks);
   assert_int_equal(stateSum(sys->threadStates), sys->threads);
   assert_true(sys->threads >= sys->tasks);
   assert_true(sys->memTotalKiB > 0 && sys->memAvailableKiB <= sys->memTotalKiB);
   assert_true(sys->intervalS > 0);
   assert_true(sys->cpuCount >= 1);

   /* Thread rows on: one per thread, with this thread among them. */
   Sampler_setThreads(s, true);
   assert_int_equal(Sampler_refresh(s, err, sizeof(err)), 0);
   me = Sampler_find(s, getpid());
   assert_non_null(me);
   assert_int_equal(me->threadRowCount, 3);
   bool foundMain = false;
   for (size_t i = 0; i < me->threadRowCount; i++)
      foundMain |= me->threadRows[i].tid == getpid();
   assert_true(foundMain);
   /* History keeps at most its capacity. */
   for (int i = 0; i < 4; i++)
      assert_int_equal(Sampler_refresh(s, err, sizeof(err)), 0);
   assert_int_equal(History_count(Sampler_find(s, getpid())->history), 5);
   Sampler_free(s);

   pthread_mutex_unlock(&gate);
   for (int i = 0; i < 2; i++)
      pthread_join(t[i], NULL);
}

static void test_live_filters(void** state) {
   (void)state;
   char err[256];
   pid_t pids[] = { getpid(), 1, 999999999 };
   SamplerOptions opts = { .pids = pids, .pidCount = 3 };
   Sampler* s = Sampler_new(&opts, err, sizeof(err));
   assert_non_null(s);
   assert_int_equal(Sampler_refresh(s, err, sizeof(err)), 0);
   assert_int_equal(Sampler_count(s), 2); /* the missing pid is simply absent */
   assert_int_equal(Sampler_at(s, 0)->pid, 1);
   assert_int_equal(Sampler_at(s, 1)->pid, getpid());
   assert_null(Sampler_at(s, 2));
   assert_null(Sampler_find(s, 999999999));
   /* System totals still cover every process. */
   assert_true(Sampler_system(s)->tasks > 2);
   Sampler_free(s);

   SamplerOptions byUser = { .filterUser = true, .uid = 4242424 };
   s = Sampler_new(&byUser, err, sizeof(err));
   assert_non_null(s);
   assert_int_equal(Sampler_refresh(s, err, sizeof(err)), 0);
   assert_int_equal(Sampler_count(s), 0);
   Sampler_free(s);

   SamplerOptions mine = { .filterUser = true, .uid = geteuid() };
   s = Sampler_new(&mine, err, sizeof(err));
   assert_int_equal(Sampler_refresh(s, err, sizeof(err)), 0);
   assert_non_null(Sampler_find(s, getpid()));
   for (size_t i = 0; i < Sampler_count(s); i++)
      assert_int_equal(Sampler_at(s, i)->uid, geteuid());
   Sampler_free(s);
}

/* ---- the fields added for the monitor's columns */

static volatile int spinStop;

static void* spin(void* arg) {
   (void)arg;
   while (!spinStop) {
   }
   return NULL;
}

/* With thread rows on, no thread shows more CPU time than its process in
 * the same refresh (nor all of them together), even while one thread burns
 * CPU and the others sleep: the process was read before its threads. */
static void test_thread_time_never_above_process(void** state) {
   (void)state;
   pthread_t busy, sleepers[2];
   spinStop = 0;
   pthread_mutex_lock(&gate);
   assert_int_equal(pthread_create(&busy, NULL, spin, NULL), 0);
   for (int i = 0; i < 2; i++)
      assert_int_equal(pthread_create(&sleepers[i], NULL, parked, NULL), 0);
   char err[256];
   Sampler* s = Sampler_new(NULL, err, sizeof(err));
   Sampler_setThreads(s, true);
   for (int i = 0; i < 60; i++) {
      assert_int_equal(Sampler_refresh(s, err, sizeof(err)), 0);
      const ProcessSample* me = Sampler_find(s, getpid());
      assert_non_null(me);
      double sum = 0;
      for (size_t t = 0; t < me->threadRowCount; t++) {
         if (me->threadRows[t].cpuTimeS > me->cpuTimeS)
            fail_msg("refresh %d: thread %d TIME %.2f above its process's %.2f", i, (int)me->threadRows[t].tid,
                     me->threadRows[t].cpuTimeS, me->cpuTimeS);
         sum += me->threadRows[t].cpuTimeS;
      }
      assert_true(sum <= me->cpuTimeS + 1e-9);
      usleep(5000);
   }
   Sampler_free(s);
   spinStop = 1;
   pthread_join(busy, NULL);
   pthread_mutex_unlock(&gate);
   for (int i = 0; i < 2; i++)
      pthread_join(sleepers[i], NULL);
}

static void test_new_fields(void** state) {
   (void)state;
   char err[256];
   Sampler* s = Sampler_new(NULL, err, sizeof(err));
   Sampler_setFields(s, SAMPLER_FIELD_IO | SAMPLER_FIELD_FDS | SAMPLER_FIELD_WCHAN);
   assert_int_equal(Sampler_refresh(s, err, sizeof(err)), 0);
   const ProcessSample* me = Sampler_find(s, getpid());
   assert_int_equal(me->nice, getpriority(PRIO_PROCESS, 0));
   assert_true(me->processor >= 0 && me->processor < sysconf(_SC_NPROCESSORS_CONF));
   /* Started before now, and not before boot. */
   double now = Util_wallSeconds();
   assert_true(me->startTime <= now + 1 && me->startTime > now - 86400.0 * 3650);
   /* Rates need two reads. */
   assert_true(me->ioReadRate < 0 && me->ioWriteRate < 0);
   assert_true(me->fds >= 3);
   int extra = open("/dev/null", O_RDONLY);
   usleep(20000);
   assert_int_equal(Sampler_refresh(s, err, sizeof(err)), 0);
   me = Sampler_find(s, getpid());
   assert_true(me->ioReadRate >= 0 && me->ioWriteRate >= 0);
   long fds = me->fds;
   close(extra);
   assert_int_equal(Sampler_refresh(s, err, sizeof(err)), 0);
   assert_int_equal(Sampler_find(s, getpid())->fds, fds - 1);
   /* Without the fields, nothing is read. */
   Sampler_setFields(s, 0);
   assert_int_equal(Sampler_refresh(s, err, sizeof(err)), 0);
   me = Sampler_find(s, getpid());
   assert_true(me->fds < 0 && me->ioReadRate < 0);
   assert_string_equal(me->wchan, "");
   /* Kernel threads keep no history. */
   const ProcessSample* kthreadd = Sampler_find(s, 2);
   if (kthreadd) {
      assert_true(kthreadd->kernelThread);
      assert_null(kthreadd->history);
      assert_false(kthreadd->resGrowthKnown);
   }
   Sampler_free(s);
}

/* historyOnDemand (the watcher): no History for a process nobody asked
 * about; one asked for starts with this refresh's sample and keeps growing;
 * one no longer asked for loses it after the grace period. */
static void test_history_on_demand(void** state) {
   (void)state;
   char err[256];
   pid_t pids[] = { getpid(), 1 };
   SamplerOptions opts = { .pids = pids, .pidCount = 2, .historyOnDemand = true, .historyCapacity = 8 };
   Sampler* s = Sampler_new(&opts, err, sizeof(err));
   assert_int_equal(Sampler_refresh(s, err, sizeof(err)), 0);
   assert_null(Sampler_find(s, getpid())->history);
   assert_null(Sampler_find(s, 1)->history);
   Sampler_keepHistory(s, getpid());
   const History* h = Sampler_find(s, getpid())->history;
   assert_non_null(h);
   assert_int_equal(History_count(h), 1);
   assert_true(History_last(h)->resKiB == Sampler_find(s, getpid())->resKiB);
   for (int i = 0; i < 3; i++) {
      assert_int_equal(Sampler_refresh(s, err, sizeof(err)), 0);
      Sampler_keepHistory(s, getpid());
   }
   assert_int_equal(History_count(Sampler_find(s, getpid())->history), 4);
   assert_null(Sampler_find(s, 1)->history);
   /* Not asked for again: kept through the grace period, then dropped. */
   for (int i = 0; i < SAMPLER_HISTORY_GRACE; i++) {
      assert_int_equal(Sampler_refresh(s, err, sizeof(err)), 0);
      assert_non_null(Sampler_find(s, getpid())->history);
   }
   assert_int_equal(Sampler_refresh(s, err, sizeof(err)), 0);
   assert_null(Sampler_find(s, getpid())->history);
   Sampler_free(s);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_history_on_demand), cmocka_unit_test(test_cpu_percent),
      cmocka_unit_test(test_state_mapping),     cmocka_unit_test(test_live_self),
      cmocka_unit_test(test_live_filters),      cmocka_unit_test(test_thread_time_never_above_process),
      cmocka_unit_test(test_new_fields),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
