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

static void test_unalignedProgramHeaders(void** state) {
   (void)state;
   char path[] = "/tmp/stacktop-unwind-XXXXXX";
   int fd = mkstemp(path);
   assert_true(fd >= 0);
   close(fd);
   writeOddPhdrElf(path);
   struct stat st;
   assert_int_equal(stat(path, &st), 0);

   MapEntry entry = { .start = MAP_START,
                      .end = MAP_START + IMAGE_SIZE,
                      .read = true,
                      .exec = true,
                      .devMajor = major(st.st_dev),
                      .devMinor = minor(st.st_dev),
                      .inode = st.st_ino,
                      .path = path };
   /* A frame-pointer chain of one caller: saved rbp 0, return address in the image. */
   uint64_t stack[8] = { 0 };
   stack[3] = MAP_START + 0x200;
   SnapshotThread thread = {
      .tid = getpid(), .captured = true, .stackStart = STACK_START, .stack = (uint8_t*)stack, .stackSize = sizeof(stack)
   };
   thread.regs.rip = MAP_START + 0x100;
   thread.regs.rsp = STACK_START;
   thread.regs.rbp = STACK_START + 2 * sizeof(uint64_t);
   Snapshot snap = { .pid = getpid(), .threads = &thread, .threadCount = 1, .maps = { .entries = &entry, .count = 1 } };

   ElfCache* cache = ElfCache_new();
   Unwind* unwind = Unwind_new(&snap, cache);
   uint64_t pcs[8];
   size_t n = Unwind_thread(unwind, &thread, pcs, 8);
   Unwind_free(unwind);
   ElfCache_free(cache);
   unlink(path);
   /* The interrupted IP, then the caller found through the frame pointer. */
   assert_int_equal(n, 2);
   assert_int_equal(pcs[0], MAP_START + 0x100);
   assert_int_equal(pcs[1], MAP_START + 0x200);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unalignedProgramHeaders),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
