#ifndef STACKTOP_BUNDLE_H
#define STACKTOP_BUNDLE_H
/* A diagnostic bundle on disk: a .tar.gz (libarchive) named
 * HOST-SERVICE-RULE-YYYYmmddTHHMMSS.tar.gz (UTC), mode 0600, written in the
 * checked bundle_dir (through its fd, never through a link) under the
 * temporary name .NAME.tmp and renamed when complete, so a half-written
 * bundle is never mailed; a watcher killed meanwhile leaves only the .tmp,
 * which the next start removes. Entries sit under one top directory NAME. */
#include <stdbool.h>
#include <stddef.h>

#define BUNDLE_SUFFIX ".tar.gz"
#define BUNDLE_TMP_SUFFIX ".tmp"

typedef struct Bundle_ Bundle;

/* Pure: the stem NAME (no suffix). Characters outside [A-Za-z0-9._] in host,
 * service and rule become '_'. */
void Bundle_stem(char* buf, size_t size, const char* host, const char* service, const char* rule, double wallTime);

/* Starts dirFd/.NAME.tmp. Returns NULL with a message on failure. */
Bundle* Bundle_create(int dirFd, const char* stem, double wallTime, char* err, size_t errSize);
/* Adds a regular file `name` (relative to the bundle's top directory). A
 * failure is kept: every later call fails too and Bundle_finish reports it. */
int Bundle_addData(Bundle* this, const char* name, const void* data, size_t len);
int Bundle_addText(Bundle* this, const char* name, const char* text);
/* Completes the archive (fsync) and renames it to NAME.tar.gz. Frees the
 * bundle either way. Returns 0 and the size, or -1 with a message (the
 * temporary file is removed). */
int Bundle_finish(Bundle* this, unsigned long long* size, char* err, size_t errSize);
/* Throws a bundle away (after an error). */
void Bundle_abort(Bundle* this);
/* Removes .NAME.tmp files (stacktop's own, regular) left by a watcher that
 * was killed while writing. Returns how many. */
size_t Bundle_removeLeftovers(int dirFd);

#endif
