/* libFuzzer harness for the DWARF path of symbolization: arbitrary bytes as
 * an ELF file whose DWARF DebugInfo indexes and looks up, through a
 * DwarfImage when its debug sections are compressed (Inflater, lazily) and
 * through libdw reading the file otherwise. Seeds: the deep_stack fixture
 * built with compressed (SHF_COMPRESSED, .zdebug) and plain DWARF 4/5. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stacktop/DebugInfo.h"
#include "stacktop/DwarfImage.h"
#include "stacktop/ElfReader.h"

#define PROBES 64

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

/* Every string handed out must be readable to its NUL. */
static void lookups(DebugInfo* d, const ElfReader* r) {
   for (size_t i = 0; i < r->symbolCount && i < PROBES; i++) {
      DebugFrame frames[16];
      size_t n = DebugInfo_frames(d, r->symbols[i].addr + 1, frames, 16);
      if (n > 16)
         abort();
      for (size_t k = 0; k < n; k++) {
         if (frames[k].function)
            (void)strlen(frames[k].function);
         if (frames[k].file)
            (void)strlen(frames[k].file);
      }
   }
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
   ElfReader r;
   char err[256];
   if (ElfReader_parse(&r, data, size, err, sizeof(err)) < 0 || !r.hasDebugInfo) {
      ElfReader_free(&r);
      return 0;
   }
   DebugInfo* d = NULL;
   if (DwarfImage_wanted(&r)) {
      d = DebugInfo_openImage(DwarfImage_open(&r, (size_t)64 << 10, err, sizeof(err)));
   } else {
      int fd = memfd_create("fuzz", MFD_CLOEXEC);
      if (fd >= 0 && write(fd, data, size) == (ssize_t)size)
         d = DebugInfo_open(fd);
      if (fd >= 0)
         close(fd);
   }
   if (d)
      lookups(d, &r);
   DebugInfo_free(d);
   ElfReader_free(&r);
   return 0;
}
