/* Renderings of the goroutine profile: see GoFormat.h. */
/* Hexadecimal numbers are printed "0x%x": Go's %#x prints 0 as 0x0, C's as 0. */
#include "stacktop/GoFormat.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Printable.h"
#include "stacktop/Tabwriter.h"
#include "stacktop/Util.h"

static void writeFooter(const GoProfile* p, double stoppedMs, FILE* out) {
   for (size_t i = 0; i < p->noteCount; i++) {
      fputs("# ", out);
      Printable_write(p->notes[i], out);
      fputc('\n', out);
   }
   fprintf(out, "# goroutines read in %.1f ms, process stopped %.1f ms\n", p->readMs, stoppedMs);
}

static void writeUnavailable(const GoProfile* p, FILE* out) {
   fputs("# goroutines unavailable: ", out);
   Printable_write(p->error, out);
   fputc('\n', out);
}

/* ---- debug=1 ------------------------------------------------------------- */

/* printCountProfile's text before Go's tabwriter lays it out. */
static void writeGroups(const GoProfile* p, FILE* raw) {
   fprintf(raw, "goroutine profile: total %zu\n", p->total);
   for (size_t i = 0; i < p->groupCount; i++) {
      const GoProfileGroup* g = &p->groups[i];
      fprintf(raw, "%zu @", g->count);
      for (size_t k = 0; k < g->pcCount; k++)
         fprintf(raw, " 0x%" PRIx64, g->pcs[k]);
      if (g->labels) {
         fputs("\n# labels: ", raw);
         Printable_write(g->labels, raw);
      }
      fputc('\n', raw);
      for (size_t k = 0; k < g->frameCount; k++) {
         const GoProfileFrame* f = &g->frames[k];
         fprintf(raw, "#\t0x%" PRIx64 "\t", f->pc);
         Printable_write(f->function, raw);
         fprintf(raw, "+0x%" PRIx64 "\t", f->offset);
         Printable_write(f->file, raw);
         fprintf(raw, ":%d\n", f->line);
      }
      fputc('\n', raw);
   }
}

void GoFormat_text(const GoProfile* p, double stoppedMs, FILE* out) {
   if (p->error[0]) {
      writeUnavailable(p, out);
      return;
   }
   char* buf = NULL;
   size_t len = 0;
   FILE* raw = open_memstream(&buf, &len);
   if (!raw) {
      fputs("# goroutines unavailable: out of memory\n", out);
      return;
   }
   writeGroups(p, raw);
   fclose(raw);
   Tabwriter_write(buf, len, out);
   free(buf);
   writeFooter(p, stoppedMs, out);
}

/* ---- debug=2 -------------------------------------------------------------- */

static void writeTraceFrame(const GoTraceFrame* f, FILE* out) {
   Printable_write(f->function, out);
   fputs("(...)\n\t", out);
   Printable_write(f->file, out);
   fprintf(out, ":%d", f->line);
   if (f->hasOffset)
      fprintf(out, " +0x%" PRIx64, f->offset);
   fputc('\n', out);
}

/* Up to Go 1.20, 100 frames then "...additional frames elided..."; from
 * 1.21 the innermost 50 and the outermost 50 with the count between. */
static void writeTraceFrames(const GoProfile* p, const GoTrace* t, FILE* out) {
   size_t inner = (size_t)p->tracebackInner, outer = (size_t)p->tracebackOuter;
   if (t->frameCount <= inner + outer) {
      for (size_t i = 0; i < t->frameCount; i++)
         writeTraceFrame(&t->frames[i], out);
      return;
   }
   for (size_t i = 0; i < inner; i++)
      writeTraceFrame(&t->frames[i], out);
   if (outer == 0) {
      fputs("...additional frames elided...\n", out);
      return;
   }
   fprintf(out, "...%zu frames elided...\n", t->frameCount - inner - outer);
   for (size_t i = t->frameCount - outer; i < t->frameCount; i++)
      writeTraceFrame(&t->frames[i], out);
}

static void writeTrace(const GoProfile* p, const GoTrace* t, FILE* out) {
   Printable_write(t->header, out);
   fputc('\n', out);
   writeTraceFrames(p, t, out);
   if (t->problem) {
      /* Go's own wording for a stack it cannot show is indented. */
      if (t->frameCount == 0)
         fputc('\t', out);
      Printable_write(t->problem, out);
      fputc('\n', out);
   }
   if (t->createdBy.function) {
      fputs("created by ", out);
      Printable_write(t->createdBy.function, out);
      if (t->createdInGoroutine)
         fprintf(out, " in goroutine %" PRIu64, t->parentGoid);
      fputs("\n\t", out);
      Printable_write(t->createdBy.file, out);
      fprintf(out, ":%d", t->createdBy.line);
      if (t->createdBy.hasOffset)
         fprintf(out, " +0x%" PRIx64, t->createdBy.offset);
      fputc('\n', out);
   }
}

void GoFormat_traces(const GoProfile* p, double stoppedMs, FILE* out) {
   if (p->error[0]) {
      writeUnavailable(p, out);
      return;
   }
   for (size_t i = 0; i < p->traceCount; i++) {
      if (i)
         fputc('\n', out);
      writeTrace(p, &p->traces[i], out);
   }
   fputc('\n', out);
   writeFooter(p, stoppedMs, out);
}

/* ---- JSON ------------------------------------------------------------------- */

static void jsonHex(Json* j, uint64_t v) {
   char buf[24];
   Util_format(buf, sizeof(buf), "0x%" PRIx64, v);
   Json_string(j, buf);
}

/* `{"k":"v", "k2":"v2"}` as printed by Go: already JSON-shaped, but its
 * escapes are Go's, so the pairs are re-read rather than pasted. */
static void jsonLabels(Json* j, const char* labels) {
   Json_beginObject(j);
   const char* p = labels ? labels + 1 : NULL;
   while (p && *p == '"') {
      char key[4096], value[4096];
      size_t k = 0, v = 0;
      for (p++; *p && *p != '"' && k + 1 < sizeof(key); p++)
         key[k++] = *p == '\\' && p[1] ? *++p : *p;
      key[k] = '\0';
      if (*p != '"' || p[1] != ':' || p[2] != '"')
         break;
      for (p += 3; *p && *p != '"' && v + 1 < sizeof(value); p++)
         value[v++] = *p == '\\' && p[1] ? *++p : *p;
      value[v] = '\0';
      Json_key(j, key);
      Json_string(j, value);
      if (*p != '"')
         break;
      p++;
      if (strncmp(p, ", ", 2) == 0)
         p += 2;
   }
   Json_endObject(j);
}

static void jsonFrame(Json* j, const GoProfileFrame* f) {
   Json_beginObject(j);
   Json_key(j, "pc");
   jsonHex(j, f->pc);
   Json_key(j, "function");
   Json_string(j, f->function);
   Json_key(j, "offset");
   Json_uint(j, f->offset);
   Json_key(j, "file");
   Json_string(j, f->file);
   Json_key(j, "line");
   Json_int(j, f->line);
   Json_key(j, "inlined");
   Json_bool(j, f->inlined);
   Json_endObject(j);
}

static void jsonGroup(Json* j, const GoProfileGroup* g) {
   Json_beginObject(j);
   Json_key(j, "count");
   Json_uint(j, g->count);
   Json_key(j, "wait_reasons");
   Json_beginObject(j);
   for (size_t i = 0; i < g->stateCount; i++) {
      Json_key(j, g->states[i].state);
      Json_uint(j, g->states[i].count);
   }
   Json_endObject(j);
   Json_key(j, "labels");
   jsonLabels(j, g->labels);
   Json_key(j, "goids");
   Json_beginArray(j);
   for (size_t i = 0; i < g->count; i++)
      Json_uint(j, g->goids[i]);
   Json_endArray(j);
   Json_key(j, "pcs");
   Json_beginArray(j);
   for (size_t i = 0; i < g->pcCount; i++)
      jsonHex(j, g->pcs[i]);
   Json_endArray(j);
   Json_key(j, "frames");
   Json_beginArray(j);
   for (size_t i = 0; i < g->frameCount; i++)
      jsonFrame(j, &g->frames[i]);
   Json_endArray(j);
   Json_endObject(j);
}

void GoFormat_json(const GoProfile* p, double stoppedMs, Json* j) {
   Json_beginObject(j);
   Json_key(j, "version");
   Json_string(j, p->version[0] ? p->version : NULL);
   if (p->error[0]) {
      Json_key(j, "error");
      Json_string(j, p->error);
      Json_endObject(j);
      return;
   }
   Json_key(j, "goroutines");
   Json_beginObject(j);
   Json_key(j, "total");
   Json_uint(j, p->total);
   Json_key(j, "groups");
   Json_beginArray(j);
   for (size_t i = 0; i < p->groupCount; i++)
      jsonGroup(j, &p->groups[i]);
   Json_endArray(j);
   Json_endObject(j);
   Json_key(j, "read_ms");
   Json_double(j, p->readMs, 3);
   Json_key(j, "stopped_ms");
   Json_double(j, stoppedMs, 3);
   Json_key(j, "notes");
   Json_beginArray(j);
   for (size_t i = 0; i < p->noteCount; i++)
      Json_string(j, p->notes[i]);
   Json_endArray(j);
   Json_endObject(j);
}

/* ---- folded ------------------------------------------------------------------- */

static void putFoldedName(const char* name, FILE* out) {
   for (const unsigned char* p = (const unsigned char*)name; *p; p++)
      fputc(*p == ';' ? ':' : *p < 0x20 || *p == 0x7f ? ' ' : *p, out);
}

void GoFormat_folded(const GoProfile* p, const char* comm, FILE* out) {
   for (size_t i = 0; !p->error[0] && i < p->groupCount; i++) {
      const GoProfileGroup* g = &p->groups[i];
      putFoldedName(comm, out);
      for (size_t k = g->frameCount; k-- > 0;) {
         fputc(';', out);
         putFoldedName(g->frames[k].function, out);
      }
      fprintf(out, " %zu\n", g->count);
   }
}
