#ifndef STACKTOP_PROCESSMEMORY_H
#define STACKTOP_PROCESSMEMORY_H
/* Reading another process's memory in bulk with process_vm_readv (no ptrace
 * stop needed, no per-word syscalls): up to 1,024 ranges per call. Memory
 * the target unmapped gives a short read for that range only. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct ProcessMemoryRead_ {
   uint64_t remote; /* address in the target */
   void* local;
   size_t size;
   size_t got; /* bytes read (set by the call) */
} ProcessMemoryRead;

/* Reads every item; returns how many were read in full. */
size_t ProcessMemory_readBatch(pid_t pid, ProcessMemoryRead* items, size_t count);
/* One range; true when all of it was read. */
bool ProcessMemory_read(pid_t pid, uint64_t remote, void* local, size_t size);

#endif
