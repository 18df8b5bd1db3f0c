/* Rules: consecutive-sample counting, growth only over a full window, the
 * episode state machine (fire once, cooldown, recovery), the flood cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>

#include "stacktop/History.h"
#include "stacktop/Rules.h"

static void pushSample(History* h, double t, double cpu, unsigned long res, unsigned long threads) {
   HistorySample s = { .time = t, .wallTime = 1e9 + t, .cpuPct = cpu, .resKiB = res, .threads = threads };
   History_push(h, &s);
}

static void test_names(void** state) {
   (void)state;
   assert_string_equal(Rule_name(RULE_CPU_ABOVE), "cpu_above");
   assert_string_equal(Rule_name(RULE_SYSTEM_MEM_BELOW), "system_mem_available_below");
   assert_true(Rule_isPerProcess(RULE_FDS_ABOVE));
   assert_false(Rule_isPerProcess(RULE_RESTART));
   for (int k = 0; k < RULE_KIND_COUNT; k++)
      assert_non_null(Rule_name((RuleKind)k));
}

static void test_cpu_for_n_consecutive(void** state) {
   (void)state;
   RuleSpec spec = { .enabled = true, .threshold = 90, .forSamples = 3 };
   RuleProcessState st = { 0 };
   History* h = History_new(16);
   RuleInput in = { .history = h, .intervalS = 1, .fdsPct = -1 };
   double v = 0;
   pushSample(h, 0, 0, 100, 1);
   assert_int_equal(Rules_evaluate(RULE_CPU_ABOVE, &spec, &in, &st, &v), RULE_NOT_READY); /* no delta yet */
   static const struct {
      double cpu;
      RuleVerdict verdict;
   } seq[] = {
      { 95, RULE_UNDER }, { 99, RULE_UNDER }, { 50, RULE_UNDER }, /* interrupted: count restarts */
      { 91, RULE_UNDER }, { 92, RULE_UNDER }, { 93, RULE_OVER },  { 180, RULE_OVER }, { 90, RULE_UNDER },
   };
   for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
      pushSample(h, (double)i + 1, seq[i].cpu, 100, 1);
      assert_int_equal(Rules_evaluate(RULE_CPU_ABOVE, &spec, &in, &st, &v), seq[i].verdict);
      assert_true(v == seq[i].cpu);
   }
   History_free(h);
}

static void test_res_threads_fds_thresholds(void** state) {
   (void)state;
   RuleSpec res = { .enabled = true, .threshold = 2048, .forSamples = 1 };
   RuleSpec thr = { .enabled = true, .threshold = 500, .forSamples = 1 };
   RuleSpec fds = { .enabled = true, .threshold = 80, .forSamples = 1 };
   RuleProcessState st[3] = { { 0 } };
   History* h = History_new(4);
   double v;
   pushSample(h, 0, 0, 2048, 500);
   RuleInput in = { .history = h, .intervalS = 1, .fdsPct = 80 };
   assert_int_equal(Rules_evaluate(RULE_RES_ABOVE, &res, &in, &st[0], &v), RULE_UNDER); /* equal is not above */
   assert_int_equal(Rules_evaluate(RULE_THREADS_ABOVE, &thr, &in, &st[1], &v), RULE_UNDER);
   assert_int_equal(Rules_evaluate(RULE_FDS_ABOVE, &fds, &in, &st[2], &v), RULE_UNDER);
   pushSample(h, 1, 0, 2049, 501);
   in.fdsPct = 80.5;
   assert_int_equal(Rules_evaluate(RULE_RES_ABOVE, &res, &in, &st[0], &v), RULE_OVER);
   assert_true(v == 2049);
   assert_int_equal(Rules_evaluate(RULE_THREADS_ABOVE, &thr, &in, &st[1], &v), RULE_OVER);
   assert_int_equal(Rules_evaluate(RULE_FDS_ABOVE, &fds, &in, &st[2], &v), RULE_OVER);
   in.fdsPct = -1;
   assert_int_equal(Rules_evaluate(RULE_FDS_ABOVE, &fds, &in, &st[2], &v), RULE_NOT_READY);
   History_free(h);
}

static void test_growth_waits_for_full_window(void** state) {
   (void)state;
   /* 10 KiB/min threshold over 60 s, one sample per 10 s, RES growing 1 KiB/s = 60 KiB/min. */
   RuleSpec spec = { .enabled = true, .threshold = 10, .forSamples = 1, .windowS = 60 };
   RuleProcessState st = { 0 };
   History* h = History_new(64);
   RuleInput in = { .history = h, .intervalS = 10, .fdsPct = -1 };
   double v = 0;
   for (int i = 0; i < 6; i++) {
      pushSample(h, i * 10.0, 0, 1000 + (unsigned long)i * 10, 1);
      assert_int_equal(Rules_evaluate(RULE_RES_GROWTH_ABOVE, &spec, &in, &st, &v), RULE_NOT_READY);
   }
   pushSample(h, 60, 0, 1060, 1); /* span 60 s: the window is full */
   assert_int_equal(Rules_evaluate(RULE_RES_GROWTH_ABOVE, &spec, &in, &st, &v), RULE_OVER);
   assert_true(fabs(v - 60) < 1e-6);
   /* A sample a little early still counts as a full window (half an interval of slack). */
   History* h2 = History_new(64);
   in.history = h2;
   for (int i = 0; i < 6; i++)
      pushSample(h2, i * 10.0, 0, 1000, 1);
   pushSample(h2, 58, 0, 1000, 1);
   assert_int_equal(Rules_evaluate(RULE_RES_GROWTH_ABOVE, &spec, &in, &st, &v), RULE_UNDER);
   assert_true(fabs(v) < 1e-9);
   History_free(h);
   History_free(h2);
}

static void test_growth_uses_only_the_window(void** state) {
   (void)state;
   /* Old samples grew fast; the last 30 s are flat: no leak now. */
   RuleSpec spec = { .enabled = true, .threshold = 1, .forSamples = 1, .windowS = 30 };
   RuleProcessState st = { 0 };
   History* h = History_new(64);
   RuleInput in = { .history = h, .intervalS = 10, .fdsPct = -1 };
   double v = 0;
   pushSample(h, 0, 0, 0, 1);
   pushSample(h, 10, 0, 100000, 1);
   for (int i = 2; i <= 6; i++)
      pushSample(h, i * 10.0, 0, 200000, 1);
   assert_int_equal(Rules_evaluate(RULE_RES_GROWTH_ABOVE, &spec, &in, &st, &v), RULE_UNDER);
   /* Thread growth: +2 threads per 10 s = 12/min. */
   History* t = History_new(64);
   in.history = t;
   RuleSpec tspec = { .enabled = true, .threshold = 10, .forSamples = 1, .windowS = 30 };
   for (int i = 0; i <= 3; i++)
      pushSample(t, i * 10.0, 0, 0, 10 + (unsigned long)i * 2);
   assert_int_equal(Rules_evaluate(RULE_THREAD_GROWTH_ABOVE, &tspec, &in, &st, &v), RULE_OVER);
   assert_true(fabs(v - 12) < 1e-6);
   History_free(h);
   History_free(t);
}

static void test_system_mem(void** state) {
   (void)state;
   RuleSpec spec = { .enabled = true, .threshold = 10, .forSamples = 2 };
   RuleProcessState st = { 0 };
   assert_int_equal(Rules_evaluateSystemMem(&spec, 9, &st), RULE_UNDER);
   assert_int_equal(Rules_evaluateSystemMem(&spec, 8, &st), RULE_OVER);
   assert_int_equal(Rules_evaluateSystemMem(&spec, 50, &st), RULE_UNDER);
}

static void test_samples_needed(void** state) {
   (void)state;
   RuleSpec cpu = { .enabled = true, .threshold = 90, .forSamples = 3 };
   RuleSpec growth = { .enabled = true, .threshold = 1, .forSamples = 1, .windowS = 2 };
   RuleSpec res = { .enabled = true, .threshold = 1, .forSamples = 1 };
   assert_int_equal(Rules_samplesNeeded(RULE_CPU_ABOVE, &cpu, 0.2), 4);
   assert_int_equal(Rules_samplesNeeded(RULE_RES_GROWTH_ABOVE, &growth, 0.2), 11);
   assert_int_equal(Rules_samplesNeeded(RULE_RES_ABOVE, &res, 0.2), 1);
}

/* Fires and, as the watcher does once the bundle is on disk, starts the cooldown. */
static RuleAction stepBundled(RuleEpisode* ep, bool failing, double now, double cooldown, FloodCap* cap) {
   RuleAction a = Rules_step(ep, failing, now, cooldown, cap);
   if (a == RULE_ACTION_FIRE)
      Rules_bundled(ep, now);
   return a;
}

static void test_episode_fires_once_then_recovers(void** state) {
   (void)state;
   FloodCap cap;
   FloodCap_init(&cap, 0);
   RuleEpisode ep = { 0 };
   assert_int_equal(stepBundled(&ep, false, 0, 900, &cap), RULE_ACTION_NONE);
   assert_int_equal(stepBundled(&ep, true, 1, 900, &cap), RULE_ACTION_FIRE);
   for (int t = 2; t < 100; t++)
      assert_int_equal(stepBundled(&ep, true, t, 900, &cap), RULE_ACTION_NONE);
   assert_int_equal(stepBundled(&ep, false, 100, 900, &cap), RULE_ACTION_RECOVERED);
   assert_int_equal(stepBundled(&ep, false, 101, 900, &cap), RULE_ACTION_NONE);
   /* A new episode inside the cooldown is reported but not bundled ... */
   assert_int_equal(stepBundled(&ep, true, 200, 900, &cap), RULE_ACTION_SUPPRESS_COOLDOWN);
   assert_int_equal(stepBundled(&ep, true, 300, 900, &cap), RULE_ACTION_NONE);
   /* ... and fires once the cooldown since the last bundle is over, if still failing. */
   assert_int_equal(stepBundled(&ep, true, 901, 900, &cap), RULE_ACTION_FIRE);
   assert_int_equal(stepBundled(&ep, true, 902, 900, &cap), RULE_ACTION_NONE);
   assert_int_equal(stepBundled(&ep, true, 1801, 900, &cap), RULE_ACTION_FIRE);
}

static void test_new_episode_after_cooldown_fires(void** state) {
   (void)state;
   FloodCap cap;
   FloodCap_init(&cap, 0);
   RuleEpisode ep = { 0 };
   assert_int_equal(stepBundled(&ep, true, 0, 60, &cap), RULE_ACTION_FIRE);
   assert_int_equal(stepBundled(&ep, false, 10, 60, &cap), RULE_ACTION_RECOVERED);
   assert_int_equal(stepBundled(&ep, true, 70, 60, &cap), RULE_ACTION_FIRE);
}

static void test_cooldown_starts_when_the_bundle_exists(void** state) {
   (void)state;
   FloodCap cap;
   FloodCap_init(&cap, 0);
   RuleEpisode ep = { 0 };
   assert_int_equal(Rules_step(&ep, true, 0, 900, &cap), RULE_ACTION_FIRE);
   /* The bundle is not written yet (a full disk, a slow pprof fetch): nothing
    * else fires for this rule, and a new episode says why. */
   assert_int_equal(Rules_step(&ep, true, 1000, 900, &cap), RULE_ACTION_NONE);
   assert_int_equal(Rules_step(&ep, false, 1001, 900, &cap), RULE_ACTION_RECOVERED);
   assert_int_equal(Rules_step(&ep, true, 1002, 900, &cap), RULE_ACTION_SUPPRESS_PENDING);
   assert_true(ep.pending);
   /* It exists at 1500: the cooldown runs from then, not from the decision at 0. */
   Rules_bundled(&ep, 1500);
   assert_false(ep.pending);
   assert_int_equal(Rules_step(&ep, true, 2000, 900, &cap), RULE_ACTION_NONE);
   assert_int_equal(Rules_step(&ep, true, 2400, 900, &cap), RULE_ACTION_FIRE);
}

static void test_dropped_incident_lets_the_rule_fire_again(void** state) {
   (void)state;
   FloodCap cap;
   FloodCap_init(&cap, 0);
   RuleEpisode ep = { 0 };
   assert_int_equal(Rules_step(&ep, true, 0, 900, &cap), RULE_ACTION_FIRE);
   Rules_dropped(&ep);
   /* No bundle came of it: no cooldown either. */
   assert_int_equal(Rules_step(&ep, true, 1, 900, &cap), RULE_ACTION_FIRE);
}

static void test_flood_cap(void** state) {
   (void)state;
   FloodCap cap;
   FloodCap_init(&cap, 2);
   RuleEpisode a = { 0 }, b = { 0 }, c = { 0 };
   assert_int_equal(stepBundled(&a, true, 0, 100, &cap), RULE_ACTION_FIRE);
   assert_int_equal(stepBundled(&b, true, 1, 100, &cap), RULE_ACTION_FIRE);
   assert_int_equal(stepBundled(&c, true, 2, 100, &cap), RULE_ACTION_SUPPRESS_CAP);
   assert_int_equal(stepBundled(&c, true, 3, 100, &cap), RULE_ACTION_NONE); /* reported once per episode */
   assert_int_equal(stepBundled(&a, true, 4, 100, &cap), RULE_ACTION_NONE); /* cooldown */
   /* a is due again after its cooldown, but the cap still says no: reported once. */
   assert_int_equal(stepBundled(&a, true, 200, 100, &cap), RULE_ACTION_SUPPRESS_CAP);
   assert_int_equal(stepBundled(&a, true, 201, 100, &cap), RULE_ACTION_NONE);
   /* An hour after the first bundle there is room again. */
   assert_int_equal(stepBundled(&c, true, 3600, 100, &cap), RULE_ACTION_FIRE);
   assert_false(FloodCap_allows(&cap, 3600.5));
   assert_true(FloodCap_allows(&cap, 3601));
}

static void test_restart_events(void** state) {
   (void)state;
   FloodCap cap;
   FloodCap_init(&cap, 10);
   RuleEpisode ep = { 0 };
   assert_int_equal(Rules_event(&ep, 0, 60, &cap), RULE_ACTION_FIRE);
   assert_int_equal(Rules_event(&ep, 1, 60, &cap), RULE_ACTION_SUPPRESS_PENDING);
   Rules_bundled(&ep, 2);
   assert_int_equal(Rules_event(&ep, 30, 60, &cap), RULE_ACTION_SUPPRESS_COOLDOWN);
   assert_int_equal(Rules_event(&ep, 62, 60, &cap), RULE_ACTION_FIRE);
}

static void test_describe_and_lookup(void** state) {
   (void)state;
   char buf[96];
   Rule_describe(RULE_CPU_ABOVE, 97.25, buf, sizeof(buf));
   assert_string_equal(buf, "CPU 97.2% of one core");
   Rule_describe(RULE_RES_GROWTH_ABOVE, 1024, buf, sizeof(buf)); /* KiB/min = 60 MiB/h */
   assert_string_equal(buf, "RES growing +60.0M/h");
   assert_int_equal(Rule_byName("restart"), RULE_RESTART);
   assert_int_equal(Rule_byName("nonsense"), -1);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_cpu_for_n_consecutive),
      cmocka_unit_test(test_res_threads_fds_thresholds),
      cmocka_unit_test(test_growth_waits_for_full_window),
      cmocka_unit_test(test_growth_uses_only_the_window),
      cmocka_unit_test(test_system_mem),
      cmocka_unit_test(test_samples_needed),
      cmocka_unit_test(test_episode_fires_once_then_recovers),
      cmocka_unit_test(test_new_episode_after_cooldown_fires),
      cmocka_unit_test(test_cooldown_starts_when_the_bundle_exists),
      cmocka_unit_test(test_dropped_incident_lets_the_rule_fire_again),
      cmocka_unit_test(test_flood_cap),
      cmocka_unit_test(test_restart_events),
      cmocka_unit_test(test_describe_and_lookup),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
