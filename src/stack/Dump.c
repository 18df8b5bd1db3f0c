/* The dump pipeline: snapshot (target stopped; for a Go process the
 * goroutines are read in the same stop) -> detach -> unwind every thread ->
 * symbolize the unique PCs -> cut Go's scheduler bottom -> group -> attach
 * symbolized frames to each group; then the goroutine profile. Thread-safe:
 * all state lives in the call (the only global is Snapshot's CLI signal
 * hook). */
#include "stacktop/Dump.h"

#include <stdlib.h>
#include <string.h>

#include "stacktop/DumpMappings.h"
#include "stacktop/GoProfile.h"
#include "stacktop/GoSnapshot.h"
#include "stacktop/Group.h"
#include "stacktop/Snapshot.h"
#include "stacktop/Symbols.h"
#include "stacktop/Unwind.h"
#include "stacktop/Util.h"

#define MAX_INLINE_FRAMES 16
#define DEFAULT_MAX_DEPTH 256
#define DEFAULT_TIMEOUT_S 2.0

/* Frames past these are the thread's bottom in Go (the rest is garbage);
 * Go's assembly entry points carry an ".abi0" suffix in the symbol table. */
static const char* const outermostFunctions[] = { "runtime.mstart", "runtime.goexit" };

/* One unique PC and its symbolized frames (strings owned by Symbols). An
 * interrupted instruction (frame 0, or where a signal struck) and a signal
 * trampoline are looked up at their own address, a return address at the
 * call before it: the same number can be both. */
typedef struct PcInfo_ {
   uint64_t pc;
   DumpPcKind kind;
   SymbolFrame frames[MAX_INLINE_FRAMES];
   size_t frameCount;
} PcInfo;

typedef struct PcTable_ {
   PcInfo* entries; /* sorted by (pc, kind) */
   size_t count;
} PcTable;

typedef struct PcKey_ {
   uint64_t pc;
   DumpPcKind kind;
} PcKey;

/* The threads' unwound stacks. */
typedef struct Stacks_ {
   uint64_t** pcs;
   uint8_t** kinds;
   size_t* counts;
   DumpCut* cuts;
   size_t n;
} Stacks;

void DumpOptions_init(DumpOptions* this) {
   *this = (DumpOptions){
      .groupBy = DUMP_GROUP_PC,
      .maxDepth = DEFAULT_MAX_DEPTH,
      .lines = true,
      .demangle = true,
      .timeoutS = DEFAULT_TIMEOUT_S,
      .goroutines = true,
   };
#ifdef STACKTOP_TEST_HOOKS
   const char* hold = getenv("STACKTOP_TEST_HOLD_MS");
   if (hold)
      this->holdMs = atoi(hold) > 60000 ? 60000 : atoi(hold); /* never hold a target for long */
#endif
}

static int compareKeys(const void* a, const void* b) {
   const PcKey* x = a;
   const PcKey* y = b;
   if (x->pc != y->pc)
      return x->pc < y->pc ? -1 : 1;
   return (int)x->kind - (int)y->kind;
}

static int compareKeyEntry(const void* key, const void* entry) {
   const PcInfo* e = entry;
   PcKey ek = { e->pc, e->kind };
   return compareKeys(key, &ek);
}

static const PcInfo* findPc(const PcTable* t, uint64_t pc, DumpPcKind kind) {
   PcKey key = { pc, kind };
   return t->count ? bsearch(&key, t->entries, t->count, sizeof(PcInfo), compareKeyEntry) : NULL;
}

/* The real (outermost, non-inlined) function of a frame. */
static const char* functionOf(void* ctx, uint64_t pc, DumpPcKind kind) {
   const PcInfo* info = findPc(ctx, pc, kind);
   return info && info->frameCount ? info->frames[info->frameCount - 1].function : NULL;
}

/* Symbolizes each distinct PC once: return addresses at pc-1, so the line
 * is the call's and not the next statement's; interrupted instructions at
 * pc, so a thread stopped on a function's first instruction is not named
 * after the function before it; a signal trampoline at pc too (a handler
 * "returns" to its first byte). */
static void symbolizeUnique(PcTable* t, const Stacks* s, Symbols* symbols, const Snapshot* snap) {
   size_t total = 0;
   for (size_t i = 0; i < s->n; i++)
      total += s->counts[i];
   PcKey* all = Util_xcalloc(total ? total : 1, sizeof(PcKey));
   size_t n = 0;
   for (size_t i = 0; i < s->n; i++)
      for (size_t k = 0; k < s->counts[i]; k++)
         all[n++] = (PcKey){ s->pcs[i][k], (DumpPcKind)s->kinds[i][k] };
   qsort(all, n, sizeof(PcKey), compareKeys);
   size_t unique = 0;
   for (size_t i = 0; i < n; i++) {
      if (i == 0 || compareKeys(&all[i], &all[i - 1]) != 0)
         all[unique++] = all[i];
   }
   t->entries = Util_xcalloc(unique ? unique : 1, sizeof(PcInfo));
   t->count = unique;
   for (size_t i = 0; i < unique; i++) {
      PcInfo* e = &t->entries[i];
      e->pc = all[i].pc;
      e->kind = all[i].kind;
      uint64_t lookup = e->kind == DUMP_PC_RETURN ? e->pc - 1 : e->pc;
      e->frameCount = Symbols_lookup(symbols, snap->pid, &snap->maps, lookup, e->frames, MAX_INLINE_FRAMES);
   }
   free(all);
}

static bool isOutermost(const char* function) {
   if (!function)
      return false;
   for (size_t i = 0; i < sizeof(outermostFunctions) / sizeof(outermostFunctions[0]); i++) {
      size_t len = strlen(outermostFunctions[i]);
      if (strncmp(function, outermostFunctions[i], len) == 0 &&
          (function[len] == '\0' || strcmp(function + len, ".abi0") == 0))
         return true;
   }
   return false;
}

/* Go's scheduler bottom ends a stack whatever the unwinder found past it:
 * a whole stack. */
static size_t cutAtOutermost(const PcTable* t, const Stacks* s, size_t thread, DumpCut* cut) {
   for (size_t i = 0; i < s->counts[thread]; i++) {
      if (isOutermost(functionOf((void*)t, s->pcs[thread][i], (DumpPcKind)s->kinds[thread][i]))) {
         *cut = DUMP_CUT_NONE;
         return i + 1;
      }
   }
   *cut = s->cuts[thread];
   return s->counts[thread];
}

static char* dupOrNull(const char* s) {
   return s ? Util_xstrdup(s) : NULL;
}

static void attachFrames(DumpGroup* g, const PcTable* t) {
   size_t cap = 0;
   for (size_t i = 0; i < g->pcCount; i++) {
      DumpPcKind kind = (DumpPcKind)g->kinds[i];
      const PcInfo* info = findPc(t, g->pcs[i], kind);
      size_t n = info ? info->frameCount : 0;
      for (size_t j = 0; j < n; j++) {
         const SymbolFrame* s = &info->frames[j];
         /* Whatever symbol precedes a trampoline without one of its own
          * (libc has no .symtab) is not its name. */
         const char* function =
             kind == DUMP_PC_SIGNAL && s->function && strcmp(s->function, "__restore_rt") != 0 ? NULL : s->function;
         Util_growArray((void**)&g->frames, &cap, g->frameCount, sizeof(DumpFrame));
         g->frames[g->frameCount++] = (DumpFrame){
            .pc = kind == DUMP_PC_RETURN ? info->pc - 1 : info->pc,
            .function = dupOrNull(function),
            .offset = function ? s->offset : 0,
            .file = dupOrNull(s->file),
            .line = s->line,
            .module = dupOrNull(s->module),
            .inlined = s->inlined,
            .signal = kind == DUMP_PC_SIGNAL,
         };
      }
   }
}

static void unwindAll(const Snapshot* snap, size_t depth, Symbols* symbols, const GoSnapshot* go, Stacks* s) {
   size_t n = snap->threadCount;
   *s = (Stacks){ .pcs = Util_xcalloc(n + 1, sizeof(uint64_t*)),
                  .kinds = Util_xcalloc(n + 1, sizeof(uint8_t*)),
                  .counts = Util_xcalloc(n + 1, sizeof(size_t)),
                  .cuts = Util_xcalloc(n + 1, sizeof(DumpCut)),
                  .n = n };
   UnwindStack scratch = { .pcs = Util_xcalloc(depth, sizeof(uint64_t)), .kinds = Util_xcalloc(depth, 1) };
   Unwind* unwind = Unwind_new(snap, Symbols_cache(symbols));
   Unwind_setGoroutines(unwind, go);
   for (size_t i = 0; i < n; i++) {
      size_t count = Unwind_thread(unwind, &snap->threads[i], depth, &scratch);
      s->counts[i] = count;
      s->cuts[i] = scratch.cut;
      s->pcs[i] = Util_xcalloc(count + 1, sizeof(uint64_t));
      s->kinds[i] = Util_xcalloc(count + 1, 1);
      memcpy(s->pcs[i], scratch.pcs, count * sizeof(uint64_t));
      memcpy(s->kinds[i], scratch.kinds, count);
   }
   Unwind_free(unwind);
   free(scratch.pcs);
   free(scratch.kinds);
}

static void freeStacks(Stacks* s) {
   for (size_t i = 0; i < s->n; i++) {
      free(s->pcs[i]);
      free(s->kinds[i]);
   }
   free(s->pcs);
   free(s->kinds);
   free(s->counts);
   free(s->cuts);
}

/* Unwinds, symbolizes and groups a finished snapshot into out. */
static void analyze(const Snapshot* snap, const DumpOptions* options, Symbols* symbols, const GoSnapshot* go,
                    DumpResult* out) {
   size_t n = snap->threadCount;
   size_t depth = options->maxDepth > 0 ? (size_t)options->maxDepth : DEFAULT_MAX_DEPTH;
   Stacks stacks;
   unwindAll(snap, depth, symbols, go, &stacks);

   PcTable table = { 0 };
   symbolizeUnique(&table, &stacks, symbols, snap);
   GroupThread* threads = Util_xcalloc(n + 1, sizeof(GroupThread));
   for (size_t i = 0; i < n; i++) {
      const SnapshotThread* t = &snap->threads[i];
      threads[i] = (GroupThread){ .info = { .tid = t->tid, .state = t->state },
                                  .pcs = stacks.pcs[i],
                                  .kinds = stacks.kinds[i],
                                  .wait = t->captured ? NULL : &t->wait };
      threads[i].pcCount = cutAtOutermost(&table, &stacks, i, &threads[i].cut);
      memcpy(threads[i].info.name, t->name, sizeof(threads[i].info.name));
      out->cutStacks += threads[i].cut != DUMP_CUT_NONE && threads[i].cut != DUMP_CUT_NOT_STOPPED;
      out->cuts[threads[i].cut]++;
   }
   out->groups = Group_build(threads, n, options->groupBy, functionOf, &table, &out->groupCount);
   for (size_t i = 0; i < out->groupCount; i++)
      attachFrames(&out->groups[i], &table);

   free(table.entries);
   free(threads);
   freeStacks(&stacks);
}

/* The goroutine reader between Snapshot's hooks. */
typedef struct GoReader_ {
   const DumpOptions* options;
   Symbols* symbols;
   GoSnapshot* go;
} GoReader;

static void prepareGo(void* ctx, const Snapshot* snap) {
   GoReader* r = ctx;
   GoSnapshotOptions go = { .stoppedStackBudget = r->options->goStoppedStackBudget };
   r->go = GoSnapshot_prepare(snap->memPid, &snap->maps, Symbols_cache(r->symbols), &go);
}

static void readGoStopped(void* ctx, const Snapshot* snap) {
   GoReader* r = ctx;
   if (r->go)
      GoSnapshot_readStopped(r->go, snap, snap->memPid);
}

DumpError Dump_take(pid_t pid, const DumpOptions* options, DumpResult** out, char* err, size_t errSize) {
   double start = Util_monotonicSeconds();
   double takenAt = Util_wallSeconds();
   *out = NULL;
   Symbols* symbols = options->symbols ? options->symbols : Symbols_new(options->lines);
   if (!options->symbols)
      Symbols_setDemangle(symbols, options->demangle);
   GoReader reader = { .options = options, .symbols = symbols };
   SnapshotOptions so = {
      .timeoutS = options->timeoutS > 0 ? options->timeoutS : DEFAULT_TIMEOUT_S,
      .detachOnSignal = options->detachOnSignal,
      .holdMs = options->holdMs,
      .beforeStop = options->goroutines ? prepareGo : NULL,
      .whileStopped = options->goroutines ? readGoStopped : NULL,
      .hookCtx = &reader,
      .maxCopyBytes = options->maxStackBytes,
   };
   Snapshot snap;
   DumpError rc = Snapshot_take(&snap, pid, &so, err, errSize);
   if (rc != DUMP_OK) {
      GoSnapshot_free(reader.go);
      if (!options->symbols)
         Symbols_free(symbols);
      return rc;
   }
   if (reader.go)
      GoSnapshot_readAfter(reader.go, &snap);
   DumpResult* r = Util_xcalloc(1, sizeof(DumpResult));
   r->pid = snap.pid;
   memcpy(r->comm, snap.comm, sizeof(r->comm));
   r->totalThreads = snap.threadCount;
   r->lateThreads = snap.lateThreads;
   r->missedThreads = snap.missedThreads;
   r->copiedBytes = snap.copiedBytes;
   r->stoppedMs = snap.stoppedMs;
   r->interruptMs = snap.phases.interruptMs;
   r->waitMs = snap.phases.waitMs;
   r->copyMs = snap.phases.copyMs;
   r->releaseMs = snap.phases.releaseMs;
   r->groupBy = options->groupBy;
   analyze(&snap, options, symbols, reader.go, r);
   if (reader.go)
      r->go = GoProfile_build(reader.go);
   r->takenAt = takenAt;
   r->mappings = DumpMappings_collect(r, snap.pid, &snap.maps, Symbols_cache(symbols), &r->mappingCount);
   GoSnapshot_free(reader.go);
   Snapshot_free(&snap);
   if (!options->symbols)
      Symbols_free(symbols);
   r->totalMs = (Util_monotonicSeconds() - start) * 1000.0;
   *out = r;
   return DUMP_OK;
}

bool Dump_incomplete(const DumpResult* this, DumpParts parts) {
   size_t unasked = this->cutStacks - this->cuts[DUMP_CUT_DEPTH];
   bool threads = this->lateThreads || this->missedThreads || unasked;
   bool goroutines = this->go && (this->go->error[0] || this->go->partial);
   return (parts != DUMP_PARTS_GOROUTINES && threads) || (parts != DUMP_PARTS_THREADS && goroutines);
}

void Dump_free(DumpResult* this) {
   if (!this)
      return;
   Group_freeAll(this->groups, this->groupCount);
   GoProfile_free(this->go);
   DumpMappings_free(this->mappings, this->mappingCount);
   free(this);
}
