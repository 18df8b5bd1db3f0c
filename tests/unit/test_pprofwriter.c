/* PprofWriter: a profile decoded back by the test's own reader
 * (protobuf_reader.h): string table with "" first, sample and period types,
 * samples with packed location ids and values, labels, locations whose
 * lines are inlined frames callee first, functions and locations written
 * once however often they are used, the mapping flags computed from the
 * locations, neutralised strings, and the gzip form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>

#include "protobuf_reader.h"
#include "stacktop/PprofWriter.h"

static TProfile* decode(const PprofWriter* w) {
   Protobuf raw;
   Protobuf_init(&raw);
   PprofWriter_encode(w, &raw);
   TProfile* p = t_decode(raw.data, raw.len);
   Protobuf_free(&raw);
   return p;
}

/* Two mappings; a location with an inlined frame; one unnamed address;
 * two samples sharing a location; a label key with two values. */
static PprofWriter* sampleWriter(void) {
   PprofWriter* w = PprofWriter_new("threads", "count");
   PprofMapping app = { .start = 0x400000, .limit = 0x500000, .offset = 0x1000, .file = "/bin/app", .buildId = "abcd" };
   PprofMapping lib = { .start = 0x7f0000, .limit = 0x7f8000, .file = "/lib/libc.so.6" };
   assert_int_equal(PprofWriter_mapping(w, &app), 1);
   assert_int_equal(PprofWriter_mapping(w, &lib), 2);
   PprofLine inl[] = { { .function = "inner", .file = "a.c", .line = 10 },
                       { .function = "outer", .file = "a.c", .line = 20 } };
   PprofLine mainLine = { .function = "main", .file = "a.c", .line = 30 };
   uint64_t l1 = PprofWriter_location(w, 1, 0x401000, inl, 2);
   uint64_t l2 = PprofWriter_location(w, 1, 0x402000, &mainLine, 1);
   uint64_t l3 = PprofWriter_location(w, 2, 0x7f0100, NULL, 0);
   assert_int_equal(l1, 1);
   assert_int_equal(l2, 2);
   assert_int_equal(l3, 3);
   /* the same location again is the same id */
   assert_int_equal(PprofWriter_location(w, 1, 0x401000, inl, 2), l1);
   uint64_t s1[] = { l3, l1, l2 };
   uint64_t s2[] = { l2 };
   PprofLabel labels[] = { { "thread_names", "worker" }, { "thread_names", "pool" }, { "state", "S" } };
   PprofWriter_sample(w, s1, 3, 40, labels, 3);
   PprofWriter_sample(w, s2, 1, 1, NULL, 0);
   PprofWriter_comment(w, "stacktop test");
   PprofWriter_setTime(w, 1700000000123456789);
   return w;
}

static void test_header_and_string_table(void** state) {
   (void)state;
   PprofWriter* w = sampleWriter();
   TProfile* p = decode(w);
   assert_true(p->stringCount > 3);
   assert_string_equal(p->strings[0], ""); /* pprof requires string_table[0] == "" */
   for (size_t i = 1; i < p->stringCount; i++) {
      for (size_t k = 0; k < i; k++)
         assert_string_not_equal(p->strings[i], p->strings[k]); /* each string once */
   }
   assert_int_equal(p->sampleTypeCount, 1);
   assert_string_equal(t_string(p, p->sampleType[0]), "threads");
   assert_string_equal(t_string(p, p->sampleType[1]), "count");
   assert_string_equal(t_string(p, p->periodType[0]), "threads");
   assert_int_equal(p->period, 1);
   assert_true(p->timeNanos == 1700000000123456789);
   assert_int_equal(p->commentCount, 1);
   assert_string_equal(t_string(p, (int64_t)p->comments[0]), "stacktop test");
   t_free(p);
   PprofWriter_free(w);
}

static void test_samples_locations_functions(void** state) {
   (void)state;
   PprofWriter* w = sampleWriter();
   TProfile* p = decode(w);
   assert_int_equal(p->sampleCount, 2);
   const TSample* s = &p->samples[0];
   assert_int_equal(s->valueCount, 1);
   assert_int_equal(s->values[0], 40);
   assert_int_equal(s->locationCount, 3);
   assert_int_equal(s->locations[0], 3); /* leaf first, as given */
   assert_int_equal(s->locations[1], 1);
   assert_int_equal(s->locations[2], 2);
   char buf[128];
   assert_string_equal(t_label(p, s, "thread_names", buf, sizeof(buf)), "worker|pool");
   assert_string_equal(t_label(p, s, "state", buf, sizeof(buf)), "S");
   assert_int_equal(p->samples[1].labelCount, 0);
   assert_int_equal(p->samples[1].values[0], 1);
   /* three locations: ids 1..3, never 0 */
   assert_int_equal(p->locationCount, 3);
   const TLocation* l1 = t_location_by_id(p, 1);
   assert_int_equal(l1->mapping, 1);
   assert_int_equal(l1->address, 0x401000);
   assert_int_equal(l1->lineCount, 2);
   assert_string_equal(t_line_function(p, 1, 0), "inner"); /* callee first */
   assert_string_equal(t_line_function(p, 1, 1), "outer");
   assert_int_equal(l1->line[0], 10);
   assert_int_equal(l1->line[1], 20);
   const TLocation* l3 = t_location_by_id(p, 3);
   assert_int_equal(l3->mapping, 2);
   assert_int_equal(l3->lineCount, 0);
   /* inner, outer, main: each function once, with its file; system name = name */
   assert_int_equal(p->functionCount, 3);
   for (size_t i = 0; i < p->functionCount; i++) {
      assert_int_equal(p->functions[i].id, i + 1);
      assert_string_equal(t_string(p, p->functions[i].file), "a.c");
      assert_int_equal(p->functions[i].name, p->functions[i].systemName);
   }
   t_free(p);
   PprofWriter_free(w);
}

/* has_functions etc. say what every location of the mapping has: pprof
 * re-symbolizes a mapping without has_functions from the binary. */
static void test_mapping_flags(void** state) {
   (void)state;
   PprofWriter* w = sampleWriter();
   TProfile* p = decode(w);
   assert_int_equal(p->mappingCount, 2);
   const TMapping* app = &p->mappings[0];
   assert_int_equal(app->id, 1);
   assert_int_equal(app->start, 0x400000);
   assert_int_equal(app->limit, 0x500000);
   assert_int_equal(app->offset, 0x1000);
   assert_string_equal(t_string(p, app->file), "/bin/app");
   assert_string_equal(t_string(p, app->buildId), "abcd");
   assert_true(app->hasFunctions && app->hasFilenames && app->hasLineNumbers && app->hasInlineFrames);
   const TMapping* lib = &p->mappings[1];
   assert_int_equal(lib->id, 2);
   assert_string_equal(t_string(p, lib->buildId), "");
   assert_false(lib->hasFunctions || lib->hasFilenames || lib->hasLineNumbers || lib->hasInlineFrames);
   t_free(p);
   PprofWriter_free(w);

   /* names without files: functions, but no file names nor lines */
   w = PprofWriter_new("threads", "count");
   PprofMapping m = { .start = 1, .limit = 2, .file = "/x" };
   PprofWriter_mapping(w, &m);
   PprofLine bare = { .function = "f" };
   PprofWriter_location(w, 1, 1, &bare, 1);
   p = decode(w);
   assert_true(p->mappings[0].hasFunctions);
   assert_false(p->mappings[0].hasFilenames || p->mappings[0].hasLineNumbers || p->mappings[0].hasInlineFrames);
   t_free(p);
   PprofWriter_free(w);
}

/* go tool pprof prints names to a terminal: control bytes never get there;
 * and protobuf readers that check `string` fields (Go's protobuf module,
 * Pyroscope) reject a whole profile for one invalid UTF-8 byte. */
static void test_strings_are_neutralised(void** state) {
   (void)state;
   PprofWriter* w = PprofWriter_new("threads", "count");
   PprofLine evil = { .function = "f\x1b[2J\nfake 1 @ 0x1", .file = "a\tb.c", .line = 1 };
   uint64_t l = PprofWriter_location(w, 0, 0x10, &evil, 1);
   PprofLabel label = { "thread\rnames", "x\xc2\x9by\xff\xc0\xaf\xc3\xa9" };
   PprofWriter_sample(w, &l, 1, 1, &label, 1);
   TProfile* p = decode(w);
   /* every unsafe byte as \xHH (Printable): valid UTF-8 without controls */
   assert_string_equal(t_line_function(p, l, 0), "f\\x1b[2J\\x0afake 1 @ 0x1");
   assert_string_equal(t_string(p, p->functions[0].file), "a\\x09b.c");
   assert_string_equal(t_string(p, p->samples[0].labelKey[0]), "thread\\x0dnames");
   assert_string_equal(t_string(p, p->samples[0].labelStr[0]), "x\\xc2\\x9by\\xff\\xc0\\xaf\xc3\xa9");
   assert_int_equal(p->locations[0].mapping, 0); /* no mapping: field left out */
   t_free(p);
   PprofWriter_free(w);
}

/* On disk the profile is gzip-compressed: it inflates to the encoding. */
static void test_gzip(void** state) {
   (void)state;
   PprofWriter* w = sampleWriter();
   char* buf = NULL;
   size_t len = 0;
   FILE* out = open_memstream(&buf, &len);
   assert_int_equal(PprofWriter_writeGzip(w, out), 0);
   fclose(out);
   size_t rawLen;
   uint8_t* raw = t_gunzip((const uint8_t*)buf, len, &rawLen);
   Protobuf expected;
   Protobuf_init(&expected);
   PprofWriter_encode(w, &expected);
   assert_int_equal(rawLen, expected.len);
   assert_memory_equal(raw, expected.data, rawLen);
   Protobuf_free(&expected);
   free(raw);
   free(buf);
   PprofWriter_free(w);
}

/* Interning holds across many distinct strings and locations (the tables grow). */
static void test_many_locations(void** state) {
   (void)state;
   PprofWriter* w = PprofWriter_new("goroutines", "count");
   char name[32];
   for (int round = 0; round < 2; round++) {
      for (uint64_t i = 0; i < 60; i++) {
         snprintf(name, sizeof(name), "fn%" PRIu64, i % 30);
         PprofLine line = { .function = name, .file = "f.go", .line = (int64_t)i };
         assert_int_equal(PprofWriter_location(w, 0, 0x1000 + i, &line, 1), i + 1);
      }
   }
   TProfile* p = decode(w);
   assert_int_equal(p->locationCount, 60);
   assert_int_equal(p->functionCount, 30);
   assert_string_equal(t_line_function(p, 42, 0), "fn11");
   t_free(p);
   PprofWriter_free(w);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_header_and_string_table),
      cmocka_unit_test(test_samples_locations_functions),
      cmocka_unit_test(test_mapping_flags),
      cmocka_unit_test(test_strings_are_neutralised),
      cmocka_unit_test(test_gzip),
      cmocka_unit_test(test_many_locations),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
