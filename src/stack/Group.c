/* Grouping and ordering of thread stacks: see Group.h. */
#include "stacktop/Group.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Util.h"

typedef struct KeyContext_ {
   const GroupThread* threads;
   DumpGroupBy by;
   GroupFunctionOf functionOf;
   void* ctx;
} KeyContext;

static int compareU64(uint64_t a, uint64_t b) {
   return a < b ? -1 : a > b;
}

DumpPcKind Group_kindAt(const uint8_t* kinds, size_t index) {
   if (kinds)
      return (DumpPcKind)kinds[index];
   return index == 0 ? DUMP_PC_EXACT : DUMP_PC_RETURN;
}

static int compareFrame(const KeyContext* k, const GroupThread* a, const GroupThread* b, size_t index) {
   uint64_t pa = a->pcs[index], pb = b->pcs[index];
   DumpPcKind ka = Group_kindAt(a->kinds, index), kb = Group_kindAt(b->kinds, index);
   if (k->by == DUMP_GROUP_PC || !k->functionOf)
      return pa != pb ? compareU64(pa, pb) : compareU64(ka, kb);
   const char* fa = k->functionOf(k->ctx, pa, ka);
   const char* fb = k->functionOf(k->ctx, pb, kb);
   if (fa && fb)
      return strcmp(fa, fb);
   if (fa || fb)
      return fa ? 1 : -1;
   return compareU64(pa, pb);
}

static const char* wchanOf(const GroupThread* t) {
   return t->wait ? t->wait->wchan : "";
}

/* Stack identity: frame by frame, then the shorter stack first, then why
 * it ends, then where in the kernel it waits. */
static int compareStacks(const KeyContext* k, const GroupThread* a, const GroupThread* b) {
   size_t n = a->pcCount < b->pcCount ? a->pcCount : b->pcCount;
   for (size_t i = 0; i < n; i++) {
      int c = compareFrame(k, a, b, i);
      if (c)
         return c;
   }
   if (a->pcCount != b->pcCount)
      return compareU64(a->pcCount, b->pcCount);
   if (a->cut != b->cut)
      return compareU64(a->cut, b->cut);
   return strcmp(wchanOf(a), wchanOf(b));
}

static int compareIndex(const void* pa, const void* pb, void* arg) {
   const KeyContext* k = arg;
   const GroupThread* a = &k->threads[*(const size_t*)pa];
   const GroupThread* b = &k->threads[*(const size_t*)pb];
   int c = compareStacks(k, a, b);
   return c ? c : compareU64((uint64_t)a->info.tid, (uint64_t)b->info.tid);
}

static void makeGroup(DumpGroup* g, const GroupThread* threads, const size_t* order, size_t n) {
   assert(n > 0);
   *g = (DumpGroup){ .count = n };
   g->threads = Util_xcalloc(n, sizeof(DumpThread));
   for (size_t i = 0; i < n; i++)
      g->threads[i] = threads[order[i]].info;
   const GroupThread* first = &threads[order[0]];
   g->pcCount = first->pcCount;
   g->pcs = Util_xcalloc(first->pcCount ? first->pcCount : 1, sizeof(uint64_t));
   g->kinds = Util_xcalloc(first->pcCount ? first->pcCount : 1, sizeof(uint8_t));
   for (size_t i = 0; i < first->pcCount; i++) {
      g->pcs[i] = first->pcs[i];
      g->kinds[i] = (uint8_t)Group_kindAt(first->kinds, i);
   }
   g->cut = first->cut;
   if (first->wait) {
      g->wait = *first->wait;
      g->wait.stack = first->wait->stack ? Util_xstrdup(first->wait->stack) : NULL;
   }
}

DumpGroup* Group_build(const GroupThread* threads, size_t count, DumpGroupBy by, GroupFunctionOf functionOf, void* ctx,
                       size_t* groupCount) {
   KeyContext k = { threads, by, functionOf, ctx };
   size_t* order = Util_xcalloc(count, sizeof(size_t));
   for (size_t i = 0; i < count; i++)
      order[i] = i;
   qsort_r(order, count, sizeof(size_t), compareIndex, &k);
   DumpGroup* groups = Util_xcalloc(count, sizeof(DumpGroup));
   size_t n = 0;
   for (size_t start = 0; start < count;) {
      size_t end = start + 1;
      while (end < count && compareStacks(&k, &threads[order[start]], &threads[order[end]]) == 0)
         end++;
      makeGroup(&groups[n++], threads, order + start, end - start);
      start = end;
   }
   free(order);
   Group_sort(groups, n);
   *groupCount = n;
   return groups;
}

char* Group_line(const DumpGroup* group) {
   char* text = NULL;
   size_t len = 0;
   FILE* f = open_memstream(&text, &len);
   if (!f)
      return Util_xstrdup("");
   fprintf(f, "%zu @", group->count);
   for (size_t i = 0; i < group->pcCount; i++)
      fprintf(f, " 0x%" PRIx64, group->pcs[i]);
   fclose(f);
   return text ? text : Util_xstrdup("");
}

typedef struct Keyed_ {
   DumpGroup group;
   char* line;
} Keyed;

static int compareKeyed(const void* pa, const void* pb) {
   const Keyed* a = pa;
   const Keyed* b = pb;
   if (a->group.count != b->group.count)
      return a->group.count > b->group.count ? -1 : 1;
   return strcmp(a->line, b->line);
}

void Group_sort(DumpGroup* groups, size_t count) {
   Keyed* keyed = Util_xcalloc(count, sizeof(Keyed));
   for (size_t i = 0; i < count; i++)
      keyed[i] = (Keyed){ groups[i], Group_line(&groups[i]) };
   qsort(keyed, count, sizeof(Keyed), compareKeyed);
   for (size_t i = 0; i < count; i++) {
      groups[i] = keyed[i].group;
      free(keyed[i].line);
   }
   free(keyed);
}

void Group_freeAll(DumpGroup* groups, size_t count) {
   for (size_t i = 0; i < count; i++) {
      DumpGroup* g = &groups[i];
      for (size_t j = 0; j < g->frameCount; j++) {
         free(g->frames[j].function);
         free(g->frames[j].file);
         free(g->frames[j].module);
      }
      free(g->frames);
      free(g->threads);
      free(g->pcs);
      free(g->kinds);
      free(g->wait.stack);
   }
   free(groups);
}

size_t Group_stateMix(const DumpGroup* group, GroupStateCount* out, size_t max) {
   size_t counts[256] = { 0 };
   for (size_t i = 0; i < group->count; i++)
      counts[(unsigned char)group->threads[i].state]++;
   size_t n = 0;
   while (n < max) {
      size_t best = 0;
      for (size_t c = 1; c < 256; c++) {
         if (counts[c] > counts[best])
            best = c;
      }
      if (counts[best] == 0)
         break;
      out[n++] = (GroupStateCount){ .state = (char)best, .count = counts[best] };
      counts[best] = 0;
   }
   return n;
}

void Group_describeStates(const DumpGroup* group, char* buf, size_t size) {
   GroupStateCount mix[16];
   size_t n = Group_stateMix(group, mix, sizeof(mix) / sizeof(mix[0]));
   size_t used = 0;
   if (size)
      buf[0] = '\0';
   for (size_t i = 0; i < n && used < size; i++) {
      /* the letter comes from /proc: keep it printable */
      char letter = mix[i].state >= 0x21 && mix[i].state < 0x7f ? mix[i].state : '?';
      used += (size_t)snprintf(buf + used, size - used, "%s%c\u00d7%zu", i ? " " : "", letter, mix[i].count);
   }
}
