/* libFuzzer harness for ElfReader: parse arbitrary bytes, then exercise every
 * query and check the table invariants the symbolizer relies on. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/ElfReader.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

/* A name must be NUL-terminated inside the input or in the reader's copies;
 * symbol names also lose their version suffix ("@GLIBC_2.2.5"). */
static void checkName(const ElfReader* r, const char* name, int symbol) {
   const uint8_t* p = (const uint8_t*)name;
   if (p >= r->data && p < r->data + r->size) {
      if (!memchr(p, '\0', (size_t)(r->data + r->size - p)))
         abort();
   } else if (strlen(name) > r->size) {
      abort();
   }
   if (name[0] == '\0' || (symbol && strchr(name, '@')))
      abort();
}

static void checkTable(const ElfReader* r) {
   for (size_t i = 0; i < r->symbolCount; i++) {
      const ElfSymbol* s = &r->symbols[i];
      checkName(r, s->name, 1);
      if (s->end <= s->addr || (i > 0 && r->symbols[i - 1].addr >= s->addr))
         abort();
      uint64_t off;
      const ElfSymbol* hit = ElfReader_lookup(r, s->addr, &off);
      if (hit != s || off != 0)
         abort();
      (void)ElfReader_lookup(r, s->end - 1, &off);
      (void)ElfReader_lookup(r, s->end, &off);
      if (s->addr > 0)
         (void)ElfReader_lookup(r, s->addr - 1, &off);
   }
}

static void checkLoads(const ElfReader* r) {
   for (size_t i = 0; i < r->loadCount; i++) {
      const ElfLoad* l = &r->loads[i];
      uint64_t vaddr;
      if (l->filesz > 0 && ElfReader_offsetToVaddr(r, l->offset, &vaddr) < 0)
         abort();
      (void)ElfReader_offsetToVaddr(r, l->offset + l->filesz, &vaddr);
   }
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
   ElfReader r;
   char err[128];
   if (ElfReader_parse(&r, data, size, err, sizeof(err)) == 0) {
      checkTable(&r);
      checkLoads(&r);
      char hex[2 * sizeof(r.buildId) + 1];
      if (ElfReader_buildIdHex(&r, hex, sizeof(hex)) != (r.buildIdLen > 0))
         abort();
      /* Joined to directories by the symbolizer: one path component. */
      if (r.debuglink && (strchr(r.debuglink, '/') || strcmp(r.debuglink, ".") == 0 || strcmp(r.debuglink, "..") == 0))
         abort();
      if (r.debuglink)
         checkName(&r, r.debuglink, 0);
   } else if (err[0] == '\0' || r.symbols || r.loads) {
      abort();
   }
   ElfReader_free(&r);
   (void)ElfReader_crc32(data, size);
   return 0;
}
