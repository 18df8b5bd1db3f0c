#ifndef STACKTOP_GOUNWIND_H
#define STACKTOP_GOUNWIND_H
/* Unwinding Go frames the way Go's own traceback does (runtime/traceback.go,
 * unwinder.next): the frame size at each PC comes from the pclntab's pcsp
 * table, so frameless assembly and functions stopped mid-prologue keep their
 * callers, without frame pointers or DWARF. Pure: memory comes from a read
 * callback (a copied stack), addresses are the target's (bias applied here). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stacktop/GoBinary.h"

/* Reads the 8-byte word at addr of the target; false when it was not copied. */
typedef bool (*GoReadWord)(void* ctx, uint64_t addr, uint64_t* value);

typedef struct GoPhysFrame_ {
   uint64_t pc; /* target address */
   uint64_t sp; /* the frame's SP (its lowest address) */
   bool trap;   /* pc is where execution stopped, not a return address */
} GoPhysFrame;

typedef enum GoUnwindEnd_ {
   GO_UNWIND_CONTINUE,     /* GoUnwind_step only: the caller's frame was found */
   GO_UNWIND_TOPFRAME,     /* runtime.goexit, mstart or rt0_go: the whole stack */
   GO_UNWIND_SPWRITE,      /* a function that switches stacks (systemstack, mcall, morestack...) */
   GO_UNWIND_NOT_GO,       /* pc outside Go code (C, the vDSO) */
   GO_UNWIND_NO_FUNC,      /* pc in Go text but in no function: a garbage return address */
   GO_UNWIND_BAD_DELTA,    /* no frame size recorded at pc */
   GO_UNWIND_UNREADABLE,   /* the return address lies outside what was copied */
   GO_UNWIND_OUT_OF_STACK, /* the next frame would start above the stack's top */
   GO_UNWIND_DEPTH,        /* max frames reached */
} GoUnwindEnd;

/* What the pclntab says about each pc met, kept across the stacks of one
 * binary and bias (thousands of goroutines share a few hundred pcs): an
 * unwinder's only costly work. Owned by the caller; one thread at a time. */
typedef struct GoUnwindMemo_ GoUnwindMemo;
GoUnwindMemo* GoUnwindMemo_new(void);
void GoUnwindMemo_free(GoUnwindMemo* this);

typedef struct GoUnwindStart_ {
   GoUnwindMemo* memo; /* may be NULL */
   const GoBinary* bin;
   uint64_t bias; /* target address - link-time address of the executable */
   uint64_t pc, sp;
   bool trap;        /* pc is an interrupted instruction (thread registers) */
   uint64_t stackHi; /* top of the goroutine's stack; 0 when unknown (a thread) */
   GoReadWord read;
   void* ctx;
} GoUnwindStart;

/* Writes up to max frames, innermost first; *end says why it stopped and
 * *next (may be NULL) gets the frame it stopped at: for GO_UNWIND_NOT_GO the
 * first frame outside Go, where another unwinder can continue. */
size_t GoUnwind_frames(const GoUnwindStart* start, GoPhysFrame* out, size_t max, GoUnwindEnd* end, GoPhysFrame* next);

/* One step from a Go frame at (pc, sp): GO_UNWIND_CONTINUE and the caller's
 * frame, or why there is none. */
GoUnwindEnd GoUnwind_step(const GoUnwindStart* start, const GoPhysFrame* frame, GoPhysFrame* caller);

/* "reached runtime.goexit", "return address outside the copied stack", ... */
const char* GoUnwind_endName(GoUnwindEnd end);
/* Whether an unwind that ended so is a complete stack. */
bool GoUnwind_complete(GoUnwindEnd end);

#endif
