#ifndef STACKTOP_DLIB_H
#define STACKTOP_DLIB_H
/* Loading a library on first use (dlopen) into a table of function
 * pointers: the monitor and dumps never load what only watch mode needs
 * (libarchive, libcurl and their dozens of dependencies). Each *Api module
 * keeps its table and a pthread_once around Dlib_load. */
#include <stdbool.h>
#include <stddef.h>

/* A symbol and where its address goes in the caller's table. */
typedef struct DlibSymbol_ {
   const char* name;
   size_t offset;
} DlibSymbol;

/* dlopens soname and fills table (every symbol must resolve). Returns the
 * handle (never closed: it belongs to the process), or NULL with a message
 * naming the library, the missing symbol and the Debian package to install. */
void* Dlib_load(const char* soname, const char* package, const DlibSymbol* symbols, size_t count, void* table,
                char* err, size_t errSize);

#endif
