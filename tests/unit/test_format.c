/* Format: sizes at every unit boundary, CPU times, uptimes and rates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "stacktop/Format.h"

typedef struct KibCase_ {
   unsigned long long kib;
   const char* text;
   int magnitude;
} KibCase;

static const KibCase kibCases[] = {
   { 0, "0K", 0 },
   { 812, "812K", 0 },
   { 1023, "1023K", 0 },
   { 1024, "1.0M", 1 },
   { 23962, "23.4M", 1 },
   { 102400, "100M", 1 },
   { 1048575, "1024M", 1 },
   { 1048576, "1.00G", 2 },
   { 1258291, "1.20G", 2 },
   { 10485760, "10.0G", 2 },
   { 104857600, "100G", 2 },
   { 3221225472ULL, "3.0T", 3 },
   { 107374182400ULL, "100T", 3 },
};

static void test_kib(void** state) {
   (void)state;
   char buf[32];
   for (size_t i = 0; i < sizeof(kibCases) / sizeof(kibCases[0]); i++) {
      Format_kib(buf, sizeof(buf), kibCases[i].kib);
      assert_string_equal(buf, kibCases[i].text);
      assert_true(strlen(buf) <= 6);
      assert_int_equal(Format_kibMagnitude(kibCases[i].kib), kibCases[i].magnitude);
   }
}

static void test_kib_truncates_to_buffer(void** state) {
   (void)state;
   char buf[4];
   Format_kib(buf, sizeof(buf), 23962);
   assert_string_equal(buf, "..."); /* "23.4M" does not fit: never a wrong "23." */
}

static void test_cpu_time(void** state) {
   (void)state;
   char buf[32];
   Format_cpuTime(buf, sizeof(buf), 0);
   assert_string_equal(buf, "0:00.00");
   Format_cpuTime(buf, sizeof(buf), 1.234);
   assert_string_equal(buf, "0:01.23");
   Format_cpuTime(buf, sizeof(buf), 61.5);
   assert_string_equal(buf, "1:01.50");
   Format_cpuTime(buf, sizeof(buf), 59.999);
   assert_string_equal(buf, "1:00.00");
   Format_cpuTime(buf, sizeof(buf), 99 * 3600 + 59 * 60 + 59.99);
   assert_string_equal(buf, "5999:59.99");
   Format_cpuTime(buf, sizeof(buf), 100 * 3600);
   assert_string_equal(buf, "100h:00");
   Format_cpuTime(buf, sizeof(buf), 123 * 3600 + 45 * 60 + 12);
   assert_string_equal(buf, "123h:45");
   Format_cpuTime(buf, sizeof(buf), -5);
   assert_string_equal(buf, "0:00.00");
   Format_cpuTime(buf, sizeof(buf), NAN);
   assert_string_equal(buf, "0:00.00");
}

static void test_uptime(void** state) {
   (void)state;
   char buf[48];
   Format_uptime(buf, sizeof(buf), 0);
   assert_string_equal(buf, "00:00:00");
   Format_uptime(buf, sizeof(buf), 4 * 3600 + 5 * 60 + 6.7);
   assert_string_equal(buf, "04:05:06");
   Format_uptime(buf, sizeof(buf), 86400 + 1);
   assert_string_equal(buf, "1 day, 00:00:01");
   Format_uptime(buf, sizeof(buf), 3 * 86400 + 4 * 3600 + 5 * 60 + 6);
   assert_string_equal(buf, "3 days, 04:05:06");
}

static void test_rate(void** state) {
   (void)state;
   char buf[32];
   Format_rate(buf, sizeof(buf), 0);
   assert_string_equal(buf, "0");
   Format_rate(buf, sizeof(buf), 0.49);
   assert_string_equal(buf, "0");
   Format_rate(buf, sizeof(buf), -0.3);
   assert_string_equal(buf, "0");
   Format_rate(buf, sizeof(buf), 1228.8);
   assert_string_equal(buf, "+1.2M");
   Format_rate(buf, sizeof(buf), -300);
   assert_string_equal(buf, "-300K");
   Format_rate(buf, sizeof(buf), 0.6);
   assert_string_equal(buf, "+1K");
   Format_rate(buf, sizeof(buf), INFINITY);
   assert_string_equal(buf, "0");
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kib),      cmocka_unit_test(test_kib_truncates_to_buffer),
      cmocka_unit_test(test_cpu_time), cmocka_unit_test(test_uptime),
      cmocka_unit_test(test_rate),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
