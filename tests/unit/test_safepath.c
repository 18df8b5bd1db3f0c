/* SafePath: components walked without following a link another user could
 * have placed; root's links in root-only directories are followed; the last
 * component never is; '.' and '..' are refused; the visitor sees every step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stacktop/SafePath.h"

typedef struct Seen_ {
   int steps;
   bool lastSeen;
} Seen;

static int count(void* ctx, const char* path, const struct stat* sb, bool last, char* err, size_t errSize) {
   (void)path;
   (void)sb;
   (void)err;
   (void)errSize;
   Seen* s = ctx;
   s->steps++;
   s->lastSeen = s->lastSeen || last;
   return 0;
}

static void test_links(void** state) {
   (void)state;
   char dir[] = "/tmp/stacktop-safepath-XXXXXX", path[512], target[256], link[256], err[512];
   assert_non_null(mkdtemp(dir));
   chmod(dir, 0755);
   snprintf(target, sizeof(target), "%s/real", dir);
   assert_int_equal(mkdir(target, 0755), 0);
   snprintf(path, sizeof(path), "%s/file", target);
   int fd = open(path, O_CREAT | O_WRONLY, 0644);
   assert_true(fd >= 0);
   close(fd);
   /* root's link in a directory only root can write: followed (like /var/run). */
   snprintf(link, sizeof(link), "%s/alias", dir);
   assert_int_equal(symlink("real", link), 0);
   snprintf(path, sizeof(path), "%s/alias/file", dir);
   Seen seen = { 0 };
   fd = SafePath_open(path, O_RDONLY, false, count, &seen, err, sizeof(err));
   if (fd < 0)
      fail_msg("%s", err);
   close(fd);
   assert_true(seen.lastSeen && seen.steps >= 4);
   /* The last component is never followed. */
   snprintf(path, sizeof(path), "%s/lastlink", dir);
   assert_int_equal(symlink("real/file", path), 0);
   assert_int_equal(SafePath_open(path, O_RDONLY, false, NULL, NULL, err, sizeof(err)), -1);
   assert_non_null(strstr(err, "is a symbolic link"));
   /* A link owned by another user is not followed. */
   assert_int_equal(lchown(link, 65534, 65534), 0);
   snprintf(path, sizeof(path), "%s/alias/file", dir);
   assert_int_equal(SafePath_open(path, O_RDONLY, false, NULL, NULL, err, sizeof(err)), -1);
   assert_non_null(strstr(err, "a user other than root could have placed"));
   /* Nor root's link in a directory others can write. */
   assert_int_equal(lchown(link, 0, 0), 0);
   chmod(dir, 0777);
   assert_int_equal(SafePath_open(path, O_RDONLY, false, NULL, NULL, err, sizeof(err)), -1);
   chmod(dir, 0755);
   /* '..' and relative paths are refused. */
   snprintf(path, sizeof(path), "%s/real/../real/file", dir);
   assert_int_equal(SafePath_open(path, O_RDONLY, false, NULL, NULL, err, sizeof(err)), -1);
   assert_int_equal(SafePath_open("tmp/x", O_RDONLY, false, NULL, NULL, err, sizeof(err)), -1);
   char cmd[300];
   snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
   assert_int_equal(system(cmd), 0);
}

static int refuseLast(void* ctx, const char* path, const struct stat* sb, bool last, char* err, size_t errSize) {
   (void)ctx;
   (void)sb;
   if (!last)
      return 0;
   snprintf(err, errSize, "no to %s", path);
   return -1;
}

static void test_visitor_refusal_and_mkdirs(void** state) {
   (void)state;
   char dir[] = "/tmp/stacktop-safepath-XXXXXX", path[256], err[512];
   assert_non_null(mkdtemp(dir));
   snprintf(path, sizeof(path), "%s/a/b/c", dir);
   int fd = SafePath_open(path, O_RDONLY | O_DIRECTORY, true, NULL, NULL, err, sizeof(err));
   assert_true(fd >= 0);
   struct stat sb;
   assert_int_equal(fstat(fd, &sb), 0);
   assert_int_equal(sb.st_mode & 0777, 0700); /* the last one private, the parents 0755 less umask */
   close(fd);
   assert_int_equal(SafePath_open(path, O_RDONLY | O_DIRECTORY, false, refuseLast, NULL, err, sizeof(err)), -1);
   assert_non_null(strstr(err, "no to "));
   assert_true(SafePath_othersCanWrite(&(struct stat){ .st_mode = S_IFDIR | 0777 }));
   assert_false(SafePath_othersCanWrite(&(struct stat){ .st_mode = S_IFDIR | 01777 }));
   assert_false(SafePath_othersCanWrite(&(struct stat){ .st_mode = S_IFDIR | 0755 }));
   char cmd[300];
   snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
   assert_int_equal(system(cmd), 0);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_links),
      cmocka_unit_test(test_visitor_refusal_and_mkdirs),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
