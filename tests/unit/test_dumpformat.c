/* Dump_write: the exact text (Go debug=1 layout), folded and JSON output of a
 * hand-built DumpResult, including thread-id shortening, names and states. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Dump.h"

static DumpThread threadsA[12];
static DumpThread threadsB[2] = {
   { .tid = 7, .name = "main", .state = 'R' },
   { .tid = 9, .name = "io", .state = 'D' },
};
static uint64_t pcsA[] = { 0x7f00000010, 0x55000000a5 };
static uint64_t pcsB[] = { 0x55000000c0 };
static DumpFrame framesA[] = {
   { .pc = 0x7f0000000f,
     .function = "inner_inl",
     .offset = 0x0,
     .file = "lib.c",
     .line = 10,
     .module = "/lib/libx.so",
     .inlined = true },
   { .pc = 0x7f0000000f, .function = "wait_a", .offset = 0x1f, .file = "lib.c", .line = 20, .module = "/lib/libx.so" },
   { .pc = 0x55000000a4, .function = "caller", .offset = 0x4, .module = "/bin/app" },
};
static DumpFrame framesB[] = {
   { .pc = 0x55000000bf, .module = "/bin/app" },
   { .pc = 0x12 },
};

static DumpResult sample(void) {
   for (int i = 0; i < 12; i++) {
      threadsA[i] = (DumpThread){ .tid = 100 + i, .state = i < 10 ? 'S' : 'R' };
      strcpy(threadsA[i].name, i % 2 ? "worker" : "pool;x");
   }
   static DumpGroup groups[2];
   groups[0] =
       (DumpGroup){ .count = 12, .threads = threadsA, .pcs = pcsA, .pcCount = 2, .frames = framesA, .frameCount = 3 };
   groups[1] =
       (DumpGroup){ .count = 2, .threads = threadsB, .pcs = pcsB, .pcCount = 1, .frames = framesB, .frameCount = 2 };
   return (DumpResult){
      .pid = 42, .comm = "app", .totalThreads = 14, .stoppedMs = 1.25, .totalMs = 9.5, .groups = groups, .groupCount = 2
   };
}

static char* render(const DumpResult* r, DumpFormat f) {
   char* buf = NULL;
   size_t len = 0;
   FILE* out = open_memstream(&buf, &len);
   assert_int_equal(Dump_write(r, f, out), 0);
   fclose(out);
   return buf;
}

static void test_text(void** state) {
   (void)state;
   DumpResult r = sample();
   char* text = render(&r, DUMP_FORMAT_TEXT);
   const char* expected = "thread profile: total 14\n"
                          "12 @ 0x7f00000010 0x55000000a5\n"
                          "# threads: 100 101 102 ... 111 (names: pool;x, worker)   states: S\u00d710 R\u00d72\n"
                          "#\t0x7f0000000f\tinner_inl+0x0\tlib.c:10\n"
                          "#\t0x7f0000000f\twait_a+0x1f\tlib.c:20\n"
                          "#\t0x55000000a4\tcaller+0x4\t/bin/app\n"
                          "\n"
                          "2 @ 0x55000000c0\n"
                          "# threads: 7 9 (names: io, main)   states: D\u00d71 R\u00d71\n"
                          "#\t0x55000000bf\t?\t/bin/app\n"
                          "#\t0x12\n"
                          "\n"
                          "# stopped 1.2 ms, total 9.5 ms\n";
   assert_string_equal(text, expected);
   free(text);
}

static void test_text_late_threads(void** state) {
   (void)state;
   DumpResult r = sample();
   r.groupCount = 0;
   r.lateThreads = 3;
   char* text = render(&r, DUMP_FORMAT_TEXT);
   assert_string_equal(text, "thread profile: total 14\n"
                             "# 3 threads did not stop in time (uninterruptible sleep?): listed without frames\n"
                             "# stopped 1.2 ms, total 9.5 ms\n");
   free(text);
}

/* Up to 10 thread ids are listed in full, beyond that head ... last. */
static void test_tid_list_boundary(void** state) {
   (void)state;
   DumpResult r = sample();
   r.groupCount = 1;
   r.groups[0].count = 10;
   r.groups[0].frameCount = 0;
   char* text = render(&r, DUMP_FORMAT_TEXT);
   assert_non_null(strstr(
       text, "# threads: 100 101 102 103 104 105 106 107 108 109 (names: pool;x, worker)   states: S\u00d710\n"));
   free(text);
   r.groups[0].count = 11;
   text = render(&r, DUMP_FORMAT_TEXT);
   assert_non_null(
       strstr(text, "# threads: 100 101 102 ... 110 (names: pool;x, worker)   states: S\u00d710 R\u00d71\n"));
   free(text);
}

/* Distinct names beyond four are counted, not listed. */
static void test_many_names(void** state) {
   (void)state;
   DumpResult r = sample();
   r.groupCount = 1;
   r.groups[0].frameCount = 0;
   for (int i = 0; i < 12; i++)
      snprintf(r.groups[0].threads[i].name, sizeof(r.groups[0].threads[i].name), "n%02d", i % 6);
   char* text = render(&r, DUMP_FORMAT_TEXT);
   assert_non_null(strstr(text, "(names: n00, n01, n02, n03, +2 more)"));
   free(text);
}

static void test_folded(void** state) {
   (void)state;
   DumpResult r = sample();
   strcpy(r.comm, "a;b");
   char* text = render(&r, DUMP_FORMAT_FOLDED);
   assert_string_equal(text, "a:b;caller;wait_a;inner_inl 12\n"
                             "a:b;?;? 2\n");
   free(text);
}

static void test_json(void** state) {
   (void)state;
   DumpResult r = sample();
   r.groupCount = 1;
   r.groups[0].count = 1;
   r.groups[0].frameCount = 1;
   r.groupBy = DUMP_GROUP_FUNCTION;
   char* text = render(&r, DUMP_FORMAT_JSON);
   const char* expected =
       "{\"pid\":42,\"comm\":\"app\",\"total_threads\":14,\"late_threads\":0,\"stopped_ms\":1.250,"
       "\"total_ms\":9.500,\"group_by\":\"function\",\"groups\":[{\"count\":1,"
       "\"pcs\":[\"0x7f00000010\",\"0x55000000a5\"],"
       "\"threads\":[{\"tid\":100,\"name\":\"pool;x\",\"state\":\"S\"}],"
       "\"frames\":[{\"pc\":\"0x7f0000000f\",\"function\":\"inner_inl\",\"offset\":0,\"file\":\"lib.c\","
       "\"line\":10,\"module\":\"/lib/libx.so\",\"inlined\":true}]}]}\n";
   assert_string_equal(text, expected);
   free(text);
   r.groups[0].frames = framesB;
   text = render(&r, DUMP_FORMAT_JSON);
   assert_non_null(strstr(text, "\"function\":null,\"offset\":0,\"file\":null,\"line\":null,\"module\":\"/bin/app\""));
   free(text);
}

static void test_bad_format(void** state) {
   (void)state;
   DumpResult r = sample();
   FILE* out = fopen("/dev/null", "w");
   assert_int_equal(Dump_write(&r, (DumpFormat)99, out), -1);
   fclose(out);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_text),
      cmocka_unit_test(test_text_late_threads),
      cmocka_unit_test(test_tid_list_boundary),
      cmocka_unit_test(test_many_names),
      cmocka_unit_test(test_folded),
      cmocka_unit_test(test_json),
      cmocka_unit_test(test_bad_format),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
