/* The stack view's model: sections of groups, built from a DumpResult. */
#include "stacktop/StackModel.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/GoProfile.h"
#include "stacktop/Group.h"
#include "stacktop/Util.h"

/* Thread ids listed in full up to this many; beyond, "a b c ... z". */
#define TIDS_FULL 10
#define TIDS_HEAD 3
#define NAMES_LISTED 4

StackModel* StackModel_new(void) {
   return Util_xcalloc(1, sizeof(StackModel));
}

static void freeGroup(StackGroup* g) {
   free(g->states);
   free(g->top);
   free(g->members);
   for (size_t i = 0; i < g->frameCount; i++)
      free(g->frames[i]);
   free(g->frames);
}

void StackModel_free(StackModel* this) {
   if (!this)
      return;
   for (size_t s = 0; s < this->sectionCount; s++) {
      StackSection* section = &this->sections[s];
      for (size_t g = 0; g < section->groupCount; g++)
         freeGroup(&section->groups[g]);
      free(section->groups);
      free(section->title);
      for (size_t n = 0; n < section->noteCount; n++)
         free(section->notes[n]);
      free(section->notes);
   }
   free(this->sections);
   free(this);
}

StackSection* StackModel_addSection(StackModel* this, const char* title) {
   Util_growArray((void**)&this->sections, &this->sectionCapacity, this->sectionCount, sizeof(StackSection));
   StackSection* s = &this->sections[this->sectionCount++];
   memset(s, 0, sizeof(*s));
   s->title = Util_xstrdup(title);
   return s;
}

StackGroup* StackModel_addGroup(StackSection* section, size_t count, const char* states, const char* top,
                                const char* members) {
   Util_growArray((void**)&section->groups, &section->groupCapacity, section->groupCount, sizeof(StackGroup));
   StackGroup* g = &section->groups[section->groupCount++];
   memset(g, 0, sizeof(*g));
   g->count = count;
   g->states = Util_xstrdup(states);
   g->top = Util_xstrdup(top);
   g->members = Util_xstrdup(members);
   return g;
}

void StackModel_addNote(StackSection* section, const char* note) {
   Util_growArray((void**)&section->notes, &section->noteCapacity, section->noteCount, sizeof(char*));
   section->notes[section->noteCount++] = Util_xstrdup(note);
}

void StackModel_addFrame(StackGroup* group, const char* line) {
   Util_growArray((void**)&group->frames, &group->frameCapacity, group->frameCount, sizeof(char*));
   group->frames[group->frameCount++] = Util_xstrdup(line);
}

/* ---- from a dump */

static bool startsWith(const char* s, const char* prefix) {
   return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Frames a person rarely suspects first: the C library, the dynamic
 * loader and the vdso, and the Go runtime's scheduler and syscall glue. */
static bool isSystemFrame(const DumpFrame* f) {
   static const char* const systemDirs[] = { "/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/", "/usr/libexec/" };
   static const char* const runtimePrefixes[] = { "runtime.", "syscall.", "internal/", "runtime/internal/" };
   if (!f->function && !f->module)
      return true;
   for (size_t i = 0; i < sizeof(systemDirs) / sizeof(systemDirs[0]); i++) {
      if (startsWith(f->module, systemDirs[i]))
         return true;
   }
   if (f->module && strstr(f->module, "[vdso]"))
      return true;
   for (size_t i = 0; i < sizeof(runtimePrefixes) / sizeof(runtimePrefixes[0]); i++) {
      if (startsWith(f->function, runtimePrefixes[i]))
         return true;
   }
   return false;
}

const DumpFrame* StackModel_topUserFrame(const DumpGroup* group) {
   if (group->frameCount == 0)
      return NULL;
   for (size_t i = 0; i < group->frameCount; i++) {
      if (!isSystemFrame(&group->frames[i]))
         return &group->frames[i];
   }
   return &group->frames[0];
}

static const char* baseName(const char* path) {
   const char* slash = strrchr(path, '/');
   return slash ? slash + 1 : path;
}

/* "function file.c:25", "function+0x1c libfoo.so", "0x4005d0 app". */
static void describeTop(const DumpFrame* f, char* buf, size_t size) {
   if (!f) {
      Util_format(buf, size, "(no frames)");
      return;
   }
   char name[256];
   if (f->function)
      Util_format(name, sizeof(name), "%s", f->function);
   else
      Util_format(name, sizeof(name), "0x%" PRIx64, f->pc);
   if (f->file)
      Util_format(buf, size, "%s %s:%d", name, baseName(f->file), f->line);
   else if (f->module)
      Util_format(buf, size, "%s+0x%" PRIx64 " %s", name, f->offset, baseName(f->module));
   else
      Util_format(buf, size, "%s", name);
}

static int compareNames(const void* a, const void* b) {
   return strcmp(*(const char* const*)a, *(const char* const*)b);
}

/* "threads 5972 5973 5974 ... 6011 (names: parker, worker)" */
static void describeMembers(const DumpGroup* g, char* buf, size_t size) {
   size_t used = (size_t)snprintf(buf, size, "threads");
   for (size_t i = 0; i < g->count && used < size; i++) {
      if (g->count > TIDS_FULL && i == TIDS_HEAD) {
         used += (size_t)snprintf(buf + used, size - used, " ...");
         i = g->count - 1;
      }
      if (used < size)
         used += (size_t)snprintf(buf + used, size - used, " %d", (int)g->threads[i].tid);
   }
   const char** names = Util_xcalloc(g->count + 1, sizeof(char*));
   for (size_t i = 0; i < g->count; i++)
      names[i] = g->threads[i].name;
   qsort(names, g->count, sizeof(char*), compareNames);
   size_t distinct = 0;
   for (size_t i = 0; i < g->count && used < size; i++) {
      if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
         continue;
      if (distinct < NAMES_LISTED)
         used += (size_t)snprintf(buf + used, size - used, "%s%s", distinct ? ", " : " (names: ", names[i]);
      distinct++;
   }
   if (distinct > NAMES_LISTED && used < size)
      used += (size_t)snprintf(buf + used, size - used, ", +%zu more", distinct - NAMES_LISTED);
   if (distinct && used < size)
      snprintf(buf + used, size - used, ")");
   free(names);
}

/* "0x7f92b8f08f15  __futex_abstimed_wait_common+0xc5  /usr/lib/.../libc.so.6" */
static void describeFrame(const DumpFrame* f, char* buf, size_t size) {
   size_t used = (size_t)snprintf(buf, size, "0x%" PRIx64, f->pc);
   if (used < size && f->function)
      used += (size_t)snprintf(buf + used, size - used, "  %s+0x%" PRIx64 "%s", f->function, f->offset,
                               f->inlined ? " (inlined)" : "");
   else if (used < size && f->module)
      used += (size_t)snprintf(buf + used, size - used, "  ?");
   if (used < size && f->file)
      snprintf(buf + used, size - used, "  %s:%d", f->file, f->line);
   else if (used < size && f->module)
      snprintf(buf + used, size - used, "  %s", f->module);
}

/* Where a partial stack ends, and where a thread that never stopped waits. */
static void addCut(StackGroup* group, const DumpGroup* g) {
   if (g->cut == DUMP_CUT_NONE)
      return;
   char line[512];
   Util_format(line, sizeof(line), "...  stack cut: %s", Dump_cutReason(g->cut));
   StackModel_addFrame(group, line);
   if (g->cut != DUMP_CUT_NOT_STOPPED)
      return;
   Util_format(line, sizeof(line), "kernel wait channel: %s", g->wait.wchan[0] ? g->wait.wchan : "unknown");
   StackModel_addFrame(group, line);
   for (const char* p = g->wait.stack; p && *p;) {
      const char* end = strchr(p, '\n');
      int len = end ? (int)(end - p) : (int)strlen(p);
      Util_format(line, sizeof(line), "kernel: %.*s", len, p);
      StackModel_addFrame(group, line);
      p += len + (end ? 1 : 0);
   }
}

static void addThreadNotes(StackSection* section, const DumpResult* r) {
   char note[256];
   if (r->lateThreads) {
      Util_format(note, sizeof(note), "%zu threads did not stop before the deadline: listed without user frames",
                  r->lateThreads);
      StackModel_addNote(section, note);
   }
   if (r->missedThreads) {
      Util_format(note, sizeof(note), "%zu threads started during the stop and could not be stopped in time",
                  r->missedThreads);
      StackModel_addNote(section, note);
   }
   if (r->cutStacks) {
      Util_format(note, sizeof(note), "%zu stacks are partial: see \"stack cut\" in their groups", r->cutStacks);
      StackModel_addNote(section, note);
   }
}

StackModel* StackModel_fromDump(const DumpResult* result) {
   StackModel* this = StackModel_new();
   if (result->go)
      StackModel_addGoroutines(this, result->go);
   StackModel_addThreads(this, result);
   return this;
}

/* ---- goroutines */

/* "chan receive×147 running×1": Go's own state names, most first. */
static void describeWaits(const GoProfileGroup* g, char* buf, size_t size) {
   size_t used = 0;
   buf[0] = '\0';
   bool* done = Util_xcalloc(g->stateCount + 1, sizeof(bool));
   for (size_t k = 0; k < g->stateCount && used < size; k++) {
      size_t best = g->stateCount;
      for (size_t i = 0; i < g->stateCount; i++) {
         if (!done[i] && (best == g->stateCount || g->states[i].count > g->states[best].count))
            best = i;
      }
      done[best] = true;
      used += (size_t)snprintf(buf + used, size - used, "%s%s\u00d7%zu", used ? " " : "", g->states[best].state,
                               g->states[best].count);
   }
   free(done);
}

/* "goroutines 18 19 20 ... 1047 (labels: {...})" */
static void describeGoids(const GoProfileGroup* g, char* buf, size_t size) {
   size_t used = (size_t)snprintf(buf, size, "goroutine%s", g->count == 1 ? "" : "s");
   for (size_t i = 0; i < g->count && used < size; i++) {
      if (g->count > TIDS_FULL && i == TIDS_HEAD) {
         used += (size_t)snprintf(buf + used, size - used, " ...");
         i = g->count - 1;
      }
      if (used < size)
         used += (size_t)snprintf(buf + used, size - used, " %" PRIu64, g->goids[i]);
   }
   if (g->labels && used < size)
      snprintf(buf + used, size - used, " (labels: %s)", g->labels);
}

static void describeGoFrame(const GoProfileFrame* f, char* buf, size_t size) {
   snprintf(buf, size, "0x%" PRIx64 "  %s+0x%" PRIx64 "%s  %s:%d", f->pc, f->function, f->offset,
            f->inlined ? " (inlined)" : "", f->file ? f->file : "?", f->line);
}

void StackModel_addGoroutines(StackModel* this, const GoProfile* go) {
   char title[320];
   if (go->error[0])
      Util_format(title, sizeof(title), "goroutines unavailable: %s", go->error);
   else
      Util_format(title, sizeof(title), "goroutine profile: total %zu", go->total);
   StackSection* section = StackModel_addSection(this, title);
   section->kind = STACK_SECTION_GOROUTINES;
   for (size_t i = 0; i < go->groupCount; i++) {
      const GoProfileGroup* g = &go->groups[i];
      char waits[256], top[600] = "(no frames)", members[512];
      describeWaits(g, waits, sizeof(waits));
      describeGoids(g, members, sizeof(members));
      if (g->frameCount) {
         const GoProfileFrame* f = &g->frames[0];
         Util_format(top, sizeof(top), "%s %s:%d", f->function, baseName(f->file ? f->file : "?"), f->line);
      }
      StackGroup* group = StackModel_addGroup(section, g->count, waits, top, members);
      for (size_t f = 0; f < g->frameCount; f++) {
         char line[1200];
         describeGoFrame(&g->frames[f], line, sizeof(line));
         StackModel_addFrame(group, line);
      }
   }
   for (size_t n = 0; n < go->noteCount; n++)
      StackModel_addNote(section, go->notes[n]);
}

void StackModel_addThreads(StackModel* this, const DumpResult* result) {
   char title[128];
   Util_format(title, sizeof(title), "thread profile: total %zu", result->totalThreads);
   StackSection* section = StackModel_addSection(this, title);
   for (size_t i = 0; i < result->groupCount; i++) {
      const DumpGroup* g = &result->groups[i];
      char states[128], top[600], members[512];
      Group_describeStates(g, states, sizeof(states));
      describeTop(StackModel_topUserFrame(g), top, sizeof(top));
      describeMembers(g, members, sizeof(members));
      StackGroup* group = StackModel_addGroup(section, g->count, states, top, members);
      for (size_t f = 0; f < g->frameCount; f++) {
         char line[1200];
         describeFrame(&g->frames[f], line, sizeof(line));
         StackModel_addFrame(group, line);
      }
      addCut(group, g);
   }
   addThreadNotes(section, result);
}

bool StackModel_groupMatches(const StackGroup* group, const char* text) {
   if (!text[0])
      return false;
   if (strcasestr(group->top, text) || strcasestr(group->members, text))
      return true;
   for (size_t i = 0; i < group->frameCount; i++) {
      if (strcasestr(group->frames[i], text))
         return true;
   }
   return false;
}
