/* Settings: the rc file's defaults, parsing (good and bad lines), writing
 * and re-reading, option overrides, and the file's location. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stacktop/Settings.h"
#include "stacktop/Util.h"

static int parse(Settings* s, const char* text, char* warn, size_t warnSize) {
   Settings_initDefault(s);
   warn[0] = '\0';
   return Settings_parse(s, text, strlen(text), "rc", warn, warnSize);
}

static void test_defaults(void** state) {
   (void)state;
   Settings s;
   Settings_initDefault(&s);
   assert_int_equal(s.sortColumn, COL_RES);
   assert_false(s.invert);
   assert_true(s.delayS == 1.5);
   assert_string_equal(s.theme, "default");
   for (int i = 0; i < COL_COUNT; i++)
      assert_int_equal(s.visible[i], Column_get((ColumnId)i)->shownByDefault);
   assert_true(s.hideKernelThreads); /* as in htop */
   assert_false(s.tree);
   assert_false(s.showThreads);
   assert_int_equal(s.changed, 0);
}

static void test_parse_good(void** state) {
   (void)state;
   Settings s;
   char warn[512];
   const char* text = "# comment\n\n"
                      "sort_column = cpu\n"
                      "sort_invert=yes\n"
                      "delay=0.25\n"
                      "theme=light\n"
                      "columns=pid, command ,RES\n";
   assert_int_equal(parse(&s, text, warn, sizeof(warn)), 0);
   assert_string_equal(warn, "");
   assert_int_equal(s.sortColumn, COL_CPU);
   assert_true(s.invert);
   assert_true(s.delayS == 0.25);
   assert_string_equal(s.theme, "light");
   for (int i = 0; i < COL_COUNT; i++)
      assert_int_equal(s.visible[i], i == COL_PID || i == COL_COMMAND || i == COL_RES);
}

typedef struct BadCase_ {
   const char* text;
   const char* warning;
} BadCase;

static const BadCase badCases[] = {
   { "colour=red\n", "rc:1: unknown key 'colour'" },
   { "\nsort_column=bogus\n", "rc:2: unknown column for sort_column: 'bogus'; line ignored" },
   { "delay=0\n", "rc:1: expected seconds between 0 and 86400 for delay: '0'" },
   { "delay=-1\n", "rc:1: expected seconds" },
   { "delay=1s\n", "rc:1: expected seconds" },
   { "delay=100000\n", "rc:1: expected seconds" },
   { "sort_invert=maybe\n", "rc:1: expected 0 or 1 for sort_invert" },
   { "columns=pid,nope\n", "rc:1: unknown column in list for columns" },
   { "columns= , \n", "rc:1: expected at least one column" },
   { "theme=\n", "rc:1: expected a theme name" },
   { "just words\n", "rc:1: expected key=value" },
};

static void test_parse_bad(void** state) {
   (void)state;
   for (size_t i = 0; i < sizeof(badCases) / sizeof(badCases[0]); i++) {
      Settings s;
      char warn[512];
      assert_int_equal(parse(&s, badCases[i].text, warn, sizeof(warn)), 1);
      if (strncmp(warn, badCases[i].warning, strlen(badCases[i].warning)) != 0)
         fail_msg("case %zu: got '%s', want prefix '%s'", i, warn, badCases[i].warning);
      /* A bad line changes nothing. */
      Settings d;
      Settings_initDefault(&d);
      assert_int_equal(s.sortColumn, d.sortColumn);
      assert_true(s.delayS == d.delayS);
      assert_memory_equal(s.visible, d.visible, sizeof(d.visible));
      Settings_done(&s);
   }
}

/* Bad lines are skipped, good ones still apply; the first is reported. */
static void test_parse_mixed(void** state) {
   (void)state;
   Settings s;
   char warn[512];
   const char* text = "sort_column=time\nbogus\ndelay=x\ndelay=3\n";
   assert_int_equal(parse(&s, text, warn, sizeof(warn)), 2);
   assert_string_equal(warn, "rc:2: expected key=value; it and 1 more bad lines ignored");
   assert_int_equal(s.sortColumn, COL_TIME);
   assert_true(s.delayS == 3.0);
}

static void test_write_roundtrip(void** state) {
   (void)state;
   Settings s;
   Settings_initDefault(&s);
   s.sortColumn = COL_TIME;
   s.invert = true;
   s.delayS = 0.75;
   Util_format(s.theme, sizeof(s.theme), "high-contrast");
   s.visible[COL_DATA] = false;
   s.visible[COL_SHR] = false;
   char* text = NULL;
   size_t len = 0;
   FILE* f = open_memstream(&text, &len);
   assert_int_equal(Settings_write(&s, f), 0);
   fclose(f);
   Settings back;
   Settings_initDefault(&back);
   char warn[256] = "";
   assert_int_equal(Settings_parse(&back, text, len, "mem", warn, sizeof(warn)), 0);
   assert_int_equal(back.sortColumn, COL_TIME);
   assert_true(back.invert);
   assert_true(back.delayS == 0.75);
   assert_string_equal(back.theme, "high-contrast");
   assert_memory_equal(back.visible, s.visible, sizeof(s.visible));
   free(text);
}

static void test_save_and_load(void** state) {
   (void)state;
   char dir[] = "/tmp/stacktop-rc-XXXXXX";
   assert_non_null(mkdtemp(dir));
   char path[256], err[512], warn[512] = "";
   Util_format(path, sizeof(path), "%s/a/b/stacktoprc", dir);
   Settings s, back;
   Settings_initDefault(&s);
   s.sortColumn = COL_CPU;
   Settings_markChanged(&s, SETTING_SORT_COLUMN);
   assert_int_equal(Settings_save(&s, path, err, sizeof(err)), 0);
   Settings_initDefault(&back);
   assert_int_equal(Settings_load(&back, path, warn, sizeof(warn)), 0);
   assert_int_equal(back.sortColumn, COL_CPU);

   /* A missing file is fine and changes nothing. */
   char missing[300];
   Util_format(missing, sizeof(missing), "%s/none", dir);
   Settings_initDefault(&back);
   assert_int_equal(Settings_load(&back, missing, warn, sizeof(warn)), 0);
   assert_int_equal(back.sortColumn, COL_RES);

   /* An unwritable location gives a message naming it. */
   assert_int_equal(Settings_save(&s, "/proc/stacktop/rc", err, sizeof(err)), -1);
   assert_non_null(strstr(err, "/proc/stacktop"));

   char sub[300];
   unlink(path);
   Util_format(sub, sizeof(sub), "%s/a/b", dir);
   rmdir(sub);
   Util_format(sub, sizeof(sub), "%s/a", dir);
   rmdir(sub);
   rmdir(dir);
}

static void test_save_ignores_planted_symlink(void** state) {
   (void)state;
   /* Whoever can write the config directory must not be able to make root
    * overwrite another file by planting a symlink at the temporary name. */
   char dir[] = "/tmp/stacktop-rc-XXXXXX";
   assert_non_null(mkdtemp(dir));
   char path[256], tmp[300], victim[300], err[512], warn[512] = "";
   Util_format(path, sizeof(path), "%s/stacktoprc", dir);
   Util_format(tmp, sizeof(tmp), "%s.tmp", path);
   Util_format(victim, sizeof(victim), "%s/victim", dir);
   FILE* f = fopen(victim, "w");
   assert_non_null(f);
   fputs("precious\n", f);
   fclose(f);
   assert_int_equal(symlink(victim, tmp), 0);
   Settings s, back;
   Settings_initDefault(&s);
   s.sortColumn = COL_CPU;
   Settings_markChanged(&s, SETTING_SORT_COLUMN);
   assert_int_equal(Settings_save(&s, path, err, sizeof(err)), 0);
   size_t len = 0;
   char* text = Util_slurp(victim, 4096, &len);
   assert_non_null(text);
   assert_string_equal(text, "precious\n");
   free(text);
   Settings_initDefault(&back);
   assert_int_equal(Settings_load(&back, path, warn, sizeof(warn)), 0);
   assert_int_equal(back.sortColumn, COL_CPU);
   struct stat sb;
   assert_int_equal(lstat(path, &sb), 0);
   assert_true(S_ISREG(sb.st_mode));
   assert_int_equal(sb.st_mode & 022, 0);
   unlink(tmp);
   unlink(path);
   unlink(victim);
   rmdir(dir);
}

static void test_apply_options(void** state) {
   (void)state;
   Settings s;
   Settings_initDefault(&s);
   s.invert = true;
   Options o;
   memset(&o, 0, sizeof(o));
   Settings_applyOptions(&s, &o);
   assert_true(s.delayS == 1.5);
   assert_true(s.invert);
   o.delaySet = true;
   o.delayS = 2.0;
   o.sortSet = true;
   o.sortColumn = COL_PID;
   Util_format(o.theme, sizeof(o.theme), "light");
   Settings_applyOptions(&s, &o);
   assert_true(s.delayS == 2.0);
   assert_int_equal(s.sortColumn, COL_PID);
   assert_false(s.invert);
   assert_string_equal(s.theme, "light");
}

static char* tempDir(void) {
   char* dir = strdup("/tmp/stacktop-rc-XXXXXX");
   assert_non_null(mkdtemp(dir));
   return dir;
}

static void writeText(const char* path, const char* text) {
   FILE* f = fopen(path, "w");
   assert_non_null(f);
   fputs(text, f);
   fclose(f);
}

static char* readText(const char* path) {
   size_t len;
   char* text = Util_slurp(path, 1 << 20, &len);
   assert_non_null(text);
   return text;
}

/* Values from the command line are for one run: quitting does not write
 * them into the rc file; what a key changed is written. */
static void test_one_off_options_are_not_saved(void** state) {
   (void)state;
   char* dir = tempDir();
   char path[256], err[512], warn[512] = "";
   Util_format(path, sizeof(path), "%s/stacktoprc", dir);
   writeText(path, "version=1\nsort_column=cpu\ndelay=2\ntheme=light\n");
   Settings s;
   Settings_initDefault(&s);
   assert_int_equal(Settings_load(&s, path, warn, sizeof(warn)), 0);
   Options o;
   memset(&o, 0, sizeof(o));
   o.delaySet = true;
   o.delayS = 0.2;
   o.sortSet = true;
   o.sortColumn = COL_TIME;
   Util_format(o.theme, sizeof(o.theme), "high-contrast");
   Settings_applyOptions(&s, &o);
   assert_int_equal(s.sortColumn, COL_TIME);
   assert_int_equal(Settings_save(&s, path, err, sizeof(err)), 0);
   Settings back;
   Settings_initDefault(&back);
   assert_int_equal(Settings_load(&back, path, warn, sizeof(warn)), 0);
   assert_int_equal(back.sortColumn, COL_CPU);
   assert_true(back.delayS == 2.0);
   assert_string_equal(back.theme, "light");
   /* A key that changes the delay saves it. */
   s.delayS = 5;
   Settings_markChanged(&s, SETTING_DELAY);
   assert_int_equal(Settings_save(&s, path, err, sizeof(err)), 0);
   Settings_initDefault(&back);
   assert_int_equal(Settings_load(&back, path, warn, sizeof(warn)), 0);
   assert_true(back.delayS == 5.0);
   assert_int_equal(back.sortColumn, COL_CPU);
   unlink(path);
   rmdir(dir);
   free(dir);
}

/* Two monitors started from the same file, each changing one setting: the
 * second to quit keeps what the first saved. */
static void test_two_instances_do_not_clobber(void** state) {
   (void)state;
   char* dir = tempDir();
   char path[256], err[512], warn[512] = "";
   Util_format(path, sizeof(path), "%s/stacktoprc", dir);
   writeText(path, "version=1\nsort_column=res\ntree=0\n");
   Settings a, b;
   Settings_initDefault(&a);
   Settings_initDefault(&b);
   Settings_load(&a, path, warn, sizeof(warn));
   Settings_load(&b, path, warn, sizeof(warn));
   a.sortColumn = COL_CPU;
   Settings_markChanged(&a, SETTING_SORT_COLUMN);
   b.tree = true;
   Settings_markChanged(&b, SETTING_TREE);
   assert_int_equal(Settings_save(&a, path, err, sizeof(err)), 0);
   assert_int_equal(Settings_save(&b, path, err, sizeof(err)), 0);
   Settings back;
   Settings_initDefault(&back);
   assert_int_equal(Settings_load(&back, path, warn, sizeof(warn)), 0);
   assert_int_equal(back.sortColumn, COL_CPU);
   assert_true(back.tree);
   unlink(path);
   rmdir(dir);
   free(dir);
}

/* The file says which version wrote it; keys of a newer version are kept
 * on save and not reported as mistakes. */
static void test_version_line_and_newer_keys(void** state) {
   (void)state;
   char* dir = tempDir();
   char path[256], err[512], warn[512] = "";
   Util_format(path, sizeof(path), "%s/stacktoprc", dir);
   writeText(path, "version=7\nsort_column=time\nfuture_key=42\n");
   Settings s;
   Settings_initDefault(&s);
   assert_int_equal(Settings_load(&s, path, warn, sizeof(warn)), 0);
   assert_string_equal(warn, "");
   assert_int_equal(s.version, 7);
   s.tree = true;
   Settings_markChanged(&s, SETTING_TREE);
   assert_int_equal(Settings_save(&s, path, err, sizeof(err)), 0);
   Settings_done(&s);
   char* text = readText(path);
   assert_non_null(strstr(text, "version=1\n"));
   assert_non_null(strstr(text, "future_key=42\n"));
   assert_non_null(strstr(text, "sort_column=time\n"));
   assert_non_null(strstr(text, "tree=1\n"));
   assert_true(strstr(text, "version=") < strstr(text, "sort_column="));
   free(text);
   /* In a file of our own version an unknown key is a mistake worth saying. */
   writeText(path, "version=1\nfuture_key=42\n");
   Settings_initDefault(&s);
   assert_int_equal(Settings_load(&s, path, warn, sizeof(warn)), 1);
   assert_non_null(strstr(warn, "unknown key 'future_key'"));
   Settings_done(&s);
   unlink(path);
   rmdir(dir);
   free(dir);
}

static void test_view_keys(void** state) {
   (void)state;
   Settings s;
   char warn[512];
   assert_int_equal(parse(&s, "tree=1\nshow_threads=yes\nhide_kernel_threads=0\n", warn, sizeof(warn)), 0);
   assert_true(s.tree);
   assert_true(s.showThreads);
   assert_false(s.hideKernelThreads);
   assert_string_equal(Settings_key(SETTING_HIDE_KERNEL_THREADS), "hide_kernel_threads");
}

static void test_path(void** state) {
   (void)state;
   char buf[256];
   setenv("XDG_CONFIG_HOME", "/x/cfg", 1);
   Settings_path(buf, sizeof(buf));
   assert_string_equal(buf, "/x/cfg/stacktop/stacktoprc");
   unsetenv("XDG_CONFIG_HOME");
   setenv("HOME", "/home/u", 1);
   Settings_path(buf, sizeof(buf));
   assert_string_equal(buf, "/home/u/.config/stacktop/stacktoprc");
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_parse_good),
      cmocka_unit_test(test_parse_bad),
      cmocka_unit_test(test_parse_mixed),
      cmocka_unit_test(test_write_roundtrip),
      cmocka_unit_test(test_save_and_load),
      cmocka_unit_test(test_apply_options),
      cmocka_unit_test(test_path),
      cmocka_unit_test(test_save_ignores_planted_symlink),
      cmocka_unit_test(test_one_off_options_are_not_saved),
      cmocka_unit_test(test_two_instances_do_not_clobber),
      cmocka_unit_test(test_version_line_and_newer_keys),
      cmocka_unit_test(test_view_keys),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
