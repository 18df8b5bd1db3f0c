#ifndef STACKTOP_SAFEPATH_H
#define STACKTOP_SAFEPATH_H
/* Opening a path that other users may have tampered with, as root: the path
 * is walked from "/" one component at a time with O_NOFOLLOW. A symbolic link
 * is followed only when root owns it and it sits in a directory that only
 * root can write (so root placed it, e.g. /var/run -> /run); the last
 * component is never followed. The caller's visit function sees each
 * directory on the way and the final object (already opened, so what it
 * checks is what will be used) and can refuse any of them. */
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* Returns 0 to go on, or -1 after writing why into err. `path` is the part
 * walked so far, `last` is true for the final component. */
typedef int (*SafePathVisit)(void* ctx, const char* path, const struct stat* sb, bool last, char* err, size_t errSize);

/* Opens absolute `path` with lastFlags (O_NOFOLLOW and O_CLOEXEC are added).
 * With mkdirs, missing directories are created: parents 0755, the last one
 * 0700 (lastFlags must then include O_DIRECTORY). Returns the fd, or -1 with
 * a message in err (errno kept from the failing call where there is one). */
int SafePath_open(const char* path, int lastFlags, bool mkdirs, SafePathVisit visit, void* ctx, char* err,
                  size_t errSize);
/* Whether a directory's mode lets users other than its owner replace its
 * entries (group/other writable without the sticky bit). */
bool SafePath_othersCanWrite(const struct stat* sb);

#endif
