/* The static description of a Go executable: see GoBinary.h. Facts about
 * the formats are from Go's src/debug/buildinfo/buildinfo.go
 * (readRawBuildInfo), src/runtime/symtab.go (moduledata) and
 * src/runtime/proc.go (allgadd), read at the release tags. */
#include "stacktop/GoBinary.h"

#include <stdlib.h>
#include <string.h>

#include "stacktop/Arch.h"
#include "stacktop/DebugInfo.h"
#include "stacktop/ElfFile.h"
#include "stacktop/Util.h"

#define BUILDINFO_MAGIC "\xff Go buildinf:"
#define BUILDINFO_MAGIC_LEN 14
#define BUILDINFO_HEADER 32
#define MAX_VERSION_LEN 40
/* A wait-reason name is short; the table has a few dozen of them. */
#define MAX_WAIT_REASON_LEN 64
#define MAX_WAIT_REASONS 256
/* How much of moduledata may hold gofunc, and how much of the inline trees
 * is sampled to tell the right value. */
#define MODULEDATA_SCAN_START 0x100
#define MODULEDATA_SCAN_END 0x200
#define INLINE_SAMPLE_FUNCS 64
#define INLINE_SAMPLE_BYTES 256
#define PRINTABLE_NAME_CHARS                                                                                           \
   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/()*[]{},:;<>!?=+ '\"&|^%$#@~"
/* runtime.allgadd is a small function; anything bigger is not it. */
#define MAX_ALLGADD_BYTES 4096

static const char* const funcNames[GO_FUNC_COUNT] = {
   [GO_FUNC_GOEXIT] = "runtime.goexit",
   [GO_FUNC_MSTART] = "runtime.mstart",
   [GO_FUNC_MCALL] = "runtime.mcall",
   [GO_FUNC_SYSTEMSTACK] = "runtime.systemstack",
   [GO_FUNC_MAIN] = "runtime.main",
   [GO_FUNC_RUNFINQ] = "runtime.runfinq",
   [GO_FUNC_RUN_FINALIZERS] = "runtime.runFinalizers",
   [GO_FUNC_RUN_CLEANUPS] = "runtime.runCleanups",
   [GO_FUNC_ASYNC_PREEMPT] = "runtime.asyncPreempt",
   [GO_FUNC_SIGPANIC] = "runtime.sigpanic",
   [GO_FUNC_DEBUG_CALL_V2] = "runtime.debugCallV2",
   [GO_FUNC_GOPANIC] = "runtime.gopanic",
   [GO_FUNC_PANICWRAP] = "runtime.panicwrap",
   [GO_FUNC_ALLGADD] = "runtime.allgadd",
};

static uint64_t readU64(const uint8_t* p) {
   uint64_t v;
   memcpy(&v, p, sizeof(v));
   return v;
}

/* ---- version ---------------------------------------------------------------- */

static bool parseNumber(const char** p, int* out) {
   if (**p < '0' || **p > '9')
      return false;
   long v = 0;
   while (**p >= '0' && **p <= '9' && v < 100000)
      v = v * 10 + (*(*p)++ - '0');
   *out = (int)v;
   return true;
}

bool GoBinary_parseVersion(const char* s, int* major, int* minor, int* patch) {
   const char* p = strstr(s, "go1.");
   if (!p)
      return false;
   p += 2;
   *patch = 0;
   if (!parseNumber(&p, major) || *p != '.')
      return false;
   p++;
   if (!parseNumber(&p, minor))
      return false;
   if (*p == '.') {
      p++;
      parseNumber(&p, patch);
   }
   return true;
}

/* A Go string header {ptr, len} at vaddr, copied into out (printable only). */
static bool readGoString(const ElfReader* r, uint64_t vaddr, char* out, size_t outSize) {
   const uint8_t* hdr = ElfReader_bytesAt(r, vaddr, 16);
   if (!hdr)
      return false;
   uint64_t len = readU64(hdr + 8);
   if (len == 0 || len >= outSize)
      return false;
   const uint8_t* bytes = ElfReader_bytesAt(r, readU64(hdr), (size_t)len);
   if (!bytes)
      return false;
   memcpy(out, bytes, (size_t)len);
   out[len] = '\0';
   return true;
}

/* The version string of a .go.buildinfo blob (F2.6 of the fact sheet). */
static bool versionFromBuildInfo(const ElfReader* r, const uint8_t* b, size_t size, char* out, size_t outSize) {
   if (size < BUILDINFO_HEADER || memcmp(b, BUILDINFO_MAGIC, BUILDINFO_MAGIC_LEN) != 0 || b[14] != 8)
      return false;
   if (b[15] & 2) {
      /* 1.18+: uvarint length and the bytes inline after the header. */
      size_t pos = BUILDINFO_HEADER;
      uint64_t len = 0;
      for (int shift = 0; pos < size && shift < 64; shift += 7) {
         uint8_t c = b[pos++];
         len |= (uint64_t)(c & 0x7f) << shift;
         if (!(c & 0x80))
            break;
      }
      if (len == 0 || len >= outSize || len > size - pos)
         return false;
      memcpy(out, b + pos, (size_t)len);
      out[len] = '\0';
      return true;
   }
   /* Up to 1.17: a pointer to the version's string header. */
   return readGoString(r, readU64(b + 16), out, outSize);
}

/* .go.buildinfo, else the magic at a 16-byte boundary of a writable segment. */
static bool findVersion(const ElfFile* f, char* out, size_t outSize) {
   const ElfReader* r = &f->reader;
   const ElfSection* s = ElfReader_section(r, ".go.buildinfo");
   const uint8_t* data = ElfReader_sectionData(r, s);
   if (data)
      return versionFromBuildInfo(r, data, (size_t)s->size, out, outSize);
   for (size_t i = 0; i < r->loadCount; i++) {
      const ElfLoad* l = &r->loads[i];
      if (!(l->flags & 2u /* PF_W */) || l->offset > f->size || l->filesz > f->size - l->offset)
         continue;
      for (uint64_t off = 0; off + BUILDINFO_HEADER <= l->filesz; off += 16) {
         const uint8_t* p = f->data + l->offset + off;
         if (memcmp(p, BUILDINFO_MAGIC, BUILDINFO_MAGIC_LEN) == 0)
            return versionFromBuildInfo(r, p, (size_t)(l->filesz - off), out, outSize);
      }
   }
   return false;
}

/* A binary without .go.buildinfo (some release builds strip it): the string
 * runtime.buildVersion points to, found among the string headers of
 * [data, edata). */
static void versionFromData(GoBinary* this, const ElfReader* r) {
   const GoModuleData* md = &this->moduledata;
   for (uint64_t a = md->data; a + 16 <= md->edata; a += 8) {
      const uint8_t* p = ElfReader_bytesAt(r, a, 16);
      uint64_t len = p ? readU64(p + 8) : 0;
      char buf[MAX_VERSION_LEN];
      if (len < 6 || len >= sizeof(buf) || !readGoString(r, a, buf, sizeof(buf)) || strncmp(buf, "go1.", 4) != 0)
         continue;
      int major, minor, patch;
      if (strspn(buf, "go0123456789.") == strlen(buf) && GoBinary_parseVersion(buf, &major, &minor, &patch)) {
         Util_format(this->version, sizeof(this->version), "%s", buf);
         this->major = major;
         this->minor = minor;
         this->patch = patch;
         return;
      }
   }
}

/* ---- pclntab ---------------------------------------------------------------- */

typedef struct PclnBytes_ {
   const uint8_t* data;
   size_t size;
   uint64_t vaddr;
} PclnBytes;

static bool pclntabBySection(const ElfReader* r, PclnBytes* out) {
   static const char* const names[] = { ".gopclntab", ".data.rel.ro.gopclntab" };
   for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
      const ElfSection* s = ElfReader_section(r, names[i]);
      const uint8_t* data = ElfReader_sectionData(r, s);
      if (data) {
         *out = (PclnBytes){ data, (size_t)s->size, s->addr };
         return true;
      }
   }
   uint64_t start, end, size;
   if (ElfReader_findSymbol(r, "runtime.pclntab", &start, &size) &&
       ElfReader_findSymbol(r, "runtime.epclntab", &end, &size) && end > start) {
      const uint8_t* data = ElfReader_bytesAt(r, start, (size_t)(end - start));
      if (data) {
         *out = (PclnBytes){ data, (size_t)(end - start), start };
         return true;
      }
   }
   return false;
}

/* Without section headers: a signature scan of the read-only segments. */
static bool pclntabByScan(const ElfFile* f, PclnBytes* out) {
   const ElfReader* r = &f->reader;
   for (size_t i = 0; i < r->loadCount; i++) {
      const ElfLoad* l = &r->loads[i];
      if ((l->flags & 1u /* PF_X */) || l->offset > f->size || l->filesz > f->size - l->offset)
         continue;
      long at = Pclntab_scan(f->data + l->offset, (size_t)l->filesz);
      if (at >= 0) {
         *out = (PclnBytes){ f->data + l->offset + at, (size_t)(l->filesz - (uint64_t)at), l->vaddr + (uint64_t)at };
         return true;
      }
   }
   return false;
}

/* funcnameOffset and textStart from the pclntab header (F5.2), before the
 * table can be opened: Go 1.26+ writes textStart 0 and leaves it to
 * moduledata, which is found through funcnameOffset. */
static bool pclntabHeader(const PclnBytes* p, uint32_t* magicOut, uint64_t* funcnameOff, uint64_t* textStart) {
   if (p->size < 0x48)
      return false;
   uint32_t magic;
   memcpy(&magic, p->data, 4);
   *magicOut = magic;
   if (magic == 0xfffffffa) { /* 1.16, 1.17: no textStart */
      *textStart = 0;
      *funcnameOff = readU64(p->data + 0x18);
      return true;
   }
   if (magic != 0xfffffff0 && magic != 0xfffffff1)
      return false;
   *textStart = readU64(p->data + 0x18);
   *funcnameOff = readU64(p->data + 0x20);
   return true;
}

/* Inline trees live in go:func.* data: the pclntab reads them through this. */
static const uint8_t* readFileBytes(void* ctx, uint64_t vaddr, size_t len) {
   return ElfReader_bytesAt(ctx, vaddr, len);
}

/* ---- moduledata ------------------------------------------------------------- */

/* runtime.firstmoduledata begins with the pcHeader pointer and funcnametab's
 * data pointer (pclntab + funcnameOffset). */
static bool isModuleData(const uint8_t* p, uint64_t pclnVaddr, uint64_t funcnameOff) {
   return readU64(p) == pclnVaddr && readU64(p + 8) == pclnVaddr + funcnameOff;
}

static bool moduleDataAt(const ElfReader* r, uint64_t vaddr, uint64_t pclnVaddr, uint64_t funcnameOff) {
   const uint8_t* p = ElfReader_bytesAt(r, vaddr, 16);
   return p && isModuleData(p, pclnVaddr, funcnameOff);
}

static uint64_t findModuleData(const ElfFile* f, uint64_t pclnVaddr, uint64_t funcnameOff) {
   const ElfReader* r = &f->reader;
   uint64_t addr, size;
   if (ElfReader_findSymbol(r, "runtime.firstmoduledata", &addr, &size) &&
       moduleDataAt(r, addr, pclnVaddr, funcnameOff))
      return addr;
   const ElfSection* s = ElfReader_section(r, ".go.module"); /* Go 1.26+ */
   if (s && moduleDataAt(r, s->addr, pclnVaddr, funcnameOff))
      return s->addr;
   /* The Go linker writes link-time values in place, PIE included. */
   for (size_t i = 0; i < r->loadCount; i++) {
      const ElfLoad* l = &r->loads[i];
      if (!(l->flags & 2u /* PF_W */) || l->offset > f->size || l->filesz > f->size - l->offset)
         continue;
      for (uint64_t off = 0; off + 16 <= l->filesz; off += 8) {
         if (isModuleData(f->data + l->offset + off, pclnVaddr, funcnameOff))
            return l->vaddr + off;
      }
   }
   return 0;
}

static void readModuleData(const ElfReader* r, uint64_t addr, uint32_t magic, GoModuleData* md) {
   /* Offsets of runtime.moduledata, the same 1.16-1.27 up to enoptrbss;
    * gofunc exists from 1.18 (pclntab magic 0xfffffff0) and moved with the
    * coverage counters of 1.20 (magic 0xfffffff1). */
   const uint8_t* p = ElfReader_bytesAt(r, addr, 0x148);
   if (!p)
      return;
   *md = (GoModuleData){
      .address = addr,
      .text = readU64(p + 0xb0),
      .etext = readU64(p + 0xb8),
      .noptrdata = readU64(p + 0xc0),
      .enoptrdata = readU64(p + 0xc8),
      .data = readU64(p + 0xd0),
      .edata = readU64(p + 0xd8),
      .bss = readU64(p + 0xe0),
      .ebss = readU64(p + 0xe8),
      .noptrbss = readU64(p + 0xf0),
      .enoptrbss = readU64(p + 0xf8),
      .gofunc = magic == 0xfffffff1   ? readU64(p + 0x140)
                : magic == 0xfffffff0 ? readU64(p + 0x130)
                                      : 0,
   };
   /* Sanity (F8): ordered ranges, else it is not what we think it is. */
   if (md->text >= md->etext || md->bss > md->ebss || md->ebss > md->noptrbss || md->noptrbss > md->enoptrbss)
      *md = (GoModuleData){ 0 };
}

/* ---- runtime functions and wait reasons ------------------------------------ */

/* One pass over the function table for the names we need. */
static void findFuncs(GoBinary* this) {
   for (uint32_t i = 0; i < this->pclntab.nfunc; i++) {
      PclntabFunc fn;
      if (!Pclntab_func(&this->pclntab, i, &fn) || !fn.name || strncmp(fn.name, "runtime.", 8) != 0)
         continue;
      for (int k = 0; k < GO_FUNC_COUNT; k++) {
         if (this->funcs[k] == 0 && strcmp(fn.name, funcNames[k]) == 0) {
            this->funcs[k] = fn.entry;
            this->funcEnds[k] = fn.end;
         }
      }
   }
}

/* A table of Go string headers whose first two entries are "" and
 * "GC assist marking" (the same in every release): the runtime's own
 * waitReasonStrings, so names stay right even for a release whose order we
 * do not know. */
static size_t readWaitReasons(const ElfReader* r, uint64_t addr, size_t max, const char*** out) {
   char first[MAX_WAIT_REASON_LEN];
   const uint8_t* zero = ElfReader_bytesAt(r, addr, 16);
   if (!zero || readU64(zero + 8) != 0 || !readGoString(r, addr + 16, first, sizeof(first)) ||
       strcmp(first, "GC assist marking") != 0)
      return 0;
   const char** names = Util_xcalloc(max, sizeof(char*));
   size_t n = 0;
   names[n++] = Util_xstrdup("");
   char buf[MAX_WAIT_REASON_LEN];
   while (n < max && readGoString(r, addr + 16 * n, buf, sizeof(buf)))
      names[n++] = Util_xstrdup(buf);
   *out = names;
   return n;
}

static bool waitReasonsFromBinary(GoBinary* this, const ElfReader* r) {
   uint64_t addr, size;
   if (ElfReader_findSymbol(r, "runtime.waitReasonStrings", &addr, &size) && size / 16 <= MAX_WAIT_REASONS) {
      this->waitReasonCount = readWaitReasons(r, addr, (size_t)(size / 16), &this->waitReasons);
      if (this->waitReasonCount)
         return true;
   }
   /* Stripped: the array is pointer data in [data, edata). */
   const GoModuleData* md = &this->moduledata;
   for (uint64_t a = md->data; a + 32 <= md->edata; a += 8) {
      const uint8_t* p = ElfReader_bytesAt(r, a, 32);
      if (!p || readU64(p + 8) != 0 || readU64(p + 24) != 17)
         continue;
      this->waitReasonCount = readWaitReasons(r, a, MAX_WAIT_REASONS, &this->waitReasons);
      if (this->waitReasonCount)
         return true;
   }
   return false;
}

static void useLayoutWaitReasons(GoBinary* this) {
   this->waitReasonCount = this->layout->waitReasonCount;
   this->waitReasons = Util_xcalloc(this->waitReasonCount, sizeof(char*));
   for (size_t i = 0; i < this->waitReasonCount; i++)
      this->waitReasons[i] = Util_xstrdup(this->layout->waitReasons[i]);
}

/* ---- allgs -------------------------------------------------------------------- */

static void addCandidate(GoBinary* this, uint64_t addr) {
   for (size_t i = 0; i < this->allgsCandidateCount; i++)
      if (this->allgsCandidates[i] == addr)
         return;
   this->allgsCandidates = Util_xrealloc(this->allgsCandidates, (this->allgsCandidateCount + 1) * sizeof(uint64_t));
   this->allgsCandidates[this->allgsCandidateCount++] = addr;
}

static bool contains(const uint64_t* v, size_t n, uint64_t x) {
   for (size_t i = 0; i < n; i++)
      if (v[i] == x)
         return true;
   return false;
}

/* The globals runtime.allgadd addresses (F1.4): a compiled append to the
 * global slice loads its pointer, length and capacity, so allgs is the .bss
 * address A with A, A+8 and A+16 all referenced. Every candidate is
 * validated against live memory later. */
static void decodeAllgadd(GoBinary* this, const ElfReader* r) {
   uint64_t entry = this->funcs[GO_FUNC_ALLGADD], end = this->funcEnds[GO_FUNC_ALLGADD];
   if (!entry || end <= entry || end - entry > MAX_ALLGADD_BYTES)
      return;
   size_t len = (size_t)(end - entry);
   const uint8_t* code = ElfReader_bytesAt(r, entry, len);
   if (!code)
      return;
   uint64_t refs[256];
   size_t n = Arch_dataReferences(code, len, entry, refs, sizeof(refs) / sizeof(refs[0]));
   const GoModuleData* md = &this->moduledata;
   for (size_t i = 0; i < n; i++) {
      uint64_t a = refs[i];
      if (a >= md->bss && a < md->ebss && contains(refs, n, a + 8) && contains(refs, n, a + 16))
         addCandidate(this, a);
   }
}

static void findAllgs(GoBinary* this, const ElfReader* r) {
   decodeAllgadd(this, r);
   if (this->allgsCandidateCount)
      this->allgsSource = "runtime.allgadd";
}

/* ---- DWARF ------------------------------------------------------------------------ */

/* Go's DWARF is compressed and libdw inflates all of it on open: read it for
 * the layout only up to this size (a once-per-binary cost, before any stop). */
#define MAX_LAYOUT_DWARF ((uint64_t)64 << 20)

enum {
   GM_STACK,
   GM_M,
   GM_SCHED,
   GM_SYSCALLSP,
   GM_SYSCALLPC,
   GM_SYSCALLBP,
   GM_STATUS,
   GM_GOID,
   GM_WAITSINCE,
   GM_WAITREASON,
   GM_LOCKEDM,
   GM_PARENTGOID,
   GM_GOPC,
   GM_STARTPC,
   GM_LABELS,
   GM_COUNT
};
static const char* const gMembers[GM_COUNT] = {
   [GM_STACK] = "stack",         [GM_M] = "m",
   [GM_SCHED] = "sched",         [GM_SYSCALLSP] = "syscallsp",
   [GM_SYSCALLPC] = "syscallpc", [GM_SYSCALLBP] = "syscallbp",
   [GM_STATUS] = "atomicstatus", [GM_GOID] = "goid",
   [GM_WAITSINCE] = "waitsince", [GM_WAITREASON] = "waitreason",
   [GM_LOCKEDM] = "lockedm",     [GM_PARENTGOID] = "parentGoid",
   [GM_GOPC] = "gopc",           [GM_STARTPC] = "startpc",
   [GM_LABELS] = "labels",
};
enum { GB_SP, GB_PC, GB_G, GB_BP, GB_COUNT };
static const char* const gobufMembers[GB_COUNT] = { "sp", "pc", "g", "bp" };

static uint32_t offsetOr(int64_t v, uint32_t none) {
   return v >= 0 && v < 0x10000 ? (uint32_t)v : none;
}

/* The table's row with DWARF's offsets, when every field the reader needs
 * is there (syscallbp and parentGoid are newer than some releases). */
static bool layoutFromDwarf(const GoLayout* table, DebugInfo* dwarf, GoLayout* out) {
   int64_t g[GM_COUNT], b[GB_COUNT];
   if (!DebugInfo_structMembers(dwarf, "runtime", "runtime.g", gMembers, GM_COUNT, g) ||
       !DebugInfo_structMembers(dwarf, "runtime", "runtime.gobuf", gobufMembers, GB_COUNT, b))
      return false;
   for (int i = 0; i < GM_COUNT; i++)
      if ((g[i] < 0 || g[i] >= 0x1000) && i != GM_SYSCALLBP && i != GM_PARENTGOID)
         return false;
   for (int i = 0; i < GB_COUNT; i++)
      if (b[i] < 0 || b[i] >= 0x100)
         return false;
   *out = *table;
   uint32_t sched = (uint32_t)g[GM_SCHED];
   out->g = (GoGOffsets){
      .stackLo = (uint32_t)g[GM_STACK],
      .stackHi = (uint32_t)g[GM_STACK] + 8,
      .m = (uint32_t)g[GM_M],
      .schedSp = sched + (uint32_t)b[GB_SP],
      .schedPc = sched + (uint32_t)b[GB_PC],
      .schedG = sched + (uint32_t)b[GB_G],
      .schedBp = sched + (uint32_t)b[GB_BP],
      .syscallSp = (uint32_t)g[GM_SYSCALLSP],
      .syscallPc = (uint32_t)g[GM_SYSCALLPC],
      .syscallBp = offsetOr(g[GM_SYSCALLBP], 0),
      .status = (uint32_t)g[GM_STATUS],
      .goid = (uint32_t)g[GM_GOID],
      .waitSince = (uint32_t)g[GM_WAITSINCE],
      .waitReason = (uint32_t)g[GM_WAITREASON],
      .lockedM = (uint32_t)g[GM_LOCKEDM],
      .parentGoid = offsetOr(g[GM_PARENTGOID], 0),
      .goPc = (uint32_t)g[GM_GOPC],
      .startPc = (uint32_t)g[GM_STARTPC],
      .labels = (uint32_t)g[GM_LABELS],
      .size = (uint32_t)g[GM_LABELS] + 8,
   };
   return true;
}

static void noteDisagreement(GoBinary* this, const GoLayout* table) {
   const GoGOffsets* t = &table->g;
   const GoGOffsets* d = &this->dwarfLayout.g;
   if (memcmp(t, d, sizeof(*t)) == 0)
      return;
   Util_format(this->layoutNote, sizeof(this->layoutNote),
               "runtime.g in this binary's DWARF differs from stacktop's Go 1.%d-1.%d table (goid at %#x, table "
               "%#x; startpc %#x, table %#x): used DWARF's",
               table->fromMinor, table->toMinor, d->goid, t->goid, d->startPc, t->startPc);
}

static DebugInfo* openDwarf(const ElfFile* f) {
   const ElfReader* r = &f->reader;
   if (!r->hasDebugInfo || r->compressedDebugSize > MAX_LAYOUT_DWARF || f->fd < 0)
      return NULL;
   return DebugInfo_open(f->fd);
}

bool GoBinary_useDwarfLayout(GoBinary* this, const ElfFile* f) {
   if (this->dwarfTried || !this->layout)
      return this->layoutFromDwarf;
   this->dwarfTried = true;
   DebugInfo* dwarf = openDwarf(f);
   if (dwarf && layoutFromDwarf(this->layout, dwarf, &this->dwarfLayout)) {
      noteDisagreement(this, this->layout);
      this->layout = &this->dwarfLayout;
      this->layoutFromDwarf = true;
   }
   DebugInfo_free(dwarf);
   return this->layoutFromDwarf;
}

/* Without .symtab but with DWARF (rare: both usually go together). */
static void allgsFromDwarf(GoBinary* this, const ElfFile* f) {
   DebugInfo* dwarf = openDwarf(f);
   uint64_t addr;
   if (dwarf && DebugInfo_variableAddress(dwarf, "runtime", "runtime.allgs", &addr)) {
      addCandidate(this, addr);
      this->allgsSource = "DWARF";
   }
   DebugInfo_free(dwarf);
}

/* ---- public --------------------------------------------------------------------- */

/* ---- gofunc -------------------------------------------------------------------- */

/* Inline frames with plausible names (printable, package-qualified) over a
 * sample of functions that have inline trees: a wrong gofunc makes the tree
 * entries garbage, which fails this. */
static size_t inlineScore(const Pclntab* t) {
   size_t score = 0, sampled = 0;
   uint32_t stride = t->nfunc / INLINE_SAMPLE_FUNCS + 1;
   for (uint32_t i = 0; i < t->nfunc && sampled < INLINE_SAMPLE_FUNCS; i += stride) {
      PclntabFunc f;
      if (!Pclntab_func(t, i, &f) || !Pclntab_pcdata(t, &f, PCLNTAB_PCDATA_INLTREE))
         continue;
      sampled++;
      for (uint64_t pc = f.entry; pc < f.end && pc < f.entry + INLINE_SAMPLE_BYTES; pc += 8) {
         PclntabFrame frames[8];
         size_t n = Pclntab_frames(t, pc, frames, 8);
         for (size_t k = 0; k + 1 < n; k++) {
            const char* name = frames[k].function;
            score += name && strchr(name, '.') && strspn(name, PRINTABLE_NAME_CHARS) == strlen(name);
         }
      }
   }
   return score;
}

static bool inReadOnlyData(const ElfReader* r, uint64_t vaddr) {
   const ElfLoad* l = ElfReader_loadAt(r, vaddr);
   return l && !(l->flags & 1u /* PF_X */) && vaddr - l->vaddr < l->filesz;
}

/* moduledata.gofunc moved between releases (1.18: 0x130, 1.20: 0x140, and
 * again in 1.27): of the words of moduledata that point into read-only data,
 * the one that makes inline trees decode wins; the offset of the release
 * table is tried first and kept on a tie. */
static void chooseGofunc(GoBinary* this, const ElfReader* r, const PclnBytes* pcln, PclntabConfig* config) {
   const uint8_t* md = ElfReader_bytesAt(r, this->moduledata.address, MODULEDATA_SCAN_END);
   if (!md || !config->gofunc)
      return;
   size_t best = 0;
   uint64_t bestValue = config->gofunc;
   for (int k = -1; k < (MODULEDATA_SCAN_END - MODULEDATA_SCAN_START) / 8; k++) {
      uint64_t candidate = k < 0 ? config->gofunc : readU64(md + MODULEDATA_SCAN_START + 8 * k);
      if (k >= 0 && (candidate == config->gofunc || !inReadOnlyData(r, candidate)))
         continue;
      PclntabConfig trial = *config;
      trial.gofunc = candidate;
      Pclntab t;
      char err[160];
      if (Pclntab_open(&t, pcln->data, pcln->size, &trial, err, sizeof(err)) < 0)
         continue;
      size_t score = inlineScore(&t);
      if (score > best) {
         best = score;
         bestValue = candidate;
      }
   }
   config->gofunc = bestValue;
   this->moduledata.gofunc = bestValue;
}

/* The pclntab, with moduledata found first: it gives the text start that
 * Go 1.26+ no longer writes in the header, and gofunc (for inline trees). */
static bool openPclntab(GoBinary* this, const ElfFile* f) {
   const ElfReader* r = &f->reader;
   PclnBytes pcln;
   uint64_t funcnameOff = 0, textStart = 0;
   uint32_t magic = 0;
   if (!pclntabBySection(r, &pcln) && !pclntabByScan(f, &pcln))
      return false;
   if (pclntabHeader(&pcln, &magic, &funcnameOff, &textStart)) {
      uint64_t addr = findModuleData(f, pcln.vaddr, funcnameOff);
      if (addr)
         readModuleData(r, addr, magic, &this->moduledata);
   }
   PclntabConfig config = { .textStart = textStart ? 0 : this->moduledata.text,
                            .gofunc = this->moduledata.gofunc,
                            .read = readFileBytes,
                            .readCtx = (void*)r };
   chooseGofunc(this, r, &pcln, &config);
   char err[160];
   if (Pclntab_open(&this->pclntab, pcln.data, pcln.size, &config, err, sizeof(err)) < 0) {
      Util_format(this->problem, sizeof(this->problem), "cannot read the Go symbol table: %s", err);
      return false;
   }
   return true;
}

static void chooseLayout(GoBinary* this) {
   if (!this->version[0]) {
      Util_format(this->problem, sizeof(this->problem),
                  "the Go version is unknown (no .go.buildinfo): cannot choose the goroutine layout");
      return;
   }
   this->layout = GoLayout_forVersion(this->minor, &this->layoutApproximate);
   if (!this->layout)
      Util_format(this->problem, sizeof(this->problem),
                  "%s is older than Go 1.16: goroutines are not supported for it (showing threads only)",
                  this->version);
}

GoBinary* GoBinary_open(const ElfFile* f) {
   GoBinary* this = Util_xcalloc(1, sizeof(*this));
   bool hasVersion = findVersion(f, this->version, sizeof(this->version));
   if (hasVersion && !GoBinary_parseVersion(this->version, &this->major, &this->minor, &this->patch))
      this->version[0] = '\0';
   this->hasPclntab = openPclntab(this, f);
   if (!hasVersion && !this->hasPclntab) {
      GoBinary_free(this);
      return NULL;
   }
   if (!this->hasPclntab) {
      if (!this->problem[0])
         Util_format(this->problem, sizeof(this->problem), "no Go symbol table (.gopclntab) found in the binary");
      return this;
   }
   if (!this->version[0])
      versionFromData(this, &f->reader);
   findFuncs(this);
   chooseLayout(this);
   if (!this->layout)
      return this;
   if (!this->moduledata.address) {
      Util_format(this->problem, sizeof(this->problem), "runtime.firstmoduledata not found in the binary");
      return this;
   }
   this->waitReasonsFromBinary = waitReasonsFromBinary(this, &f->reader);
   if (!this->waitReasonsFromBinary)
      useLayoutWaitReasons(this);
   uint64_t addr, size;
   if (ElfReader_findSymbol(&f->reader, "runtime.allgs", &addr, &size) && size == 24) {
      addCandidate(this, addr);
      this->allgsSource = "symbol table";
   }
   if (!this->allgsCandidateCount)
      allgsFromDwarf(this, f);
   if (!this->allgsCandidateCount)
      findAllgs(this, &f->reader);
   /* A release newer than the table: DWARF, when there is some, knows better. */
   if (this->layoutApproximate)
      GoBinary_useDwarfLayout(this, f);
   return this;
}

void GoBinary_free(GoBinary* this) {
   if (!this)
      return;
   for (size_t i = 0; i < this->waitReasonCount; i++)
      free((char*)this->waitReasons[i]);
   free(this->waitReasons);
   free(this->allgsCandidates);
   free(this);
}

bool GoBinary_inText(const GoBinary* this, uint64_t vaddr) {
   return this->hasPclntab && vaddr >= this->pclntab.textStart && vaddr < this->pclntab.textEnd;
}

bool GoBinary_isFunc(const GoBinary* this, GoFunc f, uint64_t vaddr) {
   return this->funcs[f] && vaddr >= this->funcs[f] && vaddr < this->funcEnds[f];
}

static bool nameIs(const char* name, const char* want) {
   return name && strcmp(name, want) == 0;
}

static bool parkedFor(const GoBinary* this, uint32_t status, uint8_t waitReason, const char* reason) {
   return status == GO_G_WAITING && waitReason < this->waitReasonCount && nameIs(this->waitReasons[waitReason], reason);
}

bool GoBinary_isSystemGoroutine(const GoBinary* this, uint64_t startVaddr, uint32_t status, uint8_t waitReason) {
   PclntabFunc f;
   if (!this->hasPclntab || !Pclntab_find(&this->pclntab, startVaddr, &f) || !f.name)
      return false;
   const char* name = f.name;
   if (nameIs(name, "runtime.main") || nameIs(name, "runtime.handleAsyncEvent") || nameIs(name, "runtime.corostart"))
      return false;
   if (nameIs(name, "runtime.runfinq") || nameIs(name, "runtime.runFinalizers"))
      return parkedFor(this, status, waitReason, "finalizer wait");
   if (nameIs(name, "runtime.runCleanups"))
      return parkedFor(this, status, waitReason, "cleanup wait");
   return strncmp(name, "runtime.", 8) == 0;
}
