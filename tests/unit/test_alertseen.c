/* AlertSeen: an episode (fingerprint + startsAt) is known after it was
 * added, across a save and load (a restarted watcher); another startsAt of
 * the same alert is a new episode; entries not seen for a week are
 * forgotten, at most ALERTSEEN_MAX kept (the longest unseen dropped); a
 * damaged line or file does not stop the rest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stacktop/AlertSeen.h"
#include "stacktop/BundleDir.h"
#include "stacktop/Util.h"

static int openDir(char* dir) {
   assert_non_null(mkdtemp(dir));
   char err[512];
   int fd = BundleDir_open(dir, false, err, sizeof(err));
   assert_true(fd >= 0);
   return fd;
}

static void cleanup(const char* dir, int fd) {
   char cmd[128];
   snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
   assert_int_equal(system(cmd), 0);
   close(fd);
}

static void test_round_trip(void** state) {
   (void)state;
   char dir[] = "/tmp/stacktop-seen-XXXXXX", err[512];
   int fd = openDir(dir);
   AlertSeen s;
   AlertSeen_init(&s);
   assert_int_equal(AlertSeen_load(&s, fd, err, sizeof(err)), 0); /* no file yet */
   assert_false(AlertSeen_check(&s, "5a1b", "2026-12-01T10:00:00Z", 1000));
   AlertSeen_add(&s, "5a1b", "2026-12-01T10:00:00Z", 1000);
   assert_true(AlertSeen_check(&s, "5a1b", "2026-12-01T10:00:00Z", 1001));
   assert_false(AlertSeen_check(&s, "5a1b", "2026-12-01T11:00:00Z", 1001)); /* a new episode */
   assert_false(AlertSeen_check(&s, "5a1c", "2026-12-01T10:00:00Z", 1001));
   assert_int_equal(AlertSeen_save(&s, fd, 1002, err, sizeof(err)), 0);
   AlertSeen_free(&s);
   AlertSeen fresh;
   AlertSeen_init(&fresh);
   assert_int_equal(AlertSeen_load(&fresh, fd, err, sizeof(err)), 0);
   assert_int_equal(fresh.count, 1);
   assert_true(AlertSeen_check(&fresh, "5a1b", "2026-12-01T10:00:00Z", 1003));
   AlertSeen_free(&fresh);
   cleanup(dir, fd);
}

static void test_forgetting(void** state) {
   (void)state;
   char dir[] = "/tmp/stacktop-seen-XXXXXX", err[512];
   int fd = openDir(dir);
   AlertSeen s;
   AlertSeen_init(&s);
   double now = 1e9;
   AlertSeen_add(&s, "old", "2026-01-01T00:00:00Z", now - ALERTSEEN_FORGET_S - 1);
   AlertSeen_add(&s, "kept", "2026-01-01T00:00:00Z", now - ALERTSEEN_FORGET_S - 1);
   assert_true(AlertSeen_check(&s, "kept", "2026-01-01T00:00:00Z", now - 10)); /* re-sent: refreshed */
   for (int i = 0; i < ALERTSEEN_MAX + 10; i++) {
      char fp[32];
      snprintf(fp, sizeof(fp), "%x", i);
      AlertSeen_add(&s, fp, "2026-12-01T10:00:00Z", now - ALERTSEEN_MAX - 100 + i);
   }
   assert_int_equal(AlertSeen_save(&s, fd, now, err, sizeof(err)), 0);
   assert_int_equal(s.count, ALERTSEEN_MAX);
   assert_false(AlertSeen_check(&s, "old", "2026-01-01T00:00:00Z", now));
   assert_true(AlertSeen_check(&s, "kept", "2026-01-01T00:00:00Z", now));
   assert_false(AlertSeen_check(&s, "0", "2026-12-01T10:00:00Z", now)); /* the longest unseen */
   assert_true(AlertSeen_check(&s, "100", "2026-12-01T10:00:00Z", now));
   AlertSeen_free(&s);
   cleanup(dir, fd);
}

static void test_damage_and_bad_fields(void** state) {
   (void)state;
   char dir[] = "/tmp/stacktop-seen-XXXXXX", err[512];
   int fd = openDir(dir);
   const char* text = "stacktop-alerts-seen 1\nab 2026-12-01T10:00:00Z 5\ngarbage\ncd x y z\nef 2026 7 extra\n"
                      "01 2026-12-01T10:00:00Z 6\n";
   assert_int_equal(BundleDir_write(fd, "alerts-seen", text, strlen(text), err, sizeof(err)), 0);
   AlertSeen s;
   AlertSeen_init(&s);
   assert_int_equal(AlertSeen_load(&s, fd, err, sizeof(err)), 0);
   assert_int_equal(s.count, 2);
   AlertSeen_add(&s, "a b", "2026-12-01T10:00:00Z", 1); /* blanks: never stored */
   AlertSeen_add(&s, "ab", "2026-12-01T10:00:00Z\n", 1);
   assert_int_equal(s.count, 2);
   /* another format is started afresh */
   assert_int_equal(BundleDir_write(fd, "alerts-seen", "other 2\nab c 1\n", 15, err, sizeof(err)), 0);
   assert_int_equal(AlertSeen_load(&s, fd, err, sizeof(err)), 0);
   assert_int_equal(s.count, 0);
   AlertSeen_free(&s);
   cleanup(dir, fd);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_forgetting),
      cmocka_unit_test(test_damage_and_bad_fields),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
