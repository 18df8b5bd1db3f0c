#ifndef STACKTOP_UTIL_H
#define STACKTOP_UTIL_H
/* Small shared helpers: checked allocation, messages, clocks, whole-file reads.
 * Allocation failures are fatal (a monitor that cannot allocate cannot report
 * anything useful); every other failure is returned to the caller. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define STACKTOP_VERSION "0.1.0"

/* Exit statuses shared by every subcommand. */
enum {
   STACKTOP_EXIT_OK = 0,
   STACKTOP_EXIT_FAILURE = 1, /* the work could not be done (runtime error) */
   STACKTOP_EXIT_USAGE = 2,   /* bad command line, config or input file */
   STACKTOP_EXIT_PARTIAL = 3, /* done, but the result lacks something (it says what and why) */
};

void* Util_xmalloc(size_t size);
void* Util_xcalloc(size_t count, size_t size);
void* Util_xrealloc(void* ptr, size_t size);
char* Util_xstrdup(const char* s);
/* Grows *array (of *capacity elements of elemSize) so that index `need` fits. */
void Util_growArray(void** array, size_t* capacity, size_t need, size_t elemSize);

/* "stacktop: <message>\n" on stderr. */
void Util_error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
/* snprintf into a caller buffer that is never left unterminated. False when
 * the text did not fit: it then ends in "..." (a cut message says so; a
 * caller building a path must check). */
bool Util_format(char* buf, size_t size, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

/* CLOCK_MONOTONIC in seconds. */
double Util_monotonicSeconds(void);
/* CLOCK_REALTIME in seconds. */
double Util_wallSeconds(void);

/* Reads at most size-1 bytes of a (proc) file into buf, NUL-terminated.
 * Returns the byte count, or -1 with errno set. */
ssize_t Util_readFile(const char* path, char* buf, size_t size);
/* Reads what fd gives until its end into a fresh NUL-terminated buffer
 * (caller frees; the fd stays open); *len gets its size. NULL with errno
 * set on a read error. maxBytes caps the read. */
char* Util_readFd(int fd, size_t maxBytes, size_t* len);
/* Reads a whole file into a fresh buffer (caller frees); *len gets its size.
 * Returns NULL with errno set on failure. maxBytes caps the read. */
char* Util_slurp(const char* path, size_t maxBytes, size_t* len);

/* Opens path for writing as a private (0600) file, never through a symlink,
 * with flags added to O_WRONLY|O_CREAT|O_NOFOLLOW|O_CLOEXEC (e.g. O_EXCL or
 * O_TRUNC): stacktop runs as root and writes where others may plant links.
 * Returns NULL with errno set. */
FILE* Util_openPrivate(const char* path, int flags);

/* Parses a whole decimal pid (1..INT_MAX); returns 0 on success, -1 otherwise. */
int Util_parsePid(const char* s, pid_t* out);

#endif
