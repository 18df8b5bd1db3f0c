/* Symbols_lookup on the test process itself: own functions, libc named as
 * libc6-dbg's .symtab names it, file:line, inlined frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "stacktop/Maps.h"
#include "stacktop/Symbols.h"
#include "stacktop/Util.h"

#define NOINLINE __attribute__((noinline, used))

/* Written by captureReturn; volatile so the calls stay calls. */
static void* volatile capturedReturn;
static volatile int sink;

static NOINLINE int captureReturn(void) {
   capturedReturn = __builtin_return_address(0);
   return sink;
}

/* One line, so the entry address has this line at any optimization level. */
// clang-format off
static const int KNOWN_LINE = __LINE__ + 1;
static NOINLINE int knownFunction(int x) { sink = x; return sink + 1; }
// clang-format on

static const int INLINE_CALL_LINE = __LINE__ + 3;
static inline __attribute__((always_inline)) int inlinedHelper(int x) {
   sink = x;
   int r = captureReturn();
   return r * 7 + x;
}

static const int OUTER_CALL_LINE = __LINE__ + 3;
static NOINLINE int outerFunction(int x) {
   sink = x + 1;
   int v = inlinedHelper(x);
   return v * 3 + sink;
}

static void* threadBody(void* arg) {
   (void)arg;
   capturedReturn = __builtin_return_address(0);
   return NULL;
}

typedef struct Fixture_ {
   Maps maps;
   Symbols* symbols;
} Fixture;

static int setupLines(void** state) {
   Fixture* f = test_calloc(1, sizeof(*f));
   char err[256];
   if (Maps_read(&f->maps, getpid(), err, sizeof(err)) < 0)
      return -1;
   f->symbols = Symbols_new(true);
   *state = f;
   return 0;
}

static int teardown(void** state) {
   Fixture* f = *state;
   Symbols_free(f->symbols);
   Maps_free(&f->maps);
   test_free(f);
   return 0;
}

static bool endsWith(const char* s, const char* suffix) {
   size_t a = strlen(s), b = strlen(suffix);
   return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void test_ownStaticFunction(void** state) {
   Fixture* f = *state;
   SymbolFrame frames[8];
   uint64_t addr = (uint64_t)(uintptr_t)&knownFunction;
   size_t n = Symbols_lookup(f->symbols, getpid(), &f->maps, addr + 2, frames, 8);
   assert_int_equal(n, 1);
   assert_non_null(frames[0].function);
   assert_string_equal(frames[0].function, "knownFunction");
   assert_int_equal(frames[0].offset, 2);
   assert_false(frames[0].inlined);
   assert_non_null(frames[0].module);
   assert_true(endsWith(frames[0].module, "test_symbols"));
   /* The entry's first instructions belong to the function's opening line. */
   n = Symbols_lookup(f->symbols, getpid(), &f->maps, addr, frames, 8);
   assert_int_equal(n, 1);
   assert_non_null(frames[0].file);
   assert_true(endsWith(frames[0].file, "test_symbols.c"));
   assert_int_equal(frames[0].line, KNOWN_LINE);
}

static void test_inlinedFrame(void** state) {
   Fixture* f = *state;
   outerFunction(5);
   uint64_t pc = (uint64_t)(uintptr_t)capturedReturn - 1;
   SymbolFrame frames[8];
   size_t n = Symbols_lookup(f->symbols, getpid(), &f->maps, pc, frames, 8);
   assert_int_equal(n, 2);
   assert_true(frames[0].inlined);
   assert_string_equal(frames[0].function, "inlinedHelper");
   assert_int_equal(frames[0].line, INLINE_CALL_LINE);
   assert_true(endsWith(frames[0].file, "test_symbols.c"));
   assert_false(frames[1].inlined);
   assert_string_equal(frames[1].function, "outerFunction");
   assert_int_equal(frames[1].line, OUTER_CALL_LINE);
   assert_int_equal(frames[1].offset, pc - (uint64_t)(uintptr_t)&outerFunction);
   /* maxFrames bounds the output; the real function is kept, with its call line. */
   assert_int_equal(Symbols_lookup(f->symbols, getpid(), &f->maps, pc, frames, 1), 1);
   assert_string_equal(frames[0].function, "outerFunction");
   assert_false(frames[0].inlined);
   assert_int_equal(frames[0].line, OUTER_CALL_LINE);
}

static void test_libcExportedName(void** state) {
   Fixture* f = *state;
   SymbolFrame frames[8];
   uint64_t addr = (uint64_t)(uintptr_t)&nanosleep;
   size_t n = Symbols_lookup(f->symbols, getpid(), &f->maps, addr + 5, frames, 8);
   assert_true(n >= 1);
   SymbolFrame* real = &frames[n - 1];
   assert_non_null(real->function);
   /* __nanosleep (global) and nanosleep (weak) alias: fewer underscores win. */
   assert_string_equal(real->function, "nanosleep");
   assert_int_equal(real->offset, 5);
   assert_true(strstr(real->module, "libc.so.6") != NULL);
}

/* start_thread is local to libc: only libc6-dbg's .symtab names it. */
static void test_libcLocalNameFromDebugFile(void** state) {
   Fixture* f = *state;
   pthread_t t;
   assert_int_equal(pthread_create(&t, NULL, threadBody, NULL), 0);
   pthread_join(t, NULL);
   SymbolFrame frames[8];
   uint64_t pc = (uint64_t)(uintptr_t)capturedReturn - 1;
   size_t n = Symbols_lookup(f->symbols, getpid(), &f->maps, pc, frames, 8);
   assert_true(n >= 1);
   assert_non_null(frames[n - 1].function);
   assert_string_equal(frames[n - 1].function, "start_thread");
   assert_true(frames[n - 1].offset > 0);
}

static void test_unknownAddresses(void** state) {
   Fixture* f = *state;
   SymbolFrame frames[4];
   /* Unmapped, then anonymous (the stack): one frame, no function. */
   assert_int_equal(Symbols_lookup(f->symbols, getpid(), &f->maps, 16, frames, 4), 1);
   assert_null(frames[0].function);
   assert_null(frames[0].module);
   int local = 0;
   assert_int_equal(Symbols_lookup(f->symbols, getpid(), &f->maps, (uint64_t)(uintptr_t)&local, frames, 4), 1);
   assert_null(frames[0].function);
   assert_int_equal(Symbols_lookup(f->symbols, getpid(), &f->maps, 16, frames, 0), 0);
}

static void test_withoutLines(void** state) {
   Fixture* f = *state;
   Symbols* plain = Symbols_new(false);
   SymbolFrame frames[4];
   outerFunction(2);
   uint64_t pc = (uint64_t)(uintptr_t)capturedReturn - 1;
   size_t n = Symbols_lookup(plain, getpid(), &f->maps, pc, frames, 4);
   assert_int_equal(n, 1);
   assert_string_equal(frames[0].function, "outerFunction");
   assert_null(frames[0].file);
   assert_int_equal(frames[0].line, 0);
   Symbols_free(plain);
}

/* The cache answers repeated lookups with the same strings. */
static void test_cacheStable(void** state) {
   Fixture* f = *state;
   SymbolFrame a[4], b[4];
   uint64_t addr = (uint64_t)(uintptr_t)&knownFunction;
   Symbols_lookup(f->symbols, getpid(), &f->maps, addr, a, 4);
   Symbols_lookup(f->symbols, getpid(), &f->maps, addr, b, 4);
   assert_ptr_equal(a[0].function, b[0].function);
   assert_ptr_equal(a[0].module, b[0].module);
}

/* A thread parked in pthread_cond_wait: its user PC (from
 * /proc/self/task/TID/syscall) is in the function libc6-dbg calls
 * __futex_abstimed_wait_common, which .dynsym alone would misname. */
typedef struct Parked_ {
   pthread_mutex_t lock;
   pthread_cond_t cond;
   bool release;
   pid_t tid;
} Parked;

static void* parkedBody(void* arg) {
   Parked* p = arg;
   pthread_mutex_lock(&p->lock);
   p->tid = gettid();
   while (!p->release)
      pthread_cond_wait(&p->cond, &p->lock);
   pthread_mutex_unlock(&p->lock);
   return NULL;
}

/* The PC once the thread sits in futex(2) (syscall 202), or 0 after ~5 s. */
static uint64_t waitForFutexPc(pid_t tid) {
   char path[64], buf[256];
   Util_format(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
   for (int i = 0; i < 500; i++) {
      long nr = -1;
      unsigned long long args[6], sp, pc;
      if (Util_readFile(path, buf, sizeof(buf)) > 0 &&
          sscanf(buf, "%ld %llx %llx %llx %llx %llx %llx %llx %llx", &nr, &args[0], &args[1], &args[2], &args[3],
                 &args[4], &args[5], &sp, &pc) == 9 &&
          nr == 202)
         return pc;
      usleep(10000);
   }
   return 0;
}

static void test_libcFutexWait(void** state) {
   Fixture* f = *state;
   Parked p = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
   pthread_t t;
   assert_int_equal(pthread_create(&t, NULL, parkedBody, &p), 0);
   pid_t tid = 0;
   while (tid == 0) {
      pthread_mutex_lock(&p.lock);
      tid = p.tid;
      pthread_mutex_unlock(&p.lock);
   }
   uint64_t pc = waitForFutexPc(tid);
   pthread_mutex_lock(&p.lock);
   p.release = true;
   pthread_cond_signal(&p.cond);
   pthread_mutex_unlock(&p.lock);
   pthread_join(t, NULL);
   assert_true(pc != 0);
   SymbolFrame frames[8];
   /* The syscall's return address: look up pc-1 as for any return address. */
   size_t n = Symbols_lookup(f->symbols, getpid(), &f->maps, pc - 1, frames, 8);
   assert_true(n >= 1);
   assert_non_null(frames[n - 1].function);
   assert_string_equal(frames[n - 1].function, "__futex_abstimed_wait_common");
   assert_true(strstr(frames[n - 1].module, "libc.so.6") != NULL);
}

/* [vdso] frames are named from the kernel's vDSO symbols. */
static void test_vdso(void** state) {
   Fixture* f = *state;
   void* vdso = dlopen("linux-vdso.so.1", RTLD_LAZY | RTLD_NOLOAD);
   assert_non_null(vdso);
   void* fn = dlsym(vdso, "__vdso_clock_gettime");
   assert_non_null(fn);
   SymbolFrame frames[4];
   size_t n = Symbols_lookup(f->symbols, getpid(), &f->maps, (uint64_t)(uintptr_t)fn + 4, frames, 4);
   assert_int_equal(n, 1);
   assert_non_null(frames[0].function);
   /* __vdso_clock_gettime (global) and clock_gettime (weak): fewer underscores win. */
   assert_string_equal(frames[0].function, "clock_gettime");
   assert_int_equal(frames[0].offset, 4);
   assert_string_equal(frames[0].module, "[vdso]");
   dlclose(vdso);
}

/* libc6-dbg's compressed DWARF gives libc frames file:line (read lazily:
 * DwarfImage), with their inlined calls. */
static void test_libcLines(void** state) {
   Fixture* f = *state;
   SymbolFrame frames[8];
   uint64_t addr = (uint64_t)(uintptr_t)&nanosleep + 5;
   size_t n = Symbols_lookup(f->symbols, getpid(), &f->maps, addr, frames, 8);
   assert_true(n >= 1);
   assert_string_equal(frames[n - 1].function, "nanosleep");
   assert_non_null(frames[n - 1].file);
   assert_true(strstr(frames[n - 1].file, "nanosleep.c") != NULL);
   assert_true(frames[n - 1].line > 0);
}

/* A scratch directory with a stripped copy of this binary and its split
 * debug file, made with binutils' objcopy. */
typedef struct SplitCopy_ {
   char dir[64];
   char binary[128];
   char debug[128];
} SplitCopy;

static int run(const char* command) {
   int rc = system(command);
   return rc == 0 ? 0 : -1;
}

static void makeSplitCopy(SplitCopy* c) {
   Util_format(c->dir, sizeof(c->dir), "/tmp/stacktop-test-symbols-XXXXXX");
   assert_non_null(mkdtemp(c->dir));
   Util_format(c->binary, sizeof(c->binary), "%s/prog", c->dir);
   Util_format(c->debug, sizeof(c->debug), "%s/prog.dbg", c->dir);
   char cmd[1024];
   Util_format(cmd, sizeof(cmd),
               "objcopy --only-keep-debug /proc/%d/exe %s && "
               "objcopy --strip-all --remove-section=.note.gnu.build-id --add-gnu-debuglink=%s /proc/%d/exe %s",
               (int)getpid(), c->debug, c->debug, (int)getpid(), c->binary);
   assert_int_equal(run(cmd), 0);
}

static void removeSplitCopy(const SplitCopy* c) {
   unlink(c->binary);
   unlink(c->debug);
   rmdir(c->dir);
}

/* Maps with one entry: this binary's text mapping, as if it came from path. */
static void fakeMapping(const Fixture* f, const char* path, Maps* out, uint64_t* addr) {
   *addr = (uint64_t)(uintptr_t)&knownFunction;
   const MapEntry* e = Maps_find(&f->maps, *addr);
   assert_non_null(e);
   struct stat st;
   assert_int_equal(stat(path, &st), 0);
   char text[512];
   Util_format(text, sizeof(text), "%" PRIx64 "-%" PRIx64 " r-xp %" PRIx64 " %x:%x %lu %s\n", e->start, e->end,
               e->offset, major(st.st_dev), minor(st.st_dev), (unsigned long)st.st_ino, path);
   assert_int_equal(Maps_parse(out, text, strlen(text)), 0);
   assert_int_equal(out->count, 1);
}

/* No build-id: the debug file is found by .gnu_debuglink next to the binary. */
static void test_debuglinkWithCrc(void** state) {
   Fixture* f = *state;
   SplitCopy c;
   makeSplitCopy(&c);
   Maps maps;
   uint64_t addr;
   fakeMapping(f, c.binary, &maps, &addr);
   Symbols* symbols = Symbols_new(true);
   SymbolFrame frames[8];
   size_t n = Symbols_lookup(symbols, getpid(), &maps, addr + 1, frames, 8);
   assert_int_equal(n, 1);
   assert_non_null(frames[0].function);
   assert_string_equal(frames[0].function, "knownFunction");
   assert_int_equal(frames[0].offset, 1);
   assert_int_equal(frames[0].line, KNOWN_LINE);
   assert_string_equal(frames[0].module, c.binary);
   Symbols_free(symbols);
   Maps_free(&maps);
   /* A debug file whose CRC no longer matches is ignored. */
   FILE* fp = fopen(c.debug, "a");
   assert_non_null(fp);
   fputc('x', fp);
   fclose(fp);
   fakeMapping(f, c.binary, &maps, &addr);
   symbols = Symbols_new(true);
   n = Symbols_lookup(symbols, getpid(), &maps, addr + 1, frames, 8);
   assert_int_equal(n, 1);
   assert_null(frames[0].function);
   assert_null(frames[0].file);
   Symbols_free(symbols);
   Maps_free(&maps);
   removeSplitCopy(&c);
}

/* A mapping whose file was deleted is read through /proc/PID/map_files. */
static void test_deletedFile(void** state) {
   Fixture* f = *state;
   char path[] = "/tmp/stacktop-test-deleted-XXXXXX";
   int out = mkstemp(path);
   assert_true(out >= 0);
   char cmd[256];
   Util_format(cmd, sizeof(cmd), "cp /proc/%d/exe %s", (int)getpid(), path);
   assert_int_equal(run(cmd), 0);
   struct stat st;
   assert_int_equal(fstat(out, &st), 0);
   void* map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, out, 0);
   assert_true(map != MAP_FAILED);
   close(out);
   unlink(path);
   /* The same file offset as knownFunction in the running binary. */
   uint64_t addr = (uint64_t)(uintptr_t)&knownFunction;
   const MapEntry* e = Maps_find(&f->maps, addr);
   uint64_t inCopy = (uint64_t)(uintptr_t)map + (addr - e->start + e->offset);
   Maps maps;
   char err[256];
   assert_int_equal(Maps_read(&maps, getpid(), err, sizeof(err)), 0);
   const MapEntry* copy = Maps_find(&maps, inCopy);
   assert_non_null(copy);
   assert_true(copy->deleted);
   SymbolFrame frames[8];
   size_t n = Symbols_lookup(f->symbols, getpid(), &maps, inCopy + 3, frames, 8);
   assert_int_equal(n, 1);
   assert_non_null(frames[0].function);
   assert_string_equal(frames[0].function, "knownFunction");
   assert_int_equal(frames[0].offset, 3);
   assert_true(strstr(frames[0].module, "(deleted)") != NULL);
   Maps_free(&maps);
   munmap(map, (size_t)st.st_size);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_ownStaticFunction, setupLines, teardown),
      cmocka_unit_test_setup_teardown(test_inlinedFrame, setupLines, teardown),
      cmocka_unit_test_setup_teardown(test_libcExportedName, setupLines, teardown),
      cmocka_unit_test_setup_teardown(test_libcLocalNameFromDebugFile, setupLines, teardown),
      cmocka_unit_test_setup_teardown(test_unknownAddresses, setupLines, teardown),
      cmocka_unit_test_setup_teardown(test_withoutLines, setupLines, teardown),
      cmocka_unit_test_setup_teardown(test_cacheStable, setupLines, teardown),
      cmocka_unit_test_setup_teardown(test_libcFutexWait, setupLines, teardown),
      cmocka_unit_test_setup_teardown(test_vdso, setupLines, teardown),
      cmocka_unit_test_setup_teardown(test_libcLines, setupLines, teardown),
      cmocka_unit_test_setup_teardown(test_debuglinkWithCrc, setupLines, teardown),
      cmocka_unit_test_setup_teardown(test_deletedFile, setupLines, teardown),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
