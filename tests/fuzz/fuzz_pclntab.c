/* libFuzzer harness for Pclntab: arbitrary bytes as a pclntab, then a
 * handful of lookups per input, checking the invariants callers rely on.
 * The input doubles as the binary's memory for inline trees: link-time
 * address FUZZ_BASE + i is byte i and moduledata.gofunc is FUZZ_BASE (the
 * seeds from tests/tools/pclntab_seeds.c carry their trees that way). */
#include <stdlib.h>
#include <string.h>

#include "stacktop/Pclntab.h"

#define FUZZ_BASE 0x10000000ull
#define FUZZ_TEXT 0x401000ull /* the text start given when the header has none */

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

typedef struct Input_ {
   const uint8_t* data;
   size_t size;
} Input;

static const uint8_t* readInput(void* ctx, uint64_t vaddr, size_t len) {
   const Input* in = ctx;
   if (vaddr < FUZZ_BASE || vaddr - FUZZ_BASE > in->size || len > in->size - (vaddr - FUZZ_BASE))
      return NULL;
   return in->data + (vaddr - FUZZ_BASE);
}

/* A string must start inside [off, off + len) of the table and end there. */
static void checkString(const Pclntab* t, const char* s, uint64_t off, uint64_t len) {
   if (!s)
      return;
   const uint8_t* p = (const uint8_t*)s;
   if (p < t->data + off || p >= t->data + off + len)
      abort();
   if (!memchr(p, '\0', (size_t)(t->data + off + len - p)))
      abort();
}

static void checkFrames(const Pclntab* t, const PclntabFunc* f, uint64_t pc) {
   PclntabFrame fr[8];
   size_t n = Pclntab_frames(t, pc, fr, 8);
   if (n == 0 || n > 8 || fr[n - 1].inlined || fr[n - 1].parentPc != pc)
      abort();
   for (size_t k = 0; k < n; k++) {
      checkString(t, fr[k].function, t->funcnameOff, t->funcnameSize);
      checkString(t, fr[k].file, t->filetabOff, t->filetabSize);
      if (fr[k].entry != f->entry || (k + 1 < n && !fr[k].inlined))
         abort();
   }
   if (Pclntab_frames(t, pc, fr, 1) != 1 || fr[0].inlined)
      abort();
}

static void checkAt(const Pclntab* t, uint64_t pc) {
   PclntabFunc f;
   if (!Pclntab_find(t, pc, &f)) {
      PclntabFrame fr[2];
      if (Pclntab_frames(t, pc, fr, 2) != 0)
         abort();
      return;
   }
   if (pc < f.entry || pc >= f.end || f.index >= t->nfunc)
      abort();
   checkString(t, f.name, t->funcnameOff, t->funcnameSize);
   int32_t v;
   (void)Pclntab_spDelta(t, &f, pc, &v);
   const char* file;
   int line;
   if (Pclntab_fileLine(t, &f, pc, &file, &line))
      checkString(t, file, t->filetabOff, t->filetabSize);
   else if (file || line)
      abort();
   for (uint32_t k = 0; k < 4; k++)
      (void)Pclntab_value(t, &f, Pclntab_pcdata(t, &f, k), pc, &v);
   checkFrames(t, &f, pc);
}

static void checkFunc(const Pclntab* t, uint32_t i) {
   PclntabFunc f;
   if (!Pclntab_func(t, i, &f) || f.index != i || f.entry > f.end)
      abort();
   checkString(t, f.name, t->funcnameOff, t->funcnameSize);
   if (f.entry == f.end)
      return;
   PclntabFunc g;
   /* Equal entries are allowed: the last of them owns the pc. */
   if (!Pclntab_find(t, f.entry, &g) || g.entry != f.entry || g.index < i)
      abort();
   checkAt(t, f.entry);
   checkAt(t, f.entry + (f.end - f.entry) / 2);
   checkAt(t, f.end - 1);
}

static void checkTable(const Pclntab* t) {
   uint64_t tables[5][2] = {
      { t->funcnameOff, t->funcnameSize }, { t->cuOff, t->cuSize },     { t->filetabOff, t->filetabSize },
      { t->pctabOff, t->pctabSize },       { t->pclnOff, t->pclnSize },
   };
   for (int k = 0; k < 5; k++)
      if (tables[k][0] > t->size || tables[k][1] > t->size - tables[k][0])
         abort();
   if (t->nfunc == 0 || t->textStart > t->textEnd)
      abort();
   uint32_t picks[] = { 0, 1, t->nfunc / 2, t->nfunc - 1 };
   for (size_t k = 0; k < sizeof(picks) / sizeof(picks[0]); k++)
      if (picks[k] < t->nfunc)
         checkFunc(t, picks[k]);
   for (uint32_t k = 0; k < 16 && k < t->nfunc; k++)
      checkFunc(t, (uint32_t)(((uint64_t)k * 7919u) % t->nfunc));
   PclntabFunc f, g;
   if (Pclntab_func(t, t->nfunc, &f))
      abort();
   if (Pclntab_func(t, t->nfunc - 1, &f) && f.name &&
       (!Pclntab_findByName(t, f.name, &g) || !g.name || strcmp(g.name, f.name) != 0))
      abort();
   checkAt(t, t->textStart ? t->textStart - 1 : 0);
   checkAt(t, t->textEnd);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
   Input in = { data, size };
   uint64_t headerText = 0;
   if (size >= 32)
      memcpy(&headerText, data + 24, 8);
   PclntabConfig c = {
      .textStart = headerText ? 0 : FUZZ_TEXT,
      .gofunc = FUZZ_BASE,
      .read = readInput,
      .readCtx = &in,
   };
   Pclntab t;
   char err[256];
   if (Pclntab_open(&t, data, size, &c, err, sizeof(err)) == 0) {
      checkTable(&t);
   } else if (err[0] == '\0' || t.data || memchr(err, '\n', strlen(err))) {
      abort();
   }
   long off = Pclntab_scan(data, size);
   if (off >= 0) {
      PclntabConfig withText = { .textStart = FUZZ_TEXT };
      if (off % 8 != 0 || (size_t)off > size - 8 ||
          Pclntab_open(&t, data + off, size - (size_t)off, &withText, err, sizeof(err)) != 0)
         abort();
   }
   return 0;
}
