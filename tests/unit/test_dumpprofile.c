/* DumpProfile through Dump_writeWith: a hand-built DumpResult as pprof
 * (gunzipped and decoded by the test's reader) and as SVG. Threads: one
 * sample per group, a location per pc with its inlined frames as lines,
 * recursion (the same pc twice) kept apart, mappings by address, cut stacks
 * ending in the folded format's "[stack cut: ...]" root, the labels. Go:
 * the goroutine part by default, inlined frames folded into the location
 * of their physical pc, Go's labels as pprof labels; the threads when the
 * goroutines could not be read, with the reason in a comment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>

#include "protobuf_reader.h"
#include "stacktop/Dump.h"
#include "stacktop/GoProfile.h"

static DumpThread threadsA[12];
static DumpThread threadsB[1] = { { .tid = 7, .name = "main", .state = 'R' } };
static DumpThread threadsC[1] = { { .tid = 9, .name = "io", .state = 'D' } };
static DumpThread threadsD[2] = { { .tid = 20, .name = "rec", .state = 'S' },
                                  { .tid = 21, .name = "rec", .state = 'S' } };
/* A: interrupted in an inlined function of libx, called from the app. */
static uint64_t pcsA[] = { 0x7f00000010, 0x55000000a5 };
static uint8_t kindsA[] = { DUMP_PC_EXACT, DUMP_PC_RETURN };
static DumpFrame framesA[] = {
   { .pc = 0x7f00000010,
     .function = "inner_inl",
     .file = "lib.c",
     .line = 10,
     .module = "/lib/libx.so",
     .inlined = true },
   { .pc = 0x7f00000010, .function = "wait_a", .offset = 0x1f, .file = "lib.c", .line = 20, .module = "/lib/libx.so" },
   { .pc = 0x55000000a4, .function = "caller", .offset = 0x4, .module = "/bin/app" },
};
/* B: cut at --max-depth. */
static uint64_t pcsB[] = { 0x55000000c0 };
static uint8_t kindsB[] = { DUMP_PC_EXACT };
static DumpFrame framesB[] = { { .pc = 0x55000000c0, .function = "spin", .module = "/bin/app" } };
/* D: recursion: the same return address twice, one frame each. */
static uint64_t pcsD[] = { 0x5500000100, 0x5500000201, 0x5500000201 };
static uint8_t kindsD[] = { DUMP_PC_EXACT, DUMP_PC_RETURN, DUMP_PC_RETURN };
static DumpFrame framesD[] = {
   { .pc = 0x5500000100, .function = "leaf", .module = "/bin/app" },
   { .pc = 0x5500000200, .function = "rec", .module = "/bin/app" },
   { .pc = 0x5500000200, .function = "rec", .module = "/bin/app" },
};
static DumpMapping mappings[] = {
   { .start = 0x5500000000, .end = 0x5600000000, .offset = 0x1000, .path = "/bin/app", .buildId = "0102abcd" },
   { .start = 0x7f00000000, .end = 0x7f10000000, .path = "/lib/libx.so" },
};

static DumpResult sample(void) {
   for (int i = 0; i < 12; i++) {
      threadsA[i] = (DumpThread){ .tid = 100 + i, .state = i < 10 ? 'S' : 'R' };
      strcpy(threadsA[i].name, i % 2 ? "worker" : "pool;x");
   }
   static DumpGroup groups[4];
   groups[0] = (DumpGroup){
      .count = 12, .threads = threadsA, .pcs = pcsA, .kinds = kindsA, .pcCount = 2, .frames = framesA, .frameCount = 3
   };
   groups[1] = (DumpGroup){
      .count = 2, .threads = threadsD, .pcs = pcsD, .kinds = kindsD, .pcCount = 3, .frames = framesD, .frameCount = 3
   };
   groups[2] = (DumpGroup){ .count = 1,
                            .threads = threadsB,
                            .pcs = pcsB,
                            .kinds = kindsB,
                            .pcCount = 1,
                            .cut = DUMP_CUT_DEPTH,
                            .frames = framesB,
                            .frameCount = 1 };
   groups[3] =
       (DumpGroup){ .count = 1, .threads = threadsC, .cut = DUMP_CUT_NOT_STOPPED, .wait = { .wchan = "pipe_read" } };
   return (DumpResult){ .pid = 42,
                        .comm = "app",
                        .totalThreads = 16,
                        .stoppedMs = 1.25,
                        .groups = groups,
                        .groupCount = 4,
                        .takenAt = 1700000000.5,
                        .mappings = mappings,
                        .mappingCount = 2,
                        .cutStacks = 1,
                        .lateThreads = 1 };
}

/* A Go program's goroutine profile: main.send inlined into main.check. */
static GoProfileFrame goFrames[] = {
   { .pc = 0x55000010a0, .function = "main.send", .file = "m.go", .line = 52, .inlined = true },
   { .pc = 0x55000010b0, .function = "main.check", .file = "m.go", .line = 57 },
   { .pc = 0x55000020c0, .function = "main.main", .file = "m.go", .line = 90 },
};
static uint64_t goids[] = { 1, 2, 3 };
static GoStateCount goStates[] = { { .state = "chan send", .count = 3 } };
static GoProfileGroup goGroups[] = { { .count = 3,
                                       .labels = "{\"shard\":\"1\", \"worker\":\"a \\\"q\\\"\"}",
                                       .frames = goFrames,
                                       .frameCount = 3,
                                       .goids = goids,
                                       .states = goStates,
                                       .stateCount = 1 } };
static GoProfile goProfile = { .version = "go1.19.8", .total = 3, .groups = goGroups, .groupCount = 1 };

static TProfile* pprofOf(const DumpResult* r, DumpParts parts) {
   DumpWriteOptions o = { .format = DUMP_FORMAT_PPROF, .parts = parts, .debug = 1 };
   char* buf = NULL;
   size_t len = 0;
   FILE* out = open_memstream(&buf, &len);
   assert_int_equal(Dump_writeWith(r, &o, out), 0);
   fclose(out);
   size_t rawLen;
   uint8_t* raw = t_gunzip((const uint8_t*)buf, len, &rawLen);
   TProfile* p = t_decode(raw, rawLen);
   free(raw);
   free(buf);
   return p;
}

static bool hasComment(const TProfile* p, const char* text) {
   for (size_t i = 0; i < p->commentCount; i++) {
      if (strstr(t_string(p, (int64_t)p->comments[i]), text))
         return true;
   }
   return false;
}

static void test_thread_samples(void** state) {
   (void)state;
   DumpResult r = sample();
   TProfile* p = pprofOf(&r, DUMP_PARTS_ALL);
   assert_string_equal(t_string(p, p->sampleType[0]), "threads");
   assert_string_equal(t_string(p, p->sampleType[1]), "count");
   assert_int_equal(p->sampleCount, 4);
   assert_true(p->timeNanos == 1700000000500000000);
   /* group A: two locations, the first with the inlined frame first */
   const TSample* a = &p->samples[0];
   assert_int_equal(a->values[0], 12);
   assert_int_equal(a->locationCount, 2);
   const TLocation* l0 = t_location_by_id(p, a->locations[0]);
   assert_int_equal(l0->address, 0x7f00000010);
   assert_int_equal(l0->lineCount, 2);
   assert_string_equal(t_line_function(p, l0->id, 0), "inner_inl");
   assert_string_equal(t_line_function(p, l0->id, 1), "wait_a");
   assert_int_equal(l0->line[0], 10);
   assert_int_equal(l0->line[1], 20);
   const TLocation* l1 = t_location_by_id(p, a->locations[1]);
   assert_int_equal(l1->address, 0x55000000a4); /* a return address is looked up (and listed) at the call */
   assert_int_equal(l1->lineCount, 1);
   assert_string_equal(t_line_function(p, l1->id, 0), "caller");
   assert_int_equal(l1->line[0], 0);
   /* mappings in address order, each location in the one holding it */
   assert_int_equal(p->mappingCount, 2);
   assert_string_equal(t_string(p, p->mappings[0].file), "/bin/app");
   assert_string_equal(t_string(p, p->mappings[0].buildId), "0102abcd");
   assert_int_equal(p->mappings[0].offset, 0x1000);
   assert_int_equal(l0->mapping, 2);
   assert_int_equal(l1->mapping, 1);
   assert_true(p->mappings[1].hasFunctions && p->mappings[1].hasFilenames && p->mappings[1].hasLineNumbers);
   assert_true(p->mappings[0].hasFunctions);
   assert_false(p->mappings[0].hasFilenames); /* caller, spin, leaf, rec have no file */
   char buf[256];
   assert_string_equal(t_label(p, a, "thread_names", buf, sizeof(buf)), "pool;x|worker");
   assert_string_equal(t_label(p, a, "thread_states", buf, sizeof(buf)), "S\u00d710|R\u00d72");
   assert_string_equal(t_label(p, a, "thread_ids", buf, sizeof(buf)), "100 101 102 ... 111");
   assert_string_equal(t_label(p, a, "stack_cut", buf, sizeof(buf)), "");
   t_free(p);
}

/* f -> rec -> rec: two frames at one pc are two frames, not one location
 * with two lines. */
static void test_recursion(void** state) {
   (void)state;
   DumpResult r = sample();
   TProfile* p = pprofOf(&r, DUMP_PARTS_THREADS);
   const TSample* d = &p->samples[1];
   assert_int_equal(d->values[0], 2);
   assert_int_equal(d->locationCount, 3);
   assert_string_equal(t_line_function(p, d->locations[0], 0), "leaf");
   assert_int_equal(d->locations[1], d->locations[2]);
   assert_int_equal(t_location_by_id(p, d->locations[1])->lineCount, 1);
   assert_string_equal(t_line_function(p, d->locations[1], 0), "rec");
   t_free(p);
}

/* A partial stack's outermost frame is the folded format's root marker. */
static void test_cut_stacks(void** state) {
   (void)state;
   DumpResult r = sample();
   TProfile* p = pprofOf(&r, DUMP_PARTS_THREADS);
   char buf[256];
   const TSample* b = &p->samples[2];
   assert_int_equal(b->locationCount, 2);
   assert_string_equal(t_line_function(p, b->locations[0], 0), "spin");
   assert_string_equal(t_line_function(p, b->locations[1], 0), "[stack cut: depth]");
   assert_int_equal(t_location_by_id(p, b->locations[1])->mapping, 0);
   assert_string_equal(t_label(p, b, "stack_cut", buf, sizeof(buf)), "depth");
   const TSample* c = &p->samples[3];
   assert_int_equal(c->locationCount, 1);
   assert_string_equal(t_line_function(p, c->locations[0], 0), "[stack cut: not_stopped pipe_read]");
   assert_string_equal(t_label(p, c, "wchan", buf, sizeof(buf)), "pipe_read");
   assert_true(hasComment(p, "stacktop"));
   assert_true(hasComment(p, "app (pid 42): 16 threads"));
   assert_true(hasComment(p, "1 threads did not stop"));
   assert_true(hasComment(p, "1 stacks are partial"));
   t_free(p);
}

static void test_goroutines_by_default(void** state) {
   (void)state;
   DumpResult r = sample();
   r.go = &goProfile;
   TProfile* p = pprofOf(&r, DUMP_PARTS_ALL);
   assert_string_equal(t_string(p, p->sampleType[0]), "goroutines");
   assert_int_equal(p->sampleCount, 1);
   const TSample* s = &p->samples[0];
   assert_int_equal(s->values[0], 3);
   assert_int_equal(s->locationCount, 2);
   const TLocation* l0 = t_location_by_id(p, s->locations[0]);
   assert_int_equal(l0->address, 0x55000010a0);
   assert_int_equal(l0->mapping, 1);
   assert_int_equal(l0->lineCount, 2);
   assert_string_equal(t_line_function(p, l0->id, 0), "main.send");
   assert_string_equal(t_line_function(p, l0->id, 1), "main.check");
   assert_int_equal(l0->line[1], 57);
   assert_string_equal(t_line_function(p, s->locations[1], 0), "main.main");
   char buf[256];
   assert_string_equal(t_label(p, s, "shard", buf, sizeof(buf)), "1");
   assert_string_equal(t_label(p, s, "worker", buf, sizeof(buf)), "a \"q\"");
   assert_string_equal(t_label(p, s, "goroutine_states", buf, sizeof(buf)), "chan send\u00d73");
   assert_string_equal(t_label(p, s, "goroutine_ids", buf, sizeof(buf)), "1 2 3");
   assert_true(hasComment(p, "app (pid 42): 3 goroutines (go1.19.8)"));
   t_free(p);
   /* --threads: the threads of the same dump */
   p = pprofOf(&r, DUMP_PARTS_THREADS);
   assert_string_equal(t_string(p, p->sampleType[0]), "threads");
   assert_int_equal(p->sampleCount, 4);
   t_free(p);
}

static void test_goroutines_unavailable(void** state) {
   (void)state;
   DumpResult r = sample();
   GoProfile broken = { .version = "go1.19.8" };
   strcpy(broken.error, "allgs not found");
   r.go = &broken;
   TProfile* p = pprofOf(&r, DUMP_PARTS_ALL);
   assert_string_equal(t_string(p, p->sampleType[0]), "threads");
   assert_int_equal(p->sampleCount, 4);
   assert_true(hasComment(p, "goroutines unavailable (allgs not found): these are the threads"));
   t_free(p);
   /* asked for the goroutines: none, and why */
   p = pprofOf(&r, DUMP_PARTS_GOROUTINES);
   assert_string_equal(t_string(p, p->sampleType[0]), "goroutines");
   assert_int_equal(p->sampleCount, 0);
   assert_true(hasComment(p, "goroutines unavailable: allgs not found"));
   t_free(p);
}

static char* svgOf(const DumpResult* r, DumpParts parts) {
   DumpWriteOptions o = { .format = DUMP_FORMAT_SVG, .parts = parts, .debug = 1 };
   char* buf = NULL;
   size_t len = 0;
   FILE* out = open_memstream(&buf, &len);
   assert_int_equal(Dump_writeWith(r, &o, out), 0);
   fclose(out);
   return buf;
}

static void test_svg_parts(void** state) {
   (void)state;
   DumpResult r = sample();
   char* doc = svgOf(&r, DUMP_PARTS_ALL);
   assert_non_null(strstr(doc, "<title>app (16 threads, 100.00%)</title>"));
   assert_non_null(strstr(doc, "<title>wait_a (12 threads, 75.00%)\nlib.c:20</title>"));
   assert_non_null(strstr(doc, "<title>caller (12 threads, 75.00%)\n/bin/app</title>"));
   assert_non_null(strstr(doc, "<title>[stack cut: not_stopped pipe_read] (1 threads, 6.25%)</title>"));
   assert_non_null(strstr(doc, ">app (pid 42): 16 threads</text>"));
   assert_non_null(strstr(doc, "2023-11-14 22:13:20 UTC"));
   free(doc);
   r.go = &goProfile;
   doc = svgOf(&r, DUMP_PARTS_ALL);
   assert_non_null(strstr(doc, "<title>main.send (3 goroutines, 100.00%)\nm.go:52</title>"));
   assert_null(strstr(doc, "wait_a"));
   free(doc);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_thread_samples),
      cmocka_unit_test(test_recursion),
      cmocka_unit_test(test_cut_stacks),
      cmocka_unit_test(test_goroutines_by_default),
      cmocka_unit_test(test_goroutines_unavailable),
      cmocka_unit_test(test_svg_parts),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
