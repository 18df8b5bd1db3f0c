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
                             "# 3 threads did not stop before the deadline (--timeout; uninterruptible sleep?): "
                             "listed without user frames\n"
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
       "{\"pid\":42,\"comm\":\"app\",\"total_threads\":14,\"late_threads\":0,\"missed_threads\":0,"
       "\"cut_stacks\":0,\"stopped_ms\":1.250,"
       "\"pause_phases_ms\":{\"interrupt\":0.000,\"wait\":0.000,\"copy\":0.000,\"release\":0.000},"
       "\"total_ms\":9.500,\"group_by\":\"function\",\"groups\":[{\"count\":1,"
       "\"pcs\":[\"0x7f00000010\",\"0x55000000a5\"],"
       "\"threads\":[{\"tid\":100,\"name\":\"pool;x\",\"state\":\"S\"}],"
       "\"frames\":[{\"pc\":\"0x7f0000000f\",\"function\":\"inner_inl\",\"offset\":0,\"file\":\"lib.c\","
       "\"line\":10,\"module\":\"/lib/libx.so\",\"inlined\":true,\"signal_frame\":false}],\"cut\":null}]}\n";
   assert_string_equal(text, expected);
   free(text);
   r.groups[0].frames = framesB;
   text = render(&r, DUMP_FORMAT_JSON);
   assert_non_null(strstr(text, "\"function\":null,\"offset\":0,\"file\":null,\"line\":null,\"module\":\"/bin/app\""));
   free(text);
}

/* Thread names, functions and paths are the target's: a newline must not
 * forge a line (a fake "7 @ 0x1" group), an escape must not reach the
 * terminal, in text and folded output. */
static void test_hostile_names_are_neutralised(void** state) {
   (void)state;
   DumpResult r = sample();
   r.groupCount = 1;
   strcpy(r.groups[0].threads[0].name, "a\n7 @ 0x1\n");
   strcpy(r.groups[0].threads[1].name, "\x1b]0;x\x07");
   strcpy(r.comm, "c\x1b[2J");
   DumpFrame f[] = {
      { .pc = 0x10, .function = "evil\n1 @ 0x2", .offset = 1, .file = "x\r.c", .line = 3 },
      { .pc = 0x20,
        .function = "c1\xc2\x9b"
                    "31m",
        .module = "/tmp/m\td" },
   };
   r.groups[0].frames = f;
   r.groups[0].frameCount = 2;
   char* text = render(&r, DUMP_FORMAT_TEXT);
   assert_null(strchr(text, '\x1b'));
   assert_null(strchr(text, '\r'));
   assert_null(strchr(text, '\x07'));
   assert_null(strstr(text, "\xc2\x9b"));
   assert_null(strstr(text, "\n7 @"));
   assert_null(strstr(text, "\n1 @"));
   /* each such byte shows as \xHH (Printable) */
   assert_non_null(strstr(text, "names: \\x1b]0;x\\x07, a\\x0a7 @ 0x1\\x0a, pool;x, worker)"));
   assert_non_null(strstr(text, "#\t0x10\tevil\\x0a1 @ 0x2+0x1\tx\\x0d.c:3\n"));
   assert_non_null(strstr(text, "#\t0x20\tc1\\xc2\\x9b31m+0x0\t/tmp/m\\x09d\n"));
   free(text);
   text = render(&r, DUMP_FORMAT_FOLDED);
   assert_string_equal(text, "c\\x1b[2J;c1\\xc2\\x9b31m;evil\\x0a1 @ 0x2 12\n");
   free(text);
}

/* The trampoline a signal handler returns to, and what a cut stack and a
 * thread that never stopped look like. */
static void test_signal_frames_and_cuts(void** state) {
   (void)state;
   DumpResult r = sample();
   DumpFrame f[] = {
      { .pc = 0x10, .function = "handler", .offset = 4, .module = "/bin/app" },
      { .pc = 0x7f20, .module = "/lib/libc.so.6", .signal = true },
      { .pc = 0x30, .function = "work", .offset = 0, .module = "/bin/app" },
   };
   r.groups[0].frames = f;
   r.groups[0].frameCount = 3;
   r.groups[0].cut = DUMP_CUT_COPY_LIMIT;
   r.groups[1].frameCount = 0;
   r.groups[1].pcCount = 0;
   r.groups[1].cut = DUMP_CUT_NOT_STOPPED;
   r.groups[1].wait = (DumpKernelWait){ .wchan = "wait_for_vfork_done",
                                        .stack = (char*)"[<0>] wait_for_vfork_done+0x3c/0x60\n[<0>] kernel_clone" };
   r.cutStacks = 12;
   r.lateThreads = 2;
   r.missedThreads = 1;
   char* text = render(&r, DUMP_FORMAT_TEXT);
   assert_non_null(strstr(text, "#\t0x10\thandler+0x4\t/bin/app\n"
                                "#\t0x7f20\t<signal handler called>\t/lib/libc.so.6\n"
                                "#\t0x30\twork+0x0\t/bin/app\n"
                                "#\t...\tstack cut: the rest of the stack was not copied (per-thread copy limit)\n\n"));
   assert_non_null(strstr(text, "2 @\n# threads: 7 9 (names: io, main)   states: D\u00d71 R\u00d71\n"
                                "#\t...\tstack cut: did not stop before the deadline: no user stack\n"
                                "#\tkernel wait channel: wait_for_vfork_done\n"
                                "#\tkernel: [<0>] wait_for_vfork_done+0x3c/0x60\n"
                                "#\tkernel: [<0>] kernel_clone\n\n"));
   assert_non_null(strstr(text, "# 1 thread started during the stop and could not be stopped in time: not listed\n"));
   assert_non_null(strstr(text, "# 12 stacks are partial: see \"stack cut\" above\n"));
   free(text);
   text = render(&r, DUMP_FORMAT_FOLDED);
   assert_string_equal(text, "app;[stack cut: copy_limit];work;<signal handler called>;handler 12\n"
                             "app;[stack cut: not_stopped wait_for_vfork_done] 2\n");
   free(text);
   text = render(&r, DUMP_FORMAT_JSON);
   assert_non_null(strstr(text, "\"signal_frame\":true"));
   assert_non_null(strstr(text, "\"cut\":\"copy_limit\""));
   assert_non_null(strstr(text, "\"cut\":\"not_stopped\",\"kernel_wchan\":\"wait_for_vfork_done\","
                                "\"kernel_stack\":\"[<0>] wait_for_vfork_done+0x3c/0x60\\n[<0>] kernel_clone\""));
   free(text);
   r.groups[1].wait.stack = NULL;
   strcpy(r.groups[1].wait.stackErr, "Permission denied");
   text = render(&r, DUMP_FORMAT_TEXT);
   assert_non_null(strstr(text, "#\tkernel stack unavailable: Permission denied\n"));
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
      cmocka_unit_test(test_hostile_names_are_neutralised),
      cmocka_unit_test(test_signal_frames_and_cuts),
      cmocka_unit_test(test_bad_format),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
