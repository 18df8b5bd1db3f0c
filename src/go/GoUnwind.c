/* pcsp unwinding of Go frames: see GoUnwind.h. */
#include "stacktop/GoUnwind.h"

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

/* The function at a frame's pc, or why there is none. */
static GoUnwindEnd funcAt(const GoUnwindStart* s, uint64_t pc, PclntabFunc* f) {
   uint64_t vaddr = pc - s->bias;
   if (!GoBinary_inText(s->bin, vaddr))
      return GO_UNWIND_NOT_GO;
   return Pclntab_find(&s->bin->pclntab, vaddr, f) ? GO_UNWIND_CONTINUE : GO_UNWIND_NO_FUNC;
}

/* The caller of a frame in function f (F4.2 of the fact sheet). */
static GoUnwindEnd stepFrom(const GoUnwindStart* s, const PclntabFunc* f, const GoPhysFrame* frame,
                            GoPhysFrame* caller) {
   /* Go 1.16's tables have no flag byte: its outermost and stack-switching
    * functions are known by name. */
   uint64_t vaddr = frame->pc - s->bias;
   if ((f->flag & PCLNTAB_FLAG_TOPFRAME) || GoBinary_isFunc(s->bin, GO_FUNC_GOEXIT, vaddr) ||
       GoBinary_isFunc(s->bin, GO_FUNC_MSTART, vaddr))
      return GO_UNWIND_TOPFRAME;
   if ((f->flag & PCLNTAB_FLAG_SPWRITE) || GoBinary_isFunc(s->bin, GO_FUNC_MCALL, vaddr) ||
       GoBinary_isFunc(s->bin, GO_FUNC_SYSTEMSTACK, vaddr))
      return GO_UNWIND_SPWRITE;
   /* The frame size at pc itself, also for return addresses: the call has
    * not returned, so the caller's frame is still the size it was then. */
   int32_t delta;
   if (!Pclntab_spDelta(&s->bin->pclntab, f, frame->pc - s->bias, &delta) || delta < 0)
      return GO_UNWIND_BAD_DELTA;
   uint64_t fp = frame->sp + (uint64_t)delta + 8; /* + the pushed return address */
   if (s->stackHi && fp > s->stackHi)
      return GO_UNWIND_OUT_OF_STACK;
   uint64_t ret;
   if (!s->read(s->ctx, fp - 8, &ret))
      return GO_UNWIND_UNREADABLE;
   *caller = (GoPhysFrame){ .pc = ret, .sp = fp, .trap = injectsCalls(s->bin, frame->pc - s->bias) };
   return GO_UNWIND_CONTINUE;
}

GoUnwindEnd GoUnwind_step(const GoUnwindStart* s, const GoPhysFrame* frame, GoPhysFrame* caller) {
   PclntabFunc f;
   GoUnwindEnd found = funcAt(s, frame->pc, &f);
   return found == GO_UNWIND_CONTINUE ? stepFrom(s, &f, frame, caller) : found;
}

size_t GoUnwind_frames(const GoUnwindStart* s, GoPhysFrame* out, size_t max, GoUnwindEnd* end, GoPhysFrame* next) {
   GoPhysFrame frame = { .pc = s->pc, .sp = s->sp, .trap = s->trap };
   size_t n = 0;
   for (;;) {
      PclntabFunc f;
      GoUnwindEnd found = funcAt(s, frame.pc, &f);
      if (found != GO_UNWIND_CONTINUE) {
         *end = found;
         break;
      }
      if (n == max) {
         *end = GO_UNWIND_DEPTH;
         break;
      }
      out[n++] = frame;
      GoPhysFrame caller;
      GoUnwindEnd step = stepFrom(s, &f, &frame, &caller);
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
