/* Bulk reads of another process's memory: see ProcessMemory.h. */
#include "stacktop/ProcessMemory.h"

#include <errno.h>
#include <sys/uio.h>

/* process_vm_readv takes at most IOV_MAX (1024) iovecs per call. */
#define BATCH 1024

/* One call for items[0..n): the kernel stops at the first remote range it
 * cannot read; that item keeps what arrived. Returns how many items were
 * settled (read in full, or the partial one). */
static size_t readSome(pid_t pid, ProcessMemoryRead* items, size_t n) {
   struct iovec local[BATCH], remote[BATCH];
   size_t count = n < BATCH ? n : BATCH;
   for (size_t i = 0; i < count; i++) {
      local[i] = (struct iovec){ items[i].local, items[i].size };
      remote[i] = (struct iovec){ (void*)(uintptr_t)items[i].remote, items[i].size };
   }
   ssize_t got;
   do
      got = process_vm_readv(pid, local, count, remote, count, 0);
   while (got < 0 && errno == EINTR);
   if (got < 0 && (errno == ESRCH || errno == EPERM))
      return n; /* gone, or not ours to read: nothing else will succeed */
   size_t left = got > 0 ? (size_t)got : 0;
   size_t i = 0;
   while (i < count && left >= items[i].size) {
      items[i].got = items[i].size;
      left -= items[i++].size;
   }
   if (i == count)
      return count;
   items[i].got = left; /* the partial (or failed) one */
   return i + 1;
}

size_t ProcessMemory_readBatch(pid_t pid, ProcessMemoryRead* items, size_t count) {
   for (size_t i = 0; i < count; i++)
      items[i].got = 0;
   size_t done = 0;
   while (done < count)
      done += readSome(pid, items + done, count - done);
   size_t full = 0;
   for (size_t i = 0; i < count; i++)
      full += items[i].got == items[i].size;
   return full;
}

bool ProcessMemory_read(pid_t pid, uint64_t remote, void* local, size_t size) {
   ProcessMemoryRead item = { .remote = remote, .local = local, .size = size };
   return ProcessMemory_readBatch(pid, &item, 1) == 1;
}
