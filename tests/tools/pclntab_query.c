/* Test-only tool (never installed): opens a Go binary's pclntab with
 * Pclntab and answers queries, so tests/e2e/test_pclntab.py can compare
 * it with Go's debug/gosym and with a Go program's own traceback.
 *
 *   pclntab_query [--scan] info  BINARY   version, counts, where the table is
 *   pclntab_query [--scan] funcs BINARY   every function: entry, end, name
 *   pclntab_query [--scan] pcs   BINARY   per hex pc on stdin: function, file:line,
 *                                         spdelta and the inline-expanded frames
 *   pclntab_query [--scan] names BINARY   per name on stdin: Pclntab_findByName
 *   pclntab_query [--scan] bench BINARY   time Pclntab_frames over the hex pcs on
 *                                         stdin (tests/bench/bench_pclntab.py)
 *
 * The table comes from the `.gopclntab` section, else (or with --scan) from
 * Pclntab_scan over the non-executable PT_LOAD segments. Output is
 * tab-separated, "-" for a missing field; bytes below 0x20 and 0x7f in
 * names are printed as \xNN. The ELF file is parsed here by hand, enough
 * for the fixture binaries (64-bit little-endian); Pclntab itself does no
 * ELF parsing. */
#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stacktop/Pclntab.h"

typedef struct Binary_ {
   uint8_t* data;
   size_t size;
   const Elf64_Ehdr* eh;
   const char* foundBy; /* "section" or "scan" */
   uint64_t pclntabVaddr;
   const uint8_t* pclntab;
   size_t pclntabSize;
   uint64_t moduledata; /* link-time address, 0 when not found */
} Binary;

static void die(const char* what, const char* path) {
   fprintf(stderr, "pclntab_query: %s: %s\n", path, what);
   exit(1);
}

static uint64_t rd64(const uint8_t* p) {
   uint64_t v;
   memcpy(&v, p, 8);
   return v;
}

static void loadFile(Binary* b, const char* path) {
   FILE* f = fopen(path, "rb");
   if (!f)
      die("cannot open", path);
   if (fseek(f, 0, SEEK_END) != 0)
      die("cannot seek", path);
   long size = ftell(f);
   rewind(f);
   b->data = malloc(size > 0 ? (size_t)size : 1);
   b->size = (size_t)size;
   if (size <= 0 || fread(b->data, 1, b->size, f) != b->size)
      die("cannot read", path);
   fclose(f);
   if (b->size < sizeof(Elf64_Ehdr) || memcmp(b->data, ELFMAG, SELFMAG) != 0)
      die("not an ELF file", path);
   b->eh = (const Elf64_Ehdr*)b->data;
   if (b->eh->e_phoff + (uint64_t)b->eh->e_phnum * sizeof(Elf64_Phdr) > b->size ||
       b->eh->e_shoff + (uint64_t)b->eh->e_shnum * sizeof(Elf64_Shdr) > b->size)
      die("truncated headers", path);
}

static const Elf64_Phdr* phdr(const Binary* b, size_t i) {
   return (const Elf64_Phdr*)(b->data + b->eh->e_phoff) + i;
}

static const Elf64_Shdr* section(const Binary* b, const char* name) {
   if (b->eh->e_shnum == 0 || b->eh->e_shstrndx >= b->eh->e_shnum)
      return NULL;
   const Elf64_Shdr* sh = (const Elf64_Shdr*)(b->data + b->eh->e_shoff);
   const Elf64_Shdr* strs = &sh[b->eh->e_shstrndx];
   for (size_t i = 0; i < b->eh->e_shnum; i++) {
      if (strs->sh_offset + sh[i].sh_name >= b->size)
         continue;
      const char* n = (const char*)b->data + strs->sh_offset + sh[i].sh_name;
      if (strnlen(n, b->size - (size_t)(n - (const char*)b->data)) < b->size && strcmp(n, name) == 0)
         return &sh[i];
   }
   return NULL;
}

/* The file bytes at link-time address vaddr, through the PT_LOAD segments. */
static const uint8_t* readVaddr(void* ctx, uint64_t vaddr, size_t len) {
   const Binary* b = ctx;
   for (size_t i = 0; i < b->eh->e_phnum; i++) {
      const Elf64_Phdr* p = phdr(b, i);
      if (p->p_type != PT_LOAD || vaddr < p->p_vaddr || vaddr - p->p_vaddr > p->p_filesz ||
          len > p->p_filesz - (vaddr - p->p_vaddr))
         continue;
      uint64_t off = p->p_offset + (vaddr - p->p_vaddr);
      if (off > b->size || len > b->size - off)
         return NULL;
      return b->data + off;
   }
   return NULL;
}

static void findPclntab(Binary* b, int useScan, const char* path) {
   const Elf64_Shdr* sh = useScan ? NULL : section(b, ".gopclntab");
   if (sh && sh->sh_offset + sh->sh_size <= b->size) {
      b->foundBy = "section";
      b->pclntabVaddr = sh->sh_addr;
      b->pclntab = b->data + sh->sh_offset;
      b->pclntabSize = sh->sh_size;
      return;
   }
   for (size_t i = 0; i < b->eh->e_phnum; i++) {
      const Elf64_Phdr* p = phdr(b, i);
      if (p->p_type != PT_LOAD || (p->p_flags & PF_X) || p->p_offset + p->p_filesz > b->size)
         continue;
      long off = Pclntab_scan(b->data + p->p_offset, p->p_filesz);
      if (off < 0)
         continue;
      b->foundBy = "scan";
      b->pclntabVaddr = p->p_vaddr + (uint64_t)off;
      b->pclntab = b->data + p->p_offset + off;
      b->pclntabSize = p->p_filesz - (size_t)off;
      return;
   }
   die("no pclntab (no .gopclntab section, no signature in a non-executable segment)", path);
}

/* runtime.firstmoduledata: its first word is the pclntab's address, its
 * second funcnametab's (pclntab + funcnameOffset). As GoReSym and the
 * goroutine reader do, scan the writable segments for that pair. */
static void findModuledata(Binary* b, uint64_t funcnameOff) {
   for (size_t i = 0; i < b->eh->e_phnum; i++) {
      const Elf64_Phdr* p = phdr(b, i);
      if (p->p_type != PT_LOAD || !(p->p_flags & PF_W) || p->p_offset + p->p_filesz > b->size)
         continue;
      for (uint64_t at = 0; at + 16 <= p->p_filesz; at += 8) {
         const uint8_t* w = b->data + p->p_offset + at;
         if (rd64(w) == b->pclntabVaddr && rd64(w + 8) == b->pclntabVaddr + funcnameOff) {
            b->moduledata = p->p_vaddr + at;
            return;
         }
      }
   }
}

/* moduledata.gofunc, the base of 1.18+ funcdata offsets (inline trees). */
static uint64_t gofunc(const Binary* b, const Pclntab* t, uint64_t headerTextStart) {
   if (!b->moduledata || t->version == PCLNTAB_GO116)
      return 0;
   const uint8_t* md = readVaddr((void*)b, b->moduledata, 0x200);
   if (!md)
      return 0;
   if (t->version == PCLNTAB_GO118)
      return rd64(md + 0x130);
   if (headerTextStart != 0)
      return rd64(md + 0x140); /* 1.20-1.25 (go-runtime.md F1.8) */
   /* Go 1.26+ reorganized moduledata (textStart 0 in the header); there the
    * go:func.* data follows the pclntable inside .gopclntab (seen on
    * go1.26.5 and go1.27.0). Take the moduledata word that points just past
    * moduledata.pclntable (slice at 0x68, stable since 1.16). */
   uint64_t pclnEnd = rd64(md + 0x68) + rd64(md + 0x70);
   for (size_t off = 0x100; off + 8 <= 0x200; off += 8) {
      uint64_t w = rd64(md + off);
      if (w >= pclnEnd && w < pclnEnd + 64)
         return w;
   }
   return 0;
}

static void openTable(Binary* b, Pclntab* t, int useScan, const char* path, PclntabConfig* c) {
   findPclntab(b, useScan, path);
   uint64_t headerTextStart = b->pclntabSize >= 0x20 ? rd64(b->pclntab + 24) : 0;
   uint64_t funcnameOff = 0;
   if (b->pclntabSize >= 0x48)
      funcnameOff = rd64(b->pclntab + (b->pclntab[0] == 0xfa ? 24 : 32));
   *c = (PclntabConfig){ .read = readVaddr, .readCtx = b };
   if (b->pclntab[0] != 0xfa && headerTextStart == 0) {
      /* Go 1.26+: the header has no text start. The real code takes
       * moduledata.text; this tool takes the .text section, which is the
       * same for the internally linked fixtures. */
      const Elf64_Shdr* text = section(b, ".text");
      if (!text)
         die("header textStart is 0 and there is no .text section", path);
      c->textStart = text->sh_addr;
   }
   char err[256];
   if (Pclntab_open(t, b->pclntab, b->pclntabSize, c, err, sizeof(err)) != 0)
      die(err, path);
   findModuledata(b, funcnameOff);
   c->gofunc = gofunc(b, t, headerTextStart);
   if (Pclntab_open(t, b->pclntab, b->pclntabSize, c, err, sizeof(err)) != 0)
      die(err, path);
}

static void putEscaped(const char* s) {
   if (!s) {
      fputs("-", stdout);
      return;
   }
   for (const unsigned char* p = (const unsigned char*)s; *p; p++) {
      if (*p < 0x20 || *p == 0x7f)
         printf("\\x%02x", *p);
      else
         putchar(*p);
   }
}

static void cmdInfo(const Binary* b, const Pclntab* t, const PclntabConfig* c) {
   printf("version\t%d\n", (int)t->version);
   printf("found\t%s\n", b->foundBy);
   printf("pclntab\t0x%" PRIx64 "\n", b->pclntabVaddr);
   printf("nfunc\t%" PRIu32 "\n", t->nfunc);
   printf("nfiles\t%" PRIu32 "\n", t->nfiles);
   printf("text\t0x%" PRIx64 "\t0x%" PRIx64 "\n", t->textStart, t->textEnd);
   printf("moduledata\t0x%" PRIx64 "\n", b->moduledata);
   printf("gofunc\t0x%" PRIx64 "\n", c->gofunc);
}

static void cmdFuncs(const Pclntab* t) {
   for (uint32_t i = 0; i < t->nfunc; i++) {
      PclntabFunc f;
      if (!Pclntab_func(t, i, &f))
         continue;
      printf("0x%" PRIx64 "\t0x%" PRIx64 "\t", f.entry, f.end);
      putEscaped(f.name);
      printf("\t%u\t%u\n", f.funcID, f.flag);
   }
}

/* pc, function, entry, end, file, line, spdelta, nframes, then per frame
 * (innermost first): function, file, line, inlined (0/1), parentPc. */
static void queryPc(const Pclntab* t, uint64_t pc) {
   PclntabFunc f;
   printf("0x%" PRIx64 "\t", pc);
   if (!Pclntab_find(t, pc, &f)) {
      printf("-\t-\t-\t-\t0\t-\t0\n");
      return;
   }
   putEscaped(f.name);
   printf("\t0x%" PRIx64 "\t0x%" PRIx64 "\t", f.entry, f.end);
   const char* file;
   int line;
   (void)Pclntab_fileLine(t, &f, pc, &file, &line);
   putEscaped(file);
   int32_t sp;
   if (Pclntab_spDelta(t, &f, pc, &sp))
      printf("\t%d\t%" PRId32, line, sp);
   else
      printf("\t%d\t-", line);
   PclntabFrame frames[64];
   size_t n = Pclntab_frames(t, pc, frames, 64);
   printf("\t%zu", n);
   for (size_t i = 0; i < n; i++) {
      putchar('\t');
      putEscaped(frames[i].function);
      putchar('\t');
      putEscaped(frames[i].file);
      printf("\t%d\t%d\t0x%" PRIx64, frames[i].line, frames[i].inlined ? 1 : 0, frames[i].parentPc);
   }
   putchar('\n');
}

static void cmdPcs(const Pclntab* t) {
   char line[256];
   while (fgets(line, sizeof(line), stdin)) {
      char* end;
      uint64_t pc = strtoull(line, &end, 16);
      if (end == line)
         continue;
      queryPc(t, pc);
   }
}

static void cmdNames(const Pclntab* t) {
   char line[4096];
   while (fgets(line, sizeof(line), stdin)) {
      line[strcspn(line, "\n")] = '\0';
      if (!line[0])
         continue;
      PclntabFunc f;
      putEscaped(line);
      if (Pclntab_findByName(t, line, &f))
         printf("\t0x%" PRIx64 "\t%" PRIu32 "\n", f.entry, f.index);
      else
         printf("\t-\t-\n");
   }
}

static double nowSeconds(void) {
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Every pc symbolized as a dump does it (find, inline expansion, file:line
 * per frame), repeated for at least 0.3 s; the best of 3 rounds per pc. */
static void cmdBench(const Pclntab* t) {
   size_t n = 0, cap = 1024;
   uint64_t* pcs = malloc(cap * sizeof(*pcs));
   char line[256];
   while (pcs && fgets(line, sizeof(line), stdin)) {
      char* end;
      uint64_t pc = strtoull(line, &end, 16);
      if (end == line)
         continue;
      if (n == cap)
         pcs = realloc(pcs, (cap *= 2) * sizeof(*pcs));
      if (pcs)
         pcs[n++] = pc;
   }
   if (!pcs || n == 0) {
      fprintf(stderr, "pclntab_query: bench: no pcs on stdin\n");
      exit(1);
   }
   double best = 1e9;
   size_t frames = 0, found = 0;
   for (int round = 0; round < 3; round++) {
      size_t done = 0;
      double start = nowSeconds(), elapsed;
      do {
         frames = found = 0;
         for (size_t i = 0; i < n; i++) {
            PclntabFrame fr[64];
            size_t k = Pclntab_frames(t, pcs[i], fr, 64);
            frames += k;
            found += k > 0;
         }
         done += n;
         elapsed = nowSeconds() - start;
      } while (elapsed < 0.3);
      if (elapsed / (double)done < best)
         best = elapsed / (double)done;
   }
   printf("pcs\t%zu\tfound\t%zu\tframes\t%zu\tns_per_pc\t%.1f\n", n, found, frames, best * 1e9);
   free(pcs);
}

int main(int argc, char** argv) {
   int useScan = argc > 1 && strcmp(argv[1], "--scan") == 0;
   if (argc != 3 + useScan) {
      fprintf(stderr, "usage: pclntab_query [--scan] info|funcs|pcs|names|bench BINARY\n");
      return 2;
   }
   const char* cmd = argv[1 + useScan];
   const char* path = argv[2 + useScan];
   Binary b = { 0 };
   loadFile(&b, path);
   Pclntab t;
   PclntabConfig c;
   openTable(&b, &t, useScan, path, &c);
   if (strcmp(cmd, "info") == 0)
      cmdInfo(&b, &t, &c);
   else if (strcmp(cmd, "funcs") == 0)
      cmdFuncs(&t);
   else if (strcmp(cmd, "pcs") == 0)
      cmdPcs(&t);
   else if (strcmp(cmd, "names") == 0)
      cmdNames(&t);
   else if (strcmp(cmd, "bench") == 0)
      cmdBench(&t);
   else
      die("unknown command", cmd);
   free(b.data);
   return 0;
}
