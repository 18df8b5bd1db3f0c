/* Dump_write: the text (Go goroutine profile debug=1 layout), folded and
 * JSON renderings of a DumpResult, and the dispatch to the pprof and SVG
 * writers (DumpProfile). Pure formatting, no I/O besides `out`. */
#include "stacktop/Dump.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/DumpProfile.h"
#include "stacktop/GoFormat.h"
#include "stacktop/Group.h"
#include "stacktop/Json.h"
#include "stacktop/Printable.h"
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

/* Why a stack ends: its JSON name and the sentence of the text marker. */
static const struct {
   const char* name;
   const char* reason;
} cuts[DUMP_CUT_COUNT] = {
   [DUMP_CUT_NONE] = { "none", "" },
   [DUMP_CUT_DEPTH] = { "depth", "--max-depth frames reached" },
   [DUMP_CUT_COPY_LIMIT] = { "copy_limit", "the rest of the stack was not copied (per-thread copy limit)" },
   [DUMP_CUT_UNREADABLE] = { "unreadable", "the caller's frame is in memory that could not be read" },
   [DUMP_CUT_NO_INFO] = { "no_unwind_info", "no unwind information for the last frame, and no frame pointer chain" },
   [DUMP_CUT_BAD_FRAME] = { "bad_frame", "the next frame was not above this one (a corrupt stack or a misread)" },
   [DUMP_CUT_FAILED] = { "unwind_failed", "the unwinder failed" },
   [DUMP_CUT_NOT_STOPPED] = { "not_stopped", "did not stop before the deadline: no user stack" },
};

const char* Dump_cutName(DumpCut cut) {
   return (size_t)cut < DUMP_CUT_COUNT ? cuts[cut].name : "?";
}

const char* Dump_cutReason(DumpCut cut) {
   return (size_t)cut < DUMP_CUT_COUNT ? cuts[cut].reason : "?";
}

/* ---- text ------------------------------------------------------------ */

static void writeTids(const DumpGroup* g, FILE* out) {
   if (g->count == 0)
      return;
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
      if (distinct < NAMES_LISTED) {
         fputs(distinct ? ", " : "", out);
         Printable_write(names[i], out);
      }
      distinct++;
   }
   if (distinct > NAMES_LISTED)
      fprintf(out, ", +%zu more", distinct - NAMES_LISTED);
   free(names);
}

static void writeStates(const DumpGroup* g, FILE* out) {
   char states[256];
   Group_describeStates(g, states, sizeof(states));
   fputs(states, out);
}

/* Names and paths come from the target's files: neutralised, so none can
 * forge a line or reach the terminal as an escape. */
static void writeTextFrame(const DumpFrame* f, FILE* out) {
   fprintf(out, "#\t0x%" PRIx64, f->pc);
   if (f->function) {
      fputc('\t', out);
      Printable_write(f->function, out);
      fprintf(out, "+0x%" PRIx64, f->offset);
   } else if (f->signal || f->module) {
      fputs(f->signal ? "\t<signal handler called>" : "\t?", out);
   }
   if (f->file || f->module)
      fputc('\t', out);
   if (f->file) {
      Printable_write(f->file, out);
      fprintf(out, ":%d", f->line);
   } else if (f->module) {
      Printable_write(f->module, out);
   }
   if (f->function && f->signal)
      fputs("\t<signal handler called>", out);
   fputc('\n', out);
}

/* The end of a partial stack, and where a thread that never stopped waits. */
static void writeCut(const DumpGroup* g, FILE* out) {
   if (g->cut == DUMP_CUT_NONE)
      return;
   fprintf(out, "#\t...\tstack cut: %s\n", Dump_cutReason(g->cut));
   if (g->cut != DUMP_CUT_NOT_STOPPED)
      return;
   fputs("#\tkernel wait channel: ", out);
   Printable_write(g->wait.wchan[0] ? g->wait.wchan : "unknown", out);
   fputc('\n', out);
   if (!g->wait.stack) {
      fprintf(out, "#\tkernel stack unavailable: %s\n", g->wait.stackErr);
      return;
   }
   for (const char* line = g->wait.stack; *line;) {
      const char* end = strchr(line, '\n');
      size_t len = end ? (size_t)(end - line) : strlen(line);
      char* copy = strndup(line, len);
      fputs("#\tkernel: ", out);
      Printable_write(copy ? copy : "", out);
      fputc('\n', out);
      free(copy);
      line += len + (end ? 1 : 0);
   }
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
      writeCut(g, out);
      fputc('\n', out);
   }
   if (r->lateThreads)
      fprintf(out,
              "# %zu thread%s did not stop before the deadline (--timeout; uninterruptible sleep?): listed "
              "without user frames\n",
              r->lateThreads, r->lateThreads == 1 ? "" : "s");
   if (r->missedThreads)
      fprintf(out, "# %zu thread%s started during the stop and could not be stopped in time: not listed\n",
              r->missedThreads, r->missedThreads == 1 ? "" : "s");
   if (r->cutStacks)
      fprintf(out, "# %zu stack%s partial: see \"stack cut\" above\n", r->cutStacks,
              r->cutStacks == 1 ? " is" : "s are");
   fprintf(out, "# stopped %.1f ms, total %.1f ms\n", r->stoppedMs, r->totalMs);
}

/* ---- folded ------------------------------------------------------------ */

/* Frame names must not contain the separators of the format. */
static void writeFoldedName(const char* name, FILE* out) {
   char* copy = Printable_dup(name);
   for (const char* p = copy; *p; p++)
      fputc(*p == ';' ? ':' : *p, out);
   free(copy);
}

static void writeThreadFolded(const DumpResult* r, FILE* out) {
   for (size_t i = 0; i < r->groupCount; i++) {
      const DumpGroup* g = &r->groups[i];
      writeFoldedName(r->comm, out);
      /* A partial stack's outermost frames are missing: its own root. */
      if (g->cut != DUMP_CUT_NONE) {
         fprintf(out, ";[stack cut: %s", Dump_cutName(g->cut));
         if (g->cut == DUMP_CUT_NOT_STOPPED && g->wait.wchan[0]) {
            fputc(' ', out);
            writeFoldedName(g->wait.wchan, out);
         }
         fputc(']', out);
      }
      for (size_t j = g->frameCount; j-- > 0;) {
         const DumpFrame* f = &g->frames[j];
         fputc(';', out);
         writeFoldedName(f->function ? f->function : f->signal ? "<signal handler called>" : "?", out);
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
   Json_key(j, "signal_frame");
   Json_bool(j, f->signal);
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
   Json_key(j, "cut");
   Json_string(j, g->cut == DUMP_CUT_NONE ? NULL : Dump_cutName(g->cut));
   if (g->cut == DUMP_CUT_NOT_STOPPED) {
      Json_key(j, "kernel_wchan");
      Json_string(j, g->wait.wchan[0] ? g->wait.wchan : NULL);
      Json_key(j, "kernel_stack");
      Json_string(j, g->wait.stack);
   }
   Json_endObject(j);
}

static int writeJson(const DumpResult* r, const DumpWriteOptions* o, FILE* out) {
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
   Json_key(&j, "missed_threads");
   Json_uint(&j, r->missedThreads);
   Json_key(&j, "cut_stacks");
   Json_uint(&j, r->cutStacks);
   Json_key(&j, "stopped_ms");
   Json_double(&j, r->stoppedMs, 3);
   Json_key(&j, "pause_phases_ms");
   Json_beginObject(&j);
   Json_key(&j, "interrupt");
   Json_double(&j, r->interruptMs, 3);
   Json_key(&j, "wait");
   Json_double(&j, r->waitMs, 3);
   Json_key(&j, "copy");
   Json_double(&j, r->copyMs, 3);
   Json_key(&j, "release");
   Json_double(&j, r->releaseMs, 3);
   Json_endObject(&j);
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
   return 0;
}

/* ---- parts ------------------------------------------------------------------ */

static bool wantGoroutines(const DumpWriteOptions* o) {
   return o->parts != DUMP_PARTS_THREADS;
}

static bool wantThreads(const DumpWriteOptions* o) {
   return o->parts != DUMP_PARTS_GOROUTINES;
}

static int writeText(const DumpResult* r, const DumpWriteOptions* o, FILE* out) {
   if (wantGoroutines(o) && r->go) {
      if (o->debug >= 2)
         GoFormat_traces(r->go, r->stoppedMs, out);
      else
         GoFormat_text(r->go, r->stoppedMs, out);
      if (wantThreads(o))
         fputc('\n', out);
   } else if (!wantThreads(o)) {
      fprintf(out, "# pid %d (", (int)r->pid);
      Printable_write(r->comm, out);
      fputs(") is not a Go program: it has no goroutines\n", out);
   }
   if (wantThreads(o))
      writeThreadText(r, out);
   return 0;
}

static int writeFolded(const DumpResult* r, const DumpWriteOptions* o, FILE* out) {
   if (wantGoroutines(o) && r->go)
      GoFormat_folded(r->go, r->comm, out);
   if (wantThreads(o))
      writeThreadFolded(r, out);
   return 0;
}

/* Each returns 0, or -1 with errno set; write errors are also seen on `out`. */
typedef int (*Writer)(const DumpResult* r, const DumpWriteOptions* o, FILE* out);
static const Writer writers[] = {
   [DUMP_FORMAT_TEXT] = writeText,          /* Go's debug=1 layout */
   [DUMP_FORMAT_FOLDED] = writeFolded,      /* flame graph input */
   [DUMP_FORMAT_JSON] = writeJson,          /* every field */
   [DUMP_FORMAT_PPROF] = DumpProfile_pprof, /* gzip-compressed profile.proto */
   [DUMP_FORMAT_SVG] = DumpProfile_svg,     /* flame graph */
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
   errno = 0;
   int rc = writers[options->format](this, options, out);
   if (rc != 0 || fflush(out) != 0 || ferror(out)) {
      if (errno == 0)
         errno = EIO;
      return -1;
   }
   return 0;
}
