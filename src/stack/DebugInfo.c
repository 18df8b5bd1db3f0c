/* libdw lookups for file:line and inline chains, only for the addresses asked.
 *
 * Compilation units are found through our own address index (each CU DIE's
 * DW_AT_low_pc/high_pc/ranges, read once per file on the first lookup), not
 * through .debug_aranges: clang writes none, and libdw 0.188 has no fallback.
 * When the DWARF is a DwarfImage (compressed sections), every byte libdw
 * will read is ensured first: the head of each unit (header and CU DIE) while
 * indexing, then the whole CU and its line program for a lookup. */
#include "stacktop/DebugInfo.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stacktop/DwarfImage.h"
#include "stacktop/DwarfLines.h"
#include "stacktop/Util.h"

/* Bytes of each unit made present while indexing: its header and CU DIE (a
 * few dozen bytes in practice). libdw walks every header up to a unit it is
 * asked about (and reads each CU DIE of DWARF 4 while doing so); the index
 * asks about every unit in order, after which libdw knows them all and
 * reads a unit again only for a lookup, which ensures all of it. So these
 * bytes need not stay. */
#define UNIT_HEAD_BYTES 4096u
/* Nested or overlapping CU ranges looked at around an address. */
#define RANGE_LOOKBACK 8
/* DW_AT_abstract_origin / DW_AT_specification links followed for a name. */
#define MAX_ORIGIN_HOPS 8
/* DIE nesting followed down to an address (and function scopes kept). */
#define MAX_SCOPE_DEPTH 64

/* A line table's file as a path: its name joined to its directory, then
 * (when still relative) to the CU's DW_AT_comp_dir; keyed by the section
 * strings it was made from (stable while the DebugInfo is open). */
typedef struct JoinedPath_ {
   const char* dir;
   const char* name;
   const char* compDir;
   char* path; /* owned */
} JoinedPath;

/* Where the line tables and their strings are. */
typedef struct LineSections_ {
   const uint8_t* line;
   uint64_t lineSize;
   const uint8_t* lineStr;
   uint64_t lineStrSize;
   const uint8_t* str;
   uint64_t strSize;
} LineSections;

/* "ns::Class::name" made for a declaration DIE without a linkage name. */
typedef struct QualifiedName_ {
   uint64_t die; /* its offset */
   char* name;   /* owned */
} QualifiedName;

/* A range pinned during the current public call. */
typedef struct Held_ {
   DwarfImageSection section;
   uint64_t offset, len;
} Held;

/* A copy of a string from a lazily inflated section. */
typedef struct KeptString_ {
   const char* raw;
   char* copy; /* owned */
} KeptString;

/* One unit of .debug_info. */
typedef struct Unit_ {
   uint64_t offset, end; /* [offset, end) in .debug_info */
   uint64_t dieOffset;   /* its unit DIE */
   uint8_t offsetSize;   /* 4 or 8 (DWARF 64) */
} Unit;

/* An address range of a compile unit's code. */
typedef struct CuRange_ {
   uint64_t lo, hi;
   size_t unit; /* index into units */
} CuRange;

struct DebugInfo_ {
   int fd; /* owned, -1 with an image; libdw reads through it */
   Dwarf* dwarf;
   DwarfImage* image; /* owned; NULL when libdw reads the file itself */
   LineSections sections;
   JoinedPath* paths; /* owned, with every .path */
   size_t pathCount, pathCapacity;
   uint64_t scanPos; /* .debug_info offset of the next unit to index */
   bool scanDone;    /* every unit is indexed */
   Unit* units;      /* ascending offset; owned */
   size_t unitCount, unitCapacity;
   CuRange* ranges; /* [0, sortedRanges) ascending lo, then the ones found since; owned */
   size_t rangeCount, rangeCapacity, sortedRanges;
   QualifiedName* names; /* owned, with every .name */
   size_t nameCount, nameCapacity;
   Held* held; /* owned */
   size_t heldCount, heldCapacity;
   KeptString* copies; /* owned, with every .copy */
   size_t copyCount, copyCapacity;
};

/* A section of the file libdw reads (uncompressed: its bytes in libdw's
 * mapping of the file), or NULL. */
static const uint8_t* fileSection(Dwarf* dwarf, const char* name, uint64_t* size) {
   Elf* elf = dwarf_getelf(dwarf);
   size_t names;
   *size = 0;
   if (!elf || elf_getshdrstrndx(elf, &names) != 0)
      return NULL;
   for (Elf_Scn* scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
      GElf_Shdr mem;
      GElf_Shdr* sh = gelf_getshdr(scn, &mem);
      const char* n = sh ? elf_strptr(elf, names, sh->sh_name) : NULL;
      if (!n || strcmp(n, name) != 0 || sh->sh_type == SHT_NOBITS)
         continue;
      Elf_Data* data = elf_getdata(scn, NULL);
      if (!data || !data->d_buf)
         return NULL;
      *size = data->d_size;
      return data->d_buf;
   }
   return NULL;
}

static DebugInfo* wrap(Dwarf* dwarf, int fd, DwarfImage* image) {
   DebugInfo* this = Util_xcalloc(1, sizeof(*this));
   *this = (DebugInfo){ .fd = fd, .dwarf = dwarf, .image = image };
   LineSections* s = &this->sections;
   if (image) {
      s->line = DwarfImage_section(image, DWARFIMAGE_LINE, &s->lineSize);
      s->lineStr = DwarfImage_section(image, DWARFIMAGE_LINE_STR, &s->lineStrSize);
      s->str = DwarfImage_section(image, DWARFIMAGE_STR, &s->strSize);
   } else {
      s->line = fileSection(dwarf, ".debug_line", &s->lineSize);
      s->lineStr = fileSection(dwarf, ".debug_line_str", &s->lineStrSize);
      s->str = fileSection(dwarf, ".debug_str", &s->strSize);
   }
   return this;
}

DebugInfo* DebugInfo_open(int fd) {
   /* libelf's one-time version handshake; idempotent. */
   if (elf_version(EV_CURRENT) == EV_NONE)
      return NULL;
   int own = dup(fd);
   if (own < 0)
      return NULL;
   Dwarf* dwarf = dwarf_begin(own, DWARF_C_READ);
   if (!dwarf) {
      close(own);
      return NULL;
   }
   return wrap(dwarf, own, NULL);
}

DebugInfo* DebugInfo_openImage(DwarfImage* image) {
   Dwarf* dwarf = image ? dwarf_begin_elf(DwarfImage_elf(image), DWARF_C_READ, NULL) : NULL;
   if (!dwarf) {
      DwarfImage_free(image);
      return NULL;
   }
   return wrap(dwarf, -1, image);
}

void DebugInfo_free(DebugInfo* this) {
   if (!this)
      return;
   for (size_t i = 0; i < this->pathCount; i++)
      free(this->paths[i].path);
   free(this->paths);
   free(this->units);
   free(this->ranges);
   for (size_t i = 0; i < this->nameCount; i++)
      free(this->names[i].name);
   free(this->names);
   free(this->held);
   for (size_t i = 0; i < this->copyCount; i++)
      free(this->copies[i].copy);
   free(this->copies);
   dwarf_end(this->dwarf);
   DwarfImage_free(this->image);
   if (this->fd >= 0)
      close(this->fd);
   free(this);
}

size_t DebugInfo_residentBytes(const DebugInfo* this) {
   return this->image ? DwarfImage_residentBytes(this->image) : 0;
}

/* ---- what libdw may read --------------------------------------------------------- */

/* pin: the bytes stay until release() at the end of the public call that
 * reads them; else only until the next ensure of that section. */
static bool ensure(DebugInfo* this, DwarfImageSection section, uint64_t offset, uint64_t len, bool pin) {
   if (!this->image)
      return true;
   if (!DwarfImage_ensure(this->image, section, offset, len, pin))
      return false;
   if (pin) {
      Util_growArray((void**)&this->held, &this->heldCapacity, this->heldCount, sizeof(Held));
      this->held[this->heldCount++] = (Held){ .section = section, .offset = offset, .len = len };
   }
   return true;
}

/* Done reading: what was pinned may be dropped again (within the budget),
 * so memory holds one lookup's units, not every unit ever looked up. */
static void release(DebugInfo* this) {
   for (size_t i = 0; i < this->heldCount; i++)
      DwarfImage_unpin(this->image, this->held[i].section, this->held[i].offset, this->held[i].len);
   this->heldCount = 0;
}

/* A string to hand out: one inside the lazily inflated sections (inline
 * DW_FORM_string names, DWARF 4 file names) is copied, since its page may
 * be dropped after the lookup; the copy is kept per address for the life of
 * the DebugInfo. Strings of the eager sections stay put. */
static const char* kept(DebugInfo* this, const char* s) {
   if (!s || !this->image)
      return s;
   static const DwarfImageSection lazy[] = { DWARFIMAGE_INFO, DWARFIMAGE_LINE };
   bool inLazy = false;
   for (size_t i = 0; i < sizeof(lazy) / sizeof(lazy[0]); i++) {
      uint64_t size;
      const uint8_t* base = DwarfImage_section(this->image, lazy[i], &size);
      inLazy = inLazy || (base && (const uint8_t*)s >= base && (const uint8_t*)s < base + size);
   }
   if (!inLazy)
      return s;
   for (size_t i = 0; i < this->copyCount; i++) {
      if (this->copies[i].raw == s)
         return this->copies[i].copy;
   }
   Util_growArray((void**)&this->copies, &this->copyCapacity, this->copyCount, sizeof(KeptString));
   this->copies[this->copyCount] = (KeptString){ .raw = s, .copy = Util_xstrdup(s) };
   return this->copies[this->copyCount++].copy;
}

/* The unit holding .debug_info offset `at`, or NULL. */
static const Unit* unitAt(const DebugInfo* this, uint64_t at) {
   size_t lo = 0, hi = this->unitCount;
   while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (this->units[mid].end <= at)
         lo = mid + 1;
      else
         hi = mid;
   }
   return lo < this->unitCount && this->units[lo].offset <= at ? &this->units[lo] : NULL;
}

static bool ensureUnit(DebugInfo* this, const Unit* u) {
   return ensure(this, DWARFIMAGE_INFO, u->offset, u->end - u->offset, true);
}

/* The line program at .debug_line offset `at`, by its unit_length. */
static bool ensureLineProgram(DebugInfo* this, uint64_t at) {
   uint64_t size;
   const uint8_t* line = this->image ? DwarfImage_section(this->image, DWARFIMAGE_LINE, &size) : NULL;
   if (!this->image)
      return true;
   if (!line || !ensure(this, DWARFIMAGE_LINE, at, 12, true) || at > size || size - at < 12)
      return false;
   uint32_t len32;
   memcpy(&len32, line + at, 4);
   uint64_t total = 4 + (uint64_t)len32;
   if (len32 == 0xffffffffu) {
      uint64_t len64;
      memcpy(&len64, line + at + 4, 8);
      total = len64 > UINT64_MAX - 12 ? UINT64_MAX : 12 + len64;
   }
   return ensure(this, DWARFIMAGE_LINE, at, total, true);
}

/* ---- the address index ---------------------------------------------------------- */

static void addRange(DebugInfo* this, uint64_t lo, uint64_t hi, size_t unit) {
   /* Code at address 0 does not exist; ranges there are the tombstones of
    * functions the linker dropped (GNU ld), which would shadow real code. */
   if (lo == 0 || lo >= hi)
      return;
   Util_growArray((void**)&this->ranges, &this->rangeCapacity, this->rangeCount, sizeof(CuRange));
   this->ranges[this->rangeCount++] = (CuRange){ .lo = lo, .hi = hi, .unit = unit };
}

static void indexUnitRanges(DebugInfo* this, Dwarf_Die* cu, size_t unit) {
   int tag = dwarf_tag(cu);
   if (tag != DW_TAG_compile_unit && tag != DW_TAG_skeleton_unit)
      return;
   Dwarf_Addr base, lo, hi;
   ptrdiff_t at = 0;
   while ((at = dwarf_ranges(cu, at, &base, &lo, &hi)) > 0)
      addRange(this, lo, hi, unit);
}

static int compareRanges(const void* a, const void* b) {
   const CuRange* x = a;
   const CuRange* y = b;
   if (x->lo != y->lo)
      return x->lo < y->lo ? -1 : 1;
   return x->hi < y->hi ? -1 : x->hi > y->hi;
}

/* Indexes the unit at scanPos (its head made present first); false past
 * the last one. Units are visited in order and libdw is only ever asked
 * about units already visited, so it never walks headers past what was
 * made present. */
static bool scanUnit(DebugInfo* this) {
   Dwarf_Off offset = this->scanPos, next;
   size_t headerSize;
   uint8_t offsetSize;
   if (this->scanDone || !ensure(this, DWARFIMAGE_INFO, offset, UNIT_HEAD_BYTES, false) ||
       dwarf_next_unit(this->dwarf, offset, &next, &headerSize, NULL, NULL, NULL, &offsetSize, NULL, NULL) != 0 ||
       next <= offset) {
      this->scanDone = true;
      return false;
   }
   Util_growArray((void**)&this->units, &this->unitCapacity, this->unitCount, sizeof(Unit));
   this->units[this->unitCount] =
       (Unit){ .offset = offset, .end = next, .dieOffset = offset + headerSize, .offsetSize = offsetSize };
   Dwarf_Die cu;
   if (dwarf_offdie(this->dwarf, offset + headerSize, &cu))
      indexUnitRanges(this, &cu, this->unitCount);
   this->unitCount++;
   this->scanPos = next;
   return true;
}

/* Ranges added since the last sort join the sorted ones. */
static void sortRanges(DebugInfo* this) {
   if (this->sortedRanges == this->rangeCount)
      return;
   qsort(this->ranges, this->rangeCount, sizeof(CuRange), compareRanges);
   this->sortedRanges = this->rangeCount;
}

/* Scans until the unit holding .debug_info offset `at` is indexed. */
static void scanPast(DebugInfo* this, uint64_t at) {
   while (this->scanPos <= at && scanUnit(this))
      ;
   sortRanges(this);
}

/* The innermost sorted range around vaddr (the last one starting at or
 * below it that still covers it), or NULL. */
static const CuRange* indexed(const DebugInfo* this, uint64_t vaddr) {
   size_t lo = 0, hi = this->sortedRanges;
   while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (this->ranges[mid].lo <= vaddr)
         lo = mid + 1;
      else
         hi = mid;
   }
   for (size_t i = lo, seen = 0; i > 0 && seen < RANGE_LOOKBACK; i--, seen++) {
      if (this->ranges[i - 1].hi > vaddr)
         return &this->ranges[i - 1];
   }
   return NULL;
}

/* The compile unit whose code holds vaddr. The index grows lazily: units
 * are scanned only until one covers the address, so a dump whose PCs lie in
 * the first units of a large (or compressed) .debug_info never reads the
 * rest; an address no unit covers scans them all, once. */
static const Unit* unitFor(DebugInfo* this, uint64_t vaddr) {
   const CuRange* r = indexed(this, vaddr);
   while (!r && !this->scanDone) {
      size_t from = this->rangeCount;
      if (!scanUnit(this))
         break;
      for (size_t i = from; i < this->rangeCount && !r; i++) {
         if (this->ranges[i].lo <= vaddr && vaddr < this->ranges[i].hi)
            r = &this->ranges[i];
      }
   }
   const Unit* u = r ? &this->units[r->unit] : NULL;
   sortRanges(this);
   return u;
}

/* ---- frames ------------------------------------------------------------------- */

static const char* compDirOf(Dwarf_Die* cu) {
   Dwarf_Attribute attr;
   return dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr));
}

/* The path of a line table's file, as libdw would give it (name joined to
 * its directory), made absolute with the CU's compilation directory when it
 * is still relative: compilers record "tests/x.c" for `cc -g tests/x.c`,
 * and readers want a path they can open, as Go's profiles print. Joined
 * once per file. */
static const char* filePath(DebugInfo* this, const char* compDir, const char* dir, const char* name) {
   if (!name || name[0] == '/')
      return kept(this, name);
   for (size_t i = 0; i < this->pathCount; i++) {
      const JoinedPath* p = &this->paths[i];
      if (p->name == name && p->dir == dir && p->compDir == compDir)
         return p->path;
   }
   const char* prefix = compDir && compDir[0] == '/' && !(dir && dir[0] == '/') ? compDir : NULL;
   size_t size = (prefix ? strlen(prefix) + 1 : 0) + (dir ? strlen(dir) + 1 : 0) + strlen(name) + 1;
   char* joined = Util_xmalloc(size);
   snprintf(joined, size, "%s%s%s%s%s", prefix ? prefix : "", prefix ? "/" : "", dir ? dir : "", dir ? "/" : "", name);
   Util_growArray((void**)&this->paths, &this->pathCapacity, this->pathCount, sizeof(*this->paths));
   this->paths[this->pathCount++] = (JoinedPath){ .dir = dir, .name = name, .compDir = compDir, .path = joined };
   return joined;
}

/* The line program of a CU, for DwarfLines. */
static DwarfLinesInput linesOf(const DebugInfo* this, Dwarf_Die* cu) {
   DwarfLinesInput in = { .line = this->sections.line,
                          .lineSize = this->sections.lineSize,
                          .lineStr = this->sections.lineStr,
                          .lineStrSize = this->sections.lineStrSize,
                          .str = this->sections.str,
                          .strSize = this->sections.strSize,
                          .offset = UINT64_MAX,
                          .compDir = compDirOf(cu) };
   Dwarf_Attribute attr;
   Dwarf_Word offset;
   if (dwarf_formudata(dwarf_attr(cu, DW_AT_stmt_list, &attr), &offset) == 0)
      in.offset = offset;
   return in;
}

/* File `index` of the CU's line table as a path, or NULL. */
static const char* lineFile(DebugInfo* this, const DwarfLinesInput* lines, uint64_t index) {
   const char *dir, *name;
   return DwarfLines_file(lines, index, &dir, &name) ? filePath(this, lines->compDir, dir, name) : NULL;
}

static bool isFunction(int tag) {
   return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine;
}

/* DIEs with addresses that may enclose a function's code. */
static bool holdsCode(int tag) {
   switch (tag) {
   case DW_TAG_subprogram:
   case DW_TAG_inlined_subroutine:
   case DW_TAG_lexical_block:
   case DW_TAG_entry_point:
   case DW_TAG_try_block:
   case DW_TAG_catch_block:
   case DW_TAG_with_stmt: return true;
   default: return false;
   }
}

/* DIEs without addresses whose children may be functions: Rust (and Ada,
 * Fortran) put every function inside the namespaces of its path. C++ class
 * bodies hold only declarations: their code is a CU-level DIE. */
static bool isContainer(int tag) {
   return tag == DW_TAG_namespace || tag == DW_TAG_module;
}

/* Depth first from parent: containers are searched, DIEs with addresses
 * entered only when they cover vaddr (one of them at most does). Function
 * scopes on the way are appended to chain. */
static bool descend(Dwarf_Die* parent, uint64_t vaddr, Dwarf_Die* chain, size_t* count, int depth) {
   Dwarf_Die child;
   if (depth >= MAX_SCOPE_DEPTH || dwarf_child(parent, &child) != 0)
      return false;
   do {
      int tag = dwarf_tag(&child);
      if (isContainer(tag)) {
         if (descend(&child, vaddr, chain, count, depth + 1))
            return true;
         continue;
      }
      if (!holdsCode(tag) || dwarf_haspc(&child, vaddr) != 1)
         continue;
      if (isFunction(tag) && *count < MAX_SCOPE_DEPTH)
         chain[(*count)++] = child;
      descend(&child, vaddr, chain, count, depth + 1);
      return true;
   } while (dwarf_siblingof(&child, &child) == 0);
   return false;
}

/* The function scopes (subprograms, inlined calls) enclosing vaddr, from
 * the outermost down to the innermost, in chain[0..*count): one descent from
 * the CU DIE (instead of dwarf_getscopes, which does not look inside
 * namespaces, so finds no Rust function, walks the whole unit, and in
 * elfutils 0.188 leaks its array when an inlined instance's origin is in
 * another unit). */
static void functionScopes(Dwarf_Die* cu, uint64_t vaddr, Dwarf_Die* chain, size_t* count) {
   *count = 0;
   descend(cu, vaddr, chain, count, 0);
}

/* Whether libdw may follow the link: a DW_FORM_ref_addr one points into
 * another unit, which is indexed (libdw walks the unit headers up to it) and
 * made present first. Links to type units (ref_sig8) and to other files
 * (dwz) would make libdw walk every unit: not followed. */
static bool followable(DebugInfo* this, Dwarf_Die* die, Dwarf_Attribute* link) {
   switch (dwarf_whatform(link)) {
   case DW_FORM_ref1:
   case DW_FORM_ref2:
   case DW_FORM_ref4:
   case DW_FORM_ref8:
   case DW_FORM_ref_udata: return true;
   case DW_FORM_ref_addr: break;
   default: return false;
   }
   uint8_t offsetSize = 4;
   Dwarf_Die cu;
   if (!dwarf_diecu(die, &cu, NULL, &offsetSize))
      return false;
   uint64_t target = 0;
   memcpy(&target, link->valp, offsetSize == 8 ? 8 : 4);
   scanPast(this, target);
   const Unit* u = unitAt(this, target);
   return u && ensureUnit(this, u);
}

static bool isCxx(Dwarf_Die* die) {
   Dwarf_Die cu;
   int lang = dwarf_diecu(die, &cu, NULL, NULL) ? dwarf_srclang(&cu) : -1;
   return lang == DW_LANG_C_plus_plus || lang == DW_LANG_C_plus_plus_03 || lang == DW_LANG_C_plus_plus_11 ||
          lang == DW_LANG_C_plus_plus_14;
}

/* "std::__invoke<...>" for a C++ declaration named "__invoke<...>" inside
 * namespace std: the names of the enclosing namespaces, classes, structs and
 * unions, as gdb prints it. A function local to another (a lambda's
 * operator()) keeps its short name, as in gdb. Cached per DIE: finding the
 * parents walks the unit. */
static const char* qualifiedName(DebugInfo* this, Dwarf_Die* decl, const char* name) {
   uint64_t at = dwarf_dieoffset(decl);
   for (size_t i = 0; i < this->nameCount; i++) {
      if (this->names[i].die == at)
         return this->names[i].name;
   }
   Dwarf_Die* scopes = NULL;
   int n = dwarf_getscopes_die(decl, &scopes);
   size_t len = strlen(name) + 1;
   bool local = false;
   for (int i = 1; i < n && !local; i++) {
      int tag = dwarf_tag(&scopes[i]);
      const char* part = dwarf_diename(&scopes[i]);
      local = tag == DW_TAG_subprogram || tag == DW_TAG_lexical_block || tag == DW_TAG_inlined_subroutine;
      if (tag == DW_TAG_namespace || tag == DW_TAG_class_type || tag == DW_TAG_structure_type ||
          tag == DW_TAG_union_type)
         len += strlen(part ? part : "(anonymous namespace)") + 2;
   }
   char* full = Util_xmalloc(len);
   full[0] = '\0';
   for (int i = n - 1; i >= 1 && !local; i--) {
      int tag = dwarf_tag(&scopes[i]);
      const char* part = dwarf_diename(&scopes[i]);
      if (tag != DW_TAG_namespace && tag != DW_TAG_class_type && tag != DW_TAG_structure_type &&
          tag != DW_TAG_union_type)
         continue;
      strcat(full, part ? part : "(anonymous namespace)");
      strcat(full, "::");
   }
   strcat(full, name);
   free(scopes);
   Util_growArray((void**)&this->names, &this->nameCapacity, this->nameCount, sizeof(QualifiedName));
   this->names[this->nameCount++] = (QualifiedName){ .die = at, .name = full };
   return full;
}

/* The name to print for a function DIE: the linkage name found along its
 * abstract origin and declaration (mangled: Symbols demangles it, or not,
 * in one place; an inlined C++ call's own DIE has only the short
 * DW_AT_name), else the first DW_AT_name on the way, qualified for C++
 * (GCC writes no linkage name for functions only ever inlined). */
static const char* functionName(DebugInfo* this, Dwarf_Die* die) {
   const char* shortName = NULL;
   Dwarf_Die cur = *die, named;
   for (int hop = 0; hop < MAX_ORIGIN_HOPS; hop++) {
      Dwarf_Attribute attr;
      const char* linkage = dwarf_formstring(dwarf_attr(&cur, DW_AT_linkage_name, &attr));
      if (!linkage)
         linkage = dwarf_formstring(dwarf_attr(&cur, DW_AT_MIPS_linkage_name, &attr));
      if (linkage)
         return kept(this, linkage);
      if (!shortName && (shortName = dwarf_formstring(dwarf_attr(&cur, DW_AT_name, &attr))))
         named = cur;
      Dwarf_Attribute* link = dwarf_attr(&cur, DW_AT_abstract_origin, &attr);
      if (!link)
         link = dwarf_attr(&cur, DW_AT_specification, &attr);
      Dwarf_Die next;
      if (!link || !followable(this, &cur, link) || !dwarf_formref_die(link, &next))
         break;
      cur = next;
   }
   return shortName && isCxx(&named) ? qualifiedName(this, &named, shortName) : kept(this, shortName);
}

/* DW_AT_call_file / DW_AT_call_line of an inlined instance: where it was called. */
static void callSite(DebugInfo* this, Dwarf_Die* inlined, const DwarfLinesInput* lines, const char** file, int* line) {
   Dwarf_Attribute attr;
   Dwarf_Word value;
   *file = NULL;
   *line = 0;
   if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_line, &attr), &value) == 0)
      *line = value > INT_MAX ? 0 : (int)value;
   if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_file, &attr), &value) == 0)
      *file = lineFile(this, lines, value);
}

/* From the innermost function scope outwards: inlined_subroutine entries
 * become inlined frames, each outer one at the line of the call it made,
 * until the subprogram. */
static size_t walkChain(DebugInfo* this, const DwarfLinesInput* lines, Dwarf_Die* chain, size_t chainLen,
                        const char* file, int line, DebugFrame* out, size_t maxFrames) {
   size_t count = 0;
   for (size_t i = chainLen; i > 0 && count < maxFrames; i--) {
      Dwarf_Die* die = &chain[i - 1];
      bool inlined = dwarf_tag(die) == DW_TAG_inlined_subroutine;
      out[count++] = (DebugFrame){
         .function = functionName(this, die),
         .file = file,
         .line = line,
         .inlined = inlined,
      };
      if (!inlined)
         break;
      callSite(this, die, lines, &file, &line);
   }
   return count;
}

/* The CU DIE holding vaddr, with everything libdw will read of it present. */
static bool cuFor(DebugInfo* this, uint64_t vaddr, Dwarf_Die* cu) {
   const Unit* u = unitFor(this, vaddr);
   if (!u || !ensureUnit(this, u) || !dwarf_offdie(this->dwarf, u->dieOffset, cu))
      return false;
   Dwarf_Attribute attr;
   Dwarf_Word lineOffset;
   if (dwarf_formudata(dwarf_attr(cu, DW_AT_stmt_list, &attr), &lineOffset) == 0)
      return ensureLineProgram(this, lineOffset);
   return true;
}

size_t DebugInfo_frames(DebugInfo* this, uint64_t vaddr, DebugFrame* out, size_t maxFrames) {
   Dwarf_Die cu;
   if (maxFrames == 0 || !cuFor(this, vaddr, &cu)) {
      release(this);
      return 0;
   }
   DwarfLinesInput lines = linesOf(this, &cu);
   const char* file = NULL;
   int line = 0;
   DwarfLineRow row;
   if (DwarfLines_find(&lines, vaddr, &row)) {
      file = lineFile(this, &lines, row.file);
      line = row.line;
   }
   Dwarf_Die chain[MAX_SCOPE_DEPTH];
   size_t chainLen;
   functionScopes(&cu, vaddr, chain, &chainLen);
   size_t count = walkChain(this, &lines, chain, chainLen, file, line, out, maxFrames);
   if (count == 0 && file) {
      /* Line info without a function scope (e.g. assembly): still worth a frame. */
      out[0] = (DebugFrame){ .function = NULL, .file = file, .line = line, .inlined = false };
      count = 1;
   }
   release(this);
   return count;
}

/* ---- types and variables ------------------------------------------------- */

/* A top-level DIE with this tag and name in the CU, or in any CU when the
 * named one does not have it (Go writes one CU per package). */
static bool findTopLevel(DebugInfo* this, const char* unitName, int tag, const char* name, Dwarf_Die* out) {
   scanPast(this, UINT64_MAX - 1);
   for (int pass = 0; pass < 2; pass++) {
      for (size_t i = 0; i < this->unitCount; i++) {
         release(this); /* the unit before this one did not have it */
         Dwarf_Die cu, child;
         if (!dwarf_offdie(this->dwarf, this->units[i].dieOffset, &cu))
            continue;
         const char* cuName = dwarf_diename(&cu);
         bool named = cuName && unitName && strcmp(cuName, unitName) == 0;
         if ((pass == 0) != named || !ensureUnit(this, &this->units[i]) || dwarf_child(&cu, &child) != 0)
            continue;
         do {
            const char* n = dwarf_diename(&child);
            if (dwarf_tag(&child) == tag && n && strcmp(n, name) == 0 && !dwarf_hasattr(&child, DW_AT_declaration)) {
               *out = child;
               return true;
            }
         } while (dwarf_siblingof(&child, &child) == 0);
      }
   }
   return false;
}

bool DebugInfo_structMembers(DebugInfo* this, const char* unitName, const char* structName, const char* const* members,
                             size_t count, int64_t* offsets) {
   Dwarf_Die type, member;
   if (!findTopLevel(this, unitName, DW_TAG_structure_type, structName, &type)) {
      release(this);
      return false;
   }
   for (size_t i = 0; i < count; i++)
      offsets[i] = -1;
   if (dwarf_child(&type, &member) != 0) {
      release(this);
      return true;
   }
   do {
      const char* name = dwarf_diename(&member);
      Dwarf_Attribute attr;
      Dwarf_Word location;
      if (dwarf_tag(&member) != DW_TAG_member || !name ||
          dwarf_formudata(dwarf_attr(&member, DW_AT_data_member_location, &attr), &location) != 0)
         continue;
      for (size_t i = 0; i < count; i++)
         if (strcmp(name, members[i]) == 0)
            offsets[i] = (int64_t)location;
   } while (dwarf_siblingof(&member, &member) == 0);
   release(this);
   return true;
}

bool DebugInfo_variableAddress(DebugInfo* this, const char* unitName, const char* name, uint64_t* addr) {
   Dwarf_Die var;
   Dwarf_Attribute attr;
   Dwarf_Op* ops;
   size_t n;
   bool found = findTopLevel(this, unitName, DW_TAG_variable, name, &var) &&
                dwarf_getlocation(dwarf_attr(&var, DW_AT_location, &attr), &ops, &n) == 0 && n == 1 &&
                ops[0].atom == DW_OP_addr;
   if (found)
      *addr = ops[0].number;
   release(this);
   return found;
}
