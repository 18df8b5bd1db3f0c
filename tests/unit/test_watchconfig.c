/* WatchConfig: a full config resolves to the right values and defaults;
 * a table of bad configs each gives its file:line message; nothing leaks
 * from a failed load. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stacktop/WatchConfig.h"

#define assert_near(a, b) assert_true(fabs((double)(a) - (double)(b)) < 1e-9 * (fabs((double)(b)) + 1))

static const char fullConfig[] = "; a comment\n"
                                 "[global]\n"
                                 "interval = 5s\n"
                                 "bundle_dir = /var/lib/stacktop/bundles\n"
                                 "keep_bundles = 20              ; inline comment\n"
                                 "max_bundle_disk = 500MiB\n"
                                 "mail_to = ops@example.com, dev@example.com\n"
                                 "mail_from = stacktop@db1.example.com\n"
                                 "smtp_url = smtp://127.0.0.1:25\n"
                                 "smtp_tls = required\n"
                                 "cooldown = 15m\n"
                                 "system_mem_available_below = 10%\n"
                                 "\n"
                                 "[service A]\n"
                                 "match = comm:nginx\n"
                                 "cpu_above = 90% for 3\n"
                                 "res_above = 2GiB\n"
                                 "res_growth_above = 50MiB/h over 30m\n"
                                 "threads_above = 500\n"
                                 "thread_growth_above = 100/h over 30m\n"
                                 "fds_above = 80%\n"
                                 "restart = alert\n"
                                 "pprof_url = http://127.0.0.1:6060/debug/pprof/\n"
                                 "exec = /usr/local/bin/on-trigger.sh\n"
                                 "\n"
                                 "[service B]\n"
                                 "match = pidfile:/run/b.pid\n"
                                 "res_above = 1GiB\n";

static void test_full_config(void** state) {
   (void)state;
   WatchConfig c;
   char err[512] = "";
   assert_int_equal(WatchConfig_loadString(&c, fullConfig, "full.conf", err, sizeof(err)), 0);
   assert_string_equal(err, "");
   assert_near(c.intervalS, 5);
   assert_string_equal(c.bundleDir, "/var/lib/stacktop/bundles");
   assert_int_equal(c.keepBundles, 20);
   assert_true(c.maxBundleDisk == 500ULL << 20);
   assert_int_equal(c.mailToCount, 2);
   assert_string_equal(c.mailTo[0], "ops@example.com");
   assert_string_equal(c.mailTo[1], "dev@example.com");
   assert_string_equal(c.mailFrom, "stacktop@db1.example.com");
   assert_true(c.smtpTlsRequired);
   assert_near(c.cooldownS, 900);
   assert_true(c.systemMem.enabled);
   assert_near(c.systemMem.threshold, 10);
   /* defaults */
   assert_true(c.mailMaxAttachment == 10ULL << 20);
   assert_near(c.pprofSeconds, 10);
   assert_int_equal(c.maxBundlesPerHour, 10);
   assert_non_null(c.hostname);
   assert_int_equal(c.serviceCount, 2);
   const WatchService* a = &c.services[0];
   assert_string_equal(a->name, "A");
   assert_int_equal(a->line, 14);
   assert_int_equal(a->match.kind, MATCH_COMM);
   assert_string_equal(a->match.text, "nginx");
   assert_true(a->rules[RULE_CPU_ABOVE].enabled);
   assert_near(a->rules[RULE_CPU_ABOVE].threshold, 90);
   assert_int_equal(a->rules[RULE_CPU_ABOVE].forSamples, 3);
   assert_near(a->rules[RULE_RES_ABOVE].threshold, 2.0 * 1024 * 1024);
   assert_near(a->rules[RULE_RES_GROWTH_ABOVE].threshold, 50.0 * 1024 / 60);
   assert_near(a->rules[RULE_RES_GROWTH_ABOVE].windowS, 1800);
   assert_near(a->rules[RULE_THREADS_ABOVE].threshold, 500);
   assert_near(a->rules[RULE_THREAD_GROWTH_ABOVE].threshold, 100.0 / 60);
   assert_near(a->rules[RULE_FDS_ABOVE].threshold, 80);
   assert_true(a->rules[RULE_RESTART].enabled);
   assert_string_equal(a->pprofUrl, "http://127.0.0.1:6060/debug/pprof/");
   assert_string_equal(a->exec, "/usr/local/bin/on-trigger.sh");
   const WatchService* b = &c.services[1];
   assert_int_equal(b->match.kind, MATCH_PIDFILE);
   assert_false(b->rules[RULE_CPU_ABOVE].enabled);
   assert_null(b->pprofUrl);
   /* 30 min window at 5 s: 361 samples for --once, history room for it. */
   assert_int_equal(WatchConfig_samplesNeeded(&c), 361);
   assert_true(WatchConfig_historyCapacity(&c) >= 361);
   WatchConfig_free(&c);
}

static void test_print_round_trip(void** state) {
   (void)state;
   WatchConfig c, again;
   char err[512] = "";
   assert_int_equal(WatchConfig_loadString(&c, fullConfig, "full.conf", err, sizeof(err)), 0);
   char* text = NULL;
   size_t len = 0;
   FILE* f = open_memstream(&text, &len);
   WatchConfig_print(&c, f);
   fclose(f);
   assert_non_null(strstr(text, "cpu_above = 90% for 3\n"));
   assert_non_null(strstr(text, "res_growth_above = 50MiB/h over 30m\n"));
   assert_non_null(strstr(text, "[service B]\nmatch = pidfile:/run/b.pid\n"));
   /* What --check-config prints is itself a valid config with the same meaning. */
   assert_int_equal(WatchConfig_loadString(&again, text, "printed.conf", err, sizeof(err)), 0);
   assert_int_equal(again.serviceCount, 2);
   assert_near(again.services[0].rules[RULE_RES_GROWTH_ABOVE].threshold,
               c.services[0].rules[RULE_RES_GROWTH_ABOVE].threshold);
   assert_near(again.cooldownS, c.cooldownS);
   free(text);
   WatchConfig_free(&again);
   WatchConfig_free(&c);
}

static void test_format_rule(void** state) {
   (void)state;
   char buf[64];
   RuleSpec cpu = { .enabled = true, .threshold = 90, .forSamples = 3 };
   WatchConfig_formatRule(RULE_CPU_ABOVE, &cpu, buf, sizeof(buf));
   assert_string_equal(buf, "90% for 3");
   RuleSpec growth = { .enabled = true, .threshold = 50.0 * 1024 / 60, .forSamples = 1, .windowS = 1800 };
   WatchConfig_formatRule(RULE_RES_GROWTH_ABOVE, &growth, buf, sizeof(buf));
   assert_string_equal(buf, "50MiB/h over 30m");
   RuleSpec res = { .enabled = true, .threshold = 2.0 * 1024 * 1024, .forSamples = 1 };
   WatchConfig_formatRule(RULE_RES_ABOVE, &res, buf, sizeof(buf));
   assert_string_equal(buf, "2GiB");
   WatchConfig_formatRule(RULE_RESTART, &res, buf, sizeof(buf));
   assert_string_equal(buf, "alert");
   WatchConfig_formatRule(RULE_SYSTEM_MEM_BELOW, &cpu, buf, sizeof(buf));
   assert_string_equal(buf, "90% for 3");
}

static void test_interval_in_ms(void** state) {
   (void)state;
   WatchConfig c;
   char err[512];
   assert_int_equal(WatchConfig_loadString(&c,
                                           "[global]\ninterval = 200ms\n[service x]\nmatch = pid:1\n"
                                           "res_growth_above = 1MiB/m over 2s\n",
                                           "ms.conf", err, sizeof(err)),
                    0);
   assert_near(c.intervalS, 0.2);
   assert_int_equal(WatchConfig_samplesNeeded(&c), 11);
   WatchConfig_free(&c);
}

static const struct {
   const char* text;
   const char* message; /* expected exactly (file name "bad.conf") */
} badConfigs[] = {
   { "[global]\nfoo = 1\n[service a]\nmatch = pid:1\nrestart = alert\n",
     "bad.conf:2: unknown key 'foo' in [global]; expected one of: interval, bundle_dir, keep_bundles, "
     "max_bundle_disk, mail_to, mail_from, smtp_url, smtp_user, smtp_password_file, smtp_tls, "
     "mail_max_attachment, mail_retry, cooldown, max_bundles_per_hour, pprof_seconds, pprof_timeout, "
     "exec_timeout, hostname, system_mem_available_below" },
   { "[service a]\nmatch = pid:1\nres_above = 2GB\n",
     "bad.conf:3: [service a] res_above = '2GB': expected a size such as 4096, 512KiB, 500MiB or 2GiB" },
   { "[service a]\nmatch = pid:0\nrestart = alert\n",
     "bad.conf:2: [service a] match = 'pid:0': pid: needs a positive process id" },
   { "[service a]\nmatch = exe:nginx\nrestart = alert\n",
     "bad.conf:2: [service a] match = 'exe:nginx': exe: needs an absolute path" },
   { "[service a]\ncpu_above = 90%\n", "bad.conf:1: [service a] has no 'match' key; expected e.g. match = comm:nginx" },
   { "[global]\ninterval = 0s\n[service a]\nmatch = pid:1\nrestart = alert\n",
     "bad.conf:2: [global] interval = '0s': expected a duration such as 200ms, 5s, 15m or 1h" },
   { "[global]\npprof_seconds = 1.5s\n[service a]\nmatch = pid:1\nrestart = alert\n",
     "bad.conf: pprof_seconds = 1.5: expected a whole number of seconds" },
   { "[service a]\nmatch = pid:1\nrestart = alert\n[other]\n",
     "bad.conf:4: unknown section [other]; expected [global] or [service NAME]" },
   { "[service]\nmatch = pid:1\n", "bad.conf:1: [service] needs a name; expected [service NAME]" },
   { "[global]\nmail_to = a@b.c\nsmtp_url = smtp://x\n[service a]\nmatch = pid:1\nrestart = alert\n",
     "bad.conf:2: mail_to is set but mail_from is missing; expected e.g. mail_from = stacktop@host.example.com in "
     "[global]" },
   { "[global]\nbundle_dir = relative/dir\n[service a]\nmatch = pid:1\nrestart = alert\n",
     "bad.conf:2: [global] bundle_dir = 'relative/dir': expected an absolute directory path" },
};

static void test_bad_configs(void** state) {
   (void)state;
   for (size_t i = 0; i < sizeof(badConfigs) / sizeof(badConfigs[0]); i++) {
      WatchConfig c;
      char err[1024] = "";
      assert_int_equal(WatchConfig_loadString(&c, badConfigs[i].text, "bad.conf", err, sizeof(err)), -1);
      if (strcmp(err, badConfigs[i].message) != 0)
         fail_msg("config %zu:\n got: %s\nwant: %s", i, err, badConfigs[i].message);
      assert_int_equal(c.serviceCount, 0); /* freed */
   }
}

static void test_password_file(void** state) {
   (void)state;
   char path[] = "/tmp/stacktop-test-pass-XXXXXX";
   int fd = mkstemp(path);
   assert_true(fd >= 0);
   assert_int_equal(write(fd, "hunter2\n", 8), 8);
   close(fd);
   char text[512], err[512];
   snprintf(text, sizeof(text),
            "[global]\nsmtp_user = bob\nsmtp_password_file = %s\n[service a]\nmatch = pid:1\n"
            "restart = alert\n",
            path);
   WatchConfig c;
   assert_int_equal(WatchConfig_loadString(&c, text, "pw.conf", err, sizeof(err)), 0);
   assert_string_equal(c.smtpUser, "bob");
   assert_string_equal(c.smtpPassword, "hunter2");
   WatchConfig_free(&c);
   unlink(path);
   assert_int_equal(WatchConfig_loadString(&c, text, "pw.conf", err, sizeof(err)), -1);
   assert_non_null(strstr(err, "pw.conf:3: [global] smtp_password_file"));
   assert_non_null(strstr(err, "No such file or directory"));
}

static void test_missing_file(void** state) {
   (void)state;
   WatchConfig c;
   char err[512];
   assert_int_equal(WatchConfig_load(&c, "/nonexistent/stacktop.conf", err, sizeof(err)), -1);
   assert_non_null(strstr(err, "/nonexistent/stacktop.conf: cannot open: No such file or directory"));
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_full_config),  cmocka_unit_test(test_print_round_trip),
      cmocka_unit_test(test_format_rule),  cmocka_unit_test(test_interval_in_ms),
      cmocka_unit_test(test_bad_configs),  cmocka_unit_test(test_password_file),
      cmocka_unit_test(test_missing_file),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
