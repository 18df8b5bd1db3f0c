/* Cli: parsing from an option table (every kind of mistake named), the
 * generated help, and every command's table against its man page in both
 * directions (run from the repository root). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Cli.h"
#include "stacktop/Commands.h"
#include "stacktop/Util.h"

typedef struct Seen_ {
   bool flag;
   const char* value;
   int calls;
} Seen;

static int onFlag(void* target, const char* v, char* err, size_t errSize) {
   (void)v, (void)err, (void)errSize;
   Seen* s = target;
   s->flag = true;
   s->calls++;
   return 0;
}

static int onValue(void* target, const char* v, char* err, size_t errSize) {
   Seen* s = target;
   if (strcmp(v, "bad") == 0) {
      Util_format(err, errSize, "bad value '%s' for --value: expected anything but bad", v);
      return -1;
   }
   s->value = v;
   s->calls++;
   return 0;
}

static const CliOption options[] = {
   { .longName = "threads", .help = "a long-only flag", .handle = onFlag },
   { .longName = "thread-names", .help = "shares a prefix with --threads", .handle = onFlag },
   { .longName = "value", .shortName = 'x', .valueName = "V", .help = "takes a value", .handle = onValue },
};

static const CliCommand command = {
   .name = "test",
   .synopsis = "test [options] ARGS",
   .summary = "A table for the tests.",
   .options = options,
   .optionCount = 3,
   .footer = "The end.",
};

static int parse(Seen* s, char* err, int* operand, int argc, char** argv) {
   memset(s, 0, sizeof(*s));
   err[0] = '\0';
   return Cli_parse(&command, s, argc, argv, operand, err, 256);
}

static void test_parses_flags_values_and_operands(void** state) {
   (void)state;
   Seen s;
   char err[256];
   int operand;
   char* argv[] = { "test", "--threads", "-x", "1", "op1", "--value=2", "op2", NULL };
   assert_int_equal(parse(&s, err, &operand, 7, argv), 0);
   assert_true(s.flag);
   assert_string_equal(s.value, "2");
   assert_int_equal(s.calls, 3);
   /* GNU getopt moves the operands to the end, in order */
   assert_int_equal(operand, 5);
   assert_string_equal(argv[5], "op1");
   assert_string_equal(argv[6], "op2");
}

static void test_names_every_mistake(void** state) {
   (void)state;
   static const struct {
      const char* args[3];
      const char* message;
   } cases[] = {
      { { "--nosuch" }, "unknown option '--nosuch'" },
      { { "-q" }, "unknown option '-q'" },
      { { "--thr" }, "ambiguous option '--thr': give more of its name" },
      { { "--threads=1" }, "option '--threads' takes no value" },
      { { "-x" }, "option '-x' needs a value (V)" },
      { { "--value" }, "option '--value' needs a value (V)" },
      { { "--value", "bad" }, "bad value 'bad' for --value: expected anything but bad" },
   };
   for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
      char* argv[4] = { "test" };
      int argc = 1;
      for (int k = 0; k < 3 && cases[i].args[k]; k++)
         argv[argc++] = (char*)cases[i].args[k];
      Seen s;
      char err[256];
      int operand;
      assert_int_equal(parse(&s, err, &operand, argc, argv), STACKTOP_EXIT_USAGE);
      assert_string_equal(err, cases[i].message);
   }
   /* a unique prefix is the option */
   char* argv[] = { "test", "--thread-n", NULL };
   Seen s;
   char err[256];
   int operand;
   assert_int_equal(parse(&s, err, &operand, 2, argv), 0);
   assert_true(s.flag);
}

static void test_help_from_the_table(void** state) {
   (void)state;
   char* text = NULL;
   size_t len = 0;
   FILE* out = open_memstream(&text, &len);
   Cli_printHelp(&command, out);
   fclose(out);
   assert_non_null(strstr(text, "Usage: stacktop test [options] ARGS\nA table for the tests.\n"));
   assert_non_null(strstr(text, "\n      --threads           a long-only flag\n"));
   assert_non_null(strstr(text, "\n  -x, --value V           takes a value\n"));
   assert_non_null(strstr(text, "\nThe end.\n"));
   free(text);
   /* the real commands' help lines fit 80 columns */
   const Command* all;
   size_t n = Commands_list(&all);
   for (size_t i = 0; i < n; i++) {
      out = open_memstream(&text, &len);
      Cli_printHelp(all[i].cli(), out);
      fclose(out);
      bool inOptions = false;
      for (char* line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
         inOptions = inOptions || strcmp(line, "Options:") == 0;
         if (inOptions && line[0] == ' ')
            assert_true(strlen(line) <= 80);
      }
      free(text);
   }
}

/* The man page's text with troff's "\-" as "-". */
static char* manText(const char* path) {
   size_t len;
   char* raw = Util_slurp(path, 1 << 22, &len);
   if (!raw)
      fail_msg("cannot read %s (run the tests from the repository root)", path);
   char* o = raw;
   for (const char* p = raw; *p; p++) {
      if (p[0] == '\\' && p[1] == '-')
         continue;
      *o++ = *p;
   }
   *o = '\0';
   return raw;
}

/* Whether text has "--name" as a whole option name (not a prefix of a longer one). */
static bool mentions(const char* text, const char* prefix, const char* name) {
   char needle[96];
   Util_format(needle, sizeof(needle), "%s%s", prefix, name);
   for (const char* p = strstr(text, needle); p; p = strstr(p + 1, needle)) {
      char next = p[strlen(needle)];
      if (!(next == '-' || (next >= 'a' && next <= 'z')))
         return true;
   }
   return false;
}

static bool optionExists(const Command* all, size_t n, const char* name, size_t len) {
   for (size_t i = 0; i < n; i++) {
      const CliCommand* c = all[i].cli();
      for (size_t k = 0; k < c->optionCount; k++) {
         if (strlen(c->options[k].longName) == len && strncmp(c->options[k].longName, name, len) == 0)
            return true;
      }
   }
   return false;
}

/* Every option of every command is in its man page, and every --option the
 * man page names exists (no documented option that is gone). */
static void test_man_pages_match_the_tables(void** state) {
   (void)state;
   const Command* all;
   size_t n = Commands_list(&all);
   for (size_t i = 0; i < n; i++) {
      const CliCommand* c = all[i].cli();
      assert_non_null(c->manPage);
      char* text = manText(c->manPage);
      for (size_t k = 0; k < c->optionCount; k++) {
         const CliOption* o = &c->options[k];
         if (!mentions(text, "--", o->longName))
            fail_msg("%s: option --%s of 'stacktop %s' is not documented", c->manPage, o->longName, c->name);
         char letter[2] = { (char)o->shortName, '\0' };
         if (o->shortName && !mentions(text, "-", letter))
            fail_msg("%s: option -%c of 'stacktop %s' is not documented", c->manPage, o->shortName, c->name);
      }
      free(text);
   }
   static const char* const pages[] = { "doc/stacktop.1", "doc/stacktop.conf.5" };
   for (size_t p = 0; p < sizeof(pages) / sizeof(pages[0]); p++) {
      char* text = manText(pages[p]);
      for (const char* s = strstr(text, "--"); s; s = strstr(s + 2, "--")) {
         const char* name = s + 2;
         size_t len = strspn(name, "abcdefghijklmnopqrstuvwxyz-");
         if (len == 0 || (s > text && s[-1] != ' ' && s[-1] != '\n' && s[-1] != '[' && s[-1] != '('))
            continue;
         if (!optionExists(all, n, name, len))
            fail_msg("%s names --%.*s, which no command has", pages[p], (int)len, name);
      }
      free(text);
   }
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parses_flags_values_and_operands),
      cmocka_unit_test(test_names_every_mistake),
      cmocka_unit_test(test_help_from_the_table),
      cmocka_unit_test(test_man_pages_match_the_tables),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
