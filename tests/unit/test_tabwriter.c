/* Tabwriter: Go's text/tabwriter with pprof's settings (minwidth 1,
 * tabwidth 8, padding 1, padchar '\t'). Expected outputs were produced by
 * Go 1.19's text/tabwriter for the same input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Tabwriter.h"

static char* formatted(const char* in) {
   char* buf = NULL;
   size_t len = 0;
   FILE* f = open_memstream(&buf, &len);
   assert_non_null(f);
   Tabwriter_write(in, strlen(in), f);
   fclose(f);
   return buf;
}

static void check(const char* in, const char* want) {
   char* got = formatted(in);
   assert_string_equal(got, want);
   free(got);
}

static void test_single_frame_keeps_single_tabs(void** state) {
   (void)state;
   const char* in = "goroutine profile: total 254\n"
                    "200 @ 0x43a416 0x44ae9c 0x4b4bbb 0x466fe1\n"
                    "#\t0x4b4bba\tmain.waitOnChan+0x1a\t/tmp/gop/main.go:10\n"
                    "\n";
   check(in, in);
}

static void test_column_widths_rounded_to_tab_stops(void** state) {
   (void)state;
   /* Column 2: widest cell 24 + 1 padding = 25 -> 32; "main.a+0x1" (10) needs 22 -> 3 tabs. */
   check("1 @ 0x1 0x2\n"
         "#\t0x4b4bba\tmain.a+0x1\t/a.go:1\n"
         "#\t0x4b4bbb\tmain.longerfunction+0x1a\t/b.go:2\n"
         "\n",
         "1 @ 0x1 0x2\n"
         "#\t0x4b4bba\tmain.a+0x1\t\t\t/a.go:1\n"
         "#\t0x4b4bbb\tmain.longerfunction+0x1a\t/b.go:2\n"
         "\n");
}

static void test_exact_multiple_of_eight_needs_a_tab(void** state) {
   (void)state;
   /* A 15-byte cell: 15 + 1 = 16, one tab; a 16-byte cell: 17 -> 24, one tab (8 columns). */
   check("#\t0123456789abcde\tx\n"
         "#\t0123456789abcdef\ty\n",
         "#\t0123456789abcde\t\tx\n"
         "#\t0123456789abcdef\ty\n");
}

static void test_line_without_tab_ends_blocks(void** state) {
   (void)state;
   /* Each record is aligned on its own: the count line flushes. */
   check("1 @ 0x1\n"
         "#\t0x1\tshort+0x1\tf:1\n"
         "\n"
         "1 @ 0x2\n"
         "#\t0x2\tvery.long.function.name+0x10\tf:2\n"
         "\n",
         "1 @ 0x1\n"
         "#\t0x1\tshort+0x1\tf:1\n"
         "\n"
         "1 @ 0x2\n"
         "#\t0x2\tvery.long.function.name+0x10\tf:2\n"
         "\n");
}

static void test_unknown_frame_splits_the_function_column(void** state) {
   (void)state;
   /* "#\t0x5" terminates only column 0: columns 1 and 2 form two blocks. */
   check("#\t0x1\tlonger.function.name+0x1\tf:1\n"
         "#\t0x5\n"
         "#\t0x2\tb+0x2\tf:2\n",
         "#\t0x1\tlonger.function.name+0x1\tf:1\n"
         "#\t0x5\n"
         "#\t0x2\tb+0x2\tf:2\n");
}

static void test_utf8_counts_code_points(void** state) {
   (void)state;
   /* "héllo" is 5 code points (6 bytes): 5 + 1 = 6 -> 8, one tab, like "abcde". */
   check("#\th\xc3\xa9llo\tx\n"
         "#\tabcdefghij\ty\n",
         "#\th\xc3\xa9llo\t\tx\n"
         "#\tabcdefghij\ty\n");
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_single_frame_keeps_single_tabs),
      cmocka_unit_test(test_column_widths_rounded_to_tab_stops),
      cmocka_unit_test(test_exact_multiple_of_eight_needs_a_tab),
      cmocka_unit_test(test_line_without_tab_ends_blocks),
      cmocka_unit_test(test_unknown_frame_splits_the_function_column),
      cmocka_unit_test(test_utf8_counts_code_points),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
