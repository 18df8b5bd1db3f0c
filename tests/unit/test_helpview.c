/* HelpView: the help text is generated from the key table and lists every
 * binding's key under its scope's title. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/HelpView.h"
#include "stacktop/KeyMap.h"

/* The help as one string, titles marked with '='. */
static char* helpText(void) {
   size_t n = HelpView_lineCount();
   char* all = calloc(n, 260);
   assert_non_null(all);
   for (size_t i = 0; i < n; i++) {
      char line[256];
      int title = 0;
      HelpView_line(i, line, sizeof(line), &title);
      strcat(all, title ? "=" : "");
      strcat(all, line);
      strcat(all, "\n");
   }
   return all;
}

static void test_every_binding_listed(void** state) {
   (void)state;
   char* all = helpText();
   for (size_t i = 0; i < KeyMap_count(); i++) {
      const KeyBinding* b = KeyMap_at(i);
      /* Find the scope's section, then the binding's help line inside it. */
      char title[128];
      snprintf(title, sizeof(title), "=%s\n", KeyMap_scopeTitle(b->scope));
      const char* section = strstr(all, title);
      assert_non_null(section);
      const char* end = strstr(section + 1, "\n=");
      const char* line = strstr(section, b->help);
      if (!line || (end && line > end))
         fail_msg("'%s' missing from the help section %s", b->help, title);
      const char* lineStart = line;
      while (lineStart > section && lineStart[-1] != '\n')
         lineStart--;
      char needle[40];
      snprintf(needle, sizeof(needle), " %s ", b->keyName);
      char head[256];
      snprintf(head, sizeof(head), " %.*s", (int)(line - lineStart), lineStart);
      if (!strstr(head, needle))
         fail_msg("key %s not on the help line '%s'", b->keyName, head);
   }
   free(all);
}

static void test_out_of_range_line(void** state) {
   (void)state;
   char line[64] = "x";
   int title = 1;
   HelpView_line(HelpView_lineCount() + 5, line, sizeof(line), &title);
   assert_string_equal(line, "");
   assert_int_equal(title, 0);
}

static void test_scroll_clamps(void** state) {
   (void)state;
   HelpView h = { .scroll = 0, .pageRows = 10 };
   HelpView_scroll(&h, -5);
   assert_int_equal(h.scroll, 0);
   HelpView_scroll(&h, 100000);
   assert_int_equal(h.scroll, HelpView_lineCount() - 10);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_binding_listed),
      cmocka_unit_test(test_out_of_range_line),
      cmocka_unit_test(test_scroll_clamps),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
