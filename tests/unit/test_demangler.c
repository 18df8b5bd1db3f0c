/* Demangler: C++ and Rust (legacy, v0) names through libiberty, C names
 * untouched, the cache keyed by the raw name's address, hostile names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Demangler.h"

typedef struct Case_ {
   const char* raw;
   const char* shown; /* NULL: shown as is */
} Case;

static const Case cases[] = {
   /* C++: namespaces, classes, parameters; no return type for templates. */
   { "_ZN4shop6Worker3runEv", "shop::Worker::run()" },
   { "_ZN4shop12parkTemplateIdEEvT_", "shop::parkTemplate<double>(double)" },
   { "_ZNKSt6vectorIiSaIiEE4sizeEv", "std::vector<int, std::allocator<int> >::size() const" },
   { "_ZZ4mainENKUlvE_clEv", "main::{lambda()#1}::operator()() const" },
   { "_ZN3foo3barEv.cold", "foo::bar() [clone .cold]" },
   { "_ZN12_GLOBAL__N_14helpEi", "(anonymous namespace)::help(int)" },
   /* Rust legacy: the hash is dropped, $-escapes decoded. */
   { "_ZN7threads4shop6Worker4wait17h1e9b3fbe19e7bdceE", "threads::shop::Worker::wait" },
   { "_ZN4core3ptr85drop_in_place$LT$std..rt..lang_start$LT$$LP$$RP$$GT$..$u7b$$u7b$closure$u7d$$u7d$$GT$"
     "17h0123456789abcdefE",
     "core::ptr::drop_in_place<std::rt::lang_start<()>::{{closure}}>" },
   /* Rust v0. */
   { "_RNvNtCskmvKKNlPUQU_7threads4shop13block_forever", "threads::shop::block_forever" },
   { "_RNvMNtCskmvKKNlPUQU_7threads4shopNtB2_6Worker4wait", "<threads::shop::Worker>::wait" },
   /* C, Go and the rest: as they are. */
   { "main", NULL },
   { "__libc_start_main", NULL },
   { "_start", NULL },
   { "_IO_puts", NULL },
   { "_dl_start", NULL },
   { "runtime.goexit", NULL },
   { "main.(*Server).Serve", NULL },
   { "_Z", NULL },
   { "_Zjunk", NULL },
   { "_R", NULL },
   { "_Rust_is_not_v0", NULL },
   { "_RC0Z12", NULL }, /* found by fuzz_demangle: an empty piece with a NULL pointer (UBSan) */
   { "", NULL },
};

static void test_cases(void** state) {
   (void)state;
   Demangler* d = Demangler_new();
   for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
      const char* shown = Demangler_name(d, cases[i].raw);
      if (cases[i].shown)
         assert_string_equal(shown, cases[i].shown);
      else
         assert_ptr_equal(shown, cases[i].raw);
   }
   assert_null(Demangler_name(d, NULL));
   Demangler_free(d);
}

/* The same raw pointer gives the same string; the cache grows past its
 * first table. */
static void test_cache(void** state) {
   (void)state;
   Demangler* d = Demangler_new();
   enum { N = 2000 };
   static char names[N][40];
   const char* first[N];
   for (int i = 0; i < N; i++) {
      /* _ZN4shop<len><name>Ev: distinct names "f<i>". */
      char fn[16];
      int len = snprintf(fn, sizeof(fn), "f%d", i);
      snprintf(names[i], sizeof(names[i]), "_ZN4shop%d%sEv", len, fn);
      first[i] = Demangler_name(d, names[i]);
      assert_true(strncmp(first[i], "shop::f", 7) == 0);
   }
   for (int i = 0; i < N; i++)
      assert_ptr_equal(Demangler_name(d, names[i]), first[i]);
   Demangler_free(d);
}

/* Names beyond DEMANGLER_MAX_MANGLED stay raw; deep nesting at the limit
 * and garbage do not crash (ASan run). */
static void test_hostileNames(void** state) {
   (void)state;
   size_t n = DEMANGLER_MAX_MANGLED + 10;
   char* big = malloc(n + 1);
   memset(big, 'I', n);
   memcpy(big, "_ZN", 3);
   big[n] = '\0';
   assert_null(Demangler_demangle(big));
   /* Templates nested as deep as the limit allows. */
   size_t depth = (DEMANGLER_MAX_MANGLED - 16) / 4;
   char* nested = malloc(DEMANGLER_MAX_MANGLED + 1);
   size_t at = 0;
   at += (size_t)sprintf(nested + at, "_Z1fI");
   for (size_t i = 0; i < depth; i++)
      at += (size_t)sprintf(nested + at, "1gI");
   nested[at++] = 'i';
   for (size_t i = 0; i < depth; i++)
      nested[at++] = 'E';
   at += (size_t)sprintf(nested + at, "EvT_");
   nested[at] = '\0';
   assert_true(at <= DEMANGLER_MAX_MANGLED);
   free(Demangler_demangle(nested));
   for (size_t i = 5; i < at; i += 7)
      nested[i] = (char)('0' + i % 43);
   free(Demangler_demangle(nested));
   free(nested);
   free(big);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cases),
      cmocka_unit_test(test_cache),
      cmocka_unit_test(test_hostileNames),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
