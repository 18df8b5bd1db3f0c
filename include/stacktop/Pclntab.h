#ifndef STACKTOP_PCLNTAB_H
#define STACKTOP_PCLNTAB_H
/* Go's runtime symbol table (the pclntab: "pc line table") of one Go binary,
 * read from a byte buffer that belongs to the target (the `.gopclntab`
 * section of a sealed file copy, or bytes found by a signature scan): a
 * hostile input. Every offset, count, varint and string is bounds-checked;
 * a malformed table gives a clean error at open time or a "not found"
 * answer at lookup time, never a read outside the buffer.
 *
 * Formats (by the header's magic), as Go's runtime/symtab.go reads them:
 *   0xfffffffa  Go 1.16-1.17   functab {entry u64, funcoff u64}, _func with entry u64
 *   0xfffffff0  Go 1.18-1.19   functab {entryoff u32, funcoff u32}, textStart in header
 *   0xfffffff1  Go 1.20+       as 1.18 plus _func.startLine (44-byte _func)
 * 0xfffffffb (Go 1.2-1.15) is refused with a message naming the version.
 * Go 1.26+ writes textStart = 0 in the header: the caller passes the real
 * text start (moduledata.text) in PclntabConfig.textStart.
 *
 * Addresses here are link-time (ELF virtual) addresses: the caller removes
 * the load bias of a PIE before asking and adds it back when printing.
 * A Pclntab is immutable after Pclntab_open: lookups are safe from several
 * threads at once. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads len bytes at link-time address vaddr of the same binary (from the
 * file's PT_LOAD segments); returns a pointer valid as long as the Pclntab,
 * or NULL when those bytes are not in the file. Inline trees live outside
 * the pclntab (in go:func.* data), so lookups of inlined frames need it. */
typedef const uint8_t* (*PclntabReadFn)(void* ctx, uint64_t vaddr, size_t len);

typedef struct PclntabConfig_ {
   uint64_t textStart; /* 0: take it from the header (1.18-1.25); 1.16/1.17 need none */
   uint64_t gofunc;    /* moduledata.gofunc (1.18+): base of funcdata offsets; 0 = unknown */
   PclntabReadFn read; /* may be NULL: then inlined frames are not expanded */
   void* readCtx;
} PclntabConfig;

typedef enum PclntabVersion_ {
   PCLNTAB_GO116 = 116, /* magic 0xfffffffa: Go 1.16 and 1.17 */
   PCLNTAB_GO118 = 118, /* magic 0xfffffff0: Go 1.18 and 1.19 */
   PCLNTAB_GO120 = 120, /* magic 0xfffffff1: Go 1.20 and later */
} PclntabVersion;

/* Go's funcFlag bits (runtime/symtab.go, internal/abi). */
enum {
   PCLNTAB_FLAG_TOPFRAME = 1, /* outermost frame of a stack: runtime.goexit, mstart, rt0_go */
   PCLNTAB_FLAG_SPWRITE = 2,  /* writes SP in ways the pcsp table cannot follow (mcall, systemstack...) */
   PCLNTAB_FLAG_ASM = 4,      /* written in assembly (1.18+) */
};

/* Go's table indexes (the same 1.16 through today). */
enum {
   PCLNTAB_PCDATA_INLTREE = 2,   /* PCDATA_InlTreeIndex */
   PCLNTAB_FUNCDATA_INLTREE = 3, /* FUNCDATA_InlTree */
};

/* One function of the function table (a physical, non-inlined function). */
typedef struct PclntabFunc_ {
   uint64_t entry;   /* link-time address of its first instruction */
   uint64_t end;     /* entry of the next function (for the last one: end of text) */
   uint32_t index;   /* position in the function table */
   const char* name; /* NUL-terminated, inside the buffer; NULL when unreadable */
   uint32_t pcsp;    /* pcvalue table offsets (0 = none) */
   uint32_t pcfile;
   uint32_t pcln;
   uint32_t cuOffset;
   int32_t startLine; /* 1.20+; 0 before */
   uint8_t funcID;    /* Go's FuncID, numbered differently per version: compare by name */
   uint8_t flag;      /* PCLNTAB_FLAG_* (Go 1.17+; always 0 in Go 1.16 binaries) */
   uint32_t npcdata;
   uint8_t nfuncdata;
   uint32_t funcOffset; /* internal: where the _func record starts in the buffer */
} PclntabFunc;

/* One frame at a PC after inline expansion. */
typedef struct PclntabFrame_ {
   const char* function; /* NULL when the name is unreadable */
   const char* file;     /* NULL when there is no line information */
   int line;             /* 0 when unknown */
   bool inlined;         /* true for every frame but the last (the physical function) */
   uint8_t funcID;       /* of this frame's function (inlined: from the inline tree) */
   uint64_t parentPc;    /* inlined frames: entry + inlinedCall.parentPc, the PC of the call
                          * in the caller that Go records in its PC lists (as parentPc + 1);
                          * the physical frame: the pc passed to Pclntab_frames */
   uint64_t entry;       /* entry of the physical function holding the pc */
} PclntabFrame;

typedef struct Pclntab_ {
   const uint8_t* data; /* not owned; must outlive the Pclntab */
   size_t size;
   PclntabVersion version;
   uint64_t textStart, textEnd; /* Go text covered by the function table */
   uint32_t nfunc, nfiles;
   /* Offsets into data of the sub-tables, all validated by Pclntab_open. */
   uint64_t funcnameOff, cuOff, filetabOff, pctabOff, pclnOff;
   uint64_t funcnameSize, cuSize, filetabSize, pctabSize, pclnSize;
   PclntabConfig config;
} Pclntab;

/* Parses and validates the header and the function table (sorted entries,
 * every funcoff inside the table). Returns 0, or -1 with a one-line reason in
 * err ("pclntab magic 0xfffffffb is Go 1.2-1.15: not supported", "function
 * table out of bounds", ...). */
int Pclntab_open(Pclntab* this, const uint8_t* data, size_t size, const PclntabConfig* config, char* err,
                 size_t errSize);

/* The function whose [entry, end) holds pc. */
bool Pclntab_find(const Pclntab* this, uint64_t pc, PclntabFunc* out);
/* The i-th function of the table (0 <= i < nfunc). */
bool Pclntab_func(const Pclntab* this, uint32_t i, PclntabFunc* out);
/* The function named exactly name (linear scan: for the static phase only). */
bool Pclntab_findByName(const Pclntab* this, const char* name, PclntabFunc* out);

/* Go's pcvalue: the value of table `table` (pcsp, pcfile, pcln or a pcdata
 * table) at pc inside f. False when the table is absent, malformed, or has no
 * entry for pc. */
bool Pclntab_value(const Pclntab* this, const PclntabFunc* f, uint32_t table, uint64_t pc, int32_t* value);
/* The pcdata table `index` of f (0 when absent), e.g. PCLNTAB_PCDATA_INLTREE. */
uint32_t Pclntab_pcdata(const Pclntab* this, const PclntabFunc* f, uint32_t index);
/* SP delta at pc (pcsp table): bytes of frame below the caller's return address slot. */
bool Pclntab_spDelta(const Pclntab* this, const PclntabFunc* f, uint64_t pc, int32_t* delta);
/* File and line of the physical function's code at pc (inlined code reports the
 * inlined source position, as Go's tables do). */
bool Pclntab_fileLine(const Pclntab* this, const PclntabFunc* f, uint64_t pc, const char** file, int* line);

/* Frames at pc, innermost inlined call first, the physical function last,
 * as runtime.CallersFrames / Go's traceback expand them: for an inlined
 * level the name comes from the inline tree, file:line from f's tables at
 * the current pc, then pc becomes entry + parentPc for the next level out.
 * Writes at most max frames (the physical one is always kept as the last)
 * and returns how many; 0 when pc is in no function. Inline chains are
 * bounded (a hostile tree cannot loop). */
size_t Pclntab_frames(const Pclntab* this, uint64_t pc, PclntabFrame* out, size_t max);

/* Finds a pclntab header by its signature in a byte range (a non-executable
 * PT_LOAD segment of a binary without section headers): 8-aligned
 * `xx ff ff ff 00 00 01 08` with xx one of the known magics' low bytes, whose
 * header and function table parse. Returns its offset in data, or -1. At most
 * 16 candidates whose header parses get their function table checked, so a
 * segment full of decoys cannot make the scan quadratic. */
long Pclntab_scan(const uint8_t* data, size_t size);

#endif
