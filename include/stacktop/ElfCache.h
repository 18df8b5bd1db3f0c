#ifndef STACKTOP_ELFCACHE_H
#define STACKTOP_ELFCACHE_H
/* The ELF files behind other processes' mappings, each opened once (by
 * device+inode, files with the same build-id shared) and kept for the life
 * of the cache, so a re-taken dump costs only what is new; and the one rule
 * that turns an address in a target into a file and an ELF address. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stacktop/ElfFile.h"
#include "stacktop/Maps.h"

/* One loaded object of a target: the consecutive mappings of one file. */
typedef struct ElfObject_ {
   ElfFile* file;
   uint64_t bias;           /* target address - ELF address, the same for every segment */
   uint64_t lo, hi;         /* span of its mappings */
   const MapEntry* mapping; /* the mapping the address fell in */
   const char* name;        /* its path as the target maps it ("[vdso]"), for reports */
} ElfObject;

typedef struct ElfCache_ ElfCache;

ElfCache* ElfCache_new(void);
void ElfCache_free(ElfCache* this);

/* Where addr lies in process pid whose mappings are `maps`: the loaded
 * object and the ELF address (*vaddr). The load bias comes from the object's
 * executable mapping matched to its executable PT_LOAD (else its first
 * mapping to the PT_LOAD holding that file offset), so it is right for every
 * linker (GNU ld, gold, lld, mold: segments sharing a file page), PIE or not.
 * False for anonymous memory, files that cannot be opened or parsed, and
 * addresses outside any mapping. */
bool ElfCache_resolve(ElfCache* this, pid_t pid, const Maps* maps, uint64_t addr, ElfObject* out, uint64_t* vaddr);
/* The same for mapping i of maps. */
bool ElfCache_object(ElfCache* this, pid_t pid, const Maps* maps, size_t i, ElfObject* out);
/* The files that could not be opened or parsed so far (for reports). */
size_t ElfCache_failures(const ElfCache* this);

#endif
