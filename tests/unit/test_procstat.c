/* ProcStat: /proc/PID/stat with a comm that holds ')' and spaces, against
 * this process's own figures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "stacktop/ProcStat.h"

static void test_parses_a_hostile_comm(void** state) {
   (void)state;
   ProcStat st;
   const char* line = "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 120 0 0 0 3 4 0 0 20 -5 7 0 987654 1000 200 "
                      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0\n";
   assert_true(ProcStat_parse(line, &st));
   assert_string_equal(st.comm, "a) b (c");
   assert_int_equal(st.state, 'S');
   assert_int_equal(st.ppid, 1);
   assert_int_equal(st.flags, 4194560);
   assert_int_equal(st.nice, -5);
   assert_int_equal(st.threads, 7);
   assert_int_equal(st.startTicks, 987654);
   assert_int_equal(st.ticks, 3 + 4);
   assert_int_equal(st.processor, 3);
   assert_false(ProcStat_isKernelThread(&st));
   /* An old kernel's line that ends before the processor field. */
   assert_true(ProcStat_parse("7 (x) R 1 7 7 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 99 1000 200\n", &st));
   assert_int_equal(st.ticks, 11);
   assert_int_equal(st.processor, -1);
   assert_false(ProcStat_parse("4242 (no close S 1", &st));
   assert_false(ProcStat_parse("4242 (x) S", &st));
   assert_false(ProcStat_parse("", &st));
   assert_false(ProcStat_parse("1 (x) S 1 2 3", &st)); /* cut short */
}

static void test_reads_itself_and_kthreadd(void** state) {
   (void)state;
   ProcStat st;
   assert_true(ProcStat_read(getpid(), 0, &st));
   assert_int_equal(st.ppid, getppid());
   assert_true(st.threads >= 1);
   assert_false(ProcStat_isKernelThread(&st));
   assert_true(ProcStat_read(getpid(), getpid(), &st)); /* the main thread's task file */
   assert_true(ProcStat_read(2, 0, &st));               /* kthreadd */
   assert_true(ProcStat_isKernelThread(&st));
   assert_false(ProcStat_read(999999999, 0, &st));
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parses_a_hostile_comm),
      cmocka_unit_test(test_reads_itself_and_kthreadd),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
