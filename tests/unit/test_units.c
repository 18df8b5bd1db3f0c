/* Units: sizes, durations, percentages, "N% for K", rates over windows;
 * every malformed form is rejected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>

#include "stacktop/Units.h"

#define assert_near(a, b) assert_true(fabs((double)(a) - (double)(b)) < 1e-9 * (fabs((double)(b)) + 1))

static void test_sizes(void** state) {
   (void)state;
   static const struct {
      const char* text;
      unsigned long long bytes;
   } good[] = {
      { "4096", 4096 },
      { "0", 0 },
      { "10B", 10 },
      { "512KiB", 512ULL << 10 },
      { "500MiB", 500ULL << 20 },
      { "2GiB", 2ULL << 30 },
      { "1TiB", 1ULL << 40 },
      { " 1.5 MiB ", 3ULL << 19 },
      { "0.5GiB", 1ULL << 29 },
   };
   for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
      unsigned long long b = 1;
      assert_int_equal(Units_parseSize(good[i].text, &b), 0);
      assert_true(b == good[i].bytes);
   }
   static const char* const bad[] = {
      "", "MiB", "2GB", "2 gib", "-1MiB", "1e3", "0x10", "2GiBs", "2 GiB x", "1.2.3KiB"
   };
   for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
      unsigned long long b;
      assert_int_equal(Units_parseSize(bad[i], &b), -1);
   }
}

static void test_durations(void** state) {
   (void)state;
   static const struct {
      const char* text;
      double s;
   } good[] = {
      { "5s", 5 }, { "200ms", 0.2 }, { "15m", 900 }, { "1h", 3600 }, { "30", 30 }, { "1.5s", 1.5 }, { "2min", 120 },
   };
   for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
      double s = 0;
      assert_int_equal(Units_parseDuration(good[i].text, &s), 0);
      assert_near(s, good[i].s);
   }
   static const char* const bad[] = { "", "0s", "0", "5 parsecs", "s", "-5s", "5d", "5sec", "1h30m" };
   for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
      double s;
      assert_int_equal(Units_parseDuration(bad[i], &s), -1);
   }
}

static void test_percent(void** state) {
   (void)state;
   double p = 0;
   assert_int_equal(Units_parsePercent("80%", 100, &p), 0);
   assert_near(p, 80);
   assert_int_equal(Units_parsePercent(" 12.5 % ", 100, &p), 0);
   assert_near(p, 12.5);
   assert_int_equal(Units_parsePercent("80", 100, &p), -1);
   assert_int_equal(Units_parsePercent("120%", 100, &p), -1);
   assert_int_equal(Units_parsePercent("80%x", 100, &p), -1);
   assert_int_equal(Units_parsePercent("%", 100, &p), -1);
}

static void test_percent_for(void** state) {
   (void)state;
   double p = 0;
   unsigned n = 0;
   assert_int_equal(Units_parsePercentFor("90% for 3", &p, &n), 0);
   assert_near(p, 90);
   assert_int_equal(n, 3);
   assert_int_equal(Units_parsePercentFor("150%", &p, &n), 0); /* % of one core may exceed 100 */
   assert_near(p, 150);
   assert_int_equal(n, 1);
   static const char* const bad[] = { "90 for 3", "90% for", "90% for 0", "90% for x", "90% fore 3", "for 3", "90% 3" };
   for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
      assert_int_equal(Units_parsePercentFor(bad[i], &p, &n), -1);
}

static void test_count(void** state) {
   (void)state;
   unsigned long n = 0;
   assert_int_equal(Units_parseCount("500", &n), 0);
   assert_int_equal(n, 500);
   assert_int_equal(Units_parseCount(" 7 ", &n), 0);
   assert_int_equal(n, 7);
   assert_int_equal(Units_parseCount("-1", &n), -1);
   assert_int_equal(Units_parseCount("5x", &n), -1);
   assert_int_equal(Units_parseCount("", &n), -1);
}

static void test_rates(void** state) {
   (void)state;
   double perMin = 0, window = 0;
   assert_int_equal(Units_parseRate("50MiB/h over 30m", true, &perMin, &window), 0);
   assert_near(perMin, 50.0 * 1024 / 60); /* KiB per minute */
   assert_near(window, 1800);
   assert_int_equal(Units_parseRate("1GiB/h over 2s", true, &perMin, &window), 0);
   assert_near(perMin, 1024.0 * 1024 / 60);
   assert_near(window, 2);
   assert_int_equal(Units_parseRate("10 KiB / s over 1m", true, &perMin, &window), 0);
   assert_near(perMin, 600);
   assert_int_equal(Units_parseRate("100/h over 30m", false, &perMin, &window), 0);
   assert_near(perMin, 100.0 / 60);
   assert_int_equal(Units_parseRate("5/m over 10s", false, &perMin, &window), 0);
   assert_near(perMin, 5);
   static const char* const badSized[] = {
      "50MiB over 30m", "50MiB/h",      "50MiB/d over 30m", "50/h over 30m x", "50GB/h over 1h",
      "0MiB/h over 1h", "50MiB/h over", "50MiB/h over 0s",  "over 30m",
   };
   for (size_t i = 0; i < sizeof(badSized) / sizeof(badSized[0]); i++)
      assert_int_equal(Units_parseRate(badSized[i], true, &perMin, &window), -1);
   assert_int_equal(Units_parseRate("100MiB/h over 30m", false, &perMin, &window), -1);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sizes),       cmocka_unit_test(test_durations), cmocka_unit_test(test_percent),
      cmocka_unit_test(test_percent_for), cmocka_unit_test(test_count),     cmocka_unit_test(test_rates),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
