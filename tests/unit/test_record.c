/* Record: fields and text round-trip; values are kept to one printable line;
 * a file edited, renamed, or signed under another key is FORGED; a missing
 * one MISSING; quarantine moves it aside. */
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
#include "stacktop/Record.h"

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

static void test_round_trip_and_tampering(void** state) {
   (void)state;
   char dir[] = "/tmp/stacktop-record-XXXXXX", err[512];
   int fd = openDir(dir);
   unsigned char key[BUNDLEDIR_KEY_BYTES] = { 1, 2, 3 }, other[BUNDLEDIR_KEY_BYTES] = { 9 };
   Record r;
   Record_init(&r, "test");
   Record_set(&r, "a", "one");
   Record_set(&r, "a", "two");
   Record_setf(&r, "n", "%d", 42);
   Record_set(&r, "evil", "line\nkey: injected\x1b[2J");
   Record_set(&r, "bad key!", "ignored");
   Record_replace(&r, "n", "43");
   Record_setBody(&r, "text\nwith lines\x07\n");
   assert_int_equal(Record_save(&r, fd, "x.rec", key, err, sizeof(err)), 0);
   Record_free(&r);
   Record back;
   assert_int_equal(Record_load(&back, fd, "x.rec", "test", key, err, sizeof(err)), RECORD_OK);
   assert_string_equal(Record_get(&back, "a"), "one");
   assert_string_equal(Record_get(&back, "n"), "43");
   assert_true(Record_getDouble(&back, "n", 0) == 43);
   assert_string_equal(Record_get(&back, "evil"), "line\\x0akey: injected\\x1b[2J");
   assert_null(Record_get(&back, "key"));
   assert_null(Record_get(&back, "bad key!"));
   assert_int_equal(back.count, 4);
   assert_string_equal(back.body, "text\nwith lines\\x07\n");
   Record_free(&back);
   /* Another kind, another key, a renamed file, an edited one: forged. */
   assert_int_equal(Record_load(&back, fd, "x.rec", "mail", key, err, sizeof(err)), RECORD_FORGED);
   Record_free(&back);
   assert_int_equal(Record_load(&back, fd, "x.rec", "test", other, err, sizeof(err)), RECORD_FORGED);
   Record_free(&back);
   assert_int_equal(renameat(fd, "x.rec", fd, "y.rec"), 0);
   assert_int_equal(Record_load(&back, fd, "y.rec", "test", key, err, sizeof(err)), RECORD_FORGED);
   Record_free(&back);
   assert_int_equal(renameat(fd, "y.rec", fd, "x.rec"), 0);
   int w = openat(fd, "x.rec", O_WRONLY | O_APPEND);
   assert_int_equal(write(w, "more", 4), 4);
   close(w);
   assert_int_equal(Record_load(&back, fd, "x.rec", "test", key, err, sizeof(err)), RECORD_FORGED);
   assert_non_null(strstr(err, "signature does not match"));
   Record_free(&back);
   assert_int_equal(Record_load(&back, fd, "none.rec", "test", key, err, sizeof(err)), RECORD_MISSING);
   Record_free(&back);
   assert_int_equal(Record_quarantine(fd, "x.rec"), 0);
   struct stat sb;
   assert_int_equal(fstatat(fd, "x.rec.quarantined", &sb, 0), 0);
   cleanup(dir, fd);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_and_tampering),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
