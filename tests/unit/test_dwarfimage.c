/* DwarfImage + DebugInfo on libc6-dbg's libc (compressed DWARF 5, 2,000+
 * units): lookups through the lazily inflated image with a tiny keep budget
 * give exactly what libdw gives when it inflates everything itself; memory
 * stays below the full size; corrupt and absent sections fail cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stacktop/DebugInfo.h"
#include "stacktop/DwarfImage.h"
#include "stacktop/ElfReader.h"
#include "stacktop/Maps.h"
#include "stacktop/Util.h"

#define KEEP ((size_t)64 << 10)
#define PROBES 300

typedef struct DebugFile_ {
   int fd;
   uint8_t* data; /* a private, writable copy of the file */
   size_t size;
   ElfReader reader;
} DebugFile;

/* libc6-dbg's file for the libc this test runs with, by build-id. */
static void openLibcDebug(DebugFile* f) {
   Maps maps;
   char err[256], path[512] = "";
   assert_int_equal(Maps_read(&maps, getpid(), err, sizeof(err)), 0);
   const MapEntry* e = Maps_find(&maps, (uint64_t)(uintptr_t)&nanosleep);
   assert_non_null(e);
   snprintf(path, sizeof(path), "%s", e->path);
   Maps_free(&maps);
   size_t len;
   char* libc = Util_slurp(path, (size_t)64 << 20, &len);
   assert_non_null(libc);
   ElfReader r;
   assert_int_equal(ElfReader_parseHeaders(&r, libc, len, err, sizeof(err)), 0);
   char hex[129];
   assert_true(ElfReader_buildIdHex(&r, hex, sizeof(hex)));
   ElfReader_free(&r);
   free(libc);
   snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%.2s/%s.debug", hex, hex + 2);
   f->fd = open(path, O_RDONLY);
   assert_true(f->fd >= 0); /* libc6-dbg is a test dependency (make deps) */
   struct stat st;
   assert_int_equal(fstat(f->fd, &st), 0);
   f->size = (size_t)st.st_size;
   f->data = mmap(NULL, f->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, f->fd, 0);
   assert_true(f->data != MAP_FAILED);
   assert_int_equal(ElfReader_parseHeaders(&f->reader, f->data, f->size, err, sizeof(err)), 0);
   ElfReader_loadSymbols(&f->reader);
}

static void closeDebug(DebugFile* f) {
   ElfReader_free(&f->reader);
   munmap(f->data, f->size);
   close(f->fd);
}

static void assertSameString(const char* a, const char* b) {
   if (!a || !b)
      assert_ptr_equal(a, b);
   else
      assert_string_equal(a, b);
}

static void test_sameAsLibdwInflatingEverything(void** state) {
   (void)state;
   DebugFile f;
   openLibcDebug(&f);
   assert_true(DwarfImage_wanted(&f.reader));
   char err[256];
   DwarfImage* image = DwarfImage_open(&f.reader, KEEP, err, sizeof(err));
   assert_non_null(image);
   DebugInfo* lazy = DebugInfo_openImage(image);
   assert_non_null(lazy);
   DebugInfo* full = DebugInfo_open(f.fd);
   assert_non_null(full);
   size_t withLines = 0, inlined = 0, probes = 0, afterTen = 0;
   size_t step = f.reader.symbolCount / PROBES + 1;
   for (size_t i = 0; i < f.reader.symbolCount; i += step) {
      if (probes++ == 10)
         afterTen = DebugInfo_residentBytes(lazy);
      const ElfSymbol* s = &f.reader.symbols[i];
      uint64_t vaddr = s->addr + (s->end - s->addr) / 2;
      DebugFrame a[16], b[16];
      size_t na = DebugInfo_frames(lazy, vaddr, a, 16);
      size_t nb = DebugInfo_frames(full, vaddr, b, 16);
      assert_int_equal(na, nb);
      for (size_t k = 0; k < na; k++) {
         assertSameString(a[k].function, b[k].function);
         assertSameString(a[k].file, b[k].file);
         assert_int_equal(a[k].line, b[k].line);
         assert_int_equal(a[k].inlined, b[k].inlined);
         inlined += a[k].inlined;
      }
      withLines += na > 0 && a[na - 1].line > 0;
   }
   /* Nearly every libc function has lines, many with inlined calls. */
   assert_true(withLines > PROBES * 8 / 10);
   assert_true(inlined > 20);
   /* libdw would hold 10 MB. Here: the eager sections (1.4 MB), the budget
    * and the units of the last lookup, however many were looked up. */
   size_t resident = DebugInfo_residentBytes(lazy);
   printf("libc6-dbg: %zu KiB of inflated DWARF held after 10 lookups, %zu KiB after %zu\n", afterTen >> 10,
          resident >> 10, probes);
   assert_true(afterTen < ((size_t)2 << 20));
   assert_true(resident < ((size_t)2 << 20));
   assert_int_equal(DebugInfo_residentBytes(full), 0);
   DebugInfo_free(lazy);
   DebugInfo_free(full);
   closeDebug(&f);
}

static const ElfSection* section(const ElfReader* r, const char* name) {
   const ElfSection* s = ElfReader_section(r, name);
   assert_non_null(s);
   return s;
}

/* Garbage in the middle of the compressed .debug_info: lookups fail or find
 * garbage, but never read or write out of bounds (run under ASan). */
static void test_corruptInfo(void** state) {
   (void)state;
   DebugFile f;
   openLibcDebug(&f);
   const ElfSection* info = section(&f.reader, ".debug_info");
   uint8_t* mid = f.data + info->offset + info->size / 2;
   for (size_t i = 0; i < 4096; i++)
      mid[i] = (uint8_t)(i * 7919u);
   char err[256];
   DebugInfo* d = DebugInfo_openImage(DwarfImage_open(&f.reader, KEEP, err, sizeof(err)));
   assert_non_null(d);
   size_t step = f.reader.symbolCount / 100 + 1;
   for (size_t i = 0; i < f.reader.symbolCount; i += step) {
      DebugFrame frames[16];
      size_t n = DebugInfo_frames(d, f.reader.symbols[i].addr, frames, 16);
      for (size_t k = 0; k < n; k++) {
         if (frames[k].function)
            (void)strlen(frames[k].function);
         if (frames[k].file)
            (void)strlen(frames[k].file);
      }
   }
   DebugInfo_free(d);
   closeDebug(&f);
}

/* A section header that claims an absurd size, an unknown compression, a
 * missing .debug_abbrev: refused with a reason, nothing reserved. */
static void test_refusedImages(void** state) {
   (void)state;
   DebugFile f;
   openLibcDebug(&f);
   const ElfSection* info = section(&f.reader, ".debug_info");
   Elf64_Chdr ch;
   memcpy(&ch, f.data + info->offset, sizeof(ch));
   Elf64_Chdr bad = ch;
   bad.ch_size = (uint64_t)1 << 40;
   memcpy(f.data + info->offset, &bad, sizeof(bad));
   char err[256] = "";
   assert_null(DwarfImage_open(&f.reader, KEEP, err, sizeof(err)));
   assert_non_null(strstr(err, ".debug_info"));
   bad = ch;
   bad.ch_type = 2; /* ELFCOMPRESS_ZSTD */
   memcpy(f.data + info->offset, &bad, sizeof(bad));
   assert_null(DwarfImage_open(&f.reader, KEEP, err, sizeof(err)));
   assert_non_null(strstr(err, "zlib"));
   memcpy(f.data + info->offset, &ch, sizeof(ch));
   /* Renaming .debug_abbrev hides it. */
   ElfSection* abbrev = (ElfSection*)section(&f.reader, ".debug_abbrev");
   abbrev->name = ".debug_nope";
   assert_null(DwarfImage_open(&f.reader, KEEP, err, sizeof(err)));
   assert_non_null(strstr(err, ".debug_abbrev"));
   closeDebug(&f);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sameAsLibdwInflatingEverything),
      cmocka_unit_test(test_corruptInfo),
      cmocka_unit_test(test_refusedImages),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
