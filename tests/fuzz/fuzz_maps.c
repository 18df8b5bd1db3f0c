/* libFuzzer harness for Maps_parse/Maps_find over arbitrary text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "stacktop/Maps.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
   Maps maps;
   (void)Maps_parse(&maps, (const char*)data, size);
   for (size_t i = 0; i < maps.count; i++) {
      const MapEntry* e = &maps.entries[i];
      if (e->end <= e->start || (i > 0 && maps.entries[i - 1].start > e->start) || !e->path)
         abort();
      if (!Maps_find(&maps, e->start) || !Maps_find(&maps, e->end - 1))
         abort();
   }
   Maps_free(&maps);
   return 0;
}
