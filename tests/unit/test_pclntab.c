/* Pclntab on tables built byte by byte (tests/tools/pclntab_build.h) in the
 * Go 1.16, 1.18 and 1.20 layouts: every lookup checked against the values
 * the builder encoded, then corrupted variants (truncations, unsorted or
 * out-of-range function tables, runaway varints, names without NUL, inline
 * cycles) that must give a clean error or "not found". Buffers are allocated
 * to their exact size, so under ASan any read past them fails the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/pclntab_build.h"
#include "stacktop/Pclntab.h"

static const int VERSIONS[] = { 116, 118, 120 };
#define NVERSIONS (sizeof(VERSIONS) / sizeof(VERSIONS[0]))

enum { ALPHA, BETA, GAMMA, GOEXIT, NFUNC };
static const uint64_t ENTRY[NFUNC] = { PB_TEXT + 0x00, PB_TEXT + 0x40, PB_TEXT + 0xa0, PB_TEXT + 0xc0 };
static const uint64_t END[NFUNC] = { PB_TEXT + 0x40, PB_TEXT + 0xa0, PB_TEXT + 0xc0, PB_TEXT + 0xe0 };
static const char* const NAME[NFUNC] = { "main.alpha", "main.beta", "main.(*T).gamma", "runtime.goexit" };

static PclntabConfig configFor(Pb* pb) {
   return (PclntabConfig){ .gofunc = PB_GOFUNC, .read = pbRead, .readCtx = pb };
}

static void openOk(Pclntab* t, Pb* pb) {
   char err[256] = "";
   PclntabConfig c = configFor(pb);
   int rc = Pclntab_open(t, pb->data, pb->size, &c, err, sizeof(err));
   if (rc != 0)
      fail_msg("Pclntab_open: %s", err);
}

/* Opens a copy of bytes in a buffer of exactly len bytes; returns the rc and
 * leaves the copy in *copy (the caller frees it). */
static int openCopy(Pclntab* t, const uint8_t* bytes, size_t len, Pb* pb, uint8_t** copy, char* err, size_t errSize) {
   *copy = malloc(len ? len : 1);
   if (len)
      memcpy(*copy, bytes, len);
   PclntabConfig c = configFor(pb);
   err[0] = '\0';
   return Pclntab_open(t, *copy, len, &c, err, errSize);
}

static void putLE32(uint8_t* p, uint32_t v) {
   pbPutLE32(p, v);
}

static void putLE64(uint8_t* p, uint64_t v) {
   pbPutLE64(p, v);
}

/* Offset of the funcoff field of functab entry i, and of its pc field. */
static size_t funcoffField(const Pb* pb, int version, size_t i) {
   return pb->functabOff + (version == 116 ? 16 * i + 8 : 8 * i + 4);
}

static size_t pcField(const Pb* pb, int version, size_t i) {
   return pb->functabOff + (version == 116 ? 16 * i : 8 * i);
}

/* Where a u32 field of function i's _func lies (field offsets by layout). */
static size_t funcField(const Pb* pb, int version, size_t i, const char* field) {
   size_t base = pb->funcRec[i];
   size_t shift = version == 116 ? 4 : 0; /* 1.16: entry is 8 bytes */
   if (strcmp(field, "nameoff") == 0)
      return base + 4 + shift;
   if (strcmp(field, "pcsp") == 0)
      return base + 16 + shift;
   if (strcmp(field, "pcfile") == 0)
      return base + 20 + shift;
   if (strcmp(field, "npcdata") == 0)
      return base + 28 + shift;
   if (strcmp(field, "cuOffset") == 0)
      return base + 32 + shift;
   fail_msg("unknown field %s", field);
   return 0;
}

/* Every lookup over the whole text range and beyond; used on corrupted
 * tables, where only "no crash, no out-of-bounds read" is asserted. */
static void exerciseAll(const Pclntab* t) {
   PclntabFrame frames[80];
   for (uint64_t pc = PB_TEXT - 2; pc < PB_TEXT + 0xe4; pc++) {
      PclntabFunc f;
      if (Pclntab_find(t, pc, &f)) {
         assert_true(f.entry <= pc && pc < f.end);
         int32_t v;
         const char* file;
         int line;
         (void)Pclntab_spDelta(t, &f, pc, &v);
         (void)Pclntab_fileLine(t, &f, pc, &file, &line);
         for (uint32_t k = 0; k < 4; k++)
            (void)Pclntab_value(t, &f, Pclntab_pcdata(t, &f, k), pc, &v);
      }
      size_t n = Pclntab_frames(t, pc, frames, 80);
      assert_true(n <= 80);
      if (n)
         assert_false(frames[n - 1].inlined);
   }
   for (uint32_t i = 0; i < t->nfunc + 1; i++) {
      PclntabFunc f;
      (void)Pclntab_func(t, i, &f);
   }
   PclntabFunc f;
   (void)Pclntab_findByName(t, "main.beta", &f);
   (void)Pclntab_findByName(t, "nope", &f);
}

/* ---- the three formats, exact answers */

static void test_openEachFormat(void** state) {
   (void)state;
   for (size_t v = 0; v < NVERSIONS; v++) {
      PbSpec spec = pbStandard(VERSIONS[v]);
      Pb pb = pbBuild(&spec);
      Pclntab t;
      openOk(&t, &pb);
      assert_int_equal(t.version, VERSIONS[v]);
      assert_int_equal(t.nfunc, NFUNC);
      assert_int_equal(t.nfiles, 3);
      assert_int_equal(t.textStart, PB_TEXT);
      assert_int_equal(t.textEnd, PB_TEXT + 0xe0);
      assert_int_equal(t.funcnameOff, pb.funcnameOff);
      assert_int_equal(t.funcnameSize, pb.cuOff - pb.funcnameOff);
      assert_int_equal(t.cuOff, pb.cuOff);
      assert_int_equal(t.cuSize, 5 * 4);
      assert_int_equal(t.filetabOff, pb.filetabOff);
      assert_int_equal(t.filetabSize, strlen("a.go b.go c.go") + 1);
      assert_int_equal(t.pctabOff, pb.pctabOff);
      assert_int_equal(t.pclnOff, pb.pclnOff);
      assert_int_equal(t.pclnSize, pb.size - pb.pclnOff);
      assert_ptr_equal(t.data, pb.data);
      pbFree(&pb);
   }
}

static void checkFunc(const PclntabFunc* f, int version, const Pb* pb, int i) {
   assert_int_equal(f->index, i);
   assert_int_equal(f->entry, ENTRY[i]);
   assert_int_equal(f->end, END[i]);
   assert_non_null(f->name);
   assert_string_equal(f->name, NAME[i]);
   assert_int_equal(f->funcOffset, pb->funcRec[i]);
   const PbFunc* spec = &PB_FUNCS[i];
   assert_int_equal(f->cuOffset, spec->cuOffset);
   assert_int_equal(f->funcID, spec->funcID);
   assert_int_equal(f->flag, version == 116 ? 0 : spec->flag);
   assert_int_equal(f->startLine, version == 120 ? spec->startLine : 0);
   assert_int_equal(f->npcdata, i == BETA ? 4 : 0);
   assert_int_equal(f->nfuncdata, i == BETA ? 4 : 0);
   bool tables = i != GAMMA;
   assert_int_equal(f->pcsp != 0, tables);
   assert_int_equal(f->pcfile != 0, tables);
   assert_int_equal(f->pcln != 0, tables);
}

static void test_findAndFunc(void** state) {
   (void)state;
   static const struct {
      uint64_t off;
      int func;
   } cases[] = {
      { 0x00, ALPHA }, { 0x01, ALPHA }, { 0x3f, ALPHA },  { 0x40, BETA },   { 0x9f, BETA },
      { 0xa0, GAMMA }, { 0xbf, GAMMA }, { 0xc0, GOEXIT }, { 0xdf, GOEXIT },
   };
   for (size_t v = 0; v < NVERSIONS; v++) {
      PbSpec spec = pbStandard(VERSIONS[v]);
      Pb pb = pbBuild(&spec);
      Pclntab t;
      openOk(&t, &pb);
      for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
         PclntabFunc f;
         assert_true(Pclntab_find(&t, PB_TEXT + cases[k].off, &f));
         checkFunc(&f, VERSIONS[v], &pb, cases[k].func);
      }
      PclntabFunc f;
      assert_false(Pclntab_find(&t, PB_TEXT + 0xe0, &f));
      assert_false(Pclntab_find(&t, PB_TEXT - 1, &f));
      assert_false(Pclntab_find(&t, 0, &f));
      assert_false(Pclntab_find(&t, UINT64_MAX, &f));
      for (int i = 0; i < NFUNC; i++) {
         assert_true(Pclntab_func(&t, (uint32_t)i, &f));
         checkFunc(&f, VERSIONS[v], &pb, i);
      }
      assert_false(Pclntab_func(&t, NFUNC, &f));
      assert_false(Pclntab_func(&t, UINT32_MAX, &f));
      pbFree(&pb);
   }
}

static void test_findByName(void** state) {
   (void)state;
   for (size_t v = 0; v < NVERSIONS; v++) {
      PbSpec spec = pbStandard(VERSIONS[v]);
      Pb pb = pbBuild(&spec);
      Pclntab t;
      openOk(&t, &pb);
      PclntabFunc f;
      for (int i = 0; i < NFUNC; i++) {
         assert_true(Pclntab_findByName(&t, NAME[i], &f));
         checkFunc(&f, VERSIONS[v], &pb, i);
      }
      /* Inlined-only names are in funcnametab but are no function. */
      assert_false(Pclntab_findByName(&t, "main.inner", &f));
      assert_false(Pclntab_findByName(&t, "main", &f));
      assert_false(Pclntab_findByName(&t, "main.alphaX", &f));
      assert_false(Pclntab_findByName(&t, "", &f));
      assert_false(Pclntab_findByName(&t, NULL, &f));
      pbFree(&pb);
   }
}

static void test_values(void** state) {
   (void)state;
   for (size_t v = 0; v < NVERSIONS; v++) {
      PbSpec spec = pbStandard(VERSIONS[v]);
      Pb pb = pbBuild(&spec);
      Pclntab t;
      openOk(&t, &pb);
      PclntabFunc alpha, beta, gamma;
      assert_true(Pclntab_func(&t, ALPHA, &alpha));
      assert_true(Pclntab_func(&t, BETA, &beta));
      assert_true(Pclntab_func(&t, GAMMA, &gamma));
      static const struct {
         uint64_t off;
         int32_t sp;
      } sp[] = { { 0, 0 }, { 3, 0 }, { 4, 8 }, { 0x37, 8 }, { 0x38, 0 }, { 0x3f, 0 } };
      for (size_t k = 0; k < sizeof(sp) / sizeof(sp[0]); k++) {
         int32_t d = 12345;
         assert_true(Pclntab_spDelta(&t, &alpha, PB_TEXT + sp[k].off, &d));
         assert_int_equal(d, sp[k].sp);
      }
      int32_t d;
      /* Past the table's last pair: Go's pcvalue finds no entry. */
      assert_false(Pclntab_spDelta(&t, &alpha, PB_TEXT + 0x40, &d));
      assert_true(Pclntab_spDelta(&t, &beta, ENTRY[BETA] + 7, &d));
      assert_int_equal(d, 0);
      assert_true(Pclntab_spDelta(&t, &beta, ENTRY[BETA] + 8, &d));
      assert_int_equal(d, 24);
      assert_false(Pclntab_spDelta(&t, &gamma, ENTRY[GAMMA], &d));
      assert_true(Pclntab_value(&t, &alpha, alpha.pcln, PB_TEXT + 0x0f, &d));
      assert_int_equal(d, 10);
      assert_true(Pclntab_value(&t, &alpha, alpha.pcln, PB_TEXT + 0x10, &d));
      assert_int_equal(d, 11);
      assert_true(Pclntab_value(&t, &alpha, alpha.pcln, PB_TEXT + 0x3f, &d));
      assert_int_equal(d, 12);
      assert_false(Pclntab_value(&t, &alpha, 0, PB_TEXT, &d));
      assert_false(Pclntab_value(&t, &alpha, (uint32_t)t.pctabSize, PB_TEXT, &d));
      assert_false(Pclntab_value(&t, &alpha, UINT32_MAX, PB_TEXT, &d));
      /* pcdata: the inline index table of beta */
      assert_int_equal(Pclntab_pcdata(&t, &beta, PCLNTAB_PCDATA_INLTREE), pb.inlTable[BETA]);
      assert_int_equal(Pclntab_pcdata(&t, &beta, 0), 0);
      assert_int_equal(Pclntab_pcdata(&t, &beta, 3), 0);
      assert_int_equal(Pclntab_pcdata(&t, &beta, 4), 0); /* past npcdata: the funcdata */
      assert_int_equal(Pclntab_pcdata(&t, &alpha, PCLNTAB_PCDATA_INLTREE), 0);
      static const struct {
         uint64_t off;
         int32_t ix;
      } inl[] = { { 0x00, -1 }, { 0x0f, -1 }, { 0x10, 0 }, { 0x1f, 0 }, { 0x20, 1 }, { 0x2f, 1 }, { 0x30, -1 } };
      for (size_t k = 0; k < sizeof(inl) / sizeof(inl[0]); k++) {
         assert_true(Pclntab_value(&t, &beta, pb.inlTable[BETA], ENTRY[BETA] + inl[k].off, &d));
         assert_int_equal(d, inl[k].ix);
      }
      pbFree(&pb);
   }
}

static void expectFileLine(const Pclntab* t, int func, uint64_t off, const char* file, int line) {
   PclntabFunc f;
   assert_true(Pclntab_func(t, (uint32_t)func, &f));
   const char* gotFile = "unset";
   int gotLine = -5;
   bool ok = Pclntab_fileLine(t, &f, ENTRY[func] + off, &gotFile, &gotLine);
   if (!file) {
      assert_false(ok);
      assert_null(gotFile);
      assert_int_equal(gotLine, 0);
      return;
   }
   assert_true(ok);
   assert_non_null(gotFile);
   assert_string_equal(gotFile, file);
   assert_int_equal(gotLine, line);
}

static void test_fileLine(void** state) {
   (void)state;
   for (size_t v = 0; v < NVERSIONS; v++) {
      PbSpec spec = pbStandard(VERSIONS[v]);
      Pb pb = pbBuild(&spec);
      Pclntab t;
      openOk(&t, &pb);
      expectFileLine(&t, ALPHA, 0x00, "a.go", 10);
      expectFileLine(&t, ALPHA, 0x1f, "a.go", 11);
      expectFileLine(&t, ALPHA, 0x3f, "a.go", 12);
      expectFileLine(&t, BETA, 0x05, "a.go", 20);
      expectFileLine(&t, BETA, 0x15, "b.go", 5);
      expectFileLine(&t, BETA, 0x25, "b.go", 7);
      expectFileLine(&t, BETA, 0x35, "a.go", 22);
      expectFileLine(&t, GOEXIT, 0x00, "c.go", 100);
      expectFileLine(&t, GOEXIT, 0x0f, "c.go", 100);
      expectFileLine(&t, GOEXIT, 0x10, NULL, 0); /* the gap after its table */
      expectFileLine(&t, GAMMA, 0x00, NULL, 0);  /* no tables */
      pbFree(&pb);
   }
}

static void expectFrame(const PclntabFrame* fr, const char* function, const char* file, int line, bool inlined,
                        uint8_t funcID, uint64_t parentPc) {
   assert_non_null(fr->function);
   assert_string_equal(fr->function, function);
   if (file) {
      assert_non_null(fr->file);
      assert_string_equal(fr->file, file);
   } else {
      assert_null(fr->file);
   }
   assert_int_equal(fr->line, line);
   assert_int_equal(fr->inlined, inlined);
   assert_int_equal(fr->funcID, funcID);
   assert_int_equal(fr->parentPc, parentPc);
}

static void test_framesInlineExpansion(void** state) {
   (void)state;
   for (size_t v = 0; v < NVERSIONS; v++) {
      PbSpec spec = pbStandard(VERSIONS[v]);
      Pb pb = pbBuild(&spec);
      Pclntab t;
      openOk(&t, &pb);
      PclntabFrame fr[8];
      uint64_t pc = ENTRY[BETA] + 0x25;
      assert_int_equal(Pclntab_frames(&t, pc, fr, 8), 3);
      expectFrame(&fr[0], "main.innermost", "b.go", 7, true, 21, ENTRY[BETA] + 0x18);
      expectFrame(&fr[1], "main.inner", "b.go", 5, true, 0, ENTRY[BETA] + 0x30);
      expectFrame(&fr[2], "main.beta", "a.go", 22, false, 0, pc);
      for (int k = 0; k < 3; k++)
         assert_int_equal(fr[k].entry, ENTRY[BETA]);
      /* Room for fewer: the innermost inlined frames and always the physical one. */
      assert_int_equal(Pclntab_frames(&t, pc, fr, 2), 2);
      expectFrame(&fr[0], "main.innermost", "b.go", 7, true, 21, ENTRY[BETA] + 0x18);
      expectFrame(&fr[1], "main.beta", "a.go", 22, false, 0, pc);
      assert_int_equal(Pclntab_frames(&t, pc, fr, 1), 1);
      expectFrame(&fr[0], "main.beta", "a.go", 22, false, 0, pc);
      assert_int_equal(Pclntab_frames(&t, pc, fr, 0), 0);
      pc = ENTRY[BETA] + 0x15;
      assert_int_equal(Pclntab_frames(&t, pc, fr, 8), 2);
      expectFrame(&fr[0], "main.inner", "b.go", 5, true, 0, ENTRY[BETA] + 0x30);
      expectFrame(&fr[1], "main.beta", "a.go", 22, false, 0, pc);
      pc = ENTRY[BETA] + 0x05;
      assert_int_equal(Pclntab_frames(&t, pc, fr, 8), 1);
      expectFrame(&fr[0], "main.beta", "a.go", 20, false, 0, pc);
      pc = ENTRY[GOEXIT] + 3;
      assert_int_equal(Pclntab_frames(&t, pc, fr, 8), 1);
      expectFrame(&fr[0], "runtime.goexit", "c.go", 100, false, 7, pc);
      pc = ENTRY[GAMMA];
      assert_int_equal(Pclntab_frames(&t, pc, fr, 8), 1);
      expectFrame(&fr[0], "main.(*T).gamma", NULL, 0, false, 0, pc);
      assert_int_equal(Pclntab_frames(&t, PB_TEXT + 0xe0, fr, 8), 0);
      assert_int_equal(Pclntab_frames(&t, PB_TEXT - 1, fr, 8), 0);
      pbFree(&pb);
   }
}

/* Without a read function (or, 1.18+, without gofunc) nothing is expanded:
 * the physical function with the inlined position, as Go's tables have it. */
static void test_framesWithoutInlineTree(void** state) {
   (void)state;
   for (size_t v = 0; v < NVERSIONS; v++) {
      PbSpec spec = pbStandard(VERSIONS[v]);
      Pb pb = pbBuild(&spec);
      for (int variant = 0; variant < 2; variant++) {
         PclntabConfig c = configFor(&pb);
         if (variant == 0)
            c.read = NULL;
         else
            c.gofunc = 0;
         Pclntab t;
         char err[256];
         assert_int_equal(Pclntab_open(&t, pb.data, pb.size, &c, err, sizeof(err)), 0);
         PclntabFrame fr[8];
         uint64_t pc = ENTRY[BETA] + 0x25;
         size_t n = Pclntab_frames(&t, pc, fr, 8);
         if (variant == 1 && VERSIONS[v] == 116) {
            /* 1.16 trees are absolute pointers: gofunc is not needed. */
            assert_int_equal(n, 3);
            continue;
         }
         assert_int_equal(n, 1);
         expectFrame(&fr[0], "main.beta", "b.go", 7, false, 0, pc);
      }
      pbFree(&pb);
   }
}

static void test_textStartFromConfig(void** state) {
   (void)state;
   for (size_t v = 1; v < NVERSIONS; v++) {
      PbSpec spec = pbStandard(VERSIONS[v]);
      spec.headerTextStart = 0; /* as Go 1.26+ writes it */
      Pb pb = pbBuild(&spec);
      Pclntab t;
      char err[256] = "";
      PclntabConfig c = configFor(&pb);
      assert_int_equal(Pclntab_open(&t, pb.data, pb.size, &c, err, sizeof(err)), -1);
      assert_non_null(strstr(err, "textStart 0"));
      assert_non_null(strstr(err, "moduledata.text"));
      c.textStart = PB_TEXT;
      assert_int_equal(Pclntab_open(&t, pb.data, pb.size, &c, err, sizeof(err)), 0);
      PclntabFunc f;
      assert_true(Pclntab_find(&t, PB_TEXT + 0x50, &f));
      checkFunc(&f, VERSIONS[v], &pb, BETA);
      PclntabFrame fr[4];
      assert_int_equal(Pclntab_frames(&t, ENTRY[BETA] + 0x25, fr, 4), 3);
      pbFree(&pb);
      /* The caller's value wins over a non-zero header too. */
      spec = pbStandard(VERSIONS[v]);
      pb = pbBuild(&spec);
      c = configFor(&pb);
      c.textStart = 0x800000;
      assert_int_equal(Pclntab_open(&t, pb.data, pb.size, &c, err, sizeof(err)), 0);
      assert_int_equal(t.textStart, 0x800000);
      assert_true(Pclntab_find(&t, 0x800040, &f));
      assert_int_equal(f.entry, 0x800040);
      assert_string_equal(f.name, "main.beta");
      assert_false(Pclntab_find(&t, ENTRY[BETA], &f));
      pbFree(&pb);
   }
}

/* ---- refused and corrupted headers */

static void expectOpenError(const uint8_t* bytes, size_t len, Pb* pb, const char* needle) {
   Pclntab t;
   uint8_t* copy;
   char err[256];
   int rc = openCopy(&t, bytes, len, pb, &copy, err, sizeof(err));
   if (rc == 0)
      fail_msg("open succeeded, expected an error containing '%s'", needle ? needle : "");
   assert_true(err[0] != '\0');
   assert_null(strchr(err, '\n'));
   if (needle && !strstr(err, needle))
      fail_msg("error '%s' does not contain '%s'", err, needle);
   assert_null(t.data);
   free(copy);
}

static void test_refusedMagics(void** state) {
   (void)state;
   PbSpec spec = pbStandard(120);
   Pb pb = pbBuild(&spec);
   uint8_t* img = malloc(pb.size);
   memcpy(img, pb.data, pb.size);
   putLE32(img, 0xfffffffb);
   expectOpenError(img, pb.size, &pb, "Go 1.2-1.15");
   putLE32(img, 0xfffffff2);
   expectOpenError(img, pb.size, &pb, "0xfffffff2");
   expectOpenError(img, pb.size, &pb, "Go 1.20");
   memcpy(img, pb.data, pb.size);
   img[6] = 4; /* arm64's pc quantum */
   expectOpenError(img, pb.size, &pb, "quantum 4");
   img[6] = 1, img[7] = 4; /* 32-bit pointers */
   expectOpenError(img, pb.size, &pb, "pointer size 4");
   img[7] = 8, img[4] = 1;
   expectOpenError(img, pb.size, &pb, "padding");
   free(img);
   pbFree(&pb);
}

static void test_truncated(void** state) {
   (void)state;
   for (size_t v = 0; v < NVERSIONS; v++) {
      PbSpec spec = pbStandard(VERSIONS[v]);
      Pb pb = pbBuild(&spec);
      /* Every prefix fails (the last _func record ends the image). */
      for (size_t len = 0; len < pb.size; len++)
         expectOpenError(pb.data, len, &pb, NULL);
      Pclntab t;
      char err[64];
      assert_int_equal(Pclntab_open(&t, NULL, 100, NULL, err, sizeof(err)), -1);
      pbFree(&pb);
   }
}

static void test_unsortedFunctab(void** state) {
   (void)state;
   for (size_t v = 0; v < NVERSIONS; v++) {
      int ver = VERSIONS[v];
      PbSpec spec = pbStandard(ver);
      Pb pb = pbBuild(&spec);
      uint8_t* img = malloc(pb.size);
      size_t field = ver == 116 ? 8 : 4;
      /* Swap the pcs of entries 1 and 2. */
      memcpy(img, pb.data, pb.size);
      uint8_t tmp[8];
      memcpy(tmp, img + pcField(&pb, ver, 1), field);
      memcpy(img + pcField(&pb, ver, 1), img + pcField(&pb, ver, 2), field);
      memcpy(img + pcField(&pb, ver, 2), tmp, field);
      expectOpenError(img, pb.size, &pb, "not sorted");
      /* An end pc below the last function's entry. */
      memcpy(img, pb.data, pb.size);
      if (ver == 116)
         putLE64(img + pcField(&pb, ver, NFUNC), PB_TEXT + 0xbf);
      else
         putLE32(img + pcField(&pb, ver, NFUNC), 0xbf);
      expectOpenError(img, pb.size, &pb, "not sorted");
      /* Equal entries are accepted; as Go's findfunc, the last one wins. */
      memcpy(img, pb.data, pb.size);
      memcpy(img + pcField(&pb, ver, 2), img + pcField(&pb, ver, 1), field);
      Pclntab t;
      PclntabConfig c = configFor(&pb);
      char err[256];
      assert_int_equal(Pclntab_open(&t, img, pb.size, &c, err, sizeof(err)), 0);
      PclntabFunc f;
      assert_true(Pclntab_find(&t, ENTRY[BETA], &f));
      assert_int_equal(f.index, GAMMA);
      assert_int_equal(f.entry, ENTRY[BETA]);
      assert_int_equal(f.end, END[GAMMA]);
      assert_true(Pclntab_func(&t, BETA, &f));
      assert_int_equal(f.entry, f.end); /* empty, never found by pc */
      exerciseAll(&t);
      free(img);
      pbFree(&pb);
   }
}

static void test_funcoffOutOfRange(void** state) {
   (void)state;
   for (size_t v = 0; v < NVERSIONS; v++) {
      int ver = VERSIONS[v];
      PbSpec spec = pbStandard(ver);
      Pb pb = pbBuild(&spec);
      uint8_t* img = malloc(pb.size);
      size_t pclnSize = pb.size - pb.pclnOff;
      const uint64_t bad[] = {
         pclnSize - 10, pclnSize, pclnSize + 1, 0, 8, UINT32_MAX, ver == 116 ? UINT64_MAX - 4 : UINT32_MAX - 4
      };
      for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
         memcpy(img, pb.data, pb.size);
         if (ver == 116)
            putLE64(img + funcoffField(&pb, ver, 2), bad[k]);
         else
            putLE32(img + funcoffField(&pb, ver, 2), (uint32_t)bad[k]);
         expectOpenError(img, pb.size, &pb, "record offset");
      }
      free(img);
      pbFree(&pb);
   }
}

static void test_headerCounts(void** state) {
   (void)state;
   for (size_t v = 0; v < NVERSIONS; v++) {
      int ver = VERSIONS[v];
      PbSpec spec = pbStandard(ver);
      Pb pb = pbBuild(&spec);
      uint8_t* img = malloc(pb.size);
      const uint64_t nfuncs[] = { 0, 1ull << 40, UINT64_MAX, 1ull << 32, 100 };
      for (size_t k = 0; k < sizeof(nfuncs) / sizeof(nfuncs[0]); k++) {
         memcpy(img, pb.data, pb.size);
         putLE64(img + 8, nfuncs[k]);
         expectOpenError(img, pb.size, &pb, NULL);
      }
      /* One more function than there is: its entry reads the old end pc,
       * its record offset lands in the table. Still a clean error. */
      memcpy(img, pb.data, pb.size);
      putLE64(img + 8, NFUNC + 1);
      expectOpenError(img, pb.size, &pb, NULL);
      memcpy(img, pb.data, pb.size);
      putLE64(img + 16, 1ull << 40);
      expectOpenError(img, pb.size, &pb, "file count");
      free(img);
      pbFree(&pb);
   }
}

static void test_subTableOffsets(void** state) {
   (void)state;
   for (size_t v = 0; v < NVERSIONS; v++) {
      int ver = VERSIONS[v];
      PbSpec spec = pbStandard(ver);
      Pb pb = pbBuild(&spec);
      uint8_t* img = malloc(pb.size);
      size_t offs = ver == 116 ? 24 : 32; /* funcnameOffset field */
      /* Past the end, below the header, out of order. */
      const struct {
         int field;
         uint64_t value;
      } cases[] = {
         { 2, pb.size + 1 },        { 4, UINT64_MAX }, { 0, 0 },       { 0, 8 },
         { 1, pb.funcnameOff - 1 }, { 3, pb.cuOff },   { 4, pb.size }, /* pclntable empty: the function table is out of
                                                                          bounds */
      };
      for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
         memcpy(img, pb.data, pb.size);
         putLE64(img + offs + 8 * (size_t)cases[k].field, cases[k].value);
         expectOpenError(img, pb.size, &pb, NULL);
      }
      free(img);
      pbFree(&pb);
   }
}

/* ---- corrupted tables: clean "not found" at lookup time */

static void withCorruption(int ver, void (*corrupt)(Pb* pb, uint8_t* img, int ver),
                           void (*check)(const Pclntab* t, const Pb* pb)) {
   PbSpec spec = pbStandard(ver);
   Pb pb = pbBuild(&spec);
   uint8_t* img = malloc(pb.size);
   memcpy(img, pb.data, pb.size);
   corrupt(&pb, img, ver);
   Pclntab t;
   PclntabConfig c = configFor(&pb);
   char err[256];
   if (Pclntab_open(&t, img, pb.size, &c, err, sizeof(err)) != 0)
      fail_msg("open: %s", err);
   check(&t, &pb);
   exerciseAll(&t);
   free(img);
   pbFree(&pb);
}

static void forEachVersion(void (*corrupt)(Pb*, uint8_t*, int), void (*check)(const Pclntab*, const Pb*)) {
   for (size_t v = 0; v < NVERSIONS; v++)
      withCorruption(VERSIONS[v], corrupt, check);
}

/* goexit's line table is the last one in pctab: a continuation bit on its
 * terminator makes a varint that runs off the end of pctab (into the
 * pclntable that follows in the buffer: it must not be read). */
static void checkRunoff(const Pclntab* t, const Pb* pb) {
   (void)pb;
   PclntabFunc f;
   assert_true(Pclntab_func(t, GOEXIT, &f));
   int32_t v;
   /* pc 0xd0 is in goexit (up to 0xe0) but past its one-pair table. */
   assert_false(Pclntab_value(t, &f, f.pcln, ENTRY[GOEXIT] + 0x10, &v));
   assert_true(Pclntab_value(t, &f, f.pcln, ENTRY[GOEXIT], &v));
   assert_int_equal(v, 100);
}

static void test_varintRunsOffTheTable(void** state) {
   (void)state;
   for (size_t v = 0; v < NVERSIONS; v++) {
      int ver = VERSIONS[v];
      PbSpec spec = pbStandard(ver);
      Pb pb = pbBuild(&spec);
      Pclntab t;
      openOk(&t, &pb);
      uint8_t* img = malloc(pb.size);
      memcpy(img, pb.data, pb.size);
      /* The last byte of pctab is goexit's pcln terminator. */
      size_t last = t.pctabOff + t.pctabSize - 1;
      assert_int_equal(img[last], 0);
      img[last] = 0x80;
      PclntabConfig c = configFor(&pb);
      char err[256];
      assert_int_equal(Pclntab_open(&t, img, pb.size, &c, err, sizeof(err)), 0);
      checkRunoff(&t, &pb);
      /* A table starting at the very last byte. */
      PclntabFunc f;
      assert_true(Pclntab_func(&t, GOEXIT, &f));
      int32_t val;
      assert_false(Pclntab_value(&t, &f, (uint32_t)(t.pctabSize - 1), ENTRY[GOEXIT], &val));
      /* An over-long varint (6 bytes) at the start of alpha's pcsp. */
      memcpy(img, pb.data, pb.size);
      assert_int_equal(Pclntab_open(&t, img, pb.size, &c, err, sizeof(err)), 0);
      assert_true(Pclntab_func(&t, ALPHA, &f));
      uint8_t* p = img + t.pctabOff + f.pcsp;
      memcpy(p, "\x80\x80\x80\x80\x80\x01", 6);
      assert_false(Pclntab_spDelta(&t, &f, ENTRY[ALPHA], &val));
      exerciseAll(&t);
      free(img);
      pbFree(&pb);
   }
}

/* The last string of funcnametab ("main.innermost", an inline tree name)
 * loses its NUL: it must not be read on into cutab. */
static void corruptNameNul(Pb* pb, uint8_t* img, int ver) {
   (void)ver;
   img[pb->lastNameEnd] = 'X';
   /* gamma's name now points at that unterminated name too */
   size_t innermost = pb->lastNameEnd - strlen("main.innermost") - pb->funcnameOff;
   putLE32(img + funcField(pb, ver, GAMMA, "nameoff"), (uint32_t)innermost);
   /* alpha's nameoff past the table */
   putLE32(img + funcField(pb, ver, ALPHA, "nameoff"), UINT32_MAX);
}

static void checkNameNul(const Pclntab* t, const Pb* pb) {
   (void)pb;
   PclntabFunc f;
   assert_true(Pclntab_find(t, ENTRY[GAMMA], &f));
   assert_null(f.name);
   assert_true(Pclntab_find(t, ENTRY[ALPHA], &f));
   assert_null(f.name);
   assert_false(Pclntab_findByName(t, "main.(*T).gamma", &f));
   assert_false(Pclntab_findByName(t, "main.innermost", &f));
   assert_true(Pclntab_findByName(t, "main.beta", &f));
   PclntabFrame fr[8];
   assert_int_equal(Pclntab_frames(t, ENTRY[BETA] + 0x25, fr, 8), 3);
   assert_null(fr[0].function); /* the unterminated inline name */
   assert_string_equal(fr[1].function, "main.inner");
   assert_int_equal(Pclntab_frames(t, ENTRY[GAMMA], fr, 8), 1);
   assert_null(fr[0].function);
}

static void test_nameWithoutNul(void** state) {
   (void)state;
   forEachVersion(corruptNameNul, checkNameNul);
}

static size_t inlCallSize(int ver) {
   return ver == 120 ? 16 : 20;
}

static size_t parentPcField(int ver) {
   return ver == 120 ? 8 : 16;
}

/* inner's parentPc points back into the range whose index is inner itself. */
static void corruptCycle(Pb* pb, uint8_t* img, int ver) {
   (void)img;
   putLE32(pb->mem + pb->treeOff[BETA] + 0 * inlCallSize(ver) + parentPcField(ver), 0x10);
}

static void checkCycle(const Pclntab* t, const Pb* pb) {
   (void)pb;
   PclntabFrame fr[200];
   size_t n = Pclntab_frames(t, ENTRY[BETA] + 0x15, fr, 200);
   assert_true(n > 2 && n <= 65);
   for (size_t k = 0; k + 1 < n; k++) {
      assert_true(fr[k].inlined);
      assert_string_equal(fr[k].function, "main.inner");
   }
   assert_false(fr[n - 1].inlined);
   assert_string_equal(fr[n - 1].function, "main.beta");
   assert_int_equal(Pclntab_frames(t, ENTRY[BETA] + 0x15, fr, 8), 8);
   assert_false(fr[7].inlined);
}

static void test_inlineCycle(void** state) {
   (void)state;
   forEachVersion(corruptCycle, checkCycle);
}

/* A parentPc outside the function (or negative) ends the chain. */
static void corruptParent(Pb* pb, uint8_t* img, int ver) {
   (void)img;
   putLE32(pb->mem + pb->treeOff[BETA] + 1 * inlCallSize(ver) + parentPcField(ver), 0x60);
   putLE32(pb->mem + pb->treeOff[BETA] + 0 * inlCallSize(ver) + parentPcField(ver), (uint32_t)-4);
}

static void checkParent(const Pclntab* t, const Pb* pb) {
   (void)pb;
   PclntabFrame fr[8];
   uint64_t pc = ENTRY[BETA] + 0x25;
   assert_int_equal(Pclntab_frames(t, pc, fr, 8), 1);
   expectFrame(&fr[0], "main.beta", "b.go", 7, false, 0, pc);
   pc = ENTRY[BETA] + 0x15;
   assert_int_equal(Pclntab_frames(t, pc, fr, 8), 1);
   expectFrame(&fr[0], "main.beta", "b.go", 5, false, 0, pc);
}

static void test_inlineParentOutsideFunction(void** state) {
   (void)state;
   forEachVersion(corruptParent, checkParent);
}

/* Inline indexes beyond the tree: the read function refuses, the chain stops. */
static void test_inlineIndexOutOfRange(void** state) {
   (void)state;
   static const int32_t ixs[] = { 2, 1000000, 1 << 30, INT32_MAX };
   for (size_t v = 0; v < NVERSIONS; v++) {
      for (size_t k = 0; k < sizeof(ixs) / sizeof(ixs[0]); k++) {
         PbPair inl[] = { { -1, 0x10 }, { ixs[k], 0x60 } };
         PbFunc funcs[NFUNC];
         memcpy(funcs, PB_FUNCS, sizeof(funcs));
         funcs[BETA].inl = (PbTable){ .pairs = inl, .n = 2 };
         PbSpec spec = pbStandard(VERSIONS[v]);
         spec.funcs = funcs;
         Pb pb = pbBuild(&spec);
         Pclntab t;
         openOk(&t, &pb);
         PclntabFrame fr[8];
         uint64_t pc = ENTRY[BETA] + 0x25;
         assert_int_equal(Pclntab_frames(&t, pc, fr, 8), 1);
         expectFrame(&fr[0], "main.beta", "b.go", 7, false, 0, pc);
         pbFree(&pb);
      }
   }
}

/* npcdata far beyond the record: pcdata and funcdata slots are out of the
 * buffer, so no pcdata value and no inline tree. */
static void corruptNpcdata(Pb* pb, uint8_t* img, int ver) {
   putLE32(img + funcField(pb, ver, BETA, "npcdata"), UINT32_MAX);
}

static void checkNpcdata(const Pclntab* t, const Pb* pb) {
   PclntabFunc f;
   assert_true(Pclntab_func(t, BETA, &f));
   assert_int_equal(f.npcdata, UINT32_MAX);
   assert_int_equal(Pclntab_pcdata(t, &f, PCLNTAB_PCDATA_INLTREE), pb->inlTable[BETA]);
   assert_int_equal(Pclntab_pcdata(t, &f, UINT32_MAX - 1), 0);
   assert_int_equal(Pclntab_pcdata(t, &f, 1u << 30), 0);
   PclntabFrame fr[8];
   assert_int_equal(Pclntab_frames(t, ENTRY[BETA] + 0x25, fr, 8), 1);
}

static void test_npcdataHuge(void** state) {
   (void)state;
   forEachVersion(corruptNpcdata, checkNpcdata);
}

/* alpha's CU offset past cutab; goexit's file entry is Go's "no file". */
static void corruptCutab(Pb* pb, uint8_t* img, int ver) {
   putLE32(img + funcField(pb, ver, ALPHA, "cuOffset"), 1000);
   putLE32(img + funcField(pb, ver, BETA, "cuOffset"), UINT32_MAX);
   putLE32(img + funcField(pb, ver, GOEXIT, "cuOffset"), 4);
}

static void checkCutab(const Pclntab* t, const Pb* pb) {
   (void)pb;
   expectFileLine(t, ALPHA, 0, NULL, 0);
   expectFileLine(t, BETA, 0x15, NULL, 0);
   expectFileLine(t, GOEXIT, 0, NULL, 0);
   PclntabFrame fr[8];
   assert_int_equal(Pclntab_frames(t, ENTRY[BETA] + 0x25, fr, 8), 3);
   assert_null(fr[0].file);
   assert_int_equal(fr[0].line, 0);
   assert_string_equal(fr[0].function, "main.innermost");
}

static void test_cutabOutOfRange(void** state) {
   (void)state;
   forEachVersion(corruptCutab, checkCutab);
}

/* A CU slot just past cutab: the first bytes of filetab, read as a u32,
 * would be 4, the offset of "x.go". The slot must not be read at all. */
static void test_cutabEndsAtFiletab(void** state) {
   (void)state;
   static const char* const files[] = { "\x04", "", "", "x.go" };
   for (size_t v = 0; v < NVERSIONS; v++) {
      int ver = VERSIONS[v];
      PbSpec spec = pbStandard(ver);
      spec.files = files;
      spec.nfiles = 4;
      Pb pb = pbBuild(&spec);
      uint8_t* img = malloc(pb.size);
      memcpy(img, pb.data, pb.size);
      uint32_t slots = (uint32_t)((pb.filetabOff - pb.cuOff) / 4);
      assert_int_equal(slots, 5);
      putLE32(img + funcField(&pb, ver, ALPHA, "cuOffset"), slots);
      Pclntab t;
      PclntabConfig c = configFor(&pb);
      char err[256];
      assert_int_equal(Pclntab_open(&t, img, pb.size, &c, err, sizeof(err)), 0);
      expectFileLine(&t, ALPHA, 0, NULL, 0);
      free(img);
      pbFree(&pb);
   }
}

/* The last file name ("c.go") loses its NUL: it must not run into pctab. */
static void corruptFileNul(Pb* pb, uint8_t* img, int ver) {
   (void)ver;
   img[pb->pctabOff - 1] = 'X';
}

static void checkFileNul(const Pclntab* t, const Pb* pb) {
   (void)pb;
   expectFileLine(t, GOEXIT, 0, NULL, 0);
   expectFileLine(t, ALPHA, 0, "a.go", 10);
}

static void test_fileWithoutNul(void** state) {
   (void)state;
   forEachVersion(corruptFileNul, checkFileNul);
}

/* Every byte of every image set to a few values: open either fails cleanly
 * or every lookup stays inside the buffer (ASan/UBSan check the latter). */
static void test_everyByteCorrupted(void** state) {
   (void)state;
   for (size_t v = 0; v < NVERSIONS; v++) {
      PbSpec spec = pbStandard(VERSIONS[v]);
      Pb pb = pbBuild(&spec);
      uint8_t* img = malloc(pb.size);
      size_t opened = 0;
      for (size_t i = 0; i < pb.size; i++) {
         const uint8_t vals[] = { 0x00, 0xff, (uint8_t)(pb.data[i] ^ 0x80), (uint8_t)(pb.data[i] + 1) };
         for (size_t k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
            memcpy(img, pb.data, pb.size);
            img[i] = vals[k];
            Pclntab t;
            PclntabConfig c = configFor(&pb);
            char err[256];
            if (Pclntab_open(&t, img, pb.size, &c, err, sizeof(err)) == 0) {
               opened++;
               exerciseAll(&t);
            } else {
               assert_true(err[0] != '\0');
            }
         }
      }
      assert_true(opened > pb.size); /* most bytes are table contents */
      free(img);
      pbFree(&pb);
   }
}

/* ---- signature scan */

static void test_scan(void** state) {
   (void)state;
   for (size_t v = 0; v < NVERSIONS; v++) {
      PbSpec spec = pbStandard(VERSIONS[v]);
      spec.headerTextStart = 0; /* found without knowing the text start */
      Pb pb = pbBuild(&spec);
      size_t at = 96, size = at + pb.size + 40;
      uint8_t* seg = malloc(size);
      memset(seg, 0xff, size);
      /* a signature whose header does not parse, then an unaligned one */
      memcpy(seg + 8, pb.data, 8);
      memcpy(seg + 51, pb.data, 64);
      memcpy(seg + at, pb.data, pb.size);
      assert_int_equal(Pclntab_scan(seg, size), (long)at);
      Pclntab t;
      PclntabConfig c = configFor(&pb);
      c.textStart = PB_TEXT;
      char err[256];
      assert_int_equal(Pclntab_open(&t, seg + at, size - at, &c, err, sizeof(err)), 0);
      PclntabFrame fr[4];
      assert_int_equal(Pclntab_frames(&t, ENTRY[BETA] + 0x25, fr, 4), 3);
      /* Go 1.2-1.15 magic: not found. */
      seg[at] = 0xfb;
      assert_int_equal(Pclntab_scan(seg, size), -1);
      /* cut short: the table does not fit, not found */
      seg[at] = pb.data[0];
      assert_int_equal(Pclntab_scan(seg, at + pb.size - 1), -1);
      assert_int_equal(Pclntab_scan(seg, 7), -1);
      assert_int_equal(Pclntab_scan(seg, 0), -1);
      assert_int_equal(Pclntab_scan(NULL, 100), -1);
      free(seg);
      pbFree(&pb);
   }
}

/* Decoys whose headers parse but whose function tables do not validate cost
 * a scan of the function table each: a hostile segment full of them must
 * not make the scan quadratic. The first 16 such candidates are checked. */
static void test_scanBoundsDecoys(void** state) {
   (void)state;
   PbSpec spec = pbStandard(118);
   Pb pb = pbBuild(&spec);
   uint8_t* decoy = malloc(pb.size);
   memcpy(decoy, pb.data, pb.size);
   putLE32(decoy + pcField(&pb, 118, 1), 0xd0); /* unsorted */
   size_t stride = (pb.size + 7) & ~(size_t)7;
   for (size_t decoys = 15; decoys <= 16; decoys++) {
      size_t size = stride * (decoys + 1);
      uint8_t* seg = calloc(1, size);
      for (size_t k = 0; k < decoys; k++)
         memcpy(seg + k * stride, decoy, pb.size);
      memcpy(seg + decoys * stride, pb.data, pb.size);
      long want = decoys < 16 ? (long)(decoys * stride) : -1;
      assert_int_equal(Pclntab_scan(seg, size), want);
      free(seg);
   }
   /* Signatures whose headers do not parse are cheap and not counted. */
   size_t size = 8 * 1000 + pb.size;
   uint8_t* seg = calloc(1, size);
   for (size_t k = 0; k < 1000; k++)
      memcpy(seg + 8 * k, pb.data, 8);
   memcpy(seg + 8 * 1000, pb.data, pb.size);
   assert_int_equal(Pclntab_scan(seg, size), 8 * 1000);
   free(seg);
   free(decoy);
   pbFree(&pb);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_openEachFormat),
      cmocka_unit_test(test_findAndFunc),
      cmocka_unit_test(test_findByName),
      cmocka_unit_test(test_values),
      cmocka_unit_test(test_fileLine),
      cmocka_unit_test(test_framesInlineExpansion),
      cmocka_unit_test(test_framesWithoutInlineTree),
      cmocka_unit_test(test_textStartFromConfig),
      cmocka_unit_test(test_refusedMagics),
      cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_unsortedFunctab),
      cmocka_unit_test(test_funcoffOutOfRange),
      cmocka_unit_test(test_headerCounts),
      cmocka_unit_test(test_subTableOffsets),
      cmocka_unit_test(test_varintRunsOffTheTable),
      cmocka_unit_test(test_nameWithoutNul),
      cmocka_unit_test(test_inlineCycle),
      cmocka_unit_test(test_inlineParentOutsideFunction),
      cmocka_unit_test(test_inlineIndexOutOfRange),
      cmocka_unit_test(test_npcdataHuge),
      cmocka_unit_test(test_cutabOutOfRange),
      cmocka_unit_test(test_cutabEndsAtFiletab),
      cmocka_unit_test(test_fileWithoutNul),
      cmocka_unit_test(test_everyByteCorrupted),
      cmocka_unit_test(test_scan),
      cmocka_unit_test(test_scanBoundsDecoys),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
