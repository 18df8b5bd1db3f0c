#ifndef STACKTOP_GROUP_H
#define STACKTOP_GROUP_H
/* Groups threads with identical stacks (pure: no I/O). Identity is the PC
 * sequence, or with DUMP_GROUP_FUNCTION the function sequence, so stacks that
 * differ only in offsets merge; then why the stack ends (a cut stack never
 * merges with a whole one) and, for threads that never stopped, the kernel
 * wait channel. Groups are ordered like Go's goroutine
 * profile: count descending, then the group line's text ascending. */
#include <stddef.h>
#include <stdint.h>

#include "stacktop/Dump.h"

typedef struct GroupThread_ {
   DumpThread info;
   const uint64_t* pcs;  /* innermost first; not owned */
   const uint8_t* kinds; /* DumpPcKind per pc; NULL: frame 0 exact, the others return addresses */
   size_t pcCount;
   DumpCut cut;
   const DumpKernelWait* wait; /* may be NULL; copied (stack duplicated) into the group */
} GroupThread;

/* The pc's kind in a stack whose kinds may be NULL. */
DumpPcKind Group_kindAt(const uint8_t* kinds, size_t index);

/* The function containing pc, looked up as kind says, for
 * DUMP_GROUP_FUNCTION; NULL when unknown: unknown frames then compare by PC. */
typedef const char* (*GroupFunctionOf)(void* ctx, uint64_t pc, DumpPcKind kind);

/* Returns groupCount groups (caller frees with Group_freeAll). Each group gets
 * its threads sorted by tid and the PCs of its lowest tid; frames are left
 * empty for the caller to fill. functionOf may be NULL for DUMP_GROUP_PC. */
DumpGroup* Group_build(const GroupThread* threads, size_t count, DumpGroupBy by, GroupFunctionOf functionOf, void* ctx,
                       size_t* groupCount);
/* Orders groups: count descending, then Group_line text ascending. */
void Group_sort(DumpGroup* groups, size_t count);
/* The group line, "COUNT @ 0xPC 0xPC ...", without newline; caller frees. */
char* Group_line(const DumpGroup* group);
/* A group's threads by state letter, most frequent first, then by letter:
 * fills up to max entries, returns how many. */
typedef struct GroupStateCount_ {
   char state;
   size_t count;
} GroupStateCount;
size_t Group_stateMix(const DumpGroup* group, GroupStateCount* out, size_t max);
/* "S×38 R×2" (× is U+00D7) into buf. */
void Group_describeStates(const DumpGroup* group, char* buf, size_t size);

/* Frees the groups, their threads, PCs, kinds, kernel stacks and frames (and
 * the strings frames own). */
void Group_freeAll(DumpGroup* groups, size_t count);

#endif
