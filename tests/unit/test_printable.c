/* Printable: control bytes, C1, invalid UTF-8 and bidi overrides become
 * visible escapes; valid text passes; escapes are never cut in half. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "stacktop/Printable.h"

static void test_plain_text_passes(void** state) {
   (void)state;
   char out[64];
   assert_string_equal(Printable_copy(out, sizeof(out), "nginx: worker"), "nginx: worker");
   assert_string_equal(Printable_copy(out, sizeof(out), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3"),
                       "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3");
   assert_true(Printable_is("plain"));
   assert_string_equal(Printable_copy(out, sizeof(out), NULL), "");
}

static void test_controls_are_escaped(void** state) {
   (void)state;
   char out[128];
   assert_string_equal(Printable_copy(out, sizeof(out), "\x1b[31mred\nline\ttab\r\x7f"),
                       "\\x1b[31mred\\x0aline\\x09tab\\x0d\\x7f");
   assert_false(Printable_is("a\nb"));
   /* C1 controls, raw (CSI 0x9b) and UTF-8 encoded (U+009B). */
   assert_string_equal(Printable_copy(out, sizeof(out),
                                      "a\x9b"
                                      "b\xc2\x9b"
                                      "c"),
                       "a\\x9bb\\xc2\\x9bc");
   /* Bidi override U+202E and line separator U+2028. */
   assert_string_equal(Printable_copy(out, sizeof(out), "x\xe2\x80\xaey\xe2\x80\xa8"),
                       "x\\xe2\\x80\\xaey\\xe2\\x80\\xa8");
}

static void test_invalid_utf8_is_escaped(void** state) {
   (void)state;
   char out[128];
   /* Truncated sequence, lone continuation, overlong '/', surrogate, > U+10FFFF. */
   assert_string_equal(Printable_copy(out, sizeof(out), "\xc3"), "\\xc3");
   assert_string_equal(Printable_copy(out, sizeof(out), "\x80z"), "\\x80z");
   assert_string_equal(Printable_copy(out, sizeof(out), "\xc0\xaf"), "\\xc0\\xaf");
   assert_string_equal(Printable_copy(out, sizeof(out), "\xed\xa0\x80"), "\\xed\\xa0\\x80");
   assert_string_equal(Printable_copy(out, sizeof(out), "\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
}

static void test_truncation_keeps_whole_escapes(void** state) {
   (void)state;
   char out[7];
   /* "ab" + "\x1b" would need 6 + NUL = 7: fits; one more byte does not. */
   assert_string_equal(Printable_copy(out, sizeof(out), "ab\x1b"), "ab\\x1b");
   assert_string_equal(Printable_copy(out, sizeof(out), "abc\x1b"), "abc");
   char small[4];
   assert_string_equal(Printable_copy(small, sizeof(small), "\xe2\x82\xac\xe2\x82\xac"), "\xe2\x82\xac");
}

static void test_text_keeps_lines_and_escapes_nul(void** state) {
   (void)state;
   static const char in[] = "Name:\tx\x1b\nrest\0more\n";
   size_t len;
   char* out = Printable_text(in, sizeof(in) - 1, true, &len);
   assert_string_equal(out, "Name:\tx\\x1b\nrest\\x00more\n");
   assert_int_equal(len, strlen(out));
   free(out);
   out = Printable_dup("a\nb");
   assert_string_equal(out, "a\\x0ab");
   free(out);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plain_text_passes),
      cmocka_unit_test(test_controls_are_escaped),
      cmocka_unit_test(test_invalid_utf8_is_escaped),
      cmocka_unit_test(test_truncation_keeps_whole_escapes),
      cmocka_unit_test(test_text_keeps_lines_and_escapes_nul),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
