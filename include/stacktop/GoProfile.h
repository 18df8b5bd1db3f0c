#ifndef STACKTOP_GOPROFILE_H
#define STACKTOP_GOPROFILE_H
/* Go's goroutine profile, computed from a GoSnapshot after the process was
 * released: each goroutine unwound (GoUnwind), its PC list built exactly as
 * Go's profiler records it (runtime.tracebackPCs / gentraceback: inline
 * levels as virtual PCs, wrappers elided, 32 or 128 PCs), system goroutines
 * left out, goroutines with identical PC lists and labels grouped and ordered
 * like runtime/pprof (count descending, then the key text), each group's
 * frame lines as runtime.CallersFrames gives them; and per goroutine the
 * frames Go's debug=2 traceback prints. Every string is owned here, so the
 * profile outlives the binary it came from. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stacktop/GoSnapshot.h"

/* A frame line of the debug=1 profile. */
typedef struct GoProfileFrame_ {
   uint64_t pc;     /* as Go prints it (the looked-up pc) */
   char* function;  /* display name (generics as [...]) */
   uint64_t offset; /* from the physical function's entry */
   char* file;
   int line;
   bool inlined;
} GoProfileFrame;

typedef struct GoStateCount_ {
   char* state; /* "chan send", "running", "syscall", ... */
   size_t count;
} GoStateCount;

typedef struct GoProfileGroup_ {
   size_t count;
   char* key; /* "@ 0x.. 0x..", plus "\n# labels: {...}" */
   uint64_t* pcs;
   size_t pcCount;
   char* labels; /* `{...}` or NULL */
   GoProfileFrame* frames;
   size_t frameCount;
   uint64_t* goids; /* count of them, ascending */
   GoStateCount* states;
   size_t stateCount;
} GoProfileGroup;

/* A frame of the debug=2 traceback. */
typedef struct GoTraceFrame_ {
   char* function; /* display name ("panic" for runtime.gopanic) */
   char* file;
   int line;
   bool inlined;
   bool hasOffset; /* physical frames with pc > entry print " +0x.." */
   uint64_t offset;
} GoTraceFrame;

/* One goroutine as debug=2 prints it. */
typedef struct GoTrace_ {
   uint64_t goid;
   char* header; /* "goroutine 18 [chan send, 3 minutes]:" */
   GoTraceFrame* frames;
   size_t frameCount;
   char* problem;          /* "goroutine running on other thread; stack unavailable", an unwinding note, or NULL */
   GoTraceFrame createdBy; /* function NULL when not printed */
   uint64_t parentGoid;    /* printed as "in goroutine N" when the release does */
   bool createdInGoroutine;
} GoTrace;

typedef struct GoProfile_ {
   char version[48];
   size_t total; /* goroutines in the groups (Go's "total") */
   GoProfileGroup* groups;
   size_t groupCount;
   GoTrace* traces; /* counted goroutines in allgs order */
   size_t traceCount;
   int tracebackInner, tracebackOuter; /* debug=2 frame limits of this release */
   double readMs, stoppedMs;
   char** notes; /* lines saying what is partial and why */
   size_t noteCount;
   bool partial;    /* some goroutines or frames are missing (the notes say which) */
   char error[256]; /* set when there are no goroutines to show */
} GoProfile;

/* Builds the profile; the snapshot's binary must still be open. */
GoProfile* GoProfile_build(const GoSnapshot* snap);
void GoProfile_free(GoProfile* this);

/* Go's display name (funcNamePiecesForPrint): a generic function's type
 * arguments as "[...]". Caller frees. */
char* GoProfile_displayName(const char* name);

#endif
