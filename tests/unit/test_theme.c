/* Theme: file parsing (good and bad input), the search path, the shipped
 * themes, and the colour arithmetic behind 256/8-colour terminals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stacktop/Theme.h"
#include "stacktop/Util.h"

static int parse(Theme* t, const char* text, char* err, size_t errSize) {
   Theme_initDefault(t);
   return Theme_parse(t, text, strlen(text), "x.theme", err, errSize);
}

static void test_parse_good(void** state) {
   (void)state;
   Theme t;
   char err[256] = "";
   const char* text = "# comment\n"
                      "\n"
                      "   theme[main_fg]=\"#A0b1C2\"   # trailing comment\n"
                      "theme[main_bg] = \"\"\n"
                      "theme[title]=#010203\r\n"
                      "\ttheme[error_fg]=\"#ffffff\"";
   assert_int_equal(parse(&t, text, err, sizeof(err)), 0);
   assert_int_equal(t.rgb[ROLE_MAIN_FG], 0xa0b1c2);
   assert_int_equal(t.rgb[ROLE_MAIN_BG], THEME_DEFAULT_COLOR);
   assert_int_equal(t.rgb[ROLE_TITLE], 0x010203);
   assert_int_equal(t.rgb[ROLE_ERROR_FG], 0xffffff);
   /* Keys not given keep the default. */
   Theme d;
   Theme_initDefault(&d);
   assert_int_equal(t.rgb[ROLE_SIZE_G], d.rgb[ROLE_SIZE_G]);
}

typedef struct BadCase_ {
   const char* text;
   const char* message;
} BadCase;

static const BadCase badCases[] = {
   { "theme[nope]=\"#000000\"\n", "x.theme:1: unknown key 'nope'" },
   { "\n# c\ntheme[main_fg]=\"#12345\"\n", "x.theme:3: bad colour '#12345' for main_fg" },
   { "theme[main_fg]=\"#GG0000\"\n", "x.theme:1: bad colour '#GG0000'" },
   { "theme[main_fg]=\"red\"\n", "x.theme:1: bad colour 'red'" },
   { "theme[main_fg]\"#000000\"\n", "x.theme:1: expected theme[key]=\"#RRGGBB\"" },
   { "color[main_fg]=\"#000000\"\n", "x.theme:1: expected theme[key]=\"#RRGGBB\"" },
   { "theme[]=\"#000000\"\n", "x.theme:1: expected theme[key]=\"#RRGGBB\"" },
   { "theme[main_fg=\"#000000\"\n", "x.theme:1: expected theme[key]=\"#RRGGBB\"" },
   { "theme[main_fg]=\"#000000\n", "x.theme:1: unterminated string" },
   { "theme[main_fg]=\"#000000\" junk\n", "x.theme:1: unexpected text after the value" },
   { "ok\n", "x.theme:1: expected" },
};

static void test_parse_bad(void** state) {
   (void)state;
   for (size_t i = 0; i < sizeof(badCases) / sizeof(badCases[0]); i++) {
      Theme t;
      char err[256] = "";
      assert_int_equal(parse(&t, badCases[i].text, err, sizeof(err)), -1);
      if (strncmp(err, badCases[i].message, strlen(badCases[i].message)) != 0)
         fail_msg("case %zu: got '%s', want prefix '%s'", i, err, badCases[i].message);
   }
}

static void test_parse_nul_byte(void** state) {
   (void)state;
   Theme t;
   Theme_initDefault(&t);
   char err[256];
   const char text[] = "theme[main_fg]=\"#000000\"\0x\n";
   assert_int_equal(Theme_parse(&t, text, sizeof(text) - 1, "n.theme", err, sizeof(err)), -1);
   assert_string_equal(err, "n.theme:1: NUL byte in line");
}

static void test_role_keys(void** state) {
   (void)state;
   for (int i = 0; i < ROLE_COUNT; i++) {
      const char* key = Theme_roleKey((ThemeRole)i);
      assert_non_null(key);
      assert_int_equal(Theme_roleByKey(key), i);
   }
   assert_int_equal(Theme_roleByKey("bogus"), -1);
   assert_null(Theme_roleKey(ROLE_COUNT));
}

static char* readShipped(const char* name, size_t* len) {
   char path[512];
   Util_format(path, sizeof(path), "%s/%s.theme", STACKTOP_SRC_THEMEDIR, name);
   char* text = Util_slurp(path, 1 << 20, len);
   if (!text)
      fail_msg("cannot read %s", path);
   return text;
}

/* Every shipped theme parses and sets every role; default.theme repeats the
 * built-in colours exactly. */
static void test_shipped_themes(void** state) {
   (void)state;
   static const char* const names[] = { "default", "light", "high-contrast" };
   for (size_t n = 0; n < 3; n++) {
      size_t len;
      char* text = readShipped(names[n], &len);
      Theme t;
      Theme_initDefault(&t);
      char err[256];
      assert_int_equal(Theme_parse(&t, text, len, names[n], err, sizeof(err)), 0);
      for (int i = 0; i < ROLE_COUNT; i++) {
         char needle[64];
         Util_format(needle, sizeof(needle), "theme[%s]", Theme_roleKey((ThemeRole)i));
         if (!strstr(text, needle))
            fail_msg("%s.theme does not set %s", names[n], needle);
      }
      if (n == 0) {
         Theme builtIn;
         Theme_initDefault(&builtIn);
         assert_memory_equal(t.rgb, builtIn.rgb, sizeof(t.rgb));
      }
      free(text);
   }
}

static void writeFile(const char* path, const char* text) {
   FILE* f = fopen(path, "w");
   assert_non_null(f);
   fputs(text, f);
   fclose(f);
}

static void test_load_search_path(void** state) {
   (void)state;
   char dir[] = "/tmp/stacktop-theme-XXXXXX";
   assert_non_null(mkdtemp(dir));
   char sub[128], path[256], err[512];
   Util_format(sub, sizeof(sub), "%s/stacktop", dir);
   mkdir(sub, 0755);
   Util_format(sub, sizeof(sub), "%s/stacktop/themes", dir);
   mkdir(sub, 0755);
   setenv("XDG_CONFIG_HOME", dir, 1);

   /* The user's directory comes first, even over a shipped name. */
   Util_format(path, sizeof(path), "%s/light.theme", sub);
   writeFile(path, "theme[main_fg]=\"#123456\"\n");
   Theme t;
   assert_int_equal(Theme_load(&t, "light", err, sizeof(err)), 0);
   assert_int_equal(t.rgb[ROLE_MAIN_FG], 0x123456);
   assert_string_equal(t.name, "light");
   unlink(path);

   /* Then the shipped themes. */
   assert_int_equal(Theme_load(&t, "high-contrast", err, sizeof(err)), 0);
   assert_int_equal(t.rgb[ROLE_MAIN_BG], 0x000000);

   /* A malformed file names the file and line. */
   Util_format(path, sizeof(path), "%s/broken.theme", sub);
   writeFile(path, "# ok\ntheme[main_fg]=\"#12\"\n");
   assert_int_equal(Theme_load(&t, "broken", err, sizeof(err)), -1);
   char want[300];
   Util_format(want, sizeof(want), "%s:2: bad colour", path);
   assert_true(strncmp(err, want, strlen(want)) == 0);
   unlink(path);

   assert_int_equal(Theme_load(&t, "missing-one", err, sizeof(err)), -1);
   assert_non_null(strstr(err, "theme 'missing-one' not found"));
   assert_int_equal(Theme_load(&t, "bad name", err, sizeof(err)), -1);
   assert_non_null(strstr(err, "bad theme name"));
   assert_int_equal(Theme_load(&t, "/nonexistent/x.theme", err, sizeof(err)), -1);
   assert_non_null(strstr(err, "cannot read theme file /nonexistent/x.theme"));

   rmdir(sub);
   Util_format(sub, sizeof(sub), "%s/stacktop", dir);
   rmdir(sub);
   rmdir(dir);
   unsetenv("XDG_CONFIG_HOME");
}

static void test_nearest_colors(void** state) {
   (void)state;
   assert_int_equal(Theme_nearest256(0xff0000), 196);
   assert_int_equal(Theme_nearest256(0x000000), 16);
   assert_int_equal(Theme_nearest256(0xffffff), 231);
   assert_int_equal(Theme_nearest256(0x5fafff), 75);
   assert_int_equal(Theme_nearest256(0x808080), 244);
   assert_int_equal(Theme_nearest256(0x303030), 236);
   assert_int_equal(Theme_nearest8(0x000000), 0);
   assert_int_equal(Theme_nearest8(0xff0000), 1);
   assert_int_equal(Theme_nearest8(0x00ff00), 2);
   assert_int_equal(Theme_nearest8(0xffff00), 3);
   assert_int_equal(Theme_nearest8(0x0000ff), 4);
   assert_int_equal(Theme_nearest8(0x00ffff), 6);
   assert_int_equal(Theme_nearest8(0xffffff), 7);
}

/* On an 8-colour terminal a grey is black or white, never a hue: the
 * dimmed grey of zero counts came out yellow, like a warning. */
static void test_nearest8_keeps_greys_grey(void** state) {
   (void)state;
   static const int greys[] = { 0x808080, 0x8a8a8a, 0xa8a8a8, 0xc0c0c0, 0xd0d0d0, 0x9e9e9e };
   for (size_t i = 0; i < sizeof(greys) / sizeof(greys[0]); i++) {
      if (Theme_nearest8(greys[i]) != 7)
         fail_msg("#%06x maps to colour %d, not white", greys[i], Theme_nearest8(greys[i]));
   }
   assert_int_equal(Theme_nearest8(0x303030), 0);
   assert_int_equal(Theme_nearest8(0x4e4e4e), 0);
   /* Saturated colours keep their hue. */
   assert_int_equal(Theme_nearest8(0xffaf00), 3);
   assert_int_equal(Theme_nearest8(0x5fafff), 6);
}

static void test_choose_mode(void** state) {
   (void)state;
   assert_int_equal(Theme_chooseMode(true, 1 << 24, NULL), THEME_TRUECOLOR);
   assert_int_equal(Theme_chooseMode(true, 256, NULL), THEME_256);
   assert_int_equal(Theme_chooseMode(true, 88, NULL), THEME_8);
   assert_int_equal(Theme_chooseMode(true, 8, NULL), THEME_8);
   assert_int_equal(Theme_chooseMode(false, 0, NULL), THEME_MONO);
   assert_int_equal(Theme_chooseMode(true, 2, NULL), THEME_MONO);
   assert_int_equal(Theme_chooseMode(true, 1 << 24, "1"), THEME_MONO);
   /* NO_COLOR only counts when non-empty (no-color.org). */
   assert_int_equal(Theme_chooseMode(true, 256, ""), THEME_256);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_good),     cmocka_unit_test(test_parse_bad),
      cmocka_unit_test(test_parse_nul_byte), cmocka_unit_test(test_role_keys),
      cmocka_unit_test(test_shipped_themes), cmocka_unit_test(test_load_search_path),
      cmocka_unit_test(test_nearest_colors), cmocka_unit_test(test_nearest8_keeps_greys_grey),
      cmocka_unit_test(test_choose_mode),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
