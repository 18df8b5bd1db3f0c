/* Group: identical PC sequences group together, --group-by function merges
 * stacks that differ only in offsets, unknown functions compare by PC,
 * threads come out by tid, groups by count then group-line text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "stacktop/Group.h"

static GroupThread thread(pid_t tid, const uint64_t* pcs, size_t n) {
   GroupThread t = { .info = { .tid = tid, .state = 'S' }, .pcs = pcs, .pcCount = n };
   strcpy(t.info.name, "w");
   return t;
}

/* Function names by address range: 0x1000.. = "a", 0x2000.. = "b", else unknown. */
static const char* fakeFunction(void* ctx, uint64_t pc, DumpPcKind kind) {
   (void)kind;
   (void)ctx;
   if (pc >= 0x1000 && pc < 0x2000)
      return "a";
   if (pc >= 0x2000 && pc < 0x3000)
      return "b";
   return NULL;
}

static void test_groups_by_pc(void** state) {
   (void)state;
   static const uint64_t s1[] = { 0x1010, 0x2020 };
   static const uint64_t s2[] = { 0x1011, 0x2020 };
   static const uint64_t s3[] = { 0x1010 };
   GroupThread t[] = { thread(30, s1, 2), thread(10, s2, 2), thread(20, s1, 2), thread(5, s3, 1), thread(7, s1, 2) };
   size_t n = 0;
   DumpGroup* g = Group_build(t, 5, DUMP_GROUP_PC, NULL, NULL, &n);
   assert_int_equal(n, 3);
   assert_int_equal(g[0].count, 3);
   assert_int_equal(g[0].threads[0].tid, 7);
   assert_int_equal(g[0].threads[1].tid, 20);
   assert_int_equal(g[0].threads[2].tid, 30);
   assert_int_equal(g[0].pcCount, 2);
   assert_true(g[0].pcs[0] == 0x1010 && g[0].pcs[1] == 0x2020);
   /* equal counts: by the group line text, "1 @ 0x1010" < "1 @ 0x1011 0x2020" */
   assert_int_equal(g[1].count, 1);
   assert_int_equal(g[1].pcCount, 1);
   assert_int_equal(g[1].threads[0].tid, 5);
   assert_int_equal(g[2].threads[0].tid, 10);
   Group_freeAll(g, n);
}

static void test_groups_by_function(void** state) {
   (void)state;
   static const uint64_t s1[] = { 0x1010, 0x2020 };
   static const uint64_t s2[] = { 0x1099, 0x2001 }; /* same functions, other offsets */
   static const uint64_t s3[] = { 0x5000, 0x2020 }; /* unknown innermost */
   static const uint64_t s4[] = { 0x5008, 0x2020 }; /* another unknown PC: its own group */
   GroupThread t[] = { thread(4, s1, 2), thread(3, s2, 2), thread(2, s3, 2), thread(1, s4, 2) };
   size_t n = 0;
   DumpGroup* g = Group_build(t, 4, DUMP_GROUP_FUNCTION, fakeFunction, NULL, &n);
   assert_int_equal(n, 3);
   assert_int_equal(g[0].count, 2);
   /* the group's PCs are those of its lowest tid */
   assert_int_equal(g[0].threads[0].tid, 3);
   assert_true(g[0].pcs[0] == 0x1099);
   Group_freeAll(g, n);

   g = Group_build(t, 4, DUMP_GROUP_PC, fakeFunction, NULL, &n);
   assert_int_equal(n, 4);
   Group_freeAll(g, n);
}

static void test_line_and_sort(void** state) {
   (void)state;
   uint64_t a[] = { 0xabc, 0x10 };
   uint64_t b[] = { 0x9 };
   DumpGroup groups[3] = {
      { .count = 2, .pcs = a, .pcCount = 2 },
      { .count = 5, .pcs = b, .pcCount = 1 },
      { .count = 2, .pcs = b, .pcCount = 1 },
   };
   char* line = Group_line(&groups[0]);
   assert_string_equal(line, "2 @ 0xabc 0x10");
   free(line);
   Group_sort(groups, 3);
   assert_int_equal(groups[0].count, 5);
   /* "2 @ 0x9" sorts before "2 @ 0xabc 0x10" as text */
   assert_true(groups[1].pcs == b);
   assert_true(groups[2].pcs == a);
   DumpGroup empty = { .count = 1 };
   line = Group_line(&empty);
   assert_string_equal(line, "1 @");
   free(line);
}

static void test_empty_stacks(void** state) {
   (void)state;
   GroupThread t[] = { thread(2, NULL, 0), thread(1, NULL, 0) };
   size_t n = 0;
   DumpGroup* g = Group_build(t, 2, DUMP_GROUP_PC, NULL, NULL, &n);
   assert_int_equal(n, 1);
   assert_int_equal(g[0].count, 2);
   assert_int_equal(g[0].pcCount, 0);
   Group_freeAll(g, n);
   g = Group_build(NULL, 0, DUMP_GROUP_PC, NULL, NULL, &n);
   assert_int_equal(n, 0);
   Group_freeAll(g, n);
}

/* A stack cut by the depth limit or the copy limit is not the same stack as
 * a whole one with the same frames; threads that never stopped group by
 * where they wait in the kernel, and each group keeps its own wait. */
static void test_cut_and_wait_are_part_of_identity(void** state) {
   (void)state;
   static const uint64_t s[] = { 0x1010, 0x2020 };
   GroupThread t[] = { thread(1, s, 2),    thread(2, s, 2),    thread(3, s, 2),
                       thread(4, NULL, 0), thread(5, NULL, 0), thread(6, NULL, 0) };
   t[2].cut = DUMP_CUT_COPY_LIMIT;
   DumpKernelWait io = { .wchan = "io_schedule", .stack = (char*)"[<0>] io_schedule+0x42/0x70" };
   DumpKernelWait vfork = { .wchan = "wait_for_vfork_done", .stack = NULL };
   for (int i = 3; i < 6; i++) {
      t[i].cut = DUMP_CUT_NOT_STOPPED;
      t[i].wait = i == 5 ? &vfork : &io;
   }
   size_t n = 0;
   DumpGroup* g = Group_build(t, 6, DUMP_GROUP_PC, NULL, NULL, &n);
   assert_int_equal(n, 4);
   /* count descending, then the group line: "2 @" sorts before "2 @ 0x..." */
   assert_int_equal(g[0].count, 2);
   assert_int_equal(g[0].cut, DUMP_CUT_NOT_STOPPED);
   assert_string_equal(g[0].wait.wchan, "io_schedule");
   assert_string_equal(g[0].wait.stack, io.stack);
   assert_ptr_not_equal(g[0].wait.stack, io.stack); /* the group owns a copy */
   assert_int_equal(g[1].count, 2);
   assert_int_equal(g[1].cut, DUMP_CUT_NONE);
   assert_int_equal(g[2].cut, DUMP_CUT_NOT_STOPPED);
   assert_string_equal(g[2].wait.wchan, "wait_for_vfork_done");
   assert_null(g[2].wait.stack);
   assert_int_equal(g[3].cut, DUMP_CUT_COPY_LIMIT);
   assert_int_equal(g[3].threads[0].tid, 3);
   Group_freeAll(g, n);
}

/* The same number as a return address and as the pc a signal interrupted
 * names different code (the call before it, or the instruction itself). */
static void test_pc_kind_is_part_of_identity(void** state) {
   (void)state;
   static const uint64_t s[] = { 0x1010, 0x2020, 0x1500 };
   static const uint8_t ret[] = { DUMP_PC_EXACT, DUMP_PC_RETURN, DUMP_PC_RETURN };
   static const uint8_t sig[] = { DUMP_PC_EXACT, DUMP_PC_SIGNAL, DUMP_PC_EXACT };
   GroupThread t[] = { thread(1, s, 3), thread(2, s, 3), thread(3, s, 3) };
   t[0].kinds = ret;
   t[2].kinds = sig;
   size_t n = 0;
   DumpGroup* g = Group_build(t, 3, DUMP_GROUP_PC, NULL, NULL, &n);
   assert_int_equal(n, 2);
   assert_int_equal(g[0].count, 2); /* NULL kinds mean exactly ret */
   assert_memory_equal(g[0].kinds, ret, 3);
   assert_memory_equal(g[1].kinds, sig, 3);
   Group_freeAll(g, n);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_groups_by_pc),
      cmocka_unit_test(test_groups_by_function),
      cmocka_unit_test(test_line_and_sort),
      cmocka_unit_test(test_empty_stacks),
      cmocka_unit_test(test_cut_and_wait_are_part_of_identity),
      cmocka_unit_test(test_pc_kind_is_part_of_identity),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
