#ifndef STACKTOP_ARCHIVEAPI_H
#define STACKTOP_ARCHIVEAPI_H
/* libarchive loaded with dlopen on first use: only watch mode writes bundles,
 * so the monitor and dumps do not pay for libarchive and the libraries it
 * pulls in (libxml2, ICU, libcrypto, ...). <archive.h> and <archive_entry.h>
 * still give the types and constants; every call goes through this table. */
#include <stddef.h>

#include <archive.h>
#include <archive_entry.h>

/* Exactly the functions stacktop calls; __typeof__ ties each pointer to the
 * header's own declaration, so a signature mismatch does not compile. */
typedef struct ArchiveApi_ {
   __typeof__(archive_write_new)* writeNew;
   __typeof__(archive_write_add_filter_gzip)* writeAddFilterGzip;
   __typeof__(archive_write_set_format_pax_restricted)* writeSetFormatPaxRestricted;
   __typeof__(archive_write_open_fd)* writeOpenFd;
   __typeof__(archive_write_header)* writeHeader;
   __typeof__(archive_write_data)* writeData;
   __typeof__(archive_write_close)* writeClose;
   __typeof__(archive_write_free)* writeFree;
   __typeof__(archive_error_string)* errorString;
   __typeof__(archive_errno)* errnoOf;
   __typeof__(archive_entry_new)* entryNew;
   __typeof__(archive_entry_set_pathname)* entrySetPathname;
   __typeof__(archive_entry_set_size)* entrySetSize;
   __typeof__(archive_entry_set_filetype)* entrySetFiletype;
   __typeof__(archive_entry_set_perm)* entrySetPerm;
   __typeof__(archive_entry_set_mtime)* entrySetMtime;
   __typeof__(archive_entry_free)* entryFree;
} ArchiveApi;

/* Loads libarchive.so.13 once per process (thread-safe). Returns the
 * process-wide table (never freed), or NULL with a one-line message in err,
 * the same message on every later call. */
const ArchiveApi* ArchiveApi_get(char* err, size_t errSize);

#endif
