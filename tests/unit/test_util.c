/* Util: formatting that says when it cut, strdup of NULL, pid parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "stacktop/Util.h"

static void test_format_fits_or_says_it_was_cut(void** state) {
   (void)state;
   char buf[12];
   assert_true(Util_format(buf, sizeof(buf), "pid %d", 42));
   assert_string_equal(buf, "pid 42");
   assert_true(Util_format(buf, sizeof(buf), "%s", "12345678901")); /* exactly full */
   assert_false(Util_format(buf, sizeof(buf), "%s", "a message that is too long"));
   assert_string_equal(buf, "a messag..."); /* cut, and visibly so */
   assert_int_equal(strlen(buf), sizeof(buf) - 1);
   char tiny[3];
   assert_false(Util_format(tiny, sizeof(tiny), "%s", "abc"));
   assert_string_equal(tiny, "ab");
   assert_false(Util_format(tiny, 0, "x"));
}

static void test_xstrdup_null(void** state) {
   (void)state;
   char* s = Util_xstrdup(NULL);
   assert_string_equal(s, "");
   free(s);
}

static void test_parse_pid(void** state) {
   (void)state;
   pid_t pid;
   assert_int_equal(Util_parsePid("1234", &pid), 0);
   assert_int_equal(pid, 1234);
   assert_int_equal(Util_parsePid("0", &pid), -1);
   assert_int_equal(Util_parsePid("-1", &pid), -1);
   assert_int_equal(Util_parsePid("12a", &pid), -1);
   assert_int_equal(Util_parsePid("99999999999", &pid), -1);
   assert_int_equal(Util_parsePid("", &pid), -1);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_format_fits_or_says_it_was_cut),
      cmocka_unit_test(test_xstrdup_null),
      cmocka_unit_test(test_parse_pid),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
