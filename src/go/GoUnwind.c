/* pcsp unwinding of Go frames: see GoUnwind.h. */
#include "stacktop/GoUnwind.h"

#include <stdlib.h>
#include <string.h>

#include "stacktop/Util.h"

static const char* const endNames[] = {
   [GO_UNWIND_CONTINUE] = "not ended",
   [GO_UNWIND_TOPFRAME] = "reached the goroutine's first function",
   [GO_UNWIND_SPWRITE] = "reached a function that switches stacks",
   [GO_UNWIND_NOT_GO] = "left Go code",
   [GO_UNWIND_NO_FUNC] = "return address in no Go function",
   [GO_UNWIND_BAD_DELTA] = "no frame size recorded at the pc",
   [GO_UNWIND_UNREADABLE] = "return address outside the copied stack",
   [GO_UNWIND_OUT_OF_STACK] = "frame above the top of the stack",
   [GO_UNWIND_DEPTH] = "frame limit reached",
};

const char* GoUnwind_endName(GoUnwindEnd end) {
   return (size_t)end < sizeof(endNames) / sizeof(endNames[0]) ? endNames[end] : "?";
}

bool GoUnwind_complete(GoUnwindEnd end) {
   return end == GO_UNWIND_TOPFRAME;
}

/* A frame called by one of these was interrupted, not calling: its pc is
 * where it stopped (Go's unwinder sets funcFlag_... / unwindTrap for them). */
static bool injectsCalls(const GoBinary* bin, uint64_t vaddr) {
   if (GoBinary_isFunc(bin, GO_FUNC_SIGPANIC, vaddr))
      return true;
   /* Up to 1.20 only sigpanic's victims were looked up at their pc. */
   bool since121 = !bin->layout || bin->layout->trapAfterPreempt;
   return since121 &&
          (GoBinary_isFunc(bin, GO_FUNC_ASYNC_PREEMPT, vaddr) || GoBinary_isFunc(bin, GO_FUNC_DEBUG_CALL_V2, vaddr));
}

/* Everything about a pc that needs the pclntab, memory reads aside. */
typedef struct PcStep_ {
   uint64_t pc;        /* target address; 0: empty slot */
   GoUnwindEnd found;  /* CONTINUE: in a function; NOT_GO or NO_FUNC */
   GoUnwindEnd ends;   /* CONTINUE, or TOPFRAME / SPWRITE / BAD_DELTA: no caller */
   int32_t delta;      /* frame size at pc */
   bool callerTrapped; /* the caller was interrupted (sigpanic, asyncPreempt) */
} PcStep;

#define MEMO_SLOTS 4096 /* power of two */

struct GoUnwindMemo_ {
   const GoBinary* bin;
   uint64_t bias;
   PcStep slots[MEMO_SLOTS];
};

GoUnwindMemo* GoUnwindMemo_new(void) {
   return Util_xcalloc(1, sizeof(GoUnwindMemo));
}

void GoUnwindMemo_free(GoUnwindMemo* this) {
   free(this);
}

/* The function at pc and what ends or continues a frame there (F4.2 of
 * the fact sheet). */
static void computeStep(const GoUnwindStart* s, uint64_t pc, PcStep* out) {
   *out = (PcStep){ .pc = pc, .found = GO_UNWIND_CONTINUE, .ends = GO_UNWIND_CONTINUE };
   uint64_t vaddr = pc - s->bias;
   PclntabFunc f;
   if (!GoBinary_inText(s->bin, vaddr)) {
      out->found = GO_UNWIND_NOT_GO;
      return;
   }
   if (!Pclntab_find(&s->bin->pclntab, vaddr, &f)) {
      out->found = GO_UNWIND_NO_FUNC;
      return;
   }
   /* Go 1.16's tables have no flag byte: its outermost and stack-switching
    * functions are known by name. */
   if ((f.flag & PCLNTAB_FLAG_TOPFRAME) || GoBinary_isFunc(s->bin, GO_FUNC_GOEXIT, vaddr) ||
       GoBinary_isFunc(s->bin, GO_FUNC_MSTART, vaddr)) {
      out->ends = GO_UNWIND_TOPFRAME;
      return;
   }
   if ((f.flag & PCLNTAB_FLAG_SPWRITE) || GoBinary_isFunc(s->bin, GO_FUNC_MCALL, vaddr) ||
       GoBinary_isFunc(s->bin, GO_FUNC_SYSTEMSTACK, vaddr)) {
      out->ends = GO_UNWIND_SPWRITE;
      return;
   }
   /* The frame size at pc itself, also for return addresses: the call has
    * not returned, so the caller's frame is still the size it was then. */
   if (!Pclntab_spDelta(&s->bin->pclntab, &f, vaddr, &out->delta) || out->delta < 0) {
      out->ends = GO_UNWIND_BAD_DELTA;
      return;
   }
   out->callerTrapped = injectsCalls(s->bin, vaddr);
}

static const PcStep* stepAt(const GoUnwindStart* s, uint64_t pc, PcStep* local) {
   GoUnwindMemo* m = s->memo;
   if (!m || pc == 0) {
      computeStep(s, pc, local);
      return local;
   }
   if (m->bin != s->bin || m->bias != s->bias) {
      memset(m->slots, 0, sizeof(m->slots));
      m->bin = s->bin;
      m->bias = s->bias;
   }
   PcStep* slot = &m->slots[(size_t)((pc * 0x9e3779b97f4a7c15ull) >> 52) & (MEMO_SLOTS - 1)];
   if (slot->pc != pc)
      computeStep(s, pc, slot);
   return slot;
}

/* The caller of a frame whose pc is in a function (F4.2). */
static GoUnwindEnd stepFrom(const GoUnwindStart* s, const PcStep* at, const GoPhysFrame* frame, GoPhysFrame* caller) {
   if (at->ends != GO_UNWIND_CONTINUE)
      return at->ends;
   uint64_t fp = frame->sp + (uint64_t)at->delta + 8; /* + the pushed return address */
   if (s->stackHi && fp > s->stackHi)
      return GO_UNWIND_OUT_OF_STACK;
   uint64_t ret;
   if (!s->read(s->ctx, fp - 8, &ret))
      return GO_UNWIND_UNREADABLE;
   *caller = (GoPhysFrame){ .pc = ret, .sp = fp, .trap = at->callerTrapped };
   return GO_UNWIND_CONTINUE;
}

GoUnwindEnd GoUnwind_step(const GoUnwindStart* s, const GoPhysFrame* frame, GoPhysFrame* caller) {
   PcStep local;
   const PcStep* at = stepAt(s, frame->pc, &local);
   return at->found == GO_UNWIND_CONTINUE ? stepFrom(s, at, frame, caller) : at->found;
}

size_t GoUnwind_frames(const GoUnwindStart* s, GoPhysFrame* out, size_t max, GoUnwindEnd* end, GoPhysFrame* next) {
   GoPhysFrame frame = { .pc = s->pc, .sp = s->sp, .trap = s->trap };
   size_t n = 0;
   for (;;) {
      PcStep local;
      const PcStep* at = stepAt(s, frame.pc, &local);
      if (at->found != GO_UNWIND_CONTINUE) {
         *end = at->found;
         break;
      }
      if (n == max) {
         *end = GO_UNWIND_DEPTH;
         break;
      }
      out[n++] = frame;
      GoPhysFrame caller = frame; /* not above frame: ends the walk unless stepFrom moves it */
      GoUnwindEnd step = stepFrom(s, at, &frame, &caller);
      if (step != GO_UNWIND_CONTINUE) {
         *end = step;
         break;
      }
      /* Frames only go up the stack; anything else is a loop or garbage. */
      if (caller.sp <= frame.sp) {
         *end = GO_UNWIND_OUT_OF_STACK;
         break;
      }
      frame = caller;
   }
   if (next)
      *next = frame;
   return n;
}
