/* Test-only: writes the hand-built pclntabs of tests/tools/pclntab_build.h
 * as libFuzzer seeds for tests/fuzz/fuzz_pclntab.c, one per format (and a
 * Go 1.26-style one with textStart 0 in the header). Each seed is the table
 * followed by its inline trees, laid out as the harness maps its input:
 * link-time address FUZZ_BASE + i is byte i, and moduledata.gofunc is
 * FUZZ_BASE. */
#include <stdio.h>

#include "pclntab_build.h"

#define FUZZ_BASE 0x10000000ull

static int writeSeed(const char* dir, const char* name, PbSpec spec) {
   Pb first = pbBuild(&spec); /* sizes do not depend on where the trees are */
   size_t tableSize = first.size;
   pbFree(&first);
   spec.memBase = FUZZ_BASE + tableSize;
   spec.gofunc = FUZZ_BASE;
   Pb pb = pbBuild(&spec);
   char path[4096];
   snprintf(path, sizeof(path), "%s/%s", dir, name);
   FILE* f = fopen(path, "wb");
   int ok = f && fwrite(pb.data, 1, pb.size, f) == pb.size && fwrite(pb.mem, 1, pb.memSize, f) == pb.memSize;
   if (f && fclose(f) != 0)
      ok = 0;
   pbFree(&pb);
   if (!ok)
      fprintf(stderr, "pclntab_seeds: cannot write %s\n", path);
   return ok ? 0 : 1;
}

int main(int argc, char** argv) {
   if (argc != 2) {
      fprintf(stderr, "usage: pclntab_seeds DIR\n");
      return 2;
   }
   PbSpec text0 = pbStandard(120);
   text0.headerTextStart = 0;
   return writeSeed(argv[1], "hand-go116", pbStandard(116)) | writeSeed(argv[1], "hand-go118", pbStandard(118)) |
          writeSeed(argv[1], "hand-go120", pbStandard(120)) | writeSeed(argv[1], "hand-go126-text0", text0);
}
