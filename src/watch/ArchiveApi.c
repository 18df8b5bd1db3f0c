/* libarchive through dlopen: see ArchiveApi.h for why. */
#include "stacktop/ArchiveApi.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "stacktop/Dlib.h"
#include "stacktop/Util.h"

#define ARCHIVE_SONAME "libarchive.so.13"
#define ARCHIVE_PACKAGE "libarchive13"

/* Where each symbol lands in the table. */
static const DlibSymbol symbols[] = {
   { .name = "archive_write_new", .offset = offsetof(ArchiveApi, writeNew) },
   { .name = "archive_write_add_filter_gzip", .offset = offsetof(ArchiveApi, writeAddFilterGzip) },
   { .name = "archive_write_set_format_pax_restricted", .offset = offsetof(ArchiveApi, writeSetFormatPaxRestricted) },
   { .name = "archive_write_open_fd", .offset = offsetof(ArchiveApi, writeOpenFd) },
   { .name = "archive_write_header", .offset = offsetof(ArchiveApi, writeHeader) },
   { .name = "archive_write_data", .offset = offsetof(ArchiveApi, writeData) },
   { .name = "archive_write_close", .offset = offsetof(ArchiveApi, writeClose) },
   { .name = "archive_write_free", .offset = offsetof(ArchiveApi, writeFree) },
   { .name = "archive_error_string", .offset = offsetof(ArchiveApi, errorString) },
   { .name = "archive_errno", .offset = offsetof(ArchiveApi, errnoOf) },
   { .name = "archive_entry_new", .offset = offsetof(ArchiveApi, entryNew) },
   { .name = "archive_entry_set_pathname", .offset = offsetof(ArchiveApi, entrySetPathname) },
   { .name = "archive_entry_set_size", .offset = offsetof(ArchiveApi, entrySetSize) },
   { .name = "archive_entry_set_filetype", .offset = offsetof(ArchiveApi, entrySetFiletype) },
   { .name = "archive_entry_set_perm", .offset = offsetof(ArchiveApi, entrySetPerm) },
   { .name = "archive_entry_set_mtime", .offset = offsetof(ArchiveApi, entrySetMtime) },
   { .name = "archive_entry_free", .offset = offsetof(ArchiveApi, entryFree) },
};
/* Every field of the table has a row above, so a forgotten one cannot stay NULL. */
_Static_assert(sizeof(symbols) / sizeof(symbols[0]) == sizeof(ArchiveApi) / sizeof(void (*)(void)),
               "symbols[] must fill every ArchiveApi field");

/* Process-wide by nature: a dlopen handle belongs to the whole process, so
 * the table is filled once (pthread_once) and never unloaded. */
static struct {
   pthread_once_t once;
   ArchiveApi api;
   const ArchiveApi* loaded; /* &api once every symbol resolved, else NULL */
   char error[512];
} archiveContext = { .once = PTHREAD_ONCE_INIT };

static void load(void) {
   if (Dlib_load(ARCHIVE_SONAME, ARCHIVE_PACKAGE, symbols, sizeof(symbols) / sizeof(symbols[0]), &archiveContext.api,
                 archiveContext.error, sizeof(archiveContext.error)))
      archiveContext.loaded = &archiveContext.api;
}

const ArchiveApi* ArchiveApi_get(char* err, size_t errSize) {
   pthread_once(&archiveContext.once, load);
   if (!archiveContext.loaded)
      Util_format(err, errSize, "%s", archiveContext.error);
   return archiveContext.loaded;
}
