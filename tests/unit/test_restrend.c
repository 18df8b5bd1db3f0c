/* ResTrend: growth of the per-slice RES minima of real processes (this test
 * process growing by a known amount between slices), unknown until two whole
 * slices exist, forgotten when the pid is reused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stacktop/ResTrend.h"
#include "stacktop/Sampler.h"

static void test_growth_of_this_process(void** state) {
   (void)state;
   char err[256];
   pid_t self = getpid();
   SamplerOptions opts = { .pids = &self, .pidCount = 1 };
   Sampler* s = Sampler_new(&opts, err, sizeof(err));
   ResTrend* t = ResTrend_new();
   double kibPerMin, span;
   /* Slices of 10 s on a made-up clock: 8 MiB more resident memory per slice. */
   char* blocks[4];
   for (int i = 0; i < 4; i++) {
      assert_int_equal(Sampler_refresh(s, err, sizeof(err)), 0);
      ResTrend_update(t, s, 100.0 + 10.0 * i, 10.0);
      if (i < 2)
         assert_false(ResTrend_growth(t, self, Sampler_find(s, self)->startTicks, &kibPerMin, &span));
      blocks[i] = malloc(8 << 20);
      memset(blocks[i], 1, 8 << 20);
   }
   assert_true(ResTrend_growth(t, self, Sampler_find(s, self)->startTicks, &kibPerMin, &span));
   /* First whole slice to the last whole one: 16 MiB in 20 s = 48 MiB/min. */
   assert_true(span == 20.0);
   assert_true(kibPerMin > 40 * 1024 && kibPerMin < 56 * 1024);
   /* Another start time under the same pid is another process. */
   assert_false(ResTrend_growth(t, self, Sampler_find(s, self)->startTicks + 1, &kibPerMin, &span));
   assert_true(ResTrend_bytes(t) < 16384);
   for (int i = 0; i < 4; i++)
      free(blocks[i]);
   ResTrend_free(t);
   Sampler_free(s);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_growth_of_this_process),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
