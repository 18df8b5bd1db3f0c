/* MailQueue: the retry backoff; a refused mail stays queued with its attempt
 * counted and its next try counted from the end of the attempt; the queue is
 * found again by a fresh scan (a restart); entries stacktop did not write
 * (planted, or renamed so their signature no longer fits) are quarantined,
 * never sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stacktop/BundleDir.h"
#include "stacktop/MailQueue.h"
#include "stacktop/Record.h"
#include "stacktop/Util.h"
#include "stacktop/WatchConfig.h"
#include "stacktop/WatchLog.h"

#define STEM "h-x-restart-20260101T000000"

static void test_backoff(void** state) {
   (void)state;
   assert_true(MailQueue_backoff(60, 1) == 60);
   assert_true(MailQueue_backoff(60, 2) == 120);
   assert_true(MailQueue_backoff(60, 4) == 480);
   assert_true(MailQueue_backoff(60, 7) == 3600);
   assert_true(MailQueue_backoff(60, 1000) == 3600);
   assert_true(MailQueue_backoff(0.5, 3) == 2);
}

typedef struct Fixture_ {
   char dir[64];
   int fd;
   unsigned char key[BUNDLEDIR_KEY_BYTES];
   WatchConfig config;
} Fixture;

static void setUp(Fixture* f) {
   snprintf(f->dir, sizeof(f->dir), "/tmp/stacktop-mailq-XXXXXX");
   assert_non_null(mkdtemp(f->dir));
   char err[1024], conf[1024];
   f->fd = BundleDir_open(f->dir, false, err, sizeof(err));
   if (f->fd < 0)
      fail_msg("%s", err);
   assert_int_equal(BundleDir_key(f->fd, f->key, err, sizeof(err)), 0);
   /* Port 1 refuses connections: every attempt fails, quickly. */
   snprintf(conf, sizeof(conf),
            "[global]\nbundle_dir = %s\nmail_to = a@b.c, d@e.f\nmail_from = s@b.c\n"
            "smtp_url = smtp://127.0.0.1:1\nmail_retry = 10m\n[service x]\nmatch = pid:1\nrestart = alert\n",
            f->dir);
   assert_int_equal(WatchConfig_loadString(&f->config, conf, "q.conf", err, sizeof(err)), 0);
   int b = BundleDir_create(f->fd, STEM ".tar.gz", O_TRUNC);
   assert_true(b >= 0);
   assert_int_equal(write(b, "not really a tarball", 20), 20);
   close(b);
}

static void tearDown(Fixture* f) {
   char cmd[128];
   snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
   assert_int_equal(system(cmd), 0);
   close(f->fd);
   WatchConfig_free(&f->config);
}

static void test_refused_mail_stays_queued(void** state) {
   (void)state;
   Fixture f;
   setUp(&f);
   char err[512];
   const char* to[] = { "a@b.c", "d@e.f" };
   assert_int_equal(
       MailQueue_add(f.fd, f.key, STEM, true, "h", "subject line", "body\ntext\n", to, 2, err, sizeof(err)), 0);
   assert_true(MailQueue_isPending(f.fd, STEM));
   MailQueueScan scan;
   MailQueue_scan(f.fd, f.key, Util_wallSeconds(), false, &scan);
   assert_int_equal(scan.pending, 1);
   assert_string_equal(scan.due, STEM ".mail");
   assert_int_equal(MailQueue_attempt(&f.config, f.fd, f.key, STEM ".mail"), 2);
   double ended = Util_wallSeconds();
   Record r;
   assert_int_equal(Record_load(&r, f.fd, STEM ".mail", "mail", f.key, err, sizeof(err)), RECORD_OK);
   assert_string_equal(Record_get(&r, "attempts"), "1");
   double next = Record_getDouble(&r, "next", 0);
   /* Counted from the end of the attempt. */
   assert_true(next >= ended + 600 - 1 && next <= ended + 600 + 1);
   assert_string_equal(r.body, "body\ntext\n");
   size_t rcpt = 0;
   for (size_t i = 0; i < r.count; i++)
      rcpt += strcmp(r.fields[i].key, "rcpt") == 0;
   assert_int_equal(rcpt, 2);
   const char* id = Record_get(&r, "message-id");
   assert_non_null(strstr(id, STEM "@h>"));
   Record_free(&r);
   /* A fresh scan (a restarted watcher) finds it, not due yet; at start-up every entry is. */
   MailQueue_scan(f.fd, f.key, Util_wallSeconds(), false, &scan);
   assert_int_equal(scan.pending, 1);
   assert_string_equal(scan.due, "");
   assert_true(scan.nextWall == next);
   MailQueue_scan(f.fd, f.key, Util_wallSeconds(), true, &scan);
   assert_string_equal(scan.due, STEM ".mail");
   tearDown(&f);
}

static void test_unique_message_ids(void** state) {
   (void)state;
   Fixture f;
   setUp(&f);
   char err[512];
   const char* to[] = { "a@b.c" };
   /* Two incidents named in the same second still get two Message-IDs. */
   assert_int_equal(MailQueue_add(f.fd, f.key, "a", false, "h", "s", "b", to, 1, err, sizeof(err)), 0);
   assert_int_equal(MailQueue_add(f.fd, f.key, "b", false, "h", "s", "b", to, 1, err, sizeof(err)), 0);
   Record x, y;
   assert_int_equal(Record_load(&x, f.fd, "a.mail", "mail", f.key, err, sizeof(err)), RECORD_OK);
   assert_int_equal(Record_load(&y, f.fd, "b.mail", "mail", f.key, err, sizeof(err)), RECORD_OK);
   assert_string_not_equal(Record_get(&x, "message-id"), Record_get(&y, "message-id"));
   Record_free(&x);
   Record_free(&y);
   tearDown(&f);
}

static bool exists(int fd, const char* name) {
   struct stat sb;
   return fstatat(fd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0;
}

static void test_foreign_entries_are_quarantined(void** state) {
   (void)state;
   Fixture f;
   setUp(&f);
   char err[512];
   /* Planted: mails /etc/shadow if ever read as a queue entry. */
   const char planted[] = "stacktop-pending-mail 1\nbundle: /etc/shadow\nattempts: 0\nnext: 0\nsubject: x\n\nbody\n";
   int p = BundleDir_create(f.fd, "planted.mail", O_TRUNC);
   assert_int_equal(write(p, planted, sizeof(planted) - 1), (ssize_t)sizeof(planted) - 1);
   close(p);
   /* Genuine, but renamed: its signature covers its name. */
   const char* to[] = { "a@b.c" };
   assert_int_equal(MailQueue_add(f.fd, f.key, STEM, true, "h", "s", "b", to, 1, err, sizeof(err)), 0);
   assert_int_equal(renameat(f.fd, STEM ".mail", f.fd, "other.mail"), 0);
   WatchLog_open(false, false);
   MailQueueScan scan;
   MailQueue_scan(f.fd, f.key, Util_wallSeconds(), true, &scan);
   assert_int_equal(scan.pending, 0);
   assert_string_equal(scan.due, "");
   assert_false(exists(f.fd, "planted.mail"));
   assert_true(exists(f.fd, "planted.mail.quarantined"));
   assert_true(exists(f.fd, "other.mail.quarantined"));
   tearDown(&f);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_backoff),
      cmocka_unit_test(test_refused_mail_stays_queued),
      cmocka_unit_test(test_unique_message_ids),
      cmocka_unit_test(test_foreign_entries_are_quarantined),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
