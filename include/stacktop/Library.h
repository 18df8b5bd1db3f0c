#ifndef STACKTOP_LIBRARY_H
#define STACKTOP_LIBRARY_H
/* A shared library loaded with dlopen into a table of function pointers
 * (MhdApi, JanssonApi): only the command that needs the library pays for it
 * and its dependencies. One row per symbol names the field it fills; a
 * missing library or symbol is one message naming the Debian package. */
#include <stdbool.h>
#include <stddef.h>

typedef struct LibrarySymbol_ {
   const char* name;
   size_t offset; /* of the function pointer in the table */
} LibrarySymbol;

typedef struct LibrarySpec_ {
   const char* soname;  /* "libmicrohttpd.so.12" */
   const char* package; /* Debian package that ships it */
   const LibrarySymbol* symbols;
   size_t symbolCount;
} LibrarySpec;

/* Loads spec->soname (RTLD_NOW | RTLD_LOCAL, never unloaded) and fills every
 * row's field of table. Returns true, or false with a one-line message in
 * err (the library is then closed again). Not thread-safe: callers load once
 * under pthread_once. */
bool Library_load(const LibrarySpec* spec, void* table, char* err, size_t errSize);

#endif
