#ifndef STACKTOP_SHAREDMEMORY_H
#define STACKTOP_SHAREDMEMORY_H
/* Anonymous memory shared with a child made by fork(): what the snapshot's
 * helper process writes there, its parent reads at the same addresses after
 * the helper has exited. Reserved without committing (MAP_NORESERVE): only
 * the pages written cost memory. */
#include <stdbool.h>
#include <stddef.h>

/* NULL when the mapping fails. populate: fault every page in now. */
void* SharedMemory_alloc(size_t size, bool populate);
void SharedMemory_free(void* p, size_t size);
/* Faults in [p, p+size) for writing (before a pause, so copies into it do
 * not fault page by page). False when the kernel cannot (older than 5.14). */
bool SharedMemory_populate(void* p, size_t size);

#endif
