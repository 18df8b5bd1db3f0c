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
   { KEYSCOPE_TABLE, KEY_F(3), ACTION_SEARCH_NEXT },
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
   { KEYSCOPE_TABLE, 'Z', ACTION_NONE },
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

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_action_bound_and_documented),
      cmocka_unit_test(test_no_duplicate_keys),
      cmocka_unit_test(test_lookup),
      cmocka_unit_test(test_move_delta),
      cmocka_unit_test(test_key_names),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
