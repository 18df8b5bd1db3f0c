/* Dispatch's pieces that `stacktop bundle` shares with the watcher: the
 * on-demand decision on a loaded state, bundle names without a watcher, and
 * the bundle_dir/.watching lock that says whether a watcher runs. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <cmocka.h>

#include "stacktop/Dispatch.h"
#include "stacktop/Rules.h"
#include "stacktop/WatchState.h"

static int tempDir(char* path, size_t size) {
   snprintf(path, size, "/tmp/stacktop-dispatch-XXXXXX");
   assert_non_null(mkdtemp(path));
   int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
   assert_true(fd >= 0);
   return fd;
}

static void removeDir(const char* path) {
   char cmd[256];
   snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
   assert_int_equal(system(cmd), 0);
}

/* The lock is free without a watcher, taken while one holds it shared. */
static void test_lock_unwatched(void** state) {
   (void)state;
   char path[64];
   int dirFd = tempDir(path, sizeof(path));
   int mine = Dispatch_lockUnwatched(dirFd);
   assert_true(mine >= 0);
   close(mine);

   int watcher = openat(dirFd, ".watching", O_RDONLY | O_CLOEXEC);
   assert_true(watcher >= 0);
   assert_int_equal(flock(watcher, LOCK_SH | LOCK_NB), 0);
   assert_int_equal(Dispatch_lockUnwatched(dirFd), -1);
   close(watcher);

   mine = Dispatch_lockUnwatched(dirFd);
   assert_true(mine >= 0);
   close(mine);
   close(dirFd);
   removeDir(path);
}

/* A name taken by a file in bundle_dir gets a -2. */
static void test_name_in_is_unique(void** state) {
   (void)state;
   char path[64], first[300], second[300], file[320];
   int dirFd = tempDir(path, sizeof(path));
   Dispatch_nameIn(dirFd, "hosta", "web", "on_demand", 1.8e9, first, sizeof(first));
   assert_non_null(strstr(first, "hosta-web-on_demand-"));
   snprintf(file, sizeof(file), "%s.tar.gz", first);
   int fd = openat(dirFd, file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
   assert_true(fd >= 0);
   close(fd);
   Dispatch_nameIn(dirFd, "hosta", "web", "on_demand", 1.8e9, second, sizeof(second));
   snprintf(file, sizeof(file), "%s-2", first);
   assert_string_equal(second, file);
   unlinkat(dirFd, first, 0);
   close(dirFd);
   removeDir(path);
}

/* Pending, then the cooldown, then the hourly cap refuse a request. */
static void test_decide_request(void** state) {
   (void)state;
   WatchState st;
   WatchState_init(&st, 2);
   assert_int_equal(Dispatch_decideRequest(&st, "web", 100, 60), RULE_ACTION_FIRE);
   assert_int_equal(Dispatch_decideRequest(&st, "web", 101, 60), RULE_ACTION_SUPPRESS_PENDING);
   Rules_bundled(WatchState_episode(&st, "web", RULE_ON_DEMAND), 102);
   assert_int_equal(Dispatch_decideRequest(&st, "web", 130, 60), RULE_ACTION_SUPPRESS_COOLDOWN);
   assert_int_equal(Dispatch_decideRequest(&st, "web", 200, 60), RULE_ACTION_FIRE);
   Rules_bundled(WatchState_episode(&st, "web", RULE_ON_DEMAND), 201);
   assert_int_equal(Dispatch_decideRequest(&st, "web", 300, 60), RULE_ACTION_SUPPRESS_CAP);
   /* A bundle of another rule of the service being written also refuses it. */
   WatchState_episode(&st, "db", RULE_CPU_ABOVE)->pending = true;
   assert_int_equal(Dispatch_decideRequest(&st, "db", 300, 60), RULE_ACTION_SUPPRESS_PENDING);
   WatchState_free(&st);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lock_unwatched),
      cmocka_unit_test(test_name_in_is_unique),
      cmocka_unit_test(test_decide_request),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
