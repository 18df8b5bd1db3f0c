/* Compressed DWARF as a lazily inflated in-memory ELF: see DwarfImage.h.
 *
 * Layout of the image (one anonymous mapping): page 0 holds the ELF header,
 * the section headers and their name table; each section follows at a page
 * boundary, so an Inflater's pages are the image's pages. */
#include "stacktop/DwarfImage.h"

#include <elf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "stacktop/Inflater.h"
#include "stacktop/Util.h"

#define PAGE ((uint64_t)INFLATER_PAGE)
/* DWARF 32 addresses 4 GiB per section; a hostile header claiming more (or
 * a total past this) is refused rather than reserved. */
#define MAX_SECTION_BYTES ((uint64_t)4 << 30)
#define MAX_IMAGE_BYTES ((uint64_t)32 << 30)
/* GNU .zdebug_*: "ZLIB" and the uncompressed size, 8 bytes big-endian. */
#define GNU_HEADER_BYTES 12u

typedef struct SectionSpec_ {
   const char* name; /* ".debug_..." */
   bool lazy;        /* inflated where read (else in full at open) */
} SectionSpec;

/* The sections libdw reads for CUs, lines, scopes and names; the others
 * (loclists, frame, macro, types, aranges) are not needed and not inflated. */
static const SectionSpec specs[DWARFIMAGE_SECTION_COUNT] = {
   [DWARFIMAGE_INFO] = { ".debug_info", true },
   [DWARFIMAGE_LINE] = { ".debug_line", true },
   [DWARFIMAGE_ABBREV] = { ".debug_abbrev", false },
   [DWARFIMAGE_STR] = { ".debug_str", false },
   [DWARFIMAGE_LINE_STR] = { ".debug_line_str", false },
   [DWARFIMAGE_RNGLISTS] = { ".debug_rnglists", false },
   [DWARFIMAGE_RANGES] = { ".debug_ranges", false },
   [DWARFIMAGE_ADDR] = { ".debug_addr", false },
   [DWARFIMAGE_STR_OFFSETS] = { ".debug_str_offsets", false },
};

typedef enum Storage_ { STORED_PLAIN, STORED_ZLIB, STORED_UNSUPPORTED } Storage;

/* Where a section's bytes come from in the file. */
typedef struct Source_ {
   bool present;
   Storage storage;
   const uint8_t* bytes; /* the stored bytes (after a compression header) */
   uint64_t storedSize;
   uint64_t size; /* uncompressed */
   uint64_t flags;
} Source;

typedef struct Placed_ {
   bool present;
   uint64_t offset, size; /* in the image */
   Inflater* inflater;    /* lazy compressed sections only; owned */
} Placed;

struct DwarfImage_ {
   uint8_t* image; /* the mapping; owned */
   size_t imageSize;
   Placed sections[DWARFIMAGE_SECTION_COUNT];
   size_t eagerBytes;
   Elf* elf; /* owned */
};

/* ---- the file's sections -------------------------------------------------------- */

static const ElfSection* findSection(const ElfReader* r, const char* name, bool* gnu) {
   *gnu = false;
   const ElfSection* s = ElfReader_section(r, name);
   if (s)
      return s;
   char zname[40];
   Util_format(zname, sizeof(zname), ".z%s", name + 1);
   s = ElfReader_section(r, zname);
   *gnu = s != NULL;
   return s;
}

static uint64_t bigEndian64(const uint8_t* p) {
   uint64_t v = 0;
   for (int i = 0; i < 8; i++)
      v = v << 8 | p[i];
   return v;
}

static bool describe(const ElfReader* r, const SectionSpec* spec, Source* out) {
   bool gnu;
   const ElfSection* s = findSection(r, spec->name, &gnu);
   const uint8_t* data = s ? ElfReader_sectionData(r, s) : NULL;
   *out = (Source){ 0 };
   if (!data || s->size == 0)
      return false;
   *out = (Source){
      .present = true, .storage = STORED_PLAIN, .bytes = data, .storedSize = s->size, .size = s->size, .flags = s->flags
   };
   if (s->flags & SHF_COMPRESSED) {
      Elf64_Chdr ch;
      if (s->size < sizeof(ch))
         return false;
      memcpy(&ch, data, sizeof(ch));
      out->storage = ch.ch_type == ELFCOMPRESS_ZLIB ? STORED_ZLIB : STORED_UNSUPPORTED;
      out->bytes = data + sizeof(ch);
      out->storedSize = s->size - sizeof(ch);
      out->size = ch.ch_size;
   } else if (gnu) {
      if (s->size < GNU_HEADER_BYTES || memcmp(data, "ZLIB", 4) != 0)
         return false;
      out->storage = STORED_ZLIB;
      out->bytes = data + GNU_HEADER_BYTES;
      out->storedSize = s->size - GNU_HEADER_BYTES;
      out->size = bigEndian64(data + 4);
   }
   return true;
}

bool DwarfImage_wanted(const ElfReader* reader) {
   for (size_t i = 0; i < DWARFIMAGE_SECTION_COUNT; i++) {
      Source src;
      if (describe(reader, &specs[i], &src) && src.storage != STORED_PLAIN)
         return true;
   }
   return false;
}

/* ---- building the image ----------------------------------------------------------- */

static uint64_t pageUp(uint64_t v) {
   return (v + PAGE - 1) & ~(PAGE - 1);
}

static bool layOut(DwarfImage* this, const Source* src, char* err, size_t errSize) {
   uint64_t at = PAGE; /* page 0: headers */
   for (size_t i = 0; i < DWARFIMAGE_SECTION_COUNT; i++) {
      if (!src[i].present)
         continue;
      if (src[i].storage == STORED_UNSUPPORTED) {
         Util_format(err, errSize, "%s uses a compression other than zlib (zstd?)", specs[i].name);
         return false;
      }
      if (src[i].size > MAX_SECTION_BYTES || at + pageUp(src[i].size) > MAX_IMAGE_BYTES) {
         Util_format(err, errSize, "%s claims %llu bytes uncompressed", specs[i].name, (unsigned long long)src[i].size);
         return false;
      }
      this->sections[i] = (Placed){ .present = true, .offset = at, .size = src[i].size };
      at += pageUp(src[i].size);
   }
   if (!src[DWARFIMAGE_INFO].present || !src[DWARFIMAGE_ABBREV].present) {
      Util_format(err, errSize, "%s", "no .debug_info or .debug_abbrev");
      return false;
   }
   this->imageSize = (size_t)at;
   return true;
}

/* Page 0: ELF header, section headers ([0] null, [1] .shstrtab, then ours). */
static void writeHeaders(DwarfImage* this, const ElfReader* reader, const Source* src) {
   Elf64_Ehdr eh = { .e_type = reader->type,
                     .e_machine = EM_X86_64,
                     .e_version = EV_CURRENT,
                     .e_ehsize = sizeof(Elf64_Ehdr),
                     .e_shentsize = sizeof(Elf64_Shdr),
                     .e_shoff = sizeof(Elf64_Ehdr),
                     .e_shstrndx = 1 };
   memcpy(eh.e_ident, ELFMAG, SELFMAG);
   eh.e_ident[EI_CLASS] = ELFCLASS64;
   eh.e_ident[EI_DATA] = ELFDATA2LSB;
   eh.e_ident[EI_VERSION] = EV_CURRENT;
   Elf64_Shdr sh[2 + DWARFIMAGE_SECTION_COUNT] = { 0 };
   size_t count = 2;
   char names[512] = "\0.shstrtab";
   size_t namesLen = sizeof("\0.shstrtab");
   for (size_t i = 0; i < DWARFIMAGE_SECTION_COUNT; i++) {
      if (!this->sections[i].present)
         continue;
      size_t len = strlen(specs[i].name) + 1;
      memcpy(names + namesLen, specs[i].name, len);
      sh[count++] = (Elf64_Shdr){ .sh_name = (uint32_t)namesLen,
                                  .sh_type = SHT_PROGBITS,
                                  .sh_flags = src[i].flags & ~(uint64_t)SHF_COMPRESSED,
                                  .sh_offset = this->sections[i].offset,
                                  .sh_size = this->sections[i].size,
                                  .sh_addralign = 1 };
      namesLen += len;
   }
   eh.e_shnum = (uint16_t)count;
   size_t namesAt = sizeof(eh) + count * sizeof(Elf64_Shdr);
   sh[1] = (Elf64_Shdr){
      .sh_name = 1, .sh_type = SHT_STRTAB, .sh_offset = namesAt, .sh_size = namesLen, .sh_addralign = 1
   };
   memcpy(this->image, &eh, sizeof(eh));
   memcpy(this->image + sizeof(eh), sh, count * sizeof(Elf64_Shdr));
   memcpy(this->image + namesAt, names, namesLen);
}

/* Plain sections are copied; compressed ones get an Inflater, and the eager
 * ones are inflated in full right away. */
static bool fill(DwarfImage* this, size_t i, const Source* src, size_t keepBytes, char* err, size_t errSize) {
   Placed* p = &this->sections[i];
   uint8_t* at = this->image + p->offset;
   if (src->storage == STORED_PLAIN) {
      memcpy(at, src->bytes, (size_t)src->size);
      this->eagerBytes += (size_t)src->size;
      return true;
   }
   p->inflater = Inflater_new(src->bytes, (size_t)src->storedSize, INFLATER_ZLIB, at, (size_t)p->size, keepBytes);
   if (specs[i].lazy)
      return true;
   bool ok = Inflater_ensure(p->inflater, 0, p->size, true);
   Inflater_free(p->inflater);
   p->inflater = NULL;
   this->eagerBytes += (size_t)p->size;
   if (!ok)
      Util_format(err, errSize, "%s: corrupt compressed data", specs[i].name);
   return ok;
}

DwarfImage* DwarfImage_open(const ElfReader* reader, size_t keepBytes, char* err, size_t errSize) {
   Source src[DWARFIMAGE_SECTION_COUNT];
   for (size_t i = 0; i < DWARFIMAGE_SECTION_COUNT; i++)
      describe(reader, &specs[i], &src[i]);
   DwarfImage* this = Util_xcalloc(1, sizeof(*this));
   if (!layOut(this, src, err, errSize)) {
      free(this);
      return NULL;
   }
   void* map = mmap(NULL, this->imageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
   if (map == MAP_FAILED) {
      Util_format(err, errSize, "cannot reserve %zu bytes for its DWARF", this->imageSize);
      free(this);
      return NULL;
   }
   this->image = map;
   writeHeaders(this, reader, src);
   for (size_t i = 0; i < DWARFIMAGE_SECTION_COUNT; i++) {
      if (this->sections[i].present && !fill(this, i, &src[i], keepBytes, err, errSize)) {
         DwarfImage_free(this);
         return NULL;
      }
   }
   elf_version(EV_CURRENT);
   this->elf = elf_memory((char*)this->image, this->imageSize);
   if (!this->elf) {
      Util_format(err, errSize, "libelf refused the image: %s", elf_errmsg(-1));
      DwarfImage_free(this);
      return NULL;
   }
   return this;
}

void DwarfImage_free(DwarfImage* this) {
   if (!this)
      return;
   if (this->elf)
      elf_end(this->elf);
   for (size_t i = 0; i < DWARFIMAGE_SECTION_COUNT; i++)
      Inflater_free(this->sections[i].inflater);
   if (this->image)
      munmap(this->image, this->imageSize);
   free(this);
}

Elf* DwarfImage_elf(DwarfImage* this) {
   return this->elf;
}

bool DwarfImage_ensure(DwarfImage* this, DwarfImageSection section, uint64_t offset, uint64_t len, bool pin) {
   const Placed* p = &this->sections[section];
   if (!p->present || offset >= p->size)
      return false;
   return p->inflater ? Inflater_ensure(p->inflater, offset, len, pin) : true;
}

void DwarfImage_unpin(DwarfImage* this, DwarfImageSection section, uint64_t offset, uint64_t len) {
   if (this->sections[section].inflater)
      Inflater_unpin(this->sections[section].inflater, offset, len);
}

const uint8_t* DwarfImage_section(const DwarfImage* this, DwarfImageSection section, uint64_t* size) {
   const Placed* p = &this->sections[section];
   *size = p->present ? p->size : 0;
   return p->present ? this->image + p->offset : NULL;
}

size_t DwarfImage_residentBytes(const DwarfImage* this) {
   size_t bytes = this->eagerBytes;
   for (size_t i = 0; i < DWARFIMAGE_SECTION_COUNT; i++) {
      if (this->sections[i].inflater)
         bytes += Inflater_residentBytes(this->sections[i].inflater);
   }
   return bytes;
}
