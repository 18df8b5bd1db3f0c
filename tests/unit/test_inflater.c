/* Inflater: random access into zlib streams, the keep budget (checked against
 * the kernel's own view with mincore), pinning, re-inflation cost bounded by
 * the checkpoint span, and corrupt, truncated or short streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "stacktop/Inflater.h"
#include "stacktop/Util.h"

#define DATA_BYTES ((size_t)6 << 20)
#define KEEP ((size_t)64 << 10)
/* Output of one inflate() call in Inflater.c, the slack over the budget while streaming. */
#define STEP ((size_t)256 << 10)

typedef struct Stream_ {
   uint8_t* plain; /* the original bytes */
   size_t plainSize;
   uint8_t* packed; /* their zlib (or raw deflate) stream */
   size_t packedSize;
   uint8_t* out; /* the region the Inflater fills */
   size_t outSize;
} Stream;

/* Text-like bytes (compress about 3:1, many deflate blocks), deterministic. */
static void makePlain(Stream* s, size_t size) {
   static const char* const words[] = { "frame ", "thread ",       "0x7f3a ",          "inline ", "pthread_cond_wait ",
                                        "\n",     "start_thread ", "../sysdeps/unix/", "clone3 ", "42 " };
   s->plain = test_malloc(size);
   s->plainSize = size;
   uint32_t x = 2463534242u;
   for (size_t i = 0; i < size;) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      const char* w = words[x % 10];
      for (size_t k = 0; w[k] && i < size; k++)
         s->plain[i++] = (uint8_t)(w[k] ^ ((x >> 8) % 5 == 0 ? (x >> 16) & 7 : 0));
   }
}

static void pack(Stream* s, InflaterFormat format) {
   z_stream z = { 0 };
   assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, format == INFLATER_RAW ? -15 : 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
   s->packedSize = deflateBound(&z, s->plainSize);
   s->packed = test_malloc(s->packedSize);
   z.next_in = s->plain;
   z.avail_in = (uInt)s->plainSize;
   z.next_out = s->packed;
   z.avail_out = (uInt)s->packedSize;
   assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
   s->packedSize = z.total_out;
   deflateEnd(&z);
}

static void mapOut(Stream* s, size_t size) {
   s->outSize = size;
   s->out = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
   assert_true(s->out != MAP_FAILED);
}

static void makeStream(Stream* s, InflaterFormat format) {
   makePlain(s, DATA_BYTES);
   pack(s, format);
   mapOut(s, s->plainSize);
}

static void freeStream(Stream* s) {
   munmap(s->out, s->outSize);
   test_free(s->plain);
   test_free(s->packed);
}

/* Pages of out the kernel holds in memory. */
static size_t residentPages(const Stream* s) {
   size_t pages = (s->outSize + INFLATER_PAGE - 1) / INFLATER_PAGE;
   unsigned char* vec = test_malloc(pages);
   assert_int_equal(mincore(s->out, s->outSize, vec), 0);
   size_t n = 0;
   for (size_t i = 0; i < pages; i++)
      n += vec[i] & 1;
   test_free(vec);
   return n;
}

static void assertSame(const Stream* s, uint64_t off, uint64_t len) {
   assert_memory_equal(s->out + off, s->plain + off, len);
}

static void test_sequentialAndRandomAccess(void** state) {
   (void)state;
   Stream s;
   makeStream(&s, INFLATER_ZLIB);
   Inflater* inf = Inflater_new(s.packed, s.packedSize, INFLATER_ZLIB, s.out, s.outSize, KEEP);
   assert_non_null(inf);
   /* Forwards through the whole stream in small steps, then back to the start,
    * the middle and the last byte. */
   for (uint64_t off = 0; off < s.plainSize; off += 300000) {
      assert_true(Inflater_ensure(inf, off, 100, false));
      assertSame(&s, off, 100);
   }
   static const uint64_t probes[][2] = { { 0, 10 }, { 3000000, 5000 }, { DATA_BYTES - 1, 1 }, { 1234567, 70000 } };
   for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
      assert_true(Inflater_ensure(inf, probes[i][0], probes[i][1], false));
      assertSame(&s, probes[i][0], probes[i][1]);
   }
   /* Clamped to the end. */
   assert_true(Inflater_ensure(inf, DATA_BYTES - 10, 1000, false));
   assertSame(&s, DATA_BYTES - 10, 10);
   assert_true(Inflater_ensure(inf, 5, 0, false));
   assert_false(Inflater_ensure(inf, DATA_BYTES, 1, false));
   Inflater_free(inf);
   freeStream(&s);
}

/* Unpinned pages beyond the budget really leave memory; pinned ones stay and
 * keep their bytes however much else is read. */
static void test_budgetAndPins(void** state) {
   (void)state;
   Stream s;
   makeStream(&s, INFLATER_ZLIB);
   Inflater* inf = Inflater_new(s.packed, s.packedSize, INFLATER_ZLIB, s.out, s.outSize, KEEP);
   assert_true(Inflater_ensure(inf, 100000, 9000, true));
   assert_true(Inflater_ensure(inf, 4000000, 20000, true));
   size_t pinned = Inflater_pinnedBytes(inf);
   assert_true(pinned >= 29000 && pinned <= 29000 + 4 * INFLATER_PAGE);
   for (uint64_t off = 0; off < s.plainSize; off += 65536) {
      assert_true(Inflater_ensure(inf, off, 4096, false));
      assert_true(Inflater_residentBytes(inf) - Inflater_pinnedBytes(inf) <= KEEP);
      assert_true(residentPages(&s) * INFLATER_PAGE <= KEEP + pinned + 2 * INFLATER_PAGE);
   }
   assert_int_equal(Inflater_pinnedBytes(inf), pinned);
   assertSame(&s, 100000, 9000);
   assertSame(&s, 4000000, 20000);
   /* Streaming through the whole section never held much more than the budget. */
   assert_true(residentPages(&s) * INFLATER_PAGE <= KEEP + pinned + STEP + 2 * INFLATER_PAGE);
   Inflater_free(inf);
   freeStream(&s);
}

/* Unpinned pages fall under the budget again. */
static void test_unpin(void** state) {
   (void)state;
   Stream s;
   makeStream(&s, INFLATER_ZLIB);
   Inflater* inf = Inflater_new(s.packed, s.packedSize, INFLATER_ZLIB, s.out, s.outSize, KEEP);
   for (uint64_t off = 0; off < 4000000; off += 400000) {
      assert_true(Inflater_ensure(inf, off, 200000, true));
      assertSame(&s, off, 200000);
   }
   assert_true(Inflater_pinnedBytes(inf) >= 10 * 200000);
   for (uint64_t off = 0; off < 4000000; off += 400000)
      Inflater_unpin(inf, off, 200000);
   assert_int_equal(Inflater_pinnedBytes(inf), 0);
   assert_true(Inflater_ensure(inf, 5000000, 100, false));
   assert_true(Inflater_residentBytes(inf) <= KEEP + 2 * INFLATER_PAGE);
   assert_true(residentPages(&s) * INFLATER_PAGE <= KEEP + 4 * INFLATER_PAGE);
   assertSame(&s, 5000000, 100);
   Inflater_free(inf);
   freeStream(&s);
}

/* Going back costs at most a checkpoint span (1 MiB here) plus the range. */
static void test_reinflationFromCheckpoint(void** state) {
   (void)state;
   Stream s;
   makeStream(&s, INFLATER_ZLIB);
   Inflater* inf = Inflater_new(s.packed, s.packedSize, INFLATER_ZLIB, s.out, s.outSize, KEEP);
   assert_true(Inflater_ensure(inf, DATA_BYTES - 1, 1, false));
   uint64_t all = Inflater_inflatedBytes(inf);
   assert_true(all >= DATA_BYTES - INFLATER_PAGE);
   assert_true(Inflater_ensure(inf, 4500000, 1000, false));
   assertSame(&s, 4500000, 1000);
   uint64_t again = Inflater_inflatedBytes(inf) - all;
   assert_true(again <= ((uint64_t)1 << 20) + STEP + 2 * INFLATER_PAGE);
   /* Present pages cost nothing. */
   uint64_t before = Inflater_inflatedBytes(inf);
   assert_true(Inflater_ensure(inf, 4500000, 1000, false));
   assert_int_equal(Inflater_inflatedBytes(inf), before);
   Inflater_free(inf);
   freeStream(&s);
}

/* Many ranges in random order, some pinned, with a budget of 16 pages: each
 * reads right when asked for, and the pinned ones still do at the end. */
static void test_randomOrder(void** state) {
   (void)state;
   Stream s;
   makeStream(&s, INFLATER_ZLIB);
   Inflater* inf = Inflater_new(s.packed, s.packedSize, INFLATER_ZLIB, s.out, s.outSize, KEEP);
   uint64_t pinnedAt[40][2];
   size_t pins = 0;
   uint32_t x = 12345;
   for (int i = 0; i < 400; i++) {
      x = x * 1103515245u + 12345u;
      uint64_t off = ((uint64_t)x * 7919u) % DATA_BYTES;
      uint64_t len = 1 + (x >> 8) % 100000;
      if (len > DATA_BYTES - off)
         len = DATA_BYTES - off;
      bool pin = i % 10 == 0 && pins < 40;
      assert_true(Inflater_ensure(inf, off, len, pin));
      assertSame(&s, off, len);
      if (pin) {
         pinnedAt[pins][0] = off;
         pinnedAt[pins++][1] = len;
      }
      /* Beyond the budget: at most the range just asked for. */
      assert_true(Inflater_residentBytes(inf) - Inflater_pinnedBytes(inf) <= KEEP + len + 2 * INFLATER_PAGE);
   }
   for (size_t i = 0; i < pins; i++)
      assertSame(&s, pinnedAt[i][0], pinnedAt[i][1]);
   Inflater_free(inf);
   freeStream(&s);
}

static void test_rawDeflate(void** state) {
   (void)state;
   Stream s;
   makeStream(&s, INFLATER_RAW);
   Inflater* inf = Inflater_new(s.packed, s.packedSize, INFLATER_RAW, s.out, s.outSize, KEEP);
   assert_true(Inflater_ensure(inf, 5000000, 3000, false));
   assert_true(Inflater_ensure(inf, 10, 3000, false));
   assertSame(&s, 5000000, 3000);
   assertSame(&s, 10, 3000);
   Inflater_free(inf);
   freeStream(&s);
}

/* Bytes flipped in the middle: what comes before still reads (also again,
 * from a checkpoint); after it, the stream fails or decodes to garbage
 * (deflate has no check before the trailer), never out of bounds. */
static void test_corruptStream(void** state) {
   (void)state;
   Stream s;
   makeStream(&s, INFLATER_ZLIB);
   for (size_t i = s.packedSize / 2; i < s.packedSize / 2 + 64; i++)
      s.packed[i] ^= 0x5a;
   Inflater* inf = Inflater_new(s.packed, s.packedSize, INFLATER_ZLIB, s.out, s.outSize, KEEP);
   assert_true(Inflater_ensure(inf, 0, 1000, false));
   assertSame(&s, 0, 1000);
   bool late = Inflater_ensure(inf, DATA_BYTES - 100, 100, false);
   assert_int_equal(Inflater_ensure(inf, DATA_BYTES - 100, 100, false), late);
   assert_true(Inflater_ensure(inf, 1500000, 1000, false));
   assertSame(&s, 1500000, 1000);
   assert_true(Inflater_ensure(inf, 500, 1000, false));
   assertSame(&s, 500, 1000);
   Inflater_free(inf);
   freeStream(&s);
}

/* Input cut short, and a stream shorter than the size it claims. */
static void test_truncatedAndShort(void** state) {
   (void)state;
   Stream s;
   makeStream(&s, INFLATER_ZLIB);
   Inflater* inf = Inflater_new(s.packed, s.packedSize / 3, INFLATER_ZLIB, s.out, s.outSize, KEEP);
   assert_true(Inflater_ensure(inf, 0, 4096, false));
   assert_false(Inflater_ensure(inf, DATA_BYTES - 1, 1, false));
   Inflater_free(inf);
   munmap(s.out, s.outSize);
   /* The stream holds 6 MiB but claims 8 MiB. */
   mapOut(&s, (size_t)8 << 20);
   inf = Inflater_new(s.packed, s.packedSize, INFLATER_ZLIB, s.out, s.outSize, KEEP);
   /* Bytes past the real end, in the page where it ends: refused, also once
    * that page is present (found by fuzz_inflater). */
   assert_false(Inflater_ensure(inf, DATA_BYTES - 5, 10, false));
   assert_false(Inflater_ensure(inf, DATA_BYTES - 5, 10, false));
   assert_true(Inflater_ensure(inf, DATA_BYTES - 5, 5, false));
   assertSame(&s, DATA_BYTES - 5, 5);
   assert_false(Inflater_ensure(inf, DATA_BYTES + 8192, 1, false));
   Inflater_free(inf);
   freeStream(&s);
}

/* Garbage is not a stream: nothing reads, nothing breaks. */
static void test_garbage(void** state) {
   (void)state;
   Stream s = { 0 };
   mapOut(&s, 1 << 20);
   static const uint8_t junk[] = { 0x78, 0x9c, 0xff, 0xff, 0xff, 0x00, 0x13, 0x37 };
   Inflater* inf = Inflater_new(junk, sizeof(junk), INFLATER_ZLIB, s.out, s.outSize, KEEP);
   assert_false(Inflater_ensure(inf, 0, 1, false));
   assert_false(Inflater_ensure(inf, 1000, 1, true));
   assert_int_equal(Inflater_pinnedBytes(inf), 0);
   Inflater_free(inf);
   inf = Inflater_new(junk, 0, INFLATER_ZLIB, s.out, s.outSize, KEEP);
   assert_false(Inflater_ensure(inf, 0, 1, false));
   Inflater_free(inf);
   /* zlib headers we cannot follow: a preset dictionary, another method, a
    * bad check. */
   static const uint8_t headers[][2] = { { 0x78, 0xbb }, { 0x79, 0x5b }, { 0x78, 0x9d } };
   for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
      uint8_t bad[sizeof(junk)];
      memcpy(bad, junk, sizeof(bad));
      memcpy(bad, headers[i], 2);
      inf = Inflater_new(bad, sizeof(bad), INFLATER_ZLIB, s.out, s.outSize, KEEP);
      assert_false(Inflater_ensure(inf, 0, 1, false));
      Inflater_free(inf);
   }
   munmap(s.out, s.outSize);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sequentialAndRandomAccess),
      cmocka_unit_test(test_budgetAndPins),
      cmocka_unit_test(test_reinflationFromCheckpoint),
      cmocka_unit_test(test_unpin),
      cmocka_unit_test(test_randomOrder),
      cmocka_unit_test(test_rawDeflate),
      cmocka_unit_test(test_corruptStream),
      cmocka_unit_test(test_truncatedAndShort),
      cmocka_unit_test(test_garbage),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
