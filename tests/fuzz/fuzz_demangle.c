/* libFuzzer harness for Demangler: arbitrary symbol names (a target's
 * .symtab and DWARF linkage names are the target's to choose) through
 * libiberty's C++ and Rust demanglers; the result must be a string. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Demangler.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
   char* name = malloc(size + 3);
   /* Half the inputs as they are, half made to look mangled. */
   size_t at = 0;
   if (size > 0 && (data[0] & 1)) {
      memcpy(name, data[0] & 2 ? "_R" : "_Z", 2);
      at = 2;
   }
   memcpy(name + at, data, size);
   name[at + size] = '\0';
   char* shown = Demangler_demangle(name);
   if (shown && strlen(shown) == 0 && name[0] != '\0')
      abort();
   free(shown);
   free(name);
   return 0;
}
