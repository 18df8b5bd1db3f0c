#ifndef STACKTOP_BUNDLEDIR_H
#define STACKTOP_BUNDLEDIR_H
/* bundle_dir: the one directory `stacktop watch` writes as root (bundles,
 * pending mails, incidents, its state). It is opened afresh at every use and
 * checked then: reached without untrusted symbolic links (SafePath), every
 * directory above it owned by root (or the user running stacktop) and not
 * writable by others, the directory itself owned by that user and mode 0700
 * (tightened through the fd when looser). Everything below it is then opened
 * relative to that fd, never through a link, and only regular files owned by
 * that user are read. "/", system directories and anything under /proc,
 * /sys, /dev, /etc, /usr, /boot, /bin, /sbin or /lib* are refused outright.
 *
 * The directory also holds the key that signs stacktop's own records (.key,
 * 32 random bytes, 0600), created on first use. */
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#define BUNDLEDIR_KEY_BYTES 32

/* Pure policy check of a configured path (for the config and --check-config):
 * absolute, no "." or ".." components, not a system directory. Returns 0, or
 * -1 with what is wrong and what is expected. */
int BundleDir_checkPath(const char* path, char* err, size_t errSize);
/* Opens (with create, creating it and its parents first) and checks the
 * directory. Returns an O_DIRECTORY fd (caller closes), or -1 with a message. */
int BundleDir_open(const char* path, bool create, char* err, size_t errSize);

/* Whether name is a plain file name (no '/', not "." or "..", not empty). */
bool BundleDir_isName(const char* name);
/* Creates dirFd/name as a private (0600) file, never through a link; flags are
 * added to O_WRONLY|O_CREAT|O_NOFOLLOW|O_CLOEXEC. Returns an fd or -1 (errno). */
int BundleDir_create(int dirFd, const char* name, int flags);
/* Opens dirFd/name for reading if it is a regular file owned by the user
 * running stacktop, never through a link. Returns an fd or -1 (errno; EPERM
 * for a file that is not ours). *sb gets its stat when non-NULL. */
int BundleDir_openOwn(int dirFd, const char* name, struct stat* sb);
/* Reads such a file whole (at most maxBytes). Caller frees; NULL with errno. */
char* BundleDir_read(int dirFd, const char* name, size_t maxBytes, size_t* len);
/* Replaces dirFd/name atomically: a private temporary file, fsync, rename,
 * fsync of the directory. Returns 0, or -1 with a message. */
int BundleDir_write(int dirFd, const char* name, const char* data, size_t len, char* err, size_t errSize);
/* Removes dirFd/name if it is a regular file owned by us. Returns 0, or -1 (errno). */
int BundleDir_remove(int dirFd, const char* name);
/* The names in dirFd that end in suffix and do not start with '.', sorted
 * (caller frees each and the array). */
char** BundleDir_list(int dirFd, const char* suffix, size_t* count);
/* The record-signing key, read from (or created in) dirFd/.key. Returns 0, or
 * -1 with a message (a key that is not ours, not 0600 or not 32 bytes). */
int BundleDir_key(int dirFd, unsigned char key[BUNDLEDIR_KEY_BYTES], char* err, size_t errSize);

#endif
