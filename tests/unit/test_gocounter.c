/* GoDetect on real and crafted executables; GoCounter against a live Go
 * fixture (tests/fixtures/go/goleak, not leaking: rate 0), whose own
 * runtime.NumGoroutine() is the oracle. Run from the repository root after
 * 'make fixtures'. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <elf.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stacktop/GoCounter.h"
#include "stacktop/GoDetect.h"
#include "stacktop/Util.h"

#define FIXTURES "build/fixtures/"

static bool preadAll(void* ctx, uint64_t offset, void* buf, size_t len) {
   int fd = *(int*)ctx;
   return pread(fd, buf, len, (off_t)offset) == (ssize_t)len;
}

static bool fileIsGo(const char* path) {
   int fd = open(path, O_RDONLY | O_CLOEXEC);
   if (fd < 0)
      fail_msg("%s is missing: run 'make fixtures' first", path);
   bool go = GoDetect_isGoElf(preadAll, &fd);
   close(fd);
   return go;
}

static void test_detects_go_executables(void** state) {
   (void)state;
   assert_true(fileIsGo(FIXTURES "goleak"));
   assert_true(fileIsGo(FIXTURES "goleak_stripped"));
   assert_true(fileIsGo(FIXTURES "goroutines_cgo")); /* external linking */
   assert_true(fileIsGo(FIXTURES "goroutines_pie"));
   assert_true(fileIsGo("build/npm/esbuild")); /* a current Go release, no build id note */
   assert_false(fileIsGo(FIXTURES "sleeper"));
   assert_false(fileIsGo("/bin/sh"));
}

/* A crafted image in memory. */
typedef struct Image_ {
   uint8_t data[4096];
   size_t size;
} Image;

static bool readImage(void* ctx, uint64_t offset, void* buf, size_t len) {
   const Image* im = ctx;
   if (offset > im->size || im->size - offset < len)
      return false;
   memcpy(buf, im->data + offset, len);
   return true;
}

/* Header, three section headers (null, .shstrtab, one named `name`) and the
 * names, with the fields the test then breaks. */
static void craft(Image* im, const char* name) {
   memset(im, 0, sizeof(*im));
   static const char strtab[] = "\0.shstrtab\0";
   Elf64_Ehdr* eh = (Elf64_Ehdr*)im->data;
   memcpy(eh->e_ident, ELFMAG, SELFMAG);
   eh->e_ident[EI_CLASS] = ELFCLASS64;
   eh->e_ident[EI_DATA] = ELFDATA2LSB;
   eh->e_shoff = 256;
   eh->e_shentsize = sizeof(Elf64_Shdr);
   eh->e_shnum = 3;
   eh->e_shstrndx = 1;
   Elf64_Shdr* sh = (Elf64_Shdr*)(im->data + 256);
   size_t names = 1024;
   memcpy(im->data + names, strtab, sizeof(strtab));
   strcpy((char*)im->data + names + sizeof(strtab), name);
   sh[1] = (Elf64_Shdr){ .sh_name = 1, .sh_offset = names, .sh_size = sizeof(strtab) + strlen(name) + 1 };
   sh[2] = (Elf64_Shdr){ .sh_name = sizeof(strtab) };
   im->size = sizeof(im->data);
}

static void test_crafted_headers_are_checked(void** state) {
   (void)state;
   Image im;
   craft(&im, ".gopclntab");
   assert_true(GoDetect_isGoElf(readImage, &im));
   craft(&im, ".gopclntabX"); /* a prefix is not the name */
   assert_false(GoDetect_isGoElf(readImage, &im));
   craft(&im, ".go.buildinfo");
   assert_true(GoDetect_isGoElf(readImage, &im));

   Elf64_Ehdr* eh = (Elf64_Ehdr*)im.data;
   Elf64_Shdr* sh = (Elf64_Shdr*)(im.data + 256);
   craft(&im, ".gopclntab");
   eh->e_shstrndx = 3; /* past the table */
   assert_false(GoDetect_isGoElf(readImage, &im));
   craft(&im, ".gopclntab");
   eh->e_shnum = 60000; /* more headers than the file holds, and than allowed */
   assert_false(GoDetect_isGoElf(readImage, &im));
   craft(&im, ".gopclntab");
   sh[1].sh_size = 1u << 30; /* names past the end of the file */
   assert_false(GoDetect_isGoElf(readImage, &im));
   craft(&im, ".gopclntab");
   sh[1].sh_size = 5; /* the name runs past the table: never read beyond it */
   sh[2].sh_name = 3;
   assert_false(GoDetect_isGoElf(readImage, &im));
   craft(&im, ".gopclntab");
   sh[2].sh_name = 0xfffffff0u;
   assert_false(GoDetect_isGoElf(readImage, &im));
   craft(&im, ".gopclntab");
   im.size = 40; /* truncated header */
   assert_false(GoDetect_isGoElf(readImage, &im));
}

/* ---- live -------------------------------------------------------------- */

typedef struct Fixture_ {
   pid_t pid;
   int out; /* its stdout */
} Fixture;

static bool readLine(int fd, char* buf, size_t size, const char* prefix) {
   size_t len = 0;
   double deadline = Util_monotonicSeconds() + 20;
   while (Util_monotonicSeconds() < deadline && len < size - 1) {
      struct pollfd p = { .fd = fd, .events = POLLIN };
      if (poll(&p, 1, 100) != 1)
         continue;
      char c;
      if (read(fd, &c, 1) != 1)
         return false;
      if (c != '\n') {
         buf[len++] = c;
         continue;
      }
      buf[len] = '\0';
      if (strncmp(buf, prefix, strlen(prefix)) == 0)
         return true;
      len = 0;
   }
   return false;
}

static int setup(void** state) {
   Fixture* f = test_calloc(1, sizeof(*f));
   int fds[2];
   assert_int_equal(pipe(fds), 0);
   f->pid = fork();
   assert_true(f->pid >= 0);
   if (f->pid == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      execl(FIXTURES "goleak", "goleak", "0", (char*)NULL);
      _exit(127);
   }
   close(fds[1]);
   f->out = fds[0];
   char line[128];
   if (!readLine(f->out, line, sizeof(line), "ready")) {
      kill(f->pid, SIGKILL);
      waitpid(f->pid, NULL, 0);
      fail_msg(FIXTURES "goleak did not become ready (run 'make fixtures')");
   }
   *state = f;
   return 0;
}

static int teardown(void** state) {
   Fixture* f = *state;
   kill(f->pid, SIGKILL);
   waitpid(f->pid, NULL, 0);
   close(f->out);
   test_free(f);
   return 0;
}

static long selfReported(Fixture* f) {
   kill(f->pid, SIGUSR1);
   char line[128];
   assert_true(readLine(f->out, line, sizeof(line), "goroutines "));
   return atol(line + strlen("goroutines "));
}

static unsigned long long startTime(pid_t pid) {
   char path[64], buf[1024];
   snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
   assert_true(Util_readFile(path, buf, sizeof(buf)) > 0);
   const char* p = strrchr(buf, ')');
   unsigned long long v = 0;
   assert_int_equal(
       sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &v), 1);
   return v;
}

/* The count matches what the program says of itself, refresh after
 * refresh; its parked goroutines are split by reason. */
static void test_counts_like_num_goroutine(void** state) {
   Fixture* f = *state;
   GoCounter* c = GoCounter_new();
   unsigned long long st = startTime(f->pid);
   for (int refresh = 0; refresh < 3; refresh++) {
      long before = selfReported(f);
      GoCount n;
      assert_true(GoCounter_read(c, f->pid, st, &n));
      long after = selfReported(f);
      GoCounter_sweep(c);
      /* not leaking: the same number before and after, and ours */
      assert_int_equal(before, after);
      assert_int_equal((long)n.total, before);
      assert_true(n.system >= 2); /* the runtime's own: GC workers, finalizers... */
      size_t states = 0;
      for (int s = 0; s < GO_COUNT_STATES; s++)
         states += n.states[s];
      assert_int_equal(states, n.total);
      size_t selects = 0, byReason = 0;
      for (size_t r = 0; r < GO_COUNT_REASONS; r++) {
         byReason += n.reasons[r];
         if (n.reasons[r] && strcmp(GoCount_reasonName(&n, r), "select (no cases)") == 0)
            selects += n.reasons[r];
      }
      assert_int_equal(byReason, n.states[GO_COUNT_WAITING]);
      assert_true(selects >= 2); /* main and the idle worker */
   }
   GoCounter_free(c);
}

/* Not Go, gone, or a reused pid: no count and no error. */
static void test_non_go_and_gone(void** state) {
   Fixture* f = *state;
   GoCounter* c = GoCounter_new();
   GoCount n;
   assert_false(GoCounter_read(c, getpid(), startTime(getpid()), &n));
   assert_int_equal(n.total, 0);
   assert_false(GoCounter_read(c, 999999999, 1, &n));
   /* the fixture, then the same pid with another start time (reuse): the
    * entry is rebuilt, and it still counts */
   assert_true(GoCounter_read(c, f->pid, startTime(f->pid), &n));
   assert_true(GoCounter_read(c, f->pid, startTime(f->pid) + 1, &n));
   GoCounter_sweep(c);
   GoCounter_sweep(c); /* not read since: forgotten */
   assert_true(GoCounter_read(c, f->pid, startTime(f->pid), &n));
   GoCounter_free(c);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_detects_go_executables),
      cmocka_unit_test(test_crafted_headers_are_checked),
      cmocka_unit_test_setup_teardown(test_counts_like_num_goroutine, setup, teardown),
      cmocka_unit_test_setup_teardown(test_non_go_and_gone, setup, teardown),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
