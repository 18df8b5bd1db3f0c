/* libFuzzer harness for DwarfLines: the input's first 9 bytes are an address
 * and a file index, the rest a .debug_line section (also used as the
 * .debug_line_str and .debug_str it may point into). Looks up the address
 * and file names at a few offsets; every string handed out must end inside
 * its section (ASan checks the strlen). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/DwarfLines.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static void checkString(const char* s, const uint8_t* section, size_t size, const char* compDir) {
   if (!s || s == compDir)
      return;
   const uint8_t* p = (const uint8_t*)s;
   if (p < section || p >= section + size || !memchr(p, '\0', (size_t)(section + size - p)))
      abort();
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
   if (size < 9)
      return 0;
   uint64_t vaddr;
   memcpy(&vaddr, data, 8);
   uint64_t file = data[8];
   /* A private copy: the sections must not alias libFuzzer's buffer beyond its end. */
   size_t n = size - 9;
   uint8_t* section = malloc(n ? n : 1);
   memcpy(section, data + 9, n);
   static const char compDir[] = "/build";
   for (uint64_t offset = 0; offset < 64 && offset < n; offset += 16) {
      DwarfLinesInput in = { .line = section,
                             .lineSize = n,
                             .lineStr = section,
                             .lineStrSize = n,
                             .str = section,
                             .strSize = n,
                             .offset = offset,
                             .compDir = compDir };
      DwarfLineRow row;
      if (DwarfLines_find(&in, vaddr, &row) && row.line < 0)
         abort();
      const char *dir, *name;
      for (uint64_t f = file; f < file + 3; f++) {
         if (DwarfLines_file(&in, f, &dir, &name)) {
            checkString(name, section, n, compDir);
            checkString(dir, section, n, compDir);
            if (!name)
               abort();
         }
      }
   }
   free(section);
   return 0;
}
