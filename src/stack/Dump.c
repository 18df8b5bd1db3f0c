/* The dump pipeline: snapshot (target stopped; for a Go process the
 * goroutines are read in the same stop) -> detach -> unwind every thread ->
 * symbolize the unique PCs -> cut Go's scheduler bottom -> group -> attach
 * symbolized frames to each group; then the goroutine profile. Thread-safe:
 * all state lives in the call (the only global is Snapshot's CLI signal
 * hook). */
#include "stacktop/Dump.h"

#include <stdlib.h>
#include <string.h>

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

/* One unique PC and its symbolized frames (strings owned by Symbols). The
 * interrupted instruction (frame 0) is looked up at its own address, a
 * return address at the call before it: the same number can be both. */
typedef struct PcInfo_ {
   uint64_t pc;
   bool interrupted;
   SymbolFrame frames[MAX_INLINE_FRAMES];
   size_t frameCount;
} PcInfo;

typedef struct PcTable_ {
   PcInfo* entries; /* sorted by (pc, interrupted) */
   size_t count;
} PcTable;

/* A PC and whether it is an interrupted instruction. */
typedef struct PcKey_ {
   uint64_t pc;
   bool interrupted;
} PcKey;

void DumpOptions_init(DumpOptions* this) {
   *this = (DumpOptions){
      .groupBy = DUMP_GROUP_PC,
      .maxDepth = DEFAULT_MAX_DEPTH,
      .lines = true,
      .demangle = true,
      .timeoutS = DEFAULT_TIMEOUT_S,
      .goroutines = true,
   };
   const char* hold = getenv("STACKTOP_TEST_HOLD_MS");
   if (hold)
      this->holdMs = atoi(hold) > 60000 ? 60000 : atoi(hold); /* never hold a target for long */
}

/* PcInfo and PcKey both start with (pc, interrupted). */
static int compareKeys(const void* a, const void* b) {
   const PcKey* x = a;
   const PcKey* y = b;
   if (x->pc != y->pc)
      return x->pc < y->pc ? -1 : 1;
   return (int)x->interrupted - (int)y->interrupted;
}

static int compareKeyEntry(const void* key, const void* entry) {
   const PcKey* k = key;
   const PcInfo* e = entry;
   PcKey ek = { e->pc, e->interrupted };
   return compareKeys(k, &ek);
}

static const PcInfo* findPc(const PcTable* t, uint64_t pc, size_t index) {
   PcKey key = { pc, index == 0 };
   return t->count ? bsearch(&key, t->entries, t->count, sizeof(PcInfo), compareKeyEntry) : NULL;
}

/* The real (outermost, non-inlined) function of the index-th frame. */
static const char* functionOf(void* ctx, uint64_t pc, size_t index) {
   const PcInfo* info = findPc(ctx, pc, index);
   return info && info->frameCount ? info->frames[info->frameCount - 1].function : NULL;
}

/* Symbolizes each distinct PC once: return addresses at pc-1, so the line
 * is the call's and not the next statement's; the interrupted instruction
 * at pc, so a thread stopped on a function's first instruction is not
 * named after the function before it. */
static void symbolizeUnique(PcTable* t, uint64_t** pcs, const size_t* counts, size_t threads, Symbols* symbols,
                            const Snapshot* snap) {
   size_t total = 0;
   for (size_t i = 0; i < threads; i++)
      total += counts[i];
   PcKey* all = Util_xcalloc(total ? total : 1, sizeof(PcKey));
   size_t n = 0;
   for (size_t i = 0; i < threads; i++)
      for (size_t k = 0; k < counts[i]; k++)
         all[n++] = (PcKey){ pcs[i][k], k == 0 };
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
      e->interrupted = all[i].interrupted;
      uint64_t lookup = e->interrupted ? e->pc : e->pc - 1;
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

static size_t cutAtOutermost(const PcTable* t, const uint64_t* pcs, size_t count) {
   for (size_t i = 0; i < count; i++) {
      if (isOutermost(functionOf((void*)t, pcs[i], i)))
         return i + 1;
   }
   return count;
}

static char* dupOrNull(const char* s) {
   return s ? Util_xstrdup(s) : NULL;
}

static void attachFrames(DumpGroup* g, const PcTable* t) {
   size_t cap = 0;
   for (size_t i = 0; i < g->pcCount; i++) {
      const PcInfo* info = findPc(t, g->pcs[i], i);
      size_t n = info ? info->frameCount : 0;
      for (size_t j = 0; j < n; j++) {
         const SymbolFrame* s = &info->frames[j];
         Util_growArray((void**)&g->frames, &cap, g->frameCount, sizeof(DumpFrame));
         g->frames[g->frameCount++] = (DumpFrame){
            .pc = info->interrupted ? info->pc : info->pc - 1,
            .function = dupOrNull(s->function),
            .offset = s->offset,
            .file = dupOrNull(s->file),
            .line = s->line,
            .module = dupOrNull(s->module),
            .inlined = s->inlined,
         };
      }
   }
}

/* Unwinds, symbolizes and groups a finished snapshot into out. */
static void analyze(const Snapshot* snap, const DumpOptions* options, Symbols* symbols, const GoSnapshot* go,
                    DumpResult* out) {
   size_t n = snap->threadCount;
   size_t depth = options->maxDepth > 0 ? (size_t)options->maxDepth : DEFAULT_MAX_DEPTH;
   uint64_t** pcs = Util_xcalloc(n, sizeof(uint64_t*));
   size_t* counts = Util_xcalloc(n, sizeof(size_t));
   uint64_t* scratch = Util_xcalloc(depth, sizeof(uint64_t));
   Unwind* unwind = Unwind_new(snap, Symbols_cache(symbols));
   Unwind_setGoroutines(unwind, go);
   for (size_t i = 0; i < n; i++) {
      counts[i] = Unwind_thread(unwind, &snap->threads[i], scratch, depth);
      pcs[i] = Util_xcalloc(counts[i], sizeof(uint64_t));
      memcpy(pcs[i], scratch, counts[i] * sizeof(uint64_t));
   }
   Unwind_free(unwind);
   free(scratch);

   PcTable table = { 0 };
   symbolizeUnique(&table, pcs, counts, n, symbols, snap);
   GroupThread* threads = Util_xcalloc(n, sizeof(GroupThread));
   for (size_t i = 0; i < n; i++) {
      const SnapshotThread* t = &snap->threads[i];
      threads[i] = (GroupThread){ .info = { .tid = t->tid, .state = t->state },
                                  .pcs = pcs[i],
                                  .pcCount = cutAtOutermost(&table, pcs[i], counts[i]) };
      memcpy(threads[i].info.name, t->name, sizeof(threads[i].info.name));
   }
   out->groups = Group_build(threads, n, options->groupBy, functionOf, &table, &out->groupCount);
   for (size_t i = 0; i < out->groupCount; i++)
      attachFrames(&out->groups[i], &table);

   free(table.entries);
   free(threads);
   for (size_t i = 0; i < n; i++)
      free(pcs[i]);
   free(pcs);
   free(counts);
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
      GoSnapshot_readAfter(reader.go, snap.memPid);
   DumpResult* r = Util_xcalloc(1, sizeof(DumpResult));
   r->pid = snap.pid;
   memcpy(r->comm, snap.comm, sizeof(r->comm));
   r->totalThreads = snap.threadCount;
   r->lateThreads = snap.lateThreads;
   r->stoppedMs = snap.stoppedMs;
   r->groupBy = options->groupBy;
   analyze(&snap, options, symbols, reader.go, r);
   if (reader.go)
      r->go = GoProfile_build(reader.go);
   GoSnapshot_free(reader.go);
   Snapshot_free(&snap);
   if (!options->symbols)
      Symbols_free(symbols);
   r->totalMs = (Util_monotonicSeconds() - start) * 1000.0;
   *out = r;
   return DUMP_OK;
}

void Dump_free(DumpResult* this) {
   if (!this)
      return;
   Group_freeAll(this->groups, this->groupCount);
   GoProfile_free(this->go);
   free(this);
}
