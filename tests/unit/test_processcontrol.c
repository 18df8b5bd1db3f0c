/* ProcessControl: signals reach exactly the process named by pid and start
 * time, renicing changes every thread, and failures say what to do. Each
 * test forks its own children and reaps them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stacktop/ProcessControl.h"
#include "stacktop/Util.h"

static void* sleepForever(void* arg) {
   (void)arg;
   for (;;)
      pause();
   return NULL;
}

/* A child with `threads` extra threads, sleeping until killed; it says it
 * is ready through a pipe. */
static pid_t startChild(int threads) {
   int fds[2];
   assert_int_equal(pipe(fds), 0);
   pid_t pid = fork();
   assert_true(pid >= 0);
   if (pid == 0) {
      close(fds[0]);
      for (int i = 0; i < threads; i++) {
         pthread_t t;
         pthread_create(&t, NULL, sleepForever, NULL);
      }
      if (write(fds[1], "r", 1) != 1)
         _exit(3);
      for (;;)
         pause();
   }
   close(fds[1]);
   char c;
   assert_int_equal(read(fds[0], &c, 1), 1);
   close(fds[0]);
   return pid;
}

static void stopChild(pid_t pid) {
   kill(pid, SIGKILL);
   waitpid(pid, NULL, 0);
}

static void test_signal_list(void** state) {
   (void)state;
   assert_true(ProcessControl_signalCount() >= 10);
   size_t term = ProcessControl_signalIndex(SIGTERM);
   assert_string_equal(ProcessControl_signalAt(term)->name, "SIGTERM");
   assert_string_equal(ProcessControl_signalAt(ProcessControl_signalIndex(SIGKILL))->name, "SIGKILL");
   assert_null(ProcessControl_signalAt(ProcessControl_signalCount()));
   for (size_t i = 0; i < ProcessControl_signalCount(); i++)
      assert_true(strlen(ProcessControl_signalAt(i)->description) > 3);
}

static void test_signal_reaches_the_right_process(void** state) {
   (void)state;
   pid_t pid = startChild(0);
   unsigned long long start = ProcessControl_startTicks(pid);
   assert_true(start > 0);
   char err[256];
   /* Another start time: a pid that now names another process. Nothing is sent. */
   ProcessKey wrong = { .pid = pid, .startTicks = start + 1 };
   assert_int_equal(ProcessControl_signal(wrong, SIGTERM, err, sizeof(err)), ESRCH);
   assert_non_null(strstr(err, "has exited (or its pid now names another process)"));
   assert_int_equal(waitpid(pid, NULL, WNOHANG), 0); /* still running */
   ProcessKey key = { .pid = pid, .startTicks = start };
   assert_int_equal(ProcessControl_signal(key, SIGTERM, err, sizeof(err)), 0);
   int status;
   assert_int_equal(waitpid(pid, &status, 0), pid);
   assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
   /* Gone now. */
   assert_int_equal(ProcessControl_signal(key, SIGTERM, err, sizeof(err)), ESRCH);
   assert_int_equal(ProcessControl_startTicks(pid), 0);
}

static int niceOfTask(pid_t pid, const char* tid) {
   char path[512], buf[1024];
   Util_format(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid, tid);
   assert_true(Util_readFile(path, buf, sizeof(buf)) > 0);
   int nice;
   assert_int_equal(
       sscanf(strrchr(buf, ')') + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %d", &nice), 1);
   return nice;
}

/* Every thread of the process gets the new value (setpriority alone would
 * change one thread); it is clamped to 19. */
static void test_renice_every_thread(void** state) {
   (void)state;
   pid_t pid = startChild(3);
   ProcessKey key = { .pid = pid, .startTicks = ProcessControl_startTicks(pid) };
   char err[256];
   int nice = 99;
   assert_int_equal(ProcessControl_renice(key, 1, &nice, err, sizeof(err)), 0);
   assert_int_equal(nice, getpriority(PRIO_PROCESS, 0) + 1);
   char path[64];
   snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
   DIR* dir = opendir(path);
   assert_non_null(dir);
   int tasks = 0;
   for (struct dirent* e; (e = readdir(dir)) != NULL;) {
      if (e->d_name[0] == '.')
         continue;
      assert_int_equal(niceOfTask(pid, e->d_name), nice);
      tasks++;
   }
   closedir(dir);
   assert_int_equal(tasks, 4);
   for (int i = 0; i < 25; i++)
      ProcessControl_renice(key, 1, &nice, err, sizeof(err));
   assert_int_equal(nice, 19);
   /* Raising the priority again needs CAP_SYS_NICE: root has it. */
   int rc = ProcessControl_renice(key, -1, &nice, err, sizeof(err));
   if (geteuid() == 0) {
      assert_int_equal(rc, 0);
      assert_int_equal(nice, 18);
   } else {
      assert_int_equal(rc, EACCES);
      assert_non_null(strstr(err, "needs root"));
   }
   ProcessKey stale = { .pid = pid, .startTicks = key.startTicks + 7 };
   assert_int_equal(ProcessControl_renice(stale, 1, &nice, err, sizeof(err)), ESRCH);
   stopChild(pid);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_signal_list),
      cmocka_unit_test(test_signal_reaches_the_right_process),
      cmocka_unit_test(test_renice_every_thread),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
