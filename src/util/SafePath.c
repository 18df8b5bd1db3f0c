/* Component-wise path walking without untrusted links; see SafePath.h. */
#include "stacktop/SafePath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "stacktop/Util.h"

/* Symbolic links followed in one walk, as the kernel's own limit. */
#define MAX_LINKS 40

bool SafePath_othersCanWrite(const struct stat* sb) {
   return (sb->st_mode & (S_IWGRP | S_IWOTH)) && !(sb->st_mode & S_ISVTX);
}

/* The walk's position: an fd for the directory reached and its path. */
typedef struct Walk_ {
   int dirFd;
   char done[PATH_MAX];      /* resolved path of dirFd */
   char remaining[PATH_MAX]; /* components still to walk, '/'-separated */
   int links;
} Walk;

/* Splits off the next component of w->remaining into comp; false when none left. */
static bool nextComponent(Walk* w, char* comp, size_t size) {
   char* p = w->remaining;
   while (*p == '/')
      p++;
   if (*p == '\0')
      return false;
   size_t n = strcspn(p, "/");
   Util_format(comp, size, "%.*s", (int)n, p);
   memmove(w->remaining, p + n, strlen(p + n) + 1);
   return true;
}

static bool moreComponents(const Walk* w) {
   return w->remaining[strspn(w->remaining, "/")] != '\0';
}

/* Replaces the walk with target + the rest of remaining; a relative target goes on
 * from the current directory. */
static int followLink(Walk* w, const char* comp, char* err, size_t errSize) {
   struct stat dir, link;
   char target[PATH_MAX];
   if (fstat(w->dirFd, &dir) != 0 || fstatat(w->dirFd, comp, &link, AT_SYMLINK_NOFOLLOW) != 0) {
      Util_format(err, errSize, "cannot inspect %s/%s: %s", w->done, comp, strerror(errno));
      return -1;
   }
   if (dir.st_uid != 0 || (dir.st_mode & (S_IWGRP | S_IWOTH)) || link.st_uid != 0) {
      Util_format(err, errSize,
                  "%s/%s is a symbolic link that a user other than root could have placed (link owner uid %u, "
                  "directory owner uid %u, mode %04o); expected a real directory",
                  w->done, comp, (unsigned)link.st_uid, (unsigned)dir.st_uid, (unsigned)(dir.st_mode & 07777));
      errno = ELOOP;
      return -1;
   }
   ssize_t n = readlinkat(w->dirFd, comp, target, sizeof(target) - 1);
   if (n < 0 || ++w->links > MAX_LINKS) {
      Util_format(err, errSize, "cannot resolve the symbolic link %s/%s: %s", w->done, comp,
                  n < 0 ? strerror(errno) : "too many levels of links");
      errno = ELOOP;
      return -1;
   }
   target[n] = '\0';
   char rest[PATH_MAX];
   Util_format(rest, sizeof(rest), "%s", w->remaining);
   if (target[0] == '/') {
      int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (root < 0) {
         Util_format(err, errSize, "cannot open /: %s", strerror(errno));
         return -1;
      }
      close(w->dirFd);
      w->dirFd = root;
      w->done[0] = '\0';
   }
   if (strlen(target) + strlen(rest) + 2 > sizeof(w->remaining)) {
      Util_format(err, errSize, "path too long after following %s/%s", w->done, comp);
      errno = ENAMETOOLONG;
      return -1;
   }
   Util_format(w->remaining, sizeof(w->remaining), "%s/%s", target, rest);
   return 0;
}

/* Opens comp below the walk's directory; follows a trusted link by rewriting
 * the walk (returns 1 then), creates a missing directory when asked. */
static int step(Walk* w, const char* comp, bool last, int lastFlags, bool mkdirs, int* fd, char* err, size_t errSize) {
   if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
      Util_format(err, errSize, "'%s' in a path is not allowed; expected a plain absolute path", comp);
      errno = EINVAL;
      return -1;
   }
   int flags = last ? (lastFlags | O_NOFOLLOW | O_CLOEXEC) : (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
   for (int tries = 0; tries < 2; tries++) {
      *fd = openat(w->dirFd, comp, flags);
      if (*fd >= 0)
         return 0;
      if (errno == ENOENT && mkdirs && tries == 0) {
         if (mkdirat(w->dirFd, comp, last ? 0700 : 0755) != 0 && errno != EEXIST) {
            Util_format(err, errSize, "cannot create %s/%s: %s", w->done, comp, strerror(errno));
            return -1;
         }
         continue;
      }
      break;
   }
   int saved = errno;
   struct stat sb;
   bool isLink = fstatat(w->dirFd, comp, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode);
   if (isLink && !last)
      return followLink(w, comp, err, errSize) == 0 ? 1 : -1;
   if (isLink) {
      Util_format(err, errSize, "%s/%s is a symbolic link; expected the file itself (links are not followed)", w->done,
                  comp);
      errno = ELOOP;
      return -1;
   }
   Util_format(err, errSize, "cannot open %s/%s: %s", w->done, comp, strerror(saved));
   errno = saved;
   return -1;
}

int SafePath_open(const char* path, int lastFlags, bool mkdirs, SafePathVisit visit, void* ctx, char* err,
                  size_t errSize) {
   if (!path || path[0] != '/') {
      Util_format(err, errSize, "'%s' is not an absolute path", path ? path : "");
      errno = EINVAL;
      return -1;
   }
   Walk w = { .dirFd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC) };
   if (w.dirFd < 0) {
      Util_format(err, errSize, "cannot open /: %s", strerror(errno));
      return -1;
   }
   Util_format(w.remaining, sizeof(w.remaining), "%s", path);
   char comp[NAME_MAX + 1];
   while (nextComponent(&w, comp, sizeof(comp))) {
      bool last = !moreComponents(&w);
      int fd;
      int rc = step(&w, comp, last, lastFlags, mkdirs, &fd, err, errSize);
      if (rc < 0) {
         int saved = errno;
         close(w.dirFd);
         errno = saved;
         return -1;
      }
      if (rc > 0)
         continue; /* followed a link: the walk was rewritten */
      size_t used = strlen(w.done);
      Util_format(w.done + used, sizeof(w.done) - used, "/%s", comp);
      struct stat sb;
      errno = 0;
      if (fstat(fd, &sb) != 0 || (visit && visit(ctx, w.done, &sb, last, err, errSize) < 0)) {
         if (errno == 0)
            errno = EPERM;
         int saved = errno;
         close(fd);
         close(w.dirFd);
         errno = saved;
         return -1;
      }
      close(w.dirFd);
      if (last)
         return fd;
      w.dirFd = fd;
   }
   /* The path was "/" itself. */
   close(w.dirFd);
   Util_format(err, errSize, "'%s' names the root directory; expected a path below it", path);
   errno = EINVAL;
   return -1;
}
