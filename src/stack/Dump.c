/* The dump pipeline: snapshot (target stopped) -> detach -> unwind every
 * thread -> symbolize the unique PCs -> cut Go's scheduler bottom -> group ->
 * attach symbolized frames to each group. Thread-safe: all state lives in
 * the call (the only global is Snapshot's CLI signal hook). */
#include "stacktop/Dump.h"

#include <stdlib.h>
#include <string.h>

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

/* One unique PC and its symbolized frames (strings owned by Symbols). */
typedef struct PcInfo_ {
   uint64_t pc;
   SymbolFrame frames[MAX_INLINE_FRAMES];
   size_t frameCount;
} PcInfo;

typedef struct PcTable_ {
   PcInfo* entries; /* sorted by pc */
   size_t count;
} PcTable;

void DumpOptions_init(DumpOptions* this) {
   *this = (DumpOptions){
      .groupBy = DUMP_GROUP_PC,
      .maxDepth = DEFAULT_MAX_DEPTH,
      .lines = true,
      .timeoutS = DEFAULT_TIMEOUT_S,
   };
   const char* hold = getenv("STACKTOP_TEST_HOLD_MS");
   if (hold)
      this->holdMs = atoi(hold) > 60000 ? 60000 : atoi(hold); /* never hold a target for long */
}

static int compareU64(const void* a, const void* b) {
   uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
   return x < y ? -1 : x > y;
}

/* Entries are sorted by pc, their first member, so compareU64 compares a key with an entry. */
static const PcInfo* findPc(const PcTable* t, uint64_t pc) {
   return t->count ? bsearch(&pc, t->entries, t->count, sizeof(PcInfo), compareU64) : NULL;
}

/* The real (outermost, non-inlined) function of a PC. */
static const char* functionOf(void* ctx, uint64_t pc) {
   const PcInfo* info = findPc(ctx, pc);
   return info && info->frameCount ? info->frames[info->frameCount - 1].function : NULL;
}

/* Symbolizes each distinct PC once; return addresses are looked up at pc-1
 * so the line is the call's, not the next statement's. */
static void symbolizeUnique(PcTable* t, uint64_t** pcs, const size_t* counts, size_t threads, Symbols* symbols,
                            const Snapshot* snap) {
   size_t total = 0;
   for (size_t i = 0; i < threads; i++)
      total += counts[i];
   uint64_t* all = Util_xcalloc(total, sizeof(uint64_t));
   size_t n = 0;
   for (size_t i = 0; i < threads; i++) {
      memcpy(all + n, pcs[i], counts[i] * sizeof(uint64_t));
      n += counts[i];
   }
   qsort(all, n, sizeof(uint64_t), compareU64);
   size_t unique = 0;
   for (size_t i = 0; i < n; i++) {
      if (i == 0 || all[i] != all[i - 1])
         all[unique++] = all[i];
   }
   t->entries = Util_xcalloc(unique, sizeof(PcInfo));
   t->count = unique;
   for (size_t i = 0; i < unique; i++) {
      PcInfo* e = &t->entries[i];
      e->pc = all[i];
      e->frameCount = Symbols_lookup(symbols, snap->pid, &snap->maps, all[i] - 1, e->frames, MAX_INLINE_FRAMES);
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
      if (isOutermost(functionOf((void*)t, pcs[i])))
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
      const PcInfo* info = findPc(t, g->pcs[i]);
      size_t n = info ? info->frameCount : 0;
      for (size_t j = 0; j < n; j++) {
         const SymbolFrame* s = &info->frames[j];
         Util_growArray((void**)&g->frames, &cap, g->frameCount, sizeof(DumpFrame));
         g->frames[g->frameCount++] = (DumpFrame){
            .pc = info->pc - 1,
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
static void analyze(const Snapshot* snap, const DumpOptions* options, DumpResult* out) {
   size_t n = snap->threadCount;
   size_t depth = options->maxDepth > 0 ? (size_t)options->maxDepth : DEFAULT_MAX_DEPTH;
   uint64_t** pcs = Util_xcalloc(n, sizeof(uint64_t*));
   size_t* counts = Util_xcalloc(n, sizeof(size_t));
   uint64_t* scratch = Util_xcalloc(depth, sizeof(uint64_t));
   Unwind* unwind = Unwind_new(snap);
   for (size_t i = 0; i < n; i++) {
      counts[i] = Unwind_thread(unwind, &snap->threads[i], scratch, depth);
      pcs[i] = Util_xcalloc(counts[i], sizeof(uint64_t));
      memcpy(pcs[i], scratch, counts[i] * sizeof(uint64_t));
   }
   Unwind_free(unwind);
   free(scratch);

   Symbols* symbols = options->symbols ? options->symbols : Symbols_new(options->lines);
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

   if (!options->symbols)
      Symbols_free(symbols);
   free(table.entries);
   free(threads);
   for (size_t i = 0; i < n; i++)
      free(pcs[i]);
   free(pcs);
   free(counts);
}

DumpError Dump_take(pid_t pid, const DumpOptions* options, DumpResult** out, char* err, size_t errSize) {
   double start = Util_monotonicSeconds();
   *out = NULL;
   SnapshotOptions so = {
      .timeoutS = options->timeoutS > 0 ? options->timeoutS : DEFAULT_TIMEOUT_S,
      .detachOnSignal = options->detachOnSignal,
      .holdMs = options->holdMs,
      .maxStackBytes = options->maxStackBytes,
   };
   Snapshot snap;
   DumpError rc = Snapshot_take(&snap, pid, &so, err, errSize);
   if (rc != DUMP_OK)
      return rc;
   DumpResult* r = Util_xcalloc(1, sizeof(DumpResult));
   r->pid = snap.pid;
   memcpy(r->comm, snap.comm, sizeof(r->comm));
   r->totalThreads = snap.threadCount;
   r->lateThreads = snap.lateThreads;
   r->stoppedMs = snap.stoppedMs;
   r->groupBy = options->groupBy;
   analyze(&snap, options, r);
   Snapshot_free(&snap);
   r->totalMs = (Util_monotonicSeconds() - start) * 1000.0;
   *out = r;
   return DUMP_OK;
}

void Dump_free(DumpResult* this) {
   if (!this)
      return;
   Group_freeAll(this->groups, this->groupCount);
   free(this);
}
