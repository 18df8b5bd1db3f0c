/* libFuzzer harness for Inflater: the input's first 32 bytes choose the
 * ranges to ask for, the rest is a zlib stream. Every range the Inflater
 * serves must equal a one-shot inflate of the same stream, and every range
 * the one-shot inflate could produce must be served; the keep budget holds. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <zlib.h>

#include "stacktop/Inflater.h"

#define OPS 32
#define MAX_OUT ((size_t)4 << 20)
#define KEEP ((size_t)16 << 10)

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

/* Inflates up to MAX_OUT bytes into ref; *complete: the stream ended cleanly. */
static size_t oneShot(const uint8_t* in, size_t inSize, uint8_t* ref, bool* complete) {
   z_stream z = { 0 };
   *complete = false;
   if (inflateInit(&z) != Z_OK)
      return 0;
   z.next_in = (Bytef*)(uintptr_t)in;
   z.avail_in = (uInt)inSize;
   z.next_out = ref;
   z.avail_out = (uInt)MAX_OUT;
   int rc = inflate(&z, Z_FINISH);
   *complete = rc == Z_STREAM_END;
   size_t out = MAX_OUT - z.avail_out;
   inflateEnd(&z);
   return out;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
   if (size < OPS)
      return 0;
   const uint8_t* ops = data;
   const uint8_t* in = data + OPS;
   size_t inSize = size - OPS;
   static uint8_t* ref;
   if (!ref)
      ref = malloc(MAX_OUT);
   bool complete;
   size_t good = oneShot(in, inSize, ref, &complete);
   /* Claim a little more than there is: the tail must be refused, not invented. */
   size_t outSize = good + 1 + ops[0] * 37u;
   uint8_t* out = mmap(NULL, outSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
   if (out == MAP_FAILED)
      abort();
   Inflater* inf = Inflater_new(in, inSize, INFLATER_ZLIB, out, outSize, KEEP);
   for (int i = 1; i < OPS; i++) {
      uint64_t off = (uint64_t)ops[i] * outSize / 256;
      uint64_t len = 1 + (uint64_t)ops[(i + 7) % OPS] * 97u;
      bool ok = Inflater_ensure(inf, off, len, ops[(i + 3) % OPS] & 1);
      uint64_t end = off + len < outSize ? off + len : outSize;
      uint64_t pageEnd = (end + INFLATER_PAGE - 1) / INFLATER_PAGE * INFLATER_PAGE;
      if (ok && end > good)
         abort(); /* served bytes the stream does not have */
      if (ok && memcmp(out + off, ref + off, end - off) != 0)
         abort();
      if (!ok && (pageEnd <= good || (complete && end <= good)))
         abort(); /* refused bytes the stream has */
      if (Inflater_residentBytes(inf) - Inflater_pinnedBytes(inf) > KEEP + len + 2 * INFLATER_PAGE)
         abort();
   }
   Inflater_free(inf);
   munmap(out, outSize);
   return 0;
}
