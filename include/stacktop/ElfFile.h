#ifndef STACKTOP_ELFFILE_H
#define STACKTOP_ELFFILE_H
/* One ELF file of a target process, opened once and shared by the unwinder,
 * the symbolizer and the Go reader: a private sealed copy of the file (the
 * target may truncate the original under us; see Maps_sealedCopy), mapped
 * read-only and parsed by ElfReader; everything else is read on demand and
 * kept: the function table, the separate debug file (build-id directory,
 * then .gnu_debuglink with its CRC), libdw's DWARF handle and, for Go
 * binaries, the GoBinary. Not thread-safe: one dump uses a file at a time. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stacktop/ElfReader.h"

struct DebugInfo_;
struct GoBinary_;

typedef struct ElfFile_ {
   int fd;              /* the sealed copy; -1 for the borrowed vDSO */
   const uint8_t* data; /* read-only mapping of the copy (or our vDSO) */
   size_t size;
   bool borrowed; /* data is our own vDSO: not ours to unmap */
   ElfReader reader;
   char* path;    /* the path it was first seen at ("[vdso]" for the vDSO); owned */
   pid_t rootPid; /* whose /proc/PID/root to search for a debuglink target */
   /* Loaded on first use through the functions below; owned. */
   struct ElfFile_* debug;
   bool debugTried;
   struct DebugInfo_* dwarf;
   bool dwarfTried;
   struct GoBinary_* go;
   bool goTried;
} ElfFile;

/* Takes fd (a sealed copy from Maps_openFile / Maps_sealedCopy; always
 * consumed) and parses its headers. NULL when it is not a usable ELF file. */
ElfFile* ElfFile_open(int fd, const char* path, pid_t rootPid);
/* Our own vDSO (the kernel's, identical in every process of this kernel),
 * borrowed from memory. NULL when there is none. */
ElfFile* ElfFile_openVdso(void);
void ElfFile_free(ElfFile* this);

/* The function table to name addresses with: the separate debug file's
 * .symtab when the binary has only .dynsym (Debian's libc with libc6-dbg),
 * else the binary's own. Loads what it needs on first use. */
const ElfReader* ElfFile_names(ElfFile* this);
/* The function covering vaddr from the best table (then the binary's own),
 * or NULL; *offset gets vaddr - symbol address. */
const ElfSymbol* ElfFile_lookup(ElfFile* this, uint64_t vaddr, uint64_t* offset);
/* The DWARF of this file or of its debug file (compressed or not), or NULL
 * when there is none or it cannot be read. */
struct DebugInfo_* ElfFile_dwarf(ElfFile* this);
/* The Go binary description (pclntab, runtime layout), or NULL when this is
 * not a Go binary. */
struct GoBinary_* ElfFile_go(ElfFile* this);
/* The separate debug file, or NULL. */
ElfFile* ElfFile_debugFile(ElfFile* this);

#endif
