#ifndef STACKTOP_DUMPMAPPINGS_H
#define STACKTOP_DUMPMAPPINGS_H
/* The mappings a dump's stacks pass through, with the build-ids of their
 * files, kept in the DumpResult for formats that list mappings (pprof):
 * the snapshot's maps and the ELF files are gone once Dump_take returns. */
#include <stddef.h>
#include <sys/types.h>

#include "stacktop/Dump.h"
#include "stacktop/ElfCache.h"
#include "stacktop/Maps.h"

/* Every file-backed mapping of `maps` holding a pc of r's thread groups or
 * of its goroutine groups, in address order (a process's own binary first:
 * it is mapped lowest). Build-ids come from the files already in `cache`
 * (the ones the dump opened). Returns the array (caller frees with
 * DumpMappings_free) and its length in *count. */
DumpMapping* DumpMappings_collect(const DumpResult* r, pid_t pid, const Maps* maps, ElfCache* cache, size_t* count);
void DumpMappings_free(DumpMapping* mappings, size_t count);

#endif
