#ifndef STACKTOP_ELFREADER_H
#define STACKTOP_ELFREADER_H
/* A defensive reader of ELF64 little-endian x86_64 files held in a read-only
 * byte buffer (normally an mmap of the file). The buffer may come from a
 * hostile process's mappings (or the fuzzer): every offset, size, count, index
 * and string is bounds-checked, sh_entsize/sh_link are validated, and failure
 * is always a clean error return.
 *
 * Function table rules (deterministic, see ElfReader.c):
 *  - symbols: STT_FUNC and STT_GNU_IFUNC, plus STT_NOTYPE with a non-zero size,
 *    defined (st_shndx != SHN_UNDEF/ABS), from .symtab, else from .dynsym;
 *  - one entry per address; among aliases the best name wins: global or weak
 *    before local, then a sized symbol before a size-0 one, then fewer leading
 *    underscores, then the shorter name, then strcmp order;
 *  - a symbol covers [addr, addr+size); a size-0 symbol covers up to the next
 *    symbol's address (the last one: to the end of its PT_LOAD);
 *  - lookup takes the last symbol starting at or below the address, or, when
 *    that one ends before it, the nearest of the 8 previous ones enclosing it
 *    (nested functions); else none;
 *  - symbol versions ("name@@GLIBC_2.3.2") and Go's ".abi0" suffix are cut off;
 *  - hostile tables are bounded: 8M symbols, 64 KiB per name, and a budget of
 *    name bytes scanned (8 x the string table + 1 MiB). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ElfSymbol_ {
   uint64_t addr;    /* ELF virtual address (unrelocated) */
   uint64_t size;    /* 0 when the ELF gives none */
   uint64_t end;     /* first address past the symbol (see the rules above) */
   const char* name; /* points into the buffer or into the reader's own copies */
} ElfSymbol;

typedef struct ElfLoad_ {
   uint64_t vaddr, offset, filesz, memsz;
   uint32_t flags; /* PF_R/PF_W/PF_X */
} ElfLoad;

/* A program header other than PT_LOAD that we use (file contents in bounds). */
typedef struct ElfSegment_ {
   bool present;
   uint64_t vaddr, offset, filesz, memsz, align;
} ElfSegment;

/* A section with its name; contents are inside the buffer unless NOBITS. */
typedef struct ElfSection_ {
   const char* name; /* in the buffer; NULL when unnamed or unreadable */
   uint32_t type;    /* SHT_* */
   uint64_t flags;   /* SHF_* */
   uint64_t addr, offset, size;
   uint32_t link; /* sh_link */
   uint64_t entsize;
} ElfSection;

typedef struct ElfReader_ {
   const uint8_t* data; /* not owned; must outlive the reader */
   size_t size;
   uint16_t type;  /* ET_EXEC or ET_DYN */
   ElfLoad* loads; /* PT_LOAD program headers, in file order */
   size_t loadCount;
   ElfSegment ehFrameHdr; /* PT_GNU_EH_FRAME */
   ElfSegment tls;        /* PT_TLS */
   ElfSection* sections;  /* every section header, index order; owned */
   size_t sectionCount;
   size_t symtabIndex, dynsymIndex; /* 0 when absent */
   bool symbolsLoaded;              /* the function table below was built */
   ElfSymbol* symbols;              /* sorted by addr, unique addrs; owned */
   size_t symbolCount;
   bool fromSymtab; /* symbols came from .symtab (else .dynsym or none) */
   uint8_t buildId[64];
   size_t buildIdLen;     /* 0 when there is no NT_GNU_BUILD_ID note */
   const char* debuglink; /* .gnu_debuglink file name in the buffer, or NULL */
   uint32_t debuglinkCrc;
   bool hasDebugInfo;            /* a .debug_info section with contents exists */
   uint64_t compressedDebugSize; /* bytes of compressed DWARF (SHF_COMPRESSED .debug_*, .zdebug_*) */
   char** ownedNames;            /* names copied to cut versions; owned */
   size_t ownedCount;
} ElfReader;

/* Parses headers, program headers, sections, notes and debuglink, but not
 * the symbol tables (see ElfReader_loadSymbols): what unwinding needs.
 * Returns 0, or -1 with a one-line reason in err (the reader is then empty
 * and ElfReader_free is still safe). */
int ElfReader_parseHeaders(ElfReader* this, const void* data, size_t size, char* err, size_t errSize);
/* Builds the sorted function table once (later calls do nothing). */
void ElfReader_loadSymbols(ElfReader* this);
/* ElfReader_parseHeaders, then ElfReader_loadSymbols. */
int ElfReader_parse(ElfReader* this, const void* data, size_t size, char* err, size_t errSize);
void ElfReader_free(ElfReader* this);

/* The function covering vaddr, or NULL; *offset gets vaddr - symbol addr.
 * Only after ElfReader_loadSymbols. */
const ElfSymbol* ElfReader_lookup(const ElfReader* this, uint64_t vaddr, uint64_t* offset);

/* The first section named `name`, or NULL. */
const ElfSection* ElfReader_section(const ElfReader* this, const char* name);
/* The contents of a section inside the buffer (NULL for NOBITS or out of bounds). */
const uint8_t* ElfReader_sectionData(const ElfReader* this, const ElfSection* section);
/* Any symbol (function or data) of .symtab named exactly `name`: a linear
 * scan, for the few lookups of a static setup. */
bool ElfReader_findSymbol(const ElfReader* this, const char* name, uint64_t* addr, uint64_t* size);
/* len bytes of the file at ELF address vaddr when one PT_LOAD holds all of
 * them on disk (not in its zero-filled tail), else NULL. */
const uint8_t* ElfReader_bytesAt(const ElfReader* this, uint64_t vaddr, size_t len);
/* The PT_LOAD whose memory holds vaddr, or NULL. */
const ElfLoad* ElfReader_loadAt(const ElfReader* this, uint64_t vaddr);

/* Translates a file offset (mapping offset + address - mapping start) to the
 * ELF virtual address through the PT_LOAD segment holding that offset. Works
 * for PIE and non-PIE alike: the load bias is address - vaddr. Returns 0 or -1. */
int ElfReader_offsetToVaddr(const ElfReader* this, uint64_t fileOffset, uint64_t* vaddr);

/* Lowercase hex of the build-id into buf (2*len+1 bytes); false without one. */
bool ElfReader_buildIdHex(const ElfReader* this, char* buf, size_t bufSize);

/* The .gnu_debuglink CRC: CRC-32 (IEEE, as zlib's crc32) of a whole file image. */
uint32_t ElfReader_crc32(const void* data, size_t size);

#endif
