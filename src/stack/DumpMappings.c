/* The mappings behind a dump's pcs: see DumpMappings.h. */
#include "stacktop/DumpMappings.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/GoProfile.h"
#include "stacktop/Group.h"
#include "stacktop/Util.h"

static const char DELETED_SUFFIX[] = " (deleted)";

static void mark(const Maps* maps, uint64_t addr, bool* used) {
   const MapEntry* e = Maps_find(maps, addr);
   if (e)
      used[e - maps->entries] = true;
}

static void markThreads(const DumpResult* r, const Maps* maps, bool* used) {
   for (size_t i = 0; i < r->groupCount; i++) {
      const DumpGroup* g = &r->groups[i];
      for (size_t k = 0; k < g->pcCount; k++) {
         /* A return address may be the first byte past its mapping: the call is not. */
         bool ret = Group_kindAt(g->kinds, k) == DUMP_PC_RETURN;
         mark(maps, ret ? g->pcs[k] - 1 : g->pcs[k], used);
      }
   }
}

static void markGoroutines(const DumpResult* r, const Maps* maps, bool* used) {
   for (size_t i = 0; r->go && i < r->go->groupCount; i++) {
      const GoProfileGroup* g = &r->go->groups[i];
      for (size_t k = 0; k < g->frameCount; k++)
         mark(maps, g->frames[k].pc, used);
   }
}

/* The path without the " (deleted)" the kernel appends, as a reader
 * looking for the binary needs it. */
static char* pathOf(const MapEntry* e) {
   size_t len = strlen(e->path);
   size_t suffix = sizeof(DELETED_SUFFIX) - 1;
   if (e->deleted && len > suffix)
      len -= suffix;
   return strndup(e->path, len) ?: Util_xstrdup("");
}

static DumpMapping mappingOf(const Maps* maps, size_t i, pid_t pid, ElfCache* cache) {
   const MapEntry* e = &maps->entries[i];
   DumpMapping m = { .start = e->start, .end = e->end, .offset = e->offset, .path = pathOf(e) };
   ElfObject object;
   if (ElfCache_object(cache, pid, maps, i, &object))
      ElfReader_buildIdHex(&object.file->reader, m.buildId, sizeof(m.buildId));
   return m;
}

DumpMapping* DumpMappings_collect(const DumpResult* r, pid_t pid, const Maps* maps, ElfCache* cache, size_t* count) {
   *count = 0;
   bool* used = Util_xcalloc(maps->count ? maps->count : 1, sizeof(bool));
   markThreads(r, maps, used);
   markGoroutines(r, maps, used);
   DumpMapping* out = Util_xcalloc(maps->count ? maps->count : 1, sizeof(DumpMapping));
   for (size_t i = 0; i < maps->count; i++) {
      const MapEntry* e = &maps->entries[i];
      /* Anonymous memory ("", "[stack]") has no file to name; the vDSO does. */
      if (used[i] && (e->path[0] == '/' || strcmp(e->path, "[vdso]") == 0))
         out[(*count)++] = mappingOf(maps, i, pid, cache);
   }
   free(used);
   return out;
}

void DumpMappings_free(DumpMapping* mappings, size_t count) {
   for (size_t i = 0; i < count; i++)
      free(mappings[i].path);
   free(mappings);
}
