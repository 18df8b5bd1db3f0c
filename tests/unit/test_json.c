/* Json writer: commas and nesting, every value type, string escaping, and
 * invalid UTF-8 turned into U+FFFD so the output stays valid JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Json.h"

typedef struct Capture_ {
   char* text;
   size_t len;
   FILE* f;
   Json json;
} Capture;

static void begin(Capture* c) {
   c->text = NULL;
   c->f = open_memstream(&c->text, &c->len);
   assert_non_null(c->f);
   Json_init(&c->json, c->f);
}

/* Closes the stream and checks the whole output; frees it. */
static void expect(Capture* c, const char* want) {
   fclose(c->f);
   assert_string_equal(c->text, want);
   free(c->text);
}

static void test_nested_commas(void** state) {
   (void)state;
   Capture c;
   begin(&c);
   Json* j = &c.json;
   Json_beginObject(j);
   Json_key(j, "a");
   Json_int(j, -1);
   Json_key(j, "b");
   Json_beginArray(j);
   Json_uint(j, 18446744073709551615ULL);
   Json_beginObject(j);
   Json_endObject(j);
   Json_beginArray(j);
   Json_endArray(j);
   Json_bool(j, true);
   Json_bool(j, false);
   Json_null(j);
   Json_endArray(j);
   Json_key(j, "c");
   Json_beginObject(j);
   Json_key(j, "d");
   Json_string(j, "x");
   Json_key(j, "e");
   Json_string(j, NULL);
   Json_endObject(j);
   Json_endObject(j);
   expect(&c, "{\"a\":-1,\"b\":[18446744073709551615,{},[],true,false,null],\"c\":{\"d\":\"x\",\"e\":null}}");
}

static void test_doubles(void** state) {
   (void)state;
   Capture c;
   begin(&c);
   Json_beginArray(&c.json);
   Json_double(&c.json, 1.25, 1);
   Json_double(&c.json, 199.96, 1);
   Json_double(&c.json, -0.5, 3);
   Json_double(&c.json, 7, 0);
   Json_double(&c.json, NAN, 1);
   Json_double(&c.json, INFINITY, 2);
   Json_endArray(&c.json);
   expect(&c, "[1.2,200.0,-0.500,7,null,null]");
}

static void test_escaping(void** state) {
   (void)state;
   Capture c;
   begin(&c);
   Json_string(&c.json, "q\"b\\n\nr\rt\tc\x01\x1f\x7f/end");
   expect(&c, "\"q\\\"b\\\\n\\nr\\rt\\tc\\u0001\\u001f\\u007f/end\"");
   begin(&c);
   Json_beginObject(&c.json);
   Json_key(&c.json, "k\"ey");
   Json_string(&c.json, "");
   Json_endObject(&c.json);
   expect(&c, "{\"k\\\"ey\":\"\"}");
}

static void test_valid_utf8_passes_through(void** state) {
   (void)state;
   Capture c;
   begin(&c);
   /* 2-, 3- and 4-byte sequences, including the edges U+0080, U+FFFF, U+10FFFF. */
   Json_string(&c.json, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf");
   expect(&c, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf\"");
}

typedef struct Utf8Case_ {
   const char* in;
   const char* out;
} Utf8Case;

static const Utf8Case badUtf8[] = {
   { "a\xff"
     "b",
     "\"a\\ufffdb\"" },                                        /* never valid */
   { "\x80", "\"\\ufffd\"" },                                  /* stray continuation */
   { "\xc3", "\"\\ufffd\"" },                                  /* truncated at the end */
   { "\xe2\x82", "\"\\ufffd\\ufffd\"" },                       /* truncated 3-byte */
   { "\xe2(x", "\"\\ufffd(x\"" },                              /* bad continuation */
   { "\xc0\xaf", "\"\\ufffd\\ufffd\"" },                       /* overlong '/' */
   { "\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"" },            /* overlong 3-byte */
   { "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },            /* UTF-16 surrogate */
   { "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" }, /* past U+10FFFF */
   { "\xf5\x80", "\"\\ufffd\\ufffd\"" },
   { "ok\xc3\xa9\xc3", "\"ok\xc3\xa9\\ufffd\"" },
};

static void test_invalid_utf8_replaced(void** state) {
   (void)state;
   for (size_t i = 0; i < sizeof(badUtf8) / sizeof(badUtf8[0]); i++) {
      Capture c;
      begin(&c);
      Json_string(&c.json, badUtf8[i].in);
      fclose(c.f);
      if (strcmp(c.text, badUtf8[i].out) != 0)
         fail_msg("case %zu: got %s, want %s", i, c.text, badUtf8[i].out);
      free(c.text);
   }
}

static void test_depth_is_bounded(void** state) {
   (void)state;
   Capture c;
   begin(&c);
   for (int i = 0; i < JSON_MAX_DEPTH + 5; i++)
      Json_beginArray(&c.json);
   for (int i = 0; i < JSON_MAX_DEPTH + 5; i++)
      Json_endArray(&c.json);
   assert_int_equal(c.json.depth, 0);
   fclose(c.f);
   assert_int_equal(strlen(c.text), 2 * (JSON_MAX_DEPTH + 5));
   free(c.text);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nested_commas),
      cmocka_unit_test(test_doubles),
      cmocka_unit_test(test_escaping),
      cmocka_unit_test(test_valid_utf8_passes_through),
      cmocka_unit_test(test_invalid_utf8_replaced),
      cmocka_unit_test(test_depth_is_bounded),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
