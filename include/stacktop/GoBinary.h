#ifndef STACKTOP_GOBINARY_H
#define STACKTOP_GOBINARY_H
/* Everything about a Go executable that can be known without its process:
 * the Go version (.go.buildinfo), the runtime symbol table (pclntab, for
 * names, file:line, inlining and unwinding), runtime.firstmoduledata (text,
 * bss and gofunc bounds), the runtime.g layout of that release, the wait
 * reason names, the few runtime functions the goroutine reader must know by
 * name, and the candidates for the address of runtime.allgs: .symtab, else
 * DWARF, else the globals that runtime.allgadd addresses (decoded from its
 * code), else the whole .bss, to be validated against live memory by the
 * caller. DWARF's runtime.g offsets replace the release table's when the
 * table is uncertain (GoBinary_useDwarfLayout).
 * Built once per ElfFile (so per build-id) and then read-only; addresses are
 * link-time (ELF) addresses. The file is a target's: hostile input. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stacktop/GoLayout.h"
#include "stacktop/Pclntab.h"

struct ElfFile_;

/* Runtime functions found by name (entry 0 when absent). */
typedef enum GoFunc_ {
   GO_FUNC_GOEXIT,
   GO_FUNC_MSTART,
   GO_FUNC_MCALL,
   GO_FUNC_SYSTEMSTACK,
   GO_FUNC_MAIN,
   GO_FUNC_RUNFINQ,
   GO_FUNC_RUN_FINALIZERS,
   GO_FUNC_RUN_CLEANUPS,
   GO_FUNC_ASYNC_PREEMPT,
   GO_FUNC_SIGPANIC,
   GO_FUNC_DEBUG_CALL_V2,
   GO_FUNC_GOPANIC,
   GO_FUNC_PANICWRAP,
   GO_FUNC_ALLGADD,
   GO_FUNC_COUNT,
} GoFunc;

typedef struct GoModuleData_ {
   uint64_t address; /* of runtime.firstmoduledata itself; 0 when not found */
   uint64_t text, etext, noptrdata, enoptrdata, data, edata, bss, ebss, noptrbss, enoptrbss;
   uint64_t gofunc; /* 0 before 1.18 */
} GoModuleData;

typedef struct GoBinary_ {
   char version[48]; /* "go1.19.8"; "" when unknown */
   int major, minor, patch;
   Pclntab pclntab;
   bool hasPclntab;
   GoModuleData moduledata;
   const GoLayout* layout; /* NULL: no goroutine view for this release */
   bool layoutApproximate; /* a release newer than the table */
   bool layoutFromDwarf;   /* runtime.g offsets read from the binary's DWARF */
   GoLayout dwarfLayout;   /* the table's row with DWARF's offsets; layout points here then */
   char layoutNote[200];   /* where DWARF and the table disagree, "" otherwise */
   bool dwarfTried;
   const char** waitReasons; /* the binary's own table when found, else the layout's; owned */
   size_t waitReasonCount;
   bool waitReasonsFromBinary;
   uint64_t funcs[GO_FUNC_COUNT]; /* entries */
   uint64_t funcEnds[GO_FUNC_COUNT];
   uint64_t* allgsCandidates; /* owned; most likely first */
   size_t allgsCandidateCount;
   const char* allgsSource; /* "symbol table", "runtime.allgadd", or NULL when the caller must scan .bss */
   char problem[256];       /* why there is no goroutine view, "" when there can be one */
} GoBinary;

/* NULL when the file is not a Go binary (no buildinfo and no pclntab). A Go
 * binary the goroutine reader cannot handle still gets a GoBinary (for
 * names in the thread view) with `problem` set. Owned by the caller. */
GoBinary* GoBinary_open(const struct ElfFile_* file);
void GoBinary_free(GoBinary* this);

/* Takes the runtime.g offsets from the binary's DWARF (an unstripped build)
 * instead of the release table, once: for a release newer than the table,
 * and when the table's offsets fail the checks on live memory. libdw
 * inflates all of a binary's DWARF to read it, so it is not done when the
 * table is known to fit. True when DWARF's offsets are in use. */
bool GoBinary_useDwarfLayout(GoBinary* this, const struct ElfFile_* file);

/* Whether vaddr is Go code that the pclntab describes. */
bool GoBinary_inText(const GoBinary* this, uint64_t vaddr);
/* Whether vaddr lies in runtime function f. */
bool GoBinary_isFunc(const GoBinary* this, GoFunc f, uint64_t vaddr);

/* isSystemGoroutine: whether a goroutine that started in the function at
 * startVaddr (link-time address) is the runtime's own, left out of
 * runtime.NumGoroutine() and of profiles. The finalizer and cleanup
 * goroutines count only while they run user code: read from outside,
 * while they are not parked in their own wait (status without _Gscan). */
bool GoBinary_isSystemGoroutine(const GoBinary* this, uint64_t startVaddr, uint32_t status, uint8_t waitReason);

/* Parses "go1.19.8", "go1.22rc1", "devel go1.23-abc ...": true with the
 * numbers (patch 0 when absent). */
bool GoBinary_parseVersion(const char* s, int* major, int* minor, int* patch);

#endif
