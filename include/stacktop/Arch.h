#ifndef STACKTOP_ARCH_H
#define STACKTOP_ARCH_H
/* The one seam for the processor architecture. stacktop reads registers
 * from ptrace, copies stacks below the stack pointer, unwinds with
 * libunwind's remote interface and checks ELF machines: everything that
 * depends on the processor is named here and in src/arch/Arch.c, and
 * nowhere else (Go's runtime.g offsets in GoLayout are those of amd64
 * builds: a port adds that architecture's rows). Only x86-64 exists so far; another architecture fails to
 * build here rather than misreading targets. */
#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

#if !defined(__x86_64__)
#error "stacktop supports x86-64 only: port include/stacktop/Arch.h and src/arch/Arch.c to this architecture"
#endif

/* The register block PTRACE_GETREGSET (NT_PRSTATUS) fills. */
typedef struct user_regs_struct ArchRegs;

/* ELF e_machine of the programs stacktop can read. */
#define ARCH_ELF_MACHINE EM_X86_64
#define ARCH_NAME "x86_64"
/* Bytes below the stack pointer a leaf function may use (the ABI's red zone). */
#define ARCH_RED_ZONE 128
/* User-space addresses are below this (canonical 48-bit addresses). */
#define ARCH_USER_ADDR_LIMIT ((uint64_t)1 << 47)

static inline uint64_t Arch_pc(const ArchRegs* r) {
   return r->rip;
}

static inline uint64_t Arch_sp(const ArchRegs* r) {
   return r->rsp;
}

/* The thread pointer (glibc's struct pthread, Go's TLS block ends there). */
static inline uint64_t Arch_threadPointer(const ArchRegs* r) {
   return r->fs_base;
}

/* Stopped inside a system call (its number is kept), not in user code. */
static inline bool Arch_inSystemCall(const ArchRegs* r) {
   return (int64_t)r->orig_rax >= 0;
}

/* libunwind's search of an .eh_frame_hdr table for a remote address space:
 * exported by libunwind-x86_64 (libunwind-ptrace uses it) but not declared
 * in its 1.6 headers (Unwind.c declares it under this name). */
#define Arch_dwarfSearchUnwindTable _Ux86_64_dwarf_search_unwind_table

/* The value of libunwind register number reg (UNW_X86_64_*): false for one
 * the register block does not hold. */
bool Arch_unwindRegister(const ArchRegs* r, int reg, uint64_t* value);
/* libunwind's number for the frame-pointer register. */
int Arch_unwindFramePointer(void);

/* The addresses of 8-byte data that machine code at vaddr refers to
 * (x86-64: [rip+disp32] operands of 64-bit loads, stores, compares), up to
 * max; a bytewise scan, so callers validate what it finds. */
size_t Arch_dataReferences(const uint8_t* code, size_t len, uint64_t vaddr, uint64_t* out, size_t max);

#endif
