#ifndef STACKTOP_DWARFLINES_H
#define STACKTOP_DWARFLINES_H
/* file:line of one address from a compilation unit's DWARF line-number
 * program (DWARF 2 to 5), found by running the program once without storing
 * its rows. libdw's dwarf_getsrc_die decodes and sorts every row of the unit
 * and keeps them until the file is closed: for a large C++ unit megabytes of
 * rows and a sort per unit looked up; here a lookup allocates nothing and
 * reads only the unit's program.
 *
 * The row chosen is libdw's: among the rows at or below the address, the one
 * at the highest address; at equal addresses a row starting code after one
 * ending a sequence, and the later one in the program; none when that row
 * ends a sequence or sorts last in the unit (libdw marks that one as an end
 * of sequence whatever the program says). Paths are libdw's too: a relative
 * file name is joined to
 * its directory (for DWARF 2-4 directory 0 is the CU's DW_AT_comp_dir).
 *
 * The bytes come from the target's files: every read is bounds-checked
 * against the unit's length and the sections, and a malformed program is a
 * clean "not found" (fuzzed by tests/fuzz/fuzz_dwarflines.c). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct DwarfLinesInput_ {
   const uint8_t* line; /* .debug_line */
   uint64_t lineSize;
   const uint8_t* lineStr; /* .debug_line_str (DWARF 5), or NULL */
   uint64_t lineStrSize;
   const uint8_t* str; /* .debug_str, or NULL */
   uint64_t strSize;
   uint64_t offset;     /* the unit's DW_AT_stmt_list */
   const char* compDir; /* the unit's DW_AT_comp_dir, or NULL */
} DwarfLinesInput;

typedef struct DwarfLineRow_ {
   uint64_t file; /* index into the program's file table */
   int line;      /* 0 when the program says none */
} DwarfLineRow;

/* The row for vaddr; false when no sequence covers it or the program is
 * malformed. */
bool DwarfLines_find(const DwarfLinesInput* in, uint64_t vaddr, DwarfLineRow* row);
/* File `index` of the program: *dir (NULL when none applies) and *name,
 * pointers into the sections (or compDir). False for an unknown index. */
bool DwarfLines_file(const DwarfLinesInput* in, uint64_t index, const char** dir, const char** name);

#endif
