/* Jobs: a job's report and exit status reach its done callback; a job past
 * its deadline is killed with its whole process group (what it started goes
 * too); stopping kills what is left and says so; nothing blocks the caller. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stacktop/Jobs.h"
#include "stacktop/Util.h"

typedef struct Done_ {
   int calls;
   JobOutcome last;
} Done;

static void onDone(void* ctx, const JobOutcome* o) {
   Done* d = ctx;
   d->calls++;
   d->last = *o;
}

static int reportAndExit(void* arg, int fd) {
   (void)arg;
   dprintf(fd, "ok 42");
   return 7;
}

/* Starts a grandchild in the job's group, reports its pid, and hangs. */
static int spawnAndHang(void* arg, int fd) {
   (void)arg;
   pid_t g = fork();
   if (g == 0) {
      sleep(3600);
      _exit(0);
   }
   dprintf(fd, "%d", (int)g);
   sleep(3600);
   return 0;
}

static bool gone(pid_t pid) {
   char path[64], buf[512];
   snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
   if (Util_readFile(path, buf, sizeof(buf)) <= 0)
      return true;
   const char* close = strrchr(buf, ')');
   return close && close[2] == 'Z'; /* killed, waiting for its new parent to reap it */
}

static void pollUntil(Jobs* jobs, Done* d, int calls, double timeoutS) {
   double until = Util_monotonicSeconds() + timeoutS;
   while (d->calls < calls && Util_monotonicSeconds() < until) {
      Jobs_poll(jobs);
      struct timespec ts = { 0, 10 * 1000 * 1000 };
      nanosleep(&ts, NULL);
   }
}

static void test_report_and_status(void** state) {
   (void)state;
   Jobs* jobs = Jobs_new();
   Done d = { 0 };
   char err[256];
   JobSpec spec = { .label = "quick", .kind = 3, .timeoutS = 30, .run = reportAndExit, .done = onDone, .ctx = &d };
   assert_int_equal(Jobs_start(jobs, &spec, err, sizeof(err)), 0);
   assert_int_equal(Jobs_running(jobs, 3), 1);
   assert_int_equal(Jobs_running(jobs, 4), 0);
   assert_true(Jobs_nextDeadline(jobs) > Util_monotonicSeconds());
   pollUntil(jobs, &d, 1, 30);
   assert_int_equal(d.calls, 1);
   assert_int_equal(d.last.status, 7);
   assert_string_equal(d.last.result, "ok 42");
   assert_false(d.last.timedOut);
   assert_true(d.last.maxRssKiB > 0);
   assert_int_equal(Jobs_running(jobs, -1), 0);
   Jobs_free(jobs);
}

static void test_deadline_kills_the_group(void** state) {
   (void)state;
   Jobs* jobs = Jobs_new();
   Done d = { 0 };
   char err[256];
   JobSpec spec = { .label = "hanging", .timeoutS = 0.3, .run = spawnAndHang, .done = onDone, .ctx = &d };
   assert_int_equal(Jobs_start(jobs, &spec, err, sizeof(err)), 0);
   pollUntil(jobs, &d, 1, 30);
   assert_int_equal(d.calls, 1);
   assert_true(d.last.timedOut);
   assert_int_equal(d.last.status, -1);
   assert_int_equal(d.last.signal, SIGKILL);
   pid_t grandchild = atoi(d.last.result);
   assert_true(grandchild > 0);
   double until = Util_monotonicSeconds() + 10;
   while (!gone(grandchild) && Util_monotonicSeconds() < until)
      Jobs_poll(jobs);
   assert_true(gone(grandchild));
   Jobs_free(jobs);
}

static void test_stop_all(void** state) {
   (void)state;
   Jobs* jobs = Jobs_new();
   Done d = { 0 };
   char err[256];
   JobSpec spec = { .label = "long", .timeoutS = 3600, .run = spawnAndHang, .done = onDone, .ctx = &d };
   assert_int_equal(Jobs_start(jobs, &spec, err, sizeof(err)), 0);
   double t0 = Util_monotonicSeconds();
   Jobs_stopAll(jobs, 0.2);
   assert_true(Util_monotonicSeconds() - t0 < 30);
   assert_int_equal(d.calls, 1);
   assert_true(d.last.stopped && !d.last.timedOut);
   assert_int_equal(Jobs_running(jobs, -1), 0);
   Jobs_free(jobs);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_report_and_status),
      cmocka_unit_test(test_deadline_kills_the_group),
      cmocka_unit_test(test_stop_all),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
