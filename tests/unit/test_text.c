/* Text: target-chosen strings lose every byte that could forge a line or
 * steer a terminal, and keep everything else (UTF-8 included). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Text.h"

static void test_controls_become_question_marks(void** state) {
   (void)state;
   char s[] = "a\nb\tc\x1b[2J\x7f\r\x07z";
   assert_false(Text_isSafe(s));
   Text_neutralise(s);
   assert_string_equal(s, "a?b?c?[2J???z");
   assert_true(Text_isSafe(s));
}

/* U+009B (CSI) encoded in UTF-8 is C2 9B: one '?' for the two bytes;
 * other UTF-8 (é, →, an emoji) passes unchanged. */
static void test_utf8_c1_controls_and_text(void** state) {
   (void)state;
   char s[] = "x\xc2\x9b"
              "31m caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x90\x9b \xc2\xa0";
   assert_false(Text_isSafe(s));
   Text_neutralise(s);
   assert_string_equal(s, "x?31m caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x90\x9b \xc2\xa0");
   assert_true(Text_isSafe(s));
   assert_true(Text_isSafe(""));
}

static void test_put_matches_neutralise(void** state) {
   (void)state;
   const char* in = "evil\n1 @ 0x2\xc2\x85tail\xc2";
   char* buf = NULL;
   size_t len = 0;
   FILE* f = open_memstream(&buf, &len);
   Text_put(in, f);
   fclose(f);
   char copy[64];
   strcpy(copy, in);
   Text_neutralise(copy);
   assert_string_equal(buf, copy);
   assert_string_equal(buf, "evil?1 @ 0x2?tail\xc2");
   free(buf);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_controls_become_question_marks),
      cmocka_unit_test(test_utf8_c1_controls_and_text),
      cmocka_unit_test(test_put_matches_neutralise),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
