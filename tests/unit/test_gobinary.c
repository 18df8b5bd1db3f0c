/* GoBinary on recorded binaries: Debian's Go 1.19 fixture (with .symtab,
 * and the same file stripped of every symbol), and stripped release builds
 * of newer Go from the npm registry (esbuild: go1.26.5 without
 * .go.buildinfo; lefthook: go1.27.0). Version, moduledata, layout, wait
 * reasons and the runtime.allgs address found without symbols must agree
 * with what the symbol table says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "stacktop/ElfFile.h"
#include "stacktop/GoBinary.h"
#include "stacktop/Maps.h"

#define FIXTURES "build/fixtures/"
#define NPM "build/npm/"

static ElfFile* openFile(const char* path) {
   int fd = open(path, O_RDONLY | O_CLOEXEC);
   if (fd < 0)
      fail_msg("%s is missing: run 'make fixtures' first", path);
   ElfFile* f = ElfFile_open(Maps_sealedCopy(fd), path, 0);
   assert_non_null(f);
   return f;
}

static void test_version_parsing(void** state) {
   (void)state;
   int major, minor, patch;
   assert_true(GoBinary_parseVersion("go1.19.8", &major, &minor, &patch));
   assert_int_equal(major, 1);
   assert_int_equal(minor, 19);
   assert_int_equal(patch, 8);
   assert_true(GoBinary_parseVersion("go1.22rc1", &major, &minor, &patch));
   assert_int_equal(minor, 22);
   assert_int_equal(patch, 0);
   assert_true(GoBinary_parseVersion("devel go1.23-abcdef Tue", &major, &minor, &patch));
   assert_int_equal(minor, 23);
   assert_true(GoBinary_parseVersion("go1.21.0 X:boringcrypto", &major, &minor, &patch));
   assert_int_equal(minor, 21);
   assert_false(GoBinary_parseVersion("gcc 12", &major, &minor, &patch));
   assert_false(GoBinary_parseVersion("go1.", &major, &minor, &patch));
}

static void test_not_go(void** state) {
   (void)state;
   ElfFile* f = openFile(FIXTURES "sleeper");
   assert_null(ElfFile_go(f));
   ElfFile_free(f);
}

static void checkRuntime(const GoBinary* g) {
   assert_true(g->hasPclntab);
   assert_string_equal(g->problem, "");
   assert_non_null(g->layout);
   assert_true(g->moduledata.address != 0);
   assert_true(g->moduledata.text < g->moduledata.etext);
   assert_true(g->moduledata.bss < g->moduledata.ebss);
   assert_true(g->waitReasonsFromBinary);
   assert_string_equal(g->waitReasons[0], "");
   assert_string_equal(g->waitReasons[1], "GC assist marking");
   for (int f = 0; f < GO_FUNC_COUNT; f++) {
      if (f == GO_FUNC_RUNFINQ || f == GO_FUNC_RUN_FINALIZERS || f == GO_FUNC_RUN_CLEANUPS ||
          f == GO_FUNC_DEBUG_CALL_V2)
         continue; /* renamed or added across releases */
      assert_true(g->funcs[f] != 0);
      assert_true(GoBinary_inText(g, g->funcs[f]));
   }
   assert_true(g->allgsCandidateCount >= 1);
   assert_true(g->allgsCandidates[0] >= g->moduledata.bss && g->allgsCandidates[0] < g->moduledata.ebss);
}

static void test_go119_with_symbols(void** state) {
   (void)state;
   ElfFile* f = openFile(FIXTURES "go_threads");
   const GoBinary* g = ElfFile_go(f);
   assert_non_null(g);
   assert_int_equal(g->minor, 19);
   assert_int_equal(g->pclntab.version, PCLNTAB_GO118);
   checkRuntime(g);
   assert_int_equal(g->waitReasonCount, 27);
   assert_string_equal(g->waitReasons[14], "chan receive");
   assert_string_equal(g->allgsSource, "symbol table");
   uint64_t addr, size;
   assert_true(ElfReader_findSymbol(&f->reader, "runtime.allgs", &addr, &size));
   assert_int_equal(g->allgsCandidates[0], addr);
   assert_true(ElfReader_findSymbol(&f->reader, "runtime.firstmoduledata", &addr, &size));
   assert_int_equal(g->moduledata.address, addr);
   assert_true(ElfReader_findSymbol(&f->reader, "runtime.goexit.abi0", &addr, &size));
   assert_int_equal(g->funcs[GO_FUNC_GOEXIT], addr);
   ElfFile_free(f);
}

/* DWARF's runtime.g (read on demand: libdw inflates all of it) agrees with
 * the Go 1.19 table; without DWARF the table stays. */
static void test_dwarf_layout_agrees_with_table(void** state) {
   (void)state;
   ElfFile* full = openFile(FIXTURES "go_threads");
   ElfFile* bare = openFile(FIXTURES "go_threads_stripped");
   GoBinary* a = ElfFile_go(full);
   GoBinary* b = ElfFile_go(bare);
   const GoLayout* table = a->layout;
   assert_false(a->layoutFromDwarf);
   assert_true(GoBinary_useDwarfLayout(a, full));
   assert_ptr_equal(a->layout, &a->dwarfLayout);
   assert_memory_equal(&a->layout->g, &table->g, sizeof(GoGOffsets));
   assert_string_equal(a->layoutNote, "");
   assert_false(GoBinary_useDwarfLayout(b, bare));
   assert_ptr_not_equal(b->layout, &b->dwarfLayout);
   ElfFile_free(full);
   ElfFile_free(bare);
}

/* The same file without a single symbol: allgs from runtime.allgadd's code. */
static void test_go119_stripped_finds_the_same_allgs(void** state) {
   (void)state;
   ElfFile* full = openFile(FIXTURES "go_threads");
   ElfFile* bare = openFile(FIXTURES "go_threads_stripped");
   const GoBinary* a = ElfFile_go(full);
   const GoBinary* b = ElfFile_go(bare);
   assert_non_null(b);
   uint64_t addr, size;
   assert_false(ElfReader_findSymbol(&bare->reader, "runtime.allgs", &addr, &size));
   checkRuntime(b);
   assert_string_equal(b->allgsSource, "runtime.allgadd");
   assert_int_equal(b->allgsCandidateCount, 1);
   assert_int_equal(b->allgsCandidates[0], a->allgsCandidates[0]);
   assert_int_equal(b->moduledata.address, a->moduledata.address);
   assert_string_equal(b->version, a->version);
   ElfFile_free(full);
   ElfFile_free(bare);
}

static void test_go126_without_buildinfo(void** state) {
   (void)state;
   ElfFile* f = openFile(NPM "esbuild");
   assert_null(ElfReader_section(&f->reader, ".go.buildinfo"));
   const GoBinary* g = ElfFile_go(f);
   assert_non_null(g);
   assert_string_equal(g->version, "go1.26.5");
   assert_int_equal(g->pclntab.version, PCLNTAB_GO120);
   checkRuntime(g);
   /* Go 1.26 moved moduledata into its own section and no longer writes
    * textStart in the pclntab header. */
   assert_int_equal(g->moduledata.address, ElfReader_section(&f->reader, ".go.module")->addr);
   assert_int_equal(g->pclntab.textStart, g->moduledata.text);
   assert_int_equal(g->layout->fromMinor, 26);
   assert_false(g->layoutApproximate);
   /* 1.26 reordered the wait reasons: read from the binary, not assumed. */
   assert_int_equal(g->waitReasonCount, 47);
   assert_string_equal(g->waitReasons[14], "sleep");
   assert_string_equal(g->waitReasons[19], "chan receive");
   assert_string_equal(g->allgsSource, "runtime.allgadd");
   /* Its own traceback: runtime.goparkunlock inlined in cleanupQueue.dequeue. */
   PclntabFrame frames[8];
   size_t n = Pclntab_frames(&g->pclntab, 0x4264f3, frames, 8);
   assert_int_equal(n, 2);
   assert_string_equal(frames[0].function, "runtime.goparkunlock");
   assert_string_equal(frames[1].function, "runtime.(*cleanupQueue).dequeue");
   ElfFile_free(f);
}

static void test_go127(void** state) {
   (void)state;
   ElfFile* f = openFile(NPM "lefthook");
   const GoBinary* g = ElfFile_go(f);
   assert_non_null(g);
   assert_string_equal(g->version, "go1.27.0");
   checkRuntime(g);
   assert_int_equal(g->layout->g.startPc, 0x130);
   /* gofunc moved again in 1.27: the value that decodes inline trees wins.
    * Its own traceback shows runtime.goparkunlock inlined at this call
    * (return address 0x42cef3) in runtime.(*cleanupQueue).dequeue. */
   PclntabFrame frames[8];
   size_t n = Pclntab_frames(&g->pclntab, 0x42cef2, frames, 8);
   assert_int_equal(n, 2);
   assert_string_equal(frames[0].function, "runtime.goparkunlock");
   assert_true(frames[0].inlined);
   assert_string_equal(frames[1].function, "runtime.(*cleanupQueue).dequeue");
   assert_int_equal(frames[1].line, 522);
   ElfFile_free(f);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_version_parsing),
      cmocka_unit_test(test_not_go),
      cmocka_unit_test(test_go119_with_symbols),
      cmocka_unit_test(test_go119_stripped_finds_the_same_allgs),
      cmocka_unit_test(test_dwarf_layout_agrees_with_table),
      cmocka_unit_test(test_go126_without_buildinfo),
      cmocka_unit_test(test_go127),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
