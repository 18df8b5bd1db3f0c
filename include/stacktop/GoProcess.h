#ifndef STACKTOP_GOPROCESS_H
#define STACKTOP_GOPROCESS_H
/* A live Go process's runtime, located from outside without stopping it:
 * its executable's GoBinary, the load bias, and runtime.allgs (the slice of
 * every goroutine ever created) validated against live memory (F1.4-F1.6 of
 * shared/reference/go-runtime.md). Shared by GoSnapshot (profiles, in a
 * stop) and GoCounter (counts, never stopped). Every value read from the
 * target is checked before it is used as an address or a size. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stacktop/GoBinary.h"
#include "stacktop/Maps.h"

struct ElfCache_;
struct ElfFile_;

/* allgs holds every g ever created; more than 16 million is not a slice of g's. */
#define GO_PROCESS_MAX_ALLGS ((uint64_t)1 << 24)

typedef struct GoProcess_ {
   GoBinary* bin;           /* owned by the ElfCache's file */
   struct ElfFile_* exe;    /* the executable, in the ElfCache */
   uint64_t bias;           /* target address - link-time address */
   uint64_t allgs;          /* target address of runtime.allgs; 0 when not found */
   const char* allgsSource; /* how it was found (static text) */
   uint64_t allgLen;        /* its length when it was validated */
} GoProcess;

/* Canonical, 8-aligned user-space pointer (below ARCH_USER_ADDR_LIMIT). */
bool GoProcess_plausiblePointer(uint64_t p);

/* False when pid's executable is not a Go binary (or cannot be read). True
 * with bin, exe and bias set; allgs is 0 when it could not be located (the
 * binary's problem, or no candidate validated). An unstripped binary whose
 * release table fails the live checks is retried with its DWARF layout. The
 * cache must outlive out. */
bool GoProcess_locate(GoProcess* out, pid_t pid, const Maps* maps, struct ElfCache_* cache);
/* The same for a binary already described and its bias. */
void GoProcess_locateAllgs(GoProcess* this, pid_t pid);
/* Reads the allgs slice header now: its array and length, checked
 * (plausible pointer, 0 < len <= cap < GO_PROCESS_MAX_ALLGS). */
bool GoProcess_readAllgs(const GoProcess* this, pid_t pid, uint64_t* ptr, uint64_t* len);

#endif
