/* Utf8: strict decoding (what protobuf and XML readers accept) and the
 * in-place repair of everything else, byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "stacktop/Utf8.h"

static void test_valid_sequences(void** state) {
   (void)state;
   static const struct {
      const char* s;
      size_t len;
      uint32_t cp;
   } cases[] = {
      { "a", 1, 'a' },
      { "\x7f", 1, 0x7f },
      { "\xc2\x80", 2, 0x80 },
      { "\xc3\xa9", 2, 0xe9 },
      { "\xdf\xbf", 2, 0x7ff },
      { "\xe0\xa0\x80", 3, 0x800 },
      { "\xe2\x86\x92", 3, 0x2192 },
      { "\xed\x9f\xbf", 3, 0xd7ff },
      { "\xee\x80\x80", 3, 0xe000 },
      { "\xef\xbf\xbf", 3, 0xffff },
      { "\xf0\x90\x80\x80", 4, 0x10000 },
      { "\xf4\x8f\xbf\xbf", 4, 0x10ffff },
   };
   for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
      uint32_t cp = 0;
      assert_int_equal(Utf8_charAt(cases[i].s, &cp), cases[i].len);
      assert_int_equal(cp, cases[i].cp);
   }
}

static void test_invalid_sequences(void** state) {
   (void)state;
   static const char* const cases[] = {
      "",                 /* the end */
      "\x80",             /* a continuation byte alone */
      "\xc0\xaf",         /* overlong '/' */
      "\xc1\xbf",         /* overlong */
      "\xe0\x9f\xbf",     /* overlong three-byte form */
      "\xf0\x8f\xbf\xbf", /* overlong four-byte form */
      "\xed\xa0\x80",     /* a UTF-16 surrogate */
      "\xed\xbf\xbf",     /* another */
      "\xf4\x90\x80\x80", /* past U+10FFFF */
      "\xf5\x80\x80\x80", /* a lead byte that cannot start anything */
      "\xff",
      "\xc3",      /* truncated by the end */
      "\xe2\x86",  /* truncated */
      "\xe2(\x92", /* a non-continuation inside */
   };
   for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
      uint32_t cp;
      assert_int_equal(Utf8_charAt(cases[i], &cp), 0);
   }
}

static void test_sanitize(void** state) {
   (void)state;
   char s[] = "ok caf\xc3\xa9 \xff\xc0\xaf \xed\xa0\x80 \xe2\x86\x92 tail\xe2\x86";
   Utf8_sanitize(s);
   assert_string_equal(s, "ok caf\xc3\xa9 ??? ??? \xe2\x86\x92 tail??");
   char empty[] = "";
   Utf8_sanitize(empty);
   assert_string_equal(empty, "");
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_sequences),
      cmocka_unit_test(test_invalid_sequences),
      cmocka_unit_test(test_sanitize),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
