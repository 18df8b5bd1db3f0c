/* Is an executable Go? See GoDetect.h. */
#include "stacktop/GoDetect.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Util.h"

/* Section headers and their names read at most. */
#define MAX_SECTIONS 4096
#define MAX_SHSTRTAB ((uint64_t)1 << 20)

static const char* const goSections[] = { ".gopclntab", ".go.buildinfo", ".note.go.buildid" };

static bool nameAt(const char* table, uint64_t size, uint32_t offset, const char* want) {
   size_t len = strlen(want);
   return offset < size && size - offset > len && memcmp(table + offset, want, len + 1) == 0;
}

static bool readHeader(GoDetectRead read, void* ctx, Elf64_Ehdr* eh) {
   if (!read(ctx, 0, eh, sizeof(*eh)) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
       eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB)
      return false;
   return eh->e_shentsize == sizeof(Elf64_Shdr) && eh->e_shnum > 0 && eh->e_shnum <= MAX_SECTIONS &&
          eh->e_shstrndx < eh->e_shnum;
}

/* Whether a section of sh[0..n) is named like one of Go's. */
static bool nameGoSection(GoDetectRead read, void* ctx, const Elf64_Shdr* sh, size_t n, const Elf64_Shdr* strs) {
   if (strs->sh_size == 0 || strs->sh_size > MAX_SHSTRTAB)
      return false;
   char* names = Util_xmalloc(strs->sh_size);
   bool found = false;
   if (read(ctx, strs->sh_offset, names, strs->sh_size)) {
      for (size_t i = 0; i < n && !found; i++)
         for (size_t k = 0; k < sizeof(goSections) / sizeof(goSections[0]) && !found; k++)
            found = nameAt(names, strs->sh_size, sh[i].sh_name, goSections[k]);
   }
   free(names);
   return found;
}

bool GoDetect_isGoElf(GoDetectRead read, void* ctx) {
   Elf64_Ehdr eh;
   if (!readHeader(read, ctx, &eh))
      return false;
   Elf64_Shdr* sh = Util_xcalloc(eh.e_shnum, sizeof(Elf64_Shdr));
   bool found = read(ctx, eh.e_shoff, sh, (size_t)eh.e_shnum * sizeof(Elf64_Shdr)) &&
                nameGoSection(read, ctx, sh, eh.e_shnum, &sh[eh.e_shstrndx]);
   free(sh);
   return found;
}
