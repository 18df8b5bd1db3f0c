/* Sparkline: levels, scaling, width cut, ASCII fallback, History input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "stacktop/History.h"
#include "stacktop/Sparkline.h"

static void test_levels(void** state) {
   (void)state;
   const double v[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
   char out[64];
   assert_int_equal(Sparkline_render(v, 8, 80, true, out, sizeof(out)), 8);
   assert_string_equal(out, "▁▂▃▄▅▆▇█");
   assert_int_equal(Sparkline_render(v, 8, 80, false, out, sizeof(out)), 8);
   assert_string_equal(out, "_.,-=+*#");
}

static void test_scaled_between_min_and_max(void** state) {
   (void)state;
   const double v[] = { 1000, 1070, 1035 };
   char out[64];
   Sparkline_render(v, 3, 10, false, out, sizeof(out));
   assert_string_equal(out, "_#="); /* 1035 is half way: level 3.5 rounds up */
   const double flat[] = { 5, 5, 5, 5 };
   Sparkline_render(flat, 4, 10, true, out, sizeof(out));
   assert_string_equal(out, "▁▁▁▁");
}

static void test_width_keeps_newest(void** state) {
   (void)state;
   const double v[] = { 100, 0, 7, 0, 7 };
   char out[64];
   assert_int_equal(Sparkline_render(v, 5, 3, false, out, sizeof(out)), 3);
   assert_string_equal(out, "#_#");
   assert_int_equal(Sparkline_render(v, 0, 3, true, out, sizeof(out)), 0);
   assert_string_equal(out, "");
}

static void test_small_buffer(void** state) {
   (void)state;
   const double v[] = { 0, 1, 2, 3 };
   char out[8]; /* room for two 3-byte cells and the NUL */
   assert_int_equal(Sparkline_render(v, 4, 10, true, out, sizeof(out)), 2);
   assert_int_equal(strlen(out), 6);
}

static void test_from_history(void** state) {
   (void)state;
   History* h = History_new(4);
   for (int i = 0; i < 6; i++) {
      HistorySample s = { .time = i, .cpuPct = i * 10.0, .resKiB = 100 + (unsigned long)i, .threads = 2 };
      History_push(h, &s);
   }
   double values[8];
   assert_int_equal(Sparkline_fromHistory(h, HISTORY_CPU, 3, values, 8), 4);
   assert_true(values[0] == 20.0 && values[3] == 50.0);
   assert_int_equal(Sparkline_fromHistory(h, HISTORY_RES, 3, values, 2), 2);
   assert_true(values[0] == 104.0 && values[1] == 105.0);
   assert_int_equal(Sparkline_fromHistory(h, HISTORY_THREADS, 3, values, 8), 4);
   assert_true(values[2] == 2.0);
   assert_int_equal(Sparkline_fromHistory(NULL, HISTORY_CPU, 3, values, 8), 0);
   History_free(h);
}

/* A long span is squeezed into the width (peaks kept for memory, means for
 * CPU), not cut to its newest part. */
static void test_fit(void** state) {
   (void)state;
   double v[10] = { 1, 9, 2, 2, 3, 3, 4, 4, 5, 5 };
   double w[10];
   memcpy(w, v, sizeof(v));
   assert_int_equal(Sparkline_fit(w, 10, 5, true), 5);
   const double peaks[5] = { 9, 2, 3, 4, 5 };
   for (int i = 0; i < 5; i++)
      assert_true(w[i] == peaks[i]);
   memcpy(w, v, sizeof(v));
   assert_int_equal(Sparkline_fit(w, 10, 5, false), 5);
   assert_true(w[0] == 5.0 && w[4] == 5.0);
   /* Uneven bins cover every value once. */
   memcpy(w, v, sizeof(v));
   assert_int_equal(Sparkline_fit(w, 10, 3, true), 3);
   assert_true(w[0] == 9 && w[2] == 5);
   /* Fewer values than cells: untouched. */
   memcpy(w, v, sizeof(v));
   assert_int_equal(Sparkline_fit(w, 10, 80, true), 10);
   assert_memory_equal(w, v, sizeof(v));
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fit),
      cmocka_unit_test(test_levels),
      cmocka_unit_test(test_scaled_between_min_and_max),
      cmocka_unit_test(test_width_keeps_newest),
      cmocka_unit_test(test_small_buffer),
      cmocka_unit_test(test_from_history),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
