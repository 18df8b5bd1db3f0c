/* ElfReader on the test binary itself, on libc, on a synthetic ELF that pins
 * the alias/size rules, and on truncated and corrupted buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stacktop/ElfReader.h"
#include "stacktop/Maps.h"
#include "stacktop/Util.h"

#define LIBC_PATH "/lib/x86_64-linux-gnu/libc.so.6"

static __attribute__((noinline, used)) int elfKnownFunction(int x) {
   return x * 3 + 1;
}

/* ---- a synthetic ELF, laid out by hand */

enum {
   SYN_SIZE = 4096,
   SYN_SYMTAB = 1,
   SYN_STRTAB = 2,
   SYN_SHSTRTAB = 3,
   SYN_NOTE = 4,
   SYN_LINK = 5,
   SYN_SECTIONS = 6
};

typedef struct SynSym_ {
   const char* name;
   uint64_t value, size;
   unsigned char bind, type;
   uint16_t shndx;
} SynSym;

static const SynSym SYN_SYMS[] = {
   { "__foo", 0x401000, 16, STB_GLOBAL, STT_FUNC, 1 },
   { "foo", 0x401000, 16, STB_WEAK, STT_FUNC, 1 },
   { "foo_local", 0x401000, 16, STB_LOCAL, STT_FUNC, 1 },
   { "bar@@V1", 0x401010, 32, STB_GLOBAL, STT_FUNC, 1 },
   { "zero", 0x401040, 0, STB_LOCAL, STT_FUNC, 1 },
   { "next", 0x401080, 8, STB_GLOBAL, STT_GNU_IFUNC, 1 },
   { "outer", 0x401100, 0x100, STB_GLOBAL, STT_FUNC, 1 },
   { "inner", 0x401110, 0x10, STB_LOCAL, STT_FUNC, 1 },
   { "sizednotype", 0x401300, 8, STB_GLOBAL, STT_NOTYPE, 1 },
   { "label", 0x401400, 0, STB_LOCAL, STT_NOTYPE, 1 },
   { "runtime.mstart.abi0", 0x401500, 8, STB_GLOBAL, STT_FUNC, 1 },
   { "undef", 0, 0, STB_GLOBAL, STT_FUNC, SHN_UNDEF },
   { "data", 0x402000, 8, STB_GLOBAL, STT_OBJECT, 1 },
   { "absolute", 0x403000, 8, STB_GLOBAL, STT_FUNC, SHN_ABS },
};
#define SYN_SYM_COUNT (sizeof(SYN_SYMS) / sizeof(SYN_SYMS[0]))

static const uint8_t SYN_BUILD_ID[8] = { 0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67 };

/* Offsets of the parts inside the synthetic image, for the corruption tests. */
typedef struct Syn_ {
   uint8_t* data;
   size_t strtabOff, strtabSize, symtabOff, noteOff, linkOff, shoff;
} Syn;

static size_t appendBytes(uint8_t* buf, size_t* pos, const void* bytes, size_t n) {
   size_t at = *pos;
   memcpy(buf + at, bytes, n);
   *pos += n;
   return at;
}

static void align8(size_t* pos) {
   *pos = (*pos + 7) & ~(size_t)7;
}

static void setSection(Syn* s, int index, uint32_t name, uint32_t type, size_t off, size_t size, uint32_t link,
                       size_t entsize) {
   Elf64_Shdr sh = { .sh_name = name,
                     .sh_type = type,
                     .sh_offset = off,
                     .sh_size = size,
                     .sh_link = link,
                     .sh_entsize = entsize,
                     .sh_addralign = 4 };
   memcpy(s->data + s->shoff + (size_t)index * sizeof(sh), &sh, sizeof(sh));
}

static Syn buildSynthetic(void) {
   Syn s = { .data = test_calloc(1, SYN_SIZE) };
   size_t pos = sizeof(Elf64_Ehdr);
   Elf64_Phdr ph = { .p_type = PT_LOAD,
                     .p_flags = PF_R | PF_X,
                     .p_offset = 0,
                     .p_vaddr = 0x400000,
                     .p_filesz = 0x10000,
                     .p_memsz = 0x10000,
                     .p_align = 0x1000 };
   size_t phoff = appendBytes(s.data, &pos, &ph, sizeof(ph));
   /* .strtab */
   uint32_t nameOff[SYN_SYM_COUNT];
   s.strtabOff = appendBytes(s.data, &pos, "", 1);
   for (size_t i = 0; i < SYN_SYM_COUNT; i++) {
      nameOff[i] = (uint32_t)(pos - s.strtabOff);
      appendBytes(s.data, &pos, SYN_SYMS[i].name, strlen(SYN_SYMS[i].name) + 1);
   }
   s.strtabSize = pos - s.strtabOff;
   /* .symtab: null symbol first */
   align8(&pos);
   Elf64_Sym nullSym = { 0 };
   s.symtabOff = appendBytes(s.data, &pos, &nullSym, sizeof(nullSym));
   for (size_t i = 0; i < SYN_SYM_COUNT; i++) {
      Elf64_Sym sym = { .st_name = nameOff[i],
                        .st_info = ELF64_ST_INFO(SYN_SYMS[i].bind, SYN_SYMS[i].type),
                        .st_shndx = SYN_SYMS[i].shndx,
                        .st_value = SYN_SYMS[i].value,
                        .st_size = SYN_SYMS[i].size };
      appendBytes(s.data, &pos, &sym, sizeof(sym));
   }
   size_t symtabSize = pos - s.symtabOff;
   static const char shstr[] = "\0.symtab\0.strtab\0.shstrtab\0.note.gnu.build-id\0.gnu_debuglink";
   size_t shstrOff = appendBytes(s.data, &pos, shstr, sizeof(shstr));
   align8(&pos);
   Elf64_Nhdr nh = { .n_namesz = 4, .n_descsz = sizeof(SYN_BUILD_ID), .n_type = NT_GNU_BUILD_ID };
   s.noteOff = appendBytes(s.data, &pos, &nh, sizeof(nh));
   appendBytes(s.data, &pos, "GNU", 4);
   appendBytes(s.data, &pos, SYN_BUILD_ID, sizeof(SYN_BUILD_ID));
   size_t noteSize = pos - s.noteOff;
   uint32_t crc = 0x12345678;
   s.linkOff = appendBytes(s.data, &pos, "x.debug\0", 8);
   appendBytes(s.data, &pos, &crc, 4);
   align8(&pos);
   s.shoff = pos;
   setSection(&s, SYN_SYMTAB, 1, SHT_SYMTAB, s.symtabOff, symtabSize, SYN_STRTAB, sizeof(Elf64_Sym));
   setSection(&s, SYN_STRTAB, 9, SHT_STRTAB, s.strtabOff, s.strtabSize, 0, 0);
   setSection(&s, SYN_SHSTRTAB, 17, SHT_STRTAB, shstrOff, sizeof(shstr), 0, 0);
   setSection(&s, SYN_NOTE, 27, SHT_NOTE, s.noteOff, noteSize, 0, 0);
   setSection(&s, SYN_LINK, 46, SHT_PROGBITS, s.linkOff, 12, 0, 0);
   assert_true(s.shoff + SYN_SECTIONS * sizeof(Elf64_Shdr) <= SYN_SIZE);
   Elf64_Ehdr eh = { .e_type = ET_EXEC,
                     .e_machine = EM_X86_64,
                     .e_version = EV_CURRENT,
                     .e_entry = 0x401000,
                     .e_phoff = phoff,
                     .e_shoff = s.shoff,
                     .e_ehsize = sizeof(eh),
                     .e_phentsize = sizeof(ph),
                     .e_phnum = 1,
                     .e_shentsize = sizeof(Elf64_Shdr),
                     .e_shnum = SYN_SECTIONS,
                     .e_shstrndx = SYN_SHSTRTAB };
   memcpy(eh.e_ident, ELFMAG, SELFMAG);
   eh.e_ident[EI_CLASS] = ELFCLASS64;
   eh.e_ident[EI_DATA] = ELFDATA2LSB;
   eh.e_ident[EI_VERSION] = EV_CURRENT;
   memcpy(s.data, &eh, sizeof(eh));
   return s;
}

static const char* nameAt(const ElfReader* r, uint64_t vaddr, uint64_t* offset) {
   const ElfSymbol* s = ElfReader_lookup(r, vaddr, offset);
   return s ? s->name : NULL;
}

static void test_syntheticRules(void** state) {
   (void)state;
   Syn s = buildSynthetic();
   ElfReader r;
   char err[128];
   assert_int_equal(ElfReader_parse(&r, s.data, SYN_SIZE, err, sizeof(err)), 0);
   assert_true(r.fromSymtab);
   assert_int_equal(r.type, ET_EXEC);
   assert_int_equal(r.symbolCount, 8);
   uint64_t off = 0;
   /* Aliases: global/weak before local, then fewer leading underscores. */
   assert_string_equal(nameAt(&r, 0x401004, &off), "foo");
   assert_int_equal(off, 4);
   /* Versions are cut off. */
   assert_string_equal(nameAt(&r, 0x401010, &off), "bar");
   assert_int_equal(off, 0);
   /* Past a sized symbol's end: unknown. */
   assert_null(nameAt(&r, 0x401030, &off));
   /* Size 0 reaches the next symbol. */
   assert_string_equal(nameAt(&r, 0x40107f, &off), "zero");
   assert_int_equal(off, 0x3f);
   assert_string_equal(nameAt(&r, 0x401087, &off), "next");
   assert_null(nameAt(&r, 0x401088, &off));
   /* Nested: the inner one, then the enclosing one past its end. */
   assert_string_equal(nameAt(&r, 0x401118, &off), "inner");
   assert_string_equal(nameAt(&r, 0x401130, &off), "outer");
   assert_int_equal(off, 0x30);
   assert_string_equal(nameAt(&r, 0x401304, &off), "sizednotype");
   /* Unsized NOTYPE, objects, undefined and absolute symbols are not functions. */
   assert_null(nameAt(&r, 0x401400, &off));
   assert_null(nameAt(&r, 0x402000, &off));
   assert_null(nameAt(&r, 0x403000, &off));
   assert_null(nameAt(&r, 0x400fff, &off));
   /* Go's ABI0 suffix is cut. */
   assert_string_equal(nameAt(&r, 0x401504, &off), "runtime.mstart");
   char hex[64];
   assert_true(ElfReader_buildIdHex(&r, hex, sizeof(hex)));
   assert_string_equal(hex, "deadbeef01234567");
   assert_false(ElfReader_buildIdHex(&r, hex, 16));
   assert_string_equal(r.debuglink, "x.debug");
   assert_int_equal(r.debuglinkCrc, 0x12345678);
   uint64_t vaddr;
   assert_int_equal(ElfReader_offsetToVaddr(&r, 0x1004, &vaddr), 0);
   assert_int_equal(vaddr, 0x401004);
   assert_int_equal(ElfReader_offsetToVaddr(&r, 0x10000, &vaddr), -1);
   assert_false(r.hasDebugInfo);
   ElfReader_free(&r);
   test_free(s.data);
}

/* Applies one corruption to a fresh synthetic image and parses it. */
typedef void (*Corrupt)(Syn* s);

static int parseCorrupted(Corrupt corrupt, ElfReader* r) {
   Syn s = buildSynthetic();
   corrupt(&s);
   char err[128] = "";
   int rc = ElfReader_parse(r, s.data, SYN_SIZE, err, sizeof(err));
   if (rc < 0)
      assert_true(err[0] != '\0');
   /* Lookups stay safe whatever was parsed. */
   uint64_t off, vaddr;
   for (uint64_t a = 0x400ff0; a < 0x401500; a += 4)
      (void)ElfReader_lookup(r, a, &off);
   (void)ElfReader_offsetToVaddr(r, 0x1000, &vaddr);
   ElfReader_free(r);
   test_free(s.data);
   return rc;
}

static void patch16(Syn* s, size_t off, uint16_t v) {
   memcpy(s->data + off, &v, 2);
}
static void patch32(Syn* s, size_t off, uint32_t v) {
   memcpy(s->data + off, &v, 4);
}
static void patch64(Syn* s, size_t off, uint64_t v) {
   memcpy(s->data + off, &v, 8);
}
static size_t shField(const Syn* s, int index, size_t field) {
   return s->shoff + (size_t)index * sizeof(Elf64_Shdr) + field;
}

static void bigEndian(Syn* s) {
   s->data[EI_DATA] = ELFDATA2MSB;
}
static void class32(Syn* s) {
   s->data[EI_CLASS] = ELFCLASS32;
}
static void badMagic(Syn* s) {
   s->data[1] = 'X';
}
static void arm64(Syn* s) {
   patch16(s, offsetof(Elf64_Ehdr, e_machine), EM_AARCH64);
}
static void coreFile(Syn* s) {
   patch16(s, offsetof(Elf64_Ehdr, e_type), ET_CORE);
}
static void shoffPastEnd(Syn* s) {
   patch64(s, offsetof(Elf64_Ehdr, e_shoff), SYN_SIZE - 8);
}
static void shoffOverflow(Syn* s) {
   patch64(s, offsetof(Elf64_Ehdr, e_shoff), UINT64_MAX - 10);
}
static void shnumHuge(Syn* s) {
   patch16(s, offsetof(Elf64_Ehdr, e_shnum), 0xfff0);
}
static void shentsizeSmall(Syn* s) {
   patch16(s, offsetof(Elf64_Ehdr, e_shentsize), 8);
}
static void phoffOverflow(Syn* s) {
   patch64(s, offsetof(Elf64_Ehdr, e_phoff), UINT64_MAX - 10);
}
static void shstrndxBad(Syn* s) {
   patch16(s, offsetof(Elf64_Ehdr, e_shstrndx), 200);
}
static void symEntsizeBad(Syn* s) {
   patch64(s, shField(s, SYN_SYMTAB, offsetof(Elf64_Shdr, sh_entsize)), 16);
}
static void symLinkBad(Syn* s) {
   patch32(s, shField(s, SYN_SYMTAB, offsetof(Elf64_Shdr, sh_link)), 99);
}
static void symLinkSelf(Syn* s) {
   patch32(s, shField(s, SYN_SYMTAB, offsetof(Elf64_Shdr, sh_link)), SYN_SYMTAB);
}
static void symSizeHuge(Syn* s) {
   patch64(s, shField(s, SYN_SYMTAB, offsetof(Elf64_Shdr, sh_size)), UINT64_MAX);
}
static void strtabOffHuge(Syn* s) {
   patch64(s, shField(s, SYN_STRTAB, offsetof(Elf64_Shdr, sh_offset)), UINT64_MAX - 1);
}
static void strtabUnterminated(Syn* s) {
   /* The last name ("absolute") loses its NUL; the others stay readable. */
   patch64(s, shField(s, SYN_STRTAB, offsetof(Elf64_Shdr, sh_size)), s->strtabSize - 1);
}
static void nameIndexHuge(Syn* s) {
   patch32(s, s->symtabOff + sizeof(Elf64_Sym) * 2, 0xffffff00u);
}
static void noteDescHuge(Syn* s) {
   patch32(s, s->noteOff + 4, 0xfffffff0u);
}
static void noteNameHuge(Syn* s) {
   patch32(s, s->noteOff, 0xfffffff0u);
}
static void linkUnterminated(Syn* s) {
   memset(s->data + s->linkOff, 'a', 12);
}
static void linkWithSlash(Syn* s) {
   memcpy(s->data + s->linkOff, "../x.db", 7);
}

static void test_corruptedHeadersFail(void** state) {
   (void)state;
   static const Corrupt rejected[] = {
      bigEndian,    class32,       badMagic,  arm64,          coreFile,
      shoffPastEnd, shoffOverflow, shnumHuge, shentsizeSmall, phoffOverflow,
   };
   ElfReader r;
   for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
      assert_int_equal(parseCorrupted(rejected[i], &r), -1);
      assert_int_equal(r.symbolCount, 0);
   }
}

static void test_corruptedTablesDegrade(void** state) {
   (void)state;
   ElfReader r;
   /* Each leaves a parseable file whose broken part is ignored; the expected
    * symbol count says how much survived. */
   static const struct {
      Corrupt corrupt;
      size_t symbols;
   } cases[] = {
      { shstrndxBad, 8 }, /* no section names: no debuglink, symbols fine */
      { symEntsizeBad, 0 }, { symLinkBad, 0 },         { symLinkSelf, 0 },      { symSizeHuge, 0 },
      { strtabOffHuge, 0 }, { strtabUnterminated, 8 }, /* "absolute" was never a function */
      { nameIndexHuge, 8 },                            /* "foo" dropped, "__foo" takes the address */
      { noteDescHuge, 8 },  { noteNameHuge, 8 },       { linkUnterminated, 8 }, { linkWithSlash, 8 },
   };
   for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
      Syn s = buildSynthetic();
      cases[i].corrupt(&s);
      char err[128];
      assert_int_equal(ElfReader_parse(&r, s.data, SYN_SIZE, err, sizeof(err)), 0);
      assert_int_equal(r.symbolCount, cases[i].symbols);
      if (cases[i].corrupt == noteDescHuge || cases[i].corrupt == noteNameHuge)
         assert_int_equal(r.buildIdLen, 0);
      if (cases[i].corrupt == linkUnterminated || cases[i].corrupt == linkWithSlash || cases[i].corrupt == shstrndxBad)
         assert_null(r.debuglink);
      if (cases[i].corrupt == nameIndexHuge) {
         uint64_t off;
         assert_string_equal(nameAt(&r, 0x401000, &off), "__foo");
      }
      ElfReader_free(&r);
      test_free(s.data);
   }
}

/* Every truncation of the synthetic image parses or fails, never reads past it. */
static void test_truncations(void** state) {
   (void)state;
   Syn s = buildSynthetic();
   for (size_t len = 0; len <= SYN_SIZE; len++) {
      uint8_t* copy = test_malloc(len ? len : 1);
      memcpy(copy, s.data, len);
      ElfReader r;
      char err[128];
      int rc = ElfReader_parse(&r, copy, len, err, sizeof(err));
      if (len < sizeof(Elf64_Ehdr))
         assert_int_equal(rc, -1);
      uint64_t off;
      (void)ElfReader_lookup(&r, 0x401004, &off);
      ElfReader_free(&r);
      test_free(copy);
   }
   test_free(s.data);
}

/* Deterministic byte flips over the synthetic image. */
static void test_randomCorruption(void** state) {
   (void)state;
   uint64_t seed = 0x9e3779b97f4a7c15u;
   for (int round = 0; round < 3000; round++) {
      Syn s = buildSynthetic();
      for (int k = 0; k < 4; k++) {
         seed = seed * 6364136223846793005u + 1442695040888963407u;
         s.data[(seed >> 33) % 1024] = (uint8_t)(seed >> 13);
      }
      ElfReader r;
      char err[128];
      if (ElfReader_parse(&r, s.data, SYN_SIZE, err, sizeof(err)) == 0) {
         uint64_t off;
         for (uint64_t a = 0x400ff0; a < 0x401500; a += 8)
            (void)ElfReader_lookup(&r, a, &off);
         char hex[129];
         (void)ElfReader_buildIdHex(&r, hex, sizeof(hex));
      }
      ElfReader_free(&r);
      test_free(s.data);
   }
}

/* Thousands of symbols naming one huge string: the name-scan budget stops
 * the table early instead of scanning gigabytes. */
static void test_hostileNameReuse(void** state) {
   (void)state;
   enum { NAME_LEN = 60000, SYMS = 20000 };
   static const char shstr[] = "\0.symtab\0.strtab\0.shstrtab";
   size_t strOff = sizeof(Elf64_Ehdr), strSize = NAME_LEN + 2;
   size_t symOff = (strOff + strSize + 7) & ~(size_t)7, symSize = (SYMS + 1) * sizeof(Elf64_Sym);
   size_t shstrOff = symOff + symSize;
   size_t shoff = (shstrOff + sizeof(shstr) + 7) & ~(size_t)7;
   size_t total = shoff + 4 * sizeof(Elf64_Shdr);
   uint8_t* buf = test_calloc(1, total);
   memset(buf + strOff + 1, 'a', NAME_LEN);
   for (size_t i = 1; i <= SYMS; i++) {
      Elf64_Sym sym = { .st_name = 1,
                        .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
                        .st_shndx = 1,
                        .st_value = 0x1000 + i * 16,
                        .st_size = 16 };
      memcpy(buf + symOff + i * sizeof(sym), &sym, sizeof(sym));
   }
   memcpy(buf + shstrOff, shstr, sizeof(shstr));
   Elf64_Shdr sh[4] = {
      [1] = { .sh_name = 1,
              .sh_type = SHT_SYMTAB,
              .sh_offset = symOff,
              .sh_size = symSize,
              .sh_link = 2,
              .sh_entsize = sizeof(Elf64_Sym) },
      [2] = { .sh_name = 9, .sh_type = SHT_STRTAB, .sh_offset = strOff, .sh_size = strSize },
      [3] = { .sh_name = 17, .sh_type = SHT_STRTAB, .sh_offset = shstrOff, .sh_size = sizeof(shstr) },
   };
   memcpy(buf + shoff, sh, sizeof(sh));
   Elf64_Ehdr eh = { .e_type = ET_DYN,
                     .e_machine = EM_X86_64,
                     .e_version = EV_CURRENT,
                     .e_shoff = shoff,
                     .e_ehsize = sizeof(eh),
                     .e_shentsize = sizeof(Elf64_Shdr),
                     .e_shnum = 4,
                     .e_shstrndx = 3 };
   memcpy(eh.e_ident, ELFMAG, SELFMAG);
   eh.e_ident[EI_CLASS] = ELFCLASS64;
   eh.e_ident[EI_DATA] = ELFDATA2LSB;
   memcpy(buf, &eh, sizeof(eh));
   ElfReader r;
   char err[128];
   assert_int_equal(ElfReader_parse(&r, buf, total, err, sizeof(err)), 0);
   /* Budget: 8 x 60 KB + 1 MiB of names, i.e. about 25 of these. */
   assert_true(r.symbolCount > 0);
   assert_true(r.symbolCount < 40);
   assert_int_equal(strlen(r.symbols[0].name), NAME_LEN);
   ElfReader_free(&r);
   test_free(buf);
}

static void test_selfExecutable(void** state) {
   (void)state;
   size_t len = 0;
   char* image = Util_slurp("/proc/self/exe", 256u << 20, &len);
   assert_non_null(image);
   ElfReader r;
   char err[128];
   assert_int_equal(ElfReader_parse(&r, image, len, err, sizeof(err)), 0);
   assert_true(r.fromSymtab);
   assert_true(r.hasDebugInfo);
   assert_int_equal(r.buildIdLen, 20);
   assert_true(r.loadCount >= 2);
   /* Translate the running function's address back to its ELF vaddr. */
   Maps maps;
   assert_int_equal(Maps_read(&maps, getpid(), err, sizeof(err)), 0);
   uint64_t addr = (uint64_t)(uintptr_t)&elfKnownFunction;
   const MapEntry* e = Maps_find(&maps, addr);
   assert_non_null(e);
   uint64_t vaddr;
   assert_int_equal(ElfReader_offsetToVaddr(&r, addr - e->start + e->offset, &vaddr), 0);
   uint64_t bias = addr - vaddr;
   assert_int_equal(bias % 4096, 0);
   if (r.type == ET_DYN) {
      /* PIE: the bias is where the file's offset-0 mapping starts (first PT_LOAD at vaddr 0). */
      const MapEntry* first = NULL;
      for (size_t i = 0; i < maps.count && !first; i++)
         if (maps.entries[i].inode == e->inode && maps.entries[i].offset == 0)
            first = &maps.entries[i];
      assert_non_null(first);
      assert_int_equal(bias, first->start - r.loads[0].vaddr);
   }
   uint64_t off = 99;
   const ElfSymbol* s = ElfReader_lookup(&r, vaddr, &off);
   assert_non_null(s);
   assert_string_equal(s->name, "elfKnownFunction");
   assert_int_equal(off, 0);
   assert_true(s->size > 0);
   s = ElfReader_lookup(&r, vaddr + 1, &off);
   assert_string_equal(s->name, "elfKnownFunction");
   assert_int_equal(off, 1);
   Maps_free(&maps);
   ElfReader_free(&r);
   free(image);
}

/* libc: only .dynsym; its build-id names libc6-dbg's file and the debuglink CRC matches it. */
static void test_libcAndDebugFile(void** state) {
   (void)state;
   size_t len = 0;
   char* image = Util_slurp(LIBC_PATH, 64u << 20, &len);
   assert_non_null(image);
   ElfReader r;
   char err[128];
   assert_int_equal(ElfReader_parse(&r, image, len, err, sizeof(err)), 0);
   assert_false(r.fromSymtab);
   assert_true(r.symbolCount > 1000);
   char hex[129], path[256];
   assert_true(ElfReader_buildIdHex(&r, hex, sizeof(hex)));
   Util_format(path, sizeof(path), "/usr/lib/debug/.build-id/%.2s/%s.debug", hex, hex + 2);
   size_t dlen = 0;
   char* debug = Util_slurp(path, 256u << 20, &dlen);
   assert_non_null(debug); /* libc6-dbg is installed by make deps */
   assert_non_null(r.debuglink);
   assert_int_equal(ElfReader_crc32(debug, dlen), r.debuglinkCrc);
   ElfReader d;
   assert_int_equal(ElfReader_parse(&d, debug, dlen, err, sizeof(err)), 0);
   assert_true(d.fromSymtab);
   assert_true(d.hasDebugInfo);
   assert_true(d.symbolCount > r.symbolCount);
   assert_memory_equal(d.buildId, r.buildId, r.buildIdLen);
   ElfReader_free(&d);
   ElfReader_free(&r);
   free(debug);
   free(image);
}

static void test_crc32(void** state) {
   (void)state;
   assert_int_equal(ElfReader_crc32("123456789", 9), 0xcbf43926u);
   assert_int_equal(ElfReader_crc32("", 0), 0);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_syntheticRules),
      cmocka_unit_test(test_corruptedHeadersFail),
      cmocka_unit_test(test_corruptedTablesDegrade),
      cmocka_unit_test(test_truncations),
      cmocka_unit_test(test_randomCorruption),
      cmocka_unit_test(test_hostileNameReuse),
      cmocka_unit_test(test_selfExecutable),
      cmocka_unit_test(test_libcAndDebugFile),
      cmocka_unit_test(test_crc32),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
