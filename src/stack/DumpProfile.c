/* A dump's threads or goroutines as a pprof profile or a flame graph: see
 * DumpProfile.h. Frame names follow the folded format's: a signal
 * trampoline without a symbol is "<signal handler called>", and a partial
 * stack gets a root frame "[stack cut: REASON]" (with the kernel wait
 * channel of a thread that never stopped), so every format shows the same
 * stacks. */
#include "stacktop/DumpProfile.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stacktop/FlameSvg.h"
#include "stacktop/GoProfile.h"
#include "stacktop/Group.h"
#include "stacktop/PprofWriter.h"
#include "stacktop/Util.h"

#define SIGNAL_FRAME "<signal handler called>"
/* Distinct thread names given as label values before "+N more". */
#define NAMES_LABELLED 8
/* Ids listed in full up to this many; beyond, "a b c ... z" as in the text. */
#define IDS_FULL 10
#define IDS_HEAD 3

bool DumpProfile_showsGoroutines(const DumpResult* r, DumpParts parts) {
   if (parts != DUMP_PARTS_ALL)
      return parts == DUMP_PARTS_GOROUTINES;
   return r->go && !r->go->error[0];
}

/* ---- what both formats say about the dump ------------------------------------ */

/* "[stack cut: depth]", or "[stack cut: not_stopped WCHAN]": the folded root. */
static char* cutFrame(const DumpGroup* g) {
   char buf[128];
   if (g->cut == DUMP_CUT_NOT_STOPPED && g->wait.wchan[0])
      Util_format(buf, sizeof(buf), "[stack cut: %s %s]", Dump_cutName(g->cut), g->wait.wchan);
   else
      Util_format(buf, sizeof(buf), "[stack cut: %s]", Dump_cutName(g->cut));
   return Util_xstrdup(buf);
}

static const char* frameName(const DumpFrame* f) {
   return f->function ? f->function : f->signal ? SIGNAL_FRAME : NULL;
}

/* "stack_groups (pid 42): 58 threads" and the like. */
static void describe(const DumpResult* r, bool goroutines, char* buf, size_t size) {
   if (!goroutines) {
      Util_format(buf, size, "%s (pid %d): %zu threads", r->comm, (int)r->pid, r->totalThreads);
   } else if (!r->go) {
      Util_format(buf, size, "%s (pid %d) is not a Go program: it has no goroutines", r->comm, (int)r->pid);
   } else if (r->go->error[0]) {
      Util_format(buf, size, "%s (pid %d): goroutines unavailable: %s", r->comm, (int)r->pid, r->go->error);
   } else {
      Util_format(buf, size, "%s (pid %d): %zu goroutines (%s)", r->comm, (int)r->pid, r->go->total,
                  r->go->version[0] ? r->go->version : "Go");
   }
}

/* What the shown part lacks, one sentence each; returns how many. */
static size_t partialNotes(const DumpResult* r, bool goroutines, char notes[][160], size_t max) {
   size_t n = 0;
   if (!goroutines && r->lateThreads && n < max)
      Util_format(notes[n++], 160, "%zu threads did not stop before the deadline: no user frames", r->lateThreads);
   if (!goroutines && r->missedThreads && n < max)
      Util_format(notes[n++], 160, "%zu threads started during the stop and are missing", r->missedThreads);
   if (!goroutines && r->cutStacks && n < max)
      Util_format(notes[n++], 160, "%zu stacks are partial (frames [stack cut: ...])", r->cutStacks);
   if (!goroutines && r->go && r->go->error[0] && n < max)
      Util_format(notes[n++], 160, "goroutines unavailable (%.100s): these are the threads", r->go->error);
   return n;
}

/* ---- labels ------------------------------------------------------------------ */

typedef struct Labels_ {
   PprofLabel* items;
   char** owned;
   size_t count, cap, ownedCount, ownedCap;
} Labels;

static const char* own(Labels* l, const char* s) {
   Util_growArray((void**)&l->owned, &l->ownedCap, l->ownedCount, sizeof(char*));
   return l->owned[l->ownedCount++] = Util_xstrdup(s);
}

/* Key and value are copied: callers pass scratch buffers. */
static void label(Labels* l, const char* key, const char* value) {
   Util_growArray((void**)&l->items, &l->cap, l->count, sizeof(PprofLabel));
   l->items[l->count++] = (PprofLabel){ own(l, key), own(l, value) };
}

static void labelsFree(Labels* l) {
   for (size_t i = 0; i < l->ownedCount; i++)
      free(l->owned[i]);
   free(l->owned);
   free(l->items);
   *l = (Labels){ 0 };
}

/* "1 2 3" or "1 2 3 ... 40", as the text dump lists thread ids. */
static void labelIds(Labels* l, const char* key, const uint64_t* ids, size_t n) {
   char buf[IDS_FULL * 21 + 8];
   size_t len = 0;
   for (size_t i = 0; i < n; i++) {
      if (n > IDS_FULL && i == IDS_HEAD) {
         len += (size_t)snprintf(buf + len, sizeof(buf) - len, " ...");
         i = n - 1;
      }
      len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%" PRIu64, len ? " " : "", ids[i]);
   }
   buf[len < sizeof(buf) ? len : sizeof(buf) - 1] = '\0';
   if (n)
      label(l, key, buf);
}

static int compareNames(const void* a, const void* b) {
   return strcmp(*(const char* const*)a, *(const char* const*)b);
}

static void labelThreadNames(Labels* l, const DumpGroup* g) {
   const char** names = Util_xcalloc(g->count ? g->count : 1, sizeof(char*));
   for (size_t i = 0; i < g->count; i++)
      names[i] = g->threads[i].name;
   qsort(names, g->count, sizeof(char*), compareNames);
   size_t distinct = 0;
   for (size_t i = 0; i < g->count; i++) {
      if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
         continue;
      if (distinct++ < NAMES_LABELLED)
         label(l, "thread_names", names[i]);
   }
   if (distinct > NAMES_LABELLED) {
      char more[32];
      Util_format(more, sizeof(more), "+%zu more", distinct - NAMES_LABELLED);
      label(l, "thread_names", more);
   }
   free(names);
}

/* "S×40": one value per state letter, most frequent first. */
static void labelThreadStates(Labels* l, const DumpGroup* g) {
   GroupStateCount mix[16];
   size_t n = Group_stateMix(g, mix, sizeof(mix) / sizeof(mix[0]));
   for (size_t i = 0; i < n; i++) {
      char value[32];
      Util_format(value, sizeof(value), "%c\u00d7%zu", mix[i].state, mix[i].count);
      label(l, "thread_states", value);
   }
}

static void threadLabels(Labels* l, const DumpGroup* g) {
   labelThreadNames(l, g);
   labelThreadStates(l, g);
   uint64_t* tids = Util_xcalloc(g->count ? g->count : 1, sizeof(uint64_t));
   for (size_t i = 0; i < g->count; i++)
      tids[i] = (uint64_t)g->threads[i].tid;
   labelIds(l, "thread_ids", tids, g->count);
   free(tids);
   if (g->cut != DUMP_CUT_NONE)
      label(l, "stack_cut", Dump_cutName(g->cut));
   if (g->cut == DUMP_CUT_NOT_STOPPED && g->wait.wchan[0])
      label(l, "wchan", g->wait.wchan);
}

/* Go prints a group's labels as {"k":"v", "k2":"v2"} with %q: each pair
 * becomes a label, its escapes undone for \" and \\ (others kept as text). */
static void goLabels(Labels* l, const char* text) {
   const char* p = text ? text + 1 : NULL;
   while (p && *p == '"') {
      char pair[2][4096];
      for (int half = 0; half < 2; half++) {
         size_t n = 0;
         for (p++; *p && *p != '"' && n + 2 < sizeof(pair[half]); p++) {
            if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
               p++;
            pair[half][n++] = *p;
         }
         pair[half][n] = '\0';
         if (*p != '"' || (half == 0 && strncmp(p, "\":\"", 3) != 0))
            return;
         p += half == 0 ? 2 : 1;
      }
      label(l, pair[0], pair[1]);
      if (strncmp(p, ", ", 2) == 0)
         p += 2;
   }
}

static void goroutineLabels(Labels* l, const GoProfileGroup* g) {
   goLabels(l, g->labels);
   for (size_t i = 0; i < g->stateCount; i++) {
      char value[160];
      Util_format(value, sizeof(value), "%s\u00d7%zu", g->states[i].state, g->states[i].count);
      label(l, "goroutine_states", value);
   }
   labelIds(l, "goroutine_ids", g->goids, g->count);
}

/* ---- pprof --------------------------------------------------------------------- */

/* The pprof id of the mapping holding addr (ids are r->mappings' order + 1), or 0. */
static uint64_t mappingId(const DumpResult* r, uint64_t addr) {
   size_t lo = 0, hi = r->mappingCount;
   while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (addr < r->mappings[mid].start)
         hi = mid;
      else if (addr >= r->mappings[mid].end)
         lo = mid + 1;
      else
         return mid + 1;
   }
   return 0;
}

/* The frames of one pc: the run from frames[*j] with its lookup address,
 * inlined ones first, ending with the real function. */
static size_t threadRun(const DumpGroup* g, size_t* j, uint64_t lookup, PprofLine* lines) {
   size_t m = 0;
   while (*j < g->frameCount && g->frames[*j].pc == lookup) {
      const DumpFrame* f = &g->frames[(*j)++];
      if (frameName(f))
         lines[m++] = (PprofLine){ .function = frameName(f), .file = f->file, .line = f->file ? f->line : 0 };
      if (!f->inlined)
         break;
   }
   return m;
}

static void threadSample(const DumpResult* r, const DumpGroup* g, PprofWriter* w) {
   uint64_t* locations = Util_xcalloc(g->pcCount + 1, sizeof(uint64_t));
   PprofLine* lines = Util_xcalloc(g->frameCount + 1, sizeof(PprofLine));
   size_t n = 0, j = 0;
   for (size_t k = 0; k < g->pcCount; k++) {
      uint64_t lookup = Group_kindAt(g->kinds, k) == DUMP_PC_RETURN ? g->pcs[k] - 1 : g->pcs[k];
      size_t m = threadRun(g, &j, lookup, lines);
      locations[n++] = PprofWriter_location(w, mappingId(r, lookup), lookup, lines, m);
   }
   char* cut = g->cut != DUMP_CUT_NONE ? cutFrame(g) : NULL;
   if (cut) {
      PprofLine line = { .function = cut };
      locations[n++] = PprofWriter_location(w, 0, 0, &line, 1);
   }
   Labels labels = { 0 };
   threadLabels(&labels, g);
   PprofWriter_sample(w, locations, n, (int64_t)g->count, labels.items, labels.count);
   labelsFree(&labels);
   free(cut);
   free(lines);
   free(locations);
}

/* Go's profile has a pc per inline level; pprof wants one location per
 * physical pc with the inlined frames as its lines (as runtime/pprof
 * writes them): a frame marked inlined belongs with the next. */
static void goroutineSample(const DumpResult* r, const GoProfileGroup* g, PprofWriter* w) {
   uint64_t* locations = Util_xcalloc(g->frameCount + 1, sizeof(uint64_t));
   PprofLine* lines = Util_xcalloc(g->frameCount + 1, sizeof(PprofLine));
   size_t n = 0;
   for (size_t k = 0; k < g->frameCount;) {
      uint64_t address = g->frames[k].pc;
      size_t m = 0;
      while (k < g->frameCount) {
         const GoProfileFrame* f = &g->frames[k++];
         lines[m++] = (PprofLine){ .function = f->function, .file = f->file, .line = f->line };
         if (!f->inlined)
            break;
      }
      locations[n++] = PprofWriter_location(w, mappingId(r, address), address, lines, m);
   }
   Labels labels = { 0 };
   goroutineLabels(&labels, g);
   PprofWriter_sample(w, locations, n, (int64_t)g->count, labels.items, labels.count);
   labelsFree(&labels);
   free(lines);
   free(locations);
}

static void pprofComments(const DumpResult* r, bool goroutines, PprofWriter* w) {
   char line[512], notes[8][160];
   describe(r, goroutines, line, sizeof(line));
   char comment[600];
   Util_format(comment, sizeof(comment), "stacktop %s dump of %s", STACKTOP_VERSION, line);
   PprofWriter_comment(w, comment);
   Util_format(comment, sizeof(comment), "target stopped %.1f ms", r->stoppedMs);
   PprofWriter_comment(w, comment);
   size_t n = partialNotes(r, goroutines, notes, 8);
   for (size_t i = 0; i < n; i++)
      PprofWriter_comment(w, notes[i]);
   for (size_t i = 0; goroutines && r->go && i < r->go->noteCount; i++)
      PprofWriter_comment(w, r->go->notes[i]);
}

int DumpProfile_pprof(const DumpResult* r, const DumpWriteOptions* o, FILE* out) {
   bool goroutines = DumpProfile_showsGoroutines(r, o->parts);
   PprofWriter* w = PprofWriter_new(goroutines ? "goroutines" : "threads", "count");
   PprofWriter_setTime(w, (int64_t)(r->takenAt * 1e9));
   for (size_t i = 0; i < r->mappingCount; i++) {
      const DumpMapping* m = &r->mappings[i];
      PprofMapping pm = {
         .start = m->start, .limit = m->end, .offset = m->offset, .file = m->path, .buildId = m->buildId
      };
      PprofWriter_mapping(w, &pm);
   }
   if (goroutines) {
      for (size_t i = 0; r->go && !r->go->error[0] && i < r->go->groupCount; i++)
         goroutineSample(r, &r->go->groups[i], w);
   } else {
      for (size_t i = 0; i < r->groupCount; i++)
         threadSample(r, &r->groups[i], w);
   }
   pprofComments(r, goroutines, w);
   int rc = PprofWriter_writeGzip(w, out);
   PprofWriter_free(w);
   return rc;
}

/* ---- flame graph ---------------------------------------------------------------- */

static void threadStack(const DumpGroup* g, FlameSvg* svg) {
   FlameFrame* frames = Util_xcalloc(g->frameCount + 1, sizeof(FlameFrame));
   size_t n = 0;
   char* cut = g->cut != DUMP_CUT_NONE ? cutFrame(g) : NULL;
   if (cut)
      frames[n++] = (FlameFrame){ .name = cut };
   for (size_t k = g->frameCount; k-- > 0;) {
      const DumpFrame* f = &g->frames[k];
      frames[n++] = (FlameFrame){
         .name = frameName(f) ? frameName(f) : "?", .file = f->file, .line = f->line, .module = f->module
      };
   }
   FlameSvg_add(svg, frames, n, g->count);
   free(cut);
   free(frames);
}

static void goroutineStack(const GoProfileGroup* g, FlameSvg* svg) {
   FlameFrame* frames = Util_xcalloc(g->frameCount + 1, sizeof(FlameFrame));
   size_t n = 0;
   for (size_t k = g->frameCount; k-- > 0;) {
      const GoProfileFrame* f = &g->frames[k];
      frames[n++] = (FlameFrame){ .name = f->function, .file = f->file, .line = f->line };
   }
   FlameSvg_add(svg, frames, n, g->count);
   free(frames);
}

/* "stacktop 0.1.0, 2024-05-01 12:00:00 UTC, target stopped 0.7 ms; 3 stacks are partial ...". */
static void svgSubtitle(const DumpResult* r, bool goroutines, char* buf, size_t size) {
   char when[64] = "";
   time_t t = (time_t)r->takenAt;
   struct tm tm;
   if (r->takenAt > 0 && gmtime_r(&t, &tm))
      strftime(when, sizeof(when), ", %Y-%m-%d %H:%M:%S UTC", &tm);
   size_t len =
       (size_t)snprintf(buf, size, "stacktop %s%s, target stopped %.1f ms", STACKTOP_VERSION, when, r->stoppedMs);
   char notes[8][160];
   size_t n = partialNotes(r, goroutines, notes, 8);
   for (size_t i = 0; i < n && len < size; i++)
      len += (size_t)snprintf(buf + len, size - len, "; %s", notes[i]);
   if (goroutines && r->go && r->go->noteCount && len < size)
      snprintf(buf + len, size - len, "; %zu notes on the goroutines (see the text dump)", r->go->noteCount);
}

int DumpProfile_svg(const DumpResult* r, const DumpWriteOptions* o, FILE* out) {
   bool goroutines = DumpProfile_showsGoroutines(r, o->parts);
   FlameSvg* svg = FlameSvg_new(r->comm, goroutines ? "goroutines" : "threads");
   if (goroutines) {
      for (size_t i = 0; r->go && !r->go->error[0] && i < r->go->groupCount; i++)
         goroutineStack(&r->go->groups[i], svg);
   } else {
      for (size_t i = 0; i < r->groupCount; i++)
         threadStack(&r->groups[i], svg);
   }
   char title[512], subtitle[1024];
   describe(r, goroutines, title, sizeof(title));
   svgSubtitle(r, goroutines, subtitle, sizeof(subtitle));
   FlameSvg_write(svg, title, subtitle, out);
   FlameSvg_free(svg);
   return ferror(out) ? -1 : 0;
}
