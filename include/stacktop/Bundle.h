#ifndef STACKTOP_BUNDLE_H
#define STACKTOP_BUNDLE_H
/* A diagnostic bundle on disk: a .tar.gz (libarchive) named
 * HOST-SERVICE-RULE-YYYYmmddTHHMMSS.tar.gz (UTC), mode 0600 inside a 0700
 * directory, written under a temporary name and renamed when complete so a
 * half-written bundle is never mailed. Entries sit under one top directory
 * named like the file. Also the retention of old bundles. */
#include <stdbool.h>
#include <stddef.h>

typedef struct Bundle_ Bundle;

/* Creates dir (0700) when missing and tightens it to 0700 when looser.
 * Returns 0, or -1 with a message. */
int Bundle_ensureDir(const char* dir, char* err, size_t errSize);
/* Pure: the file name (no directory). Characters outside [A-Za-z0-9._] in
 * host, service and rule become '_'. */
void Bundle_name(char* buf, size_t size, const char* host, const char* service, const char* rule, double wallTime);

/* Starts a bundle. Returns NULL with a message on failure. */
Bundle* Bundle_create(const char* dir, const char* host, const char* service, const char* rule, double wallTime,
                      char* err, size_t errSize);
/* Adds a regular file `name` (relative to the bundle's top directory). */
int Bundle_addData(Bundle* this, const char* name, const void* data, size_t len);
int Bundle_addText(Bundle* this, const char* name, const char* text);
/* Completes the archive and gives it its final name. Frees the bundle either
 * way. Returns 0 and the final path in path, or -1 with a message. */
int Bundle_finish(Bundle* this, char* path, size_t pathSize, char* err, size_t errSize);
/* Throws a bundle away (after an error). */
void Bundle_abort(Bundle* this);

/* Deletes the oldest bundles in dir beyond `keep` (0: no count limit) and
 * while their total size exceeds maxBytes (0: no size limit), sparing those
 * for which pinned(path) is true (a mail still pending). Returns how many it
 * deleted. */
size_t Bundle_prune(const char* dir, unsigned long keep, unsigned long long maxBytes, bool (*pinned)(const char* path));

#endif
