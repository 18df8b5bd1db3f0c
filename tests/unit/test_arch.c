/* Arch: libunwind register numbers to the ptrace block, and the data
 * references found in machine code (x86-64). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <libunwind.h>
#include <string.h>

#include "stacktop/Arch.h"

static void test_registers(void** state) {
   (void)state;
   ArchRegs r;
   memset(&r, 0, sizeof(r));
   r.rip = 0x401000;
   r.rsp = 0x7ffc0000;
   r.rbp = 0x7ffc0040;
   r.r15 = 15;
   r.fs_base = 0x7f0000001000;
   r.orig_rax = (unsigned long long)-1;
   uint64_t v;
   assert_true(Arch_unwindRegister(&r, UNW_X86_64_RIP, &v) && v == 0x401000);
   assert_true(Arch_unwindRegister(&r, UNW_X86_64_RSP, &v) && v == 0x7ffc0000);
   assert_true(Arch_unwindRegister(&r, Arch_unwindFramePointer(), &v) && v == 0x7ffc0040);
   assert_true(Arch_unwindRegister(&r, UNW_X86_64_R15, &v) && v == 15);
   assert_false(Arch_unwindRegister(&r, -1, &v));
   assert_false(Arch_unwindRegister(&r, 1000, &v));
   assert_int_equal(Arch_pc(&r), 0x401000);
   assert_int_equal(Arch_sp(&r), 0x7ffc0000);
   assert_int_equal(Arch_threadPointer(&r), 0x7f0000001000);
   assert_false(Arch_inSystemCall(&r)); /* orig_rax -1: interrupted in user code */
   r.orig_rax = 230;                    /* clock_nanosleep */
   assert_true(Arch_inSystemCall(&r));
}

static void test_data_references(void** state) {
   (void)state;
   static const uint8_t code[] = {
      0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00,       /* mov rax, [rip+0x10] */
      0x90,                                           /* nop */
      0x48, 0x83, 0x3d, 0x00, 0x01, 0x00, 0x00, 0x05, /* cmp qword [rip+0x100], 5 */
      0x8b, 0x05, 0x00, 0x00, 0x00, 0x00,             /* 32-bit mov: no REX.W, not a slice word */
      0x4c, 0x89, 0x0d, 0xf0, 0xff, 0xff, 0xff,       /* mov [rip-0x10], r9 */
   };
   uint64_t out[8];
   size_t n = Arch_dataReferences(code, sizeof(code), 0x1000, out, 8);
   assert_int_equal(n, 3);
   assert_int_equal(out[0], 0x1000 + 7 + 0x10);
   assert_int_equal(out[1], 0x1008 + 8 + 0x100);
   assert_int_equal(out[2], 0x1016 + 7 - 0x10);
   assert_int_equal(Arch_dataReferences(code, sizeof(code), 0x1000, out, 1), 1);
   assert_int_equal(Arch_dataReferences(code, 6, 0x1000, out, 8), 0); /* never reads past len */
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registers),
      cmocka_unit_test(test_data_references),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
