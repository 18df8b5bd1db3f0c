/* Draw: what reaches the terminal from a (hostile) string: controls and
 * invalid UTF-8 neutralised, wide characters at their real width, cut by
 * cells (with a horizontal offset) without splitting a character. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <locale.h>
#include <string.h>

#include "stacktop/Draw.h"

static int setUtf8(void** state) {
   (void)state;
   return setlocale(LC_ALL, "C.UTF-8") ? 0 : -1;
}

static void test_wide_characters_take_two_cells(void** state) {
   (void)state;
   /* The process name of the issue: four CJK characters, eight cells. */
   assert_int_equal(Draw_cells("睡眠进程"), 8);
   assert_int_equal(Draw_cells("abc"), 3);
   assert_int_equal(Draw_cells("Λx"), 2);
   char out[64];
   assert_int_equal(Draw_neutralise("睡眠进程", 0, 8, out, sizeof(out)), 8);
   assert_string_equal(out, "睡眠进程");
   /* Cut at 5 cells: two whole characters and a space for the half one. */
   assert_int_equal(Draw_neutralise("睡眠进程", 0, 5, out, sizeof(out)), 5);
   assert_string_equal(out, "睡眠 ");
   /* Scrolled by one cell: the cut first character is a space. */
   assert_int_equal(Draw_neutralise("睡眠进程", 1, 4, out, sizeof(out)), 4);
   assert_string_equal(out, " 眠 ");
   assert_int_equal(Draw_neutralise("abcdef", 2, 3, out, sizeof(out)), 3);
   assert_string_equal(out, "cde");
   assert_int_equal(Draw_neutralise("abc", 5, 3, out, sizeof(out)), 0);
   assert_string_equal(out, "");
}

static void test_controls_and_bad_bytes_become_question_marks(void** state) {
   (void)state;
   char out[128];
   /* C0 (ESC, BEL, newline, tab), DEL, a UTF-8 encoded C1 (CSI), a lone
    * continuation byte, a truncated sequence (a ? per byte), a bidi override. */
   const char* hostile = "x\x1b]0;pwned\x07\n\t\x7f\xc2\x9b"
                         "31m\x80\xe4\xb8"
                         "\xe2\x80\xae"
                         "y";
   int cells = Draw_neutralise(hostile, 0, 100, out, sizeof(out));
   assert_string_equal(out, "x?]0;pwned?????31m????y");
   assert_int_equal(cells, (int)strlen(out));
   assert_int_equal(Draw_cells(hostile), cells);
   for (const char* p = out; *p; p++)
      assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

static void test_small_buffers_and_zero_width(void** state) {
   (void)state;
   char out[5];
   Draw_neutralise("睡眠进程", 0, 8, out, sizeof(out));
   assert_string_equal(out, "睡"); /* the next one does not fit: never half a character */
   char none[1];
   assert_int_equal(Draw_neutralise("abc", 0, 3, none, sizeof(none)), 0);
   assert_string_equal(none, "");
   char big[16];
   assert_int_equal(Draw_neutralise("abc", 0, 0, big, sizeof(big)), 0);
   assert_string_equal(big, "");
}

/* Without a UTF-8 locale every non-ASCII byte is one '?'. */
static void test_non_utf8_locale(void** state) {
   (void)state;
   setlocale(LC_ALL, "C");
   char out[64];
   Draw_neutralise("a睡b", 0, 20, out, sizeof(out));
   assert_string_equal(out, "a???b");
   setlocale(LC_ALL, "C.UTF-8");
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wide_characters_take_two_cells),
      cmocka_unit_test(test_controls_and_bad_bytes_become_question_marks),
      cmocka_unit_test(test_small_buffers_and_zero_width),
      cmocka_unit_test(test_non_utf8_locale),
   };
   return cmocka_run_group_tests(tests, setUtf8, NULL);
}
