/* A small program whose builds (with debug info, stripped, split debug file)
 * seed the ELF fuzzer's corpus: symtab, dynsym, notes, debuglink, DWARF. */
#include <stdio.h>
#include <stdlib.h>

static int helper(int x) {
   return x * 2 + 1;
}

int exported(int x);
int exported(int x) {
   return helper(x) + rand();
}

int main(int argc, char** argv) {
   (void)argv;
   printf("%d\n", exported(argc));
   return 0;
}
