/* WatchState: episodes, cap and bundles round-trip through bundle_dir/state;
 * times saved on another boot are carried over by the wall clock and never
 * land in the future; retention removes only recorded bundles, oldest by
 * write order, sparing the newest and pinned ones; a damaged file is moved
 * aside; the lock excludes a second process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stacktop/BundleDir.h"
#include "stacktop/Util.h"
#include "stacktop/WatchState.h"

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

static void touch(int fd, const char* name, size_t size) {
   int f = openat(fd, name, O_CREAT | O_WRONLY | O_TRUNC, 0600);
   assert_true(f >= 0);
   char buf[64] = { 0 };
   for (size_t i = 0; i < size; i += sizeof(buf))
      assert_true(write(f, buf, size - i < sizeof(buf) ? size - i : sizeof(buf)) > 0);
   close(f);
}

static bool exists(int fd, const char* name) {
   struct stat sb;
   return fstatat(fd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0;
}

static void test_round_trip(void** state) {
   (void)state;
   char dir[] = "/tmp/stacktop-state-XXXXXX", err[512];
   int fd = openDir(dir);
   WatchState s;
   WatchState_init(&s, 10);
   double now = WatchState_now();
   RuleEpisode* e = WatchState_episode(&s, "web front%end", RULE_CPU_ABOVE);
   *e = (RuleEpisode){ .failing = true, .firedThisEpisode = true, .everFired = true, .lastFiredAt = now - 30 };
   WatchState_episode(&s, "system", RULE_SYSTEM_MEM_BELOW)->pending = true;
   FloodCap_record(&s.cap, now - 10);
   WatchState_addBundle(&s, "h-web-cpu_above-1", 100);
   WatchState_addBundle(&s, "h-web-cpu_above-2", 200);
   assert_int_equal(WatchState_save(&s, fd, err, sizeof(err)), 0);
   WatchState_free(&s);
   WatchState back;
   WatchState_init(&back, 10);
   assert_int_equal(WatchState_load(&back, fd, err, sizeof(err)), 0);
   assert_int_equal(back.episodeCount, 2);
   RuleEpisode* got = WatchState_episode(&back, "web front%end", RULE_CPU_ABOVE);
   assert_true(got->failing && got->firedThisEpisode && got->everFired && !got->pending);
   assert_true(got->lastFiredAt > now - 30.01 && got->lastFiredAt < now - 29.99);
   assert_true(WatchState_episode(&back, "system", RULE_SYSTEM_MEM_BELOW)->pending);
   assert_int_equal(back.cap.count, 1);
   assert_int_equal(back.cap.maxPerHour, 10);
   assert_int_equal(back.bundleCount, 2);
   assert_string_equal(back.bundles[1].stem, "h-web-cpu_above-2");
   assert_true(back.nextSeq == 3);
   WatchState_retainServices(&back, (const char* const[]){ "system" }, 1);
   assert_int_equal(back.episodeCount, 1);
   WatchState_free(&back);
   cleanup(dir, fd);
}

static void test_times_from_another_boot(void** state) {
   (void)state;
   char dir[] = "/tmp/stacktop-state-XXXXXX", err[512], text[512];
   int fd = openDir(dir);
   /* Saved on another boot, 100 s (wall) ago, when that boot's clock read 5000:
    * a bundle at 4990 on that clock was 110 s ago. One "in the future" (a wall
    * clock that was ahead) is clamped to now. */
   double wall = Util_wallSeconds();
   snprintf(text, sizeof(text),
            "stacktop-state 1\nclock another-boot 5000 %.3f\nseq 1\ncap 4990\n"
            "episode cpu_above 0 0 0 1 0 4990 web\nepisode res_above 0 0 0 1 0 9999999 web\n",
            wall - 100);
   assert_int_equal(BundleDir_write(fd, "state", text, strlen(text), err, sizeof(err)), 0);
   WatchState s;
   WatchState_init(&s, 10);
   assert_int_equal(WatchState_load(&s, fd, err, sizeof(err)), 0);
   double now = WatchState_now();
   double ago = now - WatchState_episode(&s, "web", RULE_CPU_ABOVE)->lastFiredAt;
   assert_true(ago > 109 && ago < 112);
   assert_true(now - s.cap.times[0] > 109);
   assert_true(WatchState_episode(&s, "web", RULE_RES_ABOVE)->lastFiredAt <= WatchState_now());
   WatchState_free(&s);
   cleanup(dir, fd);
}

static bool pinB(void* ctx, const char* stem) {
   (void)ctx;
   return strcmp(stem, "b") == 0;
}

static void test_prune_by_write_order(void** state) {
   (void)state;
   char dir[] = "/tmp/stacktop-state-XXXXXX";
   int fd = openDir(dir);
   WatchState s;
   WatchState_init(&s, 10);
   static const char* const stems[] = { "c", "a", "b", "d" }; /* written in this order */
   for (size_t i = 0; i < 4; i++) {
      char name[32];
      snprintf(name, sizeof(name), "%s.tar.gz", stems[i]);
      touch(fd, name, 100);
      WatchState_addBundle(&s, stems[i], 100);
   }
   touch(fd, "c.FAILED", 10);
   touch(fd, "foreign.tar.gz", 100000);
   /* keep 1, b pinned (its mail is pending): c and a go, b and the newest stay. */
   assert_int_equal(WatchState_prune(&s, fd, 1, 0, pinB, NULL), 2);
   assert_false(exists(fd, "c.tar.gz") || exists(fd, "c.FAILED") || exists(fd, "a.tar.gz"));
   assert_true(exists(fd, "b.tar.gz") && exists(fd, "d.tar.gz") && exists(fd, "foreign.tar.gz"));
   assert_int_equal(s.bundleCount, 2);
   /* By size: 150 bytes allowed, the newest always stays. */
   assert_int_equal(WatchState_prune(&s, fd, 0, 150, NULL, NULL), 1);
   assert_false(exists(fd, "b.tar.gz"));
   assert_true(exists(fd, "d.tar.gz"));
   /* A recorded bundle removed by hand is forgotten. */
   unlinkat(fd, "d.tar.gz", 0);
   assert_int_equal(WatchState_prune(&s, fd, 1, 0, NULL, NULL), 0);
   assert_int_equal(s.bundleCount, 0);
   WatchState_free(&s);
   cleanup(dir, fd);
}

static void test_damaged_file_and_lock(void** state) {
   (void)state;
   char dir[] = "/tmp/stacktop-state-XXXXXX", err[512];
   int fd = openDir(dir);
   const char junk[] = "stacktop-state 1\nepisode nonsense\n";
   assert_int_equal(BundleDir_write(fd, "state", junk, sizeof(junk) - 1, err, sizeof(err)), 0);
   WatchState s;
   WatchState_init(&s, 3);
   assert_int_equal(WatchState_load(&s, fd, err, sizeof(err)), 1);
   assert_non_null(strstr(err, "is damaged"));
   assert_true(exists(fd, "state.corrupt") && !exists(fd, "state"));
   assert_int_equal(s.episodeCount, 0);
   WatchState_free(&s);
   /* Another process holds the lock for a moment: we wait for it. */
   int ready[2];
   assert_int_equal(pipe(ready), 0);
   pid_t child = fork();
   if (child == 0) {
      int l = WatchState_lock(fd, err, sizeof(err));
      char b = 1;
      (void)!write(ready[1], &b, 1);
      struct timespec ts = { 0, 300 * 1000 * 1000 };
      nanosleep(&ts, NULL);
      WatchState_unlock(l);
      _exit(0);
   }
   char b;
   assert_int_equal(read(ready[0], &b, 1), 1);
   double t0 = Util_monotonicSeconds();
   int lock = WatchState_lock(fd, err, sizeof(err));
   assert_true(lock >= 0);
   assert_true(Util_monotonicSeconds() - t0 > 0.1);
   WatchState_unlock(lock);
   waitpid(child, NULL, 0);
   cleanup(dir, fd);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_times_from_another_boot),
      cmocka_unit_test(test_prune_by_write_order),
      cmocka_unit_test(test_damaged_file_and_lock),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
