/* Options_parse: defaults, every option in short and long form, and every
 * kind of bad input (each one message, STACKTOP_EXIT_USAGE). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stacktop/Cli.h"
#include "stacktop/Options.h"
#include "stacktop/Util.h"

#define MAX_ARGS 32

/* Parses a NULL-terminated list of arguments (argv[0] added). */
static int parse(Options* o, char* err, size_t errSize, const char* first, ...) {
   char* argv[MAX_ARGS + 2];
   int argc = 0;
   argv[argc++] = (char*)"stacktop";
   va_list ap;
   va_start(ap, first);
   for (const char* a = first; a && argc < MAX_ARGS; a = va_arg(ap, const char*))
      argv[argc++] = (char*)a;
   va_end(ap);
   argv[argc] = NULL;
   err[0] = '\0';
   return Options_parse(o, argc, argv, err, errSize);
}

static void test_defaults(void** state) {
   (void)state;
   Options o;
   char err[256];
   assert_int_equal(parse(&o, err, sizeof(err), NULL), 0);
   assert_int_equal(o.action, OPTIONS_RUN);
   assert_true(o.delayS == 1.5);
   assert_false(o.delaySet);
   assert_int_equal(o.sortColumn, COL_RES);
   assert_false(o.sortSet);
   assert_int_equal(o.pidCount, 0);
   assert_false(o.filterUser);
   assert_string_equal(o.theme, "");
   assert_false(o.batch);
   assert_int_equal(o.iterations, 0);
   assert_false(o.threads);
   assert_int_equal(o.format, OUTPUT_TEXT);
}

static void test_short_forms(void** state) {
   (void)state;
   Options o;
   char err[256];
   assert_int_equal(
       parse(&o, err, sizeof(err), "-b", "-n", "3", "-d", "0.25", "-s", "cpu", "-p", "1,22,333", "-u", "root", NULL),
       0);
   assert_true(o.batch);
   assert_int_equal(o.iterations, 3);
   assert_true(o.delayS == 0.25);
   assert_true(o.delaySet);
   assert_int_equal(o.sortColumn, COL_CPU);
   assert_true(o.sortSet);
   assert_int_equal(o.pidCount, 3);
   assert_int_equal(o.pids[0], 1);
   assert_int_equal(o.pids[1], 22);
   assert_int_equal(o.pids[2], 333);
   assert_true(o.filterUser);
   assert_int_equal(o.uid, 0);
   assert_string_equal(o.userName, "root");
   /* Attached values work too: -d2 -sres */
   assert_int_equal(parse(&o, err, sizeof(err), "-d2", "-sRES", "-p7", NULL), 0);
   assert_true(o.delayS == 2.0);
   assert_int_equal(o.sortColumn, COL_RES);
   assert_int_equal(o.pids[0], 7);
}

static void test_long_forms(void** state) {
   (void)state;
   Options o;
   char err[256];
   assert_int_equal(parse(&o, err, sizeof(err), "--batch", "--iterations", "5", "--delay=3", "--sort", "time", "--pid",
                          "42", "--pid=43,44", "--user", "0", "--theme", "light", "--threads", "--format", "json",
                          NULL),
                    0);
   assert_true(o.batch);
   assert_int_equal(o.iterations, 5);
   assert_true(o.delayS == 3.0);
   assert_int_equal(o.sortColumn, COL_TIME);
   assert_int_equal(o.pidCount, 3); /* repeated -p accumulate */
   assert_int_equal(o.pids[2], 44);
   assert_true(o.filterUser);
   assert_int_equal(o.uid, 0);
   assert_string_equal(o.theme, "light");
   assert_true(o.threads);
   assert_int_equal(o.format, OUTPUT_JSON);
   /* Unambiguous prefixes of long options are accepted, as getopt_long does. */
   assert_int_equal(parse(&o, err, sizeof(err), "--format", "text", "--del", "4", NULL), 0);
   assert_true(o.delayS == 4.0);
   assert_int_equal(o.format, OUTPUT_TEXT);
}

static void test_numeric_uid_without_passwd_entry(void** state) {
   (void)state;
   Options o;
   char err[256];
   assert_int_equal(parse(&o, err, sizeof(err), "-u", "4242420", NULL), 0);
   assert_int_equal(o.uid, 4242420);
}

static void test_help_and_version(void** state) {
   (void)state;
   Options o;
   char err[256];
   assert_int_equal(parse(&o, err, sizeof(err), "--help", NULL), 0);
   assert_int_equal(o.action, OPTIONS_HELP);
   assert_int_equal(parse(&o, err, sizeof(err), "-h", NULL), 0);
   assert_int_equal(o.action, OPTIONS_HELP);
   assert_int_equal(parse(&o, err, sizeof(err), "--version", NULL), 0);
   assert_int_equal(o.action, OPTIONS_VERSION);
   char* usage = NULL;
   size_t len = 0;
   FILE* out = open_memstream(&usage, &len);
   Cli_printHelp(Options_command(), out);
   fclose(out);
   static const char* mentioned[] = { "--delay",      "--sort",    "--pid",    "--user", "--theme",  "--batch",
                                      "--iterations", "--threads", "--format", "--help", "--version" };
   for (size_t i = 0; i < sizeof(mentioned) / sizeof(mentioned[0]); i++)
      assert_non_null(strstr(usage, mentioned[i]));
   /* The -s list names every column of the table. */
   for (int id = 0; id < COL_COUNT; id++) {
      if (!strstr(usage, Column_get((ColumnId)id)->name))
         fail_msg("--help does not name the column %s", Column_get((ColumnId)id)->name);
   }
   free(usage);
}

typedef struct BadCase_ {
   const char* args[4];
   const char* mustSay[2]; /* substrings of the message */
} BadCase;

static const BadCase badCases[] = {
   { { "-x" }, { "unknown option '-x'" } },
   { { "--bogus" }, { "unknown option '--bogus'" } },
   { { "--bat", "--nope" }, { "unknown option '--nope'" } },
   { { "extra" }, { "unexpected argument 'extra'" } },
   { { "-d" }, { "'-d' needs a value", "SECONDS" } },
   { { "--delay" }, { "'--delay' needs a value" } },
   { { "-d", "abc" }, { "invalid delay 'abc'", "seconds > 0" } },
   { { "-d", "0" }, { "invalid delay '0'" } },
   { { "-d", "-1" }, { "invalid delay '-1'" } },
   { { "-d", "1.5x" }, { "invalid delay '1.5x'" } },
   { { "-d", "nan" }, { "invalid delay 'nan'" } },
   { { "-d", "inf" }, { "invalid delay 'inf'" } },
   { { "-d", "100000" }, { "invalid delay '100000'" } },
   { { "-d", "" }, { "invalid delay ''" } },
   { { "-s", "nosuch" }, { "unknown column 'nosuch'", "pid, ppid, user, state, nice, threads, cpu" } },
   { { "--sort" }, { "'--sort' needs a value", "COLUMN" } },
   { { "-p", "abc" }, { "invalid pid 'abc'", "PID[,PID...]" } },
   { { "-p", "1,,2" }, { "invalid pid ''" } },
   { { "-p", "1," }, { "invalid pid ''" } },
   { { "-p", "0" }, { "invalid pid '0'" } },
   { { "-p", "-5" }, { "invalid pid '-5'" } },
   { { "-p", "12x" }, { "invalid pid '12x'" } },
   { { "-p", "99999999999" }, { "invalid pid '99999999999'" } },
   { { "-u", "no-such-user-here" }, { "unknown user 'no-such-user-here'" } },
   { { "-u", "-3" }, { "unknown user '-3'" } },
   { { "-u", "" }, { "unknown user ''" } },
   { { "--theme", "" }, { "invalid theme name ''" } },
   { { "-n", "0" }, { "invalid count '0'", ">= 1" } },
   { { "-n", "-2" }, { "invalid count '-2'" } },
   { { "-n", "ten" }, { "invalid count 'ten'" } },
   { { "-n", "99999999999999999999" }, { "invalid count" } },
   { { "-n" }, { "'-n' needs a value" } },
   { { "--format", "xml" }, { "unknown format 'xml'", "text or json" } },
   { { "--format" }, { "'--format' needs a value", "FMT" } },
   { { "--threads=yes" }, { "option '--threads' takes no value" } },
   { { "--help=1" }, { "option '--help' takes no value" } },
   { { "--thr=1" }, { "option '--thr' takes no value" } },
   { { "--nosuch=1" }, { "unknown option '--nosuch'" } },
   { { "--t" }, { "ambiguous option '--t'" } }, /* --theme, --threads */
   { { "-bx" }, { "unknown option '-x'" } },
};

static void test_bad_input(void** state) {
   (void)state;
   for (size_t i = 0; i < sizeof(badCases) / sizeof(badCases[0]); i++) {
      const BadCase* c = &badCases[i];
      Options o;
      char err[256];
      int rc = parse(&o, err, sizeof(err), c->args[0], c->args[1], c->args[2], c->args[3], NULL);
      if (rc != STACKTOP_EXIT_USAGE)
         fail_msg("case %zu (%s): rc %d, message '%s'", i, c->args[0], rc, err);
      assert_null(strchr(err, '\n'));
      for (int k = 0; k < 2 && c->mustSay[k]; k++) {
         if (!strstr(err, c->mustSay[k]))
            fail_msg("case %zu: message '%s' lacks '%s'", i, err, c->mustSay[k]);
      }
   }
}

static void test_too_many_pids(void** state) {
   (void)state;
   /* OPTIONS_MAX_PIDS fit; one more is an error. */
   size_t len = (OPTIONS_MAX_PIDS + 1) * 6 + 1;
   char* list = Util_xmalloc(len);
   size_t n = 0;
   for (int i = 1; i <= OPTIONS_MAX_PIDS; i++)
      n += (size_t)snprintf(list + n, len - n, "%s%d", i > 1 ? "," : "", i);
   Options o;
   char err[256];
   assert_int_equal(parse(&o, err, sizeof(err), "-p", list, NULL), 0);
   assert_int_equal(o.pidCount, OPTIONS_MAX_PIDS);
   snprintf(list + n, len - n, ",%d", OPTIONS_MAX_PIDS + 1);
   assert_int_equal(parse(&o, err, sizeof(err), "-p", list, NULL), STACKTOP_EXIT_USAGE);
   assert_non_null(strstr(err, "too many pids"));
   free(list);
}

static void test_reparse_resets(void** state) {
   (void)state;
   Options o;
   char err[256];
   assert_int_equal(parse(&o, err, sizeof(err), "-b", "-p", "5", NULL), 0);
   assert_int_equal(parse(&o, err, sizeof(err), "-s", "pid", NULL), 0);
   assert_false(o.batch);
   assert_int_equal(o.pidCount, 0);
   assert_int_equal(o.sortColumn, COL_PID);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),         cmocka_unit_test(test_short_forms),
      cmocka_unit_test(test_long_forms),       cmocka_unit_test(test_numeric_uid_without_passwd_entry),
      cmocka_unit_test(test_help_and_version), cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_too_many_pids),    cmocka_unit_test(test_reparse_resets),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
