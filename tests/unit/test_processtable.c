/* ProcessTable: rows from a sample, sorting, the selection staying on the
 * same pid across refreshes and re-sorts, filter, search, thread rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "stacktop/ProcessTable.h"

#define NPROC 5

static ProcessSample procs[NPROC];
static const ProcessSample* pointers[NPROC];
static ThreadSample threads[3];

static void makeSample(void) {
   static const char* const names[NPROC] = { "alpha", "beta", "gamma", "delta", "epsilon" };
   static char commands[NPROC][64];
   memset(procs, 0, sizeof(procs));
   for (int i = 0; i < NPROC; i++) {
      procs[i].pid = 100 + i;
      procs[i].resKiB = (unsigned long)(1000 * (i + 1)); /* epsilon biggest */
      procs[i].cpuPct = (double)((i * 7) % NPROC);       /* 0 2 4 1 3 */
      procs[i].threads = 1;
      snprintf(procs[i].comm, sizeof(procs[i].comm), "%s", names[i]);
      snprintf(commands[i], sizeof(commands[i]), "/usr/bin/%s --opt", names[i]);
      procs[i].command = commands[i];
      pointers[i] = &procs[i];
   }
   /* gamma has three threads: itself (102) and two workers (153, 154). */
   for (int t = 0; t < 3; t++) {
      threads[t].tid = 102 + (t ? 50 + t : 0);
      snprintf(threads[t].name, sizeof(threads[t].name), "%s", t ? "worker" : "gamma");
      threads[t].state = t == 1 ? 'R' : 'S';
   }
   procs[2].threads = 3;
   procs[2].threadRows = threads;
   procs[2].threadRowCount = 3;
}

static pid_t pidAt(const ProcessTable* t, size_t i) {
   return t->rows[i].process->pid;
}

static void test_sort_by_res(void** state) {
   (void)state;
   makeSample();
   ProcessTable t;
   ProcessTable_init(&t);
   ProcessTable_rebuild(&t, pointers, NPROC);
   assert_int_equal(t.rowCount, NPROC);
   for (size_t i = 0; i < NPROC; i++)
      assert_int_equal(pidAt(&t, i), 104 - (pid_t)i);
   assert_true(ProcessTable_descending(&t));
   t.invert = true;
   ProcessTable_rebuild(&t, pointers, NPROC);
   assert_int_equal(pidAt(&t, 0), 100);
   assert_false(ProcessTable_descending(&t));
   ProcessTable_done(&t);
}

static void test_selection_follows_pid(void** state) {
   (void)state;
   makeSample();
   ProcessTable t;
   ProcessTable_init(&t);
   ProcessTable_rebuild(&t, pointers, NPROC);
   ProcessTable_move(&t, 1); /* delta, pid 103 */
   assert_int_equal(t.selectedPid, 103);
   /* Re-sort by CPU%: delta (cpu 1) moves, the selection goes with it. */
   t.sortColumn = COL_CPU;
   ProcessTable_rebuild(&t, pointers, NPROC);
   assert_int_equal(pidAt(&t, t.selected), 103);
   assert_int_equal(t.selected, 3); /* cpu order 4(102) 3(104) 2(101) 1(103) 0(100) */
   /* A refresh where delta grew: still selected. */
   procs[3].cpuPct = 99;
   ProcessTable_rebuild(&t, pointers, NPROC);
   assert_int_equal(t.selected, 0);
   assert_int_equal(t.selectedPid, 103);
   /* delta exits: the selection stays at the same position, on another pid. */
   const ProcessSample* without[NPROC - 1] = { pointers[0], pointers[1], pointers[2], pointers[4] };
   ProcessTable_rebuild(&t, without, NPROC - 1);
   assert_int_equal(t.selected, 0);
   assert_int_not_equal(t.selectedPid, 103);
   ProcessTable_done(&t);
}

static void test_move_clamps(void** state) {
   (void)state;
   makeSample();
   ProcessTable t;
   ProcessTable_init(&t);
   ProcessTable_rebuild(&t, pointers, NPROC);
   ProcessTable_move(&t, -10);
   assert_int_equal(t.selected, 0);
   ProcessTable_move(&t, 1000);
   assert_int_equal(t.selected, NPROC - 1);
   assert_int_equal(t.selectedPid, 100);
   ProcessTable_done(&t);
}

static void test_filter(void** state) {
   (void)state;
   makeSample();
   ProcessTable t;
   ProcessTable_init(&t);
   snprintf(t.filter, sizeof(t.filter), "ELTA");
   ProcessTable_rebuild(&t, pointers, NPROC);
   assert_int_equal(t.rowCount, 1);
   assert_int_equal(pidAt(&t, 0), 103);
   /* The command line matches too. */
   snprintf(t.filter, sizeof(t.filter), "usr/bin/ep");
   ProcessTable_rebuild(&t, pointers, NPROC);
   assert_int_equal(t.rowCount, 1);
   assert_int_equal(pidAt(&t, 0), 104);
   snprintf(t.filter, sizeof(t.filter), "nothing-like-this");
   ProcessTable_rebuild(&t, pointers, NPROC);
   assert_int_equal(t.rowCount, 0);
   assert_null(ProcessTable_selectedRow(&t));
   ProcessTable_move(&t, 1);
   ProcessTable_done(&t);
}

static void test_search_wraps(void** state) {
   (void)state;
   makeSample();
   ProcessTable t;
   ProcessTable_init(&t);
   ProcessTable_rebuild(&t, pointers, NPROC);          /* 104 103 102 101 100 */
   assert_true(ProcessTable_search(&t, "a", 1, true)); /* row 1: delta */
   assert_int_equal(t.selectedPid, 103);
   assert_true(ProcessTable_search(&t, "a", 1, false));
   assert_int_equal(t.selectedPid, 102);
   assert_true(ProcessTable_search(&t, "ALPHA", 1, false));
   assert_int_equal(t.selectedPid, 100);
   assert_true(ProcessTable_search(&t, "eps", 1, false)); /* wraps to the top */
   assert_int_equal(t.selectedPid, 104);
   assert_true(ProcessTable_search(&t, "a", -1, false)); /* backwards wraps to the end */
   assert_int_equal(t.selectedPid, 100);
   assert_false(ProcessTable_search(&t, "zzz", 1, true));
   assert_int_equal(t.selectedPid, 100);
   assert_false(ProcessTable_search(&t, "", 1, true));
   ProcessTable_done(&t);
}

static void test_thread_rows(void** state) {
   (void)state;
   makeSample();
   ProcessTable t;
   ProcessTable_init(&t);
   t.showThreads = true;
   ProcessTable_rebuild(&t, pointers, NPROC);
   /* gamma's two non-main threads follow it; the main thread is the process row. */
   assert_int_equal(t.rowCount, NPROC + 2);
   size_t g = 2;
   assert_int_equal(pidAt(&t, g), 102);
   assert_int_equal(t.rows[g].thread, -1);
   assert_int_equal(t.rows[g + 1].thread, 1);
   assert_int_equal(t.rows[g + 2].thread, 2);
   /* Select a thread row; a refresh keeps it. */
   ProcessTable_move(&t, 3);
   assert_int_equal(t.selectedPid, 102);
   assert_int_equal(t.selectedTid, 153);
   ProcessTable_rebuild(&t, pointers, NPROC);
   assert_int_equal(t.selected, 3);
   /* Search finds thread names. */
   ProcessTable_move(&t, -10);
   assert_true(ProcessTable_search(&t, "worker", 1, true));
   assert_int_equal(t.selectedTid, 153);
   assert_true(ProcessTable_search(&t, "worker", 1, false));
   assert_int_equal(t.selectedTid, 154);
   /* Threads hidden: the selection falls back to the process row. */
   t.showThreads = false;
   ProcessTable_rebuild(&t, pointers, NPROC);
   assert_int_equal(t.selectedPid, 102);
   assert_int_equal(t.selectedTid, 0);
   assert_int_equal(t.selected, 2);
   ProcessTable_done(&t);
}

static void test_adjacent_column_skips_hidden(void** state) {
   (void)state;
   ProcessTable t;
   ProcessTable_init(&t);
   t.sortColumn = COL_RES;
   t.visible[COL_SHR] = false;
   assert_int_equal(ProcessTable_adjacentColumn(&t, 1), COL_DATA);
   assert_int_equal(ProcessTable_adjacentColumn(&t, -1), COL_VIRT);
   t.sortColumn = COL_COMMAND;
   assert_int_equal(ProcessTable_adjacentColumn(&t, 1), COL_PID);
   ProcessTable_done(&t);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sort_by_res),
      cmocka_unit_test(test_selection_follows_pid),
      cmocka_unit_test(test_move_clamps),
      cmocka_unit_test(test_filter),
      cmocka_unit_test(test_search_wraps),
      cmocka_unit_test(test_thread_rows),
      cmocka_unit_test(test_adjacent_column_skips_hidden),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
