#ifndef STACKTOP_DWARFIMAGE_H
#define STACKTOP_DWARFIMAGE_H
/* The DWARF of an ELF file whose debug sections are compressed, as an
 * in-memory ELF for libdw (elf_memory) that is inflated only where it is read.
 *
 * libdw (elfutils 0.188) inflates every compressed debug section in full when
 * it opens a file: libc6-dbg's libc alone is 10 MB, ~50 ms. Here the image is
 * one anonymous MAP_NORESERVE mapping holding the sections libdw needs for
 * lines and inline chains, at their uncompressed sizes. .debug_info and
 * .debug_line are inflated on demand through an Inflater each (checkpointed,
 * at most DWARFIMAGE_KEEP_BYTES of unpinned pages each); the sections read at
 * arbitrary offsets (abbrev, str, line_str, rnglists, ranges, addr,
 * str_offsets) are inflated in full when the image is opened. Sections for
 * locations, frames, macros and type units are left out. Callers must
 * DwarfImage_ensure the bytes libdw will read before asking it (DebugInfo does).
 *
 * Memory: the eager sections + the pinned pages (what is being read now)
 * + 2 x DWARFIMAGE_KEEP_BYTES + 2 x 8 MiB of checkpoints at most. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stacktop/ElfReader.h"

/* Unpinned inflated bytes kept per lazily inflated section. */
#define DWARFIMAGE_KEEP_BYTES ((size_t)1 << 20)

typedef enum DwarfImageSection_ {
   DWARFIMAGE_INFO,
   DWARFIMAGE_LINE,
   DWARFIMAGE_ABBREV,
   DWARFIMAGE_STR,
   DWARFIMAGE_LINE_STR,
   DWARFIMAGE_RNGLISTS,
   DWARFIMAGE_RANGES,
   DWARFIMAGE_ADDR,
   DWARFIMAGE_STR_OFFSETS,
   DWARFIMAGE_SECTION_COUNT,
} DwarfImageSection;

typedef struct DwarfImage_ DwarfImage;
struct Elf;

/* True when the file's DWARF has a compressed section that libdw would
 * inflate in full (SHF_COMPRESSED or GNU .zdebug_*). */
bool DwarfImage_wanted(const ElfReader* reader);
/* Builds the image of the DWARF of the file parsed by `reader` (its buffer
 * must outlive the image). keepBytes: see DWARFIMAGE_KEEP_BYTES. NULL with a
 * one-line reason in err when the sections are missing, of an unsupported
 * compression (zstd), implausibly large or corrupt. */
DwarfImage* DwarfImage_open(const ElfReader* reader, size_t keepBytes, char* err, size_t errSize);
void DwarfImage_free(DwarfImage* this);
/* The in-memory ELF for dwarf_begin_elf; owned by the image. */
struct Elf* DwarfImage_elf(DwarfImage* this);
/* Makes [offset, offset+len) of the section hold its uncompressed bytes
 * (clamped to the section); pin: they stay for the image's life. False when
 * they cannot be had (corrupt stream, out of range, absent section). */
bool DwarfImage_ensure(DwarfImage* this, DwarfImageSection section, uint64_t offset, uint64_t len, bool pin);
/* Undoes the pin of DwarfImage_ensure for that range. */
void DwarfImage_unpin(DwarfImage* this, DwarfImageSection section, uint64_t offset, uint64_t len);
/* The section's uncompressed bytes in the image (read only what was
 * ensured); NULL when absent. */
const uint8_t* DwarfImage_section(const DwarfImage* this, DwarfImageSection section, uint64_t* size);
/* Inflated bytes held in memory now (eager sections included). */
size_t DwarfImage_residentBytes(const DwarfImage* this);

#endif
