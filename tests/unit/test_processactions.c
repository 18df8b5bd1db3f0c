/* ProcessActions: the targets are fixed when the signal list opens (tagged,
 * else selected), the question names them, only the answer sends, and the
 * user list has everyone's users by name after "All users". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stacktop/ProcessActions.h"

static pid_t startChild(void) {
   pid_t pid = fork();
   assert_true(pid >= 0);
   if (pid == 0) {
      for (;;)
         pause();
   }
   return pid;
}

/* A table holding exactly these pids, from a real sample. */
static Sampler* sampleOf(const pid_t* pids, size_t n, ProcessTable* table, const ProcessSample** procs) {
   char err[256];
   SamplerOptions o = { .pids = pids, .pidCount = n };
   Sampler* s = Sampler_new(&o, err, sizeof(err));
   assert_non_null(s);
   /* A child may not have exec'd its name yet: a second refresh is cheap. */
   assert_int_equal(Sampler_refresh(s, err, sizeof(err)), 0);
   assert_int_equal(Sampler_count(s), n);
   for (size_t i = 0; i < n; i++)
      procs[i] = Sampler_at(s, i);
   ProcessTable_init(table);
   table->sortColumn = COL_PID;
   table->invert = true; /* ascending pids */
   ProcessTable_rebuild(table, procs, n);
   return s;
}

static void test_signal_the_selected_process_after_the_question(void** state) {
   (void)state;
   pid_t pids[2] = { startChild(), startChild() };
   ProcessTable table;
   const ProcessSample* procs[2];
   Sampler* s = sampleOf(pids, 2, &table, procs);
   static PendingSignal pending;
   Menu menu;
   Menu_init(&menu);
   assert_true(ProcessActions_openSignals(&pending, &menu, &table, s));
   assert_int_equal(pending.count, 1);
   assert_int_equal(pending.targets[0].pid, pids[0]);
   assert_int_equal(Menu_current(&menu)->value, SIGTERM);
   char want[96];
   snprintf(want, sizeof(want), "Send signal to %d (test_processac", (int)pids[0]);
   assert_memory_equal(menu.title, want, strlen(want));
   /* The rows re-sort before the answer: the target stays the same. */
   table.invert = false;
   ProcessTable_rebuild(&table, procs, 2);
   ProcessActions_ask(&pending, SIGTERM, s);
   assert_true(pending.active);
   snprintf(want, sizeof(want), "Send SIGTERM to %d (", (int)pids[0]);
   assert_memory_equal(pending.question, want, strlen(want));
   assert_int_equal(waitpid(pids[0], NULL, WNOHANG), 0); /* nothing sent yet */
   char msg[512];
   assert_true(ProcessActions_send(&pending, s, msg, sizeof(msg)));
   assert_false(pending.active);
   int status;
   assert_int_equal(waitpid(pids[0], &status, 0), pids[0]);
   assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
   assert_int_equal(waitpid(pids[1], NULL, WNOHANG), 0);
   /* Again: it is gone, and the message says so. */
   assert_false(ProcessActions_send(&pending, s, msg, sizeof(msg)));
   assert_non_null(strstr(msg, "has exited"));
   assert_non_null(strstr(msg, "0 sent, 1 failed"));
   kill(pids[1], SIGKILL);
   waitpid(pids[1], NULL, 0);
   Menu_done(&menu);
   ProcessTable_done(&table);
   Sampler_free(s);
}

static void test_tagged_processes_are_the_targets(void** state) {
   (void)state;
   pid_t pids[3] = { startChild(), startChild(), startChild() };
   ProcessTable table;
   const ProcessSample* procs[3];
   Sampler* s = sampleOf(pids, 3, &table, procs);
   ProcessTable_toggleTag(&table);
   ProcessTable_move(&table, 2);
   ProcessTable_toggleTag(&table);
   static PendingSignal pending;
   Menu menu;
   Menu_init(&menu);
   assert_true(ProcessActions_openSignals(&pending, &menu, &table, s));
   assert_int_equal(pending.count, 2);
   assert_string_equal(menu.title, "Send signal to 2 tagged processes:");
   ProcessActions_ask(&pending, SIGKILL, s);
   assert_non_null(strstr(pending.question, "Send SIGKILL to 2 tagged processes"));
   char msg[512];
   assert_true(ProcessActions_send(&pending, s, msg, sizeof(msg)));
   assert_string_equal(msg, "sent SIGKILL to 2 processes");
   int status;
   assert_int_equal(waitpid(pids[0], &status, 0), pids[0]);
   assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
   assert_int_equal(waitpid(pids[2], &status, 0), pids[2]);
   assert_int_equal(waitpid(pids[1], NULL, WNOHANG), 0);
   /* Renice reaches what is tagged and still there: the untagged one. */
   ProcessTable_untagAll(&table);
   assert_int_equal(Sampler_refresh(s, (char[256]){ 0 }, 256), 0);
   const ProcessSample* left[1] = { Sampler_find(s, pids[1]) };
   ProcessTable_rebuild(&table, left, 1);
   assert_true(ProcessActions_renice(&table, s, 1, msg, sizeof(msg)));
   char want[64];
   snprintf(want, sizeof(want), "nice of %d (", (int)pids[1]);
   assert_memory_equal(msg, want, strlen(want));
   kill(pids[1], SIGKILL);
   waitpid(pids[1], NULL, 0);
   Menu_done(&menu);
   ProcessTable_done(&table);
   Sampler_free(s);
}

static void test_user_list(void** state) {
   (void)state;
   ProcessSample p[4];
   memset(p, 0, sizeof(p));
   const char* users[4] = { "root", "www-data", "root", "alice" };
   uid_t uids[4] = { 0, 33, 0, 1000 };
   const ProcessSample* procs[4];
   for (int i = 0; i < 4; i++) {
      snprintf(p[i].user, sizeof(p[i].user), "%s", users[i]);
      p[i].uid = uids[i];
      procs[i] = &p[i];
   }
   Menu menu;
   Menu_init(&menu);
   ProcessActions_fillUsers(&menu, procs, 4, true, 33);
   assert_int_equal(menu.count, 4);
   assert_string_equal(menu.items[0].text, "All users");
   assert_int_equal(menu.items[0].value, -1);
   assert_string_equal(menu.items[1].text, "alice");
   assert_string_equal(menu.items[2].text, "root");
   assert_string_equal(menu.items[3].text, "www-data");
   assert_int_equal(Menu_current(&menu)->value, 33);
   ProcessActions_fillUsers(&menu, procs, 4, false, 0);
   assert_int_equal(Menu_current(&menu)->value, -1);
   Menu_done(&menu);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_signal_the_selected_process_after_the_question),
      cmocka_unit_test(test_tagged_processes_are_the_targets),
      cmocka_unit_test(test_user_list),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
