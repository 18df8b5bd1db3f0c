/* Test-only: builds a Go pclntab byte image by hand, in any of the three
 * formats Pclntab reads (Go 1.16, 1.18, 1.20 layouts), from a small
 * description of functions, pc-value tables and an inline tree. Used by
 * tests/unit/test_pclntab.c (exact answers, corrupted variants) and by
 * tests/tools/pclntab_seeds.c (fuzz seeds). Everything is written here by
 * the test, independently of src/go/Pclntab.c; offsets of every part are
 * returned so tests can corrupt them precisely.
 *
 * Layout (as Go's linker writes it): header, funcnametab, cutab, filetab,
 * pctab, then the pclntable: functab ({pc, funcoff} pairs and the end pc)
 * followed by the 8-aligned _func records with their pcdata and funcdata
 * arrays. The inline trees go into a separate "memory" image at memBase,
 * served through a PclntabReadFn, as go:func.* data is outside the table. */
#ifndef TESTS_PCLNTAB_BUILD_H
#define TESTS_PCLNTAB_BUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { PB_MAX_FUNCS = 16, PB_MAX_INL = 16, PB_MAX_NAMES = 64 };

/* value holds for pcs below entry + end (and from the previous pair's end). */
typedef struct PbPair_ {
   int32_t value;
   uint32_t end;
} PbPair;

typedef struct PbTable_ {
   const PbPair* pairs;
   size_t n; /* 0: no table (offset 0) */
} PbTable;

typedef struct PbInl_ {
   const char* name;
   int32_t parentPc;
   uint8_t funcID;
} PbInl;

typedef struct PbFunc_ {
   const char* name;
   uint32_t off; /* entry - textStart */
   PbTable sp, file, line, inl;
   uint32_t cuOffset;
   int32_t startLine; /* written in the 1.20 layout only */
   uint8_t funcID, flag;
   const PbInl* tree; /* inline tree (needs inl) */
   size_t ntree;
} PbFunc;

typedef struct PbSpec_ {
   int version; /* 116, 118, 120 */
   uint64_t textStart;
   uint64_t headerTextStart; /* 118/120: what the header says (0 like Go 1.26+) */
   uint32_t textEnd;         /* end pc - textStart */
   const PbFunc* funcs;
   size_t nfunc;
   const uint32_t* cutab;
   size_t ncu;
   const char* const* files; /* filetab strings in order */
   size_t nfiles;
   uint64_t memBase; /* where the inline trees live */
   uint64_t gofunc;  /* 1.18+: base of funcdata offsets; 0 = memBase */
} PbSpec;

typedef struct Pb_ {
   uint8_t* data; /* malloc'd to exactly size: ASan catches any overread */
   size_t size;
   uint8_t* mem;
   size_t memSize;
   uint64_t memBase;
   size_t hdrSize, funcnameOff, cuOff, filetabOff, pctabOff, pclnOff;
   size_t functabOff;               /* == pclnOff */
   size_t funcRec[PB_MAX_FUNCS];    /* absolute offset of each _func */
   size_t nameOff[PB_MAX_FUNCS];    /* nameoff of each function */
   uint32_t inlTable[PB_MAX_FUNCS]; /* pctab offset of each pcdata[2] table */
   size_t treeOff[PB_MAX_FUNCS];    /* offset of each tree inside mem */
   size_t fileOff[8];               /* filetab offset of each file */
   size_t lastNameEnd;              /* offset of the last name's NUL in data */
} Pb;

typedef struct PbBuf_ {
   uint8_t* b;
   size_t len, cap;
} PbBuf;

static inline void pbReserve(PbBuf* buf, size_t n) {
   if (buf->len + n <= buf->cap)
      return;
   buf->cap = (buf->len + n) * 2 + 64;
   buf->b = realloc(buf->b, buf->cap);
   if (!buf->b)
      abort();
}

static inline size_t pbPut(PbBuf* buf, const void* p, size_t n) {
   pbReserve(buf, n);
   size_t at = buf->len;
   if (n)
      memcpy(buf->b + at, p, n);
   buf->len += n;
   return at;
}

static inline size_t pbU8(PbBuf* buf, uint8_t v) {
   return pbPut(buf, &v, 1);
}

static inline size_t pbU32(PbBuf* buf, uint32_t v) {
   uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
   return pbPut(buf, b, 4);
}

static inline size_t pbU64(PbBuf* buf, uint64_t v) {
   size_t at = pbU32(buf, (uint32_t)v);
   pbU32(buf, (uint32_t)(v >> 32));
   return at;
}

static inline void pbAlign(PbBuf* buf, size_t a) {
   while (buf->len % a)
      pbU8(buf, 0);
}

static inline void pbVarint(PbBuf* buf, uint32_t v) {
   while (v >= 0x80) {
      pbU8(buf, (uint8_t)(v | 0x80));
      v >>= 7;
   }
   pbU8(buf, (uint8_t)v);
}

/* Go's pc-value encoding: zigzag value deltas from -1, pc deltas from 0,
 * a 0 value delta after the first pair ends the table. Returns its offset. */
static inline uint32_t pbTable(PbBuf* pctab, PbTable t) {
   if (t.n == 0)
      return 0;
   uint32_t at = (uint32_t)pctab->len;
   int32_t val = -1;
   uint32_t pc = 0;
   for (size_t i = 0; i < t.n; i++) {
      uint32_t d = (uint32_t)t.pairs[i].value - (uint32_t)val;
      pbVarint(pctab, (d << 1) ^ (uint32_t)((int32_t)d >> 31));
      pbVarint(pctab, t.pairs[i].end - pc);
      val = t.pairs[i].value;
      pc = t.pairs[i].end;
   }
   pbU8(pctab, 0);
   return at;
}

static inline void pbPutLE64(uint8_t* p, uint64_t v) {
   for (int i = 0; i < 8; i++)
      p[i] = (uint8_t)(v >> (8 * i));
}

static inline void pbPutLE32(uint8_t* p, uint32_t v) {
   for (int i = 0; i < 4; i++)
      p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t pbName(PbBuf* names, const char* name) {
   return (uint32_t)pbPut(names, name, strlen(name) + 1);
}

static inline void pbWriteFunc(Pb* pb, PbBuf* pcln, const PbSpec* s, size_t i, const uint32_t* tabs,
                               uint64_t treeAddr) {
   const PbFunc* f = &s->funcs[i];
   bool hasTree = f->inl.n > 0;
   /* Four pcdata slots: in the 1.16 layout the uintptr funcdata then needs
    * 4 bytes of alignment padding (44 + 16 = 60), which the reader must skip. */
   uint32_t npcdata = hasTree ? 4 : 0;
   uint8_t nfuncdata = hasTree ? 4 : 0;
   pbAlign(pcln, 8);
   pb->funcRec[i] = pcln->len;
   if (s->version == 116)
      pbU64(pcln, s->textStart + f->off);
   else
      pbU32(pcln, f->off);
   pbU32(pcln, (uint32_t)pb->nameOff[i]);
   pbU32(pcln, 0); /* args */
   pbU32(pcln, 0); /* deferreturn */
   pbU32(pcln, tabs[0]);
   pbU32(pcln, tabs[1]);
   pbU32(pcln, tabs[2]);
   pbU32(pcln, npcdata);
   pbU32(pcln, f->cuOffset);
   if (s->version == 120)
      pbU32(pcln, (uint32_t)f->startLine);
   pbU8(pcln, f->funcID);
   pbU8(pcln, s->version == 116 ? 0 : f->flag);
   pbU8(pcln, 0);
   pbU8(pcln, nfuncdata);
   if (!hasTree)
      return;
   pbU32(pcln, 0);
   pbU32(pcln, 0);
   pbU32(pcln, tabs[3]);
   pbU32(pcln, 0);
   if (s->version == 116) {
      /* uintptr funcdata, 8-aligned (pcln starts at an 8-aligned offset) */
      pbAlign(pcln, 8);
      for (int k = 0; k < 3; k++)
         pbU64(pcln, 0);
      pbU64(pcln, treeAddr);
   } else {
      for (int k = 0; k < 3; k++)
         pbU32(pcln, 0xffffffffu);
      pbU32(pcln, (uint32_t)(treeAddr - (s->gofunc ? s->gofunc : s->memBase)));
   }
}

/* Builds the image; free with pbFree. */
static inline Pb pbBuild(const PbSpec* s) {
   Pb pb = { .memBase = s->memBase };
   PbBuf names = { 0 }, cu = { 0 }, files = { 0 }, pctab = { 0 }, mem = { 0 }, pcln = { 0 };
   for (size_t i = 0; i < s->nfunc; i++)
      pb.nameOff[i] = pbName(&names, s->funcs[i].name);
   uint32_t inlName[PB_MAX_FUNCS][PB_MAX_INL];
   for (size_t i = 0; i < s->nfunc; i++)
      for (size_t k = 0; k < s->funcs[i].ntree; k++)
         inlName[i][k] = pbName(&names, s->funcs[i].tree[k].name);
   for (size_t i = 0; i < s->ncu; i++)
      pbU32(&cu, s->cutab[i]);
   for (size_t i = 0; i < s->nfiles; i++)
      pb.fileOff[i] = pbName(&files, s->files[i]);
   /* pctab: offset 0 means "no table"; zeros after it so that pctab ends
    * where the 8-aligned pclntable starts (its last byte is then the last
    * table's terminator, which the runaway-varint test relies on). */
   uint32_t tabs[PB_MAX_FUNCS][4];
   size_t pctabStart = (s->version == 116 ? 0x40 : 0x48) + names.len + cu.len + files.len;
   size_t lead = 1;
   for (int pass = 0; pass < 2; pass++) {
      pctab.len = 0;
      for (size_t k = 0; k < lead; k++)
         pbU8(&pctab, 0);
      for (size_t i = 0; i < s->nfunc; i++) {
         const PbFunc* f = &s->funcs[i];
         tabs[i][0] = pbTable(&pctab, f->sp);
         tabs[i][1] = pbTable(&pctab, f->file);
         tabs[i][2] = pbTable(&pctab, f->line);
         tabs[i][3] = pbTable(&pctab, f->inl);
         pb.inlTable[i] = tabs[i][3];
      }
      lead += (8 - (pctabStart + pctab.len) % 8) % 8;
   }
   /* Inline trees in memory: 20-byte (1.16/1.18) or 16-byte (1.20) calls. */
   uint64_t treeAddr[PB_MAX_FUNCS] = { 0 };
   pbU64(&mem, 0x5a5a5a5a5a5a5a5aull); /* something before the first tree */
   for (size_t i = 0; i < s->nfunc; i++) {
      if (!s->funcs[i].ntree)
         continue;
      pbAlign(&mem, 8);
      pb.treeOff[i] = mem.len;
      treeAddr[i] = s->memBase + mem.len;
      for (size_t k = 0; k < s->funcs[i].ntree; k++) {
         const PbInl* c = &s->funcs[i].tree[k];
         if (s->version == 120) {
            pbU8(&mem, c->funcID);
            pbU8(&mem, 0), pbU8(&mem, 0), pbU8(&mem, 0);
            pbU32(&mem, inlName[i][k]);
            pbU32(&mem, (uint32_t)c->parentPc);
            pbU32(&mem, 1); /* startLine */
         } else {
            pbU8(&mem, 0xff), pbU8(&mem, 0xff); /* parent -1 */
            pbU8(&mem, c->funcID);
            pbU8(&mem, 0);
            pbU32(&mem, 0); /* file */
            pbU32(&mem, 0); /* line */
            pbU32(&mem, inlName[i][k]);
            pbU32(&mem, (uint32_t)c->parentPc);
         }
      }
   }
   /* pclntable: functab then _func records. */
   size_t field = s->version == 116 ? 8 : 4;
   size_t functabSize = (2 * s->nfunc + 1) * field;
   pbReserve(&pcln, functabSize);
   memset(pcln.b, 0, functabSize);
   pcln.len = functabSize;
   for (size_t i = 0; i < s->nfunc; i++)
      pbWriteFunc(&pb, &pcln, s, i, tabs[i], treeAddr[i]);
   for (size_t i = 0; i < s->nfunc; i++) {
      uint8_t* e = pcln.b + i * 2 * field;
      if (field == 8) {
         pbPutLE64(e, s->textStart + s->funcs[i].off);
         pbPutLE64(e + 8, pb.funcRec[i]);
      } else {
         pbPutLE32(e, s->funcs[i].off);
         pbPutLE32(e + 4, (uint32_t)pb.funcRec[i]);
      }
   }
   uint8_t* last = pcln.b + s->nfunc * 2 * field;
   if (field == 8)
      pbPutLE64(last, s->textStart + s->textEnd);
   else
      pbPutLE32(last, s->textEnd);
   /* The whole image: header, then the tables in the linker's order. */
   PbBuf out = { 0 };
   pbU32(&out, s->version == 116 ? 0xfffffffau : s->version == 118 ? 0xfffffff0u : 0xfffffff1u);
   pbU8(&out, 0), pbU8(&out, 0), pbU8(&out, 1), pbU8(&out, 8);
   pbU64(&out, s->nfunc);
   pbU64(&out, s->nfiles);
   if (s->version != 116)
      pbU64(&out, s->headerTextStart);
   size_t offsetsAt = out.len;
   for (int k = 0; k < 5; k++)
      pbU64(&out, 0);
   pb.hdrSize = out.len;
   pb.funcnameOff = pbPut(&out, names.b, names.len);
   pb.lastNameEnd = pb.funcnameOff + names.len - 1;
   pb.cuOff = pbPut(&out, cu.b, cu.len);
   pb.filetabOff = pbPut(&out, files.b, files.len);
   pb.pctabOff = pbPut(&out, pctab.b, pctab.len);
   pbAlign(&out, 8);
   pb.pclnOff = pb.functabOff = pbPut(&out, pcln.b, pcln.len);
   size_t offs[5] = { pb.funcnameOff, pb.cuOff, pb.filetabOff, pb.pctabOff, pb.pclnOff };
   for (int k = 0; k < 5; k++)
      pbPutLE64(out.b + offsetsAt + 8 * k, offs[k]);
   for (size_t i = 0; i < s->nfunc; i++)
      pb.funcRec[i] += pb.pclnOff;
   pb.size = out.len;
   pb.data = malloc(pb.size);
   memcpy(pb.data, out.b, pb.size);
   pb.memSize = mem.len;
   pb.mem = malloc(pb.memSize);
   memcpy(pb.mem, mem.b, pb.memSize);
   free(names.b), free(cu.b), free(files.b), free(pctab.b), free(mem.b), free(pcln.b), free(out.b);
   return pb;
}

static inline void pbFree(Pb* pb) {
   free(pb->data);
   free(pb->mem);
   *pb = (Pb){ 0 };
}

/* A PclntabReadFn over pb->mem (ctx is the Pb). */
static inline const uint8_t* pbRead(void* ctx, uint64_t vaddr, size_t len) {
   const Pb* pb = ctx;
   if (vaddr < pb->memBase || vaddr - pb->memBase > pb->memSize || len > pb->memSize - (vaddr - pb->memBase))
      return NULL;
   return pb->mem + (vaddr - pb->memBase);
}

/* ---- the program every test table describes (the same in all formats)
 *
 *  text 0x401000:
 *   0x000 main.alpha       sp 0/8/0, file a.go, lines 10/11/12, startLine 9
 *   0x040 main.beta        inlined: innermost (b.go:7) <- inner (b.go:5) <- beta (a.go:22)
 *   0x0a0 main.(*T).gamma  no tables at all, flag ASM
 *   0x0c0 runtime.goexit   c.go:100, funcID 7, TOPFRAME, startLine 99
 *   0x0e0 end of text */
#define PB_TEXT 0x401000ull
#define PB_GOFUNC 0x700000ull

static const PbPair PB_ALPHA_SP[] = { { 0, 4 }, { 8, 0x38 }, { 0, 0x40 } };
static const PbPair PB_ALPHA_FILE[] = { { 0, 0x40 } };
static const PbPair PB_ALPHA_LINE[] = { { 10, 0x10 }, { 11, 0x20 }, { 12, 0x40 } };
static const PbPair PB_BETA_SP[] = { { 0, 8 }, { 24, 0x60 } };
static const PbPair PB_BETA_FILE[] = { { 0, 0x10 }, { 1, 0x30 }, { 0, 0x60 } };
static const PbPair PB_BETA_LINE[] = { { 20, 0x10 }, { 5, 0x20 }, { 7, 0x30 }, { 22, 0x60 } };
static const PbPair PB_BETA_INL[] = { { -1, 0x10 }, { 0, 0x20 }, { 1, 0x30 }, { -1, 0x60 } };
static const PbInl PB_BETA_TREE[] = {
   { .name = "main.inner", .parentPc = 0x30, .funcID = 0 },
   { .name = "main.innermost", .parentPc = 0x18, .funcID = 21 },
};
static const PbPair PB_GOEXIT_SP[] = { { 0, 0x10 } };
static const PbPair PB_GOEXIT_FILE[] = { { 0, 0x10 } };
static const PbPair PB_GOEXIT_LINE[] = { { 100, 0x10 } };

#define PB_T(a)                                                                                                        \
   { .pairs = (a), .n = sizeof(a) / sizeof((a)[0]) }

static const PbFunc PB_FUNCS[] = {
   { .name = "main.alpha",
     .off = 0x000,
     .sp = PB_T(PB_ALPHA_SP),
     .file = PB_T(PB_ALPHA_FILE),
     .line = PB_T(PB_ALPHA_LINE),
     .cuOffset = 0,
     .startLine = 9 },
   { .name = "main.beta",
     .off = 0x040,
     .sp = PB_T(PB_BETA_SP),
     .file = PB_T(PB_BETA_FILE),
     .line = PB_T(PB_BETA_LINE),
     .inl = PB_T(PB_BETA_INL),
     .tree = PB_BETA_TREE,
     .ntree = 2,
     .cuOffset = 0,
     .startLine = 19 },
   { .name = "main.(*T).gamma", .off = 0x0a0, .flag = 4, .cuOffset = 2 },
   { .name = "runtime.goexit",
     .off = 0x0c0,
     .sp = PB_T(PB_GOEXIT_SP),
     .file = PB_T(PB_GOEXIT_FILE),
     .line = PB_T(PB_GOEXIT_LINE),
     .cuOffset = 2,
     .startLine = 99,
     .funcID = 7,
     .flag = 1 },
};
/* CU 0: a.go, b.go; CU 1 (offset 2): c.go, b.go, no file. */
static const uint32_t PB_CUTAB[] = { 0, 5, 10, 5, 0xffffffffu };
static const char* const PB_FILES[] = { "a.go", "b.go", "c.go" };

static inline PbSpec pbStandard(int version) {
   return (PbSpec){
      .version = version,
      .textStart = PB_TEXT,
      .headerTextStart = version == 116 ? 0 : PB_TEXT,
      .textEnd = 0x0e0,
      .funcs = PB_FUNCS,
      .nfunc = sizeof(PB_FUNCS) / sizeof(PB_FUNCS[0]),
      .cutab = PB_CUTAB,
      .ncu = sizeof(PB_CUTAB) / sizeof(PB_CUTAB[0]),
      .files = PB_FILES,
      .nfiles = 3,
      .memBase = PB_GOFUNC,
   };
}

#endif
