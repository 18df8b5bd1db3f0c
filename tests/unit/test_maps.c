/* Maps_parse on crafted text, Maps_read/Maps_find on the test process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stacktop/Maps.h"
#include "stacktop/Util.h"

static const char SAMPLE[] = "55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1311 /usr/bin/cat\n"
                             "55d0c0a02000-55d0c0a07000 r-xp 00002000 08:01 1311 /usr/bin/cat\n"
                             "55d0c1c3e000-55d0c1c5f000 rw-p 00000000 00:00 0                          [heap]\n"
                             "7f1e2a000000-7f1e2a021000 rw-p 00000000 00:00 0 \n"
                             "7f1e2b000000-7f1e2b100000 r-xp 00010000 fd:02 99 /tmp/my dir/lib with spaces.so\n"
                             "7f1e2c000000-7f1e2c001000 r-xp 00000000 00:2f 4242 /memfd:jit (deleted)\n"
                             "7f1e2d000000-7f1e2d001000 r-xp 00000000 08:01 777 /opt/app/libgone.so (deleted)\n"
                             "7ffd1e0a0000-7ffd1e0c1000 rw-p 00000000 00:00 0                          [stack]\n"
                             "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

static void test_parseSample(void** state) {
   (void)state;
   Maps maps;
   assert_int_equal(Maps_parse(&maps, SAMPLE, strlen(SAMPLE)), 0);
   assert_int_equal(maps.count, 9);
   const MapEntry* e = &maps.entries[1];
   assert_int_equal(e->start, 0x55d0c0a02000);
   assert_int_equal(e->end, 0x55d0c0a07000);
   assert_int_equal(e->offset, 0x2000);
   assert_true(e->read && !e->write && e->exec);
   assert_int_equal(e->devMajor, 8);
   assert_int_equal(e->devMinor, 1);
   assert_int_equal(e->inode, 1311);
   assert_string_equal(e->path, "/usr/bin/cat");
   assert_false(e->deleted);
   assert_string_equal(maps.entries[2].path, "[heap]");
   /* Anonymous: empty path, trailing space dropped. */
   assert_string_equal(maps.entries[3].path, "");
   assert_int_equal(maps.entries[3].inode, 0);
   assert_string_equal(maps.entries[4].path, "/tmp/my dir/lib with spaces.so");
   assert_int_equal(maps.entries[4].devMajor, 0xfd);
   assert_int_equal(maps.entries[4].devMinor, 2);
   assert_true(maps.entries[5].deleted);
   assert_string_equal(maps.entries[6].path, "/opt/app/libgone.so (deleted)");
   assert_true(maps.entries[6].deleted);
   assert_false(maps.entries[7].deleted);
   assert_int_equal(maps.entries[8].start, 0xffffffffff600000);
   assert_false(maps.entries[8].read);
   Maps_free(&maps);
   assert_int_equal(maps.count, 0);
}

static void test_malformedLinesSkipped(void** state) {
   (void)state;
   static const char text[] = "garbage\n"
                              "1000-0800 r-xp 00000000 08:01 5 /backwards\n" /* end < start */
                              "1000-2000 r-x 00000000 08:01 5 /short-perms\n"
                              "1000-2000 r-xp zz 08:01 5 /bad-offset\n"
                              "1000-2000 r-xp 00000000 0801 5 /bad-dev\n"
                              "1000-2000 r-xp 00000000 08:01\n" /* no inode */
                              "\n"
                              "3000-4000 r--p 00000000 08:01 5 /good\n"
                              "-3000-4000 r--p 00000000 08:01 5 /negative\n";
   Maps maps;
   assert_int_equal(Maps_parse(&maps, text, strlen(text)), 0);
   assert_int_equal(maps.count, 1);
   assert_string_equal(maps.entries[0].path, "/good");
   Maps_free(&maps);
   assert_int_equal(Maps_parse(&maps, "nothing useful\n", 15), -1);
   assert_int_equal(maps.count, 0);
   assert_int_equal(Maps_parse(&maps, "", 0), 0);
   assert_int_equal(maps.count, 0);
   Maps_free(&maps);
}

/* Text need not be NUL-terminated and may hold NUL bytes. */
static void test_unterminatedAndUnsorted(void** state) {
   (void)state;
   static const char text[] = "5000-6000 r--p 0 08:01 5 /b\n1000-2000 r--p 0 08:01 5 /a";
   Maps maps;
   assert_int_equal(Maps_parse(&maps, text, sizeof(text) - 3), 0);
   assert_int_equal(maps.count, 2);
   assert_int_equal(maps.entries[0].start, 0x1000);
   assert_string_equal(maps.entries[0].path, "");
   assert_int_equal(maps.entries[1].start, 0x5000);
   assert_string_equal(maps.entries[1].path, "/b");
   Maps_free(&maps);
}

static void test_find(void** state) {
   (void)state;
   Maps maps;
   assert_int_equal(Maps_parse(&maps, SAMPLE, strlen(SAMPLE)), 0);
   assert_null(Maps_find(&maps, 0));
   assert_null(Maps_find(&maps, 0x55d0c09fffff));
   assert_ptr_equal(Maps_find(&maps, 0x55d0c0a00000), &maps.entries[0]);
   assert_ptr_equal(Maps_find(&maps, 0x55d0c0a01fff), &maps.entries[0]);
   assert_ptr_equal(Maps_find(&maps, 0x55d0c0a02000), &maps.entries[1]);
   assert_null(Maps_find(&maps, 0x55d0c0a07000)); /* gap after [end) */
   assert_ptr_equal(Maps_find(&maps, 0xffffffffff600fff), &maps.entries[8]);
   Maps_free(&maps);
   Maps empty = { 0 };
   assert_null(Maps_find(&empty, 0x1000));
}

static void test_readSelf(void** state) {
   (void)state;
   Maps maps;
   char err[256];
   assert_int_equal(Maps_read(&maps, getpid(), err, sizeof(err)), 0);
   const MapEntry* e = Maps_find(&maps, (uint64_t)(uintptr_t)&test_readSelf);
   assert_non_null(e);
   assert_true(e->exec);
   assert_true(strstr(e->path, "test_maps") != NULL);
   int local;
   e = Maps_find(&maps, (uint64_t)(uintptr_t)&local);
   assert_non_null(e);
   assert_false(e->exec);
   Maps_free(&maps);
}

/* fd holds the very bytes of path, and is sealed against any size or content change. */
static void assertSameBytes(int fd, const char* path) {
   size_t len;
   char* want = Util_slurp(path, 1u << 30, &len);
   assert_non_null(want);
   struct stat st;
   assert_int_equal(fstat(fd, &st), 0);
   assert_int_equal((size_t)st.st_size, len);
   char* got = Util_xmalloc(len);
   assert_int_equal(pread(fd, got, len, 0), (ssize_t)len);
   assert_memory_equal(got, want, len);
   int seals = fcntl(fd, F_GET_SEALS);
   assert_int_equal(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
   assert_int_equal(ftruncate(fd, 0), -1);
   free(got);
   free(want);
}

/* Only regular ELF files are copied; /proc/self/maps is neither. */
static void test_sealedCopy(void** state) {
   (void)state;
   int fd = Maps_sealedCopy(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
   assert_true(fd >= 0);
   assertSameBytes(fd, "/proc/self/exe");
   close(fd);
   assert_int_equal(Maps_sealedCopy(open("/proc/self/maps", O_RDONLY | O_CLOEXEC)), -1);
   char path[] = "/tmp/test_maps.XXXXXX";
   int text = mkstemp(path);
   assert_true(text >= 0);
   assert_int_equal(write(text, "not an ELF file\n", 16), 16);
   unlink(path);
   assert_int_equal(Maps_sealedCopy(text), -1);
}

/* The file behind the mapping of our own code is our executable; anonymous
 * and pseudo mappings ([stack]) have no file to open. */
static void test_openFile(void** state) {
   (void)state;
   Maps maps;
   char err[256];
   assert_int_equal(Maps_read(&maps, getpid(), err, sizeof(err)), 0);
   const MapEntry* code = Maps_find(&maps, (uint64_t)(uintptr_t)&test_openFile);
   assert_non_null(code);
   int fd = Maps_openFile(getpid(), code);
   assert_true(fd >= 0);
   assertSameBytes(fd, "/proc/self/exe");
   close(fd);
   int local;
   const MapEntry* stack = Maps_find(&maps, (uint64_t)(uintptr_t)&local);
   assert_non_null(stack);
   assert_int_equal(Maps_openFile(getpid(), stack), -1);
   Maps_free(&maps);
}

static void test_readMissingProcess(void** state) {
   (void)state;
   Maps maps;
   char err[256] = "";
   assert_int_equal(Maps_read(&maps, 0x7ffffff0, err, sizeof(err)), -1);
   assert_true(strstr(err, "/proc/2147483632/maps") != NULL);
   assert_int_equal(maps.count, 0);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parseSample),
      cmocka_unit_test(test_malformedLinesSkipped),
      cmocka_unit_test(test_unterminatedAndUnsorted),
      cmocka_unit_test(test_find),
      cmocka_unit_test(test_readSelf),
      cmocka_unit_test(test_openFile),
      cmocka_unit_test(test_sealedCopy),
      cmocka_unit_test(test_readMissingProcess),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
