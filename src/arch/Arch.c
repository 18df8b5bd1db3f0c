/* x86-64: registers for libunwind, instruction operands. See Arch.h. */
#include "stacktop/Arch.h"

#include <libunwind.h>
#include <stddef.h>
#include <string.h>

/* libunwind's x86_64 register numbers to the ptrace register block. */
static const size_t regOffsets[] = {
   [UNW_X86_64_RAX] = offsetof(ArchRegs, rax), [UNW_X86_64_RDX] = offsetof(ArchRegs, rdx),
   [UNW_X86_64_RCX] = offsetof(ArchRegs, rcx), [UNW_X86_64_RBX] = offsetof(ArchRegs, rbx),
   [UNW_X86_64_RSI] = offsetof(ArchRegs, rsi), [UNW_X86_64_RDI] = offsetof(ArchRegs, rdi),
   [UNW_X86_64_RBP] = offsetof(ArchRegs, rbp), [UNW_X86_64_RSP] = offsetof(ArchRegs, rsp),
   [UNW_X86_64_R8] = offsetof(ArchRegs, r8),   [UNW_X86_64_R9] = offsetof(ArchRegs, r9),
   [UNW_X86_64_R10] = offsetof(ArchRegs, r10), [UNW_X86_64_R11] = offsetof(ArchRegs, r11),
   [UNW_X86_64_R12] = offsetof(ArchRegs, r12), [UNW_X86_64_R13] = offsetof(ArchRegs, r13),
   [UNW_X86_64_R14] = offsetof(ArchRegs, r14), [UNW_X86_64_R15] = offsetof(ArchRegs, r15),
   [UNW_X86_64_RIP] = offsetof(ArchRegs, rip),
};

bool Arch_unwindRegister(const ArchRegs* r, int reg, uint64_t* value) {
   if (reg < 0 || (size_t)reg >= sizeof(regOffsets) / sizeof(regOffsets[0]))
      return false;
   memcpy(value, (const uint8_t*)r + regOffsets[reg], sizeof(*value));
   return true;
}

int Arch_unwindFramePointer(void) {
   return UNW_X86_64_RBP;
}

size_t Arch_dataReferences(const uint8_t* code, size_t len, uint64_t vaddr, uint64_t* out, size_t max) {
   /* REX.W (0x48-0x4f), one of these opcodes, ModRM with mod 00 r/m 101
    * (rip-relative), disp32; 0x83/0x80 carry an imm8 after it. */
   static const uint8_t opcodes[] = { 0x8b, 0x89, 0x8d, 0x87, 0x39, 0x3b, 0x85, 0x83, 0x80 };
   size_t n = 0;
   for (size_t i = 0; i + 7 <= len && n < max; i++) {
      if (code[i] < 0x48 || code[i] > 0x4f || !memchr(opcodes, code[i + 1], sizeof(opcodes)) ||
          (code[i + 2] & 0xc7) != 0x05)
         continue;
      int32_t disp;
      memcpy(&disp, code + i + 3, 4);
      bool imm8 = code[i + 1] == 0x83 || code[i + 1] == 0x80;
      out[n++] = vaddr + i + 7 + (imm8 ? 1 : 0) + (uint64_t)(int64_t)disp;
   }
   return n;
}
