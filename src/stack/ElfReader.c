/* Defensive ELF64 reader: headers, PT_LOAD, build-id, debuglink and a sorted
 * function table, from an untrusted read-only buffer. Every structure is
 * copied out with memcpy (the buffer need not be aligned) after its range has
 * been checked against the buffer with overflow-safe arithmetic. */
#include "stacktop/ElfReader.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "stacktop/Arch.h"
#include "stacktop/Util.h"

/* Far above real binaries (a large C++ program has ~1-2 million). */
#define MAX_SYMBOLS (1u << 23)
/* Longest symbol name kept (long C++ names exceed 4 KiB, none 64 KiB). */
#define MAX_NAME_LEN (64u << 10)
/* Section names we care about are short. */
#define MAX_SECTION_NAME 32
/* Notes: a build-id comes first in practice; hostile files get a bounded walk. */
#define MAX_NOTES_PER_AREA 64
#define MAX_NOTE_AREAS 16

/* The raw section headers while parsing (ElfReader keeps the digest). */
typedef struct Sections_ {
   Elf64_Shdr* all;
   size_t count;
} Sections;

/* A candidate symbol with what the alias rules need. */
typedef struct Candidate_ {
   ElfSymbol sym;
   unsigned char bind;
   size_t nameLen; /* up to a version '@' */
} Candidate;

/* Candidates collected from one symbol table (a grown array). */
typedef struct CandidateList_ {
   Candidate* items;
   size_t count, capacity;
} CandidateList;

static bool rangeOk(const ElfReader* this, uint64_t offset, uint64_t length) {
   return offset <= this->size && length <= this->size - offset;
}

/* count * entSize bytes at offset, all inside the buffer. */
static bool tableOk(const ElfReader* this, uint64_t offset, uint64_t count, uint64_t entSize) {
   if (entSize != 0 && count > UINT64_MAX / entSize)
      return false;
   return rangeOk(this, offset, count * entSize);
}

/* A string at strOff + index whose NUL lies inside [strOff, strOff+strSize)
 * within maxLen bytes (so a hostile table costs at most maxLen per name).
 * *len gets its length. */
static const char* stringAt(const ElfReader* this, uint64_t strOff, uint64_t strSize, uint64_t index, size_t maxLen,
                            size_t* len) {
   if (!rangeOk(this, strOff, strSize) || index >= strSize)
      return NULL;
   const char* s = (const char*)this->data + strOff + index;
   uint64_t room = strSize - index;
   const char* nul = memchr(s, '\0', room < maxLen + 1 ? room : maxLen + 1);
   if (!nul)
      return NULL;
   *len = (size_t)(nul - s);
   return s;
}

static int fail(char* err, size_t errSize, const char* why) {
   Util_format(err, errSize, "%s", why);
   return -1;
}

static int readHeader(ElfReader* this, Elf64_Ehdr* eh, char* err, size_t errSize) {
   if (this->size < sizeof(*eh))
      return fail(err, errSize, "file too small for an ELF header");
   memcpy(eh, this->data, sizeof(*eh));
   if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
      return fail(err, errSize, "not an ELF file");
   if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB)
      return fail(err, errSize, "not a 64-bit little-endian ELF file");
   if (eh->e_machine != ARCH_ELF_MACHINE)
      return fail(err, errSize, "not an " ARCH_NAME " ELF file");
   if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
      return fail(err, errSize, "not an executable or shared object");
   this->type = eh->e_type;
   return 0;
}

/* PT_GNU_EH_FRAME and PT_TLS, kept when their file range is in bounds. */
static void noteSegment(ElfReader* this, const Elf64_Phdr* ph) {
   ElfSegment* seg = ph->p_type == PT_GNU_EH_FRAME ? &this->ehFrameHdr : ph->p_type == PT_TLS ? &this->tls : NULL;
   if (!seg || seg->present || !rangeOk(this, ph->p_offset, ph->p_filesz))
      return;
   *seg = (ElfSegment){ .present = true,
                        .vaddr = ph->p_vaddr,
                        .offset = ph->p_offset,
                        .filesz = ph->p_filesz,
                        .memsz = ph->p_memsz,
                        .align = ph->p_align };
}

static int readLoads(ElfReader* this, const Elf64_Ehdr* eh) {
   if (eh->e_phnum == 0 || eh->e_phoff == 0)
      return 0;
   if (eh->e_phentsize < sizeof(Elf64_Phdr) || !tableOk(this, eh->e_phoff, eh->e_phnum, eh->e_phentsize))
      return -1;
   this->loads = Util_xcalloc(eh->e_phnum, sizeof(ElfLoad));
   for (size_t i = 0; i < eh->e_phnum; i++) {
      Elf64_Phdr ph;
      memcpy(&ph, this->data + eh->e_phoff + i * eh->e_phentsize, sizeof(ph));
      noteSegment(this, &ph);
      if (ph.p_type != PT_LOAD || ph.p_filesz > ph.p_memsz)
         continue;
      if (ph.p_vaddr > UINT64_MAX - ph.p_memsz || ph.p_offset > UINT64_MAX - ph.p_filesz)
         continue;
      this->loads[this->loadCount++] = (ElfLoad){
         .vaddr = ph.p_vaddr,
         .offset = ph.p_offset,
         .filesz = ph.p_filesz,
         .memsz = ph.p_memsz,
         .flags = ph.p_flags,
      };
   }
   return 0;
}

/* Copies the section header table; resolves the extended counts kept in
 * section 0 (e_shnum == 0, e_shstrndx == SHN_XINDEX). */
static int readSections(ElfReader* this, const Elf64_Ehdr* eh, Sections* secs, uint64_t* shstrndx) {
   if (eh->e_shoff == 0)
      return 0;
   if (eh->e_shentsize < sizeof(Elf64_Shdr) || !tableOk(this, eh->e_shoff, 1, eh->e_shentsize))
      return -1;
   Elf64_Shdr first;
   memcpy(&first, this->data + eh->e_shoff, sizeof(first));
   uint64_t count = eh->e_shnum ? eh->e_shnum : first.sh_size;
   *shstrndx = eh->e_shstrndx == SHN_XINDEX ? first.sh_link : eh->e_shstrndx;
   if (!tableOk(this, eh->e_shoff, count, eh->e_shentsize))
      return -1;
   secs->all = Util_xcalloc(count, sizeof(Elf64_Shdr));
   secs->count = count;
   for (uint64_t i = 0; i < count; i++)
      memcpy(&secs->all[i], this->data + eh->e_shoff + i * eh->e_shentsize, sizeof(Elf64_Shdr));
   return 0;
}

/* Contents of a section that occupies file bytes, or false. */
static bool sectionBytes(const ElfReader* this, const Elf64_Shdr* sh, uint64_t* off, uint64_t* size) {
   if (sh->sh_type == SHT_NOBITS || !rangeOk(this, sh->sh_offset, sh->sh_size))
      return false;
   *off = sh->sh_offset;
   *size = sh->sh_size;
   return true;
}

static uint64_t alignUp(uint64_t v, uint64_t a) {
   return (v + (a - 1)) & ~(a - 1);
}

/* Walks a note area looking for NT_GNU_BUILD_ID from "GNU". */
static void scanNotes(ElfReader* this, uint64_t off, uint64_t size, uint64_t align) {
   align = align == 8 ? 8 : 4;
   uint64_t pos = 0;
   for (int k = 0; k < MAX_NOTES_PER_AREA && this->buildIdLen == 0 && size - pos >= sizeof(Elf64_Nhdr); k++) {
      Elf64_Nhdr nh;
      memcpy(&nh, this->data + off + pos, sizeof(nh));
      pos += sizeof(nh);
      uint64_t nameLen = alignUp(nh.n_namesz, align);
      uint64_t descLen = alignUp(nh.n_descsz, align);
      if (nameLen > size - pos)
         return;
      const uint8_t* name = this->data + off + pos;
      pos += nameLen;
      if (nh.n_descsz > size - pos)
         return;
      if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && memcmp(name, "GNU", 4) == 0 && nh.n_descsz > 0 &&
          nh.n_descsz <= sizeof(this->buildId)) {
         memcpy(this->buildId, this->data + off + pos, nh.n_descsz);
         this->buildIdLen = nh.n_descsz;
         return;
      }
      if (descLen > size - pos)
         return;
      pos += descLen;
   }
}

static void readDebuglink(ElfReader* this, uint64_t off, uint64_t size) {
   size_t len;
   const char* name = stringAt(this, off, size, 0, 4096, &len);
   /* Joined to directories later: one path component, never "." or "..". */
   if (!name || len == 0 || memchr(name, '/', len) || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
      return;
   uint64_t crcPos = alignUp(len + 1, 4);
   if (crcPos > size || size - crcPos < 4)
      return;
   memcpy(&this->debuglinkCrc, this->data + off + crcPos, 4);
   this->debuglink = name;
}

/* One pass over the section table: the named digest, symbol tables, notes,
 * debuglink, DWARF. */
static void classifySections(ElfReader* this, Sections* secs, uint64_t shstrndx) {
   uint64_t strOff = 0, strSize = 0;
   bool haveNames = shstrndx < secs->count && secs->all[shstrndx].sh_type == SHT_STRTAB &&
                    sectionBytes(this, &secs->all[shstrndx], &strOff, &strSize);
   int noteAreas = 0;
   this->sections = Util_xcalloc(secs->count ? secs->count : 1, sizeof(ElfSection));
   this->sectionCount = secs->count;
   for (size_t i = 1; i < secs->count; i++) {
      const Elf64_Shdr* sh = &secs->all[i];
      size_t nameLen;
      const char* name = haveNames ? stringAt(this, strOff, strSize, sh->sh_name, MAX_SECTION_NAME, &nameLen) : NULL;
      this->sections[i] = (ElfSection){ .name = name,
                                        .type = sh->sh_type,
                                        .flags = sh->sh_flags,
                                        .addr = sh->sh_addr,
                                        .offset = sh->sh_offset,
                                        .size = sh->sh_size,
                                        .link = sh->sh_link,
                                        .entsize = sh->sh_entsize };
      if (sh->sh_type == SHT_SYMTAB && !this->symtabIndex)
         this->symtabIndex = i;
      else if (sh->sh_type == SHT_DYNSYM && !this->dynsymIndex)
         this->dynsymIndex = i;
      uint64_t off, size;
      if (!sectionBytes(this, sh, &off, &size))
         continue;
      if (sh->sh_type == SHT_NOTE && this->buildIdLen == 0 && noteAreas++ < MAX_NOTE_AREAS)
         scanNotes(this, off, size, sh->sh_addralign);
      if (!name)
         continue;
      bool compressed =
          (strncmp(name, ".debug_", 7) == 0 && (sh->sh_flags & SHF_COMPRESSED)) || strncmp(name, ".zdebug_", 8) == 0;
      if (compressed) /* sections may overlap: saturate */
         this->compressedDebugSize =
             size > UINT64_MAX - this->compressedDebugSize ? UINT64_MAX : this->compressedDebugSize + size;
      if (strcmp(name, ".gnu_debuglink") == 0 && !this->debuglink)
         readDebuglink(this, off, size);
      else if ((strcmp(name, ".debug_info") == 0 || strcmp(name, ".zdebug_info") == 0) && size > 0)
         this->hasDebugInfo = true;
   }
}

/* Without section headers (or notes there), PT_NOTE segments still give the build-id. */
static void scanNoteSegments(ElfReader* this, const Elf64_Ehdr* eh) {
   if (this->buildIdLen || eh->e_phentsize < sizeof(Elf64_Phdr) ||
       !tableOk(this, eh->e_phoff, eh->e_phnum, eh->e_phentsize))
      return;
   for (size_t i = 0, areas = 0; i < eh->e_phnum && this->buildIdLen == 0 && areas < MAX_NOTE_AREAS; i++) {
      Elf64_Phdr ph;
      memcpy(&ph, this->data + eh->e_phoff + i * eh->e_phentsize, sizeof(ph));
      if (ph.p_type == PT_NOTE && rangeOk(this, ph.p_offset, ph.p_filesz)) {
         scanNotes(this, ph.p_offset, ph.p_filesz, ph.p_align);
         areas++;
      }
   }
}

static bool wantedSymbol(const Elf64_Sym* s) {
   unsigned char type = ELF64_ST_TYPE(s->st_info);
   bool code = type == STT_FUNC || type == STT_GNU_IFUNC || (type == STT_NOTYPE && s->st_size > 0);
   /* The range [value, value+max(size,1)) must not wrap around. */
   bool fits = s->st_value < UINT64_MAX && s->st_size <= UINT64_MAX - s->st_value;
   return code && fits && s->st_value != 0 && s->st_shndx != SHN_UNDEF && s->st_shndx != SHN_ABS &&
          s->st_shndx != SHN_COMMON && s->st_name != 0;
}

static size_t leadingUnderscores(const char* s) {
   size_t n = 0;
   while (s[n] == '_')
      n++;
   return n;
}

/* Alias preference: negative when a is the better name for the same address. */
static int preferenceCompare(const Candidate* a, const Candidate* b) {
   bool aLocal = a->bind == STB_LOCAL, bLocal = b->bind == STB_LOCAL;
   if (aLocal != bLocal)
      return aLocal ? 1 : -1;
   bool aSized = a->sym.size > 0, bSized = b->sym.size > 0;
   if (aSized != bSized)
      return aSized ? -1 : 1;
   size_t au = leadingUnderscores(a->sym.name), bu = leadingUnderscores(b->sym.name);
   if (au != bu)
      return au < bu ? -1 : 1;
   if (a->nameLen != b->nameLen)
      return a->nameLen < b->nameLen ? -1 : 1;
   int c = strncmp(a->sym.name, b->sym.name, a->nameLen);
   return c;
}

static int candidateCompare(const void* pa, const void* pb) {
   const Candidate* a = pa;
   const Candidate* b = pb;
   if (a->sym.addr != b->sym.addr)
      return a->sym.addr < b->sym.addr ? -1 : 1;
   return preferenceCompare(a, b);
}

/* Go names its assembly functions and ABI wrappers "pkg.fn.abi0" in ELF;
 * Go's own tracebacks (and users) know them as "pkg.fn". */
static size_t displayLength(const char* name, size_t len) {
   static const char GO_ABI0[] = ".abi0";
   size_t suffix = sizeof(GO_ABI0) - 1;
   if (len > suffix && memcmp(name + len - suffix, GO_ABI0, suffix) == 0)
      return len - suffix;
   return len;
}

/* A symbol table section and its string table, both in bounds. */
typedef struct SymbolTable_ {
   uint64_t off, count, strOff, strSize;
} SymbolTable;

static bool symbolTable(const ElfReader* this, size_t index, SymbolTable* t) {
   if (index == 0 || index >= this->sectionCount)
      return false;
   const ElfSection* sh = &this->sections[index];
   /* sh_entsize must describe Elf64_Sym (0 is tolerated as "unspecified"). */
   if (sh->type == SHT_NOBITS || !rangeOk(this, sh->offset, sh->size) ||
       (sh->entsize != 0 && sh->entsize != sizeof(Elf64_Sym)))
      return false;
   uint32_t link = sh->link;
   if (link == 0 || link >= this->sectionCount)
      return false;
   const ElfSection* str = &this->sections[link];
   if (str->type != SHT_STRTAB || !rangeOk(this, str->offset, str->size))
      return false;
   *t = (SymbolTable){
      .off = sh->offset, .count = sh->size / sizeof(Elf64_Sym), .strOff = str->offset, .strSize = str->size
   };
   return true;
}

/* Reads the wanted symbols of one SYMTAB/DYNSYM section into list. */
static int readSymbolTable(const ElfReader* this, size_t index, CandidateList* list) {
   SymbolTable t;
   if (!symbolTable(this, index, &t))
      return -1;
   uint64_t off = t.off, strOff = t.strOff, strSize = t.strSize;
   uint64_t n = t.count;
   if (n > MAX_SYMBOLS) /* a hostile table must not cost gigabytes */
      n = MAX_SYMBOLS;
   /* Bytes of names we are willing to scan: real tables (aliases share
    * suffixes) stay far below; names all pointing at one long string do not. */
   uint64_t budget = 8 * strSize + (1u << 20);
   for (uint64_t i = 1; i < n; i++) {
      Elf64_Sym s;
      memcpy(&s, this->data + off + i * sizeof(Elf64_Sym), sizeof(s));
      if (!wantedSymbol(&s))
         continue;
      size_t len;
      const char* name = stringAt(this, strOff, strSize, s.st_name, MAX_NAME_LEN, &len);
      if (!name || len == 0 || name[0] == '@')
         continue;
      if (len + 1 > budget)
         break;
      budget -= len + 1;
      const char* at = memchr(name, '@', len);
      Util_growArray((void**)&list->items, &list->capacity, list->count, sizeof(Candidate));
      list->items[list->count++] = (Candidate){
         .sym = { .addr = s.st_value, .size = s.st_size, .name = name },
         .bind = ELF64_ST_BIND(s.st_info),
         .nameLen = displayLength(name, at ? (size_t)(at - name) : len),
      };
   }
   return 0;
}

/* The end of the PT_LOAD holding addr, for a trailing size-0 symbol. */
static uint64_t segmentEnd(const ElfReader* this, uint64_t addr) {
   for (size_t i = 0; i < this->loadCount; i++) {
      const ElfLoad* l = &this->loads[i];
      if (addr >= l->vaddr && addr - l->vaddr < l->memsz)
         return l->vaddr + l->memsz;
   }
   return addr + 1;
}

/* Names carrying a version get a private copy without it. */
static const char* unversionedName(ElfReader* this, const Candidate* c) {
   if (c->sym.name[c->nameLen] == '\0')
      return c->sym.name;
   char* copy = Util_xmalloc(c->nameLen + 1);
   memcpy(copy, c->sym.name, c->nameLen);
   copy[c->nameLen] = '\0';
   this->ownedNames = Util_xrealloc(this->ownedNames, (this->ownedCount + 1) * sizeof(char*));
   this->ownedNames[this->ownedCount++] = copy;
   return copy;
}

/* Sorts, keeps the best alias per address and fixes each symbol's end. */
static void buildFunctionTable(ElfReader* this, CandidateList* list) {
   if (list->count == 0)
      return;
   qsort(list->items, list->count, sizeof(Candidate), candidateCompare);
   this->symbols = Util_xcalloc(list->count, sizeof(ElfSymbol));
   for (size_t i = 0; i < list->count; i++) {
      const Candidate* c = &list->items[i];
      if (this->symbolCount && this->symbols[this->symbolCount - 1].addr == c->sym.addr)
         continue;
      ElfSymbol* out = &this->symbols[this->symbolCount++];
      *out = c->sym;
      out->name = unversionedName(this, c);
   }
   for (size_t i = 0; i < this->symbolCount; i++) {
      ElfSymbol* s = &this->symbols[i];
      if (s->size > 0)
         s->end = s->addr + s->size; /* wantedSymbol rejected wrapping ranges */
      else
         s->end = i + 1 < this->symbolCount ? this->symbols[i + 1].addr : segmentEnd(this, s->addr);
   }
}

void ElfReader_loadSymbols(ElfReader* this) {
   if (this->symbolsLoaded)
      return;
   this->symbolsLoaded = true;
   CandidateList list = { 0 };
   if (readSymbolTable(this, this->symtabIndex, &list) == 0 && list.count > 0)
      this->fromSymtab = true;
   else {
      list.count = 0;
      readSymbolTable(this, this->dynsymIndex, &list);
   }
   buildFunctionTable(this, &list);
   free(list.items);
}

int ElfReader_parse(ElfReader* this, const void* data, size_t size, char* err, size_t errSize) {
   if (ElfReader_parseHeaders(this, data, size, err, errSize) < 0)
      return -1;
   ElfReader_loadSymbols(this);
   return 0;
}

int ElfReader_parseHeaders(ElfReader* this, const void* data, size_t size, char* err, size_t errSize) {
   memset(this, 0, sizeof(*this));
   this->data = data;
   this->size = size;
   Elf64_Ehdr eh;
   if (readHeader(this, &eh, err, errSize) < 0)
      return -1;
   if (readLoads(this, &eh) < 0) {
      ElfReader_free(this);
      return fail(err, errSize, "program header table out of bounds");
   }
   Sections secs = { 0 };
   uint64_t shstrndx = 0;
   if (readSections(this, &eh, &secs, &shstrndx) < 0) {
      ElfReader_free(this);
      return fail(err, errSize, "section header table out of bounds");
   }
   classifySections(this, &secs, shstrndx);
   scanNoteSegments(this, &eh);
   free(secs.all);
   /* .symtab present means the table will come from it: known before loading. */
   SymbolTable t;
   this->fromSymtab = symbolTable(this, this->symtabIndex, &t) && t.count > 1;
   return 0;
}

void ElfReader_free(ElfReader* this) {
   free(this->loads);
   free(this->sections);
   free(this->symbols);
   for (size_t i = 0; i < this->ownedCount; i++)
      free(this->ownedNames[i]);
   free(this->ownedNames);
   memset(this, 0, sizeof(*this));
}

const ElfSymbol* ElfReader_lookup(const ElfReader* this, uint64_t vaddr, uint64_t* offset) {
   /* Last symbol starting at or below vaddr. */
   size_t lo = 0, hi = this->symbolCount;
   while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (this->symbols[mid].addr <= vaddr)
         lo = mid + 1;
      else
         hi = mid;
   }
   /* A few steps back find a larger symbol that encloses a smaller one
    * ending before vaddr (nested or overlapping functions); bounded on purpose. */
   for (size_t k = 0; k < 8 && lo > 0; k++, lo--) {
      const ElfSymbol* s = &this->symbols[lo - 1];
      if (vaddr < s->end) {
         *offset = vaddr - s->addr;
         return s;
      }
   }
   return NULL;
}

const ElfSection* ElfReader_section(const ElfReader* this, const char* name) {
   for (size_t i = 1; i < this->sectionCount; i++) {
      const ElfSection* s = &this->sections[i];
      if (s->name && strcmp(s->name, name) == 0)
         return s;
   }
   return NULL;
}

const uint8_t* ElfReader_sectionData(const ElfReader* this, const ElfSection* section) {
   if (!section || section->type == SHT_NOBITS || !rangeOk(this, section->offset, section->size))
      return NULL;
   return this->data + section->offset;
}

bool ElfReader_findSymbol(const ElfReader* this, const char* name, uint64_t* addr, uint64_t* size) {
   SymbolTable t;
   if (!symbolTable(this, this->symtabIndex, &t))
      return false;
   uint64_t n = t.count < MAX_SYMBOLS ? t.count : MAX_SYMBOLS;
   size_t want = strlen(name);
   for (uint64_t i = 1; i < n; i++) {
      Elf64_Sym s;
      memcpy(&s, this->data + t.off + i * sizeof(Elf64_Sym), sizeof(s));
      size_t len;
      const char* sym = stringAt(this, t.strOff, t.strSize, s.st_name, want, &len);
      if (sym && len == want && memcmp(sym, name, want) == 0 && s.st_shndx != SHN_UNDEF) {
         *addr = s.st_value;
         *size = s.st_size;
         return true;
      }
   }
   return false;
}

const ElfLoad* ElfReader_loadAt(const ElfReader* this, uint64_t vaddr) {
   for (size_t i = 0; i < this->loadCount; i++) {
      const ElfLoad* l = &this->loads[i];
      if (vaddr >= l->vaddr && vaddr - l->vaddr < l->memsz)
         return l;
   }
   return NULL;
}

const uint8_t* ElfReader_bytesAt(const ElfReader* this, uint64_t vaddr, size_t len) {
   const ElfLoad* l = ElfReader_loadAt(this, vaddr);
   if (!l)
      return NULL;
   uint64_t rel = vaddr - l->vaddr;
   if (rel > l->filesz || len > l->filesz - rel || !rangeOk(this, l->offset + rel, len))
      return NULL;
   return this->data + l->offset + rel;
}

int ElfReader_offsetToVaddr(const ElfReader* this, uint64_t fileOffset, uint64_t* vaddr) {
   for (size_t i = 0; i < this->loadCount; i++) {
      const ElfLoad* l = &this->loads[i];
      if (fileOffset >= l->offset && fileOffset - l->offset < l->filesz) {
         *vaddr = l->vaddr + (fileOffset - l->offset);
         return 0;
      }
   }
   return -1;
}

bool ElfReader_buildIdHex(const ElfReader* this, char* buf, size_t bufSize) {
   if (this->buildIdLen == 0 || bufSize < 2 * this->buildIdLen + 1)
      return false;
   static const char hex[] = "0123456789abcdef";
   for (size_t i = 0; i < this->buildIdLen; i++) {
      buf[2 * i] = hex[this->buildId[i] >> 4];
      buf[2 * i + 1] = hex[this->buildId[i] & 0xf];
   }
   buf[2 * this->buildIdLen] = '\0';
   return true;
}

uint32_t ElfReader_crc32(const void* data, size_t size) {
   /* zlib's CRC-32 is the .gnu_debuglink one, and several times faster than
    * a byte-wise table (a 24 MB debug file is hashed whole). */
   return (uint32_t)crc32_z(0, data, size);
}
