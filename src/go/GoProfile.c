/* The goroutine profile and traceback, as Go computes them: see GoProfile.h.
 * The rules are Go's own, from src/runtime/traceback.go (tracebackPCs,
 * traceback2, showfuncinfo, isExportedRuntime, goroutineheader,
 * printcreatedby, isSystemGoroutine), src/runtime/symtab.go (Frames.Next,
 * funcNamePiecesForPrint) and src/runtime/pprof/pprof.go (printCountProfile,
 * printStackRecord, keysByCount); F3-F4 of shared/reference/go-runtime.md. */
#include "stacktop/GoProfile.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/GoUnwind.h"
#include "stacktop/Util.h"

/* Physical frames unwound per goroutine at most. */
#define MAX_PHYS_FRAMES 10000
/* Inline levels at one pc at most (Pclntab bounds them too). */
#define MAX_LEVELS 64

/* Levels remembered per (pc, trap): goroutines share few pcs, and
 * symbolizing one (function, file:line, inline tree) is the pclntab's
 * costliest read. */
#define LEVEL_MEMO_SLOTS 2048 /* power of two */
#define LEVEL_MEMO_DEPTH 8    /* deeper inline chains are not remembered */

typedef struct LevelMemo_ {
   uint64_t pc; /* 0: empty */
   bool trap;
   bool found;
   PclntabFunc f;
   uint64_t sym;
   size_t count;
   PclntabFrame levels[LEVEL_MEMO_DEPTH];
} LevelMemo;

typedef struct Ctx_ {
   const GoSnapshot* snap;
   const GoBinary* bin;
   const Pclntab* table;
   uint64_t bias;
   GoProfile* out;
   GoPhysFrame* phys; /* scratch, MAX_PHYS_FRAMES */
   PclntabFrame levels[MAX_LEVELS];
   GoUnwindMemo* unwindMemo;
   LevelMemo* levelMemo; /* LEVEL_MEMO_SLOTS */
} Ctx;

/* One counted goroutine while the profile is built. */
typedef struct Entry_ {
   const GoRoutine* r;
   uint64_t* pcs;
   size_t pcCount;
   char* key;
} Entry;

static char* dupOrNull(const char* s) {
   return s ? Util_xstrdup(s) : NULL;
}

static char* formatted(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
static char* formatted(const char* fmt, ...) {
   va_list ap;
   va_start(ap, fmt);
   char* s = NULL;
   if (vasprintf(&s, fmt, ap) < 0)
      s = NULL;
   va_end(ap);
   if (!s) {
      fputs("stacktop: out of memory\n", stderr);
      abort();
   }
   return s;
}

static void addNote(GoProfile* p, char* note) {
   p->notes = Util_xrealloc(p->notes, (p->noteCount + 1) * sizeof(char*));
   p->notes[p->noteCount++] = note;
}

char* GoProfile_displayName(const char* name) {
   const char* open = strchr(name, '[');
   const char* close = strrchr(name, ']');
   if (!open || !close || close <= open)
      return Util_xstrdup(name);
   return formatted("%.*s[...]%s", (int)(open - name), name, close + 1);
}

/* ---- functions ------------------------------------------------------------ */

static bool physicalAt(const Ctx* c, uint64_t pc, PclntabFunc* f) {
   return pc >= c->bias && Pclntab_find(c->table, pc - c->bias, f);
}

static bool isRuntime(const char* name) {
   return name && strncmp(name, "runtime.", 8) == 0;
}

static bool nameIs(const char* name, const char* want) {
   return name && strcmp(name, want) == 0;
}

/* elideWrapperCalling: wrappers are hidden unless they called a panic. */
static bool elideWrapperCalling(const char* callee) {
   return !(nameIs(callee, "runtime.gopanic") || nameIs(callee, "runtime.sigpanic") ||
            nameIs(callee, "runtime.panicwrap"));
}

static bool isWrapper(const Ctx* c, uint8_t funcID) {
   return c->bin->layout && funcID == c->bin->layout->funcIdWrapper;
}

/* isExportedRuntime: runtime.Gosched, and from 1.21 runtime.(*Func).Name. */
static bool isExportedRuntime(const Ctx* c, const char* name) {
   if (!isRuntime(name))
      return false;
   const char* rest = name + 8;
   if (c->bin->minor < 21)
      return *rest >= 'A' && *rest <= 'Z';
   const char* dot = strrchr(rest, '.');
   const char* fn = dot ? dot + 1 : rest;
   if (!(*fn >= 'A' && *fn <= 'Z'))
      return false;
   if (!dot)
      return true;
   const char* rcvr = rest;
   if (dot - rest >= 3 && rest[0] == '(' && rest[1] == '*' && dot[-1] == ')')
      rcvr = rest + 2;
   return *rcvr >= 'A' && *rcvr <= 'Z';
}

/* showfuncinfo at traceback level 1 (runtime.Stack, GOTRACEBACK=all). */
static bool showFunc(const Ctx* c, const char* name, uint8_t funcID, bool firstFrame, const char* callee) {
   if (!name)
      return false;
   if (isWrapper(c, funcID) && elideWrapperCalling(callee))
      return false;
   if (nameIs(name, "runtime.gopanic") && !firstFrame)
      return true;
   return strchr(name, '.') && (!isRuntime(name) || isExportedRuntime(c, name));
}

/* The pc a frame is symbolized at (unwinder.symPC): the call instruction
 * for a return address, the pc itself for a trap or a function's entry. */
static uint64_t symPc(const GoPhysFrame* fr, const PclntabFunc* f, uint64_t bias) {
   return fr->trap || fr->pc - bias == f->entry ? fr->pc : fr->pc - 1;
}

/* ---- which goroutines ------------------------------------------------------- */

static const char* waitReasonName(const GoBinary* bin, uint8_t reason) {
   return reason < bin->waitReasonCount ? bin->waitReasons[reason] : "unknown wait reason";
}

static bool isSystem(const Ctx* c, const GoRoutine* r) {
   return r->startPc >= c->bias &&
          GoBinary_isSystemGoroutine(c->bin, r->startPc - c->bias, r->status & ~(uint32_t)GO_G_SCAN, r->waitReason);
}

static const char* stateOf(const Ctx* c, const GoRoutine* r) {
   uint32_t s = r->status & ~(uint32_t)GO_G_SCAN;
   if (s == GO_G_WAITING && r->waitReason != 0)
      return waitReasonName(c->bin, r->waitReason);
   return GoLayout_statusName(s);
}

/* goroutineheader. */
static char* headerOf(const Ctx* c, const GoRoutine* r) {
   uint32_t s = r->status & ~(uint32_t)GO_G_SCAN;
   char minutes[48] = "";
   if ((s == GO_G_WAITING || s == GO_G_SYSCALL) && r->waitSince != 0) {
      int64_t waited = (c->snap->nanotime - r->waitSince) / 60000000000LL;
      if (waited >= 1)
         Util_format(minutes, sizeof(minutes), ", %" PRId64 " minutes", waited);
   }
   return formatted("goroutine %" PRIu64 " [%s%s%s%s]:", r->goid, stateOf(c, r),
                    (r->status & GO_G_SCAN) ? " (scan)" : "", minutes, r->lockedToThread ? ", locked to thread" : "");
}

/* ---- unwinding and the PC list ---------------------------------------------- */

static size_t unwind(Ctx* c, const GoRoutine* r, GoUnwindEnd* end) {
   GoUnwindStart s = { .memo = c->unwindMemo,
                       .bin = c->bin,
                       .bias = c->bias,
                       .pc = r->pc,
                       .sp = r->sp,
                       .trap = r->trap,
                       .stackHi = r->stackHi,
                       .read = GoSnapshot_readStackWord,
                       .ctx = (void*)r };
   return GoUnwind_frames(&s, c->phys, MAX_PHYS_FRAMES, end, NULL);
}

static size_t computeLevels(Ctx* c, const GoPhysFrame* fr, PclntabFunc* f, uint64_t* sym) {
   if (!physicalAt(c, fr->pc, f))
      return 0;
   *sym = symPc(fr, f, c->bias);
   return Pclntab_frames(c->table, *sym - c->bias, c->levels, MAX_LEVELS);
}

/* The levels at a physical frame's symbolization pc, innermost first, in
 * c->levels. */
static size_t levelsAt(Ctx* c, const GoPhysFrame* fr, PclntabFunc* f, uint64_t* sym) {
   size_t h = (size_t)(((fr->pc ^ (uint64_t)fr->trap) * 0x9e3779b97f4a7c15ull) >> 53) & (LEVEL_MEMO_SLOTS - 1);
   LevelMemo* slot = &c->levelMemo[h];
   if (slot->pc == fr->pc && slot->trap == fr->trap) {
      if (!slot->found)
         return 0;
      *f = slot->f;
      *sym = slot->sym;
      memcpy(c->levels, slot->levels, slot->count * sizeof(PclntabFrame));
      return slot->count;
   }
   size_t m = computeLevels(c, fr, f, sym);
   if (m > LEVEL_MEMO_DEPTH || fr->pc == 0)
      return m;
   *slot = (LevelMemo){ .pc = fr->pc, .trap = fr->trap, .found = m > 0, .count = m };
   if (m > 0) {
      slot->f = *f;
      slot->sym = *sym;
      memcpy(slot->levels, c->levels, m * sizeof(PclntabFrame));
   }
   return m;
}

/* tracebackPCs: one PC per logical frame, inline levels as the virtual
 * return address entry + parentPc + 1 of their caller, wrappers elided. */
static size_t pcList(Ctx* c, size_t physCount, uint64_t* pcs, size_t max) {
   size_t n = 0;
   const char* callee = NULL;
   for (size_t i = 0; i < physCount && n < max; i++) {
      PclntabFunc f;
      uint64_t sym;
      size_t m = levelsAt(c, &c->phys[i], &f, &sym);
      for (size_t j = 0; j < m && n < max; j++) {
         uint64_t levelPc = j == 0 ? sym : c->levels[j - 1].parentPc + c->bias;
         if (!(isWrapper(c, c->levels[j].funcID) && elideWrapperCalling(callee)))
            pcs[n++] = levelPc + 1;
         callee = c->levels[j].function;
      }
   }
   return n;
}

static char* keyOf(const uint64_t* pcs, size_t n, const char* labels) {
   size_t cap = 2 + n * 20 + (labels ? strlen(labels) + 12 : 0);
   char* key = Util_xmalloc(cap);
   size_t len = (size_t)snprintf(key, cap, "@");
   for (size_t i = 0; i < n; i++)
      len += (size_t)snprintf(key + len, cap - len, " 0x%" PRIx64, pcs[i]);
   if (labels)
      snprintf(key + len, cap - len, "\n# labels: %s", labels);
   return key;
}

/* ---- debug=1 frame lines (runtime.CallersFrames + printStackRecord) --------- */

static void addFrame(GoProfileGroup* g, size_t* cap, const GoProfileFrame* fr) {
   Util_growArray((void**)&g->frames, cap, g->frameCount, sizeof(GoProfileFrame));
   g->frames[g->frameCount++] = *fr;
}

/* One frame per PC: the innermost function at pc-1, offset from the
 * physical entry; PCs in no function are dropped, as Go drops them. */
static size_t callersFrames(Ctx* c, const uint64_t* pcs, size_t n, GoProfileFrame* out) {
   size_t k = 0;
   for (size_t i = 0; i < n; i++) {
      PclntabFunc f;
      if (!physicalAt(c, pcs[i], &f))
         continue;
      uint64_t entry = f.entry + c->bias;
      uint64_t look = pcs[i] > entry ? pcs[i] - 1 : pcs[i];
      size_t m = Pclntab_frames(c->table, look - c->bias, c->levels, MAX_LEVELS);
      if (m == 0 || !c->levels[0].function)
         continue;
      out[k++] = (GoProfileFrame){ .pc = look,
                                   .function = GoProfile_displayName(c->levels[0].function),
                                   .offset = look - entry,
                                   .file = dupOrNull(c->levels[0].file ? c->levels[0].file : "?"),
                                   .line = c->levels[0].line,
                                   .inlined = m > 1 };
   }
   return k;
}

static void freeFrame(GoProfileFrame* f) {
   free(f->function);
   free(f->file);
}

/* Leading runtime frames and runtime.goexit are hidden; when that leaves
 * nothing, everything but goexit is shown. */
static void visibleFrames(Ctx* c, GoProfileGroup* g) {
   GoProfileFrame* all = Util_xcalloc(g->pcCount ? g->pcCount : 1, sizeof(GoProfileFrame));
   size_t n = callersFrames(c, g->pcs, g->pcCount, all);
   size_t cap = 0;
   for (int allFrames = 0; allFrames < 2 && g->frameCount == 0; allFrames++) {
      bool show = allFrames;
      for (size_t i = 0; i < n; i++) {
         const char* name = all[i].function;
         if (nameIs(name, "runtime.goexit") || !(show || !isRuntime(name)))
            continue;
         show = true;
         GoProfileFrame copy = all[i];
         copy.function = Util_xstrdup(all[i].function);
         copy.file = Util_xstrdup(all[i].file);
         addFrame(g, &cap, &copy);
      }
      if (show)
         break;
   }
   for (size_t i = 0; i < n; i++)
      freeFrame(&all[i]);
   free(all);
}

/* ---- groups --------------------------------------------------------------------- */

static int compareEntries(const void* a, const void* b) {
   const Entry* x = a;
   const Entry* y = b;
   int k = strcmp(x->key, y->key);
   if (k)
      return k;
   return x->r->goid < y->r->goid ? -1 : x->r->goid > y->r->goid;
}

static int compareGroups(const void* a, const void* b) {
   const GoProfileGroup* x = a;
   const GoProfileGroup* y = b;
   if (x->count != y->count)
      return x->count > y->count ? -1 : 1;
   return strcmp(x->key, y->key);
}

static void countState(GoProfileGroup* g, const char* state) {
   for (size_t i = 0; i < g->stateCount; i++) {
      if (strcmp(g->states[i].state, state) == 0) {
         g->states[i].count++;
         return;
      }
   }
   g->states = Util_xrealloc(g->states, (g->stateCount + 1) * sizeof(GoStateCount));
   g->states[g->stateCount++] = (GoStateCount){ .state = Util_xstrdup(state), .count = 1 };
}

static void makeGroup(Ctx* c, GoProfileGroup* g, Entry* entries, size_t n) {
   *g = (GoProfileGroup){ .count = n, .key = entries[0].key, .pcCount = entries[0].pcCount };
   entries[0].key = NULL; /* moved */
   g->pcs = Util_xcalloc(g->pcCount ? g->pcCount : 1, sizeof(uint64_t));
   memcpy(g->pcs, entries[0].pcs, g->pcCount * sizeof(uint64_t));
   g->labels = dupOrNull(entries[0].r->labels);
   g->goids = Util_xcalloc(n, sizeof(uint64_t));
   for (size_t i = 0; i < n; i++) {
      g->goids[i] = entries[i].r->goid;
      countState(g, stateOf(c, entries[i].r));
   }
   visibleFrames(c, g);
}

static void buildGroups(Ctx* c, Entry* entries, size_t n) {
   qsort(entries, n, sizeof(Entry), compareEntries);
   GoProfile* p = c->out;
   p->groups = Util_xcalloc(n ? n : 1, sizeof(GoProfileGroup));
   for (size_t start = 0; start < n;) {
      size_t end = start + 1;
      while (end < n && strcmp(entries[end].key, entries[start].key) == 0)
         end++;
      makeGroup(c, &p->groups[p->groupCount++], entries + start, end - start);
      start = end;
   }
   qsort(p->groups, p->groupCount, sizeof(GoProfileGroup), compareGroups);
}

/* ---- debug=2 traces ------------------------------------------------------------- */

static void addTraceFrame(GoTrace* t, size_t* cap, GoTraceFrame fr) {
   Util_growArray((void**)&t->frames, cap, t->frameCount, sizeof(GoTraceFrame));
   t->frames[t->frameCount++] = fr;
}

/* printFuncName. */
static char* printName(const char* name) {
   return nameIs(name, "runtime.gopanic") ? Util_xstrdup("panic") : GoProfile_displayName(name);
}

/* traceback2's logical frames; with showRuntime, every frame. */
static void traceFrames(Ctx* c, GoTrace* t, size_t physCount, bool showRuntime) {
   size_t cap = 0;
   const char* callee = NULL;
   for (size_t i = 0; i < physCount; i++) {
      const GoPhysFrame* fr = &c->phys[i];
      PclntabFunc f;
      uint64_t sym;
      size_t m = levelsAt(c, fr, &f, &sym);
      for (size_t j = 0; j < m; j++) {
         const PclntabFrame* lv = &c->levels[j];
         const char* prevCallee = callee;
         callee = lv->function;
         if (!showRuntime && !showFunc(c, lv->function, lv->funcID, t->frameCount == 0, prevCallee))
            continue;
         bool inlined = j + 1 < m;
         uint64_t entry = f.entry + c->bias;
         addTraceFrame(t, &cap,
                       (GoTraceFrame){ .function = printName(lv->function ? lv->function : "?"),
                                       .file = Util_xstrdup(lv->file ? lv->file : "?"),
                                       .line = lv->line,
                                       .inlined = inlined,
                                       .hasOffset = !inlined && fr->pc > entry,
                                       .offset = fr->pc - entry });
      }
   }
}

/* printcreatedby: the physical function holding the go statement, shown
 * unless hidden like a frame, and never for goroutine 1. */
static void createdBy(Ctx* c, const GoRoutine* r, GoTrace* t) {
   PclntabFunc f;
   if (r->goid == 1 || !physicalAt(c, r->goPc, &f) || !showFunc(c, f.name, f.funcID, false, NULL))
      return;
   uint64_t entry = f.entry + c->bias;
   uint64_t tracePc = r->goPc > entry ? r->goPc - 1 : r->goPc;
   const char* file = NULL;
   int line = 0;
   Pclntab_fileLine(c->table, &f, tracePc - c->bias, &file, &line);
   t->createdBy = (GoTraceFrame){ .function = printName(f.name),
                                  .file = Util_xstrdup(file ? file : "?"),
                                  .line = line,
                                  .hasOffset = r->goPc > entry,
                                  .offset = r->goPc - entry };
   t->parentGoid = r->parentGoid;
   t->createdInGoroutine = c->bin->layout->createdInGoroutine && r->parentGoid != 0;
}

static const char* stackProblem(const GoRoutine* r) {
   switch (r->state) {
   case GO_STACK_OK: return NULL;
   case GO_STACK_UNREADABLE: return "stack could not be read";
   case GO_STACK_CHANGED: return "stack changed while it was read after the process resumed";
   case GO_STACK_UNAVAILABLE: return "goroutine running on other thread; stack unavailable";
   case GO_STACK_MOVING: return "stack being moved by the runtime; skipped";
   }
   return NULL;
}

/* ---- notes --------------------------------------------------------------------- */

typedef struct Tally_ {
   size_t noStack, incomplete, truncated, late, changed;
   uint64_t exampleGoid;
   GoUnwindEnd exampleEnd;
   uint64_t examplePc;
} Tally;

static void writeNotes(Ctx* c, const Tally* t) {
   GoProfile* p = c->out;
   const GoSnapshot* s = c->snap;
   if (s->bin->layoutApproximate && s->bin->layoutFromDwarf)
      addNote(p, formatted("%s is newer than stacktop's tables (Go 1.%d): runtime.g offsets taken from its DWARF",
                           s->bin->version, GoLayout_newestKnown()));
   else if (s->bin->layoutApproximate)
      addNote(p, formatted("%s is newer than stacktop's tables (Go 1.%d): read with that layout; every goroutine "
                           "passed the structure checks",
                           s->bin->version, GoLayout_newestKnown()));
   if (s->bin->layoutNote[0])
      addNote(p, Util_xstrdup(s->bin->layoutNote));
   if (s->missedGoroutines)
      addNote(p, formatted("%zu goroutines were created while the process was being stopped, beyond the room "
                           "sized before the stop: not shown",
                           s->missedGoroutines));
   if (t->late)
      addNote(p, formatted("stacks of %zu goroutines were read after the process resumed (more than %zu KiB of "
                           "stack to copy while stopped); %zu had moved on meanwhile and are shown without frames",
                           t->late, s->options.stoppedStackBudget >> 10, t->changed));
   if (t->noStack)
      addNote(p,
              formatted("%zu goroutines have no readable stack and are not in the groups (see --debug 2)", t->noStack));
   if (t->incomplete)
      addNote(p, formatted("unwinding stopped early for %zu goroutines (goroutine %" PRIu64 ": %s at 0x%" PRIx64 ")",
                           t->incomplete, t->exampleGoid, GoUnwind_endName(t->exampleEnd), t->examplePc));
   if (t->truncated)
      addNote(p, formatted("%zu goroutine stacks are deeper than %zu KiB and were read in part", t->truncated,
                           s->options.perGoroutineCap >> 10));
   p->partial = s->missedGoroutines || t->changed || t->noStack || t->incomplete || t->truncated;
}

/* ---- build ---------------------------------------------------------------------- */

static void addRoutine(Ctx* c, const GoRoutine* r, Entry* entries, size_t* entryCount, Tally* tally) {
   GoProfile* p = c->out;
   GoTrace* t = &p->traces[p->traceCount++];
   *t = (GoTrace){ .goid = r->goid, .header = headerOf(c, r) };
   const char* problem = stackProblem(r);
   tally->late += r->late;
   tally->changed += r->state == GO_STACK_CHANGED;
   if (problem) {
      t->problem = Util_xstrdup(problem);
      if (r->state == GO_STACK_UNAVAILABLE)
         createdBy(c, r, t);
      tally->noStack++;
      return;
   }
   GoUnwindEnd end;
   size_t phys = unwind(c, r, &end);
   bool complete = GoUnwind_complete(end) || end == GO_UNWIND_SPWRITE;
   tally->truncated += r->truncated;
   if (!complete) {
      if (tally->incomplete++ == 0) {
         tally->exampleGoid = r->goid;
         tally->exampleEnd = end;
         tally->examplePc = phys ? c->phys[phys - 1].pc : r->pc;
      }
      t->problem = formatted("...unwinding stopped at 0x%" PRIx64 ": %s", phys ? c->phys[phys - 1].pc : r->pc,
                             GoUnwind_endName(end));
   }
   traceFrames(c, t, phys, false);
   if (t->frameCount == 0)
      traceFrames(c, t, phys, true);
   createdBy(c, r, t);
   size_t depth = (size_t)c->bin->layout->profileDepth;
   Entry* e = &entries[(*entryCount)++];
   e->r = r;
   e->pcs = Util_xcalloc(depth, sizeof(uint64_t));
   e->pcCount = pcList(c, phys, e->pcs, depth);
   e->key = keyOf(e->pcs, e->pcCount, r->labels);
}

GoProfile* GoProfile_build(const GoSnapshot* snap) {
   GoProfile* p = Util_xcalloc(1, sizeof(*p));
   Util_format(p->version, sizeof(p->version), "%s", snap->bin->version);
   p->readMs = snap->stoppedReadMs + snap->afterReadMs;
   if (snap->error[0]) {
      Util_format(p->error, sizeof(p->error), "%s", snap->error);
      return p;
   }
   p->tracebackInner = snap->bin->layout->tracebackInner;
   p->tracebackOuter = snap->bin->layout->tracebackOuter;
   Ctx c = { .snap = snap, .bin = snap->bin, .table = &snap->bin->pclntab, .bias = snap->bias, .out = p };
   c.phys = Util_xcalloc(MAX_PHYS_FRAMES, sizeof(GoPhysFrame));
   c.unwindMemo = GoUnwindMemo_new();
   c.levelMemo = Util_xcalloc(LEVEL_MEMO_SLOTS, sizeof(LevelMemo));
   p->traces = Util_xcalloc(snap->count ? snap->count : 1, sizeof(GoTrace));
   Entry* entries = Util_xcalloc(snap->count ? snap->count : 1, sizeof(Entry));
   size_t entryCount = 0;
   Tally tally = { 0 };
   for (size_t i = 0; i < snap->count; i++) {
      if (!isSystem(&c, &snap->routines[i]))
         addRoutine(&c, &snap->routines[i], entries, &entryCount, &tally);
   }
   p->total = entryCount;
   buildGroups(&c, entries, entryCount);
   writeNotes(&c, &tally);
   for (size_t i = 0; i < entryCount; i++) {
      free(entries[i].pcs);
      free(entries[i].key);
   }
   free(entries);
   free(c.phys);
   GoUnwindMemo_free(c.unwindMemo);
   free(c.levelMemo);
   return p;
}

static void freeTraceFrame(GoTraceFrame* f) {
   free(f->function);
   free(f->file);
}

void GoProfile_free(GoProfile* this) {
   if (!this)
      return;
   for (size_t i = 0; i < this->groupCount; i++) {
      GoProfileGroup* g = &this->groups[i];
      free(g->key);
      free(g->pcs);
      free(g->labels);
      for (size_t k = 0; k < g->frameCount; k++)
         freeFrame(&g->frames[k]);
      free(g->frames);
      free(g->goids);
      for (size_t k = 0; k < g->stateCount; k++)
         free(g->states[k].state);
      free(g->states);
   }
   free(this->groups);
   for (size_t i = 0; i < this->traceCount; i++) {
      GoTrace* t = &this->traces[i];
      free(t->header);
      for (size_t k = 0; k < t->frameCount; k++)
         freeTraceFrame(&t->frames[k]);
      free(t->frames);
      free(t->problem);
      freeTraceFrame(&t->createdBy);
   }
   free(this->traces);
   for (size_t i = 0; i < this->noteCount; i++)
      free(this->notes[i]);
   free(this->notes);
   free(this);
}
