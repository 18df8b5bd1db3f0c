/* dlopen into a table of function pointers; see Library.h. */
#include "stacktop/Library.h"

#include <dlfcn.h>
#include <string.h>

#include "stacktop/Util.h"

bool Library_load(const LibrarySpec* spec, void* table, char* err, size_t errSize) {
   void* handle = dlopen(spec->soname, RTLD_NOW | RTLD_LOCAL);
   if (!handle) {
      Util_format(err, errSize, "cannot load %s: %s; install the Debian package %s (make deps)", spec->soname,
                  dlerror(), spec->package);
      return false;
   }
   for (size_t i = 0; i < spec->symbolCount; i++) {
      void* sym = dlsym(handle, spec->symbols[i].name);
      if (!sym) {
         Util_format(err, errSize, "cannot load %s from %s: %s; install the Debian package %s (make deps)",
                     spec->symbols[i].name, spec->soname, dlerror(), spec->package);
         dlclose(handle);
         return false;
      }
      /* POSIX: a function pointer has the representation of dlsym's void*. */
      memcpy((char*)table + spec->symbols[i].offset, &sym, sizeof(sym));
   }
   return true;
}
