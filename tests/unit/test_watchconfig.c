/* WatchConfig: a full config resolves to the right values and defaults;
 * a table of bad configs each gives its file:line message; nothing leaks
 * from a failed load. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
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
   assert_int_equal(c.mailTo.count, 2);
   assert_string_equal(c.mailTo.items[0], "ops@example.com");
   assert_string_equal(c.mailTo.items[1], "dev@example.com");
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
   /* 30 min window at 5 s: 361 samples for --once; the history answers it from
    * minute buckets, so only 12 minutes of raw samples are kept (147). */
   assert_int_equal(WatchConfig_samplesNeeded(&c), 361);
   assert_int_equal(WatchConfig_historyCapacity(&c), 147);
   /* Name patterns match root's processes unless `user` says otherwise. */
   char users[64];
   Matcher_describeUsers(&a->match, users, sizeof(users));
   assert_string_equal(users, "root");
   assert_int_equal(c.warningCount, 0);
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
     "mail_max_attachment, mail_retry, mail_timeout, cooldown, max_bundles_per_hour, pprof_seconds, "
     "pprof_timeout, exec_timeout, bundle_timeout, dump_memory, hostname, system_mem_available_below, "
     "metrics_listen, metrics_textfile, metrics_token_file, metrics_process_exporter, alert_listen, "
     "alert_token_file, alert_service_label, alert_host_label, tls_cert_file, tls_key_file" },
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
     "bad.conf:2: [global] bundle_dir = 'relative/dir': 'relative/dir' is not absolute; expected an absolute "
     "directory path" },
   /* An absurd interval would spin a core sampling. */
   { "[global]\ninterval = 1ms\n[service a]\nmatch = pid:1\nrestart = alert\n",
     "bad.conf:2: [global] interval = '1ms': expected a duration from 100ms to 1h (shorter would keep a core busy "
     "sampling)" },
   { "[global]\ninterval = 2h\n[service a]\nmatch = pid:1\nrestart = alert\n",
     "bad.conf:2: [global] interval = '2h': expected a duration from 100ms to 1h (shorter would keep a core busy "
     "sampling)" },
   /* libcurl reads a 0 ms timeout as none at all. */
   { "[global]\npprof_timeout = 0.5ms\n[service a]\nmatch = pid:1\nrestart = alert\n",
     "bad.conf:2: [global] pprof_timeout = '0.5ms': expected a duration from 100ms to 1h (a time limit that is "
     "actually enforced)" },
   /* A range with only a lower limit. */
   { "[global]\ndump_memory = 512KiB\n[service a]\nmatch = pid:1\nrestart = alert\n",
     "bad.conf:2: [global] dump_memory = '512KiB': expected at least 1MiB (the stack copies of one dump)" },
   /* root would make / private and prune it. */
   { "[global]\nbundle_dir = /\n[service a]\nmatch = pid:1\nrestart = alert\n",
     "bad.conf:2: [global] bundle_dir = '/': '/' is the root directory; expected a directory of its own such as "
     "/var/lib/stacktop/bundles" },
   { "[global]\nbundle_dir = //etc/\n[service a]\nmatch = pid:1\nrestart = alert\n",
     "bad.conf:2: [global] bundle_dir = '//etc/': '//etc/' is inside /etc, a system directory stacktop must not "
     "write or prune; expected a directory of its own such as /var/lib/stacktop/bundles" },
   { "[global]\nbundle_dir = /var/lib/../lib\n[service a]\nmatch = pid:1\nrestart = alert\n",
     "bad.conf:2: [global] bundle_dir = '/var/lib/../lib': '/var/lib/../lib' has a '.' or '..' component; expected "
     "a plain absolute path" },
   { "[service a]\nmatch = comm:x\nuser = nosuchuser-xyz\nrestart = alert\n",
     "bad.conf:3: [service a] user = 'nosuchuser-xyz': 'nosuchuser-xyz' is neither a user on this host nor a "
     "numeric uid; expected 'any' or user names" },
   { "[service a]\nmatch = pid:1\nrestart = alert\nmail_to = someone\n",
     "bad.conf:4: [service a] mail_to = 'someone': 'someone' is not a mail address; expected user@host, comma "
     "separated" },
   { "[service a]\nmatch = pid:1\nrestart = alert\nmail_to = a@b.c\n",
     "bad.conf:4: mail_to is set but smtp_url is missing; expected e.g. smtp_url = smtp://127.0.0.1:25 in [global]" },
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

static void test_users_and_warnings(void** state) {
   (void)state;
   WatchConfig c;
   char err[512], users[64];
   const char* text = "[service any]\nmatch = comm:nginx\nuser = any\nrestart = alert\n"
                      "[service two]\nmatch = cmdline:/java/\nuser = root, 65534\nrestart = alert\n"
                      "[service pidf]\nmatch = pidfile:/run/x.pid\nrestart = alert\n";
   assert_int_equal(WatchConfig_loadString(&c, text, "u.conf", err, sizeof(err)), 0);
   Matcher_describeUsers(&c.services[0].match, users, sizeof(users));
   assert_string_equal(users, "any");
   Matcher_describeUsers(&c.services[1].match, users, sizeof(users));
   assert_true(strcmp(users, "root, nobody") == 0 || strcmp(users, "root, 65534") == 0);
   Matcher_describeUsers(&c.services[2].match, users, sizeof(users));
   assert_string_equal(users, "any"); /* a pidfile names its process */
   /* Only the pattern open to every user is worth a warning. */
   assert_int_equal(c.warningCount, 1);
   assert_non_null(strstr(c.warnings[0], "u.conf:2: [service any] match = comm:nginx with user = any: any local user"));
   WatchConfig_free(&c);
}

static void test_recipients(void** state) {
   (void)state;
   WatchConfig c;
   char err[512];
   const char* text = "[global]\nmail_to = ops@x.org, dev@x.org\nmail_from = s@x.org\nsmtp_url = smtp://m\n"
                      "[service a]\nmatch = pid:1\nrestart = alert\nmail_to = owner@x.org, OPS@x.org\n"
                      "[service b]\nmatch = pid:2\nrestart = alert\n";
   assert_int_equal(WatchConfig_loadString(&c, text, "r.conf", err, sizeof(err)), 0);
   size_t n;
   const char** to = WatchConfig_recipients(&c, &c.services[0], &n);
   assert_int_equal(n, 3); /* the global list, then the service's owners, each once */
   assert_string_equal(to[0], "ops@x.org");
   assert_string_equal(to[1], "dev@x.org");
   assert_string_equal(to[2], "owner@x.org");
   free(to);
   to = WatchConfig_recipients(&c, &c.services[1], &n);
   assert_int_equal(n, 2);
   free(to);
   to = WatchConfig_recipients(&c, NULL, &n);
   assert_int_equal(n, 2);
   free(to);
   WatchConfig_free(&c);
   /* A service's owners alone are enough for mail. */
   text = "[global]\nmail_from = s@x.org\nsmtp_url = smtp://m\n[service a]\nmatch = pid:1\nrestart = alert\n"
          "mail_to = owner@x.org\n";
   assert_int_equal(WatchConfig_loadString(&c, text, "r.conf", err, sizeof(err)), 0);
   assert_true(WatchConfig_mails(&c));
   WatchConfig_free(&c);
}

/* History memory must not grow with the window (it used to be window/interval
 * raw samples, up to 100,000 per process: 4.8 MB each). */
static void test_history_capacity_is_bounded(void** state) {
   (void)state;
   WatchConfig c;
   char err[512];
   assert_int_equal(WatchConfig_loadString(&c,
                                           "[global]\ninterval = 100ms\n[service x]\nmatch = pid:1\n"
                                           "res_growth_above = 1MiB/h over 72h\n",
                                           "long.conf", err, sizeof(err)),
                    0);
   size_t cap = WatchConfig_historyCapacity(&c);
   assert_int_equal(cap, 7203); /* 12 minutes at 100 ms */
   assert_true(History_maxBytes(cap) < 512 * 1024);
   WatchConfig_free(&c);
   assert_int_equal(WatchConfig_loadString(&c,
                                           "[global]\ninterval = 5s\n[service x]\nmatch = pid:1\n"
                                           "res_growth_above = 1MiB/h over 5m\n",
                                           "short.conf", err, sizeof(err)),
                    0);
   assert_int_equal(WatchConfig_historyCapacity(&c), 120);
   WatchConfig_free(&c);
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

/* The man-page entry of a key (".TP" or ".TQ", then ".B key", ".BI key ..."
 * or ".BR key"), its macros dropped and white space collapsed, in out. */
static bool manEntry(const char* man, const char* key, char* out, size_t size) {
   char head[128];
   const char* at = NULL;
   static const char* const macros[] = { ".TP\n.B", ".TP\n.BI", ".TP\n.BR", ".TQ\n.B", ".TQ\n.BI", ".TQ\n.BR" };
   for (size_t m = 0; m < sizeof(macros) / sizeof(macros[0]) && !at; m++) {
      snprintf(head, sizeof(head), "\n%s %s", macros[m], key);
      for (const char* p = strstr(man, head); p && !at; p = strstr(p + 1, head)) {
         char next = p[strlen(head)];
         if (next == ' ' || next == '\n')
            at = p + strlen(head);
      }
   }
   if (!at)
      return false;
   size_t used = 0;
   for (const char* line = at; *line && used + 1 < size;) {
      const char* eol = strchr(line, '\n');
      size_t len = eol ? (size_t)(eol - line) : strlen(line);
      if (line != at && len >= 3 && line[0] == '.' &&
          (strncmp(line, ".TP", 3) == 0 || strncmp(line, ".SH", 3) == 0 || strncmp(line, ".PP", 3) == 0))
         break;
      const char* text = line;
      if (line != at && line[0] == '.') {
         const char* sp = memchr(line, ' ', len);
         text = sp ? sp + 1 : line + len;
      }
      for (const char* c = text; c < line + len && used + 1 < size; c++) {
         bool space = *c == ' ' || *c == '\t';
         if (!(space && used > 0 && out[used - 1] == ' '))
            out[used++] = space ? ' ' : *c;
      }
      if (used + 1 < size && used > 0 && out[used - 1] != ' ')
         out[used++] = ' ';
      if (!eol)
         break;
      line = eol + 1;
   }
   out[used] = '\0';
   return true;
}

/* The key table is the one source: every key is in stacktop.conf(5), and
 * every default the table applies is the one the man page states. */
static void test_man_page_states_every_key_and_default(void** state) {
   (void)state;
   FILE* f = fopen("doc/stacktop.conf.5", "r");
   assert_non_null(f);
   static char man[256 * 1024];
   size_t n = fread(man, 1, sizeof(man) - 1, f);
   fclose(f);
   man[n] = '\0';
   WatchConfigKey k;
   size_t defaults = 0;
   for (size_t i = 0; WatchConfig_key(i, &k); i++) {
      char entry[8192];
      if (!manEntry(man, k.name, entry, sizeof(entry)))
         fail_msg("%s is not documented in doc/stacktop.conf.5", k.name);
      if (!k.def)
         continue;
      char want[256];
      snprintf(want, sizeof(want), "Default %s", k.def);
      if (!strstr(entry, want))
         fail_msg("doc/stacktop.conf.5 does not say '%s' for %s: %s", want, k.name, entry);
      defaults++;
   }
   assert_true(defaults >= 10);
}

/* A config that states every default reads the same as one that states none. */
static void test_defaults_come_from_the_table(void** state) {
   (void)state;
   char stated[4096] = "[global]\n";
   WatchConfigKey k;
   for (size_t i = 0; WatchConfig_key(i, &k); i++) {
      if (k.def && !k.service) {
         size_t used = strlen(stated);
         snprintf(stated + used, sizeof(stated) - used, "%s = %s\n", k.name, k.def);
      }
   }
   strcat(stated, "[service a]\nmatch = pid:1\nrestart = alert\n");
   const char* bare = "[service a]\nmatch = pid:1\nrestart = alert\n";
   char* printed[2];
   const char* texts[2] = { stated, bare };
   for (int t = 0; t < 2; t++) {
      WatchConfig c;
      char err[512];
      if (WatchConfig_loadString(&c, texts[t], "d.conf", err, sizeof(err)) < 0)
         fail_msg("%s", err);
      size_t len;
      FILE* out = open_memstream(&printed[t], &len);
      WatchConfig_print(&c, out);
      fclose(out);
      WatchConfig_free(&c);
   }
   assert_string_equal(printed[0], printed[1]);
   assert_non_null(strstr(printed[1], "\ninterval = 5s\n"));
   assert_non_null(strstr(printed[1], "\ndump_memory = 64MiB\n"));
   free(printed[0]);
   free(printed[1]);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_full_config),
      cmocka_unit_test(test_print_round_trip),
      cmocka_unit_test(test_format_rule),
      cmocka_unit_test(test_interval_in_ms),
      cmocka_unit_test(test_bad_configs),
      cmocka_unit_test(test_password_file),
      cmocka_unit_test(test_users_and_warnings),
      cmocka_unit_test(test_recipients),
      cmocka_unit_test(test_history_capacity_is_bounded),
      cmocka_unit_test(test_missing_file),
      cmocka_unit_test(test_man_page_states_every_key_and_default),
      cmocka_unit_test(test_defaults_come_from_the_table),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
