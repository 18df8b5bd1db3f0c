/* Column: the table, name lookup, every comparator (with the pid tie-break),
 * sorting both ways, and cell formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

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
      "pid",    "ppid",    "user", "state", "nice", "threads", "cpu",        "processor",
      "mem",    "virt",    "res",  "shr",   "data", "rgrow",   "goroutines", "ggrow",
      "ioread", "iowrite", "fds",  "start", "time", "wchan",   "command",
   };
   static const char* headers[COL_COUNT] = {
      "PID",  "PPID",  "USER", "S",     "NI",     "THR",    "CPU%", "CPU#",  "MEM%",  "VIRT",  "RES",     "SHR",
      "DATA", "RGROW", "GOR",  "GGROW", "IORD/s", "IOWR/s", "FDS",  "START", "TIME+", "WCHAN", "COMMAND",
   };
   /* The default set is the columns the monitor always had; the new ones
    * are a chooser away. */
   static const bool byDefault[COL_COUNT] = {
      [COL_PID] = true,   [COL_USER] = true, [COL_STATE] = true,   [COL_THREADS] = true,    [COL_CPU] = true,
      [COL_MEM] = true,   [COL_VIRT] = true, [COL_RES] = true,     [COL_SHR] = true,        [COL_DATA] = true,
      [COL_RGROW] = true, [COL_TIME] = true, [COL_COMMAND] = true, [COL_GOROUTINES] = true, [COL_GGROW] = true,
   };
   char all[512] = "";
   for (int i = 0; i < COL_COUNT; i++) {
      const Column* c = Column_get((ColumnId)i);
      assert_non_null(c);
      assert_string_equal(c->name, names[i]);
      assert_string_equal(c->header, headers[i]);
      assert_non_null(c->description);
      assert_non_null(c->compare);
      assert_non_null(c->format);
      assert_int_equal(c->shownByDefault, byDefault[i]);
      assert_int_equal(Column_byName(names[i]), i);
      assert_int_equal(Column_byName(headers[i]), i);
      strcat(all, i ? ", " : "");
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
   case COL_PPID: p->ppid = v; break;
   case COL_NICE: p->nice = v - 2; break;
   case COL_PROCESSOR: p->processor = v; break;
   case COL_IO_READ: p->ioReadRate = v * 4096.0; break;
   case COL_IO_WRITE: p->ioWriteRate = v * 512.0; break;
   case COL_FDS: p->fds = v; break;
   case COL_START: p->startTicks = (unsigned long long)v * 100; break;
   case COL_WCHAN: snprintf(p->wchan, sizeof(p->wchan), "%s", users[v]); break;
   case COL_USER: snprintf(p->user, sizeof(p->user), "%s", users[v]); break;
   case COL_STATE: p->state = "DRSTZ"[v]; break;
   case COL_THREADS: p->threads = v; break;
   case COL_CPU: p->cpuPct = v * 10.5; break;
   case COL_MEM: p->memPct = v * 0.25; break;
   case COL_VIRT: p->virtKiB = (unsigned long)v * 1000; break;
   case COL_RES: p->resKiB = (unsigned long)v * 1000; break;
   case COL_SHR: p->shrKiB = (unsigned long)v; break;
   case COL_DATA: p->dataKiB = (unsigned long)v; break;
   case COL_RGROW:
      p->resGrowthKiBPerMin = v * 100.0 - 150.0;
      p->resGrowthKnown = true;
      break;
   case COL_GOROUTINES: p->goroutines = v * 100; break;
   case COL_GGROW:
      p->goroutines = 1;
      p->goGrowthPerMin = v * 10.0 - 15.0;
      p->goGrowthKnown = true;
      break;
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

/* Only columns on screen make the Sampler read their files. */
static void test_fields(void** state) {
   (void)state;
   bool visible[COL_COUNT] = { false };
   visible[COL_PID] = visible[COL_RES] = visible[COL_COMMAND] = true;
   assert_int_equal(Column_fields(visible), 0);
   visible[COL_IO_WRITE] = true;
   assert_int_equal(Column_fields(visible), SAMPLER_FIELD_IO);
   visible[COL_WCHAN] = visible[COL_FDS] = true;
   assert_int_equal(Column_fields(visible), SAMPLER_FIELD_IO | SAMPLER_FIELD_WCHAN | SAMPLER_FIELD_FDS);
}

/* Growth not known yet sorts below every known figure, negative ones too. */
static void test_unknown_growth_sorts_last(void** state) {
   (void)state;
   ProcessSample known = make(1), unknown = make(2);
   known.resGrowthKnown = true;
   known.resGrowthKiBPerMin = -50;
   assert_true(Column_compare(COL_RGROW, &unknown, &known) < 0);
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
   p.goroutines = 1234;
   p.goGrowthPerMin = 12.34;
   p.goGrowthKnown = true;
   p.cpuTimeS = 61.5;
   p.command = "/usr/bin/thing --flag";
   p.ppid = 1;
   p.nice = -5;
   p.processor = 1;
   p.ioReadRate = 2048.0 * 1024.0;
   p.ioWriteRate = 0;
   p.fds = 17;
   p.startTime = (double)time(NULL) - 60.0;
   snprintf(p.wchan, sizeof(p.wchan), "do_epoll_wait");
   char startedAt[16];
   time_t started = (time_t)p.startTime;
   struct tm tm;
   localtime_r(&started, &tm);
   strftime(startedAt, sizeof(startedAt), "%H:%M", &tm);
   const char* want[COL_COUNT] = {
      [COL_PID] = "4242",
      [COL_PPID] = "1",
      [COL_USER] = "root",
      [COL_STATE] = "R",
      [COL_NICE] = "-5",
      [COL_THREADS] = "12",
      [COL_CPU] = "199.9",
      [COL_PROCESSOR] = "1",
      [COL_MEM] = "3.2",
      [COL_VIRT] = "23.4M",
      [COL_RES] = "812K",
      [COL_GOROUTINES] = "1234",
      [COL_GGROW] = "+12",
      [COL_SHR] = "1.00G",
      [COL_DATA] = "0K",
      [COL_RGROW] = "-300K",
      [COL_IO_READ] = "2.0M",
      [COL_IO_WRITE] = "0K",
      [COL_FDS] = "17",
      [COL_START] = startedAt,
      [COL_TIME] = "1:01.50",
      [COL_WCHAN] = "do_epoll_wait",
      [COL_COMMAND] = "/usr/bin/thing --flag",
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
   /* Optional figures not read (or not readable) are blank, not 0. */
   p.ioReadRate = p.ioWriteRate = -1;
   p.fds = -1;
   p.processor = -1;
   for (ColumnId id = COL_IO_READ; id <= COL_FDS; id++) {
      Column_format(id, &p, buf, sizeof(buf));
      assert_string_equal(buf, "");
   }
   Column_format(COL_PROCESSOR, &p, buf, sizeof(buf));
   assert_string_equal(buf, "");
   /* Started more than a day ago: the date; more than a year: the year. */
   p.startTime = (double)time(NULL) - 3 * 86400.0;
   Column_format(COL_START, &p, buf, sizeof(buf));
   assert_int_equal(strlen(buf), 5);
   p.startTime = (double)time(NULL) - 800 * 86400.0;
   Column_format(COL_START, &p, buf, sizeof(buf));
   assert_int_equal(strlen(buf), 4);
   char tiny[3];
   Column_format(COL_PID, &p, tiny, sizeof(tiny));
   assert_string_equal(tiny, "42");
}

/* Does a .B or .BR line in [start, end) have header as a word? */
static bool entryFor(const char* start, const char* end, const char* header) {
   size_t n = strlen(header);
   for (const char* p = strstr(start, header); p && p < end; p = strstr(p + 1, header)) {
      const char* line = p;
      while (line > start && line[-1] != '\n')
         line--;
      bool bold = strncmp(line, ".B ", 3) == 0 || strncmp(line, ".BR ", 4) == 0;
      bool word = (p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == '"');
      if (bold && word)
         return true;
   }
   return false;
}

/* The man page describes every column (its header, in THE SCREEN) and -s
 * names them all. */
static void test_every_column_in_the_man_page(void** state) {
   (void)state;
   FILE* f = fopen("doc/stacktop.1", "r");
   assert_non_null(f);
   static char man[1 << 18];
   man[fread(man, 1, sizeof(man) - 1, f)] = '\0';
   fclose(f);
   const char* screen = strstr(man, ".SH THE SCREEN");
   const char* options = strstr(man, ".SH OPTIONS");
   assert_non_null(screen);
   assert_non_null(options);
   for (int id = 0; id < COL_COUNT; id++) {
      const Column* c = Column_get((ColumnId)id);
      char name[64];
      snprintf(name, sizeof(name), " %s ", c->name);
      if (!entryFor(screen, strstr(screen, ".SH HISTORY"), c->header))
         fail_msg("column %s has no entry under THE SCREEN", c->header);
      if (!strstr(options, name) || strstr(options, name) > screen)
         fail_msg("-s does not list %s in the man page", c->name);
   }
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table),
      cmocka_unit_test(test_by_name),
      cmocka_unit_test(test_every_comparator),
      cmocka_unit_test(test_fields),
      cmocka_unit_test(test_every_column_in_the_man_page),
      cmocka_unit_test(test_unknown_growth_sorts_last),
      cmocka_unit_test(test_ties_break_by_pid),
      cmocka_unit_test(test_sort),
      cmocka_unit_test(test_format),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
