#ifndef STACKTOP_UNWIND_H
#define STACKTOP_UNWIND_H
/* Unwinds the threads of a Snapshot after the target has been detached:
 * libunwind with our own accessors (registers and stack memory from the
 * snapshot, code and unwind tables from the ELF files on disk, found through
 * the snapshot's maps), UNW_CACHE_GLOBAL, lookups through .eh_frame_hdr, and
 * libunwind's frame-pointer fallback where there is no CFI (Go). */
#include <stddef.h>
#include <stdint.h>

#include "stacktop/Snapshot.h"

typedef struct Unwind_ Unwind;

struct ElfCache_;

/* The snapshot and the cache (where the ELF files are opened, once) must
 * outlive the Unwind. */
Unwind* Unwind_new(const Snapshot* snapshot, struct ElfCache_* cache);
void Unwind_free(Unwind* this);
struct GoSnapshot_;
/* The goroutines read in the same stop (may be NULL): a Go thread on its
 * system stack then continues into the goroutine it serves. */
void Unwind_setGoroutines(Unwind* this, const struct GoSnapshot_* go);
/* One thread's stack: pcs innermost first (the interrupted IP, then return
 * addresses), each with its DumpPcKind, and why it ends. */
typedef struct UnwindStack_ {
   uint64_t* pcs; /* caller's arrays of maxFrames entries */
   uint8_t* kinds;
   size_t count;
   size_t capacity; /* set by Unwind_thread: maxFrames */
   DumpCut cut;
} UnwindStack;

/* Unwinds up to maxFrames frames. Stops at the outermost frame, at
 * maxFrames, when SP fails to grow, or where the unwinder cannot go on
 * (stack->cut says which). A signal frame is unwound through: the
 * trampoline is marked DUMP_PC_SIGNAL and the instruction the signal
 * interrupted DUMP_PC_EXACT. Returns stack->count (0 only for a thread
 * without captured registers: DUMP_CUT_NOT_STOPPED). */
size_t Unwind_thread(Unwind* this, const SnapshotThread* thread, size_t maxFrames, UnwindStack* stack);

#endif
