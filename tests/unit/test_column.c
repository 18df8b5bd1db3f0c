/* Column: the table, name lookup, every comparator (with the pid tie-break),
 * sorting both ways, and cell formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "stacktop/Column.h"

static ProcessSample make(pid_t pid) {
   ProcessSample p;
   memset(&p, 0, sizeof(p));
   p.pid = pid;
   snprintf(p.user, sizeof(p.user), "root");
   p.state = 'S';
   snprintf(p.comm, sizeof(p.comm), "c%d", (int)pid);
   return p;
}

static void test_table(void** state) {
   (void)state;
   static const char* names[COL_COUNT] = {
      "pid", "user", "state", "threads", "cpu", "mem", "virt", "res", "shr", "data", "rgrow", "time", "command",
   };
   static const char* headers[COL_COUNT] = {
      "PID", "USER", "S", "THR", "CPU%", "MEM%", "VIRT", "RES", "SHR", "DATA", "RGROW", "TIME+", "COMMAND",
   };
   char all[256] = "";
   for (int i = 0; i < COL_COUNT; i++) {
      const Column* c = Column_get((ColumnId)i);
      assert_non_null(c);
      assert_string_equal(c->name, names[i]);
      assert_string_equal(c->header, headers[i]);
      assert_non_null(c->description);
      assert_int_equal(Column_byName(names[i]), i);
      assert_int_equal(Column_byName(headers[i]), i);
      strcat(all, i ? "," : "");
      strcat(all, names[i]);
   }
   assert_string_equal(Column_names(), all);
   assert_int_equal(Column_get(COL_COMMAND)->width, 0);
   assert_null(Column_get(COL_COUNT));
   assert_null(Column_get((ColumnId)-1));
}

static void test_by_name(void** state) {
   (void)state;
   assert_int_equal(Column_byName("RES"), COL_RES);
   assert_int_equal(Column_byName("Res"), COL_RES);
   assert_int_equal(Column_byName("cpu%"), COL_CPU);
   assert_int_equal(Column_byName("time+"), COL_TIME);
   assert_int_equal(Column_byName("nosuch"), -1);
   assert_int_equal(Column_byName(""), -1);
   assert_int_equal(Column_byName(NULL), -1);
}

/* Sets field `id` of p so that a bigger `v` sorts later ascending. */
static void setField(ProcessSample* p, ColumnId id, int v) {
   static char users[8][8] = { "a", "b", "c", "d", "e", "f", "g", "h" };
   static char commands[8][8] = { "/a", "/b", "/c", "/d", "/e", "/f", "/g", "/h" };
   switch (id) {
   case COL_PID: p->pid = v; break;
   case COL_USER: snprintf(p->user, sizeof(p->user), "%s", users[v]); break;
   case COL_STATE: p->state = "DRSTZ"[v]; break;
   case COL_THREADS: p->threads = v; break;
   case COL_CPU: p->cpuPct = v * 10.5; break;
   case COL_MEM: p->memPct = v * 0.25; break;
   case COL_VIRT: p->virtKiB = (unsigned long)v * 1000; break;
   case COL_RES: p->resKiB = (unsigned long)v * 1000; break;
   case COL_SHR: p->shrKiB = (unsigned long)v; break;
   case COL_DATA: p->dataKiB = (unsigned long)v; break;
   case COL_RGROW: p->resGrowthKiBPerMin = v * 100.0 - 150.0; break;
   case COL_TIME: p->cpuTimeS = v * 1.5; break;
   case COL_COMMAND: p->command = commands[v]; break;
   case COL_COUNT: break;
   }
}

static void test_every_comparator(void** state) {
   (void)state;
   for (int id = 0; id < COL_COUNT; id++) {
      ProcessSample a = make(10), b = make(20);
      setField(&a, (ColumnId)id, 1);
      setField(&b, (ColumnId)id, 3);
      assert_true(Column_compare((ColumnId)id, &a, &b) < 0);
      assert_true(Column_compare((ColumnId)id, &b, &a) > 0);
      assert_int_equal(Column_compare((ColumnId)id, &a, &a), 0);
   }
}

static void test_ties_break_by_pid(void** state) {
   (void)state;
   ProcessSample a = make(5), b = make(7);
   a.resKiB = b.resKiB = 100;
   assert_true(Column_compare(COL_RES, &a, &b) < 0);
   assert_true(Column_compare(COL_RES, &b, &a) > 0);
   /* command falls back to comm when there is no cmdline */
   assert_true(Column_compare(COL_COMMAND, &a, &b) < 0);
}

static void test_sort(void** state) {
   (void)state;
   ProcessSample p[5];
   unsigned long res[5] = { 300, 100, 500, 100, 200 };
   const ProcessSample* rows[5];
   for (int i = 0; i < 5; i++) {
      p[i] = make(100 - i); /* pids 100, 99, 98, 97, 96 */
      p[i].resKiB = res[i];
      rows[i] = &p[i];
   }
   Column_sort(rows, 5, COL_RES, true);
   unsigned long wantRes[5] = { 500, 300, 200, 100, 100 };
   for (int i = 0; i < 5; i++)
      assert_int_equal(rows[i]->resKiB, wantRes[i]);
   /* The tie (pids 99 and 97) keeps ascending pid even when descending. */
   assert_int_equal(rows[3]->pid, 97);
   assert_int_equal(rows[4]->pid, 99);

   Column_sort(rows, 5, COL_RES, false);
   unsigned long wantAsc[5] = { 100, 100, 200, 300, 500 };
   for (int i = 0; i < 5; i++)
      assert_int_equal(rows[i]->resKiB, wantAsc[i]);
   assert_int_equal(rows[0]->pid, 97);

   Column_sort(rows, 5, COL_PID, false);
   for (int i = 0; i < 5; i++)
      assert_int_equal(rows[i]->pid, 96 + i);
   Column_sort(rows, 0, COL_PID, false); /* empty is fine */
}

static void test_format(void** state) {
   (void)state;
   ProcessSample p = make(4242);
   p.threads = 12;
   p.state = 'R';
   p.cpuPct = 199.94;
   p.memPct = 3.25;
   p.virtKiB = 23962;
   p.resKiB = 812;
   p.shrKiB = 1048576;
   p.dataKiB = 0;
   p.resGrowthKiBPerMin = -300;
   p.resGrowthKnown = true;
   p.cpuTimeS = 61.5;
   p.command = "/usr/bin/thing --flag";
   static const char* want[COL_COUNT] = {
      "4242",
      "root",
      "R",
      "12",
      "199.9",
      "3.2",
      "23.4M",
      "812K",
      "1.00G",
      "0K",
      "-300K",
      "1:01.50",
      "/usr/bin/thing --flag",
   };
   char buf[64];
   for (int id = 0; id < COL_COUNT; id++) {
      Column_format((ColumnId)id, &p, buf, sizeof(buf));
      assert_string_equal(buf, want[id]);
   }
   /* No growth figure until the history is long enough. */
   p.resGrowthKnown = false;
   Column_format(COL_RGROW, &p, buf, sizeof(buf));
   assert_string_equal(buf, "");
   p.command = NULL;
   Column_format(COL_COMMAND, &p, buf, sizeof(buf));
   assert_string_equal(buf, "c4242");
   Column_format(COL_COUNT, &p, buf, sizeof(buf));
   assert_string_equal(buf, "");
   char tiny[3];
   Column_format(COL_PID, &p, tiny, sizeof(tiny));
   assert_string_equal(tiny, "42");
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table),
      cmocka_unit_test(test_by_name),
      cmocka_unit_test(test_every_comparator),
      cmocka_unit_test(test_ties_break_by_pid),
      cmocka_unit_test(test_sort),
      cmocka_unit_test(test_format),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
