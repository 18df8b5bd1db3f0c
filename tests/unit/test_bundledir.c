/* BundleDir: system directories refused; a directory above bundle_dir that
 * another user owns or can write is refused; a looser bundle_dir is
 * tightened; files are read only when ours and regular; the record key is
 * made once, 0600, and refused when it is not ours; atomic writes. */
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

#include "stacktop/BundleDir.h"

static void test_check_path(void** state) {
   (void)state;
   char err[512];
   static const char* const bad[] = {
      "/",         "//",   "/etc",  "/etc/stacktop", "/usr/local/x",    "/proc/1", "/var/lib",
      "/var/lib/", "/tmp", "/home", "relative",      "/var/lib/../etc", "/a/./b"
   };
   for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
      if (BundleDir_checkPath(bad[i], err, sizeof(err)) == 0)
         fail_msg("'%s' accepted", bad[i]);
   }
   assert_int_equal(BundleDir_checkPath("/var/lib/stacktop/bundles", err, sizeof(err)), 0);
   assert_int_equal(BundleDir_checkPath("/tmp/stacktop-x", err, sizeof(err)), 0);
   assert_int_equal(BundleDir_checkPath("/srv/stacktop", err, sizeof(err)), 0);
}

static void run(const char* fmt, const char* arg) {
   char cmd[512];
   snprintf(cmd, sizeof(cmd), fmt, arg);
   assert_int_equal(system(cmd), 0);
}

static void test_open_checks_owners_and_modes(void** state) {
   (void)state;
   char top[] = "/tmp/stacktop-bdir-XXXXXX", path[256], err[768];
   assert_non_null(mkdtemp(top));
   chmod(top, 0755);
   snprintf(path, sizeof(path), "%s/b", top);
   int fd = BundleDir_open(path, true, err, sizeof(err));
   assert_true(fd >= 0);
   close(fd);
   /* Loose: tightened through the fd. */
   chmod(path, 0755);
   fd = BundleDir_open(path, false, err, sizeof(err));
   assert_true(fd >= 0);
   struct stat sb;
   assert_int_equal(fstat(fd, &sb), 0);
   assert_int_equal(sb.st_mode & 0777, 0700);
   close(fd);
   /* A parent another user can write, or owns: refused. */
   chmod(top, 0777);
   assert_int_equal(BundleDir_open(path, false, err, sizeof(err)), -1);
   assert_non_null(strstr(err, "writable by other users"));
   chmod(top, 0755);
   assert_int_equal(chown(top, 65534, 65534), 0);
   assert_int_equal(BundleDir_open(path, false, err, sizeof(err)), -1);
   assert_non_null(strstr(err, "is owned by uid 65534"));
   assert_int_equal(chown(top, 0, 0), 0);
   /* bundle_dir itself another user's: refused. */
   assert_int_equal(chown(path, 65534, 65534), 0);
   assert_int_equal(BundleDir_open(path, false, err, sizeof(err)), -1);
   assert_non_null(strstr(err, "owned by uid 65534, not by uid 0"));
   assert_int_equal(chown(path, 0, 0), 0);
   /* A symbolic link as bundle_dir: refused, even root's. */
   char link[300];
   snprintf(link, sizeof(link), "%s/l", top);
   assert_int_equal(symlink(path, link), 0);
   assert_int_equal(BundleDir_open(link, false, err, sizeof(err)), -1);
   assert_non_null(strstr(err, "symbolic link"));
   run("rm -rf %s", top);
}

static void test_files_and_key(void** state) {
   (void)state;
   char top[] = "/tmp/stacktop-bdir-XXXXXX", err[768];
   assert_non_null(mkdtemp(top));
   int fd = BundleDir_open(top, false, err, sizeof(err));
   assert_true(fd >= 0);
   assert_int_equal(BundleDir_write(fd, "a.txt", "hello", 5, err, sizeof(err)), 0);
   size_t len;
   char* text = BundleDir_read(fd, "a.txt", 100, &len);
   assert_string_equal(text, "hello");
   free(text);
   /* Not ours, or not a regular file: not read. */
   int other = openat(fd, "theirs", O_CREAT | O_WRONLY, 0600);
   close(other);
   assert_int_equal(fchownat(fd, "theirs", 65534, 65534, 0), 0);
   assert_null(BundleDir_read(fd, "theirs", 100, &len));
   assert_int_equal(errno, EPERM);
   assert_int_equal(symlinkat("a.txt", fd, "link"), 0);
   assert_null(BundleDir_read(fd, "link", 100, &len));
   assert_null(BundleDir_read(fd, "../x", 100, &len));
   assert_int_equal(BundleDir_remove(fd, "theirs"), -1);
   /* The key: made once, read back the same, 0600. */
   unsigned char k1[BUNDLEDIR_KEY_BYTES], k2[BUNDLEDIR_KEY_BYTES];
   assert_int_equal(BundleDir_key(fd, k1, err, sizeof(err)), 0);
   assert_int_equal(BundleDir_key(fd, k2, err, sizeof(err)), 0);
   assert_memory_equal(k1, k2, sizeof(k1));
   struct stat sb;
   assert_int_equal(fstatat(fd, ".key", &sb, 0), 0);
   assert_int_equal(sb.st_mode & 0777, 0600);
   fchmodat(fd, ".key", 0644, 0);
   assert_int_equal(BundleDir_key(fd, k2, err, sizeof(err)), -1);
   assert_non_null(strstr(err, "not a private 32-byte file"));
   size_t n;
   char** names = BundleDir_list(fd, ".txt", &n);
   assert_int_equal(n, 1);
   assert_string_equal(names[0], "a.txt");
   free(names[0]);
   free(names);
   close(fd);
   run("rm -rf %s", top);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_check_path),
      cmocka_unit_test(test_open_checks_owners_and_modes),
      cmocka_unit_test(test_files_and_key),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
