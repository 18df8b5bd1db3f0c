/* GoSnapshot + GoProfile against a live Go 1.19 process (the go_threads
 * fixture: 20 goroutines parked on a channel, 20 in time.Sleep, 3 locked to
 * threads in a blocking read, main in time.Sleep): the allgs finder on the
 * plain and the stripped build, the goroutine groups, and the structure
 * checks that refuse a wrong layout instead of printing garbage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stacktop/ElfCache.h"
#include "stacktop/GoProfile.h"
#include "stacktop/GoSnapshot.h"
#include "stacktop/Snapshot.h"
#include "stacktop/Util.h"

#define FIXTURES "build/fixtures/"

typedef struct Target_ {
   pid_t pid;
   Maps maps;
   ElfCache* cache;
} Target;

/* Starts a fixture and waits (10 s at most) for its "ready" line. */
static pid_t startFixture(const char* path) {
   int fds[2];
   assert_int_equal(pipe(fds), 0);
   pid_t pid = fork();
   assert_true(pid >= 0);
   if (pid == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      execl(path, path, (char*)NULL);
      _exit(127);
   }
   close(fds[1]);
   char buf[64] = "";
   size_t len = 0;
   double deadline = Util_monotonicSeconds() + 10;
   while (!strstr(buf, "ready") && Util_monotonicSeconds() < deadline && len < sizeof(buf) - 1) {
      struct pollfd p = { .fd = fds[0], .events = POLLIN };
      if (poll(&p, 1, 100) == 1) {
         ssize_t n = read(fds[0], buf + len, sizeof(buf) - 1 - len);
         if (n <= 0)
            break;
         len += (size_t)n;
      }
   }
   close(fds[0]);
   if (!strstr(buf, "ready")) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      fail_msg("%s did not become ready (run 'make fixtures')", path);
   }
   return pid;
}

static int setup(void** state, const char* path) {
   Target* t = test_calloc(1, sizeof(*t));
   t->pid = startFixture(path);
   char err[256];
   if (Maps_read(&t->maps, t->pid, err, sizeof(err)) < 0)
      return -1;
   t->cache = ElfCache_new();
   *state = t;
   return 0;
}

static int setupPlain(void** state) {
   return setup(state, FIXTURES "go_threads");
}

static int setupStripped(void** state) {
   return setup(state, FIXTURES "go_threads_stripped");
}

static int teardown(void** state) {
   Target* t = *state;
   kill(t->pid, SIGKILL);
   waitpid(t->pid, NULL, 0);
   Maps_free(&t->maps);
   ElfCache_free(t->cache);
   test_free(t);
   return 0;
}

static void readStopped(void* ctx, const Snapshot* snap) {
   GoSnapshot_readStopped(ctx, snap, snap->memPid);
}

/* A real stop: the snapshot engine with the goroutine reader in its hook. */
static GoProfile* profileOf(Target* t, GoSnapshot* go) {
   SnapshotOptions so = { .timeoutS = 2, .whileStopped = readStopped, .hookCtx = go };
   Snapshot snap;
   char err[512];
   assert_int_equal(Snapshot_take(&snap, t->pid, &so, err, sizeof(err)), DUMP_OK);
   GoSnapshot_readAfter(go, &snap);
   GoProfile* p = GoProfile_build(go);
   Snapshot_free(&snap);
   return p;
}

static const GoProfileGroup* groupWith(const GoProfile* p, const char* function) {
   for (size_t i = 0; i < p->groupCount; i++)
      for (size_t k = 0; k < p->groups[i].frameCount; k++)
         if (strcmp(p->groups[i].frames[k].function, function) == 0)
            return &p->groups[i];
   return NULL;
}

/* The fixture's goroutines reach their parking places soon after "ready";
 * on a loaded machine a few may still be on their way: retry to a deadline. */
static GoProfile* settledProfile(Target* t, const char* expectSource) {
   double deadline = Util_monotonicSeconds() + 20;
   for (;;) {
      GoSnapshot* go = GoSnapshot_prepare(t->pid, &t->maps, t->cache, NULL);
      assert_non_null(go);
      assert_string_equal(go->error, "");
      assert_string_equal(go->allgsSource, expectSource);
      GoProfile* p = profileOf(t, go);
      GoSnapshot_free(go);
      const GoProfileGroup* chan = groupWith(p, "main.waitOnChan");
      if ((chan && chan->count == 20 && p->total == 44) || Util_monotonicSeconds() > deadline)
         return p;
      GoProfile_free(p);
      usleep(100000);
   }
}

static void checkGroups(const GoProfile* p) {
   assert_string_equal(p->error, "");
   assert_int_equal(p->total, 44);
   const GoProfileGroup* chan = groupWith(p, "main.waitOnChan");
   const GoProfileGroup* read = groupWith(p, "main.blockInRead");
   const GoProfileGroup* main = groupWith(p, "main.main");
   assert_non_null(chan);
   assert_non_null(read);
   assert_non_null(main);
   assert_int_equal(chan->count, 20);
   assert_int_equal(read->count, 3);
   assert_int_equal(main->count, 1);
   assert_int_equal(main->goids[0], 1);
   /* Groups ordered by count, then key; PC lists end at runtime.goexit. */
   for (size_t i = 1; i < p->groupCount; i++)
      assert_true(p->groups[i - 1].count >= p->groups[i].count);
   assert_int_equal(chan->stateCount, 1);
   assert_string_equal(chan->states[0].state, "chan receive");
   assert_string_equal(read->states[0].state, "syscall");
   /* debug=2: the locked goroutines say so, and every non-main one has a creator. */
   size_t locked = 0;
   for (size_t i = 0; i < p->traceCount; i++) {
      locked += strstr(p->traces[i].header, ", locked to thread]") != NULL;
      if (p->traces[i].goid != 1)
         assert_non_null(p->traces[i].createdBy.function);
   }
   assert_int_equal(locked, 3);
}

static void test_profile_with_symbols(void** state) {
   Target* t = *state;
   GoProfile* p = settledProfile(t, "symbol table");
   checkGroups(p);
   GoProfile_free(p);
}

static void test_profile_stripped(void** state) {
   Target* t = *state;
   GoProfile* p = settledProfile(t, "runtime.allgadd");
   checkGroups(p);
   GoProfile_free(p);
}

/* The right binary with a wrong release's table: the candidates fail F1.6
 * (goid 1 is not where the table says), so nothing is printed. */
static void test_wrong_layout_finds_no_allgs(void** state) {
   Target* t = *state;
   GoSnapshot* real = GoSnapshot_prepare(t->pid, &t->maps, t->cache, NULL);
   assert_non_null(real);
   GoBinary fake = *real->bin;
   bool approximate;
   fake.layout = GoLayout_forVersion(23, &approximate); /* goid at 0xa0, not 0x98 */
   GoSnapshot* go = GoSnapshot_prepareBinary(t->pid, &fake, real->bias, NULL);
   assert_non_null(strstr(go->error, "could not locate runtime.allgs"));
   GoProfile* p = profileOf(t, go);
   assert_non_null(strstr(p->error, "runtime.allgs"));
   assert_int_equal(p->groupCount, 0);
   GoProfile_free(p);
   GoSnapshot_free(go);
   GoSnapshot_free(real);
}

/* A layout that passes the allgs checks but not the per-goroutine ones
 * (stack bounds read from the wrong place) is refused as a whole. */
static void test_wrong_stack_offsets_refused(void** state) {
   Target* t = *state;
   GoSnapshot* real = GoSnapshot_prepare(t->pid, &t->maps, t->cache, NULL);
   GoBinary fake = *real->bin;
   GoLayout bad = *real->bin->layout;
   bad.g.stackHi = bad.g.goid;
   fake.layout = &bad;
   GoSnapshot* go = GoSnapshot_prepareBinary(t->pid, &fake, real->bias, NULL);
   assert_string_equal(go->error, "");
   GoProfile* p = profileOf(t, go);
   assert_non_null(strstr(p->error, "do not match the Go 1.19 layout"));
   assert_int_equal(p->groupCount, 0);
   GoProfile_free(p);
   GoSnapshot_free(go);
   GoSnapshot_free(real);
}

/* Stacks beyond the stopped-phase budget are read after the resume and
 * re-checked: the same groups, and a note saying so. */
static void test_late_stacks(void** state) {
   Target* t = *state;
   GoSnapshotOptions options = { .stoppedStackBudget = 1 };
   double deadline = Util_monotonicSeconds() + 20;
   GoProfile* p;
   for (;;) {
      GoSnapshot* go = GoSnapshot_prepare(t->pid, &t->maps, t->cache, &options);
      p = profileOf(t, go);
      assert_true(go->lateCount >= 40);
      GoSnapshot_free(go);
      const GoProfileGroup* chan = groupWith(p, "main.waitOnChan");
      if ((chan && chan->count == 20) || Util_monotonicSeconds() > deadline)
         break;
      GoProfile_free(p);
   }
   checkGroups(p);
   bool noted = false;
   for (size_t i = 0; i < p->noteCount; i++)
      noted |= strstr(p->notes[i], "read after the process resumed") != NULL;
   assert_true(noted);
   GoProfile_free(p);
}

static void test_display_names(void** state) {
   (void)state;
   char* s = GoProfile_displayName("main.Map[go.shape.int,go.shape.string]");
   assert_string_equal(s, "main.Map[...]");
   free(s);
   s = GoProfile_displayName("main.(*List[...]).Push");
   assert_string_equal(s, "main.(*List[...]).Push");
   free(s);
   s = GoProfile_displayName("main.plain");
   assert_string_equal(s, "main.plain");
   free(s);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_display_names),
      cmocka_unit_test_setup_teardown(test_profile_with_symbols, setupPlain, teardown),
      cmocka_unit_test_setup_teardown(test_profile_stripped, setupStripped, teardown),
      cmocka_unit_test_setup_teardown(test_wrong_layout_finds_no_allgs, setupPlain, teardown),
      cmocka_unit_test_setup_teardown(test_wrong_stack_offsets_refused, setupPlain, teardown),
      cmocka_unit_test_setup_teardown(test_late_stacks, setupPlain, teardown),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
