/* Go's pclntab, read as runtime/symtab.go reads it, from an untrusted
 * buffer. Every read goes through rd32/rd64 after a range check with
 * overflow-safe arithmetic; the buffer need not be aligned. Nothing here
 * allocates or keeps state after Pclntab_open, so lookups are thread-safe. */
#include "stacktop/Pclntab.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum {
   MAGIC_GO12 = 0xfffffffbu,
   MAGIC_GO116 = 0xfffffffau,
   MAGIC_GO118 = 0xfffffff0u,
   MAGIC_GO120 = 0xfffffff1u,
   HEADER_SIZE_116 = 0x40, /* magic word + 7 words */
   HEADER_SIZE_118 = 0x48, /* magic word + 8 words (textStart added) */
   FUNC_SIZE_116 = 44,
   FUNC_SIZE_118 = 40,
   FUNC_SIZE_120 = 44, /* startLine added */
   INLCALL_SIZE_116 = 20,
   INLCALL_SIZE_120 = 16,
   NO_FUNCDATA = 0xffffffffu, /* a 1.18+ funcdata offset meaning "none" */
   NO_FILE = 0xffffffffu,     /* a cutab entry meaning "no file" */
};

/* Longest name read (Go 1.21+ generic instantiations run to a few KiB). */
#define MAX_NAME_LEN (64u << 10)
/* Inline depth followed; Go's own trees are a few levels, a cycle stops here. */
#define MAX_INLINE_DEPTH 64
/* Steps pcvalue may take beyond the bytes of code it walks over: real tables
 * advance the pc on every pair, so this only bounds hostile zero-delta runs. */
#define PCVALUE_SLACK_STEPS 256
/* Inline tree indexes beyond this are corrupt (trees hold hundreds at most). */
#define MAX_INLINE_INDEX (1u << 24)
/* Signature hits with a parsing header whose function table Pclntab_scan checks. */
#define MAX_SCAN_CANDIDATES 16

/* ---- bounds-checked little-endian reads from the buffer */

static bool rangeOk(const Pclntab* this, uint64_t off, uint64_t len) {
   return off <= this->size && len <= this->size - off;
}

static uint32_t le32(const uint8_t* p) {
   return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t* p) {
   return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static bool rd32(const Pclntab* this, uint64_t off, uint32_t* v) {
   if (!rangeOk(this, off, 4))
      return false;
   *v = le32(this->data + off);
   return true;
}

static bool rd64(const Pclntab* this, uint64_t off, uint64_t* v) {
   if (!rangeOk(this, off, 8))
      return false;
   *v = le64(this->data + off);
   return true;
}

/* A NUL-terminated string at index inside [tabOff, tabOff + tabSize), or NULL. */
static const char* stringAt(const Pclntab* this, uint64_t tabOff, uint64_t tabSize, uint64_t index) {
   if (index >= tabSize)
      return NULL;
   const uint8_t* s = this->data + tabOff + index;
   uint64_t room = tabSize - index;
   if (room > MAX_NAME_LEN + 1)
      room = MAX_NAME_LEN + 1;
   return memchr(s, '\0', (size_t)room) ? (const char*)s : NULL;
}

/* ---- the function table */

static uint64_t functabEntrySize(const Pclntab* this) {
   return this->version == PCLNTAB_GO116 ? 16 : 8;
}

static uint64_t funcRecordSize(const Pclntab* this) {
   switch (this->version) {
   case PCLNTAB_GO116: return FUNC_SIZE_116;
   case PCLNTAB_GO118: return FUNC_SIZE_118;
   case PCLNTAB_GO120: return FUNC_SIZE_120;
   }
   return FUNC_SIZE_120;
}

/* nfunc {pc, funcoff} pairs and the end pc: (2 * nfunc + 1) fields. */
static uint64_t functabBytes(const Pclntab* this) {
   return ((uint64_t)this->nfunc * 2 + 1) * (functabEntrySize(this) / 2);
}

/* The pc field of functab entry i (0 <= i <= nfunc; i == nfunc is the end). */
static uint64_t functabPc(const Pclntab* this, uint32_t i) {
   if (this->version == PCLNTAB_GO116)
      return le64(this->data + this->pclnOff + (uint64_t)i * 16);
   return this->textStart + le32(this->data + this->pclnOff + (uint64_t)i * 8);
}

/* The funcoff field of entry i < nfunc: where its _func starts, from pclnOff. */
static uint64_t functabFuncoff(const Pclntab* this, uint32_t i) {
   if (this->version == PCLNTAB_GO116)
      return le64(this->data + this->pclnOff + (uint64_t)i * 16 + 8);
   return le32(this->data + this->pclnOff + (uint64_t)i * 8 + 4);
}

/* Field offsets inside a _func record, by version (runtime2.go `_func`). */
typedef struct FuncLayout_ {
   uint32_t nameoff, pcsp, pcfile, pcln, npcdata, cuOffset, startLine, funcID, flag, nfuncdata;
} FuncLayout;

static const FuncLayout LAYOUT_116 = {
   .nameoff = 8,
   .pcsp = 20,
   .pcfile = 24,
   .pcln = 28,
   .npcdata = 32,
   .cuOffset = 36,
   .startLine = 0,
   .funcID = 40,
   .flag = 41,
   .nfuncdata = 43,
};
static const FuncLayout LAYOUT_118 = {
   .nameoff = 4,
   .pcsp = 16,
   .pcfile = 20,
   .pcln = 24,
   .npcdata = 28,
   .cuOffset = 32,
   .startLine = 0,
   .funcID = 36,
   .flag = 37,
   .nfuncdata = 39,
};
static const FuncLayout LAYOUT_120 = {
   .nameoff = 4,
   .pcsp = 16,
   .pcfile = 20,
   .pcln = 24,
   .npcdata = 28,
   .cuOffset = 32,
   .startLine = 36,
   .funcID = 40,
   .flag = 41,
   .nfuncdata = 43,
};

static const FuncLayout* funcLayout(const Pclntab* this) {
   switch (this->version) {
   case PCLNTAB_GO116: return &LAYOUT_116;
   case PCLNTAB_GO118: return &LAYOUT_118;
   case PCLNTAB_GO120: return &LAYOUT_120;
   }
   return &LAYOUT_120;
}

static const char* funcName(const Pclntab* this, uint32_t nameoff) {
   return stringAt(this, this->funcnameOff, this->funcnameSize, nameoff);
}

/* Pclntab_open validated that every record's fixed part is inside the table. */
static void readFunc(const Pclntab* this, uint32_t i, PclntabFunc* out) {
   const FuncLayout* l = funcLayout(this);
   uint64_t rec = this->pclnOff + functabFuncoff(this, i);
   const uint8_t* p = this->data + rec;
   *out = (PclntabFunc){
      .entry = functabPc(this, i),
      .end = functabPc(this, i + 1),
      .index = i,
      .name = funcName(this, le32(p + l->nameoff)),
      .pcsp = le32(p + l->pcsp),
      .pcfile = le32(p + l->pcfile),
      .pcln = le32(p + l->pcln),
      .cuOffset = le32(p + l->cuOffset),
      .startLine = l->startLine ? (int32_t)le32(p + l->startLine) : 0,
      .funcID = p[l->funcID],
      /* 1.16 has padding where 1.17 put the flag byte; it is zero there. */
      .flag = p[l->flag],
      .npcdata = le32(p + l->npcdata),
      .nfuncdata = p[l->nfuncdata],
      .funcOffset = (uint32_t)rec,
   };
}

/* ---- Pclntab_open */

static int fail(char* err, size_t errSize, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char* err, size_t errSize, const char* fmt, ...) {
   va_list ap;
   va_start(ap, fmt);
   if (err && errSize > 0)
      vsnprintf(err, errSize, fmt, ap);
   va_end(ap);
   return -1;
}

static int readMagic(Pclntab* this, char* err, size_t errSize) {
   if (this->size < 8)
      return fail(err, errSize, "pclntab too small for a header (%zu bytes)", this->size);
   uint32_t magic = le32(this->data);
   switch (magic) {
   case MAGIC_GO116: this->version = PCLNTAB_GO116; break;
   case MAGIC_GO118: this->version = PCLNTAB_GO118; break;
   case MAGIC_GO120: this->version = PCLNTAB_GO120; break;
   case MAGIC_GO12:
      return fail(err, errSize, "pclntab magic 0x%08" PRIx32 " is Go 1.2-1.15: not supported (Go 1.16 and later are)",
                  magic);
   default:
      return fail(err, errSize,
                  "pclntab magic 0x%08" PRIx32 " is not a Go 1.16+ symbol table (known: 0xfffffffa Go 1.16-1.17, "
                  "0xfffffff0 Go 1.18-1.19, 0xfffffff1 Go 1.20+)",
                  magic);
   }
   if (this->data[4] != 0 || this->data[5] != 0)
      return fail(err, errSize, "pclntab header padding is not zero");
   if (this->data[6] != 1 || this->data[7] != 8)
      return fail(err, errSize, "pclntab pc quantum %u / pointer size %u: only amd64 (1 / 8) is supported",
                  this->data[6], this->data[7]);
   return 0;
}

/* The five sub-tables lie in this order (the linker's layout since 1.16);
 * each one's size is the distance to the next, the last runs to the end. */
static int readOffsets(Pclntab* this, bool allowZeroText, uint64_t textStart, char* err, size_t errSize) {
   bool go116 = this->version == PCLNTAB_GO116;
   uint64_t hdrSize = go116 ? HEADER_SIZE_116 : HEADER_SIZE_118;
   if (this->size < hdrSize)
      return fail(err, errSize, "pclntab header truncated: %zu of %" PRIu64 " bytes", this->size, hdrSize);
   uint64_t nfunc = le64(this->data + 8), nfiles = le64(this->data + 16);
   /* Each function takes at least one functab entry and one _func record. */
   if (nfunc == 0 || nfunc > (this->size - hdrSize) / (functabEntrySize(this) + funcRecordSize(this)))
      return fail(err, errSize, "pclntab function count %" PRIu64 " impossible in %zu bytes", nfunc, this->size);
   if (nfiles > this->size)
      return fail(err, errSize, "pclntab file count %" PRIu64 " impossible in %zu bytes", nfiles, this->size);
   this->nfunc = (uint32_t)nfunc;
   this->nfiles = (uint32_t)nfiles;
   /* 1.16: the offsets follow nfiles; 1.18+: they follow textStart. */
   const uint8_t* w = this->data + (go116 ? 24 : 32);
   if (!go116) {
      uint64_t header = le64(this->data + 24);
      this->textStart = textStart ? textStart : header;
      if (this->textStart == 0 && !allowZeroText)
         return fail(err, errSize, "pclntab header has textStart 0 (Go 1.26+): the caller must pass moduledata.text");
   }
   uint64_t off[5];
   for (int i = 0; i < 5; i++)
      off[i] = le64(w + 8 * i);
   uint64_t prev = hdrSize;
   for (int i = 0; i < 5; i++) {
      if (off[i] < prev || off[i] > this->size)
         return fail(err, errSize, "pclntab sub-table offset 0x%" PRIx64 " out of order or past the end (%zu bytes)",
                     off[i], this->size);
      prev = off[i];
   }
   this->funcnameOff = off[0], this->funcnameSize = off[1] - off[0];
   this->cuOff = off[1], this->cuSize = off[2] - off[1];
   this->filetabOff = off[2], this->filetabSize = off[3] - off[2];
   this->pctabOff = off[3], this->pctabSize = off[4] - off[3];
   this->pclnOff = off[4], this->pclnSize = this->size - off[4];
   return 0;
}

/* Sorted entries (equal ones allowed: Go's findfunc takes the last), every
 * _func's fixed part inside the table and past the functab itself. */
static int checkFunctab(Pclntab* this, char* err, size_t errSize) {
   uint64_t tabBytes = functabBytes(this);
   if (tabBytes > this->pclnSize)
      return fail(err, errSize, "pclntab function table (%" PRIu64 " bytes) out of bounds (%" PRIu64 " bytes left)",
                  tabBytes, this->pclnSize);
   uint64_t recSize = funcRecordSize(this);
   uint64_t prev = functabPc(this, 0);
   for (uint32_t i = 0; i < this->nfunc; i++) {
      uint64_t pc = functabPc(this, i + 1);
      if (pc < prev)
         return fail(err, errSize, "pclntab function table not sorted at entry %" PRIu32 " (pc 0x%" PRIx64 ")", i + 1,
                     pc);
      prev = pc;
      uint64_t funcoff = functabFuncoff(this, i);
      if (funcoff < tabBytes || funcoff > this->pclnSize || recSize > this->pclnSize - funcoff)
         return fail(err, errSize, "pclntab function %" PRIu32 ": record offset 0x%" PRIx64 " out of bounds", i,
                     funcoff);
   }
   this->textEnd = prev;
   if (this->version == PCLNTAB_GO116)
      this->textStart = functabPc(this, 0);
   return 0;
}

/* The cheap part of opening: magic, header and sub-table offsets. */
static int openHeader(Pclntab* this, const uint8_t* data, size_t size, const PclntabConfig* config, bool allowZeroText,
                      char* err, size_t errSize) {
   *this = (Pclntab){ .data = data, .size = size };
   if (config)
      this->config = *config;
   if (!data)
      return fail(err, errSize, "pclntab: no data");
   if (readMagic(this, err, errSize) < 0 ||
       readOffsets(this, allowZeroText, this->config.textStart, err, errSize) < 0) {
      *this = (Pclntab){ 0 };
      return -1;
   }
   return 0;
}

int Pclntab_open(Pclntab* this, const uint8_t* data, size_t size, const PclntabConfig* config, char* err,
                 size_t errSize) {
   if (openHeader(this, data, size, config, false, err, errSize) < 0)
      return -1;
   if (checkFunctab(this, err, errSize) < 0) {
      *this = (Pclntab){ 0 };
      return -1;
   }
   return 0;
}

/* ---- function lookups */

bool Pclntab_func(const Pclntab* this, uint32_t i, PclntabFunc* out) {
   if (!this->data || i >= this->nfunc)
      return false;
   readFunc(this, i, out);
   return true;
}

bool Pclntab_find(const Pclntab* this, uint64_t pc, PclntabFunc* out) {
   if (!this->data || pc < functabPc(this, 0) || pc >= this->textEnd)
      return false;
   /* The last entry at or below pc; functabPc(0) <= pc < functabPc(nfunc). */
   uint32_t lo = 0, hi = this->nfunc;
   while (hi - lo > 1) {
      uint32_t mid = lo + (hi - lo) / 2;
      if (functabPc(this, mid) <= pc)
         lo = mid;
      else
         hi = mid;
   }
   readFunc(this, lo, out);
   return true;
}

bool Pclntab_findByName(const Pclntab* this, const char* name, PclntabFunc* out) {
   if (!this->data || !name)
      return false;
   const FuncLayout* l = funcLayout(this);
   for (uint32_t i = 0; i < this->nfunc; i++) {
      const uint8_t* rec = this->data + this->pclnOff + functabFuncoff(this, i);
      const char* s = funcName(this, le32(rec + l->nameoff));
      if (s && strcmp(s, name) == 0) {
         readFunc(this, i, out);
         return true;
      }
   }
   return false;
}

/* ---- pcvalue tables */

/* Go's readvarint: at most 5 bytes for a uint32, all inside [*p, end). */
static bool readVarint(const uint8_t** p, const uint8_t* end, uint32_t* v) {
   uint64_t value = 0;
   for (unsigned shift = 0; shift < 35; shift += 7) {
      if (*p >= end)
         return false;
      uint8_t b = *(*p)++;
      value |= (uint64_t)(b & 0x7f) << shift;
      if (!(b & 0x80)) {
         *v = (uint32_t)value;
         return true;
      }
   }
   return false;
}

bool Pclntab_value(const Pclntab* this, const PclntabFunc* f, uint32_t table, uint64_t pc, int32_t* value) {
   if (!this->data || !f || table == 0 || table >= this->pctabSize)
      return false;
   const uint8_t* p = this->data + this->pctabOff + table;
   const uint8_t* end = this->data + this->pctabOff + this->pctabSize;
   uint64_t cur = f->entry;
   uint32_t val = (uint32_t)-1; /* unsigned: a hostile sum wraps instead of overflowing */
   uint64_t span = pc > f->entry ? pc - f->entry : 0;
   uint64_t maxSteps = span + PCVALUE_SLACK_STEPS;
   for (uint64_t step = 0; step < maxSteps; step++) {
      bool first = cur == f->entry;
      uint32_t uv, pcDelta;
      if (!readVarint(&p, end, &uv))
         return false;
      if (uv == 0 && !first)
         return false; /* the table ended before reaching pc */
      val += -(uv & 1) ^ (uv >> 1);
      if (!readVarint(&p, end, &pcDelta))
         return false;
      cur += pcDelta; /* times the pc quantum, 1 on amd64 */
      if (pc < cur) {
         *value = (int32_t)val;
         return true;
      }
   }
   return false;
}

/* The offset of slot `index` of an array of u32 right after the fixed _func. */
static bool funcSlotOffset(const Pclntab* this, const PclntabFunc* f, uint64_t index, uint64_t* off) {
   uint64_t pos = (uint64_t)f->funcOffset + funcRecordSize(this) + index * 4;
   if (!rangeOk(this, pos, 4))
      return false;
   *off = pos;
   return true;
}

uint32_t Pclntab_pcdata(const Pclntab* this, const PclntabFunc* f, uint32_t index) {
   uint64_t off;
   uint32_t v;
   if (!this->data || !f || index >= f->npcdata || !funcSlotOffset(this, f, index, &off) || !rd32(this, off, &v))
      return 0;
   return v;
}

bool Pclntab_spDelta(const Pclntab* this, const PclntabFunc* f, uint64_t pc, int32_t* delta) {
   return f && Pclntab_value(this, f, f->pcsp, pc, delta);
}

static const char* fileName(const Pclntab* this, const PclntabFunc* f, int32_t fileno) {
   uint64_t slot = ((uint64_t)f->cuOffset + (uint32_t)fileno) * 4;
   uint32_t fileoff;
   if (slot > this->cuSize || 4 > this->cuSize - slot || !rd32(this, this->cuOff + slot, &fileoff))
      return NULL;
   if (fileoff == NO_FILE)
      return NULL;
   return stringAt(this, this->filetabOff, this->filetabSize, fileoff);
}

bool Pclntab_fileLine(const Pclntab* this, const PclntabFunc* f, uint64_t pc, const char** file, int* line) {
   *file = NULL;
   *line = 0;
   int32_t fileno, ln;
   if (!f || !Pclntab_value(this, f, f->pcfile, pc, &fileno) || !Pclntab_value(this, f, f->pcln, pc, &ln))
      return false;
   if (fileno < 0 || ln < 0)
      return false;
   const char* name = fileName(this, f, fileno);
   if (!name)
      return false;
   *file = name;
   *line = ln;
   return true;
}

/* ---- inline trees */

/* Link-time address of f's inline tree, or 0 when it has none or it cannot
 * be located (1.18+ without moduledata.gofunc). */
static uint64_t inlineTree(const Pclntab* this, const PclntabFunc* f) {
   if (PCLNTAB_FUNCDATA_INLTREE >= f->nfuncdata)
      return 0;
   if (this->version == PCLNTAB_GO116) {
      /* uintptr funcdata after the u32 pcdata, 8-aligned in memory (the
       * header is 8-aligned, so offsets from it align the same way). */
      uint64_t pos = (uint64_t)f->funcOffset + FUNC_SIZE_116 + (uint64_t)f->npcdata * 4;
      pos = (pos + 7) & ~(uint64_t)7;
      pos += (uint64_t)PCLNTAB_FUNCDATA_INLTREE * 8;
      uint64_t addr;
      if (!rd64(this, pos, &addr))
         return 0;
      return addr;
   }
   uint64_t off;
   uint32_t rel;
   if (this->config.gofunc == 0 || !funcSlotOffset(this, f, (uint64_t)f->npcdata + PCLNTAB_FUNCDATA_INLTREE, &off) ||
       !rd32(this, off, &rel) || rel == NO_FUNCDATA)
      return 0;
   return this->config.gofunc + rel;
}

/* One inlinedCall, decoded for either layout. */
typedef struct InlinedCall_ {
   uint8_t funcID;
   int32_t nameoff, parentPc;
} InlinedCall;

static bool readInlinedCall(const Pclntab* this, uint64_t tree, int32_t ix, InlinedCall* out) {
   if (ix < 0 || (uint32_t)ix >= MAX_INLINE_INDEX)
      return false;
   bool old = this->version != PCLNTAB_GO120;
   size_t size = old ? INLCALL_SIZE_116 : INLCALL_SIZE_120;
   uint64_t at = (uint64_t)ix * size;
   if (tree > UINT64_MAX - at)
      return false;
   const uint8_t* p = this->config.read(this->config.readCtx, tree + at, size);
   if (!p)
      return false;
   /* 1.16-1.19: {parent i16, funcID u8, pad, file, line, nameoff @12, parentPc @16};
    * 1.20+: {funcID u8, pad[3], nameOff @4, parentPc @8, startLine @12}. */
   out->funcID = old ? p[2] : p[0];
   out->nameoff = (int32_t)le32(p + (old ? 12 : 4));
   out->parentPc = (int32_t)le32(p + (old ? 16 : 8));
   return true;
}

static PclntabFrame frameAt(const Pclntab* this, const PclntabFunc* f, uint64_t pc, const char* name) {
   PclntabFrame fr = { .function = name, .entry = f->entry };
   (void)Pclntab_fileLine(this, f, pc, &fr.file, &fr.line);
   return fr;
}

size_t Pclntab_frames(const Pclntab* this, uint64_t pc, PclntabFrame* out, size_t max) {
   PclntabFunc f;
   if (max == 0 || !Pclntab_find(this, pc, &f))
      return 0;
   size_t n = 0;
   uint64_t cur = pc;
   uint64_t tree = this->config.read ? inlineTree(this, &f) : 0;
   uint32_t table = tree ? Pclntab_pcdata(this, &f, PCLNTAB_PCDATA_INLTREE) : 0;
   for (int depth = 0; table && depth < MAX_INLINE_DEPTH; depth++) {
      int32_t ix;
      InlinedCall call;
      if (!Pclntab_value(this, &f, table, cur, &ix) || !readInlinedCall(this, tree, ix, &call))
         break;
      uint64_t parent = f.entry + (uint64_t)call.parentPc;
      if (call.parentPc < 0 || parent >= f.end)
         break; /* a caller outside the function: corrupt */
      if (n + 1 < max) {
         const char* name = call.nameoff >= 0 ? funcName(this, (uint32_t)call.nameoff) : NULL;
         out[n] = frameAt(this, &f, cur, name);
         out[n].inlined = true;
         out[n].funcID = call.funcID;
         out[n].parentPc = parent;
         n++;
      }
      cur = parent;
   }
   out[n] = frameAt(this, &f, cur, f.name);
   out[n].funcID = f.funcID;
   out[n].parentPc = pc;
   return n + 1;
}

/* ---- signature scan */

long Pclntab_scan(const uint8_t* data, size_t size) {
   if (!data)
      return -1;
   /* Bytes 1..7 of the header: ff ff ff, two zero pads, quantum 1, ptrsize 8. */
   static const uint8_t tail[7] = { 0xff, 0xff, 0xff, 0x00, 0x00, 0x01, 0x08 };
   unsigned deep = 0;
   for (size_t off = 0; size >= 8 && off <= size - 8; off += 8) {
      const uint8_t* p = data + off;
      if (memcmp(p + 1, tail, sizeof(tail)) != 0 || (p[0] != 0xfa && p[0] != 0xf0 && p[0] != 0xf1))
         continue;
      Pclntab t;
      char err[8];
      /* textStart may be 0 (1.26+): the structure can be checked without it. */
      if (openHeader(&t, p, size - off, NULL, true, err, sizeof(err)) < 0)
         continue;
      /* Checking a function table is linear in it: decoys must not make the
       * scan quadratic. Real segments hold one table, not many near-misses. */
      if (++deep > MAX_SCAN_CANDIDATES)
         return -1;
      if (checkFunctab(&t, err, sizeof(err)) == 0)
         return (long)off;
   }
   return -1;
}
