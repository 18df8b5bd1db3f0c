/* StackModel: a DumpResult turned into sections of groups for the stack
 * view (collapsed lines with count, state mix and top user function;
 * members; frames), the top-user-frame rule, search, and the builder a
 * goroutine section will use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "stacktop/StackModel.h"

static DumpThread workers[12];
static DumpThread others[2] = {
   { .tid = 7, .name = "main", .state = 'R' },
   { .tid = 9, .name = "io", .state = 'D' },
};
/* A libc wait under the program's own function: the latter is the top. */
static DumpFrame waitFrames[] = {
   { .pc = 0x7f10,
     .function = "__futex_abstimed_wait_common",
     .offset = 0xc5,
     .module = "/usr/lib/x86_64-linux-gnu/libc.so.6" },
   { .pc = 0x7f20, .function = "pthread_cond_wait", .offset = 0x1e7, .module = "/usr/lib/x86_64-linux-gnu/libc.so.6" },
   { .pc = 0x5510,
     .function = "park_on_condvar",
     .offset = 0x33,
     .file = "/src/app/stack_groups.c",
     .line = 29,
     .module = "/opt/app/bin/app" },
   { .pc = 0x7f30, .function = "start_thread", .offset = 0x304, .module = "/usr/lib/x86_64-linux-gnu/libc.so.6" },
};
/* Nothing but the system: the innermost frame stands in; unknown frames too. */
static DumpFrame systemFrames[] = {
   { .pc = 0x7f40, .function = "read", .offset = 0x12, .module = "/lib/x86_64-linux-gnu/libc.so.6" },
   { .pc = 0x12 },
};

static DumpResult sample(void) {
   for (int i = 0; i < 12; i++)
      workers[i] = (DumpThread){ .tid = 100 + i, .name = "parker", .state = i < 10 ? 'S' : 'R' };
   static DumpGroup groups[2];
   groups[0] = (DumpGroup){ .count = 12, .threads = workers, .frames = waitFrames, .frameCount = 4 };
   groups[1] = (DumpGroup){ .count = 2, .threads = others, .frames = systemFrames, .frameCount = 2 };
   return (DumpResult){ .pid = 42, .comm = "app", .totalThreads = 14, .groups = groups, .groupCount = 2 };
}

static void test_from_dump(void** state) {
   (void)state;
   DumpResult r = sample();
   StackModel* m = StackModel_fromDump(&r);
   assert_int_equal(m->sectionCount, 1);
   const StackSection* s = &m->sections[0];
   assert_string_equal(s->title, "thread profile: total 14");
   assert_int_equal(s->groupCount, 2);
   const StackGroup* g = &s->groups[0];
   assert_int_equal(g->count, 12);
   assert_string_equal(g->states, "S\u00d710 R\u00d72");
   assert_string_equal(g->top, "park_on_condvar stack_groups.c:29");
   assert_string_equal(g->members, "threads 100 101 102 ... 111 (names: parker)");
   assert_int_equal(g->frameCount, 4);
   assert_string_equal(g->frames[0], "0x7f10  __futex_abstimed_wait_common+0xc5  /usr/lib/x86_64-linux-gnu/libc.so.6");
   assert_string_equal(g->frames[2], "0x5510  park_on_condvar+0x33  /src/app/stack_groups.c:29");
   const StackGroup* h = &s->groups[1];
   assert_string_equal(h->states, "D\u00d71 R\u00d71");
   assert_string_equal(h->top, "read+0x12 libc.so.6");
   assert_string_equal(h->members, "threads 7 9 (names: io, main)");
   assert_string_equal(h->frames[1], "0x12");
   StackModel_free(m);
}

static void test_top_user_frame(void** state) {
   (void)state;
   DumpGroup g = { .frames = waitFrames, .frameCount = 4 };
   assert_ptr_equal(StackModel_topUserFrame(&g), &waitFrames[2]);
   g.frames = systemFrames;
   g.frameCount = 2;
   assert_ptr_equal(StackModel_topUserFrame(&g), &systemFrames[0]);
   /* Go: the runtime's frames are skipped like libc's. */
   DumpFrame goFrames[] = {
      { .pc = 1, .function = "runtime.futex", .module = "/srv/api" },
      { .pc = 2, .function = "runtime.notesleep", .module = "/srv/api" },
      { .pc = 3, .function = "main.(*Server).poll", .file = "/srv/src/server.go", .line = 88, .module = "/srv/api" },
   };
   g.frames = goFrames;
   g.frameCount = 3;
   assert_ptr_equal(StackModel_topUserFrame(&g), &goFrames[2]);
   g.frameCount = 0;
   assert_null(StackModel_topUserFrame(&g));
}

static void test_search(void** state) {
   (void)state;
   DumpResult r = sample();
   StackModel* m = StackModel_fromDump(&r);
   const StackGroup* g = &m->sections[0].groups[0];
   assert_true(StackModel_groupMatches(g, "PTHREAD_COND"));      /* a frame, any case */
   assert_true(StackModel_groupMatches(g, "parker"));            /* a thread name */
   assert_true(StackModel_groupMatches(g, "stack_groups.c:29")); /* file:line */
   assert_false(StackModel_groupMatches(g, "nanosleep"));
   assert_false(StackModel_groupMatches(g, ""));
   StackModel_free(m);
}

/* The builder another section (goroutines) fills the same way. */
static void test_builder(void** state) {
   (void)state;
   StackModel* m = StackModel_new();
   StackSection* s = StackModel_addSection(m, "goroutine profile: total 3");
   StackGroup* g = StackModel_addGroup(s, 3, "chan receive\u00d73", "main.worker server.go:12", "goroutines 1 5 9");
   StackModel_addFrame(g, "main.worker server.go:12");
   StackModel_addFrame(g, "runtime.goexit asm_amd64.s:1598");
   assert_int_equal(m->sectionCount, 1);
   assert_int_equal(s->groupCount, 1);
   assert_int_equal(g->frameCount, 2);
   assert_true(StackModel_groupMatches(g, "goexit"));
   /* The threads follow the goroutines. */
   DumpResult r = sample();
   StackModel_addThreads(m, &r);
   assert_int_equal(m->sectionCount, 2);
   assert_string_equal(m->sections[1].title, "thread profile: total 14");
   StackModel_free(m);
   StackModel_free(NULL);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_from_dump),
      cmocka_unit_test(test_top_user_frame),
      cmocka_unit_test(test_search),
      cmocka_unit_test(test_builder),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
