/* Matcher against real processes: name patterns match root's processes
 * unless `user` says otherwise; a pidfile is trusted only as far as its owner
 * (and the owners of the directories above it) and never through a symbolic
 * link; exe: keeps matching a process whose binary was replaced on disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stacktop/Matcher.h"
#include "stacktop/Util.h"

static char name[16];

/* A child named `name`, as root or as nobody, parked until killed. */
static pid_t child(bool nobody) {
   int ready[2];
   assert_int_equal(pipe(ready), 0);
   pid_t pid = fork();
   if (pid == 0) {
      if (nobody && (setgid(65534) != 0 || setuid(65534) != 0))
         _exit(1);
      prctl(PR_SET_NAME, name, 0, 0, 0);
      char b = 1;
      (void)!write(ready[1], &b, 1);
      sleep(600);
      _exit(0);
   }
   char b;
   assert_int_equal(read(ready[0], &b, 1), 1);
   close(ready[0]);
   close(ready[1]);
   return pid;
}

static void reap(pid_t pid) {
   kill(pid, SIGKILL);
   waitpid(pid, NULL, 0);
}

static size_t count(const Matcher* m, const Sampler* s, pid_t pid, MatchStatus* status) {
   size_t n, hits = 0;
   const ProcessSample** procs = Matcher_select(m, s, &n, status);
   for (size_t i = 0; i < n; i++)
      hits += procs[i]->pid == pid;
   free(procs);
   return hits;
}

static Sampler* sample(void) {
   char err[256];
   Sampler* s = Sampler_new(NULL, err, sizeof(err));
   assert_int_equal(Sampler_refresh(s, err, sizeof(err)), 0);
   return s;
}

static void test_users(void** state) {
   (void)state;
   snprintf(name, sizeof(name), "stm%d", (int)getpid() % 100000);
   pid_t mine = child(false), theirs = child(true);
   Sampler* s = sample();
   Matcher m = { 0 };
   char err[200], spec[64], users[64];
   snprintf(spec, sizeof(spec), "comm:%s", name);
   assert_int_equal(Matcher_parse(&m, spec, err, sizeof(err)), 0);
   Matcher_describeUsers(&m, users, sizeof(users));
   assert_string_equal(users, "root");
   assert_false(Matcher_othersCanMatch(&m));
   assert_int_equal(count(&m, s, mine, NULL), 1);
   assert_int_equal(count(&m, s, theirs, NULL), 0);
   assert_int_equal(Matcher_parseUsers(&m, "any", err, sizeof(err)), 0);
   assert_true(Matcher_othersCanMatch(&m));
   assert_int_equal(count(&m, s, theirs, NULL), 1);
   assert_int_equal(Matcher_parseUsers(&m, "nobody", err, sizeof(err)), 0);
   assert_int_equal(count(&m, s, mine, NULL), 0);
   assert_int_equal(count(&m, s, theirs, NULL), 1);
   assert_int_equal(Matcher_parseUsers(&m, "root, no-such-user-x", err, sizeof(err)), -1);
   assert_non_null(strstr(err, "'no-such-user-x' is neither a user"));
   Matcher_free(&m);
   /* pid: names one process: any user's unless narrowed. */
   snprintf(spec, sizeof(spec), "pid:%d", (int)theirs);
   assert_int_equal(Matcher_parse(&m, spec, err, sizeof(err)), 0);
   assert_int_equal(count(&m, s, theirs, NULL), 1);
   Matcher_free(&m);
   Sampler_free(s);
   reap(mine);
   reap(theirs);
}

static void test_pidfile_trust(void** state) {
   (void)state;
   snprintf(name, sizeof(name), "stp%d", (int)getpid() % 100000);
   pid_t mine = child(false);
   Sampler* s = sample();
   char dir[] = "/tmp/stacktop-matcher-XXXXXX", path[128], link[128], spec[160], err[200];
   assert_non_null(mkdtemp(dir));
   snprintf(path, sizeof(path), "%s/svc.pid", dir);
   FILE* f = fopen(path, "w");
   fprintf(f, "%d\n", (int)mine);
   fclose(f);
   Matcher m = { 0 };
   snprintf(spec, sizeof(spec), "pidfile:%s", path);
   assert_int_equal(Matcher_parse(&m, spec, err, sizeof(err)), 0);
   MatchStatus st;
   assert_int_equal(count(&m, s, mine, &st), 1);
   assert_string_equal(st.pidfileProblem, "");
   /* Written by nobody: it only names nobody's processes. */
   assert_int_equal(chown(path, 65534, 65534), 0);
   assert_int_equal(count(&m, s, mine, &st), 0);
   assert_int_equal(chown(path, 0, 0), 0);
   /* A directory above it that nobody owns: the same. */
   assert_int_equal(chown(dir, 65534, 65534), 0);
   assert_int_equal(count(&m, s, mine, &st), 0);
   assert_int_equal(chown(dir, 0, 0), 0);
   Matcher_free(&m);
   /* Through a symbolic link: refused, and said why. */
   snprintf(link, sizeof(link), "%s/link.pid", dir);
   assert_int_equal(symlink(path, link), 0);
   snprintf(spec, sizeof(spec), "pidfile:%s", link);
   assert_int_equal(Matcher_parse(&m, spec, err, sizeof(err)), 0);
   assert_int_equal(count(&m, s, mine, &st), 0);
   assert_non_null(strstr(st.pidfileProblem, "is a symbolic link"));
   Matcher_free(&m);
   unlink(link);
   unlink(path);
   rmdir(dir);
   Sampler_free(s);
   reap(mine);
}

static void test_exe_replaced(void** state) {
   (void)state;
   char dir[] = "/tmp/stacktop-matcher-XXXXXX", exe[128], fresh[160], spec[160], err[200], cmd[400];
   assert_non_null(mkdtemp(dir));
   snprintf(exe, sizeof(exe), "%s/svc", dir);
   snprintf(cmd, sizeof(cmd), "cp /bin/sleep %s", exe);
   assert_int_equal(system(cmd), 0);
   pid_t pid = fork();
   if (pid == 0) {
      execl(exe, "svc", "600", (char*)NULL);
      _exit(127);
   }
   char link[64], target[256];
   snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
   double until = Util_monotonicSeconds() + 10;
   ssize_t n = -1;
   while ((n = readlink(link, target, sizeof(target) - 1)) < 0 || strncmp(target, exe, (size_t)n) != 0) {
      assert_true(Util_monotonicSeconds() < until);
      usleep(10000);
   }
   Matcher m = { 0 };
   snprintf(spec, sizeof(spec), "exe:%s", exe);
   assert_int_equal(Matcher_parse(&m, spec, err, sizeof(err)), 0);
   Sampler* s = sample();
   MatchStatus st;
   assert_int_equal(count(&m, s, pid, &st), 1);
   assert_int_equal(st.replacedCount, 0);
   Sampler_free(s);
   /* The upgrade: a new file renamed over the old one. */
   snprintf(fresh, sizeof(fresh), "%s.new", exe);
   snprintf(cmd, sizeof(cmd), "cp /bin/sleep %s", fresh);
   assert_int_equal(system(cmd), 0);
   assert_int_equal(rename(fresh, exe), 0);
   s = sample();
   assert_int_equal(count(&m, s, pid, &st), 1);
   assert_int_equal(st.replacedCount, 1);
   assert_int_equal(st.replaced[0], pid);
   Sampler_free(s);
   Matcher_free(&m);
   reap(pid);
   unlink(exe);
   rmdir(dir);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_users),
      cmocka_unit_test(test_pidfile_trust),
      cmocka_unit_test(test_exe_replaced),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
