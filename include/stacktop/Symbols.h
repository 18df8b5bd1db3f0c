#ifndef STACKTOP_SYMBOLS_H
#define STACKTOP_SYMBOLS_H
/* Symbolization of code addresses in another process: function+offset from the
 * ELF symbol tables (.symtab, else .dynsym, also from separate debug files found
 * by build-id or .gnu_debuglink), file:line and inlined frames from DWARF via
 * libdw, C++ and Rust names demangled (Demangler). Parsed ELF files are cached per build-id (else device+inode) for the
 * life of the Symbols object, so a re-taken dump costs only the new addresses. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stacktop/Maps.h"

typedef struct SymbolFrame_ {
   const char* function; /* NULL when unknown; owned by the Symbols cache */
   uint64_t offset;      /* from the function's entry */
   const char* file;     /* source file, NULL without debug info */
   int line;             /* 0 without debug info */
   const char* module;   /* mapped ELF path (as in maps), NULL when not in a file */
   bool inlined;         /* this frame was inlined into the next one */
} SymbolFrame;

typedef struct Symbols_ Symbols;

/* lines: also resolve file:line and inlined frames (libdw). C++ and Rust
 * names are demangled unless Symbols_setDemangle says not to. */
Symbols* Symbols_new(bool lines);
/* false: function names as the binary spells them (mangled); Go names are
 * never demangled. Default true. */
void Symbols_setDemangle(Symbols* this, bool demangle);
void Symbols_free(Symbols* this);
/* The ELF files it has opened, shared with the unwinder and the Go reader of
 * the same dump; owned by the Symbols object. */
struct ElfCache_* Symbols_cache(Symbols* this);
/* Symbolizes `addr` (for a return address the caller passes pc-1) in the
 * process described by `maps`, whose files are opened through
 * /proc/PID/map_files or /proc/PID/root when the path is not reachable as is.
 * Writes up to maxFrames frames, innermost (inlined) first, the real function
 * last; returns how many (>= 1 when maxFrames >= 1: an unknown address gives
 * one frame with function NULL). */
size_t Symbols_lookup(Symbols* this, pid_t pid, const Maps* maps, uint64_t addr, SymbolFrame* frames, size_t maxFrames);

#endif
