/* KeyMap: every action reachable and documented, no key bound twice in one
 * scope, the htop-compatible keys, scope fallbacks and movement deltas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <curses.h>
#include <string.h>

#include "stacktop/KeyMap.h"

static void test_every_action_bound_and_documented(void** state) {
   (void)state;
   bool bound[ACTION_COUNT] = { false };
   for (size_t i = 0; i < KeyMap_count(); i++) {
      const KeyBinding* b = KeyMap_at(i);
      assert_true(b->action > ACTION_NONE && b->action < ACTION_COUNT);
      assert_true(b->scope < KEYSCOPE_COUNT);
      assert_non_null(b->keyName);
      assert_true(strlen(b->keyName) > 0);
      assert_non_null(b->help);
      assert_true(strlen(b->help) > 3);
      bound[b->action] = true;
   }
   for (int a = ACTION_NONE + 1; a < ACTION_COUNT; a++) {
      if (!bound[a])
         fail_msg("action %d has no key", a);
   }
   assert_null(KeyMap_at(KeyMap_count()));
}

static void test_no_duplicate_keys(void** state) {
   (void)state;
   for (size_t i = 0; i < KeyMap_count(); i++) {
      for (size_t j = i + 1; j < KeyMap_count(); j++) {
         const KeyBinding* a = KeyMap_at(i);
         const KeyBinding* b = KeyMap_at(j);
         if (a->scope == b->scope && a->key == b->key)
            fail_msg("key %s bound twice in scope %d", a->keyName, a->scope);
      }
   }
}

typedef struct LookupCase_ {
   KeyScope scope;
   int key;
   KeyAction action;
} LookupCase;

static const LookupCase lookups[] = {
   { KEYSCOPE_TABLE, 'M', ACTION_SORT_RES },
   { KEYSCOPE_TABLE, 'P', ACTION_SORT_CPU },
   { KEYSCOPE_TABLE, 'T', ACTION_SORT_TIME },
   { KEYSCOPE_TABLE, '<', ACTION_SORT_PREV },
   { KEYSCOPE_TABLE, '>', ACTION_SORT_NEXT },
   { KEYSCOPE_TABLE, KEY_F(6), ACTION_CHOOSER },
   { KEYSCOPE_TABLE, 'I', ACTION_INVERT },
   { KEYSCOPE_TABLE, '/', ACTION_SEARCH },
   { KEYSCOPE_TABLE, 'n', ACTION_SEARCH_NEXT },
   { KEYSCOPE_TABLE, 'N', ACTION_SEARCH_PREV },
   { KEYSCOPE_TABLE, KEY_F(3), ACTION_SEARCH }, /* as in htop; F3 again in the line finds the next */
   { KEYSCOPE_TABLE, '\\', ACTION_FILTER },
   { KEYSCOPE_TABLE, 'H', ACTION_THREADS },
   { KEYSCOPE_TABLE, '\r', ACTION_DETAIL },
   { KEYSCOPE_TABLE, '?', ACTION_HELP },
   { KEYSCOPE_TABLE, KEY_F(1), ACTION_HELP },
   { KEYSCOPE_TABLE, 'q', ACTION_QUIT },
   { KEYSCOPE_TABLE, KEY_F(10), ACTION_QUIT },
   { KEYSCOPE_TABLE, 's', ACTION_STACK },
   { KEYSCOPE_TABLE, KEY_UP, ACTION_UP }, /* from the movement scope */
   { KEYSCOPE_TABLE, KEY_NPAGE, ACTION_PAGE_DOWN },
   { KEYSCOPE_STACK, 'q', ACTION_BACK },
   { KEYSCOPE_STACK, 27, ACTION_BACK },
   { KEYSCOPE_STACK, 'r', ACTION_RETAKE },
   { KEYSCOPE_STACK, 'g', ACTION_GROUPING },
   { KEYSCOPE_STACK, 'w', ACTION_SAVE },
   { KEYSCOPE_STACK, KEY_END, ACTION_END },
   { KEYSCOPE_DETAIL, 'q', ACTION_BACK },
   { KEYSCOPE_HELP, '?', ACTION_BACK },
   { KEYSCOPE_CHOOSER, '\r', ACTION_CHOOSER_SORT },
   { KEYSCOPE_INPUT, 'j', ACTION_NONE }, /* typed text, not movement */
   { KEYSCOPE_INPUT, 27, ACTION_INPUT_CANCEL },
   /* htop's keys for acting and seeing */
   { KEYSCOPE_TABLE, 'k', ACTION_KILL },
   { KEYSCOPE_TABLE, KEY_F(9), ACTION_KILL },
   { KEYSCOPE_TABLE, KEY_F(7), ACTION_NICE_MINUS },
   { KEYSCOPE_TABLE, ']', ACTION_NICE_MINUS },
   { KEYSCOPE_TABLE, KEY_F(8), ACTION_NICE_PLUS },
   { KEYSCOPE_TABLE, '[', ACTION_NICE_PLUS },
   { KEYSCOPE_TABLE, ' ', ACTION_TAG },
   { KEYSCOPE_TABLE, 'c', ACTION_TAG_CHILDREN },
   { KEYSCOPE_TABLE, 'U', ACTION_UNTAG },
   { KEYSCOPE_TABLE, 't', ACTION_TREE },
   { KEYSCOPE_TABLE, KEY_F(5), ACTION_TREE },
   { KEYSCOPE_TABLE, '+', ACTION_EXPAND },
   { KEYSCOPE_TABLE, '-', ACTION_COLLAPSE },
   { KEYSCOPE_TABLE, '*', ACTION_TOGGLE_ALL },
   { KEYSCOPE_TABLE, 'u', ACTION_USERS },
   { KEYSCOPE_TABLE, 'K', ACTION_KERNEL_THREADS },
   { KEYSCOPE_TABLE, 'Z', ACTION_PAUSE },
   { KEYSCOPE_TABLE, 'F', ACTION_FOLLOW },
   { KEYSCOPE_TABLE, 'd', ACTION_DELAY },
   { KEYSCOPE_TABLE, KEY_LEFT, ACTION_SCROLL_LEFT },
   { KEYSCOPE_TABLE, KEY_RIGHT, ACTION_SCROLL_RIGHT },
   { KEYSCOPE_DETAIL, '\t', ACTION_SPAN_NEXT },
   { KEYSCOPE_STACK, '\r', ACTION_TOGGLE_GROUP },
   { KEYSCOPE_STACK, '\t', ACTION_NEXT_GROUP },
   { KEYSCOPE_STACK, '/', ACTION_SEARCH },
   { KEYSCOPE_STACK, 'n', ACTION_SEARCH_NEXT },
   { KEYSCOPE_STACK, KEY_RIGHT, ACTION_SCROLL_RIGHT },
   { KEYSCOPE_STACK, KEY_NPAGE, ACTION_PAGE_DOWN },
   { KEYSCOPE_SIGNAL, '\r', ACTION_MENU_SELECT },
   { KEYSCOPE_SIGNAL, KEY_DOWN, ACTION_DOWN },
   { KEYSCOPE_SIGNAL, 27, ACTION_BACK },
   { KEYSCOPE_USERS, '\r', ACTION_MENU_SELECT },
   { KEYSCOPE_CONFIRM, 'y', ACTION_CONFIRM },
   { KEYSCOPE_CONFIRM, 'n', ACTION_BACK },
   { KEYSCOPE_CONFIRM, KEY_DOWN, ACTION_NONE }, /* a question takes no movement */
   { KEYSCOPE_TABLE, 'j', ACTION_NONE },        /* k is kill, as in htop: no vi movement in the table */
};

static void test_lookup(void** state) {
   (void)state;
   for (size_t i = 0; i < sizeof(lookups) / sizeof(lookups[0]); i++) {
      KeyAction got = KeyMap_lookup(lookups[i].scope, lookups[i].key);
      if (got != lookups[i].action)
         fail_msg("case %zu: key %d in scope %d gave %d, want %d", i, lookups[i].key, lookups[i].scope, got,
                  lookups[i].action);
   }
}

static void test_move_delta(void** state) {
   (void)state;
   assert_int_equal(KeyMap_moveDelta(ACTION_UP, 20, 100), -1);
   assert_int_equal(KeyMap_moveDelta(ACTION_DOWN, 20, 100), 1);
   assert_int_equal(KeyMap_moveDelta(ACTION_PAGE_UP, 20, 100), -20);
   assert_int_equal(KeyMap_moveDelta(ACTION_PAGE_DOWN, 20, 100), 20);
   assert_int_equal(KeyMap_moveDelta(ACTION_PAGE_DOWN, 0, 100), 1);
   assert_int_equal(KeyMap_moveDelta(ACTION_HOME, 20, 100), -100);
   assert_int_equal(KeyMap_moveDelta(ACTION_END, 20, 100), 100);
   assert_int_equal(KeyMap_moveDelta(ACTION_QUIT, 20, 100), 0);
}

static void test_key_names(void** state) {
   (void)state;
   char buf[64];
   KeyMap_keyNames(KEYSCOPE_TABLE, ACTION_QUIT, buf, sizeof(buf));
   assert_string_equal(buf, "q F10");
   /* Enter has three codes but one name. */
   KeyMap_keyNames(KEYSCOPE_TABLE, ACTION_DETAIL, buf, sizeof(buf));
   assert_string_equal(buf, "Enter");
   KeyMap_keyNames(KEYSCOPE_TABLE, ACTION_BACK, buf, sizeof(buf));
   assert_string_equal(buf, "");
   char tiny[4];
   KeyMap_keyNames(KEYSCOPE_TABLE, ACTION_HELP, tiny, sizeof(tiny));
   assert_true(strlen(tiny) < sizeof(tiny));
}

/* The status line's key hints come from the table and fit a plain 80-column
 * terminal in every scope; the table's end with Quit. */
static void test_hints_fit_80_columns(void** state) {
   (void)state;
   for (int scope = 0; scope < KEYSCOPE_COUNT; scope++) {
      int cells = KeyMap_hintCells((KeyScope)scope);
      if (cells > 80)
         fail_msg("the hints of scope %d take %d cells", scope, cells);
   }
   const KeyBinding* hints[32];
   size_t n = KeyMap_hints(KEYSCOPE_TABLE, hints, 32);
   assert_true(n >= 6);
   assert_int_equal(hints[n - 1]->action, ACTION_QUIT);
   for (size_t i = 0; i < n; i++)
      assert_int_equal(KeyMap_lookup(KEYSCOPE_TABLE, hints[i]->key), hints[i]->action);
   assert_true(KeyMap_hints(KEYSCOPE_STACK, hints, 32) >= 4);
   assert_int_equal(KeyMap_hints(KEYSCOPE_MOVE, hints, 32), 0);
}

/* ---- the man page lists every key of the table under its scope */

static const char* const manSections[KEYSCOPE_COUNT] = {
   [KEYSCOPE_MOVE] = ".SS Moving (every list)",
   [KEYSCOPE_TABLE] = ".SS Process table",
   [KEYSCOPE_INPUT] = ".SS Search, filter and delay line",
   [KEYSCOPE_DETAIL] = ".SS Detail view (Enter)",
   [KEYSCOPE_STACK] = ".SS Stack view (s)",
   [KEYSCOPE_CHOOSER] = ".SS Column chooser (F6, F2)",
   [KEYSCOPE_SIGNAL] = ".SS Signal list (k, F9)",
   [KEYSCOPE_USERS] = ".SS User list (u)",
   [KEYSCOPE_CONFIRM] = ".SS Questions on the status line",
   [KEYSCOPE_HELP] = ".SS Help (?, F1)",
};

/* The man page as plain text: roff's \- and \e unescaped. */
static char* readManPage(void) {
   FILE* f = fopen("doc/stacktop.1", "r");
   assert_non_null(f);
   static char text[1 << 18];
   size_t n = fread(text, 1, sizeof(text) - 1, f);
   fclose(f);
   text[n] = '\0';
   char* o = text;
   for (const char* p = text; *p; p++) {
      if (p[0] == '\\' && (p[1] == '-' || p[1] == 'e')) {
         *o++ = p[1] == '-' ? '-' : '\\';
         p++;
      } else {
         *o++ = *p;
      }
   }
   *o = '\0';
   return text;
}

/* Is key a word of a .B / .BR line between start and end? */
static bool keyListed(const char* start, const char* end, const char* key) {
   for (const char* line = start; line && line < end; line = strchr(line, '\n')) {
      line += *line == '\n';
      if (strncmp(line, ".B ", 3) != 0 && strncmp(line, ".BR ", 4) != 0)
         continue;
      char buf[256];
      size_t len = strcspn(line, "\n");
      snprintf(buf, sizeof(buf), "%.*s", (int)len, line);
      char* save = NULL;
      for (char* w = strtok_r(buf, " \"", &save); w; w = strtok_r(NULL, " \"", &save)) {
         if (strcmp(w, key) == 0)
            return true;
      }
   }
   return false;
}

static void test_every_key_in_the_man_page(void** state) {
   (void)state;
   char* man = readManPage();
   const char* keys = strstr(man, ".SH INTERACTIVE KEYS");
   assert_non_null(keys);
   for (size_t i = 0; i < KeyMap_count(); i++) {
      const KeyBinding* b = KeyMap_at(i);
      const char* start = strstr(keys, manSections[b->scope]);
      if (!start)
         fail_msg("no man page section '%s'", manSections[b->scope]);
      size_t at = (size_t)(start - man) + strlen(manSections[b->scope]);
      const char* end = strstr(man + at, "\n.S");
      if (!keyListed(start, end ? end : start + strlen(start), b->keyName))
         fail_msg("key %s (%s) is not in the man page under %s", b->keyName, b->help, manSections[b->scope]);
   }
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_action_bound_and_documented),
      cmocka_unit_test(test_no_duplicate_keys),
      cmocka_unit_test(test_lookup),
      cmocka_unit_test(test_move_delta),
      cmocka_unit_test(test_key_names),
      cmocka_unit_test(test_hints_fit_80_columns),
      cmocka_unit_test(test_every_key_in_the_man_page),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
