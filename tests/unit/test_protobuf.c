/* Protobuf: the wire format, byte for byte against the examples of the
 * protocol buffers encoding guide (field 1 = 150 is 08 96 01, ...), and
 * decoded back by the independent reader in protobuf_reader.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "protobuf_reader.h"
#include "stacktop/Protobuf.h"

static void assert_bytes(const Protobuf* b, const uint8_t* expected, size_t len) {
   assert_int_equal(b->len, len);
   assert_memory_equal(b->data, expected, len);
}

static void test_varints(void** state) {
   (void)state;
   static const struct {
      uint64_t v;
      uint8_t bytes[10];
      size_t len;
   } cases[] = {
      { 0, { 0x00 }, 1 },
      { 1, { 0x01 }, 1 },
      { 127, { 0x7f }, 1 },
      { 128, { 0x80, 0x01 }, 2 },
      { 150, { 0x96, 0x01 }, 2 },
      { 300, { 0xac, 0x02 }, 2 },
      { 16383, { 0xff, 0x7f }, 2 },
      { 16384, { 0x80, 0x80, 0x01 }, 3 },
      { UINT64_MAX, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 10 },
   };
   for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
      Protobuf b;
      Protobuf_init(&b);
      Protobuf_rawVarint(&b, cases[i].v);
      assert_bytes(&b, cases[i].bytes, cases[i].len);
      size_t pos = 0;
      assert_true(pb_varint(b.data, b.len, &pos) == cases[i].v);
      assert_int_equal(pos, b.len);
      Protobuf_free(&b);
   }
}

/* Field keys: (field << 3) | wire type, itself a varint. */
static void test_fields_and_keys(void** state) {
   (void)state;
   Protobuf b;
   Protobuf_init(&b);
   Protobuf_uint64(&b, 1, 150);
   assert_bytes(&b, (const uint8_t[]){ 0x08, 0x96, 0x01 }, 3);
   Protobuf_reset(&b);
   Protobuf_string(&b, 2, "testing");
   assert_bytes(&b, (const uint8_t[]){ 0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g' }, 9);
   Protobuf_reset(&b);
   Protobuf_uint64(&b, 15, 1); /* the last one-byte key */
   Protobuf_uint64(&b, 16, 1); /* the first two-byte key */
   Protobuf_bool(&b, 7, true);
   Protobuf_bool(&b, 8, false); /* written: proto3 readers take it as false either way */
   assert_bytes(&b, (const uint8_t[]){ 0x78, 0x01, 0x80, 0x01, 0x01, 0x38, 0x01, 0x40, 0x00 }, 9);
   Protobuf_reset(&b);
   /* negative int64: ten bytes of two's complement, as Go's encoder writes it */
   Protobuf_int64(&b, 1, -1);
   assert_bytes(&b, (const uint8_t[]){ 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 11);
   Protobuf_free(&b);
}

/* The empty string is a field of length 0, not nothing: a string table's
 * first entry must be there. */
static void test_empty_string_is_written(void** state) {
   (void)state;
   Protobuf b;
   Protobuf_init(&b);
   Protobuf_string(&b, 6, "");
   Protobuf_string(&b, 6, "x");
   assert_bytes(&b, (const uint8_t[]){ 0x32, 0x00, 0x32, 0x01, 'x' }, 5);
   size_t pos = 0;
   PbField f;
   assert_true(pb_next(b.data, b.len, &pos, &f));
   assert_int_equal(f.field, 6);
   assert_int_equal(f.wire, 2);
   assert_int_equal(f.len, 0);
   assert_true(pb_next(b.data, b.len, &pos, &f));
   assert_int_equal(f.len, 1);
   assert_false(pb_next(b.data, b.len, &pos, &f));
   Protobuf_free(&b);
}

static void test_packed(void** state) {
   (void)state;
   Protobuf b;
   Protobuf_init(&b);
   uint64_t values[] = { 3, 270, 86942 };
   Protobuf_packed(&b, 4, values, 3);
   assert_bytes(&b, (const uint8_t[]){ 0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05 }, 8);
   Protobuf_reset(&b);
   Protobuf_packed(&b, 4, values, 0); /* an empty packed field is no field */
   assert_int_equal(b.len, 0);
   Protobuf_free(&b);
}

static void test_nested_message(void** state) {
   (void)state;
   Protobuf inner, outer;
   Protobuf_init(&inner);
   Protobuf_init(&outer);
   Protobuf_uint64(&inner, 1, 150);
   Protobuf_message(&outer, 3, &inner);
   assert_bytes(&outer, (const uint8_t[]){ 0x1a, 0x03, 0x08, 0x96, 0x01 }, 5);
   Protobuf_reset(&inner);
   Protobuf_message(&outer, 3, &inner); /* an empty message */
   assert_int_equal(outer.len, 7);
   assert_int_equal(outer.data[5], 0x1a);
   assert_int_equal(outer.data[6], 0x00);
   Protobuf_free(&inner);
   Protobuf_free(&outer);
}

/* Many fields of every kind, past the buffer's first growth, read back. */
static void test_round_trip(void** state) {
   (void)state;
   Protobuf b, sub;
   Protobuf_init(&b);
   Protobuf_init(&sub);
   uint64_t packed[300];
   uint64_t x = 0x9e3779b97f4a7c15ull;
   for (size_t i = 0; i < 300; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      packed[i] = x >> (i % 64);
   }
   for (uint32_t field = 1; field < 200; field++) {
      Protobuf_uint64(&b, field, packed[field]);
      Protobuf_reset(&sub);
      Protobuf_packed(&sub, 2, packed, field);
      Protobuf_message(&b, field, &sub);
   }
   size_t pos = 0;
   PbField f;
   for (uint32_t field = 1; field < 200; field++) {
      assert_true(pb_next(b.data, b.len, &pos, &f));
      assert_int_equal(f.field, field);
      assert_int_equal(f.wire, 0);
      assert_true(f.value == packed[field]);
      assert_true(pb_next(b.data, b.len, &pos, &f));
      assert_int_equal(f.field, field);
      size_t sp = 0;
      PbField g;
      assert_true(pb_next(f.data, f.len, &sp, &g));
      assert_int_equal(g.field, 2);
      uint64_t back[300];
      assert_int_equal(pb_repeated(&g, back, 0, 300), field);
      assert_memory_equal(back, packed, field * sizeof(uint64_t));
      assert_false(pb_next(f.data, f.len, &sp, &g));
   }
   assert_false(pb_next(b.data, b.len, &pos, &f));
   Protobuf_free(&b);
   Protobuf_free(&sub);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_varints),
      cmocka_unit_test(test_fields_and_keys),
      cmocka_unit_test(test_empty_string_is_written),
      cmocka_unit_test(test_packed),
      cmocka_unit_test(test_nested_message),
      cmocka_unit_test(test_round_trip),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
