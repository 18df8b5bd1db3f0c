/* DwarfLines against libdw's own line tables (dwarf_getsrc_die,
 * dwarf_linesrc) on every line row of: programs built here by gcc (DWARF 2,
 * 4, 5) and clang (DWARF 4, 5), this test binary, and libc6-dbg's libc;
 * then malformed programs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stacktop/DwarfLines.h"
#include "stacktop/ElfReader.h"
#include "stacktop/Maps.h"
#include "stacktop/Util.h"

/* Rows checked per file (evenly spread): each check runs a whole unit's program. */
#define MAX_CHECKS 4000

static const char source[] = "#include <stdio.h>\n"
                             "#include <stdlib.h>\n"
                             "static inline int twice(int x) { return x * 2; }\n"
                             "__attribute__((noinline)) static int work(int n) {\n"
                             "   int s = 0;\n"
                             "   for (int i = 0; i < n; i++)\n"
                             "      s += twice(i) + rand() % 7;\n"
                             "   return s;\n"
                             "}\n"
                             "int main(int argc, char** argv) {\n"
                             "   (void)argv;\n"
                             "   printf(\"%d\\n\", work(argc * 100));\n"
                             "   return 0;\n"
                             "}\n";

static const uint8_t* section(Dwarf* dwarf, const char* name, uint64_t* size) {
   Elf* elf = dwarf_getelf(dwarf);
   size_t names;
   *size = 0;
   assert_int_equal(elf_getshdrstrndx(elf, &names), 0);
   for (Elf_Scn* scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
      GElf_Shdr mem;
      GElf_Shdr* sh = gelf_getshdr(scn, &mem);
      const char* n = elf_strptr(elf, names, sh->sh_name);
      if (!n || strcmp(n, name) != 0)
         continue;
      Elf_Data* data = elf_getdata(scn, NULL); /* libdw inflated it in place */
      *size = data->d_size;
      return data->d_buf;
   }
   return NULL;
}

/* libdw's path for a row of ours. */
static void ourPath(const DwarfLinesInput* in, uint64_t file, char* buf, size_t size) {
   const char *dir, *name;
   assert_true(DwarfLines_file(in, file, &dir, &name));
   if (name[0] == '/' || !dir)
      snprintf(buf, size, "%s", name);
   else
      snprintf(buf, size, "%s/%s", dir, name);
}

/* Every (sampled) row address, and the byte after it, looked up both ways. */
static size_t compareFile(const char* path) {
   int fd = open(path, O_RDONLY);
   assert_true(fd >= 0);
   Dwarf* dwarf = dwarf_begin(fd, DWARF_C_READ);
   assert_non_null(dwarf);
   DwarfLinesInput base = { 0 };
   base.line = section(dwarf, ".debug_line", &base.lineSize);
   base.lineStr = section(dwarf, ".debug_line_str", &base.lineStrSize);
   base.str = section(dwarf, ".debug_str", &base.strSize);
   size_t rows = 0, checked = 0;
   Dwarf_Off off = 0, next;
   size_t hsize;
   while (dwarf_nextcu(dwarf, off, &next, &hsize, NULL, NULL, NULL) == 0) {
      Dwarf_Die cu;
      Dwarf_Lines* lines;
      size_t n;
      if (dwarf_offdie(dwarf, off + hsize, &cu) && dwarf_getsrclines(&cu, &lines, &n) == 0)
         rows += n;
      off = next;
   }
   size_t stride = rows / MAX_CHECKS + 1, seen = 0;
   off = 0;
   while (dwarf_nextcu(dwarf, off, &next, &hsize, NULL, NULL, NULL) == 0) {
      Dwarf_Die cu;
      Dwarf_Lines* lines;
      size_t n;
      Dwarf_Attribute attr;
      Dwarf_Word stmt;
      if (!dwarf_offdie(dwarf, off + hsize, &cu) || dwarf_getsrclines(&cu, &lines, &n) != 0 ||
          dwarf_formudata(dwarf_attr(&cu, DW_AT_stmt_list, &attr), &stmt) != 0) {
         off = next;
         continue;
      }
      DwarfLinesInput in = base;
      in.offset = stmt;
      in.compDir = dwarf_formstring(dwarf_attr(&cu, DW_AT_comp_dir, &attr));
      for (size_t i = 0; i < n; i++, seen++) {
         if (seen % stride)
            continue;
         Dwarf_Addr row;
         dwarf_lineaddr(dwarf_onesrcline(lines, i), &row);
         for (Dwarf_Addr addr = row; addr <= row + 1; addr++) {
            Dwarf_Line* want = dwarf_getsrc_die(&cu, addr);
            DwarfLineRow got;
            bool found = DwarfLines_find(&in, addr, &got);
            if (found != (want != NULL))
               printf("%s: unit %#lx, address %#lx: libdw and DwarfLines disagree (ours %d, line %d, file %lu)\n", path,
                      (unsigned long)off, (unsigned long)addr, found, found ? got.line : 0,
                      found ? (unsigned long)got.file : 0);
            assert_int_equal(found, want != NULL);
            checked++;
            if (!want)
               continue;
            int line;
            dwarf_lineno(want, &line);
            assert_int_equal(got.line, line);
            char ours[4096];
            ourPath(&in, got.file, ours, sizeof(ours));
            assert_string_equal(ours, dwarf_linesrc(want, NULL, NULL));
         }
      }
      off = next;
   }
   dwarf_end(dwarf);
   close(fd);
   return checked;
}

typedef struct Build_ {
   const char* name;
   const char* command; /* %s: output, %s: source */
} Build;

static const Build builds[] = {
   { "gcc-dwarf2", "gcc -g -gdwarf-2 -O1 -o %s %s" },
   { "gcc-dwarf4", "gcc -g -gdwarf-4 -O2 -o %s %s" },
   { "gcc-dwarf5", "gcc -g -O2 -o %s %s" },
   { "clang-dwarf4", "clang -g -gdwarf-4 -O1 -o %s %s" },
   { "clang-dwarf5", "clang -g -O2 -fuse-ld=lld -o %s %s" },
};

static void test_programsBuiltHere(void** state) {
   (void)state;
   char dir[] = "/tmp/stacktop-test-dwarflines-XXXXXX";
   assert_non_null(mkdtemp(dir));
   char src[128], out[128], cmd[512];
   snprintf(src, sizeof(src), "%s/p.c", dir);
   FILE* f = fopen(src, "w");
   assert_non_null(f);
   fputs(source, f);
   fclose(f);
   for (size_t i = 0; i < sizeof(builds) / sizeof(builds[0]); i++) {
      snprintf(out, sizeof(out), "%s/%s", dir, builds[i].name);
      snprintf(cmd, sizeof(cmd), builds[i].command, out, src);
      assert_int_equal(system(cmd), 0);
      size_t checked = compareFile(out);
      printf("%s: %zu addresses agree with libdw\n", builds[i].name, checked);
      assert_true(checked > 20);
      unlink(out);
   }
   unlink(src);
   rmdir(dir);
}

static void test_thisBinaryAndLibc(void** state) {
   (void)state;
   printf("test binary: %zu addresses agree with libdw\n", compareFile("/proc/self/exe"));
   Maps maps;
   char err[256], path[512];
   assert_int_equal(Maps_read(&maps, getpid(), err, sizeof(err)), 0);
   /* libc by its mapping (under ASan, &printf is the sanitizer's). */
   const MapEntry* e = NULL;
   for (size_t i = 0; i < maps.count && !e; i++) {
      if (strstr(maps.entries[i].path, "/libc.so.6"))
         e = &maps.entries[i];
   }
   assert_non_null(e);
   size_t len;
   char* libc = Util_slurp(e->path, (size_t)64 << 20, &len);
   Maps_free(&maps);
   ElfReader r;
   assert_int_equal(ElfReader_parseHeaders(&r, libc, len, err, sizeof(err)), 0);
   char hex[129];
   assert_true(ElfReader_buildIdHex(&r, hex, sizeof(hex)));
   snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%.2s/%s.debug", hex, hex + 2);
   ElfReader_free(&r);
   free(libc);
   size_t checked = compareFile(path);
   printf("libc6-dbg: %zu addresses agree with libdw\n", checked);
   assert_true(checked > 1000);
}

/* A real unit's program, cut and corrupted: never out of bounds, never
 * looping (ASan and the test's own time). */
static void test_malformed(void** state) {
   (void)state;
   // clang-format off
   static const uint8_t program[] = {
      0x34, 0, 0, 0,            /* unit_length */
      4, 0,                     /* version */
      0x1b, 0, 0, 0,            /* header_length */
      1, 1, 1, 0xfb, 14, 13,    /* min_inst, max_ops, default_is_stmt, line_base, line_range, opcode_base */
      0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1, /* standard_opcode_lengths */
      0,                        /* no include directories */
      'a', '.', 'c', 0, 0, 0, 0, /* file 1: "a.c", directory 0 */
      0,                        /* end of files */
      0, 9, 2, 0, 0x10, 0, 0, 0, 0, 0, 0, /* set_address 0x1000 */
      1,                        /* copy: line 1 at 0x1000 */
      0x4b,                     /* special: +4 bytes, +1 line */
      0, 1, 1,                  /* end_sequence at 0x1004 */
      0, 0, 0,                  /* padding */
   };
   // clang-format on
   DwarfLinesInput in = { .line = program, .lineSize = sizeof(program), .compDir = "/src" };
   DwarfLineRow row;
   assert_true(DwarfLines_find(&in, 0x1000, &row));
   assert_int_equal(row.line, 1);
   assert_true(DwarfLines_find(&in, 0x1003, &row));
   assert_int_equal(row.line, 1);
   /* The unit's last row (line 2 at 0x1004, where the sequence ends): none,
    * as libdw. */
   assert_false(DwarfLines_find(&in, 0x1004, &row));
   const char *dir, *name;
   assert_true(DwarfLines_file(&in, row.file, &dir, &name));
   assert_string_equal(name, "a.c");
   assert_string_equal(dir, "/src");
   assert_false(DwarfLines_file(&in, 7, &dir, &name));
   assert_false(DwarfLines_find(&in, 0xfff, &row));
   uint8_t copy[sizeof(program)];
   for (size_t cut = 0; cut < sizeof(program); cut++) {
      in.line = program;
      in.lineSize = cut;
      (void)DwarfLines_find(&in, 0x1002, &row);
      (void)DwarfLines_file(&in, 1, &dir, &name);
   }
   for (size_t at = 0; at < sizeof(program); at++) {
      for (int v = 0; v < 256; v += 51) {
         memcpy(copy, program, sizeof(copy));
         copy[at] = (uint8_t)v;
         in.line = copy;
         in.lineSize = sizeof(copy);
         (void)DwarfLines_find(&in, 0x1002, &row);
         (void)DwarfLines_file(&in, 1, &dir, &name);
      }
   }
   /* Found by fuzz_dwarflines: line advances that overflow (UBSan), and a
    * DWARF 5 directory table of 2^64 entries of no fields (a loop). */
   // clang-format off
   static const uint8_t overflow[] = {
      0x2d, 0, 0, 0, 4, 0, 0x12, 0, 0, 0, 1, 1, 1, 0xfb, 14, 13,
      0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0,
      0, 9, 2, 0, 0x10, 0, 0, 0, 0, 0, 0,
      3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f, /* advance_line by 2^62 - 1 */
      3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f,
      1, 0, 1, 1,
   };
   static const uint8_t endless[] = {
      0x2b, 0, 0, 0, 5, 0, 8, 0, 0x21, 0, 0, 0, 1, 1, 1, 0xfb, 14, 13,
      0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1,
      0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, /* no formats, 2^64 - 1 directories */
      0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
   };
   // clang-format on
   in = (DwarfLinesInput){ .line = overflow, .lineSize = sizeof(overflow) };
   if (DwarfLines_find(&in, 0x1000, &row))
      assert_true(row.line >= 0);
   in = (DwarfLinesInput){ .line = endless, .lineSize = sizeof(endless) };
   assert_false(DwarfLines_file(&in, 5, &dir, &name));
   in.offset = sizeof(program);
   assert_false(DwarfLines_find(&in, 0x1000, &row));
   in.line = NULL;
   in.offset = 0;
   assert_false(DwarfLines_find(&in, 0x1000, &row));
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_programsBuiltHere),
      cmocka_unit_test(test_thisBinaryAndLibc),
      cmocka_unit_test(test_malformed),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
