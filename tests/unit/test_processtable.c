/* ProcessTable: rows from a sample, sorting, the selection staying on the
 * same pid across refreshes and re-sorts, filter, search, thread rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
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

/* ---- the tree, tags, kernel threads, users, widths, following */

/* A small process tree:
 *   1 init ─┬─ 10 sshd ── 20 bash ─┬─ 30 vim
 *           │                      └─ 31 zombie (Z)
 *           └─ 11 cron
 *   2 kthreadd ── 3 kworker
 */
#define TREE_N 8
static ProcessSample tp[TREE_N];
static const ProcessSample* tptr[TREE_N];

static void makeTree(void) {
   static const struct {
      pid_t pid, ppid;
      const char* name;
      unsigned long res;
      uid_t uid;
   } spec[TREE_N] = {
      { 1, 0, "init", 100, 0 },     { 2, 0, "kthreadd", 0, 0 },    { 3, 2, "kworker", 0, 0 },
      { 10, 1, "sshd", 500, 0 },    { 11, 1, "cron", 50, 0 },      { 20, 10, "bash", 300, 1000 },
      { 30, 20, "vim", 900, 1000 }, { 31, 20, "zombie", 0, 1000 },
   };
   memset(tp, 0, sizeof(tp));
   for (int i = 0; i < TREE_N; i++) {
      tp[i].pid = spec[i].pid;
      tp[i].ppid = spec[i].ppid;
      tp[i].resKiB = spec[i].res;
      tp[i].uid = spec[i].uid;
      tp[i].startTicks = 1000 + (unsigned long long)spec[i].pid;
      tp[i].state = spec[i].pid == 31 ? 'Z' : 'S';
      tp[i].threads = 1;
      tp[i].kernelThread = spec[i].pid == 2 || spec[i].ppid == 2;
      snprintf(tp[i].comm, sizeof(tp[i].comm), "%s", spec[i].name);
      snprintf(tp[i].user, sizeof(tp[i].user), "%s", spec[i].uid ? "alice" : "root");
      tptr[i] = &tp[i];
   }
}

static size_t rowOf(const ProcessTable* t, pid_t pid) {
   for (size_t i = 0; i < t->rowCount; i++) {
      if (t->rows[i].process->pid == pid && t->rows[i].thread < 0)
         return i;
   }
   fail_msg("pid %d not in the table", (int)pid);
   return 0;
}

static void selectPid(ProcessTable* t, pid_t pid) {
   ProcessTable_move(t, (long)rowOf(t, pid) - (long)t->selected);
   assert_int_equal(t->selectedPid, pid);
}

static void test_tree_order_and_depth(void** state) {
   (void)state;
   makeTree();
   ProcessTable t;
   ProcessTable_init(&t);
   t.tree = true;
   ProcessTable_rebuild(&t, tptr, TREE_N);
   /* Depth first, children in sort order (RES descending): sshd before cron. */
   static const pid_t order[TREE_N] = { 1, 10, 20, 30, 31, 11, 2, 3 };
   static const unsigned depth[TREE_N] = { 0, 1, 2, 3, 3, 1, 0, 1 };
   assert_int_equal(t.rowCount, TREE_N);
   for (int i = 0; i < TREE_N; i++) {
      assert_int_equal(t.rows[i].process->pid, order[i]);
      assert_int_equal(t.rows[i].depth, depth[i]);
   }
   /* The zombie is the last child of its parent; vim is not. */
   assert_true((t.rows[4].lastMask >> 3) & 1);
   assert_false((t.rows[3].lastMask >> 3) & 1);
   /* cron is init's last child; sshd's subtree draws a line down to it. */
   assert_true((t.rows[5].lastMask >> 1) & 1);
   assert_false((t.rows[3].lastMask >> 1) & 1);
   ProcessTable_done(&t);
}

static void test_tree_collapse_and_expand(void** state) {
   (void)state;
   makeTree();
   ProcessTable t;
   ProcessTable_init(&t);
   t.tree = true;
   ProcessTable_rebuild(&t, tptr, TREE_N);
   selectPid(&t, 20);
   ProcessTable_setCollapsed(&t, true);
   ProcessTable_rebuild(&t, tptr, TREE_N);
   assert_int_equal(t.rowCount, TREE_N - 2);
   assert_true(t.rows[rowOf(&t, 20)].collapsed);
   assert_true(t.rows[rowOf(&t, 20)].hasChildren);
   assert_int_equal(t.selectedPid, 20);
   ProcessTable_setCollapsed(&t, false);
   ProcessTable_rebuild(&t, tptr, TREE_N);
   assert_int_equal(t.rowCount, TREE_N);
   /* * collapses every top-level subtree, then expands all again. */
   ProcessTable_toggleAll(&t);
   ProcessTable_rebuild(&t, tptr, TREE_N);
   assert_int_equal(t.rowCount, 2);
   ProcessTable_toggleAll(&t);
   ProcessTable_rebuild(&t, tptr, TREE_N);
   assert_int_equal(t.rowCount, TREE_N);
   ProcessTable_done(&t);
}

/* A parent filtered out leaves its children as roots; circular parent
 * links (a pid race) still show every process once. */
static void test_tree_orphans_and_cycles(void** state) {
   (void)state;
   makeTree();
   ProcessTable t;
   ProcessTable_init(&t);
   t.tree = true;
   snprintf(t.filter, sizeof(t.filter), "vim");
   ProcessTable_rebuild(&t, tptr, TREE_N);
   assert_int_equal(t.rowCount, 1);
   assert_int_equal(t.rows[0].depth, 0);
   t.filter[0] = '\0';
   tp[3].ppid = 30; /* sshd's parent is vim, vim's ancestor is sshd */
   ProcessTable_rebuild(&t, tptr, TREE_N);
   assert_int_equal(t.rowCount, TREE_N);
   for (int i = 0; i < TREE_N; i++)
      rowOf(&t, tp[i].pid);
   ProcessTable_done(&t);
}

static void test_deep_chain_does_not_recurse(void** state) {
   (void)state;
   enum { DEPTH = 20000 };
   ProcessSample* chain = calloc(DEPTH, sizeof(ProcessSample));
   const ProcessSample** ptrs = calloc(DEPTH, sizeof(*ptrs));
   for (int i = 0; i < DEPTH; i++) {
      chain[i].pid = i + 1;
      chain[i].ppid = i;
      chain[i].state = 'S';
      snprintf(chain[i].comm, sizeof(chain[i].comm), "p%d", i);
      ptrs[i] = &chain[i];
   }
   ProcessTable t;
   ProcessTable_init(&t);
   t.tree = true;
   ProcessTable_rebuild(&t, ptrs, DEPTH);
   assert_int_equal(t.rowCount, DEPTH);
   assert_int_equal(t.rows[DEPTH - 1].depth, DEPTH - 1);
   ProcessTable_done(&t);
   free(ptrs);
   free(chain);
}

static void test_kernel_threads_and_users(void** state) {
   (void)state;
   makeTree();
   ProcessTable t;
   ProcessTable_init(&t);
   t.hideKernelThreads = true;
   ProcessTable_rebuild(&t, tptr, TREE_N);
   assert_int_equal(t.rowCount, TREE_N - 2);
   for (size_t i = 0; i < t.rowCount; i++)
      assert_false(t.rows[i].process->kernelThread);
   t.userFilter = true;
   t.uid = 1000;
   ProcessTable_rebuild(&t, tptr, TREE_N);
   assert_int_equal(t.rowCount, 3);
   for (size_t i = 0; i < t.rowCount; i++)
      assert_int_equal(t.rows[i].process->uid, 1000);
   ProcessTable_done(&t);
}

static void test_tags_and_targets(void** state) {
   (void)state;
   makeTree();
   ProcessTable t;
   ProcessTable_init(&t);
   ProcessTable_rebuild(&t, tptr, TREE_N);
   ProcessKey keys[8];
   /* Nothing tagged: the action targets the selected process. */
   selectPid(&t, 11);
   assert_int_equal(ProcessTable_targets(&t, keys, 8), 1);
   assert_int_equal(keys[0].pid, 11);
   assert_int_equal(keys[0].startTicks, 1011);
   assert_int_equal(ProcessTable_toggleTag(&t), 1);
   selectPid(&t, 30);
   assert_int_equal(ProcessTable_toggleTag(&t), 2);
   assert_int_equal(ProcessTable_targets(&t, keys, 8), 2);
   assert_int_equal(keys[0].pid, 11);
   assert_int_equal(keys[1].pid, 30);
   assert_int_equal(ProcessTable_toggleTag(&t), 1); /* untag vim */
   /* c: sshd and everything under it. */
   selectPid(&t, 10);
   assert_int_equal(ProcessTable_tagWithChildren(&t, tptr, TREE_N), 5);
   assert_true(ProcessTable_isTagged(&t, &tp[7])); /* the zombie grandchild */
   assert_false(ProcessTable_isTagged(&t, &tp[0]));
   /* A tagged process that exits is forgotten; a new one with its pid is not tagged. */
   const ProcessSample* without[TREE_N - 1];
   for (int i = 0, k = 0; i < TREE_N; i++) {
      if (tp[i].pid != 30)
         without[k++] = &tp[i];
   }
   ProcessTable_rebuild(&t, without, TREE_N - 1);
   assert_int_equal(t.tagCount, 4);
   tp[6].startTicks = 99999;
   ProcessTable_rebuild(&t, tptr, TREE_N);
   assert_false(ProcessTable_isTagged(&t, &tp[6]));
   ProcessTable_untagAll(&t);
   assert_int_equal(t.tagCount, 0);
   ProcessTable_done(&t);
}

/* THR of a process with 10051 threads shows all five digits. */
static void test_columns_grow_with_values(void** state) {
   (void)state;
   makeSample();
   procs[1].threads = 10051;
   procs[3].cpuPct = 1234.5;
   ProcessTable t;
   ProcessTable_init(&t);
   ProcessTable_rebuild(&t, pointers, NPROC);
   assert_int_equal(t.widths[COL_THREADS], 5);
   assert_int_equal(t.widths[COL_CPU], 6);
   assert_int_equal(t.widths[COL_PID], Column_get(COL_PID)->width);
   procs[1].threads = 3;
   procs[3].cpuPct = 1;
   ProcessTable_rebuild(&t, pointers, NPROC);
   assert_int_equal(t.widths[COL_THREADS], Column_get(COL_THREADS)->width);
   ProcessTable_done(&t);
}

/* Following: the selected process keeps its line on the screen while the
 * list re-sorts around it; without it the list scrolls as little as it
 * can. A move ends following. */
static void test_follow_keeps_the_screen_line(void** state) {
   (void)state;
   for (int follow = 0; follow < 2; follow++) {
      makeSample();
      ProcessTable t;
      ProcessTable_init(&t);
      t.pageRows = 2;
      ProcessTable_rebuild(&t, pointers, NPROC); /* 104 103 102 101 100 */
      for (int i = 0; i < 3; i++)
         ProcessTable_move(&t, 1); /* Down x3 to 101: scrolled by 2, on screen line 1 */
      assert_int_equal(t.selected - t.scroll, 1);
      t.following = follow;
      procs[1].resKiB = 3500; /* 101 moves up to index 2 */
      ProcessTable_rebuild(&t, pointers, NPROC);
      assert_int_equal(t.selectedPid, 101);
      assert_int_equal(t.selected, 2);
      assert_int_equal(t.selected - t.scroll, follow ? 1 : 0);
      ProcessTable_move(&t, -1);
      assert_false(t.following);
      ProcessTable_done(&t);
   }
}

/* A page (PgDn) moves the view with the selection: the next page starts
 * right after the last row shown. */
static void test_page_moves_the_view(void** state) {
   (void)state;
   makeSample();
   ProcessTable t;
   ProcessTable_init(&t);
   t.pageRows = 2;
   ProcessTable_rebuild(&t, pointers, NPROC); /* 104 103 | 102 101 | 100 */
   ProcessTable_move(&t, 2);
   assert_int_equal(t.scroll, 2);
   assert_int_equal(t.selected, 2);
   ProcessTable_move(&t, 2); /* the last page ends at the last row */
   assert_int_equal(t.scroll, 3);
   assert_int_equal(t.selected, 4);
   ProcessTable_move(&t, -2);
   assert_int_equal(t.scroll, 1);
   assert_int_equal(t.selected, 2);
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
      cmocka_unit_test(test_tree_order_and_depth),
      cmocka_unit_test(test_tree_collapse_and_expand),
      cmocka_unit_test(test_tree_orphans_and_cycles),
      cmocka_unit_test(test_deep_chain_does_not_recurse),
      cmocka_unit_test(test_kernel_threads_and_users),
      cmocka_unit_test(test_tags_and_targets),
      cmocka_unit_test(test_columns_grow_with_values),
      cmocka_unit_test(test_follow_keeps_the_screen_line),
      cmocka_unit_test(test_page_moves_the_view),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
