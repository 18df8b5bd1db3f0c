#ifndef STACKTOP_STACKMODEL_H
#define STACKTOP_STACKMODEL_H
/* What the stack view navigates: sections of groups. A section is one kind
 * of stacks of the process (today the thread groups of a DumpResult; a Go
 * process's goroutine groups are meant to be another section, added before
 * the threads through the same builder calls). A group is one stack shared
 * by `count` threads (or goroutines): a summary for its collapsed line
 * (state mix, top user function with file:line), who is in it, and its
 * frames. Pure: no curses, no I/O; everything is copied, so the model
 * outlives the dump it came from. */
#include <stdbool.h>
#include <stddef.h>

#include "stacktop/Dump.h"

typedef struct StackGroup_ {
   size_t count;
   char* states;  /* "S×38 R×2" (owned) */
   char* top;     /* top user function: "park_on_condvar stack_groups.c:25" (owned) */
   char* members; /* "threads 5972 5973 ... 6011 (names: parker)" (owned) */
   char** frames; /* one line per frame, innermost first: "0x... function+0x1c file.c:25" (owned) */
   size_t frameCount, frameCapacity;
} StackGroup;

typedef enum StackSectionKind_ {
   STACK_SECTION_THREADS,
   STACK_SECTION_GOROUTINES,
} StackSectionKind;

typedef struct StackSection_ {
   char* title; /* "thread profile: total 58" (owned) */
   StackSectionKind kind;
   StackGroup* groups;
   size_t groupCount, groupCapacity;
   char** notes; /* what is partial and why, one line each (owned) */
   size_t noteCount, noteCapacity;
} StackSection;

typedef struct StackModel_ {
   StackSection* sections;
   size_t sectionCount, sectionCapacity;
} StackModel;

/* The model of a dump: for a Go process its goroutine groups first (or why
 * there are none), then the thread groups, each in the dump's order.
 * Caller frees with StackModel_free. */
StackModel* StackModel_fromDump(const DumpResult* result);
struct GoProfile_;
/* Adds the section of a Go process's goroutine groups (Go's profile order;
 * states are wait reasons; the top frame is the first Go shows). */
void StackModel_addGoroutines(StackModel* this, const struct GoProfile_* go);
/* Adds the section of a dump's thread groups to a model (after any section
 * already there, e.g. goroutines). */
void StackModel_addThreads(StackModel* this, const DumpResult* result);
void StackModel_free(StackModel* this);

/* Builders (used by StackModel_fromDump; a goroutine section fills the same
 * way). Strings are copied. */
StackModel* StackModel_new(void);
StackSection* StackModel_addSection(StackModel* this, const char* title);
void StackModel_addNote(StackSection* section, const char* note);
StackGroup* StackModel_addGroup(StackSection* section, size_t count, const char* states, const char* top,
                                const char* members);
void StackModel_addFrame(StackGroup* group, const char* line);

/* The frame worth showing on a collapsed group's line: the innermost one
 * that is not in a system library (libc, ld.so, the vdso) nor the Go
 * runtime; the innermost frame when every frame is. NULL without frames. */
const DumpFrame* StackModel_topUserFrame(const DumpGroup* group);
/* Case-insensitive search in a group's top, members and frames. */
bool StackModel_groupMatches(const StackGroup* group, const char* text);

#endif
