/* The checked bundle directory; see BundleDir.h. */
#include "stacktop/BundleDir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#include "stacktop/SafePath.h"
#include "stacktop/Util.h"

#define KEY_NAME ".key"

/* Directories that are never a bundle_dir themselves. */
static const char* const systemDirs[] = {
   "/home",      "/media",   "/mnt",       "/opt",      "/root",      "/run",
   "/srv",       "/tmp",     "/var",       "/var/lib",  "/var/log",   "/var/tmp",
   "/var/cache", "/var/run", "/var/spool", "/var/mail", "/var/local", "/var/backups",
};

/* Trees no bundle_dir may be inside: the kernel's, the system's own files. */
static const char* const systemTrees[] = { "/proc", "/sys",  "/dev", "/etc",   "/usr",   "/boot",
                                           "/bin",  "/sbin", "/lib", "/lib32", "/lib64", "/libx32" };

static bool isUnder(const char* path, const char* tree) {
   size_t n = strlen(tree);
   return strncmp(path, tree, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int BundleDir_checkPath(const char* path, char* err, size_t errSize) {
   if (!path || path[0] != '/') {
      Util_format(err, errSize, "'%s' is not absolute; expected an absolute directory path", path ? path : "");
      return -1;
   }
   char norm[PATH_MAX];
   Util_format(norm, sizeof(norm), "%s", path);
   size_t len = strlen(norm);
   while (len > 1 && norm[len - 1] == '/')
      norm[--len] = '\0';
   /* Collapse doubled slashes so "//etc" is seen as "/etc". */
   char* w = norm;
   for (const char* r = norm; *r; r++) {
      if (!(r[0] == '/' && r[1] == '/'))
         *w++ = *r;
   }
   *w = '\0';
   for (const char* p = norm; *p;) {
      const char* slash = strchr(p + 1, '/');
      size_t n = slash ? (size_t)(slash - p - 1) : strlen(p + 1);
      if ((n == 1 && p[1] == '.') || (n == 2 && p[1] == '.' && p[2] == '.')) {
         Util_format(err, errSize, "'%s' has a '.' or '..' component; expected a plain absolute path", path);
         return -1;
      }
      if (!slash)
         break;
      p = slash;
   }
   if (strcmp(norm, "/") == 0) {
      Util_format(err, errSize,
                  "'/' is the root directory; expected a directory of its own such as /var/lib/stacktop/bundles");
      return -1;
   }
   for (size_t i = 0; i < sizeof(systemTrees) / sizeof(systemTrees[0]); i++) {
      if (isUnder(norm, systemTrees[i])) {
         Util_format(err, errSize,
                     "'%s' is inside %s, a system directory stacktop must not write or prune; expected a directory "
                     "of its own such as /var/lib/stacktop/bundles",
                     path, systemTrees[i]);
         return -1;
      }
   }
   for (size_t i = 0; i < sizeof(systemDirs) / sizeof(systemDirs[0]); i++) {
      if (strcmp(norm, systemDirs[i]) == 0) {
         Util_format(err, errSize,
                     "'%s' is a system directory stacktop must not make private or prune; expected a directory of "
                     "its own such as /var/lib/stacktop/bundles",
                     path);
         return -1;
      }
   }
   return 0;
}

/* Directories above bundle_dir: root's or ours, and nobody else may replace
 * their entries. bundle_dir itself: ours. */
static int visitDir(void* ctx, const char* path, const struct stat* sb, bool last, char* err, size_t errSize) {
   (void)ctx;
   uid_t me = geteuid();
   if (!S_ISDIR(sb->st_mode)) {
      Util_format(err, errSize, "%s is not a directory", path);
      return -1;
   }
   if (last && sb->st_uid != me) {
      Util_format(err, errSize,
                  "bundle_dir %s is owned by uid %u, not by uid %u running stacktop; expected a private directory "
                  "(chown it or choose another bundle_dir)",
                  path, (unsigned)sb->st_uid, (unsigned)me);
      return -1;
   }
   if (!last && sb->st_uid != 0 && sb->st_uid != me) {
      Util_format(err, errSize,
                  "%s (above bundle_dir) is owned by uid %u: that user could replace bundle_dir with a symbolic "
                  "link; expected directories owned by root",
                  path, (unsigned)sb->st_uid);
      return -1;
   }
   if (!last && SafePath_othersCanWrite(sb)) {
      Util_format(err, errSize,
                  "%s (above bundle_dir) is writable by other users (mode %04o): they could replace bundle_dir; "
                  "expected a directory only root can write",
                  path, (unsigned)(sb->st_mode & 07777));
      return -1;
   }
   return 0;
}

int BundleDir_open(const char* path, bool create, char* err, size_t errSize) {
   if (BundleDir_checkPath(path, err, errSize) < 0)
      return -1;
   char why[768];
   int fd = SafePath_open(path, O_RDONLY | O_DIRECTORY, create, visitDir, NULL, why, sizeof(why));
   if (fd < 0) {
      if (errno == ENOENT && !create)
         Util_format(err, errSize, "bundle_dir %s does not exist", path);
      else
         Util_format(err, errSize, "bundle_dir %s refused: %s", path, why);
      return -1;
   }
   struct stat sb;
   if (fstat(fd, &sb) == 0 && (sb.st_mode & 07777) != 0700 && fchmod(fd, 0700) != 0) {
      Util_format(err, errSize, "cannot make bundle_dir %s private (chmod 0700): %s", path, strerror(errno));
      close(fd);
      return -1;
   }
   return fd;
}

bool BundleDir_isName(const char* name) {
   return name && name[0] && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
          strlen(name) <= NAME_MAX;
}

int BundleDir_create(int dirFd, const char* name, int flags) {
   if (!BundleDir_isName(name)) {
      errno = EINVAL;
      return -1;
   }
   return openat(dirFd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | flags, 0600);
}

int BundleDir_openOwn(int dirFd, const char* name, struct stat* out) {
   if (!BundleDir_isName(name)) {
      errno = EINVAL;
      return -1;
   }
   int fd = openat(dirFd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
   if (fd < 0)
      return -1;
   struct stat sb;
   if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_uid != geteuid()) {
      close(fd);
      errno = EPERM;
      return -1;
   }
   if (out)
      *out = sb;
   return fd;
}

char* BundleDir_read(int dirFd, const char* name, size_t maxBytes, size_t* len) {
   int fd = BundleDir_openOwn(dirFd, name, NULL);
   if (fd < 0)
      return NULL;
   char* buf = Util_readFd(fd, maxBytes, len);
   int saved = errno;
   close(fd);
   errno = saved;
   return buf;
}

static int writeAll(int fd, const char* data, size_t len) {
   while (len > 0) {
      ssize_t n = write(fd, data, len);
      if (n < 0 && errno == EINTR)
         continue;
      if (n <= 0)
         return -1;
      data += n;
      len -= (size_t)n;
   }
   return 0;
}

int BundleDir_write(int dirFd, const char* name, const char* data, size_t len, char* err, size_t errSize) {
   char tmp[NAME_MAX + 16];
   Util_format(tmp, sizeof(tmp), ".%s.tmp", name);
   if (!BundleDir_isName(name) || strlen(tmp) > NAME_MAX) {
      Util_format(err, errSize, "'%s' is not a usable file name", name);
      return -1;
   }
   int fd = BundleDir_create(dirFd, tmp, O_TRUNC);
   if (fd < 0) {
      Util_format(err, errSize, "cannot create %s: %s", tmp, strerror(errno));
      return -1;
   }
   flock(fd, LOCK_EX | LOCK_NB); /* being written: not a leftover */
   if (writeAll(fd, data, len) < 0 || fsync(fd) != 0) {
      Util_format(err, errSize, "cannot write %s: %s", tmp, strerror(errno));
      close(fd);
      unlinkat(dirFd, tmp, 0);
      return -1;
   }
   if (close(fd) != 0 || renameat(dirFd, tmp, dirFd, name) != 0) {
      Util_format(err, errSize, "cannot write %s: %s", name, strerror(errno));
      unlinkat(dirFd, tmp, 0);
      return -1;
   }
   fsync(dirFd);
   return 0;
}

int BundleDir_remove(int dirFd, const char* name) {
   if (!BundleDir_isName(name)) {
      errno = EINVAL;
      return -1;
   }
   struct stat sb;
   if (fstatat(dirFd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
      return -1;
   if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid()) {
      errno = EPERM;
      return -1;
   }
   return unlinkat(dirFd, name, 0);
}

static int byName(const void* a, const void* b) {
   return strcmp(*(char* const*)a, *(char* const*)b);
}

char** BundleDir_list(int dirFd, const char* suffix, size_t* count) {
   *count = 0;
   /* A descriptor of its own: a dup would share (and move) dirFd's offset. */
   int fd = openat(dirFd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
   DIR* d = fd >= 0 ? fdopendir(fd) : NULL;
   if (!d) {
      if (fd >= 0)
         close(fd);
      return NULL;
   }
   char** names = NULL;
   size_t cap = 0, sl = strlen(suffix);
   struct dirent* e;
   while ((e = readdir(d))) {
      size_t len = strlen(e->d_name);
      if (e->d_name[0] == '.' || len <= sl || strcmp(e->d_name + len - sl, suffix) != 0)
         continue;
      Util_growArray((void**)&names, &cap, *count, sizeof(char*));
      names[(*count)++] = Util_xstrdup(e->d_name);
   }
   closedir(d);
   if (*count > 1)
      qsort(names, *count, sizeof(char*), byName);
   return names;
}

static int readKey(int dirFd, unsigned char* key, char* err, size_t errSize) {
   struct stat sb;
   int fd = BundleDir_openOwn(dirFd, KEY_NAME, &sb);
   if (fd < 0)
      return -1;
   ssize_t n = read(fd, key, BUNDLEDIR_KEY_BYTES + 1);
   close(fd);
   if ((sb.st_mode & 077) != 0 || sb.st_nlink != 1 || n != BUNDLEDIR_KEY_BYTES) {
      Util_format(err, errSize,
                  "the record key %s in bundle_dir is not a private %d-byte file of its own (mode %04o, %ld "
                  "bytes, %lu links); remove it and restart: pending mails and incidents are then quarantined",
                  KEY_NAME, BUNDLEDIR_KEY_BYTES, (unsigned)(sb.st_mode & 07777), (long)n, (unsigned long)sb.st_nlink);
      errno = EPERM;
      return -2;
   }
   return 0;
}

int BundleDir_key(int dirFd, unsigned char key[BUNDLEDIR_KEY_BYTES], char* err, size_t errSize) {
   int rc = readKey(dirFd, key, err, errSize);
   if (rc == 0)
      return 0;
   if (rc == -2)
      return -1;
   if (errno != ENOENT) {
      Util_format(err, errSize, "cannot read the record key %s in bundle_dir: %s", KEY_NAME, strerror(errno));
      return -1;
   }
   unsigned char fresh[BUNDLEDIR_KEY_BYTES];
   if (getrandom(fresh, sizeof(fresh), 0) != (ssize_t)sizeof(fresh)) {
      Util_format(err, errSize, "cannot make a record key: getrandom: %s", strerror(errno));
      return -1;
   }
   int fd = BundleDir_create(dirFd, KEY_NAME, O_EXCL);
   if (fd < 0 && errno == EEXIST)
      return readKey(dirFd, key, err, errSize) == 0 ? 0 : -1; /* another process made it first */
   if (fd < 0 || writeAll(fd, (const char*)fresh, sizeof(fresh)) < 0 || fsync(fd) != 0) {
      Util_format(err, errSize, "cannot create the record key %s in bundle_dir: %s", KEY_NAME, strerror(errno));
      if (fd >= 0) {
         close(fd);
         unlinkat(dirFd, KEY_NAME, 0);
      }
      return -1;
   }
   close(fd);
   memcpy(key, fresh, sizeof(fresh));
   return 0;
}
