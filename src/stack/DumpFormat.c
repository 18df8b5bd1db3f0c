/* Dump_write: the text (Go goroutine profile debug=1 layout), folded and
 * JSON renderings of a DumpResult. Pure formatting, no I/O besides `out`. */
#include "stacktop/Dump.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/GoFormat.h"
#include "stacktop/Group.h"
#include "stacktop/Json.h"
#include "stacktop/Util.h"

/* Thread ids listed in full up to this many; beyond, "a b c ... z". */
#define TID_LIST_FULL 10
#define TID_LIST_HEAD 3
/* Distinct thread names listed per group before "+N more". */
#define NAMES_LISTED 4

static const char* const groupByNames[] = {
   [DUMP_GROUP_PC] = "pc",
   [DUMP_GROUP_FUNCTION] = "function",
};

/* ---- text ------------------------------------------------------------ */

static void writeTids(const DumpGroup* g, FILE* out) {
   bool shorten = g->count > TID_LIST_FULL;
   for (size_t i = 0; i < g->count; i++) {
      if (shorten && i == TID_LIST_HEAD) {
         fputs(" ...", out);
         i = g->count - 1;
      }
      fprintf(out, " %d", (int)g->threads[i].tid);
   }
}

static int compareNames(const void* a, const void* b) {
   return strcmp(*(const char* const*)a, *(const char* const*)b);
}

static void writeNames(const DumpGroup* g, FILE* out) {
   const char** names = Util_xcalloc(g->count, sizeof(char*));
   for (size_t i = 0; i < g->count; i++)
      names[i] = g->threads[i].name;
   qsort(names, g->count, sizeof(char*), compareNames);
   size_t distinct = 0;
   for (size_t i = 0; i < g->count; i++) {
      if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
         continue;
      if (distinct < NAMES_LISTED)
         fprintf(out, "%s%s", distinct ? ", " : "", names[i]);
      distinct++;
   }
   if (distinct > NAMES_LISTED)
      fprintf(out, ", +%zu more", distinct - NAMES_LISTED);
   free(names);
}

/* "S×38 R×2": per state letter, most frequent first, then by letter. */
static void writeStates(const DumpGroup* g, FILE* out) {
   size_t counts[256] = { 0 };
   for (size_t i = 0; i < g->count; i++)
      counts[(unsigned char)g->threads[i].state]++;
   bool first = true;
   for (;;) {
      size_t best = 0;
      for (size_t c = 1; c < 256; c++) {
         if (counts[c] > counts[best])
            best = c;
      }
      if (counts[best] == 0)
         return;
      fprintf(out, "%s%c\u00d7%zu", first ? "" : " ", (char)best, counts[best]);
      counts[best] = 0;
      first = false;
   }
}

static void writeTextFrame(const DumpFrame* f, FILE* out) {
   fprintf(out, "#\t0x%" PRIx64, f->pc);
   if (f->function)
      fprintf(out, "\t%s+0x%" PRIx64, f->function, f->offset);
   else if (f->module)
      fputs("\t?", out);
   if (f->file)
      fprintf(out, "\t%s:%d", f->file, f->line);
   else if (f->module)
      fprintf(out, "\t%s", f->module);
   fputc('\n', out);
}

static void writeThreadText(const DumpResult* r, FILE* out) {
   fprintf(out, "thread profile: total %zu\n", r->totalThreads);
   for (size_t i = 0; i < r->groupCount; i++) {
      const DumpGroup* g = &r->groups[i];
      char* line = Group_line(g);
      fprintf(out, "%s\n# threads:", line);
      free(line);
      writeTids(g, out);
      fputs(" (names: ", out);
      writeNames(g, out);
      fputs(")   states: ", out);
      writeStates(g, out);
      fputc('\n', out);
      for (size_t j = 0; j < g->frameCount; j++)
         writeTextFrame(&g->frames[j], out);
      fputc('\n', out);
   }
   if (r->lateThreads)
      fprintf(out, "# %zu thread%s did not stop in time (uninterruptible sleep?): listed without frames\n",
              r->lateThreads, r->lateThreads == 1 ? "" : "s");
   fprintf(out, "# stopped %.1f ms, total %.1f ms\n", r->stoppedMs, r->totalMs);
}

/* ---- folded ------------------------------------------------------------ */

/* Frame names must not contain the separators of the format. */
static void writeFoldedName(const char* name, FILE* out) {
   for (const char* p = name; *p; p++)
      fputc(*p == ';' ? ':' : (*p == '\n' || *p == '\r') ? ' ' : *p, out);
}

static void writeThreadFolded(const DumpResult* r, FILE* out) {
   for (size_t i = 0; i < r->groupCount; i++) {
      const DumpGroup* g = &r->groups[i];
      writeFoldedName(r->comm, out);
      for (size_t j = g->frameCount; j-- > 0;) {
         fputc(';', out);
         writeFoldedName(g->frames[j].function ? g->frames[j].function : "?", out);
      }
      fprintf(out, " %zu\n", g->count);
   }
}

/* ---- json -------------------------------------------------------------- */

static void writeJsonFrame(Json* j, const DumpFrame* f) {
   char pc[24];
   Util_format(pc, sizeof(pc), "0x%" PRIx64, f->pc);
   Json_beginObject(j);
   Json_key(j, "pc");
   Json_string(j, pc);
   Json_key(j, "function");
   Json_string(j, f->function);
   Json_key(j, "offset");
   Json_uint(j, f->offset);
   Json_key(j, "file");
   Json_string(j, f->file);
   Json_key(j, "line");
   if (f->file)
      Json_int(j, f->line);
   else
      Json_null(j);
   Json_key(j, "module");
   Json_string(j, f->module);
   Json_key(j, "inlined");
   Json_bool(j, f->inlined);
   Json_endObject(j);
}

static void writeJsonGroup(Json* j, const DumpGroup* g) {
   Json_beginObject(j);
   Json_key(j, "count");
   Json_uint(j, g->count);
   Json_key(j, "pcs");
   Json_beginArray(j);
   for (size_t i = 0; i < g->pcCount; i++) {
      char pc[24];
      Util_format(pc, sizeof(pc), "0x%" PRIx64, g->pcs[i]);
      Json_string(j, pc);
   }
   Json_endArray(j);
   Json_key(j, "threads");
   Json_beginArray(j);
   for (size_t i = 0; i < g->count; i++) {
      char state[2] = { g->threads[i].state, '\0' };
      Json_beginObject(j);
      Json_key(j, "tid");
      Json_int(j, g->threads[i].tid);
      Json_key(j, "name");
      Json_string(j, g->threads[i].name);
      Json_key(j, "state");
      Json_string(j, state);
      Json_endObject(j);
   }
   Json_endArray(j);
   Json_key(j, "frames");
   Json_beginArray(j);
   for (size_t i = 0; i < g->frameCount; i++)
      writeJsonFrame(j, &g->frames[i]);
   Json_endArray(j);
   Json_endObject(j);
}

static void writeJson(const DumpResult* r, const DumpWriteOptions* o, FILE* out) {
   Json j;
   Json_init(&j, out);
   Json_beginObject(&j);
   Json_key(&j, "pid");
   Json_int(&j, r->pid);
   Json_key(&j, "comm");
   Json_string(&j, r->comm);
   Json_key(&j, "total_threads");
   Json_uint(&j, r->totalThreads);
   Json_key(&j, "late_threads");
   Json_uint(&j, r->lateThreads);
   Json_key(&j, "stopped_ms");
   Json_double(&j, r->stoppedMs, 3);
   Json_key(&j, "total_ms");
   Json_double(&j, r->totalMs, 3);
   Json_key(&j, "group_by");
   Json_string(&j, groupByNames[r->groupBy]);
   if (o->parts != DUMP_PARTS_GOROUTINES) {
      Json_key(&j, "groups");
      Json_beginArray(&j);
      for (size_t i = 0; i < r->groupCount; i++)
         writeJsonGroup(&j, &r->groups[i]);
      Json_endArray(&j);
   }
   if (r->go && o->parts != DUMP_PARTS_THREADS) {
      Json_key(&j, "go");
      GoFormat_json(r->go, r->stoppedMs, &j);
   }
   Json_endObject(&j);
   fputc('\n', out);
}

/* ---- parts ------------------------------------------------------------------ */

static bool wantGoroutines(const DumpWriteOptions* o) {
   return o->parts != DUMP_PARTS_THREADS;
}

static bool wantThreads(const DumpWriteOptions* o) {
   return o->parts != DUMP_PARTS_GOROUTINES;
}

static void writeText(const DumpResult* r, const DumpWriteOptions* o, FILE* out) {
   if (wantGoroutines(o) && r->go) {
      if (o->debug >= 2)
         GoFormat_traces(r->go, r->stoppedMs, out);
      else
         GoFormat_text(r->go, r->stoppedMs, out);
      if (wantThreads(o))
         fputc('\n', out);
   } else if (!wantThreads(o)) {
      fprintf(out, "# pid %d (%s) is not a Go program: it has no goroutines\n", (int)r->pid, r->comm);
   }
   if (wantThreads(o))
      writeThreadText(r, out);
}

static void writeFolded(const DumpResult* r, const DumpWriteOptions* o, FILE* out) {
   if (wantGoroutines(o) && r->go)
      GoFormat_folded(r->go, r->comm, out);
   if (wantThreads(o))
      writeThreadFolded(r, out);
}

typedef void (*Writer)(const DumpResult* r, const DumpWriteOptions* o, FILE* out);
static const Writer writers[] = {
   [DUMP_FORMAT_TEXT] = writeText,
   [DUMP_FORMAT_FOLDED] = writeFolded,
   [DUMP_FORMAT_JSON] = writeJson,
};

int Dump_write(const DumpResult* this, DumpFormat format, FILE* out) {
   DumpWriteOptions o = { .format = format, .parts = DUMP_PARTS_ALL, .debug = 1 };
   return Dump_writeWith(this, &o, out);
}

int Dump_writeWith(const DumpResult* this, const DumpWriteOptions* options, FILE* out) {
   if ((size_t)options->format >= sizeof(writers) / sizeof(writers[0])) {
      errno = EINVAL;
      return -1;
   }
   writers[options->format](this, options, out);
   if (fflush(out) != 0 || ferror(out)) {
      if (errno == 0)
         errno = EIO;
      return -1;
   }
   return 0;
}
