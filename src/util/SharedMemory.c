/* Anonymous shared memory for a forked helper: see SharedMemory.h. */
#include "stacktop/SharedMemory.h"

#include <stdint.h>
#include <sys/mman.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

void* SharedMemory_alloc(size_t size, bool populate) {
   if (size == 0)
      size = 1;
   int flags = MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE | (populate ? MAP_POPULATE : 0);
   void* p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);
   return p == MAP_FAILED ? NULL : p;
}

void SharedMemory_free(void* p, size_t size) {
   if (p)
      munmap(p, size ? size : 1);
}

bool SharedMemory_populate(void* p, size_t size) {
   if (size == 0)
      return true;
   /* madvise wants a page-aligned start: widen to the page holding p. */
   uintptr_t start = (uintptr_t)p & ~(uintptr_t)4095;
   return madvise((void*)start, size + ((uintptr_t)p - start), MADV_POPULATE_WRITE) == 0;
}
