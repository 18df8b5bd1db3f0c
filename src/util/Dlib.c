/* dlopen into a table of function pointers: see Dlib.h. */
#include "stacktop/Dlib.h"

#include <dlfcn.h>
#include <string.h>

#include "stacktop/Util.h"

void* Dlib_load(const char* soname, const char* package, const DlibSymbol* symbols, size_t count, void* table,
                char* err, size_t errSize) {
   void* handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
   if (!handle) {
      Util_format(err, errSize, "cannot load %s: %s; install the Debian package %s (make deps)", soname, dlerror(),
                  package);
      return NULL;
   }
   for (size_t i = 0; i < count; i++) {
      void* sym = dlsym(handle, symbols[i].name);
      if (!sym) {
         Util_format(err, errSize, "cannot load %s from %s: %s; install the Debian package %s (make deps)",
                     symbols[i].name, soname, dlerror(), package);
         dlclose(handle);
         return NULL;
      }
      /* POSIX: a function pointer has the representation of dlsym's void*. */
      memcpy((char*)table + symbols[i].offset, &sym, sizeof(sym));
   }
   return handle;
}
