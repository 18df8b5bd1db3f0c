/* History: ring order and wrap-around, lazy growth, least-squares slopes
 * (exact on linear data, windows, too few samples), span. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>

#include "stacktop/History.h"

static HistorySample sampleAt(double t, unsigned long res) {
   return (
       HistorySample){ .time = t, .wallTime = 1000 + t, .cpuPct = t * 2, .resKiB = res, .threads = (unsigned long)t };
}

static void test_empty(void** state) {
   (void)state;
   History* h = History_new(4);
   assert_int_equal(History_count(h), 0);
   assert_int_equal(History_capacity(h), 4);
   assert_null(History_last(h));
   assert_null(History_at(h, 0));
   int ok = 1;
   assert_true(History_slopePerMinute(h, HISTORY_RES, 0, &ok) == 0.0);
   assert_int_equal(ok, 0);
   assert_true(History_span(h) == 0.0);
   History_free(h);
}

static void test_default_capacity(void** state) {
   (void)state;
   History* h = History_new(0);
   assert_int_equal(History_capacity(h), HISTORY_DEFAULT_CAPACITY);
   History_free(h);
   History_free(NULL);
}

static void test_wraps_keeping_newest(void** state) {
   (void)state;
   History* h = History_new(3);
   for (int i = 0; i < 7; i++) {
      HistorySample s = sampleAt(i, (unsigned long)i * 10);
      History_push(h, &s);
   }
   assert_int_equal(History_count(h), 3);
   assert_true(History_at(h, 0)->time == 4);
   assert_true(History_at(h, 1)->time == 5);
   assert_true(History_at(h, 2)->time == 6);
   assert_null(History_at(h, 3));
   assert_int_equal(History_last(h)->resKiB, 60);
   assert_true(History_span(h) == 2.0);
   History_free(h);
}

static void test_grows_past_initial_allocation(void** state) {
   (void)state;
   /* 120 is past the lazily grown first allocations: every sample must survive. */
   History* h = History_new(120);
   for (int i = 0; i < 200; i++) {
      HistorySample s = sampleAt(i, (unsigned long)i);
      History_push(h, &s);
      size_t expect = i + 1 < 120 ? (size_t)i + 1 : 120;
      assert_int_equal(History_count(h), expect);
      assert_true(History_last(h)->time == i);
   }
   for (size_t i = 0; i < 120; i++)
      assert_true(History_at(h, i)->time == 80 + (double)i);
   History_free(h);
}

static void test_slope_exact_on_line(void** state) {
   (void)state;
   History* h = History_new(10);
   /* RES grows 512 KiB every 2 s = 15360 KiB/min. */
   for (int i = 0; i < 6; i++) {
      HistorySample s = sampleAt(100 + 2.0 * i, 4096 + 512UL * (unsigned long)i);
      History_push(h, &s);
   }
   int ok = 0;
   double slope = History_slopePerMinute(h, HISTORY_RES, 0, &ok);
   assert_int_equal(ok, 1);
   assert_true(fabs(slope - 15360.0) < 1e-6);
   /* cpuPct = 2t: +2 per second = +120 per minute; threads = t: +60/min. */
   assert_true(fabs(History_slopePerMinute(h, HISTORY_CPU, 0, NULL) - 120.0) < 1e-6);
   assert_true(fabs(History_slopePerMinute(h, HISTORY_THREADS, 0, NULL) - 60.0) < 1e-6);
   History_free(h);
}

static void test_slope_shrinking_is_negative(void** state) {
   (void)state;
   History* h = History_new(10);
   for (int i = 0; i < 4; i++) {
      HistorySample s = sampleAt(i, 10000 - 100UL * (unsigned long)i);
      History_push(h, &s);
   }
   assert_true(fabs(History_slopePerMinute(h, HISTORY_RES, 0, NULL) + 6000.0) < 1e-6);
   History_free(h);
}

static void test_slope_least_squares_noise(void** state) {
   (void)state;
   History* h = History_new(10);
   /* Points (0,0) (1,3) (2,2) (3,5): slope = 1.4 per second = 84 per minute. */
   unsigned long ys[] = { 0, 3, 2, 5 };
   for (int i = 0; i < 4; i++) {
      HistorySample s = sampleAt(i, ys[i]);
      History_push(h, &s);
   }
   assert_true(fabs(History_slopePerMinute(h, HISTORY_RES, 0, NULL) - 84.0) < 1e-9);
   History_free(h);
}

static void test_slope_window(void** state) {
   (void)state;
   History* h = History_new(20);
   /* Flat for 10 s, then +100 KiB/s for the last 5 s. */
   for (int i = 0; i <= 10; i++) {
      HistorySample s = sampleAt(i, 1000);
      History_push(h, &s);
   }
   for (int i = 1; i <= 5; i++) {
      HistorySample s = sampleAt(10 + i, 1000 + 100UL * (unsigned long)i);
      History_push(h, &s);
   }
   int ok = 0;
   double recent = History_slopePerMinute(h, HISTORY_RES, 5.0, &ok);
   assert_int_equal(ok, 1);
   assert_true(fabs(recent - 6000.0) < 1e-6);
   double all = History_slopePerMinute(h, HISTORY_RES, 0, NULL);
   assert_true(all > 0 && all < 6000.0);
   /* A window holding only the newest sample has no slope. */
   ok = 1;
   assert_true(History_slopePerMinute(h, HISTORY_RES, 0.5, &ok) == 0.0);
   assert_int_equal(ok, 0);
   History_free(h);
}

static void test_slope_same_instant(void** state) {
   (void)state;
   History* h = History_new(4);
   HistorySample a = sampleAt(5, 100), b = sampleAt(5, 900);
   History_push(h, &a);
   History_push(h, &b);
   int ok = 1;
   assert_true(History_slopePerMinute(h, HISTORY_RES, 0, &ok) == 0.0);
   assert_int_equal(ok, 0);
   History_free(h);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty),
      cmocka_unit_test(test_default_capacity),
      cmocka_unit_test(test_wraps_keeping_newest),
      cmocka_unit_test(test_grows_past_initial_allocation),
      cmocka_unit_test(test_slope_exact_on_line),
      cmocka_unit_test(test_slope_shrinking_is_negative),
      cmocka_unit_test(test_slope_least_squares_noise),
      cmocka_unit_test(test_slope_window),
      cmocka_unit_test(test_slope_same_instant),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
