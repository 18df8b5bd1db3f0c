/* AlertPayload: Alertmanager 0.25's webhook body, and everything a hostile
 * sender could put in one: not JSON, another version, duplicate keys, NUL
 * characters, invalid UTF-8, too many alerts or labels, strings past their
 * bounds, alerts without the fields the receiver needs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/AlertPayload.h"
#include "stacktop/Util.h"

#ifndef SEED_DIR
#define SEED_DIR "tests/fuzz/seeds"
#endif

static void test_real_payload(void** state) {
   (void)state;
   size_t len;
   char* data = Util_slurp(SEED_DIR "/alertmanager-0.25.json", 1 << 20, &len);
   assert_non_null(data);
   AlertPayload p;
   char err[256] = "";
   assert_int_equal(AlertPayload_parse(&p, data, len, err, sizeof(err)), 0);
   assert_string_equal(p.receiver, "stacktop-hosta");
   assert_string_equal(p.status, "firing");
   assert_int_equal(p.alertCount, 1);
   const Alert* a = &p.alerts[0];
   assert_true(a->firing);
   assert_string_equal(a->invalid, "");
   assert_string_equal(Alert_label(a, "alertname"), "ServiceCpuHigh");
   assert_string_equal(Alert_label(a, "groupname"), "web");
   assert_string_equal(Alert_label(a, "host"), "hosta");
   assert_null(Alert_label(a, "nope"));
   assert_string_equal(Alert_annotation(a, "summary"), "web uses 97% of a core on hosta");
   assert_string_equal(a->fingerprint, "5a1b2c3d4e5f6789");
   assert_string_equal(a->startsAt, "2026-12-01T10:00:00.123456789Z");
   assert_non_null(strstr(a->generatorUrl, "g0.expr=sum+by"));
   assert_non_null(strstr(a->generatorUrl, "&g0.tab=1"));
   AlertPayload_free(&p);
   free(data);
}

static int parse(const char* json, AlertPayload* p, char* err, size_t errSize) {
   err[0] = '\0';
   return AlertPayload_parse(p, json, strlen(json), err, errSize);
}

static void test_refused_bodies(void** state) {
   (void)state;
   static const struct {
      const char* json;
      const char* why;
   } bad[] = {
      { "", "not valid JSON" },
      { "{\"version\":\"4\",\"alerts\":[", "not valid JSON" },
      { "[1,2]", "not a JSON object" },
      { "{\"alerts\":[]}", "version missing" },
      { "{\"version\":\"3\",\"alerts\":[]}", "other than 4" },
      { "{\"version\":4,\"alerts\":[]}", "version missing" },
      { "{\"version\":\"4\"}", "no \"alerts\" array" },
      { "{\"version\":\"4\",\"alerts\":{}}", "no \"alerts\" array" },
      { "{\"version\":\"4\",\"version\":\"4\",\"alerts\":[]}", "not valid JSON" },   /* duplicate key */
      { "{\"version\":\"4\",\"alerts\":[],\"x\":\"a\\u0000b\"}", "not valid JSON" }, /* NUL */
      { "{\"version\":\"4\",\"alerts\":[],\"x\":\"\xff\xfe\"}", "not valid JSON" },  /* not UTF-8 */
      { "{\"version\":\"4\",\"alerts\":[],\"x\":\"\\ud800\"}", "not valid JSON" },   /* lone surrogate */
      { "{\"version\":\"4\",\"alerts\":[]} trailing", "not valid JSON" },
   };
   for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
      AlertPayload p;
      char err[256];
      assert_int_equal(parse(bad[i].json, &p, err, sizeof(err)), -1);
      if (!strstr(err, bad[i].why))
         fail_msg("case %zu: '%s' does not say '%s'", i, err, bad[i].why);
      assert_int_equal(p.alertCount, 0);
      assert_null(p.alerts);
   }
}

static void test_unusable_alerts_kept_with_reason(void** state) {
   (void)state;
   const char* json =
       "{\"version\":\"4\",\"alerts\":["
       "7,"
       "{\"status\":\"firing\",\"labels\":{},\"fingerprint\":\"ab\",\"startsAt\":\"2026-12-01T10:00:00Z\"},"
       "{\"status\":\"firing\",\"labels\":{\"a\":\"b\"},\"fingerprint\":\"xyz\","
       "\"startsAt\":\"2026-12-01T10:00:00Z\"},"
       "{\"status\":\"firing\",\"labels\":{\"a\":\"b\"},\"fingerprint\":\"ab\",\"startsAt\":\"now\"},"
       "{\"labels\":{\"a\":\"b\"},\"fingerprint\":\"ab\",\"startsAt\":\"2026-12-01T10:00:00Z\"},"
       "{\"status\":\"resolved\",\"labels\":{\"a\":1,\"b\":\"c\"},\"fingerprint\":\"AB01\","
       "\"startsAt\":\"2026-12-01T10:00:00+01:00\"}]}";
   AlertPayload p;
   char err[256];
   assert_int_equal(parse(json, &p, err, sizeof(err)), 0);
   assert_int_equal(p.alertCount, 6);
   assert_non_null(strstr(p.alerts[0].invalid, "not a JSON object"));
   assert_non_null(strstr(p.alerts[1].invalid, "no labels"));
   assert_non_null(strstr(p.alerts[2].invalid, "no fingerprint"));
   assert_non_null(strstr(p.alerts[3].invalid, "no startsAt"));
   assert_non_null(strstr(p.alerts[4].invalid, "no status"));
   assert_string_equal(p.alerts[5].invalid, "");
   assert_false(p.alerts[5].firing);
   /* a label that is not a string is left out */
   assert_int_equal(p.alerts[5].labelCount, 1);
   assert_null(Alert_label(&p.alerts[5], "a"));
   AlertPayload_free(&p);
}

static void test_bounds(void** state) {
   (void)state;
   char* json = NULL;
   size_t len = 0;
   FILE* f = open_memstream(&json, &len);
   fputs("{\"version\":\"4\",\"alerts\":[", f);
   for (int i = 0; i < ALERTPAYLOAD_ALERTS_MAX + 5; i++) {
      fprintf(f, "%s{\"status\":\"firing\",\"fingerprint\":\"%04x\",\"startsAt\":\"2026-12-01T10:00:00Z\",\"labels\":{",
              i ? "," : "", i);
      int labels = i == 0 ? ALERTPAYLOAD_PAIRS_MAX + 3 : 1;
      for (int k = 0; k < labels; k++)
         fprintf(f, "%s\"l%d\":\"v\"", k ? "," : "", k);
      fputs("}", f);
      if (i == 1) {
         /* a long annotation whose cut falls inside a 3-byte character */
         fputs(",\"annotations\":{\"d\":\"x", f);
         for (int k = 0; k < ALERTPAYLOAD_ANNOTATION_MAX; k++)
            fputs("\xe2\x82\xac", f);
         fputs("\"}", f);
      }
      fputs("}", f);
   }
   fputs("]}", f);
   fclose(f);
   AlertPayload p;
   char err[256];
   assert_int_equal(AlertPayload_parse(&p, json, len, err, sizeof(err)), 0);
   assert_int_equal(p.alertCount, ALERTPAYLOAD_ALERTS_MAX);
   assert_int_equal(p.alertsDropped, 5);
   assert_int_equal(p.alerts[0].labelCount, ALERTPAYLOAD_PAIRS_MAX);
   assert_int_equal(p.alerts[0].pairsDropped, 3);
   const char* d = Alert_annotation(&p.alerts[1], "d");
   assert_non_null(d);
   size_t dl = strlen(d);
   assert_true(dl <= ALERTPAYLOAD_ANNOTATION_MAX && dl > ALERTPAYLOAD_ANNOTATION_MAX - 3);
   assert_int_equal((dl - 1) % 3, 0); /* "x" then whole euro signs */
   AlertPayload_free(&p);
   free(json);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_real_payload),
      cmocka_unit_test(test_refused_bodies),
      cmocka_unit_test(test_unusable_alerts_kept_with_reason),
      cmocka_unit_test(test_bounds),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
