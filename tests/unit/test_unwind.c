/* Unwind on hand-made snapshots: the ELF files behind a target's mappings
 * are the target owner's to craft, so their headers need not be aligned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "stacktop/ElfCache.h"
#include "stacktop/Snapshot.h"
#include "stacktop/Unwind.h"

#define IMAGE_SIZE 4096
#define MAP_START 0x400000u
#define STACK_START 0x70000000u

/* An ELF whose one PT_LOAD header sits at an odd file offset. */
static void writeOddPhdrElf(const char* path) {
   static uint8_t file[IMAGE_SIZE];
   memset(file, 0, sizeof(file));
   Elf64_Ehdr eh = { .e_type = ET_DYN,
                     .e_machine = EM_X86_64,
                     .e_version = EV_CURRENT,
                     .e_phoff = 0x41,
                     .e_phentsize = sizeof(Elf64_Phdr),
                     .e_phnum = 1,
                     .e_ehsize = sizeof(Elf64_Ehdr) };
   memcpy(eh.e_ident, ELFMAG, SELFMAG);
   eh.e_ident[EI_CLASS] = ELFCLASS64;
   eh.e_ident[EI_DATA] = ELFDATA2LSB;
   eh.e_ident[EI_VERSION] = EV_CURRENT;
   Elf64_Phdr load = { .p_type = PT_LOAD,
                       .p_flags = PF_R | PF_X,
                       .p_offset = 0,
                       .p_vaddr = 0,
                       .p_filesz = IMAGE_SIZE,
                       .p_memsz = IMAGE_SIZE,
                       .p_align = 0x1000 };
   memcpy(file, &eh, sizeof(eh));
   memcpy(file + eh.e_phoff, &load, sizeof(load));
   FILE* f = fopen(path, "wb");
   assert_non_null(f);
   assert_int_equal(fwrite(file, 1, sizeof(file), f), sizeof(file));
   assert_int_equal(fclose(f), 0);
}

/* A target of one odd-headered image at MAP_START and a thread stopped in
 * it with a frame-pointer chain of one caller (saved rbp 0, return address
 * in the image) on an 8-word stack copy. */
typedef struct Target_ {
   char path[64];
   MapEntry entry;
   uint64_t stack[8];
   SnapshotThread thread;
} Target;

static void setUp(Target* t) {
   memset(t, 0, sizeof(*t));
   strcpy(t->path, "/tmp/stacktop-unwind-XXXXXX");
   int fd = mkstemp(t->path);
   assert_true(fd >= 0);
   close(fd);
   writeOddPhdrElf(t->path);
   struct stat st;
   assert_int_equal(stat(t->path, &st), 0);
   t->entry = (MapEntry){ .start = MAP_START,
                          .end = MAP_START + IMAGE_SIZE,
                          .read = true,
                          .exec = true,
                          .devMajor = major(st.st_dev),
                          .devMinor = minor(st.st_dev),
                          .inode = st.st_ino,
                          .path = t->path };
   t->stack[3] = MAP_START + 0x200;
   t->thread = (SnapshotThread){ .tid = getpid(),
                                 .captured = true,
                                 .stackStart = STACK_START,
                                 .stack = (uint8_t*)t->stack,
                                 .stackSize = sizeof(t->stack) };
   t->thread.regs.rip = MAP_START + 0x100;
   t->thread.regs.rsp = STACK_START;
   t->thread.regs.rbp = STACK_START + 2 * sizeof(uint64_t);
}

static size_t unwindTarget(Target* t, size_t maxFrames, UnwindStack* out) {
   static uint64_t pcs[8];
   static uint8_t kinds[8];
   *out = (UnwindStack){ .pcs = pcs, .kinds = kinds };
   Snapshot snap = {
      .pid = getpid(), .threads = &t->thread, .threadCount = 1, .maps = { .entries = &t->entry, .count = 1 }
   };
   ElfCache* cache = ElfCache_new();
   Unwind* unwind = Unwind_new(&snap, cache);
   size_t n = Unwind_thread(unwind, &t->thread, maxFrames, out);
   Unwind_free(unwind);
   ElfCache_free(cache);
   unlink(t->path);
   return n;
}

static void test_unalignedProgramHeaders(void** state) {
   (void)state;
   Target t;
   setUp(&t);
   UnwindStack s;
   size_t n = unwindTarget(&t, 8, &s);
   /* The interrupted IP, then the caller found through the frame pointer;
    * rbp 0 is the end of the chain: a whole stack. */
   assert_int_equal(n, 2);
   assert_int_equal(s.pcs[0], MAP_START + 0x100);
   assert_int_equal(s.kinds[0], DUMP_PC_EXACT);
   assert_int_equal(s.pcs[1], MAP_START + 0x200);
   assert_int_equal(s.kinds[1], DUMP_PC_RETURN);
   assert_int_equal(s.cut, DUMP_CUT_NONE);
}

static void test_depthLimitIsACut(void** state) {
   (void)state;
   Target t;
   setUp(&t);
   UnwindStack s;
   assert_int_equal(unwindTarget(&t, 1, &s), 1);
   assert_int_equal(s.cut, DUMP_CUT_DEPTH);
}

/* The caller's frame lies past the copied part: the copy limit when the
 * copy was cut short; just above a stack copied to its top, the end of the
 * stack (no caller: a thread just born in clone3); far away, memory that
 * was not there to read. */
static void test_copyLimitAndUnreadable(void** state) {
   (void)state;
   Target t;
   setUp(&t);
   t.thread.regs.rbp = STACK_START + sizeof(t.stack);
   t.thread.stackCut = true;
   UnwindStack s;
   assert_int_equal(unwindTarget(&t, 8, &s), 1);
   assert_int_equal(s.cut, DUMP_CUT_COPY_LIMIT);

   setUp(&t);
   t.thread.regs.rbp = STACK_START + sizeof(t.stack);
   assert_int_equal(unwindTarget(&t, 8, &s), 1);
   assert_int_equal(s.cut, DUMP_CUT_NONE);

   setUp(&t);
   t.thread.regs.rbp = STACK_START + 0x100000;
   assert_int_equal(unwindTarget(&t, 8, &s), 1);
   assert_int_equal(s.cut, DUMP_CUT_UNREADABLE);
}

/* A frame pointer that points to itself: the caller's frame is not above
 * the callee's, which must end the walk instead of looping, and say the
 * stack is partial (there is no CFI to do better). */
static void test_frameThatDoesNotGrowIsACut(void** state) {
   (void)state;
   Target t;
   setUp(&t);
   t.stack[2] = STACK_START + 2 * sizeof(uint64_t);
   UnwindStack s;
   size_t n = unwindTarget(&t, 8, &s);
   assert_true(n >= 2 && n < 8);
   assert_true(s.cut == DUMP_CUT_BAD_FRAME || s.cut == DUMP_CUT_NO_INFO);
}

static void test_threadThatNeverStopped(void** state) {
   (void)state;
   Target t;
   setUp(&t);
   t.thread.captured = false;
   UnwindStack s;
   assert_int_equal(unwindTarget(&t, 8, &s), 0);
   assert_int_equal(s.cut, DUMP_CUT_NOT_STOPPED);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unalignedProgramHeaders), cmocka_unit_test(test_depthLimitIsACut),
      cmocka_unit_test(test_copyLimitAndUnreadable),  cmocka_unit_test(test_frameThatDoesNotGrowIsACut),
      cmocka_unit_test(test_threadThatNeverStopped),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
