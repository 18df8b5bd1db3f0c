#ifndef STACKTOP_DEBUGINFO_H
#define STACKTOP_DEBUGINFO_H
/* file:line and inlined-call chains from an ELF file's DWARF, through libdw.
 * One DebugInfo per file holding .debug_info (the binary or its separate debug
 * file); addresses are the ELF's unrelocated virtual addresses. Compilation
 * units are found through an index of every CU's address ranges built on the
 * first lookup (no .debug_aranges needed); compressed DWARF is read through a
 * DwarfImage, inflated only where a lookup reads. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct DebugInfo_ DebugInfo;

typedef struct DebugFrame_ {
   const char* function; /* DWARF name, NULL when unknown; owned by the DebugInfo */
   const char* file;     /* NULL when unknown; owned by the DebugInfo */
   int line;             /* 0 when unknown */
   bool inlined;         /* inlined into the next frame */
} DebugFrame;

struct DwarfImage_;

/* Opens the DWARF of the file open on fd (the fd is duplicated, the caller
 * keeps its own), read by libdw directly: for uncompressed DWARF (libdw
 * inflates compressed sections in full). NULL when the file has no usable DWARF. */
DebugInfo* DebugInfo_open(int fd);
/* Opens the DWARF held in image, taking it (freed also on failure). */
DebugInfo* DebugInfo_openImage(struct DwarfImage_* image);
void DebugInfo_free(DebugInfo* this);
/* Inflated DWARF held in memory (0 when libdw reads the file itself). */
size_t DebugInfo_residentBytes(const DebugInfo* this);
/* The offsets of the named members of the structure type `structName`
 * (searched in the compilation unit `unitName` first, else everywhere):
 * offsets[i] gets members[i]'s DW_AT_data_member_location, or -1 when it has
 * no such member. False when the type is not found. */
bool DebugInfo_structMembers(DebugInfo* this, const char* unitName, const char* structName, const char* const* members,
                             size_t count, int64_t* offsets);
/* The address of the global variable `name` (DW_OP_addr location). */
bool DebugInfo_variableAddress(DebugInfo* this, const char* unitName, const char* name, uint64_t* addr);

/* Frames for vaddr, innermost inlined call first, the enclosing real function
 * last; each outer frame carries the line of the call it made. Returns how
 * many were written (0 when the address has no DWARF). */
size_t DebugInfo_frames(DebugInfo* this, uint64_t vaddr, DebugFrame* out, size_t maxFrames);

#endif
