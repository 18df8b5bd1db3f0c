/* Metrics: the family table follows Prometheus' naming rules, and the
 * rendering is the text format 0.0.4 (escaping, grouping, one line per
 * series, values Go can parse). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Metrics.h"

static char* render(const Metrics* m) {
   char* text = NULL;
   size_t len = 0;
   FILE* f = open_memstream(&text, &len);
   assert_non_null(f);
   assert_int_equal(Metrics_render(m, f), 0);
   fclose(f);
   return text;
}

static size_t occurrences(const char* hay, const char* needle) {
   size_t n = 0;
   for (const char* p = strstr(hay, needle); p; p = strstr(p + 1, needle))
      n++;
   return n;
}

static bool matches(const char* pattern, const char* s) {
   regex_t rx;
   assert_int_equal(regcomp(&rx, pattern, REG_EXTENDED | REG_NOSUB), 0);
   bool ok = regexec(&rx, s, 0, NULL, 0) == 0;
   regfree(&rx);
   return ok;
}

static void test_table_follows_naming_rules(void** state) {
   (void)state;
   for (int i = 0; i < METRIC_COUNT; i++) {
      const MetricFamily* f = Metric_family((MetricId)i);
      assert_non_null(f->name);
      assert_true(matches("^[a-zA-Z_:][a-zA-Z0-9_:]*$", f->name));
      assert_true(strncmp(f->name, "namedprocess_namegroup_", 23) == 0 || strncmp(f->name, "stacktop_", 9) == 0);
      assert_int_equal(f->processExporter, strncmp(f->name, "namedprocess_", 13) == 0);
      /* counters end in _total, nothing else does */
      size_t len = strlen(f->name);
      bool total = len > 6 && strcmp(f->name + len - 6, "_total") == 0;
      assert_int_equal(total, f->type == METRIC_COUNTER);
      /* the unit is the name's suffix (before _total) */
      if (f->unit[0]) {
         char want[128];
         snprintf(want, sizeof(want), "_%s%s", f->unit, total ? "_total" : "");
         assert_true(len > strlen(want) && strcmp(f->name + len - strlen(want), want) == 0);
      }
      assert_true(f->help[0] != '\0');
      for (size_t k = 0; k < Metric_labelCount((MetricId)i); k++)
         assert_true(matches("^[a-zA-Z_][a-zA-Z0-9_]*$", f->labels[k]));
      assert_false(f->sticky && f->type == METRIC_COUNTER);
      for (int j = 0; j < i; j++)
         assert_string_not_equal(f->name, Metric_family((MetricId)j)->name);
   }
}

static void test_label_values_escaped(void** state) {
   (void)state;
   Metrics* m = Metrics_new();
   const char* labels[] = { "we\\b \"x\"\nline2" };
   Metrics_set(m, METRIC_PE_NUM_PROCS, labels, 2);
   char* text = render(m);
   assert_non_null(strstr(text, "namedprocess_namegroup_num_procs{groupname=\"we\\\\b \\\"x\\\"\\nline2\"} 2\n"));
   /* nothing raw: every line is a comment or a sample */
   assert_int_equal(occurrences(text, "\n"), 3);
   free(text);
   Metrics_free(m);
}

static void test_invalid_utf8_replaced(void** state) {
   (void)state;
   Metrics* m = Metrics_new();
   const char* labels[] = { "caf\xc3\xa9-\xff\xfe-\xe2\x82" };
   Metrics_set(m, METRIC_GOROUTINES, labels, 1);
   char* text = render(m);
   assert_non_null(strstr(text, "stacktop_goroutines{groupname=\"caf\xc3\xa9-\xef\xbf\xbd\xef\xbf\xbd-\xef\xbf\xbd\xef"
                                "\xbf\xbd\"} 1\n"));
   free(text);
   Metrics_free(m);
}

static void test_families_grouped_and_series_unique(void** state) {
   (void)state;
   Metrics* m = Metrics_new();
   const char* web[] = { "web", "user" };
   const char* webSys[] = { "web", "system" };
   const char* db[] = { "db", "user" };
   /* interleaved families, and the same series twice */
   Metrics_add(m, METRIC_PE_CPU_SECONDS, web, 1.5);
   Metrics_set(m, METRIC_PE_NUM_PROCS, web, 1);
   Metrics_add(m, METRIC_PE_CPU_SECONDS, db, 2);
   Metrics_set(m, METRIC_PE_NUM_PROCS, db, 3);
   Metrics_add(m, METRIC_PE_CPU_SECONDS, web, 1);
   Metrics_add(m, METRIC_PE_CPU_SECONDS, webSys, 0.25);
   Metrics_set(m, METRIC_PE_NUM_PROCS, web, 4);
   char* text = render(m);
   const char* want = "# HELP namedprocess_namegroup_num_procs number of processes in this group (from the watcher's "
                      "last sample)\n"
                      "# TYPE namedprocess_namegroup_num_procs gauge\n"
                      "namedprocess_namegroup_num_procs{groupname=\"web\"} 4\n"
                      "namedprocess_namegroup_num_procs{groupname=\"db\"} 3\n";
   assert_non_null(strstr(text, want));
   assert_int_equal(occurrences(text, "# TYPE namedprocess_namegroup_cpu_seconds_total counter\n"), 1);
   assert_int_equal(occurrences(text, "# HELP "), 2);
   assert_non_null(strstr(text, "namedprocess_namegroup_cpu_seconds_total{groupname=\"web\",mode=\"user\"} 2.5\n"
                                "namedprocess_namegroup_cpu_seconds_total{groupname=\"db\",mode=\"user\"} 2\n"
                                "namedprocess_namegroup_cpu_seconds_total{groupname=\"web\",mode=\"system\"} 0.25\n"));
   /* the exposition ends in a newline */
   assert_int_equal(text[strlen(text) - 1], '\n');
   free(text);
   Metrics_free(m);
}

static void test_frames_drop_gauges_keep_counters(void** state) {
   (void)state;
   Metrics* m = Metrics_new();
   const char* web[] = { "web" };
   const char* rule[] = { "web", "cpu_above" };
   Metrics_set(m, METRIC_PE_NUM_PROCS, web, 1);
   Metrics_add(m, METRIC_RULE_EPISODES, rule, 1);
   Metrics_set(m, METRIC_BUNDLE_LAST_TIME, rule, 1700000000);
   Metrics_beginFrame(m);
   assert_true(isnan(Metrics_get(m, METRIC_PE_NUM_PROCS, web)));
   assert_true(Metrics_get(m, METRIC_RULE_EPISODES, rule) == 1);
   assert_true(Metrics_get(m, METRIC_BUNDLE_LAST_TIME, rule) == 1700000000);
   char* text = render(m);
   assert_null(strstr(text, "num_procs"));
   assert_non_null(strstr(text, "stacktop_bundle_last_timestamp_seconds{groupname=\"web\",rule=\"cpu_above\"} "
                                "1700000000\n"));
   free(text);
   Metrics_free(m);
}

static void test_values_and_unlabelled(void** state) {
   (void)state;
   Metrics* m = Metrics_new();
   Metrics_set(m, METRIC_SAMPLE_DURATION, NULL, 0.1);
   Metrics_set(m, METRIC_BUNDLE_DIR_BYTES, NULL, 123456789012.0);
   const char* g[] = { "a", "cpu_above" };
   Metrics_set(m, METRIC_RULE_VALUE, g, NAN);
   const char* h[] = { "a", "res_above" };
   Metrics_set(m, METRIC_RULE_VALUE, h, INFINITY);
   char* text = render(m);
   assert_non_null(strstr(text, "\nstacktop_sample_duration_seconds 0.1\n"));
   assert_non_null(strstr(text, "\nstacktop_bundle_dir_bytes 123456789012\n"));
   assert_non_null(strstr(text, "rule=\"cpu_above\"} NaN\n"));
   assert_non_null(strstr(text, "rule=\"res_above\"} +Inf\n"));
   free(text);
   Metrics_free(m);
}

static void test_process_exporter_set_off(void** state) {
   (void)state;
   Metrics* m = Metrics_new();
   const char* web[] = { "web" };
   Metrics_set(m, METRIC_PE_NUM_PROCS, web, 1);
   Metrics_set(m, METRIC_GOROUTINES, web, 7);
   Metrics_setProcessExporter(m, false);
   char* text = render(m);
   assert_null(strstr(text, "namedprocess"));
   assert_non_null(strstr(text, "stacktop_goroutines{groupname=\"web\"} 7\n"));
   free(text);
   Metrics_free(m);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table_follows_naming_rules),
      cmocka_unit_test(test_label_values_escaped),
      cmocka_unit_test(test_invalid_utf8_replaced),
      cmocka_unit_test(test_families_grouped_and_series_unique),
      cmocka_unit_test(test_frames_drop_gauges_keep_counters),
      cmocka_unit_test(test_values_and_unlabelled),
      cmocka_unit_test(test_process_exporter_set_off),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
