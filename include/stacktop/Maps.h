#ifndef STACKTOP_MAPS_H
#define STACKTOP_MAPS_H
/* /proc/PID/maps, parsed into a sorted table. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct MapEntry_ {
   uint64_t start, end; /* [start, end) */
   uint64_t offset;     /* file offset of start */
   bool read, write, exec;
   unsigned long devMajor, devMinor;
   unsigned long inode;
   char* path;   /* "" for anonymous; "[stack]", "[vdso]", ... kept as is */
   bool deleted; /* path ends in " (deleted)": the file was unlinked */
} MapEntry;

typedef struct Maps_ {
   MapEntry* entries; /* sorted by start */
   size_t count;
} Maps;

/* Parses maps text (pure; for tests and the fuzzer). Malformed lines are skipped.
 * Returns 0, or -1 when nothing could be parsed from non-empty text. */
int Maps_parse(Maps* this, const char* text, size_t len);
/* Reads /proc/PID/maps. Returns 0, or -1 with a message. */
int Maps_read(Maps* this, pid_t pid, char* err, size_t errSize);
const MapEntry* Maps_find(const Maps* this, uint64_t addr);
/* Takes fd (always closed) of a regular ELF file and returns a private copy
 * of it in a sealed memfd (no shrink/grow/write), or -1 when it is not ELF,
 * empty or over 512 MiB. The target may truncate its own files while we read
 * them: touching a mapping of such a file past its new end raises SIGBUS in
 * us, a mapping of the sealed copy never does. The caller closes the result. */
int Maps_sealedCopy(int fd);
/* The very file mapped by e in process pid, found as its path when device and
 * inode match, else the kernel's /proc/PID/map_files handle (deleted files),
 * else the path inside /proc/PID/root (another mount namespace), and returned
 * as a Maps_sealedCopy: only regular ELF files. Returns an fd the caller
 * closes, or -1. */
int Maps_openFile(pid_t pid, const MapEntry* e);
void Maps_free(Maps* this);

#endif
