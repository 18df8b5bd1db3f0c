/* History: ring order and wrap-around, lazy growth, the minute and 10-minute
 * tiers, and lower-envelope growth (exact on lines, no growth for a one-off
 * allocation or before the minimum span, the floor of a sawtooth, windows,
 * unknown goroutine counts), and the memory bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>

#include "stacktop/History.h"

static HistorySample sampleAt(double t, unsigned long res) {
   return (HistorySample){
      .time = t, .wallTime = 1000 + t, .cpuPct = t * 2, .resKiB = res, .threads = (unsigned long)t, .goroutines = -1
   };
}

static void push(History* h, double t, unsigned long res) {
   HistorySample s = sampleAt(t, res);
   History_push(h, &s);
}

static void test_empty(void** state) {
   (void)state;
   History* h = History_new(4);
   assert_int_equal(History_count(h), 0);
   assert_int_equal(History_capacity(h), 4);
   assert_null(History_last(h));
   assert_null(History_at(h, 0));
   bool ok = true;
   assert_true(History_growthPerMinute(h, HISTORY_RES, 0, 0, &ok) == 0.0);
   assert_false(ok);
   assert_true(History_span(h) == 0.0);
   HistoryPoint p[4];
   assert_int_equal(History_points(h, HISTORY_RES, 0, p, 4), 0);
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
   for (int i = 0; i < 7; i++)
      push(h, i, (unsigned long)i * 10);
   assert_int_equal(History_count(h), 3);
   assert_true(History_at(h, 0)->time == 4);
   assert_true(History_at(h, 1)->time == 5);
   assert_true(History_at(h, 2)->time == 6);
   assert_null(History_at(h, 3));
   assert_true(History_last(h)->resKiB == 60);
   assert_true(History_last(h)->wallTime == 1006);
   /* The span counts from the first sample ever, not the oldest kept. */
   assert_true(History_span(h) == 6.0);
   History_free(h);
}

static void test_out_of_order_sample_ignored(void** state) {
   (void)state;
   History* h = History_new(8);
   push(h, 10, 1);
   push(h, 5, 2);
   assert_int_equal(History_count(h), 1);
   assert_true(History_last(h)->resKiB == 1);
   History_free(h);
}

static void test_grows_past_initial_allocation(void** state) {
   (void)state;
   History* h = History_new(50);
   for (int i = 0; i < 40; i++)
      push(h, i, (unsigned long)i);
   assert_int_equal(History_count(h), 40);
   for (int i = 0; i < 40; i++)
      assert_true(History_at(h, (size_t)i)->resKiB == (unsigned long)i);
   History_free(h);
}

static void test_growth_exact_on_line(void** state) {
   (void)state;
   History* h = History_new(120);
   /* 2048 KiB per minute, one sample a second for two minutes. */
   for (int i = 0; i <= 120; i++)
      push(h, i, 1000 + (unsigned long)(i * 2048 / 60.0));
   bool ok = false;
   double g = History_growthPerMinute(h, HISTORY_RES, 0, 60, &ok);
   assert_true(ok);
   assert_true(fabs(g - 2048) < 40);
   History_free(h);
}

static void test_shrinking_is_negative(void** state) {
   (void)state;
   History* h = History_new(120);
   for (int i = 0; i <= 90; i++)
      push(h, i, 100000 - (unsigned long)i * 10);
   bool ok = false;
   double g = History_growthPerMinute(h, HISTORY_RES, 0, 60, &ok);
   assert_true(ok);
   assert_true(fabs(g + 600) < 1e-6);
   History_free(h);
}

static void test_nothing_before_min_span(void** state) {
   (void)state;
   History* h = History_new(120);
   for (int i = 0; i < 59; i++)
      push(h, i, 1000 + (unsigned long)i * 100);
   bool ok = true;
   assert_true(History_growthPerMinute(h, HISTORY_RES, 0, 60, &ok) == 0.0);
   assert_false(ok);
   push(h, 60, 7000);
   History_growthPerMinute(h, HISTORY_RES, 0, 60, &ok);
   assert_true(ok);
   History_free(h);
}

/* 200 MiB allocated once right after start, then idle: no growth. */
static void test_one_off_allocation_is_no_growth(void** state) {
   (void)state;
   History* h = History_new(120);
   push(h, 0, 2000);
   push(h, 1.5, 2000 + 200 * 1024);
   for (double t = 3; t <= 180; t += 1.5)
      push(h, t, 2000 + 200 * 1024 + ((unsigned long)t % 3));
   bool ok = false;
   double g = History_growthPerMinute(h, HISTORY_RES, 1800, 60, &ok);
   assert_true(ok);
   assert_true(fabs(g) < 5);
   History_free(h);
}

/* A garbage-collected heap: peaks jump around, the floor rises 1 MiB/min. */
static void test_sawtooth_floor(void** state) {
   (void)state;
   History* h = History_new(1000);
   for (int i = 0; i <= 600; i++) {
      unsigned long floorKiB = 50000 + (unsigned long)(i * 1024 / 60.0);
      unsigned long garbage = (unsigned long)((i % 20) * 1500 + (i % 7) * 300);
      push(h, i, floorKiB + garbage);
   }
   bool ok = false;
   double g = History_growthPerMinute(h, HISTORY_RES, 0, 60, &ok);
   assert_true(ok);
   assert_true(fabs(g - 1024) < 100);
   History_free(h);
}

static void test_window_ignores_older_growth(void** state) {
   (void)state;
   History* h = History_new(1000);
   for (int i = 0; i <= 300; i++)
      push(h, i, i <= 150 ? (unsigned long)i * 100 : 15000);
   bool ok = false;
   double g = History_growthPerMinute(h, HISTORY_RES, 120, 60, &ok);
   assert_true(ok);
   assert_true(fabs(g) < 1e-6);
   g = History_growthPerMinute(h, HISTORY_RES, 0, 60, &ok);
   assert_true(ok && g > 1000);
   History_free(h);
}

static void test_minute_tier_covers_hours(void** state) {
   (void)state;
   History* h = History_new(120);
   /* Two hours at one sample a second, RES growing 30 KiB per minute. */
   for (int i = 0; i <= 7200; i++)
      push(h, i, 10000 + (unsigned long)(i / 2));
   HistoryPoint p[200];
   size_t n = History_points(h, HISTORY_RES, 3600, p, 200);
   assert_true(n >= 60 && n <= 62);
   assert_true(p[n - 1].time > p[0].time + 3500);
   assert_true(p[1].min <= p[1].mean && p[1].mean <= p[1].max);
   assert_true(p[1].max - p[1].min >= 29);
   /* Within the raw ring: raw samples, one a second. */
   n = History_points(h, HISTORY_RES, 60, p, 200);
   assert_int_equal(n, 61);
   assert_true(p[0].min == p[0].max);
   bool ok = false;
   double g = History_growthPerMinute(h, HISTORY_RES, 3600, 60, &ok);
   assert_true(ok);
   assert_true(fabs(g - 30) < 2);
   History_free(h);
}

static void test_tenminute_tier_covers_days(void** state) {
   (void)state;
   History* h = History_new(120);
   /* Four days at a sample every 30 s: the minute tier keeps 3 hours. */
   for (int i = 0; i <= 4 * 24 * 120; i++)
      push(h, i * 30.0, 40000 + (unsigned long)(i / 12));
   HistoryPoint p[500];
   size_t n = History_points(h, HISTORY_RES, 24 * 3600, p, 500);
   assert_true(n >= 144 && n <= 146);
   /* Three days is all the 10-minute tier keeps. */
   n = History_points(h, HISTORY_RES, 0, p, 500);
   assert_true(n >= HISTORY_TENMIN_BUCKETS && n <= HISTORY_TENMIN_BUCKETS + 1);
   bool ok = false;
   double g = History_growthPerMinute(h, HISTORY_RES, 48 * 3600, 60, &ok);
   assert_true(ok);
   assert_true(fabs(g - 1.0 / 6) < 0.02);
   assert_true(History_bytes(h) <= History_maxBytes(120));
   History_free(h);
}

static void test_points_newest_when_capped(void** state) {
   (void)state;
   History* h = History_new(100);
   for (int i = 0; i < 50; i++)
      push(h, i, (unsigned long)i);
   HistoryPoint p[10];
   assert_int_equal(History_points(h, HISTORY_RES, 0, p, 10), 10);
   assert_true(p[0].min == 40 && p[9].min == 49);
   History_free(h);
}

static void test_unknown_goroutines(void** state) {
   (void)state;
   History* h = History_new(200);
   for (int i = 0; i <= 120; i++)
      push(h, i, 100);
   bool ok = true;
   History_growthPerMinute(h, HISTORY_GOROUTINES, 0, 60, &ok);
   assert_false(ok);
   HistoryPoint p[4];
   assert_int_equal(History_points(h, HISTORY_GOROUTINES, 0, p, 4), 0);
   for (int i = 121; i <= 240; i++) {
      HistorySample s = sampleAt(i, 100);
      s.goroutines = 10 + (i - 121) / 6; /* 10 goroutines a minute */
      History_push(h, &s);
   }
   double g = History_growthPerMinute(h, HISTORY_GOROUTINES, 0, 60, &ok);
   assert_true(ok);
   assert_true(fabs(g - 10) < 1);
   History_free(h);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty),
      cmocka_unit_test(test_default_capacity),
      cmocka_unit_test(test_wraps_keeping_newest),
      cmocka_unit_test(test_out_of_order_sample_ignored),
      cmocka_unit_test(test_grows_past_initial_allocation),
      cmocka_unit_test(test_growth_exact_on_line),
      cmocka_unit_test(test_shrinking_is_negative),
      cmocka_unit_test(test_nothing_before_min_span),
      cmocka_unit_test(test_one_off_allocation_is_no_growth),
      cmocka_unit_test(test_sawtooth_floor),
      cmocka_unit_test(test_window_ignores_older_growth),
      cmocka_unit_test(test_minute_tier_covers_hours),
      cmocka_unit_test(test_tenminute_tier_covers_days),
      cmocka_unit_test(test_points_newest_when_capped),
      cmocka_unit_test(test_unknown_goroutines),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
