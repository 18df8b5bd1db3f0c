/* FlameSvg: box geometry (widths proportional to counts, stacks merged from
 * the root, children by name, root at the bottom), hover titles, text cut
 * to its box, deterministic output, and a hostile name and path that end up
 * as escaped, valid UTF-8 XML text without control bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/FlameSvg.h"

static char* render(const FlameSvg* svg) {
   char* buf = NULL;
   size_t len = 0;
   FILE* out = open_memstream(&buf, &len);
   FlameSvg_write(svg, "title", "subtitle", out);
   fclose(out);
   return buf;
}

static void add(FlameSvg* svg, const char* a, const char* b, uint64_t count, int line) {
   FlameFrame frames[] = { { .name = a, .file = "f.c", .line = 1 }, { .name = b, .file = "f.c", .line = line } };
   FlameSvg_add(svg, frames, b ? 2 : 1, count);
}

typedef struct Box {
   double x, y, width;
   char title[512];
   char text[256]; /* "" when the box has no text */
} Box;

/* The box whose title starts with "NAME (". */
static Box findBox(const char* doc, const char* name) {
   char key[300];
   snprintf(key, sizeof(key), "<g><title>%s (", name);
   const char* g = strstr(doc, key);
   if (!g)
      fail_msg("no box for %s in:\n%s", name, doc);
   Box b = { 0 };
   const char* t = g + strlen("<g><title>");
   const char* end = strstr(t, "</title>");
   assert_non_null(end);
   snprintf(b.title, sizeof(b.title), "%.*s", (int)(end - t), t);
   assert_int_equal(sscanf(end, "</title><svg x=\"%lf\" y=\"%lf\" width=\"%lf\"", &b.x, &b.y, &b.width), 3);
   const char* close = strstr(end, "</g>");
   const char* text = strstr(end, "<text");
   if (text && text < close) {
      text = strchr(text, '>') + 1;
      snprintf(b.text, sizeof(b.text), "%.*s", (int)(strstr(text, "</text>") - text), text);
   }
   return b;
}

static void test_widths_follow_counts(void** state) {
   (void)state;
   FlameSvg* svg = FlameSvg_new("app", "threads");
   add(svg, "a", "c", 1, 20);
   add(svg, "a", "b", 3, 10);
   char* doc = render(svg);
   Box root = findBox(doc, "app"), a = findBox(doc, "a"), b = findBox(doc, "b"), c = findBox(doc, "c");
   /* 1200 pixels less 10 on each side for 4 threads */
   assert_float_equal(root.width, 1180.0, 0.005);
   assert_float_equal(a.width, 1180.0, 0.005);
   assert_float_equal(b.width, 885.0, 0.005);
   assert_float_equal(c.width, 295.0, 0.005);
   /* children by name: b left of c, whatever the order they came in */
   assert_float_equal(root.x, 10.0, 0.005);
   assert_float_equal(b.x, 10.0, 0.005);
   assert_float_equal(c.x, 895.0, 0.005);
   /* the root at the bottom, each level 16 pixels higher */
   assert_true(root.y > a.y && a.y > b.y);
   assert_float_equal(root.y - a.y, 16.0, 0.05);
   assert_float_equal(b.y, c.y, 0.05);
   assert_string_equal(root.title, "app (4 threads, 100.00%)");
   assert_string_equal(b.title, "b (3 threads, 75.00%)\nf.c:10");
   assert_string_equal(c.title, "c (1 threads, 25.00%)\nf.c:20");
   assert_string_equal(b.text, "b");
   free(doc);
   FlameSvg_free(svg);
}

/* A function reached from several call sites lists each with its count. */
static void test_title_lists_call_sites(void** state) {
   (void)state;
   FlameSvg* svg = FlameSvg_new("app", "goroutines");
   add(svg, "a", "b", 5, 10);
   add(svg, "a", "b", 2, 11);
   char* doc = render(svg);
   Box b = findBox(doc, "b");
   assert_string_equal(b.title, "b (7 goroutines, 100.00%)\nf.c:10 (5)\nf.c:11 (2)");
   free(doc);
   FlameSvg_free(svg);
}

/* Text that would overflow its box is cut with ".."; too narrow a box has none. */
static void test_text_fits_its_box(void** state) {
   (void)state;
   FlameSvg* svg = FlameSvg_new("app", "threads");
   const char* longName = "a_very_long_function_name_that_cannot_fit_in_a_narrow_box";
   add(svg, longName, NULL, 3, 0);
   add(svg, "z", NULL, 100, 0);
   add(svg, "tiny", NULL, 1, 0);
   char* doc = render(svg);
   Box l = findBox(doc, longName), t = findBox(doc, "tiny");
   size_t fits = (size_t)((l.width - 3) / (12 * 0.62));
   assert_true(strlen(l.text) <= fits);
   assert_true(strlen(l.text) >= 3);
   assert_memory_equal(l.text + strlen(l.text) - 2, "..", 2);
   assert_memory_equal(l.text, longName, strlen(l.text) - 2);
   assert_true(t.width < 3 * 12 * 0.62);
   assert_string_equal(t.text, "");
   free(doc);
   FlameSvg_free(svg);
}

static void test_deterministic(void** state) {
   (void)state;
   FlameSvg* one = FlameSvg_new("app", "threads");
   FlameSvg* two = FlameSvg_new("app", "threads");
   add(one, "a", "b", 3, 1);
   add(one, "x", "y", 2, 1);
   add(two, "x", "y", 2, 1);
   add(two, "a", "b", 3, 1);
   char* d1 = render(one);
   char* d2 = render(two);
   assert_string_equal(d1, d2);
   free(d1);
   free(d2);
   FlameSvg_free(one);
   FlameSvg_free(two);
}

/* A stack too thin to draw is counted below the graph, with its frames. */
static void test_thin_frames_are_counted(void** state) {
   (void)state;
   FlameSvg* svg = FlameSvg_new("app", "threads");
   add(svg, "big", NULL, 100000, 0);
   add(svg, "thin", "thinner", 1, 0);
   char* doc = render(svg);
   assert_null(strstr(doc, "<title>thin"));
   assert_non_null(strstr(doc, "2 frames narrower than 0.1 pixel not drawn"));
   free(doc);
   FlameSvg_free(svg);
}

/* Valid UTF-8, and no byte XML 1.0 forbids (controls but \n), no C1. */
static void assert_clean_xml_text(const char* doc) {
   const unsigned char* p = (const unsigned char*)doc;
   while (*p) {
      if (*p < 0x80) {
         assert_true(*p >= 0x20 || *p == '\n');
         assert_true(*p != 0x7f);
         p++;
         continue;
      }
      size_t len = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
      assert_true(*p >= 0xc2 && *p <= 0xf4);
      uint32_t cp = *p & (0x7f >> len);
      for (size_t i = 1; i < len; i++) {
         assert_int_equal(p[i] & 0xc0, 0x80);
         cp = cp << 6 | (p[i] & 0x3f);
      }
      assert_false(cp >= 0x80 && cp <= 0x9f);
      assert_false(cp >= 0xd800 && cp <= 0xdfff);
      assert_false(cp == 0xfffe || cp == 0xffff);
      p += len;
   }
}

static void test_hostile_names_are_escaped(void** state) {
   (void)state;
   /* markup, quotes, a terminal title escape, a C1 CSI, a lone byte, an
    * overlong '/', a UTF-16 surrogate and U+FFFF, then a real é */
   const char* evil = "<script>alert(1)</script>&\"'\x1b]0;pwn\x07\xc2\x9b\xff\xc0\xaf\xed\xa0\x80\xef\xbf\xbf"
                      "caf\xc3\xa9";
   FlameFrame frames[] = { { .name = evil, .file = "/tmp/<x>&\n.c", .line = 3 } };
   FlameSvg* svg = FlameSvg_new("comm\x1b[31m<", "threads");
   FlameSvg_add(svg, frames, 1, 2);
   char* buf = NULL;
   size_t len = 0;
   FILE* out = open_memstream(&buf, &len);
   FlameSvg_write(svg, "pid 1 (</text>)", NULL, out);
   fclose(out);
   assert_clean_xml_text(buf);
   assert_null(strstr(buf, "<script"));
   assert_null(strstr(buf, "</text>)"));
   /* unsafe bytes show as \xHH (Printable); U+FFFF, valid UTF-8 but not
    * allowed in XML, as ? (Utf8) */
   assert_non_null(strstr(buf, "<title>&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&apos;\\x1b]0;pwn\\x07"
                               "\\xc2\\x9b\\xff\\xc0\\xaf\\xed\\xa0\\x80???caf\xc3\xa9 (2 threads, 100.00%)\n"
                               "/tmp/&lt;x&gt;&amp;\\x0a.c:3</title>"));
   assert_non_null(strstr(buf, "<title>comm\\x1b[31m&lt; (2 threads"));
   assert_non_null(strstr(buf, ">pid 1 (&lt;/text&gt;)</text>"));
   free(buf);
   FlameSvg_free(svg);
}

/* Deep stacks are drawn and freed without recursion. */
static void test_deep_stack(void** state) {
   (void)state;
   enum { DEPTH = 20000 };
   FlameFrame* frames = calloc(DEPTH, sizeof(FlameFrame));
   char(*names)[16] = calloc(DEPTH, 16);
   for (int i = 0; i < DEPTH; i++) {
      snprintf(names[i], 16, "f%d", i);
      frames[i] = (FlameFrame){ .name = names[i] };
   }
   FlameSvg* svg = FlameSvg_new("app", "threads");
   FlameSvg_add(svg, frames, DEPTH, 1);
   char* doc = render(svg);
   Box last = findBox(doc, "f19999");
   assert_float_equal(last.width, 1180.0, 0.005);
   free(doc);
   FlameSvg_free(svg);
   free(names);
   free(frames);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_widths_follow_counts),
      cmocka_unit_test(test_title_lists_call_sites),
      cmocka_unit_test(test_text_fits_its_box),
      cmocka_unit_test(test_deterministic),
      cmocka_unit_test(test_thin_frames_are_counted),
      cmocka_unit_test(test_hostile_names_are_escaped),
      cmocka_unit_test(test_deep_stack),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
