/* Incident: captured strings are printable; the signed file round-trips
 * every field (processes, gone pids, bookkeeping); the description names the
 * time, value, threshold and each process's RES, CPU% and threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stacktop/BundleDir.h"
#include "stacktop/Incident.h"

static void test_round_trip_and_description(void** state) {
   (void)state;
   char dir[] = "/tmp/stacktop-incident-XXXXXX", err[512];
   assert_non_null(mkdtemp(dir));
   int fd = BundleDir_open(dir, false, err, sizeof(err));
   assert_true(fd >= 0);
   unsigned char key[BUNDLEDIR_KEY_BYTES] = { 7 };
   Incident in;
   Incident_init(&in, "h-web-cpu_above-20260101T000000", "web", RULE_CPU_ABOVE, "90% for 3", 97.25,
                 "pid 42 (ng\x1bx): CPU 97.2% of one core", 1767225600.5);
   ProcessSample p = { .pid = 42,
                       .startTicks = 123456,
                       .uid = 33,
                       .state = 'R',
                       .threads = 4,
                       .cpuPct = 97.25,
                       .resKiB = 1258291,
                       .resGrowthKnown = true,
                       .resGrowthKiBPerMin = 10 };
   snprintf(p.user, sizeof(p.user), "www-data");
   snprintf(p.comm, sizeof(p.comm), "ng\x1bx");
   char command[] = "nginx: worker process \x1b]2;x\x07";
   p.command = command;
   Incident_addProcess(&in, &p);
   Incident_addGone(&in, 41);
   in.attempts = 2;
   in.pid = 42;
   Incident_setError(&in, "No space left on device");
   assert_string_equal(in.processes[0].comm, "ng\\x1bx");
   assert_string_equal(in.reason, "pid 42 (ng\\x1bx): CPU 97.2% of one core");
   assert_int_equal(Incident_save(&in, fd, key, err, sizeof(err)), 0);
   Incident back;
   assert_int_equal(Incident_load(&back, fd, "h-web-cpu_above-20260101T000000.incident", key, err, sizeof(err)),
                    RECORD_OK);
   assert_string_equal(back.name, in.name);
   assert_string_equal(back.service, "web");
   assert_int_equal(back.rule, RULE_CPU_ABOVE);
   assert_string_equal(back.threshold, "90% for 3");
   assert_true(back.value == 97.25);
   assert_true(back.firedWall == 1767225600.5);
   assert_int_equal(back.processCount, 1);
   assert_int_equal(back.processes[0].pid, 42);
   assert_true(back.processes[0].startTicks == 123456);
   assert_int_equal(back.processes[0].uid, 33);
   assert_int_equal(back.processes[0].threads, 4);
   assert_true(back.processes[0].resKiB == 1258291);
   assert_string_equal(back.processes[0].user, "www-data");
   assert_string_equal(back.processes[0].command, in.processes[0].command);
   assert_int_equal(back.goneCount, 1);
   assert_int_equal(back.gone[0], 41);
   assert_int_equal(back.attempts, 2);
   assert_int_equal(back.pid, 42);
   assert_string_equal(back.lastError, "No space left on device");
   char* text = NULL;
   size_t len = 0;
   FILE* f = open_memstream(&text, &len);
   Incident_describe(&back, "host1", f);
   fclose(f);
   assert_non_null(strstr(text, "incident:  2026-01-01T00:00:00Z (UTC; when the rule fired)\n"));
   assert_non_null(strstr(text, "value:     CPU 97.2% of one core (threshold 90% for 3)\n"));
   assert_non_null(
       strstr(text, "       42 www-data   R     4   97.2    1.20G     +600K  nginx: worker process \\x1b]2;x\\x07 "
                    "[ng\\x1bx]\n"));
   assert_non_null(strstr(text, "pid 41 is gone"));
   assert_null(strchr(text, '\x1b'));
   free(text);
   Incident_free(&back);
   Incident_free(&in);
   /* A record of another name is not this incident. */
   assert_int_equal(renameat(fd, "h-web-cpu_above-20260101T000000.incident", fd, "other.incident"), 0);
   assert_int_equal(Incident_load(&back, fd, "other.incident", key, err, sizeof(err)), RECORD_FORGED);
   char cmd[128];
   snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
   assert_int_equal(system(cmd), 0);
   close(fd);
}

/* An alert-triggered incident: the alert's strings (hostile: a newline, an
 * escape sequence) are printable at once, round-trip through the signed
 * file, and head the description. */
static void test_alert_round_trip(void** state) {
   (void)state;
   char dir[] = "/tmp/stacktop-incident-XXXXXX", err[512];
   assert_non_null(mkdtemp(dir));
   int fd = BundleDir_open(dir, false, err, sizeof(err));
   assert_true(fd >= 0);
   unsigned char key[BUNDLEDIR_KEY_BYTES] = { 9 };
   Incident in;
   Incident_init(&in, "h-web-alert_Cpu-20260101T000000", "web", RULE_ON_DEMAND, "alert Cpu", 0,
                 "Alertmanager alert Cpu", 1767225600.5);
   Incident_setAlert(&in, "Cpu", "5a1b", "2026-12-01T10:00:00Z", "http://prom/graph?g0.expr=x", "stacktop-h");
   Incident_addAlertPair(&in, false, "alertname", "Cpu");
   Incident_addAlertPair(&in, false, "groupname", "web");
   Incident_addAlertPair(&in, true, "summary", "line1\nline2 \x1b[31mred");
   Incident_addAlertPair(&in, true, "k\ney", "v");
   assert_string_equal(in.alert->annotations[0].value, "line1\\x0aline2 \\x1b[31mred");
   assert_int_equal(Incident_save(&in, fd, key, err, sizeof(err)), 0);
   Incident back;
   assert_int_equal(Incident_load(&back, fd, "h-web-alert_Cpu-20260101T000000.incident", key, err, sizeof(err)),
                    RECORD_OK);
   assert_int_equal(back.rule, RULE_ON_DEMAND);
   assert_non_null(back.alert);
   assert_string_equal(back.alert->name, "Cpu");
   assert_string_equal(back.alert->fingerprint, "5a1b");
   assert_string_equal(back.alert->startsAt, "2026-12-01T10:00:00Z");
   assert_string_equal(back.alert->generatorUrl, "http://prom/graph?g0.expr=x");
   assert_string_equal(back.alert->receiver, "stacktop-h");
   assert_int_equal(back.alert->labelCount, 2);
   assert_string_equal(back.alert->labels[1].key, "groupname");
   assert_string_equal(back.alert->labels[1].value, "web");
   assert_int_equal(back.alert->annotationCount, 2);
   assert_string_equal(back.alert->annotations[0].value, in.alert->annotations[0].value);
   assert_string_equal(back.alert->annotations[1].key, "k\\x0aey");
   char* text = NULL;
   size_t len = 0;
   FILE* f = open_memstream(&text, &len);
   Incident_describe(&back, "h", f);
   fclose(f);
   assert_non_null(strstr(text, "rule:      on_demand = alert Cpu\n"));
   assert_null(strstr(text, "value:"));
   assert_non_null(strstr(text, "alert:     Cpu, firing since 2026-12-01T10:00:00Z (fingerprint 5a1b"));
   assert_non_null(strstr(text, "  annotation summary = line1\\x0aline2"));
   for (size_t i = 0; i < len; i++)
      assert_true(text[i] == '\n' || (unsigned char)text[i] >= 0x20);
   free(text);
   Incident_free(&back);
   Incident_free(&in);
   char cmd[128];
   snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
   assert_int_equal(system(cmd), 0);
   close(fd);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_and_description),
      cmocka_unit_test(test_alert_round_trip),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
